package retry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock: Sleep advances Now instantly and records the delays.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

// deadlineCtx is a context whose deadline is judged by the fake clock only.
type deadlineCtx struct {
	context.Context
	dl time.Time
}

func (d deadlineCtx) Deadline() (time.Time, bool) { return d.dl, true }

var errRetryable = errors.New("retryable")
var errFatal = errors.New("fatal")

func classify(err error) Decision {
	switch {
	case errors.Is(err, errRetryable):
		return Retry
	case errors.Is(err, context.DeadlineExceeded):
		return RetryTimeout
	}
	return NoRetry
}

func policy(c *fakeClock) Policy {
	return Policy{Retryable: classify, Now: c.Now, Sleep: c.Sleep, Rand: func() float64 { return 0.5 },
		Backoff: ExponentialFullJitter(100*time.Millisecond, time.Second)}
}

// script returns fn failing with errs in turn, then succeeding.
func script(errs ...error) (func(context.Context, int) error, *[]int) {
	var attempts []int
	return func(_ context.Context, attempt int) error {
		attempts = append(attempts, attempt)
		if attempt <= len(errs) {
			return errs[attempt-1]
		}
		return nil
	}, &attempts
}

func TestSuccessAfterRetries(t *testing.T) {
	c := newClock()
	fn, att := script(errRetryable, errRetryable)
	if err := Do(context.Background(), policy(c), fn); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*att) != "[1 2 3]" {
		t.Errorf("attempts %v", *att)
	}
	// rand 0.5 × min(1s, 100ms·2^(n-1)): 50ms, 100ms.
	if fmt.Sprint(c.sleeps) != "[50ms 100ms]" {
		t.Errorf("sleeps %v", c.sleeps)
	}
}

func TestNotRetryableReturnedUnchanged(t *testing.T) {
	c := newClock()
	fn, att := script(errFatal)
	err := Do(context.Background(), policy(c), fn)
	if err != errFatal || len(*att) != 1 || len(c.sleeps) != 0 {
		t.Errorf("err %v attempts %v", err, *att)
	}
	// Not retryable after a retry: wrapped, still visible.
	fn, _ = script(errRetryable, errFatal)
	err = Do(context.Background(), policy(c), fn)
	var re *Error
	if !errors.As(err, &re) || re.Attempts != 2 || re.Reason != ReasonNotRetryable || !errors.Is(err, errFatal) {
		t.Errorf("%#v", err)
	}
}

type apiErr struct{ code string }

func (e *apiErr) Error() string { return e.code }

func TestExhaustedKeepsLastError(t *testing.T) {
	c := newClock()
	p := policy(c)
	p.Retryable = func(error) Decision { return Retry }
	last := &apiErr{"Throttling"}
	fn, att := script(&apiErr{"first"}, &apiErr{"second"}, last, nil)
	err := Do(context.Background(), p, fn)
	var ae *apiErr
	if !errors.As(err, &ae) || ae != last || len(*att) != 3 || Attempts(err) != 3 {
		t.Errorf("err %v attempts %v", err, *att)
	}
	var re *Error
	if !errors.As(err, &re) || re.Reason != ReasonExhausted {
		t.Errorf("%#v", err)
	}
}

func TestMaxAttemptsOne(t *testing.T) {
	c := newClock()
	p := policy(c)
	p.MaxAttempts = 1
	fn, att := script(errRetryable)
	err := Do(context.Background(), p, fn)
	if len(*att) != 1 || !errors.Is(err, errRetryable) {
		t.Errorf("%v %v", err, *att)
	}
}

func TestDeadlineNeverSleptPast(t *testing.T) {
	c := newClock()
	p := policy(c)
	p.MaxAttempts = 10
	p.Rand = func() float64 { return 0.999 }
	p.MinAttemptTime = 200 * time.Millisecond
	// 1s left: attempts take 100ms each (fn advances the clock).
	ctx := deadlineCtx{context.Background(), c.Now().Add(time.Second)}
	var att int
	err := Do(ctx, p, func(context.Context, int) error {
		att++
		c.mu.Lock()
		c.now = c.now.Add(100 * time.Millisecond)
		c.mu.Unlock()
		return errRetryable
	})
	var re *Error
	if !errors.As(err, &re) || re.Reason != ReasonDeadline || !errors.Is(err, errRetryable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%#v", err)
	}
	// t=0.1 fail, sleep ~100ms → 0.2, attempt → 0.3 fail, sleep ~200ms → 0.5,
	// attempt → 0.6 fail, next sleep ~400ms + 200ms min > 0.4 left: stop.
	if att != 3 {
		t.Errorf("%d attempts, sleeps %v", att, c.sleeps)
	}
	if !c.Now().Before(ctx.dl) {
		t.Errorf("clock %v passed the deadline %v", c.Now(), ctx.dl)
	}
}

func TestCanceledDuringSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{Retryable: classify, Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	fn, att := script(errRetryable, errRetryable)
	err := Do(ctx, p, fn)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errRetryable) || len(*att) != 1 {
		t.Errorf("%v %v", err, *att)
	}
	// Already done: fn is not called.
	fn, att = script()
	if err := Do(ctx, p, fn); !errors.Is(err, context.Canceled) || len(*att) != 0 {
		t.Errorf("%v %v", err, *att)
	}
}

func TestCtxEndsDuringAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := newClock()
	err := Do(ctx, policy(c), func(context.Context, int) error { cancel(); return errRetryable })
	var re *Error
	if !errors.As(err, &re) || re.Reason != ReasonCanceled || re.Attempts != 1 {
		t.Errorf("%#v", err)
	}
}

func TestRealSleepHonoursCtx(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := SleepContext(ctx, time.Minute); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Error(err)
	}
	if err := SleepContext(context.Background(), 0); err != nil {
		t.Error(err)
	}
}

func TestExponentialFullJitter(t *testing.T) {
	b := ExponentialFullJitter(100*time.Millisecond, 2*time.Second)
	one := func() float64 { return 0.9999999 }
	want := []time.Duration{100, 200, 400, 800, 1600, 2000, 2000}
	for i, w := range want {
		got := b(i+1, one).Round(time.Millisecond)
		if got != w*time.Millisecond {
			t.Errorf("attempt %d: %v want %v", i+1, got, w*time.Millisecond)
		}
	}
	if d := b(1000, one); d > 2*time.Second || d < time.Second {
		t.Errorf("overflow: %v", d)
	}
	if d := b(3, func() float64 { return 0 }); d != 0 {
		t.Errorf("zero jitter %v", d)
	}
	if d := b(0, one); d > 100*time.Millisecond {
		t.Errorf("attempt 0: %v", d)
	}
}

func TestQuota(t *testing.T) {
	q := NewQuota(0)
	if q.Available() != 500 || q.Capacity() != 500 {
		t.Fatal(q.Available())
	}
	c := newClock()
	p := policy(c)
	p.Quota = q
	p.MaxAttempts = 5
	// Two retries (5 each) then success: refunded.
	fn, _ := script(errRetryable, errRetryable)
	if err := Do(context.Background(), p, fn); err != nil || q.Available() != 500 {
		t.Fatalf("%v %d", err, q.Available())
	}
	// Failure: retries are not refunded; a timeout costs 10.
	fn, _ = script(context.DeadlineExceeded, errRetryable, errFatal)
	_ = Do(context.Background(), p, fn)
	if q.Available() != 500-10-5 {
		t.Errorf("available %d", q.Available())
	}
	// An empty bucket stops retries.
	small := NewQuota(7)
	p.Quota = small
	fn, att := script(errRetryable, errRetryable, errRetryable)
	err := Do(context.Background(), p, fn)
	var re *Error
	if !errors.As(err, &re) || re.Reason != ReasonQuota || len(*att) != 2 || small.Available() != 2 {
		t.Errorf("%v attempts %v available %d", err, *att, small.Available())
	}
	// Success without retry adds 1, capped at capacity.
	fn, _ = script()
	_ = Do(context.Background(), p, fn)
	if small.Available() != 3 {
		t.Errorf("available %d", small.Available())
	}
}

func TestQuotaConcurrent(t *testing.T) {
	q := NewQuota(1000)
	p := Policy{Retryable: classify, Quota: q, Sleep: func(context.Context, time.Duration) error { return nil }, MaxAttempts: 3}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn, _ := script(errRetryable)
			_ = Do(context.Background(), p, fn)
		}()
	}
	wg.Wait()
	if q.Available() != 1000 {
		t.Errorf("available %d", q.Available())
	}
}

func TestOnRetryAndDefaults(t *testing.T) {
	var seen []int
	c := newClock()
	p := policy(c)
	p.OnRetry = func(attempt int, err error, d time.Duration) { seen = append(seen, attempt) }
	fn, _ := script(errRetryable, errRetryable)
	_ = Do(context.Background(), p, fn)
	if fmt.Sprint(seen) != "[1 2]" {
		t.Errorf("%v", seen)
	}
	d := Policy{}.WithDefaults()
	if d.MaxAttempts != 3 || d.MinAttemptTime != DefaultMinAttemptTime || d.Retryable(errRetryable) != NoRetry {
		t.Errorf("%+v", d)
	}
}
