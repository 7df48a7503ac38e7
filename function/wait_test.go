package function

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func asErr(err error, fe **Error) bool { return errors.As(err, fe) }

// withDeadlineIn gives ctx a deadline secs seconds after clock's now (the
// fake clock starts at the wall clock, and the test ends long before it).
func withDeadlineIn(ctx context.Context, clock *fakeClock, secs int) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, clock.now().Add(time.Duration(secs)*time.Second))
}

func TestWaiterBacksOffAndStopsBeforeTheDeadline(t *testing.T) {
	clock := newFakeClock()
	ctx, cancel := withDeadlineIn(t.Context(), clock, 120)
	defer cancel()
	start := clock.now()
	var at []time.Duration
	pr := newWaiter(clock, 0).poll(ctx, func(context.Context) (bool, error) {
		at = append(at, clock.now().Sub(start))
		return false, nil
	})
	if pr.done || pr.err != nil {
		t.Fatalf("poll = %+v, want not done, no error", pr)
	}
	sleeps := clock.sleeps
	if sleeps[0] != pollInitial {
		t.Errorf("first sleep = %v, want %v", sleeps[0], pollInitial)
	}
	for i := 1; i < len(sleeps)-1; i++ {
		if sleeps[i] < sleeps[i-1] || sleeps[i] > pollMax {
			t.Errorf("sleep %d = %v after %v: want growing up to %v", i, sleeps[i], sleeps[i-1], pollMax)
		}
	}
	last := at[len(at)-1]
	if margin := 120*time.Second - last; margin < pollMarginMin || margin > pollMarginMax+time.Millisecond {
		t.Errorf("last poll %v before the deadline, want %v..%v", margin, pollMarginMin, pollMarginMax)
	}
	for i := range at {
		n := 0
		for _, a := range at[i:] {
			if a-at[i] < time.Minute {
				n++
			}
		}
		if n > 60 {
			t.Errorf("%d polls in the minute from %v, want at most 60", n, at[i])
		}
	}
	if pr.polls != len(at) {
		t.Errorf("polls = %d, want %d", pr.polls, len(at))
	}
}

func TestWaiterEnds(t *testing.T) {
	tests := []struct {
		name      string
		check     func(n int) (bool, error)
		wantDone  bool
		wantErr   bool
		wantPolls int
	}{
		{name: "done on the third poll", check: func(n int) (bool, error) { return n == 3, nil }, wantDone: true, wantPolls: 3},
		{name: "a failing poll is retried", check: func(n int) (bool, error) {
			if n == 1 {
				return false, errors.New("throttled")
			}
			return true, nil
		}, wantDone: true, wantPolls: 2},
		{name: "three failures in a row end it", check: func(int) (bool, error) { return false, errors.New("down") }, wantErr: true, wantPolls: pollMaxFailures},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			n := 0
			pr := newWaiter(clock, 0).poll(t.Context(), func(context.Context) (bool, error) { n++; return tt.check(n) })
			if pr.done != tt.wantDone || (pr.err != nil) != tt.wantErr || pr.polls != tt.wantPolls {
				t.Errorf("poll = %+v, want done %v, error %v, %d polls", pr, tt.wantDone, tt.wantErr, tt.wantPolls)
			}
		})
	}
}

func TestWaiterHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	pr := newWaiter(realClock{}, 0).poll(ctx, func(context.Context) (bool, error) { t.Error("polled after cancellation"); return true, nil })
	if pr.done || pr.polls != 0 {
		t.Errorf("poll = %+v, want nothing", pr)
	}
}

func TestWaitFillsDisks(t *testing.T) {
	f := manyFleet(3)
	f.resetPolls = 4
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(3), Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []DiskOutcome{{"d-many0000", DiskStatusInUse}, {"d-many0001", DiskStatusInUse}, {"d-many0002", DiskStatusInUse}}
	if !slices.Equal(res.Disks, want) {
		t.Errorf("Disks = %v, want %v", res.Disks, want)
	}
	if res.Summary.Status != StatusSucceeded {
		t.Errorf("Summary = %+v", res.Summary)
	}
	// One DescribeDisks per poll, for all disks at once.
	for _, c := range f.callsOf("DescribeDisks") {
		if c.Target != strings.Join(manyDisks(3), ",") {
			t.Errorf("DescribeDisks for %q, want all three disks in one call", c.Target)
		}
	}
	if got := f.count("DescribeDisks"); got != 5 {
		t.Errorf("DescribeDisks calls = %d, want 5 (4 ReIniting, then In_use)", got)
	}
}

