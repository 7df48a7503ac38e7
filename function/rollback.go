package function

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// codeDryRunOperation is ECS's answer to a dry run that would succeed.
const codeDryRunOperation = "DryRunOperation"

// stepSkipped is the Outcome of a step that was planned but not carried out.
const stepSkipped = "Skipped"

// run is one rollback's working state. Only the goroutine running Rollback
// touches it, except the read-only fields the reset batches read.
type run struct {
	h    *Handler
	ecs  ECS
	inv  Invocation
	req  *Request
	res  *Result
	plan *Plan
	w    *waiter

	diskInstance map[string]string // disk → instance, when instances were looked up
	instStatus   map[string]string // instance → status when planned
	awaitStopped []string          // instances found Stopping: waited for, not started
	stopped      []string          // instances this invocation stopped
}

// Rollback carries out a validated request with one invocation's ECS client.
//
// The plain request (pairs, no options) is one ResetDisks call per batch of
// ten; the result's OperationProgressSet lists every disk in input order.
// The options add phases, in this order, each recorded in Result.Steps:
//
//	resolve   pairs from an instance snapshot; instances of the disks (read only)
//	guards    checkAllowed; claim (not for DryRun)
//	stop      StopInstance KeepCharging, wait until Stopped
//	backup    CreateSnapshot per disk, wait until accomplished
//	reset     ResetDisks batches (3 at once) or ResetDisk per disk
//	release   the guards record which disks were reset
//	wait      DescribeDisks until no disk is ReIniting (Wait or StartInstance)
//	start     StartInstance
//
// With DryRun the mutating calls are made only in their dry-run form
// (ResetDisks/ResetDisk, StopInstance, StartInstance); backups are planned
// only. The ctx deadline is checked before each phase: when it has passed,
// the error is a DeadlineExceeded *Error carrying the Result so far.
func (h *Handler) Rollback(ctx context.Context, ecs ECS, inv Invocation, req *Request) (*Result, error) {
	r := &run{h: h, ecs: ecs, inv: inv, req: req, res: &Result{}, w: waiterFrom(ctx)}
	plan, err := r.resolve(ctx)
	r.res.Plan = plan
	if err != nil {
		return nil, r.fail(err)
	}
	if err := r.checkDeadline(ctx, "the guard checks"); err != nil {
		return nil, err
	}
	if err := h.checkAllowed(ctx, ecs, plan); err != nil {
		return nil, r.fail(err)
	}
	if req.DryRun {
		return r.dryRun(ctx)
	}
	return r.execute(ctx)
}

