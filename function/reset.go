package function

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
)

// Reset concurrency: ResetDisks batches run at most resetConcurrency at
// once (each takes ten disks, so 30 disks are in flight); ResetDisk calls of
// one batch run one after the other, so the fallback path has at most
// resetConcurrency calls in flight too (ResetDisk allows 500 calls a minute).
const resetConcurrency = 3

// resetDisksUnavailable are the ResetDisks refusals that, with ResetMode
// auto, make the function fall back to one ResetDisk call per disk:
//   - InvalidAction.NotFound, InvalidApi.NotFound: the API is gone
//     (ResetDisks is deprecated in favour of ResetDisk);
//   - UnsupportedOperation: the region or account does not offer it;
//   - OperationDenied: ECS documents it for ResetDisks as "the snapshot does
//     not support ResetDisk(s)"; the per-disk call is tried before giving up;
//   - Forbidden.RAM: the role may call ecs:ResetDisk but not ecs:ResetDisks.
//
// A refusal is an answer, so nothing was reset and resending is safe. Any
// other refusal (a bad disk, throttling, ...) is reported as it is.
var resetDisksUnavailable = []string{"InvalidAction.NotFound", "InvalidApi.NotFound", "UnsupportedOperation", "OperationDenied", "Forbidden.RAM"}

// resetMode is the request's ResetMode, else RESET_MODE, else auto.
func (r *run) resetMode() string {
	return firstNonEmpty(r.req.ResetMode, r.h.Config.ResetMode, "auto")
}

// resetResult is the outcome of all the reset calls of a rollback.
type resetResult struct {
	progress   []OperationProgress // one per pair, in the pairs' order
	requestIDs []string            // of every call ECS answered, in order
	calls      int                 // reset calls made
	firstErr   *Error              // the first call refused as a whole
	unknown    []string            // disks whose call got no answer and that were not found reset
	answered   bool                // some disk got its own outcome (not only call refusals)
	notSent    bool                // some disks were not sent: the deadline came first
	masked     []DiskPair          // dry run only: passed on IncorrectInstanceStatus, so the checks after it did not run
	batchAPI   bool                // ResetDisks was accepted for some batch
	diskAPI    bool                // ResetDisk was used for some disk
}

// batchOutcome is one batch's share of a resetResult.
type batchOutcome struct {
	resetResult
	steps []Step
}

// resetPairs resets pairs in batches of ResetDisksBatchSize, at most
// resetConcurrency batches at once, and merges the outcomes in input order.
// A call that got no answer after it was sent is never resent: the guards'
// resolveUnknown reads back from ECS what happened.
func (r *run) resetPairs(ctx context.Context, pairs []DiskPair, dryRun bool) resetResult {
	mode := r.resetMode()
	var perDisk atomic.Bool
	// A real run goes straight to ResetDisk when its preflight found
	// ResetDisks unavailable.
	perDisk.Store(mode == "always" || (!dryRun && r.plan.ResetAPI == apiResetDisk))
	bs := batches(pairs, ResetDisksBatchSize)
	outs := make([]batchOutcome, len(bs))
	forEach(len(bs), resetConcurrency, func(i int) {
		outs[i] = r.resetBatch(ctx, bs[i], dryRun, mode, &perDisk)
	})
	var res resetResult
	for _, o := range outs {
		r.res.Steps = append(r.res.Steps, o.steps...)
		res.progress = append(res.progress, o.progress...)
		res.requestIDs = append(res.requestIDs, o.requestIDs...)
		res.calls += o.calls
		res.unknown = append(res.unknown, o.unknown...)
		if res.firstErr == nil {
			res.firstErr = o.firstErr
		}
		res.answered = res.answered || o.answered
		res.notSent = res.notSent || o.notSent
		res.masked = append(res.masked, o.masked...)
		res.batchAPI = res.batchAPI || o.batchAPI
		res.diskAPI = res.diskAPI || o.diskAPI
	}
	switch {
	case res.diskAPI && res.batchAPI:
		r.plan.ResetAPI = apiResetDisks + "," + apiResetDisk
	case res.diskAPI:
		r.plan.ResetAPI = apiResetDisk
	}
	return res
}

