package ecstest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// notFoundResetDisks: ResetDisks of a missing disk is refused with
// InvalidDiskId.NotFound: as an *APIError, or (where ECS answers per disk)
// as the one OperationProgress entry, Failed with that code.
func notFoundResetDisks(t TB, _ Harness, e Env) {
	_, in := someDisk(e.IDs)
	need(t, e.IDs.MissingDisk != "" && len(in.Snapshots) > 0, "missing disk id and a snapshot")
	pairs := []function.DiskPair{{DiskID: e.IDs.MissingDisk, SnapshotID: in.Snapshots[0]}}
	out, err := e.ECS.ResetDisks(ctxOf(t), function.ResetDisksInput{RegionID: e.IDs.Region, Disks: pairs})
	if err != nil {
		wantCode(t, "ResetDisks of a missing disk", err, codeDiskNotFound)
		return
	}
	ops := out.OperationProgressSet.OperationProgress
	if len(ops) != 1 || ops[0].OperationStatus == function.OperationStatusSuccess || ops[0].ErrorCode != codeDiskNotFound {
		t.Errorf("ResetDisks of a missing disk: got %+v, want *APIError %s or one Failed entry with it", ops, codeDiskNotFound)
	}
}

// checkProgress states the shape of a ResetDisks answer: one entry per
// pair, in input order, each naming its snapshot (and its disk, if it names
// one).
func checkProgress(t TB, out *function.ResetDisksOutput, pairs []function.DiskPair) []function.OperationProgress {
	t.Helper()
	ops := out.OperationProgressSet.OperationProgress
	if len(ops) != len(pairs) {
		t.Fatalf("ResetDisks: got %d OperationProgress entries, want one per pair (%d): %+v", len(ops), len(pairs), ops)
	}
	if out.RequestID == "" {
		t.Errorf("ResetDisks: got no RequestId")
	}
	for i, op := range ops {
		if s := op.Item("SnapshotId"); s != pairs[i].SnapshotID {
			t.Errorf("entry %d: got SnapshotId %q, want %q (entries in input order)", i, s, pairs[i].SnapshotID)
		}
		if d := op.Item("DiskId"); d != "" && d != pairs[i].DiskID {
			t.Errorf("entry %d: got DiskId %q, want %q", i, d, pairs[i].DiskID)
		}
		t.Logf("entry %d: %s %s %v", i, op.OperationStatus, op.ErrorCode, op.RelatedItemSet.RelatedItem)
	}
	return ops
}

// resetResults: ResetDisks of the stopped instance's disks answers one
// Success entry per pair, in order, naming the snapshot (and the disk, if
// any); then the reset settles.
func resetResults(t TB, h Harness, e Env) {
	pairs := e.IDs.Stopped.Pairs()
	need(t, len(pairs) > 1, "stopped instance with two disks and snapshots")
	out, err := e.ECS.ResetDisks(ctxOf(t), function.ResetDisksInput{RegionID: e.IDs.Region, Disks: pairs})
	if err != nil {
		t.Fatalf("ResetDisks: %v", err)
	}
	for i, op := range checkProgress(t, out, pairs) {
		if op.OperationStatus != function.OperationStatusSuccess || op.ErrorCode != "" {
			t.Errorf("entry %d: got %s %s, want Success and no ErrorCode", i, op.OperationStatus, op.ErrorCode)
		}
	}
	waitResetDone(t, h, e, pairs)
}

// resetPartial: ResetDisks with one good pair and one bad one (a snapshot
// of another disk) either fails as a whole with the bad pair's code, or
// answers one entry per pair: the good one Success, the bad one carrying
// InvalidParameter.Mismatch.
func resetPartial(t TB, h Harness, e Env) {
	pairs := e.IDs.Stopped.Pairs()
	need(t, len(pairs) > 1 && e.IDs.ForeignSnapshot != "", "stopped instance with two disks and a foreign snapshot")
	pairs = []function.DiskPair{pairs[0], {DiskID: pairs[1].DiskID, SnapshotID: e.IDs.ForeignSnapshot}}
	out, err := e.ECS.ResetDisks(ctxOf(t), function.ResetDisksInput{RegionID: e.IDs.Region, Disks: pairs})
	if err != nil {
		wantCode(t, "ResetDisks with a bad pair", err, codeMismatch)
		return
	}
	ops := checkProgress(t, out, pairs)
	if ops[0].OperationStatus != function.OperationStatusSuccess || ops[1].OperationStatus == function.OperationStatusSuccess || ops[1].ErrorCode != codeMismatch {
		t.Errorf("ResetDisks with a bad pair: got %+v, want Success then a failure with %s", ops, codeMismatch)
	}
	waitResetDone(t, h, e, pairs[:1])
}

