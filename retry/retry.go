// Package retry runs an operation again after a retryable failure, within
// the caller's deadline.
//
// Why a package of its own: the SDK's AutoRetry retries at once, without
// backoff, never on throttling, and knows nothing about the invocation's
// deadline or about which calls are safe to repeat. This package is modelled
// on the AWS SDK "standard" retry mode and hashicorp/go-retryablehttp: a
// Policy is a set of small swappable functions (classification, backoff,
// a shared retry quota), and Do honours ctx cancellation and the ctx
// deadline: it never sleeps past the deadline and never starts a retry that
// could not finish in time. Clock, sleep and randomness are injectable so
// tests run deterministically without sleeping.
//
// The package knows nothing about ECS: callers give it a Classifier.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Decision is what a Classifier says about an error.
type Decision int

const (
	// NoRetry: give up and return the error.
	NoRetry Decision = iota
	// Retry: try again after a backoff; costs Quota.RetryCost.
	Retry
	// RetryTimeout: try again after a backoff; the failure was a timeout, so
	// it costs Quota.TimeoutCost (as in the AWS standard mode).
	RetryTimeout
)

func (d Decision) String() string {
	switch d {
	case NoRetry:
		return "NoRetry"
	case Retry:
		return "Retry"
	case RetryTimeout:
		return "RetryTimeout"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Classifier decides whether an error is worth another attempt. It is
// never called with a nil error.
type Classifier func(err error) Decision

// BackoffFunc returns how long to wait before attempt+1, after attempt
// (1-based) failed. rnd returns a float in [0,1).
type BackoffFunc func(attempt int, rnd func() float64) time.Duration

// Defaults, as in the AWS SDK standard retry mode.
const (
	DefaultMaxAttempts    = 3
	DefaultBaseDelay      = 100 * time.Millisecond
	DefaultMaxBackoff     = 20 * time.Second
	DefaultMinAttemptTime = 250 * time.Millisecond
)

// ExponentialFullJitter is AWS's "full jitter" backoff: a uniformly random
// delay in [0, min(max, base·2^(attempt-1))).
func ExponentialFullJitter(base, max time.Duration) BackoffFunc {
	return func(attempt int, rnd func() float64) time.Duration {
		if attempt < 1 {
			attempt = 1
		}
		ceil := max
		// base·2^(attempt-1), saturating at max without overflowing.
		if base > 0 && attempt-1 < 62 {
			if d := base << uint(attempt-1); d > 0 && d>>uint(attempt-1) == base && d < max {
				ceil = d
			}
		}
		if ceil <= 0 {
			return 0
		}
		return time.Duration(rnd() * float64(ceil))
	}
}

// ConstantBackoff always waits d.
func ConstantBackoff(d time.Duration) BackoffFunc {
	return func(int, func() float64) time.Duration { return d }
}

// Policy says how to retry. The zero value is usable: 3 attempts,
// ExponentialFullJitter(100ms, 20s), no retries unless Retryable is set
// (the zero Policy retries nothing: classification belongs to the caller),
// no quota, real clock.
type Policy struct {
	// MaxAttempts counts the first attempt too; 0 means DefaultMaxAttempts,
	// 1 disables retries.
	MaxAttempts int
	// Backoff gives the delay before the next attempt; nil means
	// ExponentialFullJitter(DefaultBaseDelay, DefaultMaxBackoff).
	Backoff BackoffFunc
	// Retryable classifies an error; nil means NoRetry for everything.
	Retryable Classifier
	// Quota, when set, limits retries across all calls that share it.
	Quota *Quota
	// MinAttemptTime: a retry is not started unless at least this much time
	// would remain before the ctx deadline after the backoff. 0 means
	// DefaultMinAttemptTime; negative means no minimum. The first attempt
	// always runs (unless ctx is already done).
	MinAttemptTime time.Duration
	// Now and Sleep are the clock; nil means time.Now and a timer that
	// honours ctx. Sleep must return ctx's error if ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a float in [0,1); nil means math/rand/v2.Float64.
	Rand func() float64
	// OnRetry, when set, is called before each backoff sleep (for logs).
	OnRetry func(attempt int, err error, delay time.Duration)
}

// WithDefaults returns p with every unset field filled in.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.Backoff == nil {
		p.Backoff = ExponentialFullJitter(DefaultBaseDelay, DefaultMaxBackoff)
	}
	if p.Retryable == nil {
		p.Retryable = func(error) Decision { return NoRetry }
	}
	if p.MinAttemptTime == 0 {
		p.MinAttemptTime = DefaultMinAttemptTime
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = SleepContext
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// SleepContext waits d, or until ctx is done (then it returns ctx.Err()).
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Reasons Do stopped retrying, in Error.Reason.
const (
	ReasonNotRetryable = "not retryable"
	ReasonExhausted    = "attempts exhausted"
	ReasonQuota        = "retry quota exhausted"
	ReasonDeadline     = "no time left before the deadline"
	ReasonCanceled     = "context done"
)

// Error is the last attempt's error with why Do stopped. errors.As and
// errors.Is see through it to Err (and to the context's error when the
// context ended).
type Error struct {
	Err      error // the last attempt's error
	Attempts int   // attempts made
	Reason   string
	CtxErr   error // ctx.Err() when the context ended or the deadline stopped a retry
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v (%d attempts; %s)", e.Err, e.Attempts, e.Reason)
}

// Unwrap gives the last error and, if any, the context's error.
func (e *Error) Unwrap() []error {
	if e.CtxErr != nil {
		return []error{e.Err, e.CtxErr}
	}
	return []error{e.Err}
}

// Attempts returns how many attempts produced err (1 when err is not from
// Do or made no retry).
func Attempts(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Attempts
	}
	return 1
}

// Do calls fn until it succeeds, the error is not retryable, attempts or
// quota run out, or ctx ends. attempt is 1-based. A failure on the first
// attempt that is not retryable is returned unchanged; any other failure is
// returned as *Error wrapping the last error. If ctx is done before the
// first attempt, ctx.Err() is returned and fn is not called.
func Do(ctx context.Context, p Policy, fn func(ctx context.Context, attempt int) error) error {
	p = p.WithDefaults()
	if err := ctx.Err(); err != nil {
		return err
	}
	var spent []int // quota taken by each retry, refunded on success
	for attempt := 1; ; attempt++ {
		err := fn(ctx, attempt)
		if err == nil {
			if p.Quota != nil {
				if len(spent) == 0 {
					p.Quota.success()
				}
				for _, c := range spent {
					p.Quota.refund(c)
				}
			}
			return nil
		}
		stop := func(reason string, ctxErr error) error {
			if attempt == 1 && reason == ReasonNotRetryable {
				return err
			}
			return &Error{Err: err, Attempts: attempt, Reason: reason, CtxErr: ctxErr}
		}
		if cerr := ctx.Err(); cerr != nil {
			return stop(ReasonCanceled, cerr)
		}
		d := p.Retryable(err)
		if d == NoRetry {
			return stop(ReasonNotRetryable, nil)
		}
		if attempt >= p.MaxAttempts {
			return stop(ReasonExhausted, nil)
		}
		delay := p.Backoff(attempt, p.Rand)
		if delay < 0 {
			delay = 0
		}
		if dl, ok := ctx.Deadline(); ok {
			min := p.MinAttemptTime
			if min < 0 {
				min = 0
			}
			if !p.Now().Add(delay + min).Before(dl) {
				return stop(ReasonDeadline, context.DeadlineExceeded)
			}
		}
		if p.Quota != nil {
			cost, ok := p.Quota.acquire(d == RetryTimeout)
			if !ok {
				return stop(ReasonQuota, nil)
			}
			spent = append(spent, cost)
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, err, delay)
		}
		if serr := p.Sleep(ctx, delay); serr != nil {
			return stop(ReasonCanceled, serr)
		}
	}
}