// forEach calls fn(0..n-1), at most limit at once, starting them in order.
func forEach(n, limit int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}

// resetBatch resets one batch: ResetDisks, or ResetDisk per disk when the
// mode says so or ResetDisks turned out to be unavailable.
func (r *run) resetBatch(ctx context.Context, batch []DiskPair, dryRun bool, mode string, perDisk *atomic.Bool) (o batchOutcome) {
	if ctx.Err() != nil {
		return r.notSent(batch)
	}
	if !perDisk.Load() {
		o.calls++
		start := r.h.now()
		out, err := r.ecs.ResetDisks(ctx, ResetDisksInput{RegionID: r.req.RegionId, DryRun: dryRun, Disks: batch})
		step := Step{Name: apiResetDisks, Target: joinDiskIDs(batch), DurationMs: r.h.since(start)}
		var ae *APIError
		switch {
		case err == nil:
			step.Outcome, step.RequestId = StatusSucceeded, out.RequestId
			o.steps = append(o.steps, step)
			o.requestIDs = append(o.requestIDs, out.RequestId)
			o.progress = alignProgress(batch, out.OperationProgressSet.OperationProgress, OperationStatusUnknown, codeOutcomeUnknown, "ECS accepted the call but its answer did not mention this disk: whether it was reset is unknown")
			o.answered, o.batchAPI = true, true
			return o
		case dryRun && r.dryRunPassed(err, batch, &step):
			if step.Code == codeIncorrectInstanceStatus {
				o.masked = append(o.masked, batch...)
			}
			o.steps = append(o.steps, step)
			o.requestIDs = append(o.requestIDs, step.RequestId)
			o.progress = dryRunProgress(batch)
			o.answered, o.batchAPI = true, true
			return o
		case !dryRun && actedMaybe(err):
			fe := FromECS(apiResetDisks, err)
			step.Outcome, step.Code, step.RequestId = StatusFailed, fe.Code, fe.RequestID
			step.Message = "ECS may have acted (" + fe.Message + "): not resent; the outcome is read back from ECS"
			o.steps = append(o.steps, step)
			o.progress, o.steps = r.unknownOutcome(batch, o.steps)
			o.unknown = append(o.unknown, unresolved(batch, o.progress)...)
			o.answered = true
			return o
		}
		fe := FromECS(apiResetDisks, err)
		step.Outcome, step.Code, step.Message, step.RequestId = StatusFailed, fe.Code, fe.Message, fe.RequestID
		if mode != "auto" || !errors.As(err, &ae) || !slices.Contains(resetDisksUnavailable, ae.Code) {
			o.steps = append(o.steps, step)
			o.firstErr = fe
			o.progress = failedProgress(batch, fe)
			return o
		}
		step.Message += "; falling back to ResetDisk for each disk"
		o.steps = append(o.steps, step)
		perDisk.Store(true)
	}
	for i, p := range batch {
		if ctx.Err() != nil {
			n := r.notSent(batch[i:])
			o.progress = append(o.progress, n.progress...)
			o.steps = append(o.steps, n.steps...)
			o.notSent = true
			return o
		}
		o.calls++
		o.diskAPI = true
		start := r.h.now()
		id, err := r.ecs.ResetDisk(ctx, ResetDiskInput{RegionID: r.req.RegionId, DiskID: p.DiskId, SnapshotID: p.SnapshotId, DryRun: dryRun})
		step := Step{Name: apiResetDisk, Target: p.DiskId, DurationMs: r.h.since(start)}
		switch {
		case err == nil:
			step.Outcome, step.RequestId = StatusSucceeded, id
			o.requestIDs = append(o.requestIDs, id)
			o.progress = append(o.progress, progressFor(p, OperationStatusSuccess, "", ""))
			o.answered = true
		case dryRun && r.dryRunPassed(err, []DiskPair{p}, &step):
			if step.Code == codeIncorrectInstanceStatus {
				o.masked = append(o.masked, p)
			}
			o.requestIDs = append(o.requestIDs, step.RequestId)
			o.progress = append(o.progress, progressFor(p, OperationStatusSuccess, "", ""))
			o.answered = true
		case !dryRun && actedMaybe(err):
			fe := FromECS(apiResetDisk, err)
			step.Outcome, step.Code, step.RequestId = StatusFailed, fe.Code, fe.RequestID
			step.Message = "ECS may have acted (" + fe.Message + "): not resent; the outcome is read back from ECS"
			o.steps = append(o.steps, step)
			var prog []OperationProgress
			prog, o.steps = r.unknownOutcome([]DiskPair{p}, o.steps)
			o.progress = append(o.progress, prog...)
			o.unknown = append(o.unknown, unresolved([]DiskPair{p}, prog)...)
			o.answered = true
			continue
		default:
			fe := FromECS(apiResetDisk, err)
			step.Outcome, step.Code, step.Message, step.RequestId = StatusFailed, fe.Code, fe.Message, fe.RequestID
			if fe.RequestID != "" {
				o.requestIDs = append(o.requestIDs, fe.RequestID)
			}
			o.progress = append(o.progress, progressFor(p, StatusFailed, fe.Code, fe.Message))
			if o.firstErr == nil {
				o.firstErr = fe
			}
			if len(batch) > 1 {
				o.answered = true // per-disk refusals are per-disk outcomes
			}
		}
		o.steps = append(o.steps, step)
	}
	return o
}

