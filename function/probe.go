package function

import (
	"context"
	"errors"
	"slices"
)

// Whether a disk's reset has finished is not always visible: no public
// page ties DescribeDisks' ReIniting status to a reset, and a cloud may
// show it late or never (emulator/ecsemu/CONFORMANCE.md, the resetStatus
// modes). ECS does say it when asked to reset a disk whose reset is still
// running: InvalidOperation.DiskResetInProgress (ResetDisk error table). So
// the function asks, with the dry-run form of the reset, which changes
// nothing: a disk is taken as settled only when DescribeDisks shows it out
// of ReIniting AND the dry run does not say a reset is in progress.

// probeResets asks, with dry-run resets of pairs (ResetDisks in batches, or
// ResetDisk per disk when the plan uses it), which disks have a reset in
// progress: inProgress holds the disks ECS said so of (a call refused as a
// whole with DiskResetInProgress counts for every disk of its batch);
// unanswered holds those whose probe got no answer or a 5xx, about which
// nothing can be concluded. Other answers are no evidence either way.
func (r *run) probeResets(ctx context.Context, pairs []DiskPair) (inProgress, unanswered map[string]bool) {
	inProgress, unanswered = map[string]bool{}, map[string]bool{}
	perDisk := r.resetMode() == "always" || (r.plan != nil && r.plan.ResetAPI == apiResetDisk)
	mark := func(batch []DiskPair, err error) {
		var ae *APIError
		var te *TransportError
		set := map[string]bool(nil)
		switch {
		case errors.As(err, &ae) && ae.Code == codeDiskResetInProgress:
			set = inProgress
		case errors.As(err, &te) || actedMaybe(err):
			set = unanswered
		}
		for _, p := range batch {
			if set != nil {
				set[p.DiskId] = true
			}
		}
	}
	if perDisk {
		for _, p := range pairs {
			_, err := r.ecs.ResetDisk(ctx, ResetDiskInput{RegionID: r.req.RegionId, DiskID: p.DiskId, SnapshotID: p.SnapshotId, DryRun: true})
			mark([]DiskPair{p}, err)
		}
		return inProgress, unanswered
	}
	for batch := range slices.Chunk(pairs, ResetDisksBatchSize) {
		out, err := r.ecs.ResetDisks(ctx, ResetDisksInput{RegionID: r.req.RegionId, DryRun: true, Disks: batch})
		mark(batch, err)
		if out != nil {
			for i, op := range out.OperationProgressSet.OperationProgress {
				if op.ErrorCode == codeDiskResetInProgress && i < len(batch) {
					inProgress[batch[i].DiskId] = true
				}
			}
		}
	}
	return inProgress, unanswered
}

// pairsOfDisks returns the planned pairs of ids, in plan order.
func (r *run) pairsOfDisks(ids []string) []DiskPair {
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return pairsIn(r.planPairs(), set)
}
