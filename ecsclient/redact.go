package ecsclient

import (
	"strings"
)

// Redacted replaces every removed value.
const Redacted = "REDACTED"

// sensitiveKeys are the request parameters and headers whose values must
// never be logged, lowercased: Redact matches them in the lowercased text
// (AccessKeyId, SecurityToken, SignatureNonce, ...). Longer names come
// first so SignatureNonce is not read as Signature + "Nonce".
var sensitiveKeys = []string{
	"x-acs-security-token", "x-acs-accesskey-id", "x-acs-signature-nonce",
	"accesskeysecret", "accesskeyid", "securitytoken", "signaturenonce", "bearertoken",
	"signature", "authorization", "credential",
}

// separators between a key and its value, lowercased: query, once- and
// twice-encoded query (a string to sign), JSON, header.
var separators = []string{"%25253d", "%253d", "%3d", "=", `":"`, `": "`, `\":\"`, ": "}

// terminators end a value: a query separator (plain, encoded, twice
// encoded), a quote, whitespace.
var terminators = []string{"%252526", "%2526", "%26", "&", `\"`, `"`, "'", " ", "\t", "\n", "\r", "<", ">", ",", ";", ")"}

// cutURLs replaces every http(s) URL in s by its host: what the regexp
// `(?i)\bhttps?://([^/?#\s"'<>]+)[^\s"'<>]*` replaced by "$1" does
// (TestCutURLsIsTheRegexp, FuzzCutURLs), by hand. The regexp, even compiled
// only for a text with "://", cost each cold start ~0.2 ms: ECS's error
// answers, the dry run's DryRunOperation among them, carry a Recommend URL
// (bench/CHANGES.md).
func cutURLs(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); i++ {
		hostStart := urlSchemeEnd(s, i)
		if hostStart < 0 {
			continue
		}
		hostEnd := hostStart
		for hostEnd < len(s) && !strings.ContainsRune(`/?#"'<> `+"\t\n\f\r", rune(s[hostEnd])) {
			hostEnd++
		}
		if hostEnd == hostStart {
			continue
		}
		end := hostEnd
		for end < len(s) && !strings.ContainsRune(`"'<> `+"\t\n\f\r", rune(s[end])) {
			end++
		}
		b.WriteString(s[done:i])
		b.WriteString(s[hostStart:hostEnd])
		done = end
		i = end - 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// urlSchemeEnd is the index after "http://" or "https://" (any case; the
// s may also be U+017F, which case-folds to it) at s[i:], when s[i] starts
// a word (\b: the byte before is no ASCII letter, digit or _); else -1.
func urlSchemeEnd(s string, i int) int {
	if i > 0 {
		if c := s[i-1]; c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			return -1
		}
	}
	j := i
	for _, want := range []byte("http") {
		if j >= len(s) || s[j]|0x20 != want {
			return -1
		}
		j++
	}
	switch {
	case strings.HasPrefix(s[j:], "s"), strings.HasPrefix(s[j:], "S"):
		j++
	case strings.HasPrefix(s[j:], "\u017f"):
		j += len("\u017f")
	}
	if !strings.HasPrefix(s[j:], "://") {
		return -1
	}
	return j + len("://")
}

// Redact removes credentials and signed URLs from s: every http(s) URL is
// cut down to its host (the query of a signed URL carries AccessKeyId,
// SecurityToken, Signature and SignatureNonce), and the value of every
// sensitive parameter is replaced by REDACTED wherever it appears as
// key=value, key%3Dvalue (a string to sign), key%253Dvalue, "key":"value"
// or "key: value". Use it on any text that may come from the SDK.
func Redact(s string) string {
	if strings.Contains(s, "://") {
		s = cutURLs(s)
	}
	lower := asciiLower(s) // same length as s, so indices carry over
	var b strings.Builder
	i := 0 // s[:i] is done
	for pos := 0; pos < len(s); {
		key, at := nextKey(lower, pos)
		if at < 0 {
			break
		}
		end := at + len(key)
		sep := ""
		for _, sp := range separators {
			if strings.HasPrefix(lower[end:], sp) {
				sep = sp
				break
			}
		}
		if sep == "" || !keyBoundary(lower, at) {
			pos = at + 1
			continue
		}
		vstart := end + len(sep)
		vend := valueEnd(lower, vstart)
		b.WriteString(s[i:vstart])
		if vend > vstart {
			b.WriteString(Redacted)
		}
		i = vend
		pos = vend
	}
	if i == 0 {
		return s
	}
	b.WriteString(s[i:])
	return b.String()
}

// nextKey finds the first sensitive key at or after pos in lower.
func nextKey(lower string, pos int) (string, int) {
	best, bestAt := "", -1
	for _, k := range sensitiveKeys {
		if j := strings.Index(lower[pos:], k); j >= 0 {
			j += pos
			if bestAt < 0 || j < bestAt || j == bestAt && len(k) > len(best) {
				best, bestAt = k, j
			}
		}
	}
	return best, bestAt
}

// keyBoundary: the key at lower[at:] is not the tail of a longer word (it
// may follow an encoded '&' or '"').
func keyBoundary(lower string, at int) bool {
	if at == 0 {
		return true
	}
	for _, enc := range []string{"%26", "%2526", "%252526", "%22", "%3f", "%253f"} {
		if strings.HasSuffix(lower[:at], enc) {
			return true
		}
	}
	c := lower[at-1]
	return (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' && c != '.'
}

func valueEnd(lower string, start int) int {
	for j := start; j < len(lower); j++ {
		for _, t := range terminators {
			if strings.HasPrefix(lower[j:], t) {
				return j
			}
		}
	}
	return len(lower)
}

// redactValues removes the literal values (credentials this package was
// given) from s, after Redact, in case the SDK echoes them in a form Redact
// does not know. Values shorter than 4 bytes are ignored.
func redactValues(s string, values ...string) string {
	s = Redact(s)
	for _, v := range values {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

// asciiLower lowercases ASCII letters only and keeps every other byte, so
// the result has the same length as s even for invalid UTF-8 (which
// strings.ToLower would expand).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
