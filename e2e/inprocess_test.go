package e2e

// In-process rollbacks: the handler with the real SDK adapter against the
// ECS emulator, without the FC runtime: the scenarios the mode matrix
// (modes_test.go) runs under every emulator mode, and a few of their own.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/ecsclient"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// inProcess starts an ECS emulator with quick transitions (and fixture, when
// not nil) and a handler wired to it through the real SDK adapter.
func inProcess(t *testing.T, fixture *ecsemu.Fixture, opts ecsemu.Options) (*ecsemu.Server, *function.Handler) {
	t.Helper()
	opts = testutil.FastECS(opts, 50*time.Millisecond)
	opts.Fixture = fixture
	s := testutil.StartECS(t, opts)
	h := &function.Handler{
		Connector:      ecsclient.New(ecsclient.Config{Endpoint: s.URL()}),
		Config:         function.Config{ResetMode: "auto", PollInterval: e2ePollInterval, ClaimSettle: e2eClaimSettle},
		EnvCredentials: function.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret},
	}
	return s, h
}

// runInProcess runs req on h within timeout. A ClaimTimedOut answer is
// tried again, as its message tells every caller to: the claim's
// read-to-write gap passed the settle delay because dozens of rollbacks
// share two cores under the race detector, and the handler reset nothing
// (TestTruthSlowClaimTimesOut pins that answer itself).
func runInProcess(t *testing.T, h *function.Handler, timeout time.Duration, req *function.Request) (*function.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	inv := function.Invocation{RequestID: "fc-" + strings.ReplaceAll(t.Name(), "/", "-")}
	for attempt := 1; ; attempt++ {
		res, err := h.Run(ctx, inv, req)
		var fe *function.Error
		if attempt == 3 || !errors.As(err, &fe) || fe.Code != function.ErrClaimTimedOut {
			return res, err
		}
		t.Logf("attempt %d: %v; trying again", attempt, err)
	}
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Errorf("%s: not within 5 s", what)
}

// realActions lists the real calls of the named actions (dry runs left out:
// every real run makes the dry-run form of its calls first).
func realActions(s *ecsemu.Server, names ...string) []string {
	var out []string
	for _, r := range s.Requests() {
		if r.Params["DryRun"] == "true" {
			continue
		}
		if len(names) == 0 || slices.Contains(names, r.Action) {
			out = append(out, r.Action)
		}
	}
	return out
}

