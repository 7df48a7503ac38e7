package function

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPlainRequestUnchanged(t *testing.T) {
	f := manyFleet(3)
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(3)})
	if err != nil {
		t.Fatal(err)
	}
	// The dry run of the call first (the preflight), then the call itself.
	if got, want := f.opNames(), []string{"ResetDisks dry", "ResetDisks"}; !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if res.RequestID != "REQ-002" || res.RequestIDs != nil {
		t.Errorf("RequestId = %q, RequestIds = %v; want REQ-002 (the real call's) and none", res.RequestID, res.RequestIDs)
	}
	if got := res.Plan; got.ResetAPI != apiResetDisks || got.Batches != nil || got.SnapshotGroupID != "" {
		t.Errorf("Plan = %+v", got)
	}
	if got := res.Summary; got != (Summary{Status: StatusSucceeded, Total: 3, Succeeded: 3}) {
		t.Errorf("Summary = %+v", got)
	}
	if res.Disks != nil || res.Backups != nil {
		t.Errorf("Disks/Backups set without their options: %v %v", res.Disks, res.Backups)
	}
}

func TestPlainRefusalIsTheError(t *testing.T) {
	f := manyFleet(1)
	_, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: []DiskPair{{DiskID: "d-nothere", SnapshotID: "s-nothere"}}})
	var fe *Error
	if !asErr(err, &fe) || fe.Code != "InvalidDiskId.NotFound" || fe.Result == nil || fe.Result.Plan == nil {
		t.Errorf("error = %#v, want the ECS refusal with the Result", err)
	}
	if got := f.mutatingNonDry(); slices.ContainsFunc(got, func(c string) bool { return strings.HasPrefix(c, "ResetDisk") }) {
		t.Errorf("a real reset after its dry run was refused: %v", got)
	}
}

func TestDryRunCoversThePlan(t *testing.T) {
	f := stopStartFleet()
	f.addGroup("ssg-run0", "i-run0", SnapshotStatusAccomplished, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), "d-runsys", "d-rundata")
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, DryRun: true, InstanceID: "i-run0", Latest: true,
		StopInstance: true, StartInstance: true, Wait: true, BackupBeforeReset: true, IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.mutatingNonDry(); len(got) != 0 {
		t.Errorf("a dry run made mutating calls: %v", got)
	}
	want := []string{"DescribeSnapshotGroups", "DescribeDisks", "DescribeInstances", "StopInstance dry", "ResetDisks dry", "DescribeSnapshots"}
	if got := f.opNames(); !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	p := res.Plan
	if p.SnapshotGroupID != "ssg-run0" || !slices.Equal(p.InstancesToStop, []string{"i-run0"}) || !slices.Equal(p.InstancesToStart, []string{"i-run0"}) ||
		!slices.Equal(p.Backups, []string{"d-runsys", "d-rundata"}) || len(p.Pairs) != 2 {
		t.Errorf("Plan = %+v", p)
	}
	if res.Summary.Status != StatusDryRunPassed || !res.Summary.DryRun {
		t.Errorf("Summary = %+v, want DryRunPassed", res.Summary)
	}
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Name+":"+s.Outcome)
	}
	for _, w := range []string{"StopInstance:DryRunPassed", "CreateSnapshot:Skipped", "ResetDisks:DryRunPassed", "WaitDisks:Skipped", "StartInstance:Skipped"} {
		if !slices.Contains(names, w) {
			t.Errorf("steps %v lack %s", names, w)
		}
	}
	if got := f.instanceStatus("i-run0"); got != InstanceStatusRunning {
		t.Errorf("i-run is %s after a dry run", got)
	}
}

