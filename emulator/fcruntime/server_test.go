package fcruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestInvokeOutcomes(t *testing.T) {
	s, _ := start(t, Options{})
	tests := []struct {
		name      string
		event     string
		wantType  string // "" = success
		wantMsg   string
		wantStack bool
	}{
		{"success", `{"action":"echo","n":1}`, "", "", false},
		{"typed error", `{"action":"error","errorType":"ValidationFailed","message":"bad disk id"}`, "ValidationFailed", "bad disk id", false},
		{"panic", `{"action":"panic","message":"boom"}`, "string", "boom", true},
		{"after the panic the process still answers", `{"action":"echo","n":2}`, "", "", false},
	}
	pid := s.PID()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := invoke(t, s, tt.event, InvokeOptions{})
			if tt.wantType == "" {
				v := decode(t, res)
				if got, want := string(v.Event), tt.event; got != want {
					t.Errorf("event seen %s, want %s", got, want)
				}
				if !res.OK() || res.Err() != nil {
					t.Errorf("OK() = %v, Err() = %v", res.OK(), res.Err())
				}
				return
			}
			if res.Error == nil {
				t.Fatalf("got payload %s, want error %s", res.Payload, tt.wantType)
			}
			if got, want := res.Error.Type, tt.wantType; got != want {
				t.Errorf("errorType %q, want %q", got, want)
			}
			if got, want := res.Error.Message, tt.wantMsg; got != want {
				t.Errorf("errorMessage %q, want %q", got, want)
			}
			if got, want := len(res.Error.StackTrace) > 0, tt.wantStack; got != want {
				t.Errorf("has stackTrace %v, want %v (%s)", got, want, res.Error.StackTrace)
			}
			if res.TimedOut || res.OK() {
				t.Errorf("TimedOut %v OK %v, want false false", res.TimedOut, res.OK())
			}
		})
	}
	if got, want := s.PID(), pid; got != want {
		t.Errorf("pid %d, want %d (same process throughout)", got, want)
	}
}

func TestContextReachesFunction(t *testing.T) {
	t.Setenv("FC_RUNTIME_API", "127.0.0.1:1") // a stale value must not leak into the child
	s, _ := start(t, Options{
		Env:          []string{"TESTFN_ENV=from-options"},
		FunctionName: "rollback",
		MemoryMB:     256,
		Timeout:      7 * time.Second,
		Region:       "cn-shanghai",
		AccountID:    "1234567890",
		Credentials:  Credentials{AccessKeyID: "LTAIdefault", AccessKeySecret: "default-secret"},
	})
	override := &Credentials{AccessKeyID: "STS.override", AccessKeySecret: "sts-secret", SecurityToken: "token"}
	tests := []struct {
		name string
		o    InvokeOptions
		want seen
	}{
		{
			name: "server defaults",
			o:    InvokeOptions{RequestID: "req-defaults"},
			want: seen{RequestID: "req-defaults", AccessKeyID: "LTAIdefault", AccessKeySecret: "default-secret",
				FunctionName: "rollback", Handler: "main", Memory: "256", Timeout: 7, Region: "cn-shanghai",
				AccountID: "1234567890", Qualifier: "LATEST", Env: "from-options"},
		},
		{
			name: "per-invocation overrides",
			o: InvokeOptions{RequestID: "req-override", Timeout: 2500 * time.Millisecond, RetryCount: 2, Credentials: override,
				Headers: http.Header{"X-Fc-Qualifier": {"prod"}}},
			want: seen{RequestID: "req-override", AccessKeyID: "STS.override", AccessKeySecret: "sts-secret", SecurityToken: "token",
				RetryCount: 2, FunctionName: "rollback", Handler: "main", Memory: "256", Timeout: 3, Region: "cn-shanghai",
				AccountID: "1234567890", Qualifier: "prod", Env: "from-options"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := invoke(t, s, `{"action":"echo"}`, tt.o)
			got := decode(t, res)
			if !got.HasDeadline {
				t.Fatal("the function's context has no deadline")
			}
			if g, w := got.DeadlineMs, res.Deadline.UnixMilli(); g != w {
				t.Errorf("function deadline %d ms, want the emulator's %d ms", g, w)
			}
			if res.RequestID != tt.want.RequestID {
				t.Errorf("Result.RequestID %q, want %q", res.RequestID, tt.want.RequestID)
			}
			got.HasDeadline, got.DeadlineMs, got.StartNs, got.EndNs, got.Event = false, 0, 0, 0, nil
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("what the function saw (-got +want):\n%s", diff)
			}
		})
	}
}