// codeIncorrectInstanceStatus: the instance is not Stopped.
const codeIncorrectInstanceStatus = "IncorrectInstanceStatus"

// codeDiskResetInProgress: the disk is being reset (ResetDisk error table, 403).
const codeDiskResetInProgress = "InvalidOperation.DiskResetInProgress"

// dryRunPassed reports whether a dry-run reset's answer means the reset
// would go ahead, and fills step: DryRunOperation; IncorrectInstanceStatus
// for a disk whose Running instance the plan stops first; a reset already
// in progress (an earlier attempt of this rollback; the claim tells whose).
func (r *run) dryRunPassed(err error, batch []DiskPair, step *Step) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	step.Outcome, step.RequestId = StatusDryRunPassed, ae.RequestID
	switch {
	case ae.Code == codeDryRunOperation:
		return true
	case ae.Code == codeIncorrectInstanceStatus && r.stopsInstanceOf(batch):
		step.Code = ae.Code
		step.Message = "expected: the instance is not Stopped yet and will be before the reset; the pairs are checked with DescribeDisks and DescribeSnapshots instead"
		return true
	case ae.Code == codeDiskResetInProgress:
		step.Code = ae.Code
		step.Message = "a reset of the disk is in progress; the idempotency claim decides whether it is this rollback's"
		return true
	}
	step.Outcome, step.RequestId = "", ""
	return false
}

// stopsInstanceOf reports whether the instance of a disk of batch will be
// Stopped before the reset: the plan stops it, or waits for it (owned, or
// found Stopping).
func (r *run) stopsInstanceOf(batch []DiskPair) bool {
	for _, p := range batch {
		inst := r.diskInstance[p.DiskId]
		if inst != "" && (slices.Contains(r.plan.InstancesToStop, inst) || slices.Contains(r.owned, inst) || slices.Contains(r.awaitStopped, inst)) {
			return true
		}
	}
	return false
}

