package function

// The one place a rollback's outcome is decided (answer), and the helpers
// that build per-disk outcomes and steps.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// answer is the one place a rollback's outcome is decided: it merges the
// per-disk outcomes, says in Summary what happened (done, not done,
// unknown), and turns anything short of success into an *Error carrying
// the whole Result (plan and steps included).
func (r *run) answer(ctx context.Context) (*Result, error) {
	res := r.res
	if r.req.DryRun {
		return r.answerDryRun()
	}
	if r.resetDone || len(r.dups)+len(r.busy) > 0 {
		res.OperationProgressSet = r.merged()
	}
	res.Summary = summarise(res.OperationProgressSet, false)
	if res.OperationProgressSet.OperationProgress == nil {
		res.OperationProgressSet.OperationProgress = []OperationProgress{}
		res.Summary.Total = len(r.planPairs())
		if r.failure != nil {
			res.Summary.Status = StatusFailed
		}
	}
	var msgs []string
	if len(r.dups) > 0 && len(r.toReset) == 0 && len(r.busy) == 0 && r.failure == nil {
		res.Summary.Status = StatusDuplicate
		msgs = append(msgs, fmt.Sprintf("all %d disks were already reset for %s: nothing was done again", len(r.dups), r.keyDescription()))
	} else if len(r.dups) > 0 {
		msgs = append(msgs, fmt.Sprintf("%d disks were already reset for %s and not reset again: %s", len(r.dups), r.keyDescription(), joinDiskIDs(r.dups)))
	}
	if len(r.busy) > 0 {
		msgs = append(msgs, "being reset right now by another invocation with the same key (not reset again; its answer tells the outcome): "+joinDiskIDs(r.busy))
	}
	switch {
	case r.waitErr != nil:
		msgs = append(msgs, "the resets were accepted but the disks could not be followed: "+r.waitErr.Error())
	case len(r.pending) > 0:
		msgs = append(msgs, "stopped waiting before the deadline; still ReIniting: "+strings.Join(r.pending, ", "))
	}
	if r.recordLost {
		msgs = append(msgs, "the outcome could not be recorded on the disks (see the RecordOutcome step): requests with other keys get "+ErrGuardRecordLost+" until the claim goes stale")
	}
	if left := r.leftStopped(); len(left) > 0 {
		msgs = append(msgs, "left stopped (StartInstance not asked): "+strings.Join(left, ", "))
	}

	notRestarted := r.notRestarted()
	var fe *Error
	switch {
	case len(notRestarted) > 0:
		fe = &Error{Code: ErrInstanceNotRestarted, Message: "not running again after the rollback stopped them: " + r.describeNotRestarted(notRestarted) +
			"; the tag " + tagStoppedBy + " on each marks it, so a retry or the next rollback of it starts it; or start it by hand"}
		if r.failure != nil {
			fe.Message = r.failure.Error() + "; " + fe.Message
			fe.cause = r.failure
		}
		res.Summary.Status = ErrInstanceNotRestarted
	case r.failure != nil:
		fe = r.failure
		if fe.Code == ErrECSUnreachable && ctx.Err() != nil {
			// No answer because the invocation's time ran out: say so.
			fe = &Error{Code: ErrDeadlineExceeded, Message: "the invocation deadline came before ECS answered: " + fe.Message, RequestID: fe.RequestID, cause: fe}
		}
		if fe.Code == ErrPlanRefused {
			res.Summary.Status = StatusRefused
		}
		if res.Summary.Unknown > 0 {
			res.Summary.Status = StatusOutcomeUnknown
		}
	case res.Summary.Unknown > 0 && res.Summary.Unknown == len(r.busy):
		fe = &Error{Code: ErrRollbackInProgress, Message: "another invocation with the same idempotency key is resetting these disks right now: " + joinDiskIDs(r.busy) +
			"; it answers with their outcome, and a retry after it ends answers Duplicate"}
		res.Summary.Status = ErrRollbackInProgress
	case res.Summary.Unknown > 0:
		fe = &Error{Code: ErrOutcomeUnknown, Message: fmt.Sprintf("whether %d of %d disks were reset is unknown (no answer, or an error answer after the call was sent, and ECS shows no sign of the reset): %s; a retry with the same key resends them",
			res.Summary.Unknown, res.Summary.Total, strings.Join(r.unknownDisks(), ", "))}
	case ctx.Err() != nil && res.Summary.Succeeded < res.Summary.Total:
		fe = &Error{Code: ErrDeadlineExceeded, Message: fmt.Sprintf("the invocation deadline came before the rollback finished: %d of %d disks confirmed reset", res.Summary.Succeeded, res.Summary.Total), cause: errDeadline}
	case r.waitErr != nil || len(r.pending) > 0:
		res.Summary.Status = StatusInProgress
	case r.failOnPartial() && res.Summary.Failed > 0 && res.Summary.Succeeded > 0:
		fe = &Error{Code: ErrPartialFailure, Message: fmt.Sprintf("%d of %d disks were not reset", res.Summary.Failed, res.Summary.Total)}
	default:
		fe = r.answerHealth()
	}
	if fe != nil {
		msgs = append([]string{fe.Message}, msgs...)
	}
	res.Summary.Message = strings.Join(msgs, "; ")
	if fe == nil {
		return res, nil
	}
	if fe.RequestID == "" {
		fe.RequestID = res.RequestID
	}
	fe.Result = res
	return nil, fe
}