// execute runs a real (not dry) rollback once the plan has passed checkAllowed.
func (r *run) execute(ctx context.Context) (*Result, error) {
	h, plan, req := r.h, r.plan, r.req
	toReset, dups, err := h.claim(ctx, r.ecs, r.inv, plan)
	if err != nil {
		return nil, r.fail(err)
	}
	accepted := make(map[string]bool, len(toReset))
	for _, p := range toReset {
		accepted[p.DiskId] = false
	}
	released := false
	release := func() {
		if !released {
			released = true
			h.release(ctx, r.ecs, r.inv, plan, accepted)
		}
	}
	defer release()
	key := "idempotency key " + plan.IdempotencyKey
	if plan.IdempotencyKey == "" {
		key = "this FC request id (a retry of the same invocation)"
	}
	for _, d := range dups {
		r.step(Step{Name: "Idempotency", Target: d.DiskId, Outcome: stepSkipped, Message: "already reset for " + key})
	}
	if len(dups) > 0 {
		plan.Batches = planBatches(toReset)
	}
	if len(toReset) == 0 {
		r.res.OperationProgressSet = r.merged(nil, nil, dups)
		r.res.Summary = summarise(r.res.OperationProgressSet, false)
		if len(dups) > 0 {
			r.res.Summary.Status = StatusDuplicate
			r.res.Summary.Message = fmt.Sprintf("all %d disks were already reset for %s: nothing was done again", len(dups), key)
		}
		return h.finish(req, r.res)
	}

	if req.StopInstance {
		if err := r.stopInstances(ctx, r.instancesOf(plan.InstancesToStop, toReset)); err != nil {
			r.restoreStopped(ctx)
			return nil, r.fail(err)
		}
	}
	if req.BackupBeforeReset {
		if err := r.checkDeadline(ctx, "the backups"); err != nil {
			r.restoreStopped(ctx)
			return nil, err
		}
		if err := r.backup(ctx, toReset); err != nil {
			r.restoreStopped(ctx)
			return nil, r.fail(err)
		}
	}
	if err := r.checkDeadline(ctx, "the reset"); err != nil {
		r.restoreStopped(ctx)
		return nil, err
	}

	rr := r.reset(ctx, toReset, false)
	for i, p := range toReset {
		accepted[p.DiskId] = rr.progress[i].OperationStatus == OperationStatusSuccess
	}
	var resetIDs []string // known reset: waited for
	for _, p := range toReset {
		if accepted[p.DiskId] {
			resetIDs = append(resetIDs, p.DiskId)
		}
	}
	for _, id := range rr.unknown {
		accepted[id] = true // maybe reset: the guards must count it as reset
	}
	release()
	r.res.OperationProgressSet = r.merged(toReset, rr.progress, dups)
	r.setRequestIDs(rr.requestIDs)
	if !rr.answered && !rr.notSent && rr.firstErr != nil {
		// Every call was refused: nothing happened, report the refusal itself.
		r.restoreStopped(ctx)
		return nil, r.failReset(rr, toReset, dups)
	}
	r.res.Summary = summarise(r.res.OperationProgressSet, false)
	if rr.notSent || (len(rr.unknown) > 0 && ctx.Err() != nil) {
		// The deadline came mid-reset: what is known travels in the error.
		msg := "the invocation deadline came before every disk was sent for reset"
		if !rr.notSent {
			msg = "the invocation deadline came before ECS answered the reset of: " + strings.Join(rr.unknown, ", ") + "; check those disks before retrying"
		}
		fe := &Error{Code: ErrDeadlineExceeded, Message: msg, RequestID: r.res.RequestId, cause: errDeadline}
		r.res.Summary.Message = fe.Message
		fe.Result = r.res
		return nil, fe
	}

	toStart := r.instancesToStart(toReset)
	var pending []string
	var waitErr error
	if (req.Wait || len(toStart) > 0) && len(resetIDs) > 0 {
		if ctx.Err() != nil {
			pending = resetIDs
			r.step(Step{Name: "WaitDisks", Target: strings.Join(resetIDs, ","), Outcome: stepSkipped, Code: ErrDeadlineExceeded, Message: "the deadline came before the wait"})
		} else {
			r.res.Disks, pending, waitErr = r.waitDisks(ctx, resetIDs)
		}
	}
	var notStarted, startFailed []string
	if len(toStart) > 0 {
		if len(pending) > 0 || waitErr != nil || ctx.Err() != nil {
			notStarted = toStart
			for _, id := range toStart {
				r.step(Step{Name: "StartInstance", Target: id, Outcome: stepSkipped, Message: "not started: its disks were not seen leaving ReIniting"})
			}
		} else {
			startFailed = r.startInstances(ctx, toStart)
		}
	}

	var msgs []string
	switch {
	case waitErr != nil:
		r.res.Summary.Status = StatusInProgress
		msgs = append(msgs, "the resets were accepted but the disks could not be followed: "+waitErr.Error())
	case len(pending) > 0:
		r.res.Summary.Status = StatusInProgress
		msgs = append(msgs, "stopped waiting before the deadline; still ReIniting: "+strings.Join(pending, ", "))
	}
	if len(notStarted) > 0 {
		msgs = append(msgs, "not started (start them once their disks are no longer ReIniting): "+strings.Join(notStarted, ", "))
	}
	if len(startFailed) > 0 {
		msgs = append(msgs, "StartInstance refused: "+strings.Join(startFailed, ", "))
	}
	if len(r.stopped) > 0 && len(toStart) == 0 {
		msgs = append(msgs, "left stopped (StartInstance not asked): "+strings.Join(r.stopped, ", "))
	}
	if len(dups) > 0 {
		msgs = append(msgs, fmt.Sprintf("%d disks were already reset for %s and not reset again: %s", len(dups), key, joinDiskIDs(dups)))
	}
	r.res.Summary.Message = strings.Join(msgs, "; ")
	return h.finish(req, r.res)
}

// instancesToStart are the planned starts that hold one of the disks reset
// now; with StopInstance only those this invocation actually stopped.
func (r *run) instancesToStart(toReset []DiskPair) []string {
	ids := r.instancesOf(r.plan.InstancesToStart, toReset)
	if !r.req.StopInstance {
		return ids
	}
	var out []string
	for _, id := range ids {
		for _, s := range r.stopped {
			if s == id {
				out = append(out, id)
			}
		}
	}
	return out
}

