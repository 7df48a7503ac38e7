package ecsclient

// maxIdleSDKGoroutines bounds the goroutines kept waiting for SDK calls in
// the process. An invocation makes its calls one at a time or a few at once
// (batches, describe pages); calls beyond the idle ones get a goroutine
// that ends after its call.
const maxIdleSDKGoroutines = 4

// shallowCall is one call for a kept goroutine: run makes it and reports
// its end to whoever waits for it. run must not panic: a kept goroutine
// has no caller to recover it.
type shallowCall interface{ run() }

// idleSDKGoroutines holds the kept goroutines, each as the channel it
// takes its next call from. It is per process, not per Connector, so that
// Connectors made and dropped (tests, tools) do not each keep goroutines.
var idleSDKGoroutines = make(chan chan shallowCall, maxIdleSDKGoroutines)

// runShallow hands c to a kept goroutine (see doActionShallow for why) and
// returns at once; c.run reports when the call is done.
func runShallow(c shallowCall) {
	select {
	case g := <-idleSDKGoroutines:
		g <- c
	default:
		go runSDKCalls(make(chan shallowCall), c)
	}
}

// runSDKCalls runs c, then waits for the next call while there is room
// among the idle goroutines. It calls run directly, with no closure in
// between: every frame under the SDK's call makes its goroutine-id read
// (runtime.Stack) dearer.
func runSDKCalls(next chan shallowCall, c shallowCall) {
	for {
		c.run()
		select {
		case idleSDKGoroutines <- next:
		default:
			return
		}
		c = <-next
	}
}