func TestInProcessStopRollbackWaitStart(t *testing.T) {
	t.Parallel()
	s, h := inProcess(t, nil, ecsemu.Options{})
	res, err := runInProcess(t, h, 30*time.Second, &function.Request{RegionID: region, SnapshotGroupID: "ssg-bp1running0000000000",
		StopInstance: true, StartInstance: true, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Status != function.StatusSucceeded || res.Summary.Succeeded != 2 {
		t.Errorf("Summary = %+v", res.Summary)
	}
	want := []string{"DescribeSnapshotGroups", "DescribeDisks", "DescribeInstances", "StopInstance", "ResetDisks", "StartInstance"}
	got := slices.Compact(realActions(s, want...))
	if i, j := slices.Index(got, "StopInstance"), slices.Index(got, "ResetDisks"); i < 0 || j < i || slices.Index(got, "StartInstance") < j {
		t.Errorf("calls = %v, want stop before reset before start", got)
	}
	for _, d := range []string{"d-bp1runningsys0000000", "d-bp1runningdata000000"} {
		if n := s.ResetCount(d); n != 1 {
			t.Errorf("%s reset %d times, want 1", d, n)
		}
		if disk, _ := s.Disk(region, d); disk.Status != function.DiskStatusInUse {
			t.Errorf("%s is %s, want In_use", d, disk.Status)
		}
	}
	if slices.ContainsFunc(res.Disks, func(d function.DiskOutcome) bool { return d.Status != function.DiskStatusInUse }) {
		t.Errorf("Result.Disks = %v, want all In_use", res.Disks)
	}
	eventually(t, "i-bp1running0000000000 Running again", func() bool {
		in, _ := s.Instance(region, "i-bp1running0000000000")
		return in.Status == function.InstanceStatusRunning
	})
	for _, r := range s.Requests() {
		if r.Action == "StopInstance" && r.Params["StoppedMode"] != function.StoppedModeKeepCharging {
			t.Errorf("StopInstance StoppedMode = %q", r.Params["StoppedMode"])
		}
	}
}

func TestInProcessLatest(t *testing.T) {
	t.Parallel()
	s, h := inProcess(t, nil, ecsemu.Options{})
	res, err := runInProcess(t, h, 30*time.Second, &function.Request{RegionID: region, InstanceID: "i-bp1stopped0000000000", Latest: true, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Plan.SnapshotGroupID; got != "ssg-bp1stopped0000000000" {
		t.Errorf("Plan.SnapshotGroupId = %q, want ssg-bp1stopped0000000000 (not the progressing or the older one)", got)
	}
	if got := s.Resets("d-bp1stoppedsys0000000"); !slices.Equal(got, []string{"s-bp1stoppedsys0000000"}) {
		t.Errorf("resets = %v", got)
	}
	if got := s.Resets("d-bp1stoppeddata000000"); !slices.Equal(got, []string{"s-bp1stoppeddata000000"}) {
		t.Errorf("resets = %v", got)
	}
}

func TestInProcessDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	s, h := inProcess(t, nil, ecsemu.Options{})
	res, err := runInProcess(t, h, 30*time.Second, &function.Request{RegionID: region, DryRun: true, InstanceID: "i-bp1running0000000000", Latest: true,
		StopInstance: true, StartInstance: true, Wait: true, BackupBeforeReset: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Status != function.StatusDryRunPassed {
		t.Errorf("Summary = %+v", res.Summary)
	}
	for _, r := range s.Requests() {
		switch r.Action {
		case "ResetDisks", "ResetDisk", "StopInstance", "StartInstance":
			if r.Params["DryRun"] != "true" {
				t.Errorf("%s without DryRun", r.Action)
			}
		case "CreateSnapshot", "TagResources":
			t.Errorf("%s in a dry run", r.Action)
		}
	}
	if in, _ := s.Instance(region, "i-bp1running0000000000"); in.Status != function.InstanceStatusRunning {
		t.Errorf("instance is %s", in.Status)
	}
}

func TestInProcessBackup(t *testing.T) {
	t.Parallel()
	s, h := inProcess(t, nil, ecsemu.Options{})
	res, err := runInProcess(t, h, 30*time.Second, &function.Request{RegionID: region, BackupBeforeReset: true, IdempotencyKey: "backup-1",
		Disk: []function.DiskPair{{DiskID: "d-bp1stoppedsys0000000", SnapshotID: "s-bp1stoppedsys0000000"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Backups) != 1 || res.Backups[0].Status != function.SnapshotStatusAccomplished || res.Backups[0].DiskID != "d-bp1stoppedsys0000000" {
		t.Fatalf("Backups = %+v", res.Backups)
	}
	snap, ok := s.Snapshot(region, res.Backups[0].SnapshotID)
	if !ok || snap.SourceDiskID != "d-bp1stoppedsys0000000" || snap.Tags["ecs-disk-rollback:backup-of"] != "d-bp1stoppedsys0000000" ||
		!strings.HasPrefix(snap.SnapshotName, "rollback-backup-d-bp1stoppedsys0000000-") {
		t.Errorf("backup snapshot = %+v", snap)
	}
	if n := s.ResetCount("d-bp1stoppedsys0000000"); n != 1 {
		t.Errorf("reset %d times", n)
	}
	if got := realActions(s, "CreateSnapshot", "ResetDisks"); !slices.Equal(got, []string{"CreateSnapshot", "ResetDisks"}) {
		t.Errorf("calls = %v", got)
	}
}

// manyFixture is one Stopped instance with n disks, each with a snapshot.
func manyFixture(n int) (*ecsemu.Fixture, []function.DiskPair) {
	f := &ecsemu.Fixture{Instances: []ecsemu.Instance{{InstanceID: "i-bp1many0000000000000", RegionID: region, Status: "Stopped", StoppedMode: "KeepCharging"}}}
	var pairs []function.DiskPair
	for i := range n {
		d, sn := fmt.Sprintf("d-bp1many%011d", i), fmt.Sprintf("s-bp1many%011d", i)
		f.Disks = append(f.Disks, ecsemu.Disk{DiskID: d, RegionID: region, InstanceID: "i-bp1many0000000000000", Category: "cloud_essd", Type: "data", Status: "In_use", Size: 20})
		f.Snapshots = append(f.Snapshots, ecsemu.Snapshot{SnapshotID: sn, RegionID: region, SourceDiskID: d, SourceDiskType: "data", Status: "accomplished", CreationTime: time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)})
		pairs = append(pairs, function.DiskPair{DiskID: d, SnapshotID: sn})
	}
	return f, pairs
}

func TestInProcessManyDisks(t *testing.T) {
	t.Parallel()
	fx, pairs := manyFixture(25)
	slices.Reverse(pairs)
	s, h := inProcess(t, fx, ecsemu.Options{})
	res, err := runInProcess(t, h, 30*time.Second, &function.Request{RegionID: region, Disk: pairs, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := realActions(s, "ResetDisks"); len(got) != 3 {
		t.Errorf("ResetDisks calls = %d, want 3", len(got))
	}
	if len(res.Plan.Batches) != 3 || len(res.RequestIDs) != 3 {
		t.Errorf("Batches = %v, RequestIds = %v", res.Plan.Batches, res.RequestIDs)
	}
	for i, p := range res.OperationProgressSet.OperationProgress {
		if p.Item("DiskId") != pairs[i].DiskID || p.OperationStatus != function.OperationStatusSuccess {
			t.Errorf("progress %d = %+v, want %s Success", i, p, pairs[i].DiskID)
		}
	}
	for _, p := range pairs {
		if n := s.ResetCount(p.DiskID); n != 1 {
			t.Errorf("%s reset %d times", p.DiskID, n)
		}
	}
	if res.Summary.Status != function.StatusSucceeded || len(res.Disks) != 25 {
		t.Errorf("Summary = %+v, %d disks", res.Summary, len(res.Disks))
	}
}

func TestInProcessFallback(t *testing.T) {
	t.Parallel()
	s, h := inProcess(t, nil, ecsemu.Options{Faults: []ecsemu.FaultRule{{Action: "ResetDisks", Kind: ecsemu.FaultError, Code: "InvalidAction.NotFound"}}})
	pairs := []function.DiskPair{{DiskID: "d-bp1stoppedsys0000000", SnapshotID: "s-bp1stoppedsys0000000"}, {DiskID: "d-bp1stoppeddata000000", SnapshotID: "s-bp1stoppeddata000000"}}
	res, err := runInProcess(t, h, 30*time.Second, &function.Request{RegionID: region, Disk: pairs})
	if err != nil {
		t.Fatal(err)
	}
	// The preflight's dry run found ResetDisks unavailable: straight to ResetDisk.
	if got := realActions(s, "ResetDisks", "ResetDisk"); !slices.Equal(got, []string{"ResetDisk", "ResetDisk"}) {
		t.Errorf("calls = %v", got)
	}
	if res.Plan.ResetAPI != "ResetDisk" || res.Summary.Succeeded != 2 || len(res.RequestIDs) != 2 {
		t.Errorf("result = %+v", res)
	}
	for _, p := range pairs {
		if n := s.ResetCount(p.DiskID); n != 1 {
			t.Errorf("%s reset %d times", p.DiskID, n)
		}
	}
	// never: the refusal is the answer.
	s2, h2 := inProcess(t, nil, ecsemu.Options{Faults: []ecsemu.FaultRule{{Action: "ResetDisks", Kind: ecsemu.FaultError, Code: "InvalidAction.NotFound"}}})
	_, err = runInProcess(t, h2, 30*time.Second, &function.Request{RegionID: region, Disk: pairs, ResetMode: "never"})
	if fe, ok := err.(*function.Error); !ok || fe.Code != "InvalidAction.NotFound" {
		t.Errorf("never: error = %v", err)
	}
	if got := realActions(s2, "ResetDisk"); len(got) != 0 {
		t.Errorf("never: ResetDisk calls %v", got)
	}
}

func TestInProcessDeadlineMidWait(t *testing.T) {
	t.Parallel()
	_, h := inProcess(t, nil, ecsemu.Options{ResetDuration: time.Minute})
	start := time.Now()
	// 6 s: the wait keeps 5% of it (300 ms) for what follows, enough for
	// the record's tag write on a loaded machine.
	const deadline = 6 * time.Second
	res, err := runInProcess(t, h, deadline, &function.Request{RegionID: region, Wait: true,
		Disk: []function.DiskPair{{DiskID: "d-bp1stoppedsys0000000", SnapshotID: "s-bp1stoppedsys0000000"}}})
	if err != nil {
		t.Fatalf("a wait cut by the deadline is not an error: %v", err)
	}
	if elapsed := time.Since(start); elapsed >= deadline {
		t.Errorf("took %v, past the %v deadline", elapsed, deadline)
	}
	if res.Summary.Status != function.StatusInProgress || !strings.Contains(res.Summary.Message, "d-bp1stoppedsys0000000") {
		t.Errorf("Summary = %+v, want InProgress naming the disk", res.Summary)
	}
}

func TestInProcessUnansweredResetIsNotResent(t *testing.T) {
	t.Parallel()
	s, h := inProcess(t, nil, ecsemu.Options{ResetDuration: 10 * time.Second,
		// The first ResetDisks is the preflight's dry run: let it pass.
		Faults: []ecsemu.FaultRule{{Action: "ResetDisks", Sequence: []ecsemu.FaultKind{ecsemu.FaultPass, ecsemu.FaultDropAfter}}}})
	pairs := []function.DiskPair{{DiskID: "d-bp1stoppedsys0000000", SnapshotID: "s-bp1stoppedsys0000000"}, {DiskID: "d-bp1stoppeddata000000", SnapshotID: "s-bp1stoppeddata000000"}}
	res, err := runInProcess(t, h, 30*time.Second, &function.Request{RegionID: region, Disk: pairs})
	if err != nil {
		t.Fatal(err)
	}
	if got := realActions(s, "ResetDisks", "ResetDisk"); !slices.Equal(got, []string{"ResetDisks"}) {
		t.Errorf("reset calls = %v, want the one unanswered ResetDisks only", got)
	}
	for _, p := range pairs {
		if n := s.ResetCount(p.DiskID); n != 1 {
			t.Errorf("%s reset %d times, want 1", p.DiskID, n)
		}
	}
	if res.Summary.Succeeded != 2 {
		t.Errorf("Summary = %+v, want both found ReIniting and reported reset", res.Summary)
	}
}
