package ecstest

import (
	"cmp"
	"errors"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// checks is the contract, in the order Run runs it: reads and dry runs
// first, mutating checks after.
var checks = []check{
	{name: "Describe/Fixture", fn: describeFixture},
	{name: "Describe/MissingDiskIsAbsent", fn: describeMissingDisk},
	{name: "Paging/DescribeDisks", fn: pagingDisks},
	{name: "Paging/DescribeInstances", fn: pagingInstances},
	{name: "Paging/DescribeSnapshots", fn: pagingSnapshots},
	{name: "Paging/DescribeSnapshotGroups", fn: pagingGroups},
	{name: "Paging/ListTagResources", fn: pagingTags},
	{name: "NotFound/ResetDiskDryRun", fn: notFoundDryRun},
	{name: "DryRun/Answers", fn: dryRunAnswers},
	{name: "DryRun/Refusals", fn: dryRunRefusals},
	{name: "Errors/Credentials", fn: errorsCredentials},
	{name: "NotFound/ResetDisks", mutates: true, fn: notFoundResetDisks},
	{name: "Reset/Results", mutates: true, fn: resetResults},
	{name: "Reset/Partial", mutates: true, fn: resetPartial},
	{name: "Reset/Settles", mutates: true, fn: resetSettles},
	{name: "Tags/RoundTrip", mutates: true, fn: tagsRoundTrip},
	{name: "Tags/Quota", mutates: true, fn: tagsQuota},
	{name: "Tags/InstancesByTag", mutates: true, fn: tagsInstancesByTag},
	{name: "Snapshot/ClientToken", mutates: true, fn: snapshotClientToken},
	{name: "Instance/Lifecycle", mutates: true, fn: instanceLifecycle},
}

// describeFixture: DescribeDisks, DescribeInstances, DescribeSnapshots and
// DescribeSnapshotGroups tell the fixture as it is: the stopped instance's
// disks In_use on it, its snapshots accomplished and taken from those disks
// with a creation time, the running instance Running, and its instance
// snapshot naming the instance and one snapshot per disk.
func describeFixture(t TB, _ Harness, e Env) {
	in := e.IDs.Stopped
	need(t, in.ID != "" && len(in.Snapshots) == len(in.Disks) && len(in.Disks) > 0, "stopped instance with disks and snapshots")
	ctx, region := ctxOf(t), e.IDs.Region
	disks, err := e.ECS.DescribeDisks(ctx, region, in.Disks)
	if err != nil {
		t.Fatalf("DescribeDisks: %v", err)
	}
	var got []string
	for _, d := range disks {
		got = append(got, d.DiskID)
		if d.InstanceID != in.ID || d.Status != function.DiskStatusInUse || d.Type == "" || d.Category == "" {
			t.Errorf("DescribeDisks: got %+v, want In_use on %s with a Type and a Category", d, in.ID)
		}
	}
	sameSet(t, "DescribeDisks", got, in.Disks)
	if st := instanceStatus(t, e, in.ID); st != function.InstanceStatusStopped {
		t.Errorf("instance %s: got %s, want Stopped", in.ID, st)
	}
	if e.IDs.Running.ID != "" {
		if st := instanceStatus(t, e, e.IDs.Running.ID); st != function.InstanceStatusRunning {
			t.Errorf("instance %s: got %s, want Running", e.IDs.Running.ID, st)
		}
	}
	snaps, err := e.ECS.DescribeSnapshots(ctx, region, in.Snapshots)
	if err != nil {
		t.Fatalf("DescribeSnapshots: %v", err)
	}
	source := map[string]string{}
	for _, p := range in.Pairs() {
		source[p.SnapshotID] = p.DiskID
	}
	got = got[:0]
	for _, s := range snaps {
		got = append(got, s.SnapshotID)
		if s.SourceDiskID != source[s.SnapshotID] || s.Status != function.SnapshotStatusAccomplished || s.CreationTime.IsZero() {
			t.Errorf("DescribeSnapshots: got %+v, want accomplished, from %s, with a CreationTime", s, source[s.SnapshotID])
		}
	}
	sameSet(t, "DescribeSnapshots", got, in.Snapshots)
	if e.IDs.InstanceSnapshot == "" {
		return
	}
	groups, err := e.ECS.DescribeSnapshotGroups(ctx, function.DescribeSnapshotGroupsInput{RegionID: region, SnapshotGroupIDs: []string{e.IDs.InstanceSnapshot}})
	if err != nil || len(groups) != 1 {
		t.Fatalf("DescribeSnapshotGroups(%s): got %d groups, %v; want 1", e.IDs.InstanceSnapshot, len(groups), err)
	}
	g := groups[0]
	if g.InstanceID != in.ID || g.Status != function.SnapshotStatusAccomplished || len(g.Snapshots) != len(in.Disks) {
		t.Errorf("snapshot group: got %+v, want accomplished, of %s, one snapshot per disk", g, in.ID)
	}
	for _, s := range g.Snapshots {
		if s.SnapshotID == "" || s.SourceDiskID == "" || !s.Available {
			t.Errorf("snapshot group member: got %+v, want SnapshotId, SourceDiskId and Available", s)
		}
	}
}

// describeMissingDisk: DescribeDisks of a missing disk returns no entry and
// no error; with an existing disk alongside, only the existing one.
func describeMissingDisk(t TB, _ Harness, e Env) {
	disk, _ := someDisk(e.IDs)
	need(t, e.IDs.MissingDisk != "" && disk != "", "missing disk id and a disk")
	for _, tc := range []struct {
		name string
		ids  []string
		want []string
	}{
		{"missing alone", []string{e.IDs.MissingDisk}, nil},
		{"missing and existing", []string{e.IDs.MissingDisk, disk}, []string{disk}},
	} {
		disks, err := e.ECS.DescribeDisks(ctxOf(t), e.IDs.Region, tc.ids)
		if err != nil {
			t.Errorf("%s: DescribeDisks: got error %v, want none", tc.name, err)
			continue
		}
		var got []string
		for _, d := range disks {
			got = append(got, d.DiskID)
		}
		sameSet(t, tc.name+": DescribeDisks", got, tc.want)
	}
}

// notFoundDryRun: a dry-run ResetDisk and ResetDisks of a missing disk
// answer *APIError InvalidDiskId.NotFound (a dry run reports the first
// failing disk, never DryRunOperation).
func notFoundDryRun(t TB, _ Harness, e Env) {
	_, in := someDisk(e.IDs)
	need(t, e.IDs.MissingDisk != "" && len(in.Pairs()) > 0, "missing disk id and a disk with a snapshot")
	snap := in.Snapshots[0]
	_, err := e.ECS.ResetDisk(ctxOf(t), function.ResetDiskInput{RegionID: e.IDs.Region, DiskID: e.IDs.MissingDisk, SnapshotID: snap, DryRun: true})
	wantCode(t, "dry-run ResetDisk of a missing disk", err, codeDiskNotFound)
	_, err = e.ECS.ResetDisks(ctxOf(t), function.ResetDisksInput{RegionID: e.IDs.Region, DryRun: true,
		Disks: []function.DiskPair{{DiskID: e.IDs.MissingDisk, SnapshotID: snap}}})
	wantCode(t, "dry-run ResetDisks of a missing disk", err, codeDiskNotFound)
}

// dryRunAnswers: a dry run that would succeed answers *APIError
// DryRunOperation, for ResetDisks and ResetDisk of the stopped instance's
// disks, StopInstance of the running instance and StartInstance of the
// stopped one; and it changes nothing.
func dryRunAnswers(t TB, _ Harness, e Env) {
	st, run := e.IDs.Stopped, e.IDs.Running
	ctx, region := ctxOf(t), e.IDs.Region
	if pairs := st.Pairs(); len(pairs) > 0 {
		_, err := e.ECS.ResetDisks(ctx, function.ResetDisksInput{RegionID: region, DryRun: true, Disks: pairs})
		wantCode(t, "dry-run ResetDisks", err, codeDryRun)
		_, err = e.ECS.ResetDisk(ctx, function.ResetDiskInput{RegionID: region, DiskID: pairs[0].DiskID, SnapshotID: pairs[0].SnapshotID, DryRun: true})
		wantCode(t, "dry-run ResetDisk", err, codeDryRun)
		err = e.ECS.StartInstance(ctx, region, st.ID, true)
		wantCode(t, "dry-run StartInstance of a Stopped instance", err, codeDryRun)
		disks, err := e.ECS.DescribeDisks(ctx, region, st.Disks)
		for _, d := range disks {
			if d.Status != function.DiskStatusInUse {
				t.Errorf("after dry runs: got disk %s %s, want In_use", d.DiskID, d.Status)
			}
		}
		if err != nil {
			t.Errorf("DescribeDisks: %v", err)
		}
		if s := instanceStatus(t, e, st.ID); s != function.InstanceStatusStopped {
			t.Errorf("after a dry-run start: got %s, want Stopped", s)
		}
	}
	if run.ID != "" {
		err := e.ECS.StopInstance(ctx, function.StopInstanceInput{RegionID: region, InstanceID: run.ID, StoppedMode: function.StoppedModeKeepCharging, DryRun: true})
		wantCode(t, "dry-run StopInstance of a Running instance", err, codeDryRun)
		if s := instanceStatus(t, e, run.ID); s != function.InstanceStatusRunning {
			t.Errorf("after a dry-run stop: got %s, want Running", s)
		}
	}
	need(t, st.ID != "" || run.ID != "", "instance")
}

// dryRunRefusals: a dry run that would fail answers the refusal itself:
// StopInstance of a Stopped instance and StartInstance or a disk reset of a
// Running one give IncorrectInstanceStatus; resetting a disk to a snapshot
// of another disk gives InvalidParameter.Mismatch.
func dryRunRefusals(t TB, _ Harness, e Env) {
	st, run := e.IDs.Stopped, e.IDs.Running
	ctx, region := ctxOf(t), e.IDs.Region
	if st.ID != "" {
		err := e.ECS.StopInstance(ctx, function.StopInstanceInput{RegionID: region, InstanceID: st.ID, DryRun: true})
		wantCode(t, "dry-run StopInstance of a Stopped instance", err, codeIncorrectInstance)
	}
	if run.ID != "" {
		err := e.ECS.StartInstance(ctx, region, run.ID, true)
		wantCode(t, "dry-run StartInstance of a Running instance", err, codeIncorrectInstance)
		if pairs := run.Pairs(); len(pairs) > 0 {
			_, err := e.ECS.ResetDisks(ctx, function.ResetDisksInput{RegionID: region, DryRun: true, Disks: pairs})
			wantCode(t, "dry-run ResetDisks on a Running instance", err, codeIncorrectInstance)
		}
	}
	if len(st.Disks) > 0 && e.IDs.ForeignSnapshot != "" {
		_, err := e.ECS.ResetDisk(ctx, function.ResetDiskInput{RegionID: region, DiskID: st.Disks[0], SnapshotID: e.IDs.ForeignSnapshot, DryRun: true})
		wantCode(t, "dry-run ResetDisk to another disk's snapshot", err, codeMismatch)
	}
	need(t, st.ID != "" || run.ID != "", "instance")
}

// errorsCredentials: a call with a wrong secret is an *APIError and one to
// an endpoint that does not answer a *TransportError; neither error's text
// holds the secret or the token.
func errorsCredentials(t TB, _ Harness, e Env) {
	need(t, e.BadCredentials != nil || e.Unreachable != nil, "bad-credentials or unreachable ECS")
	disk, _ := someDisk(e.IDs)
	ids := []string{cmp.Or(disk, e.IDs.MissingDisk)}
	check := func(name string, ecs function.ECS, want any) {
		if ecs == nil {
			return
		}
		_, err := ecs.DescribeDisks(ctxOf(t), e.IDs.Region, ids)
		var ae *function.APIError
		var te *function.TransportError
		switch want.(type) {
		case *function.APIError:
			if !errors.As(err, &ae) {
				t.Errorf("%s: got %T %v, want *function.APIError", name, err, err)
			}
		case *function.TransportError:
			if !errors.As(err, &te) {
				t.Errorf("%s: got %T %v, want *function.TransportError", name, err, err)
			}
		}
		t.Logf("%s: %v", name, err)
		guard{t: t, secrets: e.Secrets}.check(name, err)
	}
	check("wrong secret", e.BadCredentials, (*function.APIError)(nil))
	check("unreachable endpoint", e.Unreachable, (*function.TransportError)(nil))
}