// unknownDisks lists the disks whose outcome is unknown.
func (r *run) unknownDisks() []string {
	var ids []string
	for _, p := range r.res.OperationProgressSet.OperationProgress {
		if p.OperationStatus == OperationStatusUnknown {
			ids = append(ids, p.Item("DiskId"))
		}
	}
	return ids
}

func (r *run) planPairs() []DiskPair {
	if r.plan == nil {
		return nil
	}
	return r.plan.Pairs
}

// merged lists every planned pair's outcome in plan order: this
// invocation's reset outcome, success for a pair already reset under the
// idempotency key, unknown for one another invocation is resetting now.
func (r *run) merged() OperationProgressSet {
	byDisk := make(map[string]OperationProgress, len(r.toReset)+len(r.dups)+len(r.busy))
	for i, p := range r.toReset {
		if i < len(r.reset.progress) {
			byDisk[p.DiskID] = r.reset.progress[i]
		} else {
			byDisk[p.DiskID] = progressFor(p, StatusFailed, ErrDeadlineExceeded, "not sent: the rollback ended before its reset")
		}
	}
	for _, d := range r.dups {
		byDisk[d.DiskID] = progressFor(d, OperationStatusSuccess, "", "")
	}
	for _, d := range r.busy {
		byDisk[d.DiskID] = progressFor(d, OperationStatusUnknown, ErrRollbackInProgress, "another invocation with the same idempotency key is resetting this disk right now")
	}
	out := make([]OperationProgress, 0, len(byDisk))
	for _, p := range r.plan.Pairs {
		if op, ok := byDisk[p.DiskID]; ok {
			out = append(out, op)
			delete(byDisk, p.DiskID)
		}
	}
	for _, p := range r.toReset { // pairs the claim returned that the plan does not list
		if op, ok := byDisk[p.DiskID]; ok {
			out = append(out, op)
		}
	}
	return OperationProgressSet{OperationProgress: out}
}

// setRequestIDs sets RequestId to the first reset call's id and RequestIds
// to all of them when there was more than one.
func (r *run) setRequestIDs(ids []string) {
	if len(ids) > 0 {
		r.res.RequestID = ids[0]
	}
	if len(ids) > 1 {
		r.res.RequestIDs = ids
	}
}

// step records a step; only the Rollback goroutine calls it.
func (r *run) step(s Step) { r.res.Steps = append(r.res.Steps, s) }

// timed records the step of one call that started at start: Succeeded with
// msg when err is nil, else Failed with the error's code; it returns the
// error as an *Error (nil on success).
func (r *run) timed(name, target string, start time.Time, err error, msg string) *Error {
	if err == nil {
		r.step(Step{Name: name, Target: target, Outcome: StatusSucceeded, Message: msg, DurationMs: r.h.since(start)})
		return nil
	}
	fe := FromECS(name, err)
	r.step(Step{Name: name, Target: target, Outcome: StatusFailed, Code: fe.Code, Message: fe.Message, RequestID: fe.RequestID, DurationMs: r.h.since(start)})
	return fe
}

// dryRunStep records a dry-run call: DryRunOperation passed, anything else
// is returned as the refusal.
func (r *run) dryRunStep(name, target string, start time.Time, err error) *Error {
	if id, ok := isDryRunPassed(err); ok || err == nil {
		r.step(Step{Name: name, Target: target, Outcome: StatusDryRunPassed, RequestID: id, DurationMs: r.h.since(start)})
		return nil
	}
	return r.timed(name, target, start, err, "")
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
	return OperationProgress{OperationStatus: status, ErrorCode: code, ErrorMsg: msg, RelatedItemSet: RelatedItemSet{RelatedItem: []RelatedItem{{Name: "DiskId", Value: p.DiskID}, {Name: "SnapshotId", Value: p.SnapshotID}}}}
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

// isDryRunPassed reports whether err is ECS's "would have succeeded".
func isDryRunPassed(err error) (requestID string, ok bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == codeDryRunOperation {
		return ae.RequestID, true
	}
	return "", false
}
