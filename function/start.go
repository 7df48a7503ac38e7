package function

// Starting again what the rollback stopped: the start phase, the restart
// compensation, and what the answer says about instances left down.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// instancesToStart are the planned starts still to do: the owned instances
// and the ones the caller stopped for the rollback.
func (r *run) instancesToStart() []string {
	var out []string
	for _, id := range r.plan.InstancesToStart {
		if slices.Contains(r.owned, id) || r.instStatus[id] != InstanceStatusRunning {
			out = append(out, id)
		}
	}
	return out
}

// startPhase starts the instances to start once their disks have left
// ReIniting, on the invocation's context (the time reserved for it).
func (r *run) startPhase(ctx context.Context) error {
	r.startReached = true
	ids := r.instancesToStart()
	if len(ids) > 0 {
		r.startAndConfirm(ctx, ids)
	}
	return nil
}

// restart is the stop phase's compensation: every owned instance that
// should run and does not yet is started (after its disks, if reset, have
// left ReIniting); owned instances left stopped on purpose lose the tag.
func (r *run) restart(ctx context.Context) {
	var start, leave []string
	for _, id := range r.owned {
		switch {
		case r.started[id]:
		case r.req.StartInstance || !r.touched(id):
			start = append(start, id)
		default:
			leave = append(leave, id)
		}
	}
	if len(start) > 0 {
		r.startAndConfirm(ctx, start)
	}
	if len(leave) > 0 {
		r.clearStoppedBy(ctx, leave)
	}
}

// touched reports whether a disk of instance id may have been reset, by
// this invocation or by an earlier attempt with the same key.
func (r *run) touched(id string) bool {
	for _, p := range r.dups {
		if r.diskInstance[p.DiskID] == id {
			return true
		}
	}
	for i, p := range r.toReset {
		if r.diskInstance[p.DiskID] == id && r.resetDone && i < len(r.reset.progress) && r.reset.progress[i].OperationStatus != StatusFailed {
			return true
		}
	}
	return false
}

// startAndConfirm waits for the disks of ids to leave ReIniting, starts
// each, and waits until they are Running; the ones seen Running are marked
// started and lose the stopped-by tag.
func (r *run) startAndConfirm(ctx context.Context, ids []string) {
	if ctx.Err() != nil {
		for _, id := range ids {
			r.step(Step{Name: "StartInstance", Target: id, Outcome: stepSkipped, Code: ErrDeadlineExceeded, Message: "the invocation deadline came first"})
		}
		return
	}
	if busy := r.unsettledDisks(ids); len(busy) > 0 {
		outcomes, pending, err := r.waitDisks(ctx, busy)
		r.res.Disks = mergeDiskOutcomes(r.res.Disks, outcomes)
		r.pending = pending
		if err != nil || len(pending) > 0 {
			for _, id := range ids {
				r.step(Step{Name: "StartInstance", Target: id, Outcome: stepSkipped, Message: "not started: its disks were not seen leaving ReIniting"})
			}
			return
		}
	}
	var accepted []string
	for _, id := range ids {
		start := r.h.now()
		err := r.ecs.StartInstance(ctx, r.req.RegionID, id, false)
		if err != nil && actedMaybe(err) && r.instanceStatusNow(id) == InstanceStatusStopped {
			// The start did not take (still Stopped): starting is safe to
			// ask again, a started instance refuses a second start.
			_ = r.timed("StartInstance", id, start, err, "") // recorded; the status read next decides
			start = r.h.now()
			err = r.ecs.StartInstance(ctx, r.req.RegionID, id, false)
		}
		if isNoStock(err) {
			err = r.startDespiteNoStock(ctx, id, start, err)
			start = r.h.now()
		}
		var ae *APIError
		switch {
		case err == nil || actedMaybe(err):
			accepted = append(accepted, id) // a 5xx may have started it: look
		case errors.As(err, &ae) && ae.Code == codeIncorrectInstanceStatus:
			accepted = append(accepted, id) // already starting or running: look
		}
		_ = r.timed("StartInstance", id, start, err, "") // recorded; the status read next decides
	}
	if len(accepted) == 0 {
		return
	}
	status, pr := r.waitInstances(ctx, accepted, InstanceStatusRunning)
	var running []string
	for _, id := range accepted {
		if status[id] == InstanceStatusRunning {
			r.started[id] = true
			running = append(running, id)
		}
	}
	step := Step{Name: "WaitInstancesRunning", Target: strings.Join(accepted, ","), DurationMs: pr.spent.Milliseconds(), Outcome: StatusSucceeded,
		Message: fmt.Sprintf("Running (%d DescribeInstances calls)", pr.polls)}
	if !pr.done {
		step.Outcome, step.Code = StatusFailed, ErrInstanceNotRestarted
		step.Message = fmt.Sprintf("not Running after %d DescribeInstances calls: %s", pr.polls, describeStatuses(accepted, status, InstanceStatusRunning))
	}
	r.step(step)
	r.clearStoppedBy(ctx, slices.DeleteFunc(running, func(id string) bool { return !slices.Contains(r.owned, id) }))
}