// dryRun checks the whole plan with the dry-run forms of the calls.
func (r *run) dryRun(ctx context.Context) (*Result, error) {
	plan := r.plan
	stopRefused := r.dryRunStop(ctx, plan.InstancesToStop)
	for _, id := range plan.Backups {
		r.step(Step{Name: "CreateSnapshot", Target: id, Outcome: stepSkipped, Message: "planned: CreateSnapshot has no dry run"})
	}
	if err := r.checkDeadline(ctx, "the reset"); err != nil {
		return nil, err
	}
	rr := r.reset(ctx, plan.Pairs, true)
	r.setRequestIDs(rr.requestIDs)
	if !rr.answered && !rr.notSent && rr.firstErr != nil {
		return nil, r.failReset(rr, plan.Pairs, nil)
	}
	for i, p := range plan.Pairs {
		if fe := stopRefused[r.diskInstance[p.DiskId]]; fe != nil {
			rr.progress[i] = progressFor(p, StatusFailed, fe.Code, "StopInstance would be refused: "+fe.Message)
		}
	}
	r.res.OperationProgressSet = OperationProgressSet{OperationProgress: rr.progress}
	if r.req.Wait || len(plan.InstancesToStart) > 0 {
		r.step(Step{Name: "WaitDisks", Target: joinDiskIDs(plan.Pairs), Outcome: stepSkipped, Message: "dry run: nothing to wait for"})
	}
	startRefused := r.dryRunStart(ctx, plan.InstancesToStart)
	r.res.Summary = summarise(r.res.OperationProgressSet, true)
	var msgs []string
	for _, id := range plan.InstancesToStart {
		if fe := startRefused[id]; fe != nil {
			msgs = append(msgs, "StartInstance "+id+" would be refused: "+fe.Code)
		}
	}
	if rr.notSent {
		fe := &Error{Code: ErrDeadlineExceeded, Message: "the invocation deadline came before the dry run finished", cause: errDeadline}
		r.res.Summary.Message = fe.Message
		fe.Result = r.res
		return nil, fe
	}
	if len(startRefused) > 0 && r.res.Summary.Status == StatusDryRunPassed {
		r.res.Summary.Status = StatusPartiallyFailed
	}
	r.res.Summary.Message = strings.Join(msgs, "; ")
	return r.h.finish(r.req, r.res)
}

// merged lists every planned pair's outcome in plan order: the reset
// outcome, or success for a pair already reset under the idempotency key.
func (r *run) merged(toReset []DiskPair, progress []OperationProgress, dups []DiskPair) OperationProgressSet {
	byDisk := make(map[string]OperationProgress, len(toReset)+len(dups))
	for i, p := range toReset {
		byDisk[p.DiskId] = progress[i]
	}
	for _, d := range dups {
		byDisk[d.DiskId] = progressFor(d, OperationStatusSuccess, "", "")
	}
	out := make([]OperationProgress, 0, len(byDisk))
	for _, p := range r.plan.Pairs {
		if op, ok := byDisk[p.DiskId]; ok {
			out = append(out, op)
			delete(byDisk, p.DiskId)
		}
	}
	for _, p := range toReset { // pairs claim returned that the plan does not list
		if op, ok := byDisk[p.DiskId]; ok {
			out = append(out, op)
		}
	}
	return OperationProgressSet{OperationProgress: out}
}

// setRequestIDs sets RequestId to the first reset call's id and RequestIds
// to all of them when there was more than one.
func (r *run) setRequestIDs(ids []string) {
	if len(ids) > 0 {
		r.res.RequestId = ids[0]
	}
	if len(ids) > 1 {
		r.res.RequestIds = ids
	}
}

// orchestrated reports whether the request asked for more than the plain
// ResetDisks calls; its errors then carry the Result (plan and steps).
func (r *run) orchestrated() bool {
	q := r.req
	return q.SnapshotGroupId != "" || q.InstanceId != "" || q.StopInstance || q.StartInstance || q.Wait || q.BackupBeforeReset
}

// fail turns err into the function's *Error; for an orchestrated request,
// or a deadline, it carries what was done so far.
func (r *run) fail(err error) error {
	fe := FromECS("Rollback", err)
	if fe.Result == nil && (r.orchestrated() || fe.Code == ErrDeadlineExceeded) {
		r.attach(fe)
	}
	return fe
}

// failReset reports a reset in which every call was refused: the first
// refusal, with the Result when there was more to tell than that refusal.
func (r *run) failReset(rr resetResult, sent, dups []DiskPair) error {
	fe := rr.firstErr
	if r.orchestrated() || rr.calls > 1 {
		r.res.OperationProgressSet = r.merged(sent, rr.progress, dups)
		r.res.Summary = summarise(r.res.OperationProgressSet, r.req.DryRun)
		r.res.Summary.Message = fe.Message
		fe.Result = r.res
	}
	return fe
}

