package ecsfake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// snapshotCutoff: older snapshots cannot be reset to (InvalidSnapshot.TooOld).
var snapshotCutoff = time.Date(2013, 7, 15, 0, 0, 0, 0, time.UTC)

// checkReset runs the emulator's per-disk checks in its order; claimed
// holds the disks already passed in this call. Caller holds f.mu.
func (f *Fake) checkReset(region string, p function.DiskPair, now time.Time, claimed map[string]bool) string {
	d := f.disk(region, p.DiskID, now, true)
	if d == nil {
		return ecsemu.CodeInvalidDiskIDNotFound
	}
	s := f.snapshot(region, p.SnapshotID, now, false)
	switch {
	case s == nil:
		return ecsemu.CodeInvalidSnapshotIDNotFound
	case s.SourceDiskID != p.DiskID:
		return ecsemu.CodeInvalidParameterMismatch
	case strings.HasPrefix(d.Category, "local_") || strings.HasPrefix(d.Category, "ephemeral"):
		return ecsemu.CodeDiskCategoryNotSupported
	case d.MultiAttach:
		return ecsemu.CodeMultiAttachDisk
	}
	if in := f.instance(region, d.InstanceID, now, false); in != nil {
		if code := lockCode(in); code != "" {
			return code
		}
		if in.Status != ecsemu.InstanceStopped {
			return ecsemu.CodeIncorrectInstanceStatus
		}
	}
	switch {
	case d.tr.active:
		return ecsemu.CodeDiskResetInProgress
	case d.Status != ecsemu.DiskInUse && d.Status != ecsemu.DiskAvailable || claimed[p.DiskID]:
		return ecsemu.CodeIncorrectDiskStatus
	case f.unfinished(region, p.DiskID, p.SnapshotID, now):
		return ecsemu.CodeHasUnfinishedSnapshot
	case !usable(s):
		return ecsemu.CodeInvalidSnapshotIDNotReady
	case s.CreationTime.Before(snapshotCutoff):
		return ecsemu.CodeInvalidSnapshotTooOld
	}
	return ""
}

func lockCode(in *instance) string {
	switch {
	case strings.EqualFold(in.LockReason, "security"):
		return ecsemu.CodeInstanceLockedForSecurity
	case in.Expired || strings.EqualFold(in.LockReason, "financial"):
		return ecsemu.CodeInstanceExpiredOrInArrears
	}
	return ""
}

// unfinished reports another progressing snapshot of disk that is not part
// of an instance snapshot. Caller holds f.mu.
func (f *Fake) unfinished(region, diskID, except string, now time.Time) bool {
	for _, id := range f.snapOrder {
		if id == except || f.inGroup[id] || f.snaps[id].SourceDiskID != diskID {
			continue
		}
		if s := f.snapshot(region, id, now, false); s != nil && s.Status == ecsemu.SnapshotProgressing {
			return true
		}
	}
	return false
}

// applyReset starts a reset: ReIniting for ResetDuration. Caller holds f.mu.
func (f *Fake) applyReset(p function.DiskPair, now time.Time) {
	d := f.disks[p.DiskID]
	f.start(&d.tr, d.Status, f.opts.ResetDuration, now)
	d.Status = ecsemu.DiskReIniting
	f.resets[p.DiskID] = append(f.resets[p.DiskID], p.SnapshotID)
}

