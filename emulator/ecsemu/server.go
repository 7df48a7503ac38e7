// Package ecsemu is a local emulator of the Alibaba Cloud ECS OpenAPI
// (version 2014-05-26, RPC style) that the real alibaba-cloud-sdk-go
// ecs.Client talks to unchanged over loopback HTTP. It checks signatures,
// keeps disks, snapshots and instances in memory, answers with the real error
// codes and HTTP statuses, and injects faults for reliability tests.
package ecsemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Default credentials accepted when Options leaves them empty.
const (
	DefaultAccessKeyID     = "LTAIemulator00000000"
	DefaultAccessKeySecret = "emulator-secret"
	// APIVersion is the only ECS API version served.
	APIVersion = "2014-05-26"
)

// Default durations of the transitional states.
const (
	DefaultResetDuration    = 2 * time.Second
	DefaultStopDuration     = 2 * time.Second
	DefaultStartDuration    = 2 * time.Second
	DefaultSnapshotDuration = 3 * time.Second
	// DefaultCommandDuration: how long a Cloud Assistant invocation runs.
	DefaultCommandDuration  = time.Second
	DefaultMaxTimestampSkew = 15 * time.Minute
	// DefaultMaxLoggedRequests bounds the request log so long runs and
	// benchmarks do not grow memory without limit.
	DefaultMaxLoggedRequests = 10000
)

// Options configures a Server. The zero value serves the default fleet on a
// random loopback port with the default credentials.
type Options struct {
	// Addr to listen on; default "127.0.0.1:0".
	Addr string
	// AccessKeyID and AccessKeySecret that signatures are checked against;
	// defaults DefaultAccessKeyID / DefaultAccessKeySecret.
	AccessKeyID     string
	AccessKeySecret string
	// SecurityToken, when set, must accompany every request (STS credentials).
	SecurityToken string
	// Fixture is the initial state; nil loads the embedded default fleet.
	// The server keeps its own copy.
	Fixture *Fixture
	// How long a reset disk stays ReIniting, a stopping instance Stopping, a
	// starting one Starting, and a new snapshot progressing. Zero means the
	// default; a negative value makes the transition instant.
	ResetDuration    time.Duration
	StopDuration     time.Duration
	StartDuration    time.Duration
	SnapshotDuration time.Duration
	// CommandDuration: how long an InvokeCommand invocation stays Running.
	CommandDuration time.Duration
	// MaxTimestampSkew is how far Timestamp may be from the server clock
	// (default 15 min, as the real gateway).
	MaxTimestampSkew time.Duration
	// Modes choose the behaviours no public document settles (see Modes);
	// the zero value is the historical behaviour. A fixture's "modes"
	// field overrides them.
	Modes Modes
	// Faults are active from the start.
	Faults []FaultRule
	// Seed seeds the random source used by FaultRule.Rate, for reproducible
	// tests; 0 picks a random seed.
	Seed uint64
	// MaxLoggedRequests bounds Requests(); default DefaultMaxLoggedRequests.
	MaxLoggedRequests int
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Now is the server clock; nil is time.Now. Tests use it to simulate skew.
	Now func() time.Time
}

// Server is a running emulator.
type Server struct {
	opts    Options
	now     func() time.Time
	ln      net.Listener
	srv     *http.Server
	url     string
	handler http.Handler

	mu    sync.Mutex // guards st and modes
	st    *state
	modes Modes

	faultMu sync.Mutex
	faults  []*faultState
	rng     *rand.Rand

	logMu sync.Mutex
	log   []LoggedRequest

	nonces nonceCache

	clientMu  sync.Mutex
	transport *http.Transport

	closeOnce sync.Once
	closed    chan struct{}
}