// attach puts the Result into fe, with a summary saying nothing was reset
// when no reset call was made.
func (r *run) attach(fe *Error) {
	if len(r.res.OperationProgressSet.OperationProgress) > 0 {
		r.res.Summary = summarise(r.res.OperationProgressSet, r.req.DryRun)
	} else {
		total := 0
		if r.plan != nil {
			total = len(r.plan.Pairs)
		}
		r.res.Summary = Summary{Status: StatusFailed, Total: total, DryRun: r.req.DryRun}
	}
	r.res.Summary.Message = fe.Message
	fe.Result = r.res
}

// checkDeadline is nil while ctx is live, else a DeadlineExceeded error
// carrying the Result so far.
func (r *run) checkDeadline(ctx context.Context, before string) error {
	if ctx.Err() == nil {
		return nil
	}
	fe := &Error{Code: ErrDeadlineExceeded, Message: "the invocation deadline came before " + before + "; nothing more was done", cause: errDeadline}
	r.step(Step{Name: "Deadline", Outcome: StatusFailed, Code: fe.Code, Message: fe.Message})
	r.attach(fe)
	return fe
}

// step records a step; only the Rollback goroutine calls it.
func (r *run) step(s Step) { r.res.Steps = append(r.res.Steps, s) }

// failedStep records a refused or unanswered call and returns its *Error.
func (r *run) failedStep(name, target string, start time.Time, err error) *Error {
	fe := FromECS(name, err)
	r.step(Step{Name: name, Target: target, Outcome: StatusFailed, Code: fe.Code, Message: fe.Message, RequestId: fe.RequestID, DurationMs: r.h.since(start)})
	return fe
}

// dryRunStep records a dry-run call: DryRunOperation passed, anything else
// is returned as the refusal.
func (r *run) dryRunStep(name, target string, start time.Time, err error) *Error {
	if id, ok := isDryRunPassed(err); ok || err == nil {
		r.step(Step{Name: name, Target: target, Outcome: StatusDryRunPassed, RequestId: id, DurationMs: r.h.since(start)})
		return nil
	}
	return r.failedStep(name, target, start, err)
}

// finish turns a partial failure into an error when the request or the
// configuration asks for that; the result travels inside the error.
func (h *Handler) finish(req *Request, res *Result) (*Result, error) {
	failOnPartial := h.Config.FailOnPartial
	if req.FailOnPartial != nil {
		failOnPartial = *req.FailOnPartial
	}
	if failOnPartial && res.Summary.Failed > 0 && res.Summary.Succeeded > 0 {
		return nil, &Error{Code: ErrPartialFailure, Message: fmt.Sprintf("%d of %d disks were not reset", res.Summary.Failed, res.Summary.Total), RequestID: res.RequestId, Result: res}
	}
	return res, nil
}

// batches splits pairs into runs of at most n, keeping their order.
func batches(pairs []DiskPair, n int) [][]DiskPair {
	var out [][]DiskPair
	for len(pairs) > n {
		out = append(out, pairs[:n:n])
		pairs = pairs[n:]
	}
	if len(pairs) > 0 {
		out = append(out, pairs)
	}
	return out
}

func progressFor(p DiskPair, status, code, msg string) OperationProgress {
	return OperationProgress{OperationStatus: status, ErrorCode: code, ErrorMsg: msg, RelatedItemSet: RelatedItemSet{RelatedItem: []RelatedItem{{Name: "DiskId", Value: p.DiskId}, {Name: "SnapshotId", Value: p.SnapshotId}}}}
}

// dryRunProgress reports each disk of a passed dry run as a success.
func dryRunProgress(batch []DiskPair) []OperationProgress {
	out := make([]OperationProgress, len(batch))
	for i, p := range batch {
		out[i] = progressFor(p, OperationStatusSuccess, "", "")
	}
	return out
}

// failedProgress reports each disk of a refused call with the call's error.
func failedProgress(batch []DiskPair, fe *Error) []OperationProgress {
	out := make([]OperationProgress, len(batch))
	for i, p := range batch {
		out[i] = progressFor(p, StatusFailed, fe.Code, fe.Message)
	}
	return out
}

func joinDiskIDs(pairs []DiskPair) string {
	return strings.Join(pairDiskIDs(pairs), ",")
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) since(t time.Time) int64 { return h.now().Sub(t).Milliseconds() }