// notSent reports pairs left unsent because the deadline came.
func (r *run) notSent(batch []DiskPair) (o batchOutcome) {
	fe := &Error{Code: ErrDeadlineExceeded, Message: "not sent: the invocation deadline came first"}
	o.progress = failedProgress(batch, fe)
	o.steps = []Step{{Name: "Reset", Target: joinDiskIDs(batch), Outcome: stepSkipped, Code: fe.Code, Message: fe.Message}}
	o.notSent = true
	return o
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
	got := r.h.resolveUnknown(ctx, r.ecs, r.req.RegionId, batch)
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
			if prog[i].OperationStatus == OperationStatusUnknown && busy[p.DiskId] {
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

// alignProgress returns one entry per pair: got itself when it has one
// entry per pair (ECS answers in input order), else got matched by DiskId,
// with a failed entry (code, msg) for a pair it does not mention.
//
// Some answers name only the SnapshotId in RelatedItemSet (the API
// reference's own example): such an entry is matched by SnapshotId, and
// gets the DiskId item it lacks, so every entry of a Result names its disk.
func alignProgress(batch []DiskPair, got []OperationProgress, status, code, msg string) []OperationProgress {
	out := make([]OperationProgress, len(batch))
	if len(got) == len(batch) {
		copy(out, got)
	} else {
		byDisk := make(map[string]OperationProgress, len(got))
		bySnap := make(map[string]OperationProgress, len(got))
		for _, p := range got {
			if d := p.Item("DiskId"); d != "" {
				byDisk[d] = p
			} else {
				bySnap[p.Item("SnapshotId")] = p
			}
		}
		for i, p := range batch {
			if op, ok := byDisk[p.DiskId]; ok {
				out[i] = op
			} else if op, ok := bySnap[p.SnapshotId]; ok {
				out[i] = op
			} else {
				out[i] = progressFor(p, status, code, msg)
			}
		}
	}
	for i, p := range batch {
		if out[i].Item("DiskId") == "" {
			items := append([]RelatedItem{{Name: "DiskId", Value: p.DiskId}}, out[i].RelatedItemSet.RelatedItem...)
			out[i].RelatedItemSet = RelatedItemSet{RelatedItem: items}
		}
	}
	return out
}

// unresolved lists the disks of batch whose outcome is unknown.
func unresolved(batch []DiskPair, prog []OperationProgress) []string {
	var out []string
	for i, p := range batch {
		if prog[i].OperationStatus == OperationStatusUnknown {
			out = append(out, p.DiskId)
		}
	}
	return out
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
		status[d.DiskId] = d.Status
	}
	for i, p := range batch {
		st, found := status[p.DiskId]
		switch {
		case err == nil && st == DiskStatusReIniting:
			out[i] = progressFor(p, OperationStatusSuccess, "", "")
			h.guardLog(ctx, slog.LevelInfo, "unanswered reset confirmed: the disk is ReIniting", slog.String("diskId", p.DiskId))
			continue
		case err != nil:
			out[i] = progressFor(p, OperationStatusUnknown, codeOutcomeUnknown, fmt.Sprintf(
				"the reset call may have acted (no answer, or a 5xx answer) and DescribeDisks failed too (%s): whether disk %s was reset to %s is unknown; check the disk's status and events before retrying",
				FromECS("DescribeDisks", err).Message, p.DiskId, p.SnapshotId))
		case !found:
			out[i] = progressFor(p, OperationStatusUnknown, codeOutcomeUnknown, fmt.Sprintf(
				"the reset call may have acted (no answer, or a 5xx answer) and DescribeDisks does not list disk %s: whether it was reset to %s is unknown; check the disk before retrying", p.DiskId, p.SnapshotId))
		default:
			out[i] = progressFor(p, OperationStatusUnknown, codeOutcomeUnknown, fmt.Sprintf(
				"the reset call may have acted (no answer, or a 5xx answer) and disk %s is %s, not ReIniting: whether it was reset to %s is unknown (it may not have been, or the reset already finished); check the disk's status and events before retrying",
				p.DiskId, st, p.SnapshotId))
		}
		h.guardLog(ctx, slog.LevelWarn, "unanswered reset: outcome unknown", slog.String("diskId", p.DiskId), slog.String("status", st))
	}
	return out
}
