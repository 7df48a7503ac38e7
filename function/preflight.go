package function

import (
	"context"
	"fmt"
	"strings"
)

// preflightResult is the verdict of the dry-run form of every mutating call
// of the plan. A dry run answers with it; a real run goes on only when it
// passed, so a real run refuses exactly what its dry run refuses, before
// anything is stopped or reset.
type preflightResult struct {
	progress     []OperationProgress // one per planned pair
	stopRefused  map[string]*Error   // by instance
	startRefused map[string]*Error   // by instance
	reset        resetResult
}

// wholeRefusal is ECS's refusal of the request as a whole: every pair
// refused with the same code and no instance check failed. The answer is
// then ECS's own error, as for the single call a plain request is.
func (p *preflightResult) wholeRefusal() *Error {
	fe := p.reset.firstErr
	if fe == nil || p.reset.notSent || len(p.stopRefused) > 0 {
		return nil
	}
	for _, op := range p.progress {
		if op.OperationStatus == OperationStatusSuccess || op.ErrorCode != fe.Code {
			return nil
		}
	}
	return fe
}

// transient is a check that could not run for a reason a retry may fix
// (throttling, a 5xx, no answer): the plan is not known to be wrong, so the
// answer is that error, not PlanRefused.
func (p *preflightResult) transient() *Error {
	if fe := p.reset.firstErr; fe != nil && retryFixes(fe) {
		return fe
	}
	for _, refused := range []map[string]*Error{p.stopRefused, p.startRefused} {
		for _, fe := range refused {
			if retryFixes(fe) {
				return fe
			}
		}
	}
	return nil
}

// passed reports whether every pair and instance would work.
func (p *preflightResult) passed() bool {
	if p.reset.notSent || len(p.stopRefused)+len(p.startRefused) > 0 {
		return false
	}
	for _, op := range p.progress {
		if op.OperationStatus != OperationStatusSuccess {
			return false
		}
	}
	return true
}

