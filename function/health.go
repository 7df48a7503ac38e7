package function

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The health gate (Request.HealthCheck): once the instances this rollback
// started are Running, one check per instance says whether the rollback
// left them working:
//
//	InstanceStatus  DescribeInstancesFullStatus until HealthStatus is Ok
//	                (healthy) or Impaired (unhealthy)
//	Command         DescribeCloudAssistantStatus until the agent runs, then
//	                InvokeCommand of HEALTH_COMMAND_ID and
//	                DescribeInvocationResults until it finished: exit code 0
//	                is healthy
//	HTTP            GET http://<the instance's own address>:Port/Path until it
//	                answers ExpectStatus (httpcheck.go)
//
// Each check polls on the common schedule, within TimeoutSeconds and the
// invocation's deadline: not healthy when the bound ends is unhealthy; the
// deadline ending first leaves the gate Pending, never assumed healthy.

// Gate verdicts (HealthOutcome.Status).
const (
	HealthHealthy          = "Healthy"
	HealthUnhealthy        = "Unhealthy"
	HealthPending          = "Pending"
	HealthAgentUnavailable = "AgentUnavailable"
	HealthCheckFailed      = "CheckFailed"
)

// healthTimeoutDefault bounds a gate whose request gives no TimeoutSeconds.
const healthTimeoutDefault = 120 * time.Second

// healthOutputMax bounds the command output kept in a result.
const healthOutputMax = 1024

// gateTargets are the instances the gate checks: the ones this rollback
// started and saw Running, in plan order.
func (r *run) gateTargets() []string {
	var out []string
	for _, id := range r.plan.InstancesToStart {
		if r.started[id] {
			out = append(out, id)
		}
	}
	return out
}

func (r *run) gatePhase(ctx context.Context) error {
	r.gateRound(ctx, r.gateTargets(), 1)
	return nil
}

// gateRound checks ids once (round 1 after the rollback, 2 after an undo)
// and records one HealthOutcome and one step per instance.
func (r *run) gateRound(ctx context.Context, ids []string, round int) {
	if len(ids) == 0 {
		return
	}
	hc := r.req.HealthCheck
	bound := healthTimeoutDefault
	if hc.TimeoutSeconds > 0 {
		bound = time.Duration(hc.TimeoutSeconds) * time.Second
	}
	start := r.h.now()
	end := start.Add(bound)
	deadlineFirst := false
	if d, ok := ctx.Deadline(); ok && !d.After(end) {
		deadlineFirst = true
	}
	gctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	if deadlineFirst {
		gctx, cancel = context.WithCancel(ctx)
		defer cancel()
	}
	g := &gate{r: r, ids: ids, round: round, out: map[string]*HealthOutcome{}, deadlineFirst: deadlineFirst, bound: bound}
	for _, id := range ids {
		g.out[id] = &HealthOutcome{InstanceID: id, Type: hc.Type, Round: round}
	}
	switch hc.Type {
	case "InstanceStatus":
		g.instanceStatus(gctx)
	case "Command":
		g.command(gctx)
	case "HTTP":
		g.http(gctx)
	}
	for _, id := range ids {
		o := g.out[id]
		if o.Status == "" {
			// The check did not conclude: the bound or the deadline ended it.
			o.Status = HealthUnhealthy
			o.Detail = fmt.Sprintf("not healthy within %s: %s", bound, firstNonEmpty(o.Detail, "no answer yet"))
			if deadlineFirst {
				o.Status = HealthPending
				o.Detail = "the invocation deadline came before the check concluded: " + firstNonEmpty(o.Detail, "no answer yet")
			}
		}
		step := Step{Name: "HealthCheck", Target: id, Message: fmt.Sprintf("%s round %d: %s", hc.Type, round, o.Detail), DurationMs: r.h.since(start)}
		switch o.Status {
		case HealthHealthy:
			step.Outcome = StatusSucceeded
		case HealthPending:
			step.Outcome, step.Code = StatusInProgress, ErrHealthCheckPending
		case HealthUnhealthy:
			step.Outcome, step.Code = StatusFailed, ErrUnhealthy
		default:
			step.Outcome, step.Code = StatusFailed, ErrHealthCheckUnavailable
		}
		r.step(step)
		r.res.Health = append(r.res.Health, *o)
	}
}

// gate is one round's checks in progress.
type gate struct {
	r     *run
	ids   []string
	round int
	out   map[string]*HealthOutcome
	// deadlineFirst: the invocation deadline ends the check before its bound.
	deadlineFirst bool
	bound         time.Duration
}

// open lists the instances without a verdict yet.
func (g *gate) open() []string {
	return slices.DeleteFunc(slices.Clone(g.ids), func(id string) bool { return g.out[id].Status != "" })
}

// failAll gives every open instance status with detail.
func (g *gate) failAll(status, detail string) {
	for _, id := range g.open() {
		g.out[id].Status, g.out[id].Detail = status, detail
	}
}