// ResetDisks answers as the emulator in mode resetDisksFailure=mixed: a dry
// run gives the first failing disk's error or DryRunOperation; every disk
// failing alike fails the call; otherwise one entry per disk, in order,
// naming the disk and the snapshot.
func (f *Fake) ResetDisks(_ context.Context, in function.ResetDisksInput) (*function.ResetDisksOutput, error) {
	var out *function.ResetDisksOutput
	c := Call{Op: "ResetDisks", Region: in.RegionID, DryRun: in.DryRun}
	for _, p := range in.Disks {
		c.IDs = append(c.IDs, p.DiskID)
	}
	err := f.do(c, func(now time.Time) error {
		if len(in.Disks) == 0 {
			return f.apiErr("MissingDisk")
		}
		if len(in.Disks) > 10 {
			return f.apiErr(ecsemu.CodeInvalidParameter)
		}
		claimed := map[string]bool{}
		codes := make([]string, len(in.Disks))
		for i, p := range in.Disks {
			if codes[i] = f.checkReset(in.RegionID, p, now, claimed); codes[i] == "" {
				claimed[p.DiskID] = true
			}
		}
		failed := slices.DeleteFunc(slices.Clone(codes), func(c string) bool { return c == "" })
		switch {
		case in.DryRun && len(failed) > 0:
			return f.apiErr(failed[0])
		case in.DryRun:
			return f.apiErr(ecsemu.CodeDryRunOperation)
		case len(failed) == len(codes) && len(slices.Compact(failed)) == 1:
			return f.apiErr(failed[0])
		}
		out = &function.ResetDisksOutput{RequestID: f.requestID()}
		for i, p := range in.Disks {
			op := function.OperationProgress{OperationStatus: function.OperationStatusSuccess, RelatedItemSet: function.RelatedItemSet{
				RelatedItem: []function.RelatedItem{{Name: "DiskId", Value: p.DiskID}, {Name: "SnapshotId", Value: p.SnapshotID}}}}
			if codes[i] != "" {
				op.OperationStatus, op.ErrorCode, op.ErrorMsg = "Failed", codes[i], codes[i]+" (ecsfake)"
			} else {
				f.applyReset(p, now)
			}
			out.OperationProgressSet.OperationProgress = append(out.OperationProgressSet.OperationProgress, op)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ResetDisk resets one disk; a dry run answers DryRunOperation.
func (f *Fake) ResetDisk(_ context.Context, in function.ResetDiskInput) (string, error) {
	var id string
	err := f.do(Call{Op: "ResetDisk", Region: in.RegionID, IDs: []string{in.DiskID}, DryRun: in.DryRun}, func(now time.Time) error {
		p := function.DiskPair{DiskID: in.DiskID, SnapshotID: in.SnapshotID}
		if code := f.checkReset(in.RegionID, p, now, nil); code != "" {
			return f.apiErr(code)
		}
		if in.DryRun {
			return f.apiErr(ecsemu.CodeDryRunOperation)
		}
		f.applyReset(p, now)
		id = f.requestID()
		return nil
	})
	return id, err
}

// power moves an instance from `from` through `via` to `to`. Caller holds f.mu.
func (f *Fake) power(region, id string, dryRun bool, from, via, to string, d time.Duration, now time.Time) error {
	in := f.instance(region, id, now, false)
	switch {
	case in == nil:
		return f.apiErr(ecsemu.CodeInvalidInstanceIDNotFound)
	case lockCode(in) != "":
		return f.apiErr(lockCode(in))
	case in.Status != from:
		return f.apiErr(ecsemu.CodeIncorrectInstanceStatus)
	case dryRun:
		return f.apiErr(ecsemu.CodeDryRunOperation)
	}
	f.start(&in.tr, to, d, now)
	in.Status = via
	return nil
}

// StopInstance takes a Running instance through Stopping to Stopped.
func (f *Fake) StopInstance(_ context.Context, in function.StopInstanceInput) error {
	return f.do(Call{Op: "StopInstance", Region: in.RegionID, IDs: []string{in.InstanceID}, DryRun: in.DryRun}, func(now time.Time) error {
		if m := in.StoppedMode; m != "" && m != "KeepCharging" && m != "StopCharging" {
			return f.apiErr(ecsemu.CodeInvalidParameter)
		}
		return f.power(in.RegionID, in.InstanceID, in.DryRun, ecsemu.InstanceRunning, ecsemu.InstanceStopping, ecsemu.InstanceStopped, f.opts.StopDuration, now)
	})
}

// StartInstance takes a Stopped instance through Starting to Running.
func (f *Fake) StartInstance(_ context.Context, region, id string, dryRun bool) error {
	return f.do(Call{Op: "StartInstance", Region: region, IDs: []string{id}, DryRun: dryRun}, func(now time.Time) error {
		return f.power(region, id, dryRun, ecsemu.InstanceStopped, ecsemu.InstanceStarting, ecsemu.InstanceRunning, f.opts.StartDuration, now)
	})
}

// CreateSnapshot makes a progressing snapshot that completes after
// SnapshotDuration; a ClientToken seen before returns its snapshot.
func (f *Fake) CreateSnapshot(_ context.Context, in function.CreateSnapshotInput) (string, error) {
	var id string
	err := f.do(Call{Op: "CreateSnapshot", Region: in.RegionID, IDs: []string{in.DiskID}, Tags: maps.Clone(in.Tags)}, func(now time.Time) error {
		if code := checkTags(in.Tags); code != "" {
			return f.apiErr(code)
		}
		if prev, ok := f.tokens[in.ClientToken]; ok && in.ClientToken != "" {
			if f.snaps[prev].SourceDiskID != in.DiskID {
				return f.apiErr(ecsemu.CodeIdempotentParameterMismatch)
			}
			id = prev
			return nil
		}
		d := f.disk(in.RegionID, in.DiskID, now, false)
		switch {
		case d == nil:
			return f.apiErr(ecsemu.CodeInvalidDiskIDNotFound)
		case d.Status != ecsemu.DiskInUse && d.Status != ecsemu.DiskAvailable:
			return f.apiErr(ecsemu.CodeIncorrectDiskStatus)
		case f.unfinished(in.RegionID, in.DiskID, "", now):
			return f.apiErr(ecsemu.CodeCreatingSnapshot)
		}
		f.seq++
		id = fmt.Sprintf("s-fake%016d", f.seq)
		s := &snap{Snapshot: ecsemu.Snapshot{SnapshotID: id, RegionID: in.RegionID, SnapshotName: in.SnapshotName, Description: in.Description,
			SourceDiskID: in.DiskID, SourceDiskType: d.Type, Status: ecsemu.SnapshotProgressing, CreationTime: now.UTC(), Tags: maps.Clone(in.Tags)}}
		f.start(&s.tr, ecsemu.SnapshotAccomplished, f.opts.SnapshotDuration, now)
		f.snaps[id] = s
		f.snapOrder = append(f.snapOrder, id)
		if in.ClientToken != "" {
			f.tokens[in.ClientToken] = id
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}
