package function

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// manyPairs pairs n disks d-many000… with their snapshots.
func manyPairs(n int) []DiskPair {
	return pairsOf(manyDisks(n)...)
}

func manyDisks(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("d-many%04d", i)
	}
	return ids
}

// manyFleet is a Stopped instance with n disks.
func manyFleet(n int) *fakeECS {
	return newFakeECS().addInstance("i-many", InstanceStatusStopped, manyDisks(n)...)
}

func progressDisks(set OperationProgressSet) []string {
	out := make([]string, len(set.OperationProgress))
	for i, p := range set.OperationProgress {
		out[i] = p.Item("DiskId")
	}
	return out
}

func TestBatchesInInputOrder(t *testing.T) {
	f := manyFleet(25)
	// The first batch answers last: the merge must still follow the input.
	f.resetDelay = func(first string) time.Duration {
		if first == "d-many0000" {
			return 30 * time.Millisecond
		}
		return 0
	}
	pairs := manyPairs(25)
	slices.Reverse(pairs) // input order is not the disks' natural order
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: pairs})
	if err != nil {
		t.Fatal(err)
	}
	calls := f.callsOf("ResetDisks")
	if len(calls) != 3 {
		t.Fatalf("ResetDisks calls = %d, want 3", len(calls))
	}
	var sizes []int
	for _, c := range calls {
		sizes = append(sizes, len(strings.Split(c.Target, ",")))
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{5, 10, 10}) {
		t.Errorf("batch sizes = %v, want 5, 10, 10", sizes)
	}
	if got, want := progressDisks(res.OperationProgressSet), pairDiskIDs(pairs); !slices.Equal(got, want) {
		t.Errorf("progress order = %v, want input order %v", got, want)
	}
	if got := len(res.Plan.Batches); got != 3 {
		t.Errorf("Plan.Batches = %d, want 3", got)
	}
	if got := len(res.RequestIDs); got != 3 {
		t.Errorf("RequestIds = %v, want 3", res.RequestIDs)
	}
	if res.RequestID != res.RequestIDs[0] {
		t.Errorf("RequestId = %q, want the first batch's %q", res.RequestID, res.RequestIDs[0])
	}
	var stepTargets []string
	for _, s := range res.Steps {
		if s.Name == apiResetDisks && s.Outcome != StatusDryRunPassed {
			stepTargets = append(stepTargets, s.Target)
		}
	}
	if want := []string{joinDiskIDs(pairs[:10]), joinDiskIDs(pairs[10:20]), joinDiskIDs(pairs[20:])}; !slices.Equal(stepTargets, want) {
		t.Errorf("ResetDisks steps = %v, want the batches in input order", stepTargets)
	}
	if got := res.Summary; got.Status != StatusSucceeded || got.Total != 25 || got.Succeeded != 25 {
		t.Errorf("Summary = %+v, want 25 Succeeded", got)
	}
}

func TestBatchConcurrencyIsBounded(t *testing.T) {
	f := manyFleet(100)
	f.resetDelay = func(string) time.Duration { return 5 * time.Millisecond }
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(100)})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.count("ResetDisks"); got != 10 {
		t.Errorf("ResetDisks calls = %d, want 10", got)
	}
	if f.maxInFlight > resetConcurrency || f.maxInFlight < 2 {
		t.Errorf("at most %d calls in flight, want 2..%d", f.maxInFlight, resetConcurrency)
	}
	if res.Summary.Succeeded != 100 {
		t.Errorf("Summary = %+v", res.Summary)
	}
}

