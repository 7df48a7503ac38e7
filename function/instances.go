package function

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Which instances are stopped and started
//
// StopInstance stops each instance of the affected disks that is Running
// (StoppedMode KeepCharging: after economical mode an instance may fail to
// start again), then waits until it is Stopped. Before the stop, the
// instance is tagged ecs-disk-rollback:stopped-by=<key hash>: the function
// owns what it stopped, and the tag survives the invocation, so a retry or
// a later rollback of the instance finds it owed a start. An instance found
// Stopping or Stopped without that tag was stopped by someone else: it is
// waited for, never started (StartInstance alone starts an instance the
// caller stopped for the rollback).
//
// StartInstance starts the owned instances (and, without StopInstance, the
// ones found Stopped) once their disks have left ReIniting, and waits until
// they are Running; then the tag is cleared. When the rollback ends before
// a disk of an owned instance was touched, the instance is started again
// whatever StartInstance says: it goes back to the state it was found in.
// An owned instance that should be running and is not at the end makes the
// answer InstanceNotRestarted.

// planInstances finds the instances of the planned disks (DescribeDisks,
// DescribeInstances, their stopped-by tags) and fills Plan.InstancesToStop
// and InstancesToStart.
func (r *run) planInstances(ctx context.Context, p *Plan) error {
	diskIDs := pairDiskIDs(p.Pairs)
	start := r.h.now()
	disks, err := r.ecs.DescribeDisks(ctx, p.RegionID, diskIDs)
	if fe := r.timed("DescribeDisks", strings.Join(diskIDs, ","), start, err, ""); fe != nil {
		return fe
	}
	r.diskInstance = make(map[string]string, len(disks))
	for _, d := range disks {
		r.diskInstance[d.DiskID] = d.InstanceID
	}
	var instIDs []string
	for _, id := range diskIDs {
		if inst := r.diskInstance[id]; inst != "" && !slices.Contains(instIDs, inst) {
			instIDs = append(instIDs, inst)
		}
	}
	if len(instIDs) == 0 {
		return nil // detached disks: nothing to stop or start
	}
	start = r.h.now()
	insts, err := r.ecs.DescribeInstances(ctx, p.RegionID, instIDs)
	if fe := r.timed("DescribeInstances", strings.Join(instIDs, ","), start, err, ""); fe != nil {
		return fe
	}
	start = r.h.now()
	tags, err := readTags(ctx, r.ecs, p.RegionID, resourceInstance, instIDs)
	if fe := r.timed("ListTagResources", strings.Join(instIDs, ","), start, err, "instance tags: "+tagStoppedBy); fe != nil {
		return fe
	}
	r.instStatus = make(map[string]string, len(insts))
	r.netBefore = make(map[string]Network, len(insts))
	for _, in := range insts {
		r.instStatus[in.InstanceID] = in.Status
		r.netBefore[in.InstanceID] = in.Network
	}
	stop, startAfter := r.req.StopInstance, r.req.StartInstance
	for _, id := range instIDs {
		owed := tags[id][tagStoppedBy] != ""
		switch st := r.instStatus[id]; {
		case st == InstanceStatusRunning && stop:
			p.InstancesToStop = append(p.InstancesToStop, id)
			if startAfter {
				p.InstancesToStart = append(p.InstancesToStart, id)
			}
		case (st == InstanceStatusStopping || st == InstanceStatusStopped) && owed:
			// An earlier attempt stopped it and did not start it again.
			r.owned = append(r.owned, id)
			if startAfter {
				p.InstancesToStart = append(p.InstancesToStart, id)
			}
		case st == InstanceStatusStopping && stop:
			r.awaitStopped = append(r.awaitStopped, id)
		case st == InstanceStatusStopped && startAfter && !stop:
			p.InstancesToStart = append(p.InstancesToStart, id)
		}
	}
	return nil
}

