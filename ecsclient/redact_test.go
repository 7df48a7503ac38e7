package ecsclient

import (
	"context"
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// secretsIn returns the sensitive parameter values in a signed URL found in s.
func secretsIn(t *testing.T, s string) []string {
	t.Helper()
	m := regexp.MustCompile(`https?://[^\s"]+`).FindString(s)
	if m == "" {
		t.Fatalf("no URL in %q", s)
	}
	u, err := url.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	var out []string
	for _, k := range []string{"AccessKeyId", "SecurityToken", "Signature", "SignatureNonce"} {
		v := q.Get(k)
		if v == "" {
			t.Fatalf("%s missing from %s", k, m)
		}
		out = append(out, v, url.QueryEscape(v))
	}
	return out
}

// TestRedactRealSDKErrors checks Redact on the errors the SDK really
// returns: a *url.Error with the full signed URL (refused and deadline).
func TestRedactRealSDKErrors(t *testing.T) {
	var raw []error
	c := newTestConnector("http://" + testutil.RefusedAddr)
	c.cfg.Retry.MaxAttempts = 1
	c.onRawError = func(err error) { raw = append(raw, err) }
	e := connect(t, c)
	_, _ = e.ResetDisks(context.Background(), function.ResetDisksInput{RegionID: "cn-hangzhou", Disks: []function.DiskPair{{DiskID: "d-1", SnapshotID: "s-1"}}})
	slow, _ := rawServer(t, func(c net.Conn) { readRequest(c) })
	c2 := newTestConnector("http://" + slow)
	c2.cfg.Retry.MaxAttempts = 1
	c2.onRawError = func(err error) { raw = append(raw, err) }
	ctx, cancel := context.WithTimeout(context.Background(), 100e6)
	defer cancel()
	_, _ = connect(t, c2).DescribeDisks(ctx, "cn-hangzhou", []string{"d-1"})
	if len(raw) != 2 {
		t.Fatalf("%d raw errors", len(raw))
	}
	for _, err := range raw {
		s := err.Error()
		t.Logf("raw SDK error: %.160s…", s)
		secrets := secretsIn(t, s)
		r := Redact(s)
		for _, v := range secrets {
			if strings.Contains(r, v) {
				t.Errorf("Redact left %q in %s", v, r)
			}
		}
		if strings.Contains(r, "http://") || strings.Contains(r, "?") {
			t.Errorf("URL left: %s", r)
		}
		if !strings.Contains(r, testutil.RefusedAddr) && !strings.Contains(r, slow) {
			t.Errorf("host lost: %s", r)
		}
	}
}

func TestRedactForms(t *testing.T) {
	cases := map[string]string{
		// the SDK's SignatureDoesNotMatch message (server string to sign)
		"server string to sign is:POST&%2F&AccessKeyId%3DLTAIkey123%26Action%3DResetDisks%26SecurityToken%3DCAIS%252Btok%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dabc-123%26SignatureType%3D%26SignatureVersion%3D1.0": "server string to sign is:POST&%2F&AccessKeyId%3DREDACTED%26Action%3DResetDisks%26SecurityToken%3DREDACTED%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3DREDACTED%26SignatureType%3D%26SignatureVersion%3D1.0",
		"AccessKeyId=LTAIkey&Signature=abc%2B%3D&SignatureVersion=1.0":                                                     "AccessKeyId=REDACTED&Signature=REDACTED&SignatureVersion=1.0",
		`{"AccessKeyId":"LTAIkey","SecurityToken": "tok","Other":"x"}`:                                                     `{"AccessKeyId":"REDACTED","SecurityToken": "REDACTED","Other":"x"}`,
		"x-acs-security-token: tok123\nAuthorization: ACS3-HMAC-SHA256 Credential=LTAIkey,SignedHeaders=host,Signature=ff": "x-acs-security-token: REDACTED\nAuthorization: REDACTED Credential=REDACTED,SignedHeaders=host,Signature=REDACTED",
		`Post "https://ecs.cn-hangzhou.aliyuncs.com/?AccessKeyId=LTAIkey&Signature=s": dial tcp: refused`:                  `Post "ecs.cn-hangzhou.aliyuncs.com": dial tcp: refused`,
		"SignatureMethod=HMAC-SHA1&MySignature=keep":                                                                       "SignatureMethod=HMAC-SHA1&MySignature=keep",
		"nothing to see": "nothing to see",
		"twice: AccessKeyId%253DLTAIkey%2526Action%253DX": "twice: AccessKeyId%253DREDACTED%2526Action%253DX",
		"Signature=":                         "Signature=",
		"signaturenonce=abc accesskeyid=def": "signaturenonce=REDACTED accesskeyid=REDACTED",
		`{\"SecurityToken\":\"tok\"}`:        `{\"SecurityToken\":\"REDACTED\"}`,
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	if got := redactValues("id LTAIkey123 token tok456 s x", "LTAIkey123", "tok456", "x"); got != "id REDACTED token REDACTED s x" {
		t.Errorf("redactValues: %q", got)
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("x", "LTAIkey")
	f.Add("https://h/?a=b", "t%2Bx")
	f.Fuzz(func(t *testing.T, prefix, v string) {
		if v == "" || strings.ContainsAny(v, "&\"' \t\r\n<>,;)%") {
			return
		}
		s := prefix + "&AccessKeyId=" + v + "&Action=X"
		if r := Redact(s); strings.Contains(r, "AccessKeyId="+v+"&") {
			t.Errorf("%q -> %q", s, r)
		}
	})
}

// urlOracle is the regexp cutURLs replaced: the tests hold it to it.
var urlOracle = regexp.MustCompile(`(?i)\bhttps?://([^/?#\s"'<>]+)[^\s"'<>]*`)

// TestCutURLsIsTheRegexp: the hand-written URL cutter does what the
// regexp it replaced did.
func TestCutURLsIsTheRegexp(t *testing.T) {
	for _, s := range []string{
		"", "no url", "://x", "http://", "http:///x", "http://h", "https://h/p?q=1#f rest", "HTTPS://H.example/x",
		"xhttp://h/", "_http://h", "1http://h", "éhttp://h/x", "\xffhttp://h", "(http://h/a)", `"http://h/?a=b&c=d"`,
		"httpſ://h/x", "httpS://h", "hTtP://a'b", "http://a<b>c", "http://a\tb", "http://a\fb", "http://a\vb",
		"http://h#x", "http://?x", "http://h/x http://g/y", "http://a/http://b/c", "https://api.aliyun.com/troubleshoot?q=DryRunOperation&product=Ecs&requestId=X",
		"Post \"https://ecs.cn-hangzhou.aliyuncs.com/?AccessKeyId=LTAIkey&Signature=s\": dial tcp: refused", "http://héllo/wörld", "ftp://h/x https://",
		"https://h1 https://h2", "ahttp://x http://y", "http:/x", "http//x", "httpss://x", "http://ſ",
	} {
		if got, want := cutURLs(s), urlOracle.ReplaceAllString(s, "$1"); got != want {
			t.Errorf("cutURLs(%q) = %q, the regexp says %q", s, got, want)
		}
	}
}

func FuzzCutURLs(f *testing.F) {
	f.Add("see https://api.aliyun.com/troubleshoot?q=X&requestId=Y")
	f.Add(`Post "http://h/?a=b": x httpſ://k`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := cutURLs(s), urlOracle.ReplaceAllString(s, "$1"); got != want {
			t.Errorf("cutURLs(%q) = %q, the regexp says %q", s, got, want)
		}
	})
}

// TestRedactListsAreLowercase: Redact matches the keys and separators in
// the lowercased text, so an entry with a capital would never match.
func TestRedactListsAreLowercase(t *testing.T) {
	for _, list := range [][]string{sensitiveKeys, separators, terminators} {
		for _, s := range list {
			if got := asciiLower(s); got != s {
				t.Errorf("%q is not lowercase (%q)", s, got)
			}
		}
	}
}