func TestWaitReachesDeadline(t *testing.T) {
	f := stopStartFleet()
	f.resetPolls = -1 // the disks never leave ReIniting
	clock := newFakeClock()
	ctx, cancel := withDeadlineIn(rollbackCtx(t, clock), clock, 30)
	defer cancel()
	_, err := rollbackHandler(clock).Rollback(ctx, f, Invocation{}, &Request{RegionID: fakeRegion, Disk: pairsOf("d-runsys", "d-rundata"), StopInstance: true, StartInstance: true, Wait: true})
	// The instance the rollback stopped cannot be started while its disks
	// are ReIniting: the answer says it is down (InstanceNotRestarted).
	var fe *Error
	if !asErr(err, &fe) || fe.Code != ErrInstanceNotRestarted || fe.Result == nil {
		t.Fatalf("error = %v, want InstanceNotRestarted with the Result", err)
	}
	res := fe.Result
	if res.Summary.Status != ErrInstanceNotRestarted {
		t.Errorf("Summary.Status = %q, want InstanceNotRestarted", res.Summary.Status)
	}
	for _, want := range []string{"still ReIniting: d-runsys, d-rundata", "not running again", "i-run0"} {
		if !strings.Contains(res.Summary.Message, want) {
			t.Errorf("Summary.Message = %q, want it to mention %q", res.Summary.Message, want)
		}
	}
	if n := f.count("StartInstance"); n != 0 {
		t.Errorf("StartInstance called %d times while the disks were ReIniting", n)
	}
	if got := res.Disks; len(got) != 2 || got[0].Status != DiskStatusReIniting {
		t.Errorf("Disks = %v, want both ReIniting", got)
	}
	if elapsed := time.Until(clock.now()); elapsed > 30*time.Second {
		t.Errorf("the fake clock went past the deadline: %v", elapsed)
	}
	if n := f.count("DescribeDisks"); n > 30 {
		t.Errorf("DescribeDisks calls = %d in 30 s, want at most 30", n)
	}
}

func TestDeadlineBeforeAPhase(t *testing.T) {
	f := manyFleet(2)
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(rollbackCtx(t, clock))
	f.hook = func(c fakeCall) error {
		if c.Op == "CreateSnapshot" {
			cancel() // the deadline passes during the backups
		}
		return nil
	}
	_, err := rollbackHandler(clock).Rollback(ctx, f, Invocation{}, &Request{RegionID: fakeRegion, Disk: manyPairs(2), BackupBeforeReset: true})
	if got := codeOf(err); got != ErrDeadlineExceeded {
		t.Fatalf("error = %v, want DeadlineExceeded", err)
	}
	var fe *Error
	asErr(err, &fe)
	if fe.Result == nil || len(fe.Result.Backups) != 1 {
		t.Errorf("Result = %+v, want the one backup made", fe.Result)
	}
	if n := f.count("ResetDisks"); n != 0 {
		t.Errorf("ResetDisks called %d times after the deadline", n)
	}
}

// shortPageECS drops the last disk from the first few DescribeDisks answers
// after the reset, as an adapter that misses a page would.
type shortPageECS struct {
	*fakeECS
	mu    sync.Mutex
	short int
}

func (s *shortPageECS) DescribeDisks(ctx context.Context, regionID string, ids []string) ([]Disk, error) {
	out, err := s.fakeECS.DescribeDisks(ctx, regionID, ids)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.short > 0 && len(out) > 1 {
		s.short--
		out = out[:len(out)-1]
	}
	return out, err
}

func TestWaitDoesNotTakeAMissingDiskAsDone(t *testing.T) {
	f := manyFleet(3)
	f.resetPolls = 1
	ecs := &shortPageECS{fakeECS: f, short: 3}
	clock := newFakeClock()
	res, err := rollbackHandler(clock).Rollback(rollbackCtx(t, clock), ecs, Invocation{}, &Request{RegionID: fakeRegion, Disk: manyPairs(3), Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.count("DescribeDisks"); got != 4 {
		t.Errorf("DescribeDisks calls = %d, want 4 (three short answers, then a full one)", got)
	}
	if res.Summary.Status != StatusSucceeded || len(res.Disks) != 3 || res.Disks[2].Status != DiskStatusInUse {
		t.Errorf("Summary = %+v, Disks = %v", res.Summary, res.Disks)
	}
}

// TestWaiterConfiguredInterval: POLL_INTERVAL sets the first sleep, and
// the sleeps grow to three times it, never more.
func TestWaiterConfiguredInterval(t *testing.T) {
	clock := newFakeClock()
	ctx, cancel := withDeadlineIn(t.Context(), clock, 10)
	defer cancel()
	const interval = 100 * time.Millisecond
	newWaiter(clock, interval).poll(ctx, func(context.Context) (bool, error) { return false, nil })
	sleeps := clock.sleeps
	if len(sleeps) < 5 {
		t.Fatalf("%d sleeps in 10 s, want many", len(sleeps))
	}
	if sleeps[0] != interval {
		t.Errorf("first sleep = %v, want %v", sleeps[0], interval)
	}
	if got := slices.Max(sleeps); got != 3*interval {
		t.Errorf("longest sleep = %v, want %v", got, 3*interval)
	}
}