// instancesOf keeps the instances in ids that hold one of pairs' disks.
func (r *run) instancesOf(ids []string, pairs []DiskPair) []string {
	var out []string
	for _, id := range ids {
		for _, p := range pairs {
			if r.diskInstance[p.DiskID] == id {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// stopPhase tags, stops (KeepCharging) and waits until Stopped the Running
// instances of the disks to reset, and waits for the owned and Stopping
// ones. A refusal ends the rollback: resetting only some disks of a fleet
// that should have been stopped together would leave it half rolled back.
func (r *run) stopPhase(ctx context.Context) error {
	r.compensate(r.restart)
	if len(r.toReset) == 0 {
		return nil
	}
	ids := r.instancesOf(r.plan.InstancesToStop, r.toReset)
	if len(ids) > 0 {
		start := r.h.now()
		err := writeTags(ctx, r.ecs, r.req.RegionID, resourceInstance, ids, map[string]string{tagStoppedBy: r.claim.keyHash})
		if fe := r.timed("TagResources", strings.Join(ids, ","), start, err, tagStoppedBy+": the record that this rollback owes these instances a start"); fe != nil {
			fe.Message = "could not record which instances this rollback stops, so none was stopped: " + fe.Message
			return fe
		}
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return r.deadlineBefore("StopInstance " + id)
		}
		start := r.h.now()
		err := r.ecs.StopInstance(ctx, StopInstanceInput{RegionID: r.req.RegionID, InstanceID: id, StoppedMode: StoppedModeKeepCharging})
		msg := "StoppedMode KeepCharging"
		if err != nil && actedMaybe(err) {
			// ECS may have acted: the instance is ours to start again either
			// way, and its status says whether the stop is under way.
			r.owned = appendNew(r.owned, id)
			if st := r.instanceStatusNow(id); st == InstanceStatusStopping || st == InstanceStatusStopped {
				msg = fmt.Sprintf("%s answered (%s), but the instance is %s: the stop was applied", FromECS("StopInstance", err).Code, FromECS("StopInstance", err).Message, st)
				err = nil
			}
		}
		if fe := r.timed("StopInstance", id, start, err, msg); fe != nil {
			return fe
		}
		r.owned = appendNew(r.owned, id)
	}
	wait := append(slices.Clone(r.instancesOf(r.owned, r.toReset)), r.awaitStopped...)
	if len(wait) == 0 {
		return nil
	}
	status, pr := r.waitInstances(ctx, wait, InstanceStatusStopped)
	step := Step{Name: "WaitInstancesStopped", Target: strings.Join(wait, ","), DurationMs: pr.spent.Milliseconds()}
	switch {
	case pr.done:
		step.Outcome, step.Message = StatusSucceeded, fmt.Sprintf("Stopped (%d DescribeInstances calls)", pr.polls)
		r.step(step)
		return nil
	case pr.err != nil:
		fe := FromECS("DescribeInstances", pr.err)
		step.Outcome, step.Code, step.Message, step.RequestID = StatusFailed, fe.Code, fe.Message, fe.RequestID
		r.step(step)
		return fe
	}
	step.Outcome, step.Code = StatusFailed, ErrDeadlineExceeded
	step.Message = fmt.Sprintf("not Stopped before the deadline after %d DescribeInstances calls: %s; no disk was reset", pr.polls, describeStatuses(wait, status, InstanceStatusStopped))
	r.step(step)
	return &Error{Code: ErrDeadlineExceeded, Message: step.Message, cause: errDeadline}
}

// instanceStatusNow reads an instance's status on the invocation's context
// ("" when it cannot be read).
func (r *run) instanceStatusNow(id string) string {
	insts, err := r.ecs.DescribeInstances(r.ctx, r.req.RegionID, []string{id})
	if err != nil || len(insts) == 0 {
		return ""
	}
	return insts[0].Status
}

// waitInstances polls DescribeInstances until every id is in status want.
func (r *run) waitInstances(ctx context.Context, ids []string, want string) (map[string]string, pollResult) {
	status := map[string]string{}
	pr := r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		insts, err := r.ecs.DescribeInstances(ctx, r.req.RegionID, ids)
		if err != nil {
			return false, err
		}
		for _, in := range insts {
			status[in.InstanceID] = in.Status
		}
		for _, id := range ids {
			if status[id] != want {
				return false, nil
			}
		}
		return true, nil
	})
	return status, pr
}

// describeStatuses lists the ids not in status want, with their status.
func describeStatuses(ids []string, status map[string]string, want string) string {
	var out []string
	for _, id := range ids {
		if status[id] != want {
			out = append(out, id+" ("+firstNonEmpty(status[id], "unknown")+")")
		}
	}
	return strings.Join(out, ", ")
}

// dryRunStop asks StopInstance for a dry run of each id; DryRunOperation
// means it would pass. It returns the refusals by instance.
func (r *run) dryRunStop(ctx context.Context, ids []string) map[string]*Error {
	refused := map[string]*Error{}
	for _, id := range ids {
		start := r.h.now()
		err := r.ecs.StopInstance(ctx, StopInstanceInput{RegionID: r.req.RegionID, InstanceID: id, StoppedMode: StoppedModeKeepCharging, DryRun: true})
		if fe := r.dryRunStep("StopInstance", id, start, err); fe != nil {
			refused[id] = fe
		}
	}
	return refused
}

// dryRunStart asks StartInstance for a dry run of each id that is Stopped
// now; one that is Running now (to be stopped first) cannot be checked.
func (r *run) dryRunStart(ctx context.Context, ids []string) map[string]*Error {
	refused := map[string]*Error{}
	for _, id := range ids {
		if r.instStatus[id] != InstanceStatusStopped {
			r.step(Step{Name: "StartInstance", Target: id, Outcome: stepSkipped, Message: "the instance is " + r.instStatus[id] + " now: a start after the stop cannot be checked by a dry run"})
			continue
		}
		start := r.h.now()
		err := r.ecs.StartInstance(ctx, r.req.RegionID, id, true)
		if fe := r.dryRunStep("StartInstance", id, start, err); fe != nil {
			refused[id] = fe
		}
	}
	return refused
}
