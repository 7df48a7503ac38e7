package function

import (
	"context"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/retry"
)

// Clock is a rollback's one source of time: step timings, poll intervals,
// the claim's settle delay and the guard records' timestamps all read it, so
// a test that replaces it controls every wait at once.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, whichever comes first; it returns
	// ctx's error in the second case.
	Sleep(ctx context.Context, d time.Duration) error
}

// realClock is the wall clock and timer-based sleep.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error { return retry.SleepContext(ctx, d) }

// clock is the handler's Clock, the wall clock by default.
func (h *Handler) clock() Clock {
	if h.Clock != nil {
		return h.Clock
	}
	return realClock{}
}

func (h *Handler) now() time.Time { return h.clock().Now() }

func (h *Handler) since(t time.Time) int64 { return h.now().Sub(t).Milliseconds() }