// The SDK never answers an invocation whose deadline or timeout header is
// not an integer, so check the headers themselves, for sub-second timeouts too.
func TestHeadersAreIntegers(t *testing.T) {
	s := &Server{}
	setDefaults(&s.opts)
	tests := []struct {
		timeout  time.Duration
		wantSecs string
	}{
		{300 * time.Millisecond, "1"},
		{time.Second, "1"},
		{1500 * time.Millisecond, "2"},
		{60 * time.Second, "60"},
	}
	for _, tt := range tests {
		t.Run(tt.timeout.String(), func(t *testing.T) {
			deadline := time.UnixMilli(time.Now().Add(tt.timeout).UnixMilli())
			h := s.headers("id", deadline, tt.timeout, InvokeOptions{})
			if got, want := h.Get("x-fc-function-timeout"), tt.wantSecs; got != want {
				t.Errorf("x-fc-function-timeout %q, want %q", got, want)
			}
			ms, err := strconv.ParseInt(h.Get("x-fc-function-deadline"), 10, 64)
			if err != nil {
				t.Fatalf("x-fc-function-deadline %q: %v", h.Get("x-fc-function-deadline"), err)
			}
			if got, want := ms, deadline.UnixMilli(); got != want {
				t.Errorf("deadline %d, want %d", got, want)
			}
			if _, err := strconv.Atoi(h.Get("x-fc-retry-count")); err != nil {
				t.Errorf("x-fc-retry-count %q: %v", h.Get("x-fc-retry-count"), err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	s, logs := start(t, Options{Timeout: 30 * time.Second})
	res := invoke(t, s, `{"action":"sleep","sleepMs":1500}`, InvokeOptions{RequestID: "slow", Timeout: 200 * time.Millisecond})
	if !res.TimedOut {
		t.Fatalf("got %+v %s, want TimedOut", res.Error, res.Payload)
	}
	if res.Error == nil || res.Error.Type != ErrorTypeTimeout {
		t.Errorf("Error %+v, want type %s", res.Error, ErrorTypeTimeout)
	}
	if res.Payload != nil {
		t.Errorf("payload %s, want none", res.Payload)
	}

	t.Run("later invocations still work", func(t *testing.T) {
		v := decode(t, invoke(t, s, `{"action":"echo"}`, InvokeOptions{}))
		if v.RequestID == "slow" {
			t.Error("got the timed-out invocation's answer")
		}
	})
	t.Run("late answer is accepted and dropped quietly", func(t *testing.T) {
		waitFor(t, "the late answer", func() bool { return s.discarded.Load() >= 1 })
		if strings.Contains(logs.String(), "failed to") {
			t.Errorf("the SDK complained about the late answer:\n%s", logs.String())
		}
	})
	t.Run("the id can be reused once the late answer is in", func(t *testing.T) {
		decode(t, invoke(t, s, `{"action":"echo"}`, InvokeOptions{RequestID: "slow"}))
	})
}

func TestCancelledContext(t *testing.T) {
	s, _ := start(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var res *Result
	var err error
	go func() {
		defer close(done)
		res, err = s.Invoke(ctx, []byte(`{"action":"sleep","sleepMs":300}`), InvokeOptions{RequestID: "abandoned"})
	}()
	waitFor(t, "delivery", func() bool { return s.delivered("abandoned") })
	cancel()
	<-done
	if got, want := err, context.Canceled; !errors.Is(got, want) || res != nil {
		t.Fatalf("got %v, %+v; want %v and no result", got, res, want)
	}
	waitFor(t, "the late answer", func() bool { return s.discarded.Load() >= 1 })
	decode(t, invoke(t, s, `{"action":"echo"}`, InvokeOptions{}))
}

func TestDuplicateRequestID(t *testing.T) {
	s, _ := start(t, Options{})
	done := make(chan *Result)
	go func() {
		res, _ := s.Invoke(context.Background(), []byte(`{"action":"sleep","sleepMs":200}`), InvokeOptions{RequestID: "dup"})
		done <- res
	}()
	waitFor(t, "delivery", func() bool { return s.delivered("dup") })
	if _, err := s.Invoke(context.Background(), []byte(`{}`), InvokeOptions{RequestID: "dup"}); err == nil {
		t.Error("a second in-flight invocation with the same id was accepted")
	}
	if got := decode(t, <-done); got.RequestID != "dup" {
		t.Errorf("first invocation answered for %q", got.RequestID)
	}
}

// Concurrency is shown by overlapping execution intervals inside the
// function, not by wall time, so a slow machine cannot fail it.
func TestConcurrentInvocations(t *testing.T) {
	s, _ := start(t, Options{})
	const n = 8
	results := make([]*Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.Invoke(context.Background(),
				[]byte(fmt.Sprintf(`{"action":"sleep","sleepMs":300,"i":%d}`, i)), InvokeOptions{RequestID: fmt.Sprintf("c-%d", i)})
		}()
	}
	wg.Wait()
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("invocation %d: %v", i, errs[i])
		}
		v := decode(t, results[i])
		if got, want := v.RequestID, fmt.Sprintf("c-%d", i); got != want || results[i].RequestID != want {
			t.Errorf("invocation %d answered by %q (Result %q), want %q", i, got, results[i].RequestID, want)
		}
		var ev struct{ I int }
		_ = json.Unmarshal(v.Event, &ev)
		if ev.I != i {
			t.Errorf("invocation %d got event %s", i, v.Event)
		}
		edges = append(edges, edge{v.StartNs, 1}, edge{v.EndNs, -1})
	}
	sort.Slice(edges, func(a, b int) bool {
		if edges[a].at != edges[b].at {
			return edges[a].at < edges[b].at
		}
		return edges[a].delta < edges[b].delta // an end before a start at the same instant
	})
	inFlight, most := 0, 0
	for _, e := range edges {
		inFlight += e.delta
		most = max(most, inFlight)
	}
	t.Logf("at most %d of %d invocations ran at once", most, n)
	if most < 2 {
		t.Errorf("at most %d invocation ran at once, want overlap (FC instance concurrency)", most)
	}
}

func TestClose(t *testing.T) {
	s, logs := start(t, Options{})
	pid := s.PID()
	pendingErr := make(chan error, 1)
	go func() {
		_, err := s.Invoke(context.Background(), []byte(`{"action":"sleep","sleepMs":10000}`), InvokeOptions{RequestID: "pending"})
		pendingErr <- err
	}()
	waitFor(t, "delivery", func() bool { return s.delivered("pending") })

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) = %v after Close, want ESRCH (process gone)", pid, err)
	}
	// Closing the listener first would make the SDK log failed polls.
	if strings.Contains(logs.String(), "failed to get invoke request") {
		t.Errorf("the function polled a closed runtime API:\n%s", logs.String())
	}
	if err := <-pendingErr; !errors.Is(err, ErrClosed) {
		t.Errorf("pending Invoke: %v, want ErrClosed", err)
	}
	if _, err := s.Invoke(context.Background(), []byte(`{}`), InvokeOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
	if resp, err := http.Get(s.URL() + runtimeAPIPrefix + "next"); err == nil {
		resp.Body.Close()
		t.Errorf("runtime API still answers after Close: %s", resp.Status)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestProcessDies(t *testing.T) {
	s, _ := start(t, Options{})
	res, err := s.Invoke(context.Background(), []byte(`{"action":"exit","code":3}`), InvokeOptions{})
	if !errors.Is(err, ErrProcessExited) {
		t.Fatalf("got err %v, want ErrProcessExited", err)
	}
	if res == nil || res.Error == nil || res.Error.Type != ErrorTypeProcessExited || !strings.Contains(res.Error.Message, "exit status 3") {
		t.Errorf("Result %+v, want Error type %s mentioning exit status 3", res, ErrorTypeProcessExited)
	}
	select {
	case <-s.Exited():
	default:
		t.Error("Exited() not closed")
	}
	t.Run("later invocations fail at once", func(t *testing.T) {
		res, err := s.Invoke(context.Background(), []byte(`{"action":"echo"}`), InvokeOptions{})
		if !errors.Is(err, ErrProcessExited) || res == nil || res.Error == nil {
			t.Errorf("got %+v, %v; want ErrProcessExited with a Result", res, err)
		}
	})
}

func TestNewServerFailures(t *testing.T) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	sleepPath, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1)")
	}
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no binary", Options{}, "Binary is required"},
		{"missing binary", Options{Binary: "/nonexistent/fn"}, "start"},
		{"exits at once", Options{Binary: truePath}, "exited before polling"},
		{"never polls", Options{Binary: sleepPath, Args: []string{"30"}, StartTimeout: 300 * time.Millisecond}, "did not poll"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewServer(tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("NewServer succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	logs := &LogBuffer{}
	s, err := NewServer(Options{Binary: testfnBinary, Stdout: logs, Stderr: logs})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, invoke(t, s, `{"action":"echo"}`, InvokeOptions{}))
	if res := invoke(t, s, `{"action":"sleep","sleepMs":2000}`, InvokeOptions{Timeout: 50 * time.Millisecond}); !res.TimedOut {
		t.Errorf("got %+v, want TimedOut", res)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
}

// TestStartHook: Options.Start starts the process (the benchmark places it
// on a CPU of its own); an error from it is NewServer's.
func TestStartHook(t *testing.T) {
	var started int
	s, _ := start(t, Options{Start: func(cmd *exec.Cmd) error { started++; return cmd.Start() }})
	if started != 1 {
		t.Fatalf("Start called %d times, want 1", started)
	}
	if _, err := s.Invoke(context.Background(), []byte(`{}`), InvokeOptions{}); err != nil {
		t.Fatalf("Invoke after a hooked start: %v", err)
	}
	refused := errors.New("no CPU for you")
	_, err := NewServer(Options{Binary: testfnBinary, Start: func(*exec.Cmd) error { return refused }})
	if !errors.Is(err, refused) {
		t.Errorf("NewServer with a failing Start: %v, want it to wrap %v", err, refused)
	}
}