// unsettledDisks are the disks of instances ids that may still be
// ReIniting: reset (or maybe reset) now or earlier, and not seen settled.
func (r *run) unsettledDisks(ids []string) []string {
	settled := map[string]bool{}
	for _, d := range r.res.Disks {
		if d.Status != DiskStatusReIniting && d.Status != "Unknown" {
			settled[d.DiskID] = true
		}
	}
	var out []string
	for _, p := range r.planPairs() {
		if slices.Contains(ids, r.diskInstance[p.DiskID]) && !settled[p.DiskID] && r.diskTouched(p.DiskID) {
			out = append(out, p.DiskID)
		}
	}
	return out
}

// diskTouched reports whether disk id may have been reset.
func (r *run) diskTouched(id string) bool {
	for _, p := range r.dups {
		if p.DiskID == id {
			return true
		}
	}
	for i, p := range r.toReset {
		if p.DiskID == id {
			return r.resetDone && i < len(r.reset.progress) && r.reset.progress[i].OperationStatus != StatusFailed
		}
	}
	return false
}

// clearStoppedBy empties the stopped-by tag of ids (best effort: a tag
// left behind only makes a later rollback start a Stopped instance it
// would start anyway when asked to).
func (r *run) clearStoppedBy(ctx context.Context, ids []string) {
	if len(ids) == 0 || ctx.Err() != nil {
		return
	}
	start := r.h.now()
	err := writeTags(ctx, r.ecs, r.req.RegionID, resourceInstance, ids, map[string]string{tagStoppedBy: ""})
	_ = r.timed("TagResources", strings.Join(ids, ","), start, err, tagStoppedBy+" cleared: nothing owed")
}

// notRestarted lists the instances that should be running at the end and
// are not: owned ones (unless left stopped on purpose), and the ones the
// caller stopped for the rollback once the start phase was reached.
func (r *run) notRestarted() []string {
	var out []string
	for _, id := range r.owned {
		if !r.started[id] && (r.req.StartInstance || !r.touched(id)) {
			out = append(out, id)
		}
	}
	if r.startReached {
		for _, id := range r.instancesToStart() {
			if !r.started[id] && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// leftStopped lists the owned instances left stopped because the request
// did not ask to start them.
func (r *run) leftStopped() []string {
	var out []string
	for _, id := range r.owned {
		if !r.started[id] && !r.req.StartInstance && r.touched(id) {
			out = append(out, id)
		}
	}
	return out
}

// mergeDiskOutcomes updates outcomes with newer ones, by disk.
func mergeDiskOutcomes(old, newer []DiskOutcome) []DiskOutcome {
	for _, n := range newer {
		i := slices.IndexFunc(old, func(d DiskOutcome) bool { return d.DiskID == n.DiskID })
		if i >= 0 {
			old[i] = n
		} else {
			old = append(old, n)
		}
	}
	return old
}

func appendNew(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}
