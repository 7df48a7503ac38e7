package fcruntime

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// InvokeOptions adjust one invocation; the zero value uses the Server's.
type InvokeOptions struct {
	// RequestID is x-fc-request-id; generated when empty. Must be unique
	// among in-flight invocations, since answers are matched by it.
	RequestID string
	// Timeout overrides Options.Timeout for this invocation.
	Timeout time.Duration
	// RetryCount is x-fc-retry-count (FC's async retries).
	RetryCount int
	// Credentials override Options.Credentials when non-nil.
	Credentials *Credentials
	// Headers are added to (and override) the x-fc-* headers sent on next.
	Headers http.Header
}

// FunctionError is the error body the SDK posts to {id}/error, or one the
// emulator makes up for a timeout or a dead process.
type FunctionError struct {
	Message    string          `json:"errorMessage"`
	Type       string          `json:"errorType"`
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Result is what one invocation produced.
type Result struct {
	RequestID string
	// Payload is the body posted to {id}/response (JSON for fc.Start handlers).
	Payload json.RawMessage
	// Error is set for a function error, a panic, a timeout (Type
	// FunctionTimeout) or a dead process (Type ProcessExited).
	Error *FunctionError
	// TimedOut reports that no answer came before the deadline; the late
	// answer, if any, is discarded.
	TimedOut bool
	// Deadline is the x-fc-function-deadline sent (millisecond precision).
	Deadline time.Time
	Duration time.Duration
}

// OK reports a successful invocation.
func (r *Result) OK() bool { return r.Error == nil && !r.TimedOut }

// Err returns r.Error as an error, or nil on success.
func (r *Result) Err() error {
	if r.Error == nil {
		return nil
	}
	return r.Error
}

// Invoke sends event to the function and waits for its answer, its deadline,
// ctx, or the process's death. The deadline is fixed when Invoke is called
// (now + timeout); that is the x-fc-function-deadline the function's context
// gets, and the moment the invocation is reported TimedOut.
//
// It returns an error only when there is no function outcome: ctx done
// (nil Result), Close (ErrClosed), or the process died (ErrProcessExited,
// with a Result whose Error has Type ProcessExited).
func (s *Server) Invoke(ctx context.Context, event []byte, o InvokeOptions) (*Result, error) {
	start := time.Now()
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = s.opts.Timeout
	}
	deadline := time.UnixMilli(start.Add(timeout).UnixMilli())
	id := o.RequestID
	if id == "" {
		id = newRequestID()
	}
	res := &Result{RequestID: id, Deadline: deadline}
	c := &call{id: id, event: event, header: s.headers(id, deadline, timeout, o), answer: make(chan answer, 1)}

	select {
	case <-s.exited:
		return s.dead(res, start)
	default:
	}
	s.mu.Lock()
	_, inFlight := s.pending[id]
	_, lateDue := s.late[id]
	if inFlight || lateDue {
		// Answers are matched by id: a second call would take the first's.
		s.mu.Unlock()
		return nil, fmt.Errorf("fcruntime: request id %q is already in flight", id)
	}
	s.pending[id] = c
	s.mu.Unlock()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()

	// Hand the call to a waiting GET next.
	select {
	case s.queue <- c:
		s.mu.Lock()
		c.delivered = true
		s.mu.Unlock()
	case <-timer.C:
		s.abandon(c)
		return s.timedOut(res, start, timeout), nil
	case <-ctx.Done():
		s.abandon(c)
		return nil, ctx.Err()
	case <-s.exited:
		s.abandon(c)
		return s.dead(res, start)
	}

	select {
	case a := <-c.answer:
		return finish(res, start, a), nil
	case <-timer.C:
		if a, ok := s.abandon(c); ok {
			return finish(res, start, a), nil
		}
		return s.timedOut(res, start, timeout), nil
	case <-ctx.Done():
		if a, ok := s.abandon(c); ok {
			return finish(res, start, a), nil
		}
		return nil, ctx.Err()
	case <-s.exited:
		if a, ok := s.abandon(c); ok {
			return finish(res, start, a), nil
		}
		return s.dead(res, start)
	}
}

// abandon gives up on c. If its answer raced in first, it returns that
// answer instead; otherwise a delivered call's id is remembered so its late
// POST is accepted and dropped quietly.
func (s *Server) abandon(c *call) (answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[c.id]; ok {
		delete(s.pending, c.id)
		if c.delivered {
			s.late[c.id] = struct{}{}
		}
		return answer{}, false
	}
	select {
	case a := <-c.answer:
		return a, true
	default:
		return answer{}, false
	}
}

func finish(res *Result, start time.Time, a answer) *Result {
	res.Duration = time.Since(start)
	if !a.isError {
		res.Payload = json.RawMessage(a.body)
		return res
	}
	var fe FunctionError
	if err := json.Unmarshal(a.body, &fe); err != nil || fe.Type == "" && fe.Message == "" {
		fe = FunctionError{Type: "Unknown", Message: string(a.body)}
	}
	res.Error = &fe
	return res
}

func (s *Server) timedOut(res *Result, start time.Time, timeout time.Duration) *Result {
	res.Duration = time.Since(start)
	res.TimedOut = true
	res.Error = &FunctionError{Type: ErrorTypeTimeout, Message: fmt.Sprintf("Function timed out after %s", timeout)}
	return res
}

func (s *Server) dead(res *Result, start time.Time) (*Result, error) {
	err := s.deadErr()
	res.Duration = time.Since(start)
	res.Error = &FunctionError{Type: ErrorTypeProcessExited, Message: err.Error()}
	return res, err
}

// headers are the x-fc-* headers FC sends on next. The deadline and timeout
// must be integers: the SDK drops the invocation unanswered otherwise.
func (s *Server) headers(id string, deadline time.Time, timeout time.Duration, o InvokeOptions) http.Header {
	cred := s.opts.Credentials
	if o.Credentials != nil {
		cred = *o.Credentials
	}
	// FC's timeout is whole seconds; round a sub-second test timeout up.
	secs := int((timeout + time.Second - 1) / time.Second)
	h := http.Header{}
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set("x-fc-request-id", id)
	set("x-fc-function-deadline", strconv.FormatInt(deadline.UnixMilli(), 10))
	set("x-fc-function-timeout", strconv.Itoa(secs))
	set("x-fc-access-key-id", cred.AccessKeyID)
	set("x-fc-access-key-secret", cred.AccessKeySecret)
	set("x-fc-security-token", cred.SecurityToken)
	set("x-fc-function-name", s.opts.FunctionName)
	set("x-fc-function-handler", s.opts.Handler)
	set("x-fc-function-memory", strconv.Itoa(s.opts.MemoryMB))
	set("x-fc-service-name", s.opts.ServiceName)
	set("x-fc-region", s.opts.Region)
	set("x-fc-account-id", s.opts.AccountID)
	set("x-fc-qualifier", s.opts.Qualifier)
	set("x-fc-retry-count", strconv.Itoa(o.RetryCount))
	for k, vs := range o.Headers {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	return h
}