func TestResetModes(t *testing.T) {
	refuse := func(code string) func(c fakeCall) error {
		return func(c fakeCall) error {
			if c.Op == "ResetDisks" {
				return apiErr(code, 400)
			}
			return nil
		}
	}
	tests := []struct {
		name        string
		reqMode     string
		configMode  string
		hook        func(c fakeCall) error
		disks       int
		wantOps     []string // reset calls, by name
		wantAPI     string
		wantCode    string // the error, when every call is refused
		wantSucceed int
	}{
		{name: "auto, ResetDisks works", reqMode: "auto", disks: 12, wantOps: []string{"ResetDisks", "ResetDisks"}, wantAPI: apiResetDisks, wantSucceed: 12},
		// The preflight's dry run finds ResetDisks unavailable: the real run
		// goes straight to ResetDisk.
		{name: "auto falls back on InvalidAction.NotFound", reqMode: "auto", hook: refuse("InvalidAction.NotFound"), disks: 3,
			wantOps: []string{"ResetDisk", "ResetDisk", "ResetDisk"}, wantAPI: apiResetDisk, wantSucceed: 3},
		{name: "auto falls back on Forbidden.RAM, config mode", configMode: "auto", hook: refuse("Forbidden.RAM"), disks: 2,
			wantOps: []string{"ResetDisk", "ResetDisk"}, wantAPI: apiResetDisk, wantSucceed: 2},
		// A refusal of the dry run refuses the real run: no real call.
		{name: "auto does not fall back on other codes", reqMode: "auto", hook: refuse("InvalidRegionId.NotFound"), disks: 2,
			wantOps: nil, wantAPI: apiResetDisks, wantCode: "InvalidRegionId.NotFound"},
		{name: "never", reqMode: "never", hook: refuse("InvalidAction.NotFound"), disks: 2,
			wantOps: nil, wantAPI: apiResetDisks, wantCode: "InvalidAction.NotFound"},
		{name: "request never overrides config auto", reqMode: "never", configMode: "auto", hook: refuse("UnsupportedOperation"), disks: 1,
			wantOps: nil, wantAPI: apiResetDisks, wantCode: "UnsupportedOperation"},
		{name: "always", reqMode: "always", disks: 3, wantOps: []string{"ResetDisk", "ResetDisk", "ResetDisk"}, wantAPI: apiResetDisk, wantSucceed: 3},
		{name: "always from config", configMode: "always", disks: 2, wantOps: []string{"ResetDisk", "ResetDisk"}, wantAPI: apiResetDisk, wantSucceed: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := manyFleet(tt.disks)
			f.hook = tt.hook
			clock := newFakeClock()
			h := rollbackHandler(clock)
			h.Config.ResetMode = tt.configMode
			pairs := manyPairs(tt.disks)
			res, err := h.Rollback(rollbackCtx(t, clock), f, Invocation{}, &Request{RegionID: fakeRegion, Disk: pairs, ResetMode: tt.reqMode})
			var got []string
			for _, o := range f.ops() {
				if name, _, _ := strings.Cut(o, " "); strings.HasPrefix(name, "ResetDisk") && !strings.HasSuffix(o, " dry") {
					got = append(got, name)
				}
			}
			if !slices.Equal(got, tt.wantOps) {
				t.Errorf("reset calls = %v, want %v", got, tt.wantOps)
			}
			if tt.wantCode != "" {
				if codeOf(err) != tt.wantCode {
					t.Fatalf("error = %v, want code %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Plan.ResetAPI != tt.wantAPI {
				t.Errorf("Plan.ResetAPI = %q, want %q", res.Plan.ResetAPI, tt.wantAPI)
			}
			if res.Summary.Succeeded != tt.wantSucceed {
				t.Errorf("Summary = %+v, want %d succeeded", res.Summary, tt.wantSucceed)
			}
			if got, want := progressDisks(res.OperationProgressSet), pairDiskIDs(pairs); !slices.Equal(got, want) {
				t.Errorf("progress disks = %v, want %v", got, want)
			}
			for i, p := range res.OperationProgressSet.OperationProgress {
				if p.Item("SnapshotId") != pairs[i].SnapshotID || p.OperationStatus != OperationStatusSuccess {
					t.Errorf("progress %d = %+v, want Success with SnapshotId %s", i, p, pairs[i].SnapshotID)
				}
			}
			if tt.wantAPI == apiResetDisk && len(res.RequestIDs) != min(tt.disks, len(res.RequestIDs)) {
				t.Errorf("RequestIds = %v", res.RequestIDs)
			}
		})
	}
}

func TestFallbackAppliesToAllBatches(t *testing.T) {
	f := manyFleet(25)
	f.hook = func(c fakeCall) error {
		if c.Op == "ResetDisks" {
			return apiErr("InvalidAction.NotFound", 404)
		}
		return nil
	}
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(25)})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.count("ResetDisk"); got != 25 {
		t.Errorf("ResetDisk calls = %d, want 25", got)
	}
	if got := f.countDry("ResetDisks"); got < 1 || got > resetConcurrency {
		t.Errorf("dry-run ResetDisks calls = %d, want 1..%d (later batches go straight to ResetDisk)", got, resetConcurrency)
	}
	if got := f.count("ResetDisks"); got != 0 {
		t.Errorf("real ResetDisks calls = %d, want 0 (the preflight found it unavailable)", got)
	}
	if got := len(res.RequestIDs); got != 25 {
		t.Errorf("RequestIds = %d, want one per ResetDisk call", got)
	}
	if got, want := progressDisks(res.OperationProgressSet), manyDisks(25); !slices.Equal(got, want) {
		t.Errorf("progress order = %v, want %v", got, want)
	}
}