// preflightPhase runs the checks. A dry run and a real run give the same
// verdict: a passed dry run answers DryRunPassed; anything else ends the
// rollback, nothing stopped or reset: the transient error that kept a check
// from running, ECS's own code when it refuses every pair the same way, else
// PlanRefused naming each pair or instance at fault. A dry run keeps its
// passing pairs Success; a real run marks them not reset.
func (r *run) preflightPhase(ctx context.Context) error {
	pf := r.preflight(ctx)
	r.answerPre = pf
	if pf.passed() {
		return nil
	}
	nothing := "nothing was stopped or reset"
	if r.req.DryRun {
		nothing = "a real run would be refused, nothing stopped or reset"
	}
	if pf.reset.notSent {
		return &Error{Code: ErrDeadlineExceeded, Message: "the invocation deadline came before the checks of the plan finished; " + nothing, cause: errDeadline}
	}
	r.res.OperationProgressSet = OperationProgressSet{OperationProgress: pf.progress}
	if fe := pf.transient(); fe != nil {
		out := *fe
		out.Message = "the checks of the plan could not run (" + nothing + "): " + fe.Message
		return &out
	}
	if whole := pf.wholeRefusal(); whole != nil {
		fe := *whole
		fe.Message += "; " + nothing
		return &fe
	}
	var bad []string
	out := make([]OperationProgress, len(pf.progress))
	for i, op := range pf.progress {
		switch {
		case op.OperationStatus != OperationStatusSuccess:
			bad = append(bad, op.Item("DiskId")+" ("+op.ErrorCode+")")
		case !r.req.DryRun:
			op.OperationStatus, op.ErrorCode = StatusFailed, ErrPlanRefused
			op.ErrorMsg = "not reset: another pair or instance of this request failed its checks"
		}
		out[i] = op
	}
	for _, id := range sortedKeys(keysOf(pf.stopRefused)) {
		bad = append(bad, "StopInstance "+id+" ("+pf.stopRefused[id].Code+")")
	}
	for _, id := range sortedKeys(keysOf(pf.startRefused)) {
		bad = append(bad, "StartInstance "+id+" ("+pf.startRefused[id].Code+")")
	}
	r.res.OperationProgressSet = OperationProgressSet{OperationProgress: out}
	return &Error{Code: ErrPlanRefused, Message: fmt.Sprintf("the request is refused as a whole (%s) because its dry run fails for: %s", nothing, strings.Join(bad, ", "))}
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// preflight checks the plan with the dry-run forms of the calls: every
// pair in a dry run, the pairs the claim left to reset in a real one (a
// disk already reset for this key may still be ReIniting, which a dry run
// would refuse).
func (r *run) preflight(ctx context.Context) *preflightResult {
	plan := r.plan
	pairs := plan.Pairs
	stops := plan.InstancesToStop
	if !r.req.DryRun {
		pairs = r.toReset
		stops = r.instancesOf(stops, pairs)
	}
	pf := &preflightResult{}
	pf.stopRefused = r.dryRunStop(ctx, stops)
	if r.req.DryRun {
		for _, id := range plan.Backups {
			r.step(Step{Name: "CreateSnapshot", Target: id, Outcome: stepSkipped, Message: "planned: CreateSnapshot has no dry run"})
		}
	}
	if len(pairs) > 0 {
		pf.reset = r.resetPairs(ctx, pairs, true)
	}
	pf.progress = pf.reset.progress
	if len(pairs) > 1 {
		r.attribute(ctx, pairs, pf.progress)
	}
	if len(pf.reset.masked) > 0 {
		r.checkMasked(ctx, pairs, pf)
	}
	for i, p := range pairs {
		if fe := pf.stopRefused[r.diskInstance[p.DiskID]]; fe != nil {
			pf.progress[i] = progressFor(p, StatusFailed, fe.Code, "StopInstance would be refused: "+fe.Message)
		}
	}
	starts := plan.InstancesToStart
	if !r.req.DryRun && len(pairs) == 0 {
		starts = nil // nothing to reset: owed starts happen whatever a dry run says
	}
	pf.startRefused = r.dryRunStart(ctx, starts)
	return pf
}

// attribute re-checks alone each refused pair of a call that held several:
// ECS refuses a ResetDisks call as a whole for one bad pair, and the
// operator needs to know which pair it was. Only the failure path pays.
func (r *run) attribute(ctx context.Context, pairs []DiskPair, progress []OperationProgress) {
	refused := 0
	for _, op := range progress {
		if op.OperationStatus != OperationStatusSuccess {
			refused++
		}
	}
	if refused < 2 {
		return
	}
	for i, p := range pairs {
		if progress[i].OperationStatus == OperationStatusSuccess || ctx.Err() != nil {
			continue
		}
		alone := r.resetPairs(ctx, []DiskPair{p}, true)
		if len(alone.progress) == 1 {
			progress[i] = alone.progress[0]
		}
	}
}

// answerDryRun reports a dry run: its preflight passed (answer), or the
// failure with the Result.
func (r *run) answerDryRun() (*Result, error) {
	if pf := r.answerPre; pf != nil {
		r.setRequestIDs(pf.reset.requestIDs)
	}
	if r.res.OperationProgressSet.OperationProgress == nil {
		r.res.OperationProgressSet.OperationProgress = []OperationProgress{}
	}
	r.res.Summary = summarise(r.res.OperationProgressSet, true)
	if r.failure != nil {
		r.res.Summary.Total = len(r.planPairs())
		r.res.Summary.Status = StatusFailed
		if r.failure.Code == ErrPlanRefused {
			r.res.Summary.Status = ErrPlanRefused
		}
		r.res.Summary.Message = r.failure.Message
		if r.failure.RequestID == "" {
			r.failure.RequestID = r.res.RequestID
		}
		r.failure.Result = r.res
		return nil, r.failure
	}
	r.res.OperationProgressSet = OperationProgressSet{OperationProgress: r.answerPre.progress}
	r.res.Summary = summarise(r.res.OperationProgressSet, true)
	if r.req.Wait || len(r.plan.InstancesToStart) > 0 {
		r.step(Step{Name: "WaitDisks", Target: joinDiskIDs(r.plan.Pairs), Outcome: stepSkipped, Message: "dry run: nothing to wait for"})
	}
	return r.res, nil
}

// checkMasked checks by reading what a dry run could not reach for the
// pairs of an instance that is not Stopped yet (ECS answers
// IncorrectInstanceStatus before its other checks): the disk is in the
// region (the plan's DescribeDisks found it), the snapshot exists, was
// taken from that disk and is complete (one DescribeSnapshots call).
// The codes are those ECS gives for each case (ResetDisk error table).
func (r *run) checkMasked(ctx context.Context, pairs []DiskPair, pf *preflightResult) {
	masked := map[string]bool{}
	for _, p := range pf.reset.masked {
		masked[p.DiskID] = true
	}
	var diskIDs, snapIDs []string
	for _, p := range pairs {
		if masked[p.DiskID] {
			diskIDs, snapIDs = append(diskIDs, p.DiskID), append(snapIDs, p.SnapshotID)
		}
	}
	start := r.h.now()
	snaps, err := r.ecs.DescribeSnapshots(ctx, r.req.RegionID, snapIDs)
	if fe := r.timed("CheckPairs", strings.Join(diskIDs, ","), start, err, "the plan's DescribeDisks and a DescribeSnapshots in place of the dry run the instance status stopped"); fe != nil {
		pf.reset.firstErr = fe
		for i, p := range pairs {
			if masked[p.DiskID] {
				pf.progress[i] = progressFor(p, StatusFailed, fe.Code, fe.Message)
			}
		}
		return
	}
	// Masked pairs exist only where instances are stopped, so the plan's
	// DescribeDisks (planInstances) has listed every disk it found.
	diskFound := func(id string) bool { _, ok := r.diskInstance[id]; return ok }
	snapOf := map[string]Snapshot{}
	for _, s := range snaps {
		snapOf[s.SnapshotID] = s
	}
	for i, p := range pairs {
		if !masked[p.DiskID] {
			continue
		}
		s, ok := snapOf[p.SnapshotID]
		switch {
		case !diskFound(p.DiskID):
			pf.progress[i] = progressFor(p, StatusFailed, "InvalidDiskId.NotFound", "disk "+p.DiskID+" is not in region "+r.req.RegionID)
		case !ok:
			pf.progress[i] = progressFor(p, StatusFailed, "InvalidSnapshotId.NotFound", "snapshot "+p.SnapshotID+" is not in region "+r.req.RegionID)
		case s.SourceDiskID != p.DiskID:
			pf.progress[i] = progressFor(p, StatusFailed, "InvalidParameter.Mismatch", "snapshot "+p.SnapshotID+" was taken from "+s.SourceDiskID+", not from "+p.DiskID)
		case s.Status != SnapshotStatusAccomplished:
			pf.progress[i] = progressFor(p, StatusFailed, "InvalidSnapshotId.NotReady", "snapshot "+p.SnapshotID+" is "+s.Status+", not accomplished")
		}
	}
}