func TestDryRunManyBatchesAndModes(t *testing.T) {
	for _, mode := range []string{"auto", "always"} {
		t.Run(mode, func(t *testing.T) {
			f := manyFleet(25)
			res, err := runRollback(t, f, &Request{RegionID: fakeRegion, DryRun: true, Disk: manyPairs(25), ResetMode: mode, StartInstance: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.mutatingNonDry(); len(got) != 0 {
				t.Errorf("mutating calls: %v", got)
			}
			if res.Summary.Status != StatusDryRunPassed || res.Summary.Total != 25 {
				t.Errorf("Summary = %+v", res.Summary)
			}
			if len(res.Plan.Batches) != 3 {
				t.Errorf("Plan.Batches = %v", res.Plan.Batches)
			}
			if got := f.countDry("StartInstance"); got != 1 || f.count("StartInstance") != 0 {
				t.Errorf("StartInstance calls = %v, want one dry run of the stopped instance", got)
			}
		})
	}
}

func TestDryRunStopRefusalFailsItsDisks(t *testing.T) {
	f := stopStartFleet()
	f.hook = func(c fakeCall) error {
		if c.Op == "StopInstance" {
			return apiErr("InstanceLockedForSecurity", 403)
		}
		return nil
	}
	_, err := runRollback(t, f, &Request{RegionID: fakeRegion, DryRun: true, Disk: pairsOf("d-runsys", "d-stopsys"), StopInstance: true})
	// The verdict a real run would meet: refused as a whole.
	var fe *Error
	if !asErr(err, &fe) || fe.Code != ErrPlanRefused || fe.Result == nil {
		t.Fatalf("error = %v, want PlanRefused with the Result", err)
	}
	res := fe.Result
	if got := res.Summary; got.Status != ErrPlanRefused || got.Failed != 1 || got.Succeeded != 1 || !got.DryRun {
		t.Errorf("Summary = %+v, want d-runsys failed, d-stopsys passing", got)
	}
	if got := res.OperationProgressSet.OperationProgress[0].ErrorCode; got != "InstanceLockedForSecurity" {
		t.Errorf("d-runsys ErrorCode = %q", got)
	}
}

func TestEverythingTogether(t *testing.T) {
	f := stopStartFleet()
	f.addGroup("ssg-run0", "i-run0", SnapshotStatusAccomplished, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), "d-runsys", "d-rundata")
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, InstanceID: "i-run0", Latest: true,
		StopInstance: true, StartInstance: true, Wait: true, BackupBeforeReset: true, ResetMode: "always", IdempotencyKey: "all-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"DescribeSnapshotGroups", "DescribeDisks", "DescribeInstances", "StopInstance dry", "ResetDisk dry*", "DescribeSnapshots", "StopInstance", "DescribeInstances*",
		"CreateSnapshot*", "DescribeSnapshots*", "ResetDisk*", "DescribeDisks*", "ResetDisk dry*", "StartInstance", "DescribeInstances*"}
	if got := f.opNames(); !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if res.Summary.Status != StatusSucceeded || res.Plan.ResetAPI != apiResetDisk || len(res.Backups) != 2 || len(res.Disks) != 2 {
		t.Errorf("result = %+v", res)
	}
	for _, s := range res.Steps {
		if s.Outcome == StatusFailed {
			t.Errorf("failed step %+v", s)
		}
	}
	// The same key again: nothing is reset twice.
	f2calls := f.count("ResetDisk")
	res2, err := runRollback(t, f, &Request{RegionID: fakeRegion, InstanceID: "i-run0", Latest: true,
		StopInstance: true, StartInstance: true, Wait: true, BackupBeforeReset: true, ResetMode: "always", IdempotencyKey: "all-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Summary.Status != StatusDuplicate || f.count("ResetDisk") != f2calls || f.count("CreateSnapshot") != 2 {
		t.Errorf("second delivery: Summary = %+v, %d ResetDisk, %d CreateSnapshot; want Duplicate and nothing done", res2.Summary, f.count("ResetDisk"), f.count("CreateSnapshot"))
	}
}

func TestStepsRecordEveryCall(t *testing.T) {
	f := stopStartFleet()
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: pairsOf("d-runsys"), StopInstance: true, StartInstance: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Name)
		if s.Outcome == "" {
			t.Errorf("step %+v has no outcome", s)
		}
	}
	want := []string{"DescribeDisks", "DescribeInstances", "ListTagResources", "StopInstance", "ResetDisks", "CheckPairs", "StartInstance",
		"TagResources", "StopInstance", "WaitInstancesStopped", "ResetDisks", "WaitDisks", "StartInstance", "WaitInstancesRunning", "TagResources", "IdentityCheck", "RecordOutcome"}
	if !slices.Equal(names, want) {
		t.Errorf("steps = %v, want %v", names, want)
	}
	if s := res.Steps[10]; s.RequestID == "" || s.Target != "d-runsys" || s.Outcome != StatusSucceeded {
		t.Errorf("ResetDisks step = %+v", s)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	f := manyFleet(1)
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(rollbackCtx(t, clock))
	cancel()
	_, err := rollbackHandler(clock).Rollback(ctx, f, Invocation{}, &Request{RegionID: fakeRegion, Disk: manyPairs(1)})
	var fe *Error
	if !asErr(err, &fe) || fe.Code != ErrDeadlineExceeded || fe.Result == nil {
		t.Fatalf("error = %v, want DeadlineExceeded with a Result", err)
	}
	if got := f.mutatingNonDry(); len(got) != 0 {
		t.Errorf("mutating calls after the deadline: %v", got)
	}
	if !strings.Contains(fe.Message, "deadline") {
		t.Errorf("message %q", fe.Message)
	}
}

func TestPartialDuplicates(t *testing.T) {
	f := manyFleet(3)
	if _, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(2), IdempotencyKey: "k-1"}); err != nil {
		t.Fatal(err)
	}
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(3), IdempotencyKey: "k-1", Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	calls := f.callsOf("ResetDisks")
	if len(calls) != 2 || calls[1].Target != "d-many0002" {
		t.Errorf("ResetDisks calls = %v, want the second for d-many0002 only", calls)
	}
	if got := progressDisks(res.OperationProgressSet); !slices.Equal(got, manyDisks(3)) {
		t.Errorf("progress = %v, want all three in input order", got)
	}
	if res.Summary.Status != StatusSucceeded || !strings.Contains(res.Summary.Message, "2 disks were already reset") {
		t.Errorf("Summary = %+v", res.Summary)
	}
	if len(res.Disks) != 1 || res.Disks[0].DiskID != "d-many0002" {
		t.Errorf("Disks = %v, want only the disk reset now", res.Disks)
	}
}
