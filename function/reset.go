package function

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
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
	firstErr   *Error              // the first call refused as a whole
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
		start := r.h.now()
		out, err := r.ecs.ResetDisks(ctx, ResetDisksInput{RegionID: r.req.RegionID, DryRun: dryRun, Disks: batch})
		var answer []OperationProgress
		var id string
		if err == nil {
			answer, id = out.OperationProgressSet.OperationProgress, out.RequestID
		}
		c := r.callOutcome(apiResetDisks, batch, dryRun, start, id, answer, err)
		var ae *APIError
		if c.refusal != nil && mode == "auto" && errors.As(err, &ae) && slices.Contains(resetDisksUnavailable, ae.Code) {
			c.step.Message += "; falling back to ResetDisk for each disk"
			o.steps = append(o.steps, c.step)
			perDisk.Store(true)
		} else {
			o.add(c)
			o.batchAPI = o.batchAPI || c.refusal == nil
			return o
		}
	}
	for i, p := range batch {
		if ctx.Err() != nil {
			n := r.notSent(batch[i:])
			o.progress = append(o.progress, n.progress...)
			o.steps = append(o.steps, n.steps...)
			o.notSent = true
			return o
		}
		o.diskAPI = true
		start := r.h.now()
		id, err := r.ecs.ResetDisk(ctx, ResetDiskInput{RegionID: r.req.RegionID, DiskID: p.DiskID, SnapshotID: p.SnapshotID, DryRun: dryRun})
		c := r.callOutcome(apiResetDisk, []DiskPair{p}, dryRun, start, id, nil, err)
		if c.refusal != nil && len(batch) > 1 {
			c.answered = true // per-disk refusals are per-disk outcomes
		}
		o.add(c)
	}
	return o
}

// resetCall is what one reset call (ResetDisks of a batch, or ResetDisk of
// one pair) came to.
type resetCall struct {
	step      Step
	progress  []OperationProgress // one per pair, in order
	requestID string              // of an answer ECS gave
	refusal   *Error              // the call refused as a whole
	masked    []DiskPair          // dry run passed on IncorrectInstanceStatus
	answered  bool                // the pairs have their own outcomes
	readBack  []Step              // the steps of reading back a call that may have acted
}

// callOutcome maps one reset call's answer to its pairs' outcomes, the same
// way for ResetDisks and ResetDisk: accepted (ECS's per-disk answer, or
// Success for ResetDisk); a dry run that would pass; maybe acted (no
// answer, or a 5xx: read back, never resent); refused as a whole.
func (r *run) callOutcome(name string, pairs []DiskPair, dryRun bool, start time.Time, requestID string, answer []OperationProgress, err error) (c resetCall) {
	c.step = Step{Name: name, Target: joinDiskIDs(pairs), DurationMs: r.h.since(start)}
	switch {
	case err == nil:
		c.step.Outcome, c.step.RequestID, c.requestID = StatusSucceeded, requestID, requestID
		if answer == nil { // ResetDisk answers no per-disk set
			answer = dryRunProgress(pairs)
		}
		c.progress = alignProgress(pairs, answer, OperationStatusUnknown, codeOutcomeUnknown, "ECS accepted the call but its answer did not mention this disk: whether it was reset is unknown")
		c.answered = true
	case dryRun && r.dryRunPassed(err, pairs, &c.step):
		if c.step.Code == codeIncorrectInstanceStatus {
			c.masked = pairs
		}
		c.requestID, c.progress, c.answered = c.step.RequestID, dryRunProgress(pairs), true
	case !dryRun && actedMaybe(err):
		fe := FromECS(name, err)
		c.step.Outcome, c.step.Code, c.step.RequestID = StatusFailed, fe.Code, fe.RequestID
		c.step.Message = "ECS may have acted (" + fe.Message + "): not resent; the outcome is read back from ECS"
		c.progress, c.readBack = r.unknownOutcome(pairs, nil)
		c.answered = true
	default:
		fe := FromECS(name, err)
		c.step.Outcome, c.step.Code, c.step.Message, c.step.RequestID = StatusFailed, fe.Code, fe.Message, fe.RequestID
		c.requestID, c.refusal, c.progress = fe.RequestID, fe, failedProgress(pairs, fe)
	}
	return c
}

// add records a call's outcome in the batch's.
func (o *batchOutcome) add(c resetCall) {
	o.steps = append(o.steps, c.step)
	o.steps = append(o.steps, c.readBack...)
	if c.requestID != "" {
		o.requestIDs = append(o.requestIDs, c.requestID)
	}
	o.progress = append(o.progress, c.progress...)
	o.masked = append(o.masked, c.masked...)
	o.answered = o.answered || c.answered
	if c.refusal != nil && o.firstErr == nil {
		o.firstErr = c.refusal
	}
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
	step.Outcome, step.RequestID = StatusDryRunPassed, ae.RequestID
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
	step.Outcome, step.RequestID = "", ""
	return false
}

// stopsInstanceOf reports whether the instance of a disk of batch will be
// Stopped before the reset: the plan stops it, or waits for it (owned, or
// found Stopping).
func (r *run) stopsInstanceOf(batch []DiskPair) bool {
	for _, p := range batch {
		inst := r.diskInstance[p.DiskID]
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
			if op, ok := byDisk[p.DiskID]; ok {
				out[i] = op
			} else if op, ok := bySnap[p.SnapshotID]; ok {
				out[i] = op
			} else {
				out[i] = progressFor(p, status, code, msg)
			}
		}
	}
	for i, p := range batch {
		if out[i].Item("DiskId") == "" {
			items := append([]RelatedItem{{Name: "DiskId", Value: p.DiskID}}, out[i].RelatedItemSet.RelatedItem...)
			out[i].RelatedItemSet = RelatedItemSet{RelatedItem: items}
		}
	}
	return out
}