// resetSettles: while a ResetDisk runs, a dry-run reset of the disk answers
// InvalidOperation.DiskResetInProgress (whatever DescribeDisks shows); the
// disk is eventually not ReIniting and the dry-run reset answers
// DryRunOperation again, the disk back In_use.
func resetSettles(t TB, h Harness, e Env) {
	pairs := e.IDs.Stopped.Pairs()
	need(t, len(pairs) > 0, "stopped instance with a disk and snapshot")
	p := pairs[0]
	ctx, region := ctxOf(t), e.IDs.Region
	sent := time.Now()
	id, err := e.ECS.ResetDisk(ctx, function.ResetDiskInput{RegionID: region, DiskID: p.DiskID, SnapshotID: p.SnapshotID})
	if err != nil || id == "" {
		t.Fatalf("ResetDisk: got RequestId %q, %v; want a RequestId", id, err)
	}
	_, err = e.ECS.ResetDisk(ctx, function.ResetDiskInput{RegionID: region, DiskID: p.DiskID, SnapshotID: p.SnapshotID, DryRun: true})
	if within(h, sent) {
		wantCode(t, "dry-run ResetDisk while the reset runs", err, codeResetInProgress)
	} else {
		t.Logf("dry-run ResetDisk right after the reset: %v", err)
	}
	waitResetDone(t, h, e, pairs[:1])
	disks, err := e.ECS.DescribeDisks(ctx, region, []string{p.DiskID})
	if err != nil || len(disks) != 1 || disks[0].Status != function.DiskStatusInUse {
		t.Errorf("after the reset: got %+v, %v; want the disk In_use", disks, err)
	}
}

// tagsRoundTrip: tags set with TagResources are listed by ListTagResources
// (ResourceId and ResourceType "disk" filled in); setting a key again
// overwrites its value and keeps the others.
func tagsRoundTrip(t TB, _ Harness, e Env) {
	disk, _ := someDisk(e.IDs)
	need(t, disk != "", "disk")
	ka, kb := tagPrefix+"a", tagPrefix+"b"
	steps := []struct {
		set  map[string]string
		want map[string]string
	}{
		{map[string]string{ka: "1", kb: "1"}, map[string]string{ka: "1", kb: "1"}},
		{map[string]string{ka: "2"}, map[string]string{ka: "2", kb: "1"}},
	}
	for i, s := range steps {
		if err := e.ECS.TagResources(ctxOf(t), e.IDs.Region, resourceTypeDisk, []string{disk}, s.set); err != nil {
			t.Fatalf("step %d: TagResources: %v", i, err)
		}
		got := tagsOf(t, e, disk)
		for k, v := range s.want {
			if got[k] != v {
				t.Errorf("step %d: got %s=%q, want %q (all: %v)", i, k, got[k], v, got)
			}
		}
	}
}

// tagsInstancesByTag: DescribeInstancesByTag lists exactly the instances
// carrying key=value (the fleet's selector): one tagged here is listed, with
// its status; a value nobody carries lists none.
func tagsInstancesByTag(t TB, _ Harness, e Env) {
	inst := e.IDs.Stopped.ID
	need(t, inst != "", "instance")
	key := tagPrefix + "fleet"
	if err := e.ECS.TagResources(ctxOf(t), e.IDs.Region, "instance", []string{inst}, map[string]string{key: "contract"}); err != nil {
		t.Fatalf("TagResources: %v", err)
	}
	got, err := e.ECS.DescribeInstancesByTag(ctxOf(t), e.IDs.Region, key, "contract")
	if err != nil {
		t.Fatalf("DescribeInstancesByTag: %v", err)
	}
	if len(got) != 1 || got[0].InstanceID != inst || got[0].Status == "" {
		t.Errorf("DescribeInstancesByTag: got %+v, want %s alone, with its status", got, inst)
	}
	none, err := e.ECS.DescribeInstancesByTag(ctxOf(t), e.IDs.Region, key, "nobody")
	if err != nil || len(none) != 0 {
		t.Errorf("DescribeInstancesByTag of a value nobody carries: got %+v, %v; want none", none, err)
	}
}

