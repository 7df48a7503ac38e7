package function

// Reading back what a call that may have acted did: a reset, a stop, a
// start answered by no answer or a 5xx is never resent blindly; ECS's state
// says what happened, or the outcome is reported unknown.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
				set[p.DiskID] = true
			}
		}
	}
	if perDisk {
		for _, p := range pairs {
			_, err := r.ecs.ResetDisk(ctx, ResetDiskInput{RegionID: r.req.RegionID, DiskID: p.DiskID, SnapshotID: p.SnapshotID, DryRun: true})
			mark([]DiskPair{p}, err)
		}
		return inProgress, unanswered
	}
	for batch := range slices.Chunk(pairs, ResetDisksBatchSize) {
		out, err := r.ecs.ResetDisks(ctx, ResetDisksInput{RegionID: r.req.RegionID, DryRun: true, Disks: batch})
		mark(batch, err)
		if out != nil {
			for i, op := range out.OperationProgressSet.OperationProgress {
				if op.ErrorCode == codeDiskResetInProgress && i < len(batch) {
					inProgress[batch[i].DiskID] = true
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

// actedMaybe reports whether a mutating call's failure leaves open that ECS
// acted: no answer after the request was sent, or a 5xx answer (a server
// can act and still answer 500). Such a call is never resent blindly.
func actedMaybe(err error) bool {
	var te *TransportError
	var ae *APIError
	return (errors.As(err, &te) && te.Sent) || (errors.As(err, &ae) && ae.HTTPStatus >= 500)
}

// unknownOutcome reads back, without resending, what a reset call that may
// have acted did. It reads on the invocation's context: the work context
// may have ended (that is often why the call got no answer).
func (r *run) unknownOutcome(batch []DiskPair, steps []Step) ([]OperationProgress, []Step) {
	ctx := r.ctx
	start := r.h.now()
	got := r.h.resolveUnknown(ctx, r.ecs, r.req.RegionID, batch)
	prog := alignProgress(batch, got, OperationStatusUnknown, codeOutcomeUnknown, "the reset call may have acted and its outcome could not be read back: check the disk before retrying")
	// Not ReIniting proves nothing (a cloud may never show it): ask ECS
	// whether a reset of the disk is in progress.
	var unsure []DiskPair
	for i, p := range batch {
		if prog[i].OperationStatus == OperationStatusUnknown {
			unsure = append(unsure, p)
		}
	}
	if len(unsure) > 0 {
		busy, _ := r.probeResets(ctx, unsure) // only a "reset in progress" answer is evidence
		for i, p := range batch {
			if prog[i].OperationStatus == OperationStatusUnknown && busy[p.DiskID] {
				prog[i] = progressFor(p, OperationStatusSuccess, "", "")
			}
		}
	}
	reset := 0
	for _, p := range prog {
		if p.OperationStatus == OperationStatusSuccess {
			reset++
		}
	}
	steps = append(steps, Step{Name: "ResolveUnknown", Target: joinDiskIDs(batch), Outcome: StatusSucceeded,
		Message: fmt.Sprintf("%d of %d disks found reset", reset, len(batch)), DurationMs: r.h.since(start)})
	return prog, steps
}

// resolveUnknown decides, from ECS state and without resending anything,
// which disks of a reset call that may have acted were reset: a disk now
// ReIniting was (Success); any other is OperationStatus Unknown with
// ErrorCode OutcomeUnknown (in some clouds a reset never shows ReIniting, so
// its absence proves nothing). One OperationProgress per pair, in order.
func (h *Handler) resolveUnknown(ctx context.Context, ecs ECS, regionID string, batch []DiskPair) []OperationProgress {
	out := make([]OperationProgress, len(batch))
	if len(batch) == 0 {
		return out
	}
	disks, err := ecs.DescribeDisks(ctx, regionID, guardDiskIDs(batch))
	status := map[string]string{}
	for _, d := range disks {
		status[d.DiskID] = d.Status
	}
	for i, p := range batch {
		st, found := status[p.DiskID]
		switch {
		case err == nil && st == DiskStatusReIniting:
			out[i] = progressFor(p, OperationStatusSuccess, "", "")
			h.guardLog(ctx, slog.LevelInfo, "unanswered reset confirmed: the disk is ReIniting", slog.String("diskId", p.DiskID))
			continue
		case err != nil:
			out[i] = progressFor(p, OperationStatusUnknown, codeOutcomeUnknown, fmt.Sprintf(
				"the reset call may have acted (no answer, or a 5xx answer) and DescribeDisks failed too (%s): whether disk %s was reset to %s is unknown; check the disk's status and events before retrying",
				FromECS("DescribeDisks", err).Message, p.DiskID, p.SnapshotID))
		case !found:
			out[i] = progressFor(p, OperationStatusUnknown, codeOutcomeUnknown, fmt.Sprintf(
				"the reset call may have acted (no answer, or a 5xx answer) and DescribeDisks does not list disk %s: whether it was reset to %s is unknown; check the disk before retrying", p.DiskID, p.SnapshotID))
		default:
			out[i] = progressFor(p, OperationStatusUnknown, codeOutcomeUnknown, fmt.Sprintf(
				"the reset call may have acted (no answer, or a 5xx answer) and disk %s is %s, not ReIniting: whether it was reset to %s is unknown (it may not have been, or the reset already finished); check the disk's status and events before retrying",
				p.DiskID, st, p.SnapshotID))
		}
		h.guardLog(ctx, slog.LevelWarn, "unanswered reset: outcome unknown", slog.String("diskId", p.DiskID), slog.String("status", st))
	}
	return out
}