func (g *gate) instanceStatus(ctx context.Context) {
	r := g.r
	calls := 0
	pr := r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		calls++
		hs, err := r.ecs.DescribeInstancesFullStatus(ctx, r.req.RegionID, g.open())
		if err != nil {
			return false, err
		}
		for _, h := range hs {
			o, ok := g.out[h.InstanceID]
			if !ok || o.Status != "" {
				continue
			}
			o.Detail = fmt.Sprintf("HealthStatus %s (lifecycle %s; %d DescribeInstancesFullStatus calls)", firstNonEmpty(h.Health, "none"), firstNonEmpty(h.Status, "unknown"), calls)
			switch {
			case strings.EqualFold(h.Health, healthOk):
				o.Status = HealthHealthy
			case h.Health == healthImpaired:
				o.Status = HealthUnhealthy
			}
		}
		return len(g.open()) == 0, nil
	})
	if pr.err != nil {
		fe := FromECS("DescribeInstancesFullStatus", pr.err)
		g.failAll(HealthCheckFailed, fe.Error())
	}
}

// agentErrors are the DescribeInvocationResults ErrorCodes that mean the
// Cloud Assistant agent could not run the command.
var agentErrors = []string{"ClientNotRunning", "ClientNotResponse", "ClientIsUpgrading", "ClientNeedUpgrade", "ClientNetworkBlocked"}

// invocationFinished are the InvocationStatus values of a finished run.
var invocationFinished = []string{"Success", "Failed", "Error", "Timeout", "Cancelled", "Terminated", "Aborted", "Invalid"}

func (g *gate) command(ctx context.Context) {
	r := g.r
	cmd := r.h.Config.HealthCommandID
	if cmd == "" {
		g.failAll(HealthCheckFailed, "HEALTH_COMMAND_ID is not set: the function has no registered command to run")
		return
	}
	// The agent first: right after a start it may not have reported yet.
	// It gets a third of the bound, leaving the rest to the command.
	agentEnd := r.h.now().Add(g.bound / 3)
	actx, cancel := context.WithDeadline(ctx, agentEnd)
	defer cancel()
	agentDeadlineFirst := false
	if d, ok := ctx.Deadline(); ok && !d.After(agentEnd) {
		actx, agentDeadlineFirst = ctx, g.deadlineFirst
	}
	calls := 0
	running := map[string]bool{}
	pr := r.w.poll(actx, func(ctx context.Context) (bool, error) {
		calls++
		as, err := r.ecs.DescribeCloudAssistantStatus(ctx, r.req.RegionID, g.ids)
		if err != nil {
			return false, err
		}
		for _, a := range as {
			running[a.InstanceID] = a.Running
		}
		all := true
		for _, id := range g.ids {
			if !running[id] {
				g.out[id].Detail = fmt.Sprintf("the Cloud Assistant agent is not running (%d DescribeCloudAssistantStatus calls)", calls)
				all = false
			}
		}
		return all, nil
	})
	if pr.err != nil {
		g.failAll(HealthCheckFailed, FromECS("DescribeCloudAssistantStatus", pr.err).Error())
		return
	}
	var ready []string
	for _, id := range g.ids {
		switch {
		case running[id]:
			ready = append(ready, id)
		case !agentDeadlineFirst:
			// Not running within its share of the bound (the deadline
			// coming first leaves it open: Pending).
			g.out[id].Status = HealthAgentUnavailable
		}
	}
	if len(ready) == 0 || ctx.Err() != nil {
		return
	}
	start := r.h.now()
	in := InvokeCommandInput{RegionID: r.req.RegionID, CommandID: cmd, InstanceIDs: ready,
		ClientToken: "hc-" + guardHash(fmt.Sprintf("%s/%s/%d/%d", r.inv.RequestID, strings.Join(ready, ","), g.round, start.UnixNano()))}
	invokeID, err := r.ecs.InvokeCommand(ctx, in)
	if fe := r.timed("InvokeCommand", strings.Join(ready, ","), start, err, cmd+" → "+invokeID); fe != nil {
		g.failAll(HealthCheckFailed, fe.Error())
		return
	}
	calls = 0
	pr = r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		calls++
		res, err := r.ecs.DescribeInvocationResults(ctx, r.req.RegionID, invokeID)
		if err != nil {
			return false, err
		}
		for _, x := range res {
			o, ok := g.out[x.InstanceID]
			if !ok || o.Status != "" {
				continue
			}
			o.Detail = fmt.Sprintf("invocation %s %s (%d DescribeInvocationResults calls)", invokeID, x.InvocationStatus, calls)
			if !slices.Contains(invocationFinished, x.InvocationStatus) {
				continue
			}
			o.Output = truncateOutput(x.Output)
			exit := x.ExitCode
			o.ExitCode = &exit
			switch {
			case x.InvocationStatus == "Success" && x.ExitCode == 0:
				o.Status = HealthHealthy
				o.Detail = fmt.Sprintf("command %s exited 0", cmd)
			case slices.Contains(agentErrors, x.ErrorCode):
				o.Status = HealthAgentUnavailable
				o.Detail = fmt.Sprintf("command %s not run: %s %s", cmd, x.ErrorCode, x.ErrorInfo)
			default:
				o.Status = HealthUnhealthy
				o.Detail = fmt.Sprintf("command %s %s with exit code %d %s", cmd, x.InvocationStatus, x.ExitCode, x.ErrorCode)
			}
		}
		return len(g.open()) == 0, nil
	})
	if pr.err != nil {
		g.failAll(HealthCheckFailed, FromECS("DescribeInvocationResults", pr.err).Error())
	}
}

// truncateOutput keeps the start of a command's output.
func truncateOutput(s string) string {
	if len(s) <= healthOutputMax {
		return s
	}
	cut := healthOutputMax
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes more)", len(s)-cut)
}
