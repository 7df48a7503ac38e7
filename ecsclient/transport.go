package ecsclient

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// newSharedTransport is the one *http.Transport a Connector's calls share.
// The SDK only reconfigures an *http.Transport it finds in its http.Client;
// it sees a *boundTransport instead, so dial and TLS timeouts are set here.
// HTTP_PROXY/HTTPS_PROXY/NO_PROXY are honoured the standard Go way
// (loopback never goes through a proxy).
func newSharedTransport(connectTimeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   connectTimeout,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// callState is what the transport learned about one call attempt.
type callState struct {
	mu     sync.Mutex
	sent   bool // the request was completely written to a connection
	status int  // HTTP status of the response, if one arrived
}

func (s *callState) Sent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

func (s *callState) Status() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// boundTransport is the RoundTripper the SDK sees for one call attempt. It
// binds each request to ctx (the SDK builds requests with
// context.Background), keeping the cancellation the http.Client put on the
// request for its own Timeout, and records via httptrace whether the
// request was written.
//
// Sent semantics: a connection attempt starts afresh on GotConn (net/http
// may retry a request on a new connection when a reused idle one turns out
// closed and nothing was written); Sent becomes true once WroteRequest
// reports the whole request flushed without error. A request that was only
// partly written cannot have been acted on (the server never saw its end).
// A request that was fully written may have been, even if the server then
// dropped the connection: that is reported as Sent.
type boundTransport struct {
	base  http.RoundTripper
	ctx   context.Context
	state *callState
}

func (t *boundTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(t.ctx)
	// The http.Client's own timeout lives in req.Context(): keep it.
	stop := context.AfterFunc(req.Context(), func() { cancel(context.Cause(req.Context())) })
	done := func() { stop(); cancel(nil) }

	st := t.state
	trace := &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) {
			st.mu.Lock()
			st.sent = false
			st.mu.Unlock()
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				st.mu.Lock()
				st.sent = true
				st.mu.Unlock()
			}
		},
	}
	r2 := req.WithContext(httptrace.WithClientTrace(ctx, trace))
	// The http.Client sets the legacy Request.Cancel for its Timeout because
	// this transport is not an *http.Transport; the Timeout's deadline is
	// also in req.Context(), which ctx follows. Left set, Cancel makes the
	// base transport start one more goroutine per request only to watch it
	// (bench/CHANGES.md round 5). TestClientTimeoutStillAborts holds the
	// timeout to working without it.
	r2.Cancel = nil
	resp, err := t.base.RoundTrip(r2)
	if err != nil {
		done()
		return nil, err
	}
	st.mu.Lock()
	st.sent = true // an answer proves it
	st.status = resp.StatusCode
	st.mu.Unlock()
	if resp.StatusCode >= 400 {
		// ECS's error answer is read here, not by the SDK (see
		// errorAnswer), and handed back as the error. That is outside the
		// RoundTripper contract (an answer is not an error) on purpose: the
		// only caller is the SDK's http.Client, which returns the error
		// unchanged inside a *url.Error (AutoRetry is off, and no redirect
		// answer is 400 or above), and mapError takes it out.
		ans := readErrorAnswer(resp)
		done()
		return nil, ans
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, done: done}
	return resp, nil
}

// cancelOnClose releases the request context once the body is consumed.
type cancelOnClose struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// mergeContext returns a context that ends when either a or b ends, with
// the earlier deadline of the two.
func mergeContext(a, b context.Context) (context.Context, context.CancelFunc) {
	if b == nil || b == a || b.Done() == nil {
		return context.WithCancel(a)
	}
	ctx, cancel := context.WithCancelCause(a)
	var stopDL func() bool
	if dl, ok := b.Deadline(); ok {
		if adl, aok := a.Deadline(); !aok || dl.Before(adl) {
			var c2 context.CancelFunc
			ctx, c2 = context.WithDeadline(ctx, dl)
			stopDL = func() bool { c2(); return true }
		}
	}
	stop := context.AfterFunc(b, func() { cancel(context.Cause(b)) })
	return ctx, func() {
		stop()
		if stopDL != nil {
			stopDL()
		}
		cancel(context.Canceled)
	}
}

// readTimeout is the per-attempt HTTP timeout handed to the SDK (it becomes
// the http.Client Timeout): def, or less when ctx's deadline is nearer, plus
// a small margin so that the ctx, not the http.Client timer, reports the
// deadline.
func readTimeout(ctx context.Context, now time.Time, def time.Duration) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return def
	}
	left := dl.Sub(now) + 50*time.Millisecond
	if left > def {
		return def
	}
	if left < time.Millisecond {
		left = time.Millisecond
	}
	return left
}
