package ecsclient

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/jsonscan"
)

// errorAnswer is an HTTP answer of 400 or above from ECS, read by
// boundTransport instead of by the SDK. ECS answers a refused call, and
// every dry run (DryRunOperation), with such an answer; the SDK reads its
// body with encoding/json into an interface{} and then five
// jmespath.Search calls, which cost a warm dry run about 30 µs and 390
// allocations, more than all of the function's own work (bench/CHANGES.md,
// round 6). The fields are the ones the SDK's errors.NewServerError takes
// from the same body, with the same rules (TestErrorAnswerMatchesSDK holds
// the two to each other on every body shape).
type errorAnswer struct {
	Status    int
	Code      string // "" when the body is not an ECS error object
	Message   string // the body's Message, else the whole body
	RequestID string
	HostID    string
	Recommend string
	// Unreadable names a field that is present but not a string; the SDK
	// panics on such a body (a type assertion), this is reported instead.
	Unreadable string
}

// Error says what ECS answered, without the body; mapError turns the
// answer into a function.APIError.
func (e *errorAnswer) Error() string {
	code := e.Code
	if code == "" {
		code = "(no code)"
	}
	return "ECS answered HTTP " + strconv.Itoa(e.Status) + " " + code
}

// maxErrorBody bounds what is read of an error answer: mapError keeps
// 1 KB of its message, and a gateway's error page can be large.
const maxErrorBody = 1 << 20

// readErrorAnswer reads and closes resp's body and parses it as the SDK
// does: a JSON object's RequestId, HostId, Code, Recommend and Message
// (null counts as absent); any other body is the message itself.
func readErrorAnswer(resp *http.Response) *errorAnswer {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	ans := &errorAnswer{Status: resp.StatusCode, Message: string(body)}
	i := jsonscan.SkipSpace(body, 0)
	if i == len(body) || body[i] != '{' || !json.Valid(body) {
		return ans // not a JSON object: the SDK finds no field either
	}
	// The SDK's order: when several fields are unreadable, it panics on
	// the first of these. AccessDeniedDetail is not kept, but the SDK
	// panics when it is present and not an object.
	keys := [...]string{"RequestId", "HostId", "Code", "Recommend", "Message", "AccessDeniedDetail"}
	dsts := [...]*string{&ans.RequestID, &ans.HostID, &ans.Code, &ans.Recommend, &ans.Message, nil}
	var raws [len(keys)][]byte // the last of each key, as encoding/json keeps
	jsonscan.ForEachMember(body, i, func(key string, value []byte) {
		for k := range keys {
			if key == keys[k] {
				raws[k] = value
			}
		}
	})
	for k, raw := range raws {
		if raw == nil || string(raw) == "null" {
			continue
		}
		if dsts[k] == nil { // AccessDeniedDetail
			if raw[0] != '{' && ans.Unreadable == "" {
				ans.Unreadable = keys[k]
			}
			continue
		}
		if s, ok := jsonscan.String(raw); ok {
			*dsts[k] = s
		} else if ans.Unreadable == "" {
			ans.Unreadable = keys[k]
		}
	}
	return ans
}

// signatureRecommend is what the SDK puts into Recommend for a refused
// signature (its SignatureDostNotMatchWrapper): ECS echoes the string to
// sign it computed; when it is the client's own, the secret is wrong.
func signatureRecommend(ans *errorAnswer, clientStringToSign string) {
	if ans.Code != "SignatureDoesNotMatch" && ans.Code != "IncompleteSignature" || clientStringToSign == "" {
		return
	}
	const marker = "server string to sign is:"
	parts := strings.Split(ans.Message, marker)
	if len(parts) < 2 {
		return
	}
	if parts[1] == clientStringToSign {
		ans.Recommend = "InvalidAccessKeySecret: Please check you AccessKeySecret"
		return
	}
	ans.Recommend = "This may be a bug with the SDK and we hope you can submit this question in the " +
		"github issue(https://github.com/aliyun/alibaba-cloud-sdk-go/issues), thanks very much"
}
