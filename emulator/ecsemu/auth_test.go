package ecsemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func describeDisksCall(c *ecs.Client) error {
	req := ecs.CreateDescribeDisksRequest()
	req.RegionId = hz
	_, err := c.DescribeDisks(req)
	return err
}

func TestAuthErrorsThroughSDK(t *testing.T) {
	s := newTestServer(t, fast())
	tests := []struct {
		name, id, secret, token string
		code                    string
		status                  int
	}{
		{"unknown key", "LTAIunknown000000000", DefaultAccessKeySecret, "", CodeInvalidAccessKeyIDNotFound, 404},
		{"wrong secret", DefaultAccessKeyID, "not-the-secret", "", CodeSignatureDoesNotMatch, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.NewClientWithCredentials(hz, tt.id, tt.secret, tt.token)
			if err != nil {
				t.Fatal(err)
			}
			wantServerError(t, describeDisksCall(c), tt.code, tt.status)
		})
	}
	t.Run("default credentials", func(t *testing.T) {
		if err := describeDisksCall(newClient(t, s, hz)); err != nil {
			t.Fatalf("got %v, want success", err)
		}
	})
}

func TestSecurityToken(t *testing.T) {
	opts := fast()
	opts.SecurityToken = "sts-token-1"
	s := newTestServer(t, opts)
	if err := describeDisksCall(newClient(t, s, hz)); err != nil {
		t.Fatalf("with the configured token: got %v, want success", err)
	}
	tests := []struct{ name, token, code string }{
		{"missing token", "", CodeMissingSecurityToken},
		{"wrong token", "sts-token-2", CodeInvalidSecurityTokenMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.NewClientWithCredentials(hz, DefaultAccessKeyID, DefaultAccessKeySecret, tt.token)
			if err != nil {
				t.Fatal(err)
			}
			wantServerError(t, describeDisksCall(c), tt.code, 400)
		})
	}
}

func TestTimestampSkew(t *testing.T) {
	for _, skew := range []time.Duration{20 * time.Minute, -20 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			opts := fast()
			opts.Now = func() time.Time { return time.Now().Add(skew) }
			s := newTestServer(t, opts)
			wantServerError(t, describeDisksCall(newClient(t, s, hz)), CodeInvalidTimeStampExpired, 400)
		})
	}
	t.Run("within 15 minutes", func(t *testing.T) {
		opts := fast()
		opts.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
		s := newTestServer(t, opts)
		if err := describeDisksCall(newClient(t, s, hz)); err != nil {
			t.Fatalf("got %v, want success", err)
		}
	})
}

// recorder remembers the URLs the SDK sent, so a test can replay one.
type recorder struct {
	mu      sync.Mutex
	urls    []string
	methods []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.methods = append(r.methods, req.Method)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// rawCall sends a request outside the SDK and decodes the error body.
func rawCall(t *testing.T, req *http.Request) (int, errorBody) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("raw call: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var eb errorBody
	_ = json.Unmarshal(b, &eb)
	return resp.StatusCode, eb
}

func TestNonceReplay(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	rec := &recorder{}
	c.SetTransport(rec)
	if err := describeDisksCall(c); err != nil {
		t.Fatalf("first call: %v", err)
	}
	req, _ := http.NewRequest(rec.methods[0], rec.urls[0], nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, eb := rawCall(t, req)
	if status != 400 || eb.Code != CodeSignatureNonceUsed {
		t.Fatalf("replay: got %d %s, want 400 %s", status, eb.Code, CodeSignatureNonceUsed)
	}
}

// signedURL builds a v1-signed GET URL by hand, for what the SDK cannot send.
func signedURL(s *Server, p map[string]string) string {
	base := map[string]string{"Format": "JSON", "Version": APIVersion, "AccessKeyId": DefaultAccessKeyID,
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": newRequestID(),
		"Timestamp": time.Now().UTC().Format(timestampLayout), "RegionId": hz}
	for k, v := range p {
		if v == "-" {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	base["Signature"] = SignV1(http.MethodGet, base, DefaultAccessKeySecret)
	q := url.Values{}
	for k, v := range base {
		q.Set(k, v)
	}
	return s.URL() + "/?" + q.Encode()
}

func TestRawProtocolErrors(t *testing.T) {
	s := newTestServer(t, fast())
	tests := []struct {
		name   string
		p      map[string]string
		code   string
		status int
	}{
		{"stale timestamp", map[string]string{"Action": "DescribeDisks", "Timestamp": "2020-01-01T00:00:00Z"}, CodeInvalidTimeStampExpired, 400},
		{"bad timestamp", map[string]string{"Action": "DescribeDisks", "Timestamp": "yesterday"}, CodeInvalidTimeStampFormat, 400},
		{"sha256 method", map[string]string{"Action": "DescribeDisks", "SignatureMethod": "HMAC-SHA256"}, CodeIncompleteSignature, 400},
		{"version 2.0", map[string]string{"Action": "DescribeDisks", "SignatureVersion": "2.0"}, CodeIncompleteSignature, 400},
		{"no nonce", map[string]string{"Action": "DescribeDisks", "SignatureNonce": "-"}, CodeMissingParameter, 400},
		{"no timestamp", map[string]string{"Action": "DescribeDisks", "Timestamp": "-"}, CodeMissingParameter, 400},
		{"no version", map[string]string{"Action": "DescribeDisks", "Version": "-"}, CodeMissingParameter, 400},
		{"no region", map[string]string{"Action": "DescribeDisks", "RegionId": "-"}, "MissingRegionId", 400},
		{"no action", map[string]string{}, CodeInvalidActionNotFound, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, signedURL(s, tt.p), nil)
			status, eb := rawCall(t, req)
			if status != tt.status || eb.Code != tt.code {
				t.Fatalf("got %d %s (%s), want %d %s", status, eb.Code, eb.Message, tt.status, tt.code)
			}
			if !requestIDRE.MatchString(eb.RequestID) || eb.HostID == "" || eb.Recommend == "" {
				t.Errorf("got body %+v, want every field set", eb)
			}
		})
	}
}

func TestUnknownActionAndVersionThroughSDK(t *testing.T) {
	s := newTestServer(t, fast())
	tests := []struct {
		name, action, version, code string
		status                      int
	}{
		{"unknown action", "DeleteEverything", APIVersion, CodeInvalidActionNotFound, 404},
		{"wrong version", "DescribeDisks", "2016-03-14", CodeInvalidVersion, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, s, hz)
			req := requests.NewCommonRequest()
			req.Product, req.Version, req.ApiName = "Ecs", tt.version, tt.action
			req.QueryParams["RegionId"] = hz
			_, err := c.ProcessCommonRequest(req)
			wantServerError(t, err, tt.code, tt.status)
		})
	}
}

