// Command testfn is a tiny FC function for the fcruntime tests. The event
// picks its behaviour: {"action":"echo"|"error"|"panic"|"sleep"|"exit", ...}.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fc/messages"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type event struct {
	Action    string `json:"action"`
	ErrorType string `json:"errorType"`
	Message   string `json:"message"`
	SleepMs   int    `json:"sleepMs"`
	Code      int    `json:"code"`
}

// seen is what the function observed: the tests compare it with what the
// emulator sent.
type seen struct {
	RequestID       string          `json:"requestId"`
	HasDeadline     bool            `json:"hasDeadline"`
	DeadlineMs      int64           `json:"deadlineMs"`
	AccessKeyID     string          `json:"accessKeyId"`
	AccessKeySecret string          `json:"accessKeySecret"`
	SecurityToken   string          `json:"securityToken"`
	RetryCount      int             `json:"retryCount"`
	FunctionName    string          `json:"functionName"`
	Handler         string          `json:"handler"`
	Memory          string          `json:"memory"`
	Timeout         int             `json:"timeout"`
	Region          string          `json:"region"`
	AccountID       string          `json:"accountId"`
	Qualifier       string          `json:"qualifier"`
	Env             string          `json:"env"`
	StartNs         int64           `json:"startNs"`
	EndNs           int64           `json:"endNs"`
	Event           json.RawMessage `json:"event"`
}

func handle(ctx context.Context, raw json.RawMessage) (*seen, error) {
	start := time.Now()
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	switch ev.Action {
	case "error":
		// A value, not a pointer: fcErrorResponse passes it through unchanged.
		return nil, messages.InvokeResponse_Error{Type: ev.ErrorType, Message: ev.Message}
	case "panic":
		panic(ev.Message)
	case "exit":
		fmt.Fprintln(os.Stderr, "testfn: exiting with", ev.Code)
		os.Exit(ev.Code)
	case "sleep":
		time.Sleep(time.Duration(ev.SleepMs) * time.Millisecond) // ignores ctx on purpose
	}
	out := &seen{Event: raw, Env: os.Getenv("TESTFN_ENV"), StartNs: start.UnixNano()}
	if d, ok := ctx.Deadline(); ok {
		out.HasDeadline, out.DeadlineMs = true, d.UnixMilli()
	}
	if fctx, ok := fccontext.FromContext(ctx); ok {
		out.RequestID = fctx.RequestID
		out.AccessKeyID = fctx.Credentials.AccessKeyId
		out.AccessKeySecret = fctx.Credentials.AccessKeySecret
		out.SecurityToken = fctx.Credentials.SecurityToken
		out.RetryCount = fctx.RetryCount
		out.FunctionName = fctx.Function.Name
		out.Handler = fctx.Function.Handler
		out.Memory = fctx.Function.Memory
		out.Timeout = fctx.Function.Timeout
		out.Region = fctx.Region
		out.AccountID = fctx.AccountId
		out.Qualifier = fctx.Service.Qualifier
	}
	out.EndNs = time.Now().UnixNano()
	return out, nil
}

func main() { fc.Start(handle) }
