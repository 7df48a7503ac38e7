package ecsclient

// maxIdleSDKGoroutines bounds the goroutines kept waiting for SDK calls in
// the process. An invocation makes its calls one at a time or a few at once
// (batches, describe pages); calls beyond the idle ones get a goroutine
// that ends after its call.
const maxIdleSDKGoroutines = 4

// idleSDKGoroutines holds the kept goroutines, each as the channel it
// takes its next call from. It is per process, not per Connector, so that
// Connectors made and dropped (tests, tools) do not each keep goroutines.
var idleSDKGoroutines = make(chan chan func(), maxIdleSDKGoroutines)

// runShallow runs f on a kept goroutine and returns its error (see
// doActionShallow for why). f must not panic: a kept goroutine has no
// caller to recover it.
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
