package function

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Polling limits. One poll is one Describe call for all the resources
// waited for, so a wait costs at most one call per interval: 500 ms growing
// by half to 1.5 s gives at most 40 calls a minute, under the 60 a minute
// budget of one invocation, and notices a finished disk 0.75 s after it
// finished on average (an operator is waiting on it during an incident).
const (
	pollInitial = 500 * time.Millisecond
	pollMax     = 1500 * time.Millisecond
	// pollMaxWait bounds a wait whose context has no deadline (FC always
	// sets one; this only keeps a misused Rollback from hanging).
	pollMaxWait = 10 * time.Minute
	// pollMarginMin/Max bound the time left for answering after a wait
	// gives up: 5% of the time remaining when the wait starts.
	pollMarginMin = 100 * time.Millisecond
	pollMarginMax = 1500 * time.Millisecond
	// pollMinSleep: a wait does not sleep less than this before a poll.
	pollMinSleep = 20 * time.Millisecond
	// pollMaxFailures consecutive failed polls end a wait with the error.
	pollMaxFailures = 3
)

// waiter polls with backoff and stops before the context's deadline, on
// the handler's Clock (tests run waits instantly and exactly).
type waiter struct {
	clock   Clock
	initial time.Duration
	max     time.Duration
}

// newWaiter polls first after initial (pollInitial when zero: Config's
// PollInterval unset), growing to three times that.
func newWaiter(c Clock, initial time.Duration) *waiter {
	if initial <= 0 {
		return &waiter{clock: c, initial: pollInitial, max: pollMax}
	}
	return &waiter{clock: c, initial: initial, max: 3 * initial}
}

// statusResetInProgress is a disk's status in DiskOutcome when DescribeDisks
// shows it settled but ECS says its reset still runs.
const statusResetInProgress = "ResetInProgress"

// pollResult says how a wait ended.
type pollResult struct {
	done  bool          // check reported done
	polls int           // checks made
	err   error         // the last error, when pollMaxFailures checks failed in a row
	spent time.Duration // on the waiter's clock
}

// poll sleeps, then calls check, with growing intervals, until check
// reports done, pollMaxFailures checks in a row fail, or the next check
// would come too close to the deadline (then done is false and err nil: the
// caller decides what an unfinished wait means). It never outlives ctx.
func (w *waiter) poll(ctx context.Context, check func(ctx context.Context) (bool, error)) pollResult {
	start := w.clock.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(pollMaxWait)
	}
	margin := min(max(deadline.Sub(start)/20, pollMarginMin), pollMarginMax)
	stopAt := deadline.Add(-margin)
	interval := w.initial
	var res pollResult
	failures := 0
	for {
		left := stopAt.Sub(w.clock.Now())
		if left < pollMinSleep || ctx.Err() != nil {
			break
		}
		if err := w.clock.Sleep(ctx, min(interval, left)); err != nil {
			break
		}
		res.polls++
		done, err := check(ctx)
		switch {
		case err != nil:
			failures++
			if failures >= pollMaxFailures {
				res.err = err
				res.spent = w.clock.Now().Sub(start)
				return res
			}
			interval = w.max // a failing API (often throttling) gets the longest pause
			continue
		case done:
			res.done = true
			res.spent = w.clock.Now().Sub(start)
			return res
		}
		failures = 0
		interval = min(interval*3/2, w.max)
	}
	res.spent = w.clock.Now().Sub(start)
	return res
}

// waitDisks polls DescribeDisks (one call per poll for all disks) until
// every one of diskIDs has been seen and none is ReIniting. A disk missing
// from an answer is not taken as done (a short page must not end the wait
// early), and until a dry-run reset of them no longer says a reset is in
// progress (probeResets: the status alone may never show a reset). It
// returns each disk's last seen status ("Unknown" if never seen)
// in the order given, and the disks not seen out of ReIniting.
func (r *run) waitDisks(ctx context.Context, diskIDs []string) (outcomes []DiskOutcome, pending []string, err error) {
	status := make(map[string]string, len(diskIDs))
	start := r.h.now()
	probes := 0
	pr := r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		disks, err := r.ecs.DescribeDisks(ctx, r.req.RegionID, diskIDs)
		if err != nil {
			return false, err
		}
		for _, d := range disks {
			if slices.Contains(diskIDs, d.DiskID) {
				status[d.DiskID] = d.Status
			}
		}
		for _, id := range diskIDs {
			if st := status[id]; st == "" || st == DiskStatusReIniting {
				return false, nil
			}
		}
		// Every disk looks settled; ECS alone can say no reset still runs.
		busy, unanswered := r.probeResets(ctx, r.pairsOfDisks(diskIDs))
		probes++
		for id := range busy {
			status[id] = statusResetInProgress
		}
		return len(busy)+len(unanswered) == 0, nil
	})
	for _, id := range diskIDs {
		st := firstNonEmpty(status[id], "Unknown")
		outcomes = append(outcomes, DiskOutcome{DiskID: id, Status: st})
		if st == DiskStatusReIniting || st == "Unknown" || st == statusResetInProgress {
			pending = append(pending, id)
		}
	}
	step := Step{Name: "WaitDisks", Target: strings.Join(diskIDs, ","), DurationMs: r.h.since(start)}
	switch {
	case pr.done:
		step.Outcome, step.Message = StatusSucceeded, fmt.Sprintf("every disk left ReIniting and no reset is in progress (%d DescribeDisks calls, %d dry-run reset probes)", pr.polls, probes)
	case pr.err != nil:
		fe := FromECS("DescribeDisks", pr.err)
		step.Outcome, step.Code, step.Message, step.RequestID = StatusFailed, fe.Code, fmt.Sprintf("gave up after %d DescribeDisks calls: %s", pr.polls, fe.Message), fe.RequestID
		err = fe
	default:
		step.Outcome, step.Code, step.Message = StatusInProgress, ErrDeadlineExceeded, fmt.Sprintf("stopped before the deadline after %d DescribeDisks calls; not seen settled: %s", pr.polls, strings.Join(pending, ", "))
	}
	r.step(step)
	return outcomes, pending, err
}