// tagsQuota: a disk holds at most 20 tags: once it has 20, TagResources of
// a new key is refused with OperationDenied.QuotaExceed (an existing key
// may still be overwritten).
func tagsQuota(t TB, h Harness, e Env) {
	disk, _ := someDisk(e.IDs)
	need(t, disk != "", "disk")
	if !h.Caps.TagQuota {
		t.Skipf("the harness does not allow filling a disk to the tag quota")
	}
	have := tagsOf(t, e, disk)
	fill := map[string]string{}
	for i := 0; len(have)+len(fill) < maxTagsPerResource; i++ {
		if k := fmt.Sprintf("%sq%02d", tagPrefix, i); have[k] == "" {
			fill[k] = "1"
		}
	}
	if len(fill) > 0 {
		if err := e.ECS.TagResources(ctxOf(t), e.IDs.Region, resourceTypeDisk, []string{disk}, fill); err != nil {
			t.Fatalf("TagResources up to the quota (%d new): %v", len(fill), err)
		}
	}
	err := e.ECS.TagResources(ctxOf(t), e.IDs.Region, resourceTypeDisk, []string{disk}, map[string]string{tagPrefix + "over": "1"})
	wantCode(t, "TagResources of a 21st tag", err, codeTagQuota)
	k := slices.Min(slices.Collect(maps.Keys(tagsOf(t, e, disk))))
	if err := e.ECS.TagResources(ctxOf(t), e.IDs.Region, resourceTypeDisk, []string{disk}, map[string]string{k: "again"}); err != nil {
		t.Errorf("TagResources overwriting %s at the quota: got %v, want no error", k, err)
	}
}

// snapshotClientToken: CreateSnapshot sent twice with one ClientToken
// returns the same snapshot ID and makes one snapshot, taken from the disk.
func snapshotClientToken(t TB, h Harness, e Env) {
	disk, _ := someDisk(e.IDs)
	need(t, disk != "", "disk")
	token := runToken()
	in := function.CreateSnapshotInput{RegionID: e.IDs.Region, DiskID: disk, SnapshotName: token, ClientToken: token,
		Description: "ecs-disk-rollback contract check", Tags: map[string]string{tagPrefix + "snapshot": "1"}}
	first, err := e.ECS.CreateSnapshot(ctxOf(t), in)
	if err != nil || first == "" {
		t.Fatalf("CreateSnapshot: got %q, %v", first, err)
	}
	again, err := e.ECS.CreateSnapshot(ctxOf(t), in)
	if err != nil || again != first {
		t.Errorf("CreateSnapshot again with ClientToken %s: got %q, %v; want %q", token, again, err, first)
	}
	snaps, err := e.ECS.DescribeSnapshots(ctxOf(t), e.IDs.Region, []string{first})
	if err != nil || len(snaps) != 1 || snaps[0].SourceDiskID != disk {
		t.Fatalf("DescribeSnapshots(%s): got %+v, %v; want one snapshot of %s", first, snaps, err, disk)
	}
	t.Logf("snapshot %s: %s %s", first, snaps[0].Status, snaps[0].Progress)
	waitSnapshots(t, h, e, []string{first})
}

// instanceLifecycle: StopInstance takes a Running instance through
// Stopping to Stopped; its disks can then be reset (to snapshots made now
// if the fixture names none) and the reset settles; StartInstance takes it
// through Starting back to Running.
func instanceLifecycle(t TB, h Harness, e Env) {
	in := e.IDs.Running
	need(t, in.ID != "" && len(in.Disks) > 0, "running instance with disks")
	ctx, region := ctxOf(t), e.IDs.Region
	sent := time.Now()
	err := e.ECS.StopInstance(ctx, function.StopInstanceInput{RegionID: region, InstanceID: in.ID, StoppedMode: function.StoppedModeKeepCharging})
	if err != nil {
		t.Fatalf("StopInstance: %v", err)
	}
	waitInstance(t, h, e, in.ID, sent, function.InstanceStatusStopping, function.InstanceStatusStopped)
	if len(in.Snapshots) < len(in.Disks) {
		in.Snapshots = nil
		for i, d := range in.Disks {
			tok := fmt.Sprintf("%s-%d", runToken(), i)
			id, err := e.ECS.CreateSnapshot(ctx, function.CreateSnapshotInput{RegionID: region, DiskID: d, SnapshotName: tok, ClientToken: tok})
			if err != nil {
				t.Fatalf("CreateSnapshot(%s): %v", d, err)
			}
			in.Snapshots = append(in.Snapshots, id)
		}
		waitSnapshots(t, h, e, in.Snapshots)
	}
	pairs := in.Pairs()
	out, err := e.ECS.ResetDisks(ctx, function.ResetDisksInput{RegionID: region, Disks: pairs})
	if err != nil {
		t.Fatalf("ResetDisks: %v", err)
	}
	checkProgress(t, out, pairs)
	waitResetDone(t, h, e, pairs)
	sent = time.Now()
	if err := e.ECS.StartInstance(ctx, region, in.ID, false); err != nil {
		var ae *function.APIError
		if errors.As(err, &ae) {
			t.Fatalf("StartInstance: %s (HTTP %d)", ae.Code, ae.HTTPStatus)
		}
		t.Fatalf("StartInstance: %v", err)
	}
	waitInstance(t, h, e, in.ID, sent, function.InstanceStatusStarting, function.InstanceStatusRunning)
}
