// Package fcruntime emulates the Function Compute (FC 3.0) Go runtime API on
// one machine: it starts a built function binary as a child process, exactly
// as FC does, and plays FC's side of the runtime API that the binary's
// fc.Start loop (github.com/aliyun/fc-runtime-go-sdk v0.3.1) polls.
//
// The point is to run the real binary with the real SDK loop, so what the
// tests see (headers, deadlines, error bodies, panics, concurrency) is what
// FC would see, without deploying.
package fcruntime

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// runtimeAPIPrefix is the path the SDK builds from FC_RUNTIME_API
// (fc/runtime_api_client.go: "http://" + address + "/2020-11-11/runtime/invocation/").
const runtimeAPIPrefix = "/2020-11-11/runtime/invocation/"

// Error types the emulator itself reports in Result.Error, beside the ones
// the function returns.
const (
	// ErrorTypeTimeout is FC's error type for an invocation that ran past its
	// function timeout.
	ErrorTypeTimeout = "FunctionTimeout"
	// ErrorTypeProcessExited reports that the function process died while the
	// invocation was pending (or before it started).
	ErrorTypeProcessExited = "ProcessExited"
)

var (
	// ErrProcessExited is returned (wrapped, with the exit status) by Invoke
	// when the function process has exited without Close being called.
	ErrProcessExited = errors.New("fcruntime: function process exited unexpectedly")
	// ErrClosed is returned by Invoke after (or during) Close.
	ErrClosed = errors.New("fcruntime: server closed")
)

// Credentials are the role credentials FC hands to each invocation in the
// x-fc-access-key-* and x-fc-security-token headers.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Options configure a Server. Only Binary is required.
type Options struct {
	// Binary is the path of the built function executable (FC's "main").
	Binary string
	// Args are extra command-line arguments for the binary (FC passes none).
	Args []string
	// Env entries (K=V) are added to os.Environ() for the process; later
	// entries win. FC_RUNTIME_API is always set by the server.
	Env []string
	// Addr is where the runtime API listens; default 127.0.0.1:0.
	Addr string

	FunctionName string        // x-fc-function-name; default "fc-function"
	Handler      string        // x-fc-function-handler; default "main"
	MemoryMB     int           // x-fc-function-memory; default 512
	Timeout      time.Duration // function timeout; default 60s
	Region       string        // x-fc-region; default "cn-hangzhou"
	AccountID    string        // x-fc-account-id
	Qualifier    string        // x-fc-qualifier; default "LATEST"
	ServiceName  string        // x-fc-service-name (FC 2.0 only; empty by default)

	// Credentials are sent with every invocation unless overridden per call.
	Credentials Credentials

	// Stdout and Stderr receive the function's logs; default os.Stderr.
	// Use a goroutine-safe writer: the process writes while tests read.
	Stdout io.Writer
	Stderr io.Writer

	// StartTimeout bounds how long NewServer waits for the process to make
	// its first GET next; default 10s.
	StartTimeout time.Duration

	// Start starts the prepared command; default (*exec.Cmd).Start. The
	// benchmark harness uses it to start the process on a CPU of its own.
	Start func(*exec.Cmd) error
}

// Server is a running function process plus the runtime API it talks to.
type Server struct {
	opts Options
	ln   net.Listener
	srv  *http.Server
	cmd  *exec.Cmd

	queue     chan *call    // unbuffered: a send succeeds only into a waiting GET next
	polled    chan struct{} // closed on the first GET next (the process is up)
	pollOnce  sync.Once
	exited    chan struct{} // closed when the process has been reaped
	done      chan struct{} // closed by Close once the process is gone
	serveDone chan struct{}
	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error

	mu        sync.Mutex
	pending   map[string]*call    // request id -> call awaiting its answer
	late      map[string]struct{} // delivered calls that gave up; their answer is discarded
	exitErr   error               // cmd.Wait's result
	discarded atomic.Int64        // late answers accepted and dropped (tests look)
}

// call is one invocation on its way through the runtime API.
type call struct {
	id        string
	event     []byte
	header    http.Header
	delivered bool        // guarded by Server.mu
	answer    chan answer // buffered 1; written once under Server.mu
}

type answer struct {
	body    []byte
	isError bool
}