// acs3Sign signs r as the V3 (Tea) SDKs do, written from the public
// "V3 signature" description independently of the server's verifier.
func acs3Sign(r *http.Request, body []byte, id, secret string) {
	sum := sha256.Sum256(body)
	r.Header.Set("x-acs-content-sha256", hex.EncodeToString(sum[:]))
	r.Header.Set("host", r.URL.Host)
	names := []string{"host"}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-acs-") || lk == "content-type" {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, n := range names {
		v := r.Header.Get(n)
		if n == "host" {
			v = r.URL.Host
		}
		canonHeaders.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	enc := func(s string) string {
		return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
	}
	var cq []string
	for _, k := range keys {
		cq = append(cq, enc(k)+"="+enc(q.Get(k)))
	}
	signed := strings.Join(names, ";")
	canon := strings.Join([]string{r.Method, "/", strings.Join(cq, "&"), canonHeaders.String(), signed, hex.EncodeToString(sum[:])}, "\n")
	h := sha256.Sum256([]byte(canon))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("ACS3-HMAC-SHA256\n" + hex.EncodeToString(h[:])))
	r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+id+",SignedHeaders="+signed+",Signature="+hex.EncodeToString(m.Sum(nil)))
}

func TestACS3Signature(t *testing.T) {
	s := newTestServer(t, fast())
	mk := func(secret string) *http.Request {
		u := s.URL() + "/?RegionId=" + hz + "&DiskIds=" + url.QueryEscape(`["d-bp1stoppedsys0000000"]`)
		r, _ := http.NewRequest(http.MethodPost, u, nil)
		r.Header.Set("x-acs-action", "DescribeDisks")
		r.Header.Set("x-acs-version", APIVersion)
		r.Header.Set("x-acs-date", time.Now().UTC().Format(timestampLayout))
		r.Header.Set("x-acs-signature-nonce", newRequestID())
		acs3Sign(r, nil, DefaultAccessKeyID, secret)
		return r
	}
	resp, err := http.DefaultClient.Do(mk(DefaultAccessKeySecret))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		TotalCount int
		Disks      struct{ Disk []struct{ DiskId string } }
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || out.TotalCount != 1 || out.Disks.Disk[0].DiskId != "d-bp1stoppedsys0000000" {
		t.Fatalf("got %d %+v %v, want the one disk", resp.StatusCode, out, err)
	}
	status, eb := rawCall(t, mk("wrong"))
	if status != 400 || eb.Code != CodeSignatureDoesNotMatch {
		t.Fatalf("wrong secret: got %d %s, want 400 %s", status, eb.Code, CodeSignatureDoesNotMatch)
	}
	if got := s.Requests()[0].SignedWith; got != "acs3" {
		t.Errorf("got SignedWith %q, want acs3", got)
	}
}