func TestSentResetIsNotResent(t *testing.T) {
	for _, mode := range []string{"never", "always"} {
		t.Run(mode, func(t *testing.T) {
			f := manyFleet(2)
			f.dropAfter["ResetDisks"], f.dropAfter["ResetDisk"] = true, true
			res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(2), ResetMode: mode})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range manyDisks(2) {
				if got := len(f.resets[d]); got != 1 {
					t.Errorf("%s reset %d times, want 1", d, got)
				}
			}
			want := map[string]int{"never": 1, "always": 0}[mode]
			if got := f.count("ResetDisks"); got != want {
				t.Errorf("ResetDisks calls = %d, want %d", got, want)
			}
			if got := res.Summary; got.Succeeded != 2 {
				t.Errorf("Summary = %+v, want both found reset (ReIniting)", got)
			}
			if !slices.ContainsFunc(res.Steps, func(s Step) bool { return s.Name == "ResolveUnknown" }) {
				t.Errorf("no ResolveUnknown step in %v", res.Steps)
			}
		})
	}
}

// vanishDuringReset deletes disk when the real reset call comes: what the
// preflight could not know, ECS reports per disk during the reset itself.
func vanishDuringReset(f *fakeECS, disk string) {
	f.hook = func(c fakeCall) error {
		if c.Op == "ResetDisks" && !c.DryRun {
			f.mu.Lock()
			delete(f.disks, disk)
			f.mu.Unlock()
		}
		return nil
	}
}

func TestPartialAnswerKeepsECSEntries(t *testing.T) {
	f := manyFleet(3)
	vanishDuringReset(f, "d-many0002")
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(3)})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Summary; got.Status != StatusPartiallyFailed || got.Failed != 1 {
		t.Errorf("Summary = %+v, want PartiallyFailed with 1 failed", got)
	}
	if got := res.OperationProgressSet.OperationProgress[2].ErrorCode; got != "InvalidDiskId.NotFound" {
		t.Errorf("third disk's ErrorCode = %q", got)
	}
	fail := true
	f = manyFleet(3)
	vanishDuringReset(f, "d-many0002")
	_, err = runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(3), FailOnPartial: &fail})
	if codeOf(err) != ErrPartialFailure {
		t.Errorf("FailOnPartial: error = %v, want PartialFailure", err)
	}
}

func TestUnansweredAtTheDeadlineIsDeadlineExceeded(t *testing.T) {
	f := manyFleet(2)
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(rollbackCtx(t, clock))
	defer cancel()
	f.hook = func(c fakeCall) error {
		switch {
		case c.DryRun:
		case c.Op == "ResetDisks":
			cancel() // the deadline passes while the call is on the wire
			return &TransportError{Op: "ResetDisks", Sent: true, Timeout: true, Message: "context deadline exceeded"}
		case c.Op == "DescribeDisks":
			return &TransportError{Op: "DescribeDisks", Message: "not sent: context deadline exceeded"}
		}
		return nil
	}
	_, err := rollbackHandler(clock).Rollback(ctx, f, Invocation{}, &Request{RegionID: fakeRegion, Disk: manyPairs(2)})
	var fe *Error
	// The call may have acted and nothing can be read back: unknown, never
	// done and never "not done".
	if !asErr(err, &fe) || fe.Code != ErrOutcomeUnknown || fe.Result == nil {
		t.Fatalf("error = %v, want OutcomeUnknown with the Result", err)
	}
	for _, op := range fe.Result.OperationProgressSet.OperationProgress {
		if op.OperationStatus != OperationStatusUnknown || op.ErrorCode != codeOutcomeUnknown {
			t.Errorf("progress %+v, want Unknown/OutcomeUnknown", op)
		}
	}
	if got := fe.Result.Summary; got.Unknown != 2 || got.Status != StatusOutcomeUnknown {
		t.Errorf("Summary = %+v, want 2 Unknown", got)
	}
	if n := f.count("ResetDisks"); n != 1 {
		t.Errorf("ResetDisks calls = %d, want 1 (never resent)", n)
	}
}