// NewServer listens on opts.Addr, starts opts.Binary with FC_RUNTIME_API
// pointing at it and waits until the process polls for its first
// invocation, so a returned Server is ready to Invoke.
func NewServer(opts Options) (*Server, error) {
	if opts.Binary == "" {
		return nil, errors.New("fcruntime: Options.Binary is required")
	}
	setDefaults(&opts)
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("fcruntime: listen: %w", err)
	}
	s := &Server{
		opts:      opts,
		ln:        ln,
		queue:     make(chan *call),
		polled:    make(chan struct{}),
		exited:    make(chan struct{}),
		done:      make(chan struct{}),
		serveDone: make(chan struct{}),
		pending:   make(map[string]*call),
		late:      make(map[string]struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"next", s.handleNext)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"{id}/response", s.handleAnswer(false))
	mux.HandleFunc("POST "+runtimeAPIPrefix+"{id}/error", s.handleAnswer(true))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.serveDone)
		_ = s.srv.Serve(ln)
	}()

	cmd := exec.Command(opts.Binary, opts.Args...)
	cmd.Env = processEnv(opts.Env, ln.Addr().String())
	cmd.Stdout, cmd.Stderr = opts.Stdout, opts.Stderr
	// A grandchild holding the log pipes must not block Wait forever.
	cmd.WaitDelay = 2 * time.Second
	start := opts.Start
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(cmd); err != nil {
		_ = s.srv.Close()
		<-s.serveDone
		return nil, fmt.Errorf("fcruntime: start %s: %w", opts.Binary, err)
	}
	s.cmd = cmd
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.exitErr = err
		s.mu.Unlock()
		close(s.exited)
	}()

	timer := time.NewTimer(opts.StartTimeout)
	defer timer.Stop()
	select {
	case <-s.polled:
		return s, nil
	case <-s.exited:
		err := fmt.Errorf("fcruntime: %s exited before polling the runtime API: %v", opts.Binary, s.exitError())
		s.Close()
		return nil, err
	case <-timer.C:
		s.Close()
		return nil, fmt.Errorf("fcruntime: %s did not poll the runtime API within %s (does it call fc.Start?)", opts.Binary, opts.StartTimeout)
	}
}

func setDefaults(o *Options) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.FunctionName == "" {
		o.FunctionName = "fc-function"
	}
	if o.Handler == "" {
		o.Handler = "main"
	}
	if o.MemoryMB == 0 {
		o.MemoryMB = 512
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Region == "" {
		o.Region = "cn-hangzhou"
	}
	if o.Qualifier == "" {
		o.Qualifier = "LATEST"
	}
	if o.Stdout == nil {
		o.Stdout = os.Stderr
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 10 * time.Second
	}
}

// processEnv is os.Environ() without any inherited FC_RUNTIME_API (a stale
// one would point the SDK elsewhere), plus extra, plus ours last so it wins.
func processEnv(extra []string, addr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FC_RUNTIME_API=") {
			env = append(env, kv)
		}
	}
	env = append(env, extra...)
	// The SDK prepends "http://" itself.
	return append(env, "FC_RUNTIME_API="+addr)
}

// Addr is the runtime API's host:port (the value of FC_RUNTIME_API).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the runtime API's base URL, http://host:port.
func (s *Server) URL() string { return "http://" + s.Addr() }

// PID is the function process's id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Exited is closed when the function process has exited (for any reason).
func (s *Server) Exited() <-chan struct{} { return s.exited }

func (s *Server) exitError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exitErr == nil {
		return errors.New("exit status 0")
	}
	return s.exitErr
}

// deadErr is what Invoke returns once the process is gone.
func (s *Server) deadErr() error {
	if s.closing.Load() {
		return ErrClosed
	}
	return fmt.Errorf("%w: %v", ErrProcessExited, s.exitError())
}

// Close stops the function process (SIGTERM, then SIGKILL after 2s) and only
// then closes the runtime API: the SDK retries GET next in a tight loop with
// no backoff, so the listener must outlive the process. Idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		if s.cmd != nil {
			select {
			case <-s.exited:
			default:
				_ = s.cmd.Process.Signal(syscall.SIGTERM)
				t := time.NewTimer(2 * time.Second)
				select {
				case <-s.exited:
				case <-t.C:
					_ = s.cmd.Process.Kill()
					<-s.exited
				}
				t.Stop()
			}
		}
		close(s.done)
		s.closeErr = s.srv.Close()
		<-s.serveDone
	})
	return s.closeErr
}

// handleNext is the long poll: it hands the next invocation to the SDK.
func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	s.pollOnce.Do(func() { close(s.polled) })
	select {
	case c := <-s.queue:
		h := w.Header()
		for k, v := range c.header {
			h[k] = v
		}
		h.Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(c.event)
	case <-r.Context().Done():
	case <-s.done:
		// Only after the process is gone, so nobody is left to spin on this.
		http.Error(w, "runtime API closed", http.StatusServiceUnavailable)
	}
}

// handleAnswer takes POST {id}/response and {id}/error. A late answer (the
// caller already gave up: timeout or cancelled context) is answered 200 and
// dropped, because any other status makes the SDK log "failed to invoke
// function"; an id never issued gets 404.
func (s *Server) handleAnswer(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		c, ok := s.pending[id]
		if ok {
			delete(s.pending, id)
			c.answer <- answer{body: body, isError: isError}
		}
		_, isLate := s.late[id]
		if isLate {
			delete(s.late, id)
			s.discarded.Add(1)
		}
		s.mu.Unlock()
		if !ok && !isLate {
			http.Error(w, "unknown request id "+id, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// newRequestID makes an id shaped like FC's (1-xxxxxxxx-xxxxxxxx-xxxxxxxxxxxx).
func newRequestID() string {
	var b [14]byte
	_, _ = rand.Read(b[:])
	x := hex.EncodeToString(b[:])
	return "1-" + x[:8] + "-" + x[8:16] + "-" + x[16:]
}

// marshalError is the body FC (and the SDK) use for a function error.
func marshalError(typ, msg string) []byte {
	b, _ := json.Marshal(FunctionError{Type: typ, Message: msg})
	return b
}