// NewServer starts an emulator listening on opts.Addr.
func NewServer(opts Options) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ecsemu: listen: %w", err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// newServer builds a Server without listening; Handler() works on it.
func newServer(opts Options) (*Server, error) {
	if opts.AccessKeyID == "" {
		opts.AccessKeyID = DefaultAccessKeyID
	}
	if opts.AccessKeySecret == "" {
		opts.AccessKeySecret = DefaultAccessKeySecret
	}
	opts.ResetDuration = defDur(opts.ResetDuration, DefaultResetDuration)
	opts.StopDuration = defDur(opts.StopDuration, DefaultStopDuration)
	opts.StartDuration = defDur(opts.StartDuration, DefaultStartDuration)
	opts.SnapshotDuration = defDur(opts.SnapshotDuration, DefaultSnapshotDuration)
	opts.CommandDuration = defDur(opts.CommandDuration, DefaultCommandDuration)
	if opts.MaxTimestampSkew <= 0 {
		opts.MaxTimestampSkew = DefaultMaxTimestampSkew
	}
	if opts.MaxLoggedRequests <= 0 {
		opts.MaxLoggedRequests = DefaultMaxLoggedRequests
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{opts: opts, now: opts.Now, closed: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	fx := opts.Fixture
	if fx == nil {
		fx = DefaultFixture()
	} else if err = fx.Validate(); err != nil {
		return nil, err
	}
	s.st = newState(fx.Clone())
	modes := opts.Modes
	if fx.Modes != nil {
		modes = *fx.Modes
	}
	if s.modes, err = modes.normalize(); err != nil {
		return nil, err
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.setFaults(opts.Faults)
	s.nonces.init()
	mux := http.NewServeMux()
	mux.Handle("/_emulator/", s.adminHandler())
	mux.HandleFunc("/", s.serveRPC)
	s.handler = mux
	return s, nil
}

func defDur(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// URL is the base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return s.url }

// Addr is the host:port the server listens on (the SDK endpoint).
func (s *Server) Addr() string { return strings.TrimPrefix(s.url, "http://") }

// Handler serves the ECS API and the /_emulator/ admin API, for mounting in
// another server or httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the listener, ends in-flight fault delays and closes idle
// client connections. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := s.srv.Shutdown(ctx); err != nil {
				_ = s.srv.Close()
			}
		}
		s.clientMu.Lock()
		if s.transport != nil {
			s.transport.CloseIdleConnections()
		}
		s.clientMu.Unlock()
	})
}

// Shutdown stops the server gracefully, waiting for in-flight calls until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.srv != nil {
			err = s.srv.Shutdown(ctx)
		}
		s.clientMu.Lock()
		if s.transport != nil {
			s.transport.CloseIdleConnections()
		}
		s.clientMu.Unlock()
	})
	return err
}

// sleep waits d unless the request or the server ends first.
func (s *Server) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errors.New("server closed")
	}
}

// nonceCache remembers SignatureNonces for between one and two skew windows;
// a replay older than that already fails the Timestamp check. Two
// generations keep it O(1) and bounded.
type nonceCache struct {
	mu       sync.Mutex
	cur, old map[string]struct{}
	rotated  time.Time
}

func (c *nonceCache) init() {
	c.cur = map[string]struct{}{}
	c.old = map[string]struct{}{}
}

// seen records key and reports whether it was already there.
func (c *nonceCache) seen(key string, now time.Time, window time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rotated.IsZero() {
		c.rotated = now
	}
	if now.Sub(c.rotated) > window {
		c.old, c.cur = c.cur, make(map[string]struct{}, len(c.cur))
		c.rotated = now
	}
	if _, ok := c.cur[key]; ok {
		return true
	}
	if _, ok := c.old[key]; ok {
		return true
	}
	c.cur[key] = struct{}{}
	return false
}

func newRequestID() string {
	const hex = "0123456789ABCDEF"
	a, b := rand.Uint64(), rand.Uint64()
	var buf [36]byte
	j := 0
	for i := 0; i < 32; i++ {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			buf[j] = '-'
			j++
		}
		var n uint64
		if i < 16 {
			n = a >> (4 * i) & 0xF
		} else {
			n = b >> (4 * (i - 16)) & 0xF
		}
		buf[j] = hex[n]
		j++
	}
	return string(buf[:])
}
