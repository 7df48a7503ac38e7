package ecsclient

import (
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// maxIdleSDKGoroutines bounds the goroutines kept waiting for SDK calls in
// the process. An invocation makes its calls one at a time or a few at once
// (batches, describe pages); calls beyond the idle ones get a goroutine
// that ends after its call.
const maxIdleSDKGoroutines = 4

// idleSDKGoroutines holds the kept goroutines, each as the channel it
// takes its next call from. It is per process, not per Connector, so that
// Connectors made and dropped (tests, tools) do not each keep goroutines.
var idleSDKGoroutines = make(chan chan func(), maxIdleSDKGoroutines)

// doActionShallow runs the SDK call on a shallow goroutine, kept between
// calls. Shallow: the SDK makes each request's SignatureNonce from the
// calling goroutine's id, which it reads by formatting that goroutine's
// whole stack (runtime.Stack); from the depth of an FC handler that costs
// about 18 µs a call, from a shallow goroutine a few hundred nanoseconds.
// Kept: an SDK call needs a 16 KB stack and a new goroutine starts smaller,
// so a fresh goroutine per call copied its stack as it grew, on every call
// (bench/CHANGES.md, round 4).
func doActionShallow(cl *ecs.Client, req requests.AcsRequest, resp responses.AcsResponse) error {
	return runShallow(func() error { return doAction(cl, req, resp) })
}

// runShallow runs f on a kept goroutine and returns its error. f must not
// panic (a kept goroutine has no caller to recover it).
func runShallow(f func() error) error {
	done := make(chan error, 1)
	call := func() { done <- f() }
	select {
	case g := <-idleSDKGoroutines:
		g <- call
	default:
		go runSDKCalls(make(chan func()), call)
	}
	return <-done
}

// runSDKCalls runs call, then waits for the next one while there is room
// among the idle goroutines.
func runSDKCalls(next chan func(), call func()) {
	for {
		call()
		select {
		case idleSDKGoroutines <- next:
		default:
			return
		}
		call = <-next
	}
}
