package ecsemu

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

const timestampLayout = "2006-01-02T15:04:05Z"

// acs3Algorithm is the V3 signature algorithm of the newer Tea-based SDKs.
const acs3Algorithm = "ACS3-HMAC-SHA256"

// percentEncode is the RFC 3986 encoding both signature versions use.
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	if strings.ContainsAny(e, "+*%") {
		e = strings.ReplaceAll(e, "+", "%20")
		e = strings.ReplaceAll(e, "*", "%2A")
		e = strings.ReplaceAll(e, "%7E", "~")
	}
	return e
}

// canonicalQuery sorts and encodes params, excluding skip.
func canonicalQuery(p map[string]string, skip string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != skip {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(p[k]))
	}
	return b.String()
}

// SignV1 computes the signature v1 (HMAC-SHA1) of an RPC request the way the
// SDK does: over every parameter except Signature. Exported so tests can
// forge requests the SDK cannot produce (replayed nonce, stale timestamp).
func SignV1(method string, params map[string]string, secret string) string {
	sts := method + "&%2F&" + percentEncode(canonicalQuery(params, "Signature"))
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// authInfo is what the verifier learned about the caller.
type authInfo struct {
	accessKeyID string
	token       string
	nonce       string
	timestamp   string
}

// verifyV1 checks a signature v1 request.
func (s *Server) verifyV1(r *http.Request, p map[string]string) *apiError {
	for _, k := range []string{"AccessKeyId", "Signature", "SignatureMethod", "Timestamp", "SignatureNonce"} {
		if p[k] == "" {
			return missingCommon(k)
		}
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return newErrorMsg(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards. SignatureMethod "+p["SignatureMethod"]+" is not supported.")
	}
	if v := p["SignatureVersion"]; v != "1.0" {
		return newErrorMsg(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards. SignatureVersion "+v+" is not supported.")
	}
	ai := authInfo{accessKeyID: p["AccessKeyId"], token: p["SecurityToken"], nonce: p["SignatureNonce"], timestamp: p["Timestamp"]}
	if err := s.checkKeyAndTime(ai); err != nil {
		return err
	}
	want := SignV1(r.Method, p, s.opts.AccessKeySecret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(p["Signature"])) != 1 {
		return newErrorMsg(CodeSignatureDoesNotMatch, "Specified signature is not matched with our calculation. server string to sign is:"+r.Method+"&%2F&"+percentEncode(canonicalQuery(p, "Signature")))
	}
	return s.checkTokenAndNonce(ai)
}

func (s *Server) checkKeyAndTime(ai authInfo) *apiError {
	if ai.accessKeyID != s.opts.AccessKeyID {
		return newError(CodeInvalidAccessKeyIDNotFound)
	}
	// Only the documented form, ISO 8601 UTC "YYYY-MM-DDThh:mm:ssZ"
	// (Timestamp in the ECS "Common parameters" page; x-acs-date in the V3
	// signature page): no fractions, no offsets.
	ts, err := time.Parse(timestampLayout, ai.timestamp)
	if err != nil || len(ai.timestamp) != len(timestampLayout) {
		return newError(CodeInvalidTimeStampFormat)
	}
	skew := s.now().Sub(ts)
	if skew < 0 {
		skew = -skew
	}
	if skew > s.opts.MaxTimestampSkew {
		return newError(CodeInvalidTimeStampExpired)
	}
	return nil
}

func (s *Server) checkTokenAndNonce(ai authInfo) *apiError {
	if s.opts.SecurityToken != "" {
		if ai.token == "" {
			return newError(CodeMissingSecurityToken)
		}
		if subtle.ConstantTimeCompare([]byte(ai.token), []byte(s.opts.SecurityToken)) != 1 {
			return newError(CodeInvalidSecurityTokenMismatch)
		}
	}
	if s.nonces.seen(ai.accessKeyID+"\x00"+ai.nonce, s.now(), s.opts.MaxTimestampSkew) {
		return newError(CodeSignatureNonceUsed)
	}
	return nil
}

// parseACS3Authorization splits "ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..".
func parseACS3Authorization(h string) (cred string, signed []string, sig string, ok bool) {
	rest, found := strings.CutPrefix(h, acs3Algorithm+" ")
	if !found {
		return "", nil, "", false
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = strings.Split(v, ";")
		case "Signature":
			sig = v
		}
	}
	return cred, signed, sig, cred != "" && len(signed) > 0 && sig != ""
}

// ACS3StringToSign builds the V3 string to sign for r (whose body is body),
// signing the given lowercase header names. Exported for tests that sign
// requests as the Tea SDKs do.
func ACS3StringToSign(r *http.Request, query map[string]string, signedHeaders []string, body []byte) string {
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("x-acs-content-sha256"); h != "" {
		payloadHash = h
	}
	var ch strings.Builder
	for _, name := range signedHeaders {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		ch.WriteString(name)
		ch.WriteByte(':')
		ch.WriteString(strings.TrimSpace(v))
		ch.WriteByte('\n')
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	cr := r.Method + "\n" + path + "\n" + canonicalQuery(query, "") + "\n" + ch.String() + "\n" +
		strings.Join(signedHeaders, ";") + "\n" + payloadHash
	crSum := sha256.Sum256([]byte(cr))
	return acs3Algorithm + "\n" + hex.EncodeToString(crSum[:])
}

// SignACS3 is hex(HMAC-SHA256(secret, stringToSign)).
func SignACS3(stringToSign, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// verifyACS3 checks a V3 (ACS3-HMAC-SHA256) request.
func (s *Server) verifyACS3(r *http.Request, query map[string]string, body []byte) *apiError {
	cred, signed, sig, ok := parseACS3Authorization(r.Header.Get("Authorization"))
	if !ok {
		return newErrorMsg(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards. Malformed Authorization header.")
	}
	for _, h := range []string{"x-acs-action", "x-acs-date", "x-acs-signature-nonce"} {
		if r.Header.Get(h) == "" {
			return missingCommon(h)
		}
	}
	sort.Strings(signed)
	ai := authInfo{accessKeyID: cred, token: r.Header.Get("x-acs-security-token"),
		nonce: r.Header.Get("x-acs-signature-nonce"), timestamp: r.Header.Get("x-acs-date")}
	if err := s.checkKeyAndTime(ai); err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	if h := r.Header.Get("x-acs-content-sha256"); h != "" && h != hex.EncodeToString(sum[:]) {
		return newErrorMsg(CodeSignatureDoesNotMatch, "x-acs-content-sha256 does not match the request body.")
	}
	for _, h := range []string{"x-acs-action", "x-acs-date", "x-acs-signature-nonce"} {
		if !contains(signed, h) {
			return newErrorMsg(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards. "+h+" must be signed.")
		}
	}
	want := SignACS3(ACS3StringToSign(r, query, signed, body), s.opts.AccessKeySecret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(sig))) != 1 {
		return newError(CodeSignatureDoesNotMatch)
	}
	return s.checkTokenAndNonce(ai)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
