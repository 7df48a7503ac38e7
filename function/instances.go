package function

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Which instances are stopped and started
//
// StopInstance stops each instance of the affected disks that is Running
// (StoppedMode KeepCharging: after economical mode an instance may fail to
// start again), then waits until it is Stopped. An instance found Stopping
// is waited for but not counted as stopped by the function. An instance
// already Stopped is left alone.
//
// StartInstance starts instances after their disks have left ReIniting:
//   - with StopInstance, only the instances this invocation stopped; an
//     instance somebody else had stopped stays stopped (it was stopped for a
//     reason the function does not know);
//   - without StopInstance, every affected instance that was Stopped when
//     the rollback was planned: the caller stopped it for the rollback and
//     asks for it back.
//
// When the rollback ends before any disk was reset (a stop, a backup or
// every reset call refused), the instances the function stopped are started
// again whatever StartInstance says: their disks are unchanged, so they go
// back to the state they were found in. StartInstance does not wait for the
// instance to be Running (one more poll loop for no decision left to take).

// planInstances finds the instances of the planned disks (DescribeDisks, then
// DescribeInstances) and fills Plan.InstancesToStop and InstancesToStart.
func (r *run) planInstances(ctx context.Context, p *Plan) error {
	diskIDs := pairDiskIDs(p.Pairs)
	start := r.h.now()
	disks, err := r.ecs.DescribeDisks(ctx, p.RegionId, diskIDs)
	if err != nil {
		return r.failedStep("DescribeDisks", strings.Join(diskIDs, ","), start, err)
	}
	r.step(Step{Name: "DescribeDisks", Target: strings.Join(diskIDs, ","), Outcome: StatusSucceeded, DurationMs: r.h.since(start)})
	r.diskInstance = make(map[string]string, len(disks))
	for _, d := range disks {
		r.diskInstance[d.DiskId] = d.InstanceId
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
	insts, err := r.ecs.DescribeInstances(ctx, p.RegionId, instIDs)
	if err != nil {
		return r.failedStep("DescribeInstances", strings.Join(instIDs, ","), start, err)
	}
	r.step(Step{Name: "DescribeInstances", Target: strings.Join(instIDs, ","), Outcome: StatusSucceeded, DurationMs: r.h.since(start)})
	r.instStatus = make(map[string]string, len(insts))
	for _, in := range insts {
		r.instStatus[in.InstanceId] = in.Status
	}
	stop, startAfter := r.req.StopInstance, r.req.StartInstance
	for _, id := range instIDs {
		switch r.instStatus[id] {
		case InstanceStatusRunning:
			if stop {
				p.InstancesToStop = append(p.InstancesToStop, id)
				if startAfter {
					p.InstancesToStart = append(p.InstancesToStart, id)
				}
			}
		case InstanceStatusStopping:
			if stop {
				r.awaitStopped = append(r.awaitStopped, id)
			}
		case InstanceStatusStopped:
			if startAfter && !stop {
				p.InstancesToStart = append(p.InstancesToStart, id)
			}
		}
	}
	return nil
}

// instancesOf keeps the instances in ids that hold one of pairs' disks.
func (r *run) instancesOf(ids []string, pairs []DiskPair) []string {
	var out []string
	for _, id := range ids {
		for _, p := range pairs {
			if r.diskInstance[p.DiskId] == id {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// stopInstances stops ids (KeepCharging) one by one and waits until they
// and the instances found Stopping are Stopped. A refusal ends the rollback:
// resetting only some disks of a fleet that should have been stopped
// together would leave it half rolled back.
func (r *run) stopInstances(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if err := r.checkDeadline(ctx, "StopInstance"); err != nil {
			return err
		}
		start := r.h.now()
		err := r.ecs.StopInstance(ctx, StopInstanceInput{RegionID: r.req.RegionId, InstanceID: id, StoppedMode: StoppedModeKeepCharging})
		if err != nil {
			return r.failedStep("StopInstance", id, start, err)
		}
		r.step(Step{Name: "StopInstance", Target: id, Outcome: StatusSucceeded, Message: "StoppedMode KeepCharging", DurationMs: r.h.since(start)})
		r.stopped = append(r.stopped, id)
	}
	wait := append(slices.Clone(r.stopped), r.awaitStopped...)
	if len(wait) == 0 {
		return nil
	}
	start := r.h.now()
	status := map[string]string{}
	pr := r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		insts, err := r.ecs.DescribeInstances(ctx, r.req.RegionId, wait)
		if err != nil {
			return false, err
		}
		for _, in := range insts {
			status[in.InstanceId] = in.Status
		}
		for _, id := range wait {
			if status[id] != InstanceStatusStopped {
				return false, nil
			}
		}
		return true, nil
	})
	step := Step{Name: "WaitInstancesStopped", Target: strings.Join(wait, ","), DurationMs: r.h.since(start)}
	switch {
	case pr.done:
		step.Outcome, step.Message = StatusSucceeded, fmt.Sprintf("Stopped (%d DescribeInstances calls)", pr.polls)
		r.step(step)
		return nil
	case pr.err != nil:
		fe := FromECS("DescribeInstances", pr.err)
		step.Outcome, step.Code, step.Message, step.RequestId = StatusFailed, fe.Code, fe.Message, fe.RequestID
		r.step(step)
		return fe
	}
	var notYet []string
	for _, id := range wait {
		if status[id] != InstanceStatusStopped {
			notYet = append(notYet, id+" ("+firstNonEmpty(status[id], "unknown")+")")
		}
	}
	step.Outcome, step.Code = StatusFailed, ErrDeadlineExceeded
	step.Message = fmt.Sprintf("not Stopped before the deadline after %d DescribeInstances calls: %s; no disk was reset", pr.polls, strings.Join(notYet, ", "))
	r.step(step)
	return &Error{Code: ErrDeadlineExceeded, Message: step.Message, cause: errDeadline}
}

// startInstances starts ids one by one; a refusal is recorded and the
// others are still started. It returns the refused ones with the reason.
func (r *run) startInstances(ctx context.Context, ids []string) (failed []string) {
	for _, id := range ids {
		start := r.h.now()
		err := r.ecs.StartInstance(ctx, r.req.RegionId, id, false)
		if err != nil {
			fe := FromECS("StartInstance", err)
			r.step(Step{Name: "StartInstance", Target: id, Outcome: StatusFailed, Code: fe.Code, Message: fe.Message, RequestId: fe.RequestID, DurationMs: r.h.since(start)})
			failed = append(failed, id+": "+fe.Code)
			continue
		}
		r.step(Step{Name: "StartInstance", Target: id, Outcome: StatusSucceeded, DurationMs: r.h.since(start)})
	}
	return failed
}

// restoreStopped starts again the instances this invocation stopped, when
// the rollback ended before any disk was reset. An instance still Stopping
// cannot be started, so it waits for Stopped first (DescribeInstances polls).
func (r *run) restoreStopped(ctx context.Context) {
	if len(r.stopped) == 0 || ctx.Err() != nil {
		return
	}
	status := map[string]string{}
	pr := r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		insts, err := r.ecs.DescribeInstances(ctx, r.req.RegionId, r.stopped)
		if err != nil {
			return false, err
		}
		for _, in := range insts {
			status[in.InstanceId] = in.Status
		}
		for _, id := range r.stopped {
			if status[id] == InstanceStatusStopping {
				return false, nil
			}
		}
		return true, nil
	})
	var ready []string
	for _, id := range r.stopped {
		if pr.done && status[id] == InstanceStatusStopped {
			ready = append(ready, id)
			continue
		}
		r.step(Step{Name: "StartInstance", Target: id, Outcome: stepSkipped, Message: "could not start it again: it is " + firstNonEmpty(status[id], "in an unknown state") + "; start it by hand"})
	}
	r.startInstances(ctx, ready)
}

// dryRunStop asks StopInstance for a dry run of each id; DryRunOperation
// means it would pass. It returns the refusals by instance.
func (r *run) dryRunStop(ctx context.Context, ids []string) map[string]*Error {
	refused := map[string]*Error{}
	for _, id := range ids {
		start := r.h.now()
		err := r.ecs.StopInstance(ctx, StopInstanceInput{RegionID: r.req.RegionId, InstanceID: id, StoppedMode: StoppedModeKeepCharging, DryRun: true})
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
		err := r.ecs.StartInstance(ctx, r.req.RegionId, id, true)
		if fe := r.dryRunStep("StartInstance", id, start, err); fe != nil {
			refused[id] = fe
		}
	}
	return refused
}

// isDryRunPassed reports whether err is ECS's "would have succeeded".
func isDryRunPassed(err error) (requestID string, ok bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == codeDryRunOperation {
		return ae.RequestID, true
	}
	return "", false
}
