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

// preflightPhase runs the checks; in a real run a failed check ends the
// rollback with nothing changed.
func (r *run) preflightPhase(ctx context.Context) error {
	pf := r.preflight(ctx)
	if r.req.DryRun {
		r.answerPre = pf
		return nil
	}
	if pf.passed() {
		return nil
	}
	if pf.reset.notSent {
		return &Error{Code: ErrDeadlineExceeded, Message: "the invocation deadline came before the checks of the plan finished; nothing was stopped or reset", cause: errDeadline}
	}
	if whole := pf.wholeRefusal(); whole != nil {
		// ECS refuses the request as a whole: report its own code, as the
		// dry run does.
		fe := *whole
		fe.Message += "; nothing was stopped or reset"
		r.res.OperationProgressSet = OperationProgressSet{OperationProgress: pf.progress}
		return &fe
	}
	var bad []string
	out := make([]OperationProgress, len(pf.progress))
	for i, op := range pf.progress {
		if op.OperationStatus == OperationStatusSuccess {
			op.OperationStatus, op.ErrorCode = StatusFailed, ErrPlanRefused
			op.ErrorMsg = "not reset: another pair or instance of this request failed its checks"
		} else {
			bad = append(bad, op.Item("DiskId")+" ("+op.ErrorCode+")")
		}
		out[i] = op
	}
	for id, fe := range pf.stopRefused {
		bad = append(bad, "StopInstance "+id+" ("+fe.Code+")")
	}
	for id, fe := range pf.startRefused {
		bad = append(bad, "StartInstance "+id+" ("+fe.Code+")")
	}
	r.res.OperationProgressSet = OperationProgressSet{OperationProgress: out}
	return &Error{Code: ErrPlanRefused, Message: fmt.Sprintf("the request was refused as a whole, before anything was stopped or reset, because its dry run fails for: %s", strings.Join(bad, ", "))}
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
	for i, p := range pairs {
		if fe := pf.stopRefused[r.diskInstance[p.DiskId]]; fe != nil {
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

// answerDryRun reports the preflight verdict as a dry run's answer.
func (r *run) answerDryRun() (*Result, error) {
	if r.failure != nil {
		r.res.Summary = Summary{Status: StatusFailed, Total: len(r.planPairs()), DryRun: true, Message: r.failure.Message}
		if r.res.OperationProgressSet.OperationProgress == nil {
			r.res.OperationProgressSet.OperationProgress = []OperationProgress{}
		}
		r.failure.Result = r.res
		return nil, r.failure
	}
	pf := r.answerPre
	r.setRequestIDs(pf.reset.requestIDs)
	r.res.OperationProgressSet = OperationProgressSet{OperationProgress: pf.progress}
	r.res.Summary = summarise(r.res.OperationProgressSet, true)
	if fe := pf.wholeRefusal(); fe != nil {
		r.res.Summary.Message = fe.Message
		fe.Result = r.res
		return nil, fe
	}
	if r.req.Wait || len(r.plan.InstancesToStart) > 0 {
		r.step(Step{Name: "WaitDisks", Target: joinDiskIDs(r.plan.Pairs), Outcome: stepSkipped, Message: "dry run: nothing to wait for"})
	}
	if pf.reset.notSent {
		fe := &Error{Code: ErrDeadlineExceeded, Message: "the invocation deadline came before the dry run finished", cause: errDeadline}
		r.res.Summary.Message = fe.Message
		fe.Result = r.res
		return nil, fe
	}
	var msgs []string
	for _, id := range r.plan.InstancesToStart {
		if fe := pf.startRefused[id]; fe != nil {
			msgs = append(msgs, "StartInstance "+id+" would be refused: "+fe.Code)
		}
	}
	if len(pf.startRefused) > 0 && r.res.Summary.Status == StatusDryRunPassed {
		r.res.Summary.Status = StatusPartiallyFailed
	}
	r.res.Summary.Message = strings.Join(msgs, "; ")
	return r.res, nil
}
