package ecsclient

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

// sdkReading is what the SDK's errors.NewServerError takes from an error
// answer's body, or that it panics on it.
type sdkReading struct {
	code, message, requestID, hostID, recommend string
	panics                                      bool
}

func readBySDK(status int, body string) (r sdkReading) {
	defer func() {
		if recover() != nil {
			r = sdkReading{panics: true}
		}
	}()
	se := sdkerrors.NewServerError(status, body, "").(*sdkerrors.ServerError)
	return sdkReading{code: se.ErrorCode(), message: se.Message(), requestID: se.RequestId(), hostID: se.HostId(), recommend: se.Recommend()}
}

func readByAdapter(status int, body string) *errorAnswer {
	return readErrorAnswer(&http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body))})
}

// errorBodies are answers of every shape the adapter must read as the
// SDK does; they also seed FuzzErrorAnswerMatchesSDK.
var errorBodies = []string{
	`{"RequestId":"R-1","HostId":"ecs.aliyuncs.com","Code":"DryRunOperation","Message":"Request validation has been passed with DryRun flag set.","Recommend":"https://api.aliyun.com/troubleshoot?q=DryRunOperation&product=Ecs"}`,
	`{"RequestId":"R-2","Code":"Throttling.User"}`,                // no Message: the body is the message
	`{"RequestId":"R-3","Code":"X","Message":null,"HostId":null}`, // null is absent
	`{"Code":"X","Message":"first","Message":"second"}`,           // the last duplicate wins
	`{"code":"lower","message":"keys are case-sensitive"}`,
	`{"RequestId":"R","Code":42,"Message":"x"}`, // the SDK panics
	`{"RequestId":7,"Code":42}`,                 // the SDK panics (on the first)
	`{"Code":"NoPermission","AccessDeniedDetail":{"PolicyType":"AccountLevelIdentityBasedPolicy"}}`,
	`{"Code":"NoPermission","AccessDeniedDetail":"text"}`, // the SDK panics
	`{"Code":"X","Message":"\u00e9\n\"quoted\""}`,
	`["not", "an", "object"]`,
	`"a JSON string"`,
	`<html><body>502 Bad Gateway</body></html>`,
	``,
	`{"RequestId":`,
	`{"Code":"\u0041ccess","Message":"esc\"aped \\ \/"}`,
	"{\"Code\":\"bad\xffutf8\",\"Message\":\"\xc3\"}",
	`{"\u0043ode":"EscapedKey"}`,
	`  {"Code" : "Spaced" , "Message" : [1, {"Code":"nested"}] }  `,
	`{"Code":"X"} trailing`,
}

// TestErrorAnswerMatchesSDK holds readErrorAnswer to the SDK's own reading
// of the same bodies: the fields an APIError is made of come out the same,
// and a body the SDK panics on is Unreadable.
func TestErrorAnswerMatchesSDK(t *testing.T) {
	for i, body := range errorBodies {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkReadsAsSDK(t, body) })
	}
}

// FuzzErrorAnswerMatchesSDK: on any body, the adapter reads what the SDK
// reads, or finds it unreadable exactly where the SDK panics.
func FuzzErrorAnswerMatchesSDK(f *testing.F) {
	for _, b := range errorBodies {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) { checkReadsAsSDK(t, body) })
}

func checkReadsAsSDK(t *testing.T, body string) {
	t.Helper()
	want := readBySDK(400, body)
	got := readByAdapter(400, body)
	if want.panics {
		if got.Unreadable == "" {
			t.Errorf("the SDK panics on %q; the adapter reads %#v", body, got)
		}
		return
	}
	if got.Unreadable != "" {
		t.Fatalf("Unreadable %q for %q, which the SDK reads", got.Unreadable, body)
	}
	gotR := sdkReading{code: got.Code, message: got.Message, requestID: got.RequestID, hostID: got.HostID, recommend: got.Recommend}
	if gotR != want {
		t.Errorf("body %q:\nadapter %+v\nSDK     %+v", body, gotR, want)
	}
	if got.Status != 400 {
		t.Errorf("Status = %d", got.Status)
	}
}

func TestErrorAnswerReadsABoundedBody(t *testing.T) {
	body := `{"Code":"X","Message":"` + strings.Repeat("a", 2*maxErrorBody) + `"}`
	got := readByAdapter(500, body)
	if len(got.Message) != maxErrorBody || got.Code != "" {
		t.Errorf("read %d bytes of message, Code %q; want the first %d bytes as the message, no code", len(got.Message), got.Code, maxErrorBody)
	}
}

func TestSignatureRecommend(t *testing.T) {
	msg := "Specified signature is not matched with our calculation. server string to sign is:GET&%2F&A%3D1"
	for _, tt := range []struct {
		name, code, message, clientSTS, want string
	}{
		{"same string: the secret is wrong", "SignatureDoesNotMatch", msg, "GET&%2F&A%3D1", "InvalidAccessKeySecret: Please check you AccessKeySecret"},
		{"another string: a signing bug", "SignatureDoesNotMatch", msg, "GET&%2F&A%3D2", "This may be a bug with the SDK"},
		{"incomplete signature", "IncompleteSignature", msg, "GET&%2F&A%3D1", "InvalidAccessKeySecret"},
		{"no string in the message", "SignatureDoesNotMatch", "no echo", "GET&%2F&A%3D1", "kept"},
		{"another code", "Throttling", msg, "GET&%2F&A%3D1", "kept"},
		{"no client string", "SignatureDoesNotMatch", msg, "", "kept"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ans := &errorAnswer{Code: tt.code, Message: tt.message, Recommend: "kept"}
			signatureRecommend(ans, tt.clientSTS)
			if !strings.HasPrefix(ans.Recommend, tt.want) {
				t.Errorf("Recommend = %q, want it to start with %q", ans.Recommend, tt.want)
			}
		})
	}
}
