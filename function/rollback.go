package function

import (
	"context"
	"slices"
	"strings"
	"time"
)

// codeDryRunOperation is ECS's answer to a dry run that would succeed.
const codeDryRunOperation = "DryRunOperation"

// stepSkipped is the Outcome of a step that was planned but not carried out.
const stepSkipped = "Skipped"

// run is one rollback's working state: one value per invocation, touched
// only by the goroutine running Rollback (reset batches read its read-only
// fields). Every phase reads and writes it; nothing lives in package state.
type run struct {
	h     *Handler
	ecs   ECS
	inv   Invocation
	req   *Request
	res   *Result
	plan  *Plan
	w     *waiter
	clock Clock
	ctx   context.Context // the invocation's: read-backs and compensations outlive the work context

	diskInstance map[string]string // disk → instance, when instances were looked up
	instStatus   map[string]string // instance → status when planned
	awaitStopped []string          // instances found Stopping by someone else: waited for
	owned        []string          // instances this rollback (or an earlier attempt of it) stopped
	started      map[string]bool   // owned or planned instances seen Running after our start

	claim   *claim     // the disks claimed for this rollback; nil before the guard phase
	toReset []DiskPair // claimed and to be reset by this invocation
	dups    []DiskPair // already reset for this idempotency key
	busy    []DiskPair // being reset right now by another invocation with this key

	resetDone bool        // the reset phase ran (some calls may have been made)
	reset     resetResult // its outcome, one progress per toReset pair
	pending   []string    // reset disks not seen out of ReIniting by the wait
	waitErr   error

	compensations []compensation
	failure       *Error           // what ended the phases early, if anything
	recordLost    bool             // the claim's record could not be written
	startReached  bool             // the start phase ran
	answerPre     *preflightResult // a dry run's verdict

	netBefore  map[string]Network // instance → network when planned (identity.go)
	netAfter   map[string]Network // instance → network after the start
	startCause map[string]string  // instance → why StartInstance kept refusing (no stock)
	undo       *undoState         // the undo after an unhealthy gate (undo.go)
}

// compensation undoes, or finishes, what a phase changed in the world. They
// run once, last registered first, after the phases end for any reason.
type compensation func(ctx context.Context)

// phase is one stage of a rollback. Phases run in order until one fails;
// a phase that changes the world registers its compensation first.
type phase struct {
	name string
	// needsReserve: runs on the work context, which ends early enough to
	// leave time to start again what the rollback stopped.
	needsReserve bool
	// idle, when set, reports that the phase has nothing to do: then the
	// deadline having passed is no failure of it.
	idle func() bool
	// atDeadline: the phase runs even once the deadline has passed, to
	// report what it could not do (the gate: Pending, never healthy).
	atDeadline bool
	do         func(ctx context.Context) error
}

// Rollback carries out a request with one invocation's ECS client:
//
//	plan       pairs from an instance snapshot; instances of the disks (reads only)
//	allow      the allow-list (ALLOWED_DISK_TAG)
//	claim      cooldown and idempotency (disk tags); compensation: record outcomes
//	preflight  the dry-run form of every mutating call for the pairs still to
//	           reset; a real run stops here, refusing the whole request, when
//	           any pair or instance cannot work: nothing stopped, nothing reset
//	stop       StopInstance KeepCharging, wait until Stopped; compensation: start again
//	backup     CreateSnapshot per disk, wait until accomplished
//	reset      ResetDisks batches (3 at once) or ResetDisk per disk
//	wait       DescribeDisks until no reset disk is ReIniting (Wait or StartInstance)
//	start      StartInstance, wait until Running
//
// A dry run is plan, allow and preflight of every pair. Whatever ends the phases, the
// compensations run and one place (answer) classifies the outcome: each
// disk is done, not done or unknown, and each stopped instance is running
// again or reported (InstanceNotRestarted).
func (h *Handler) Rollback(ctx context.Context, ecs ECS, inv Invocation, req *Request) (*Result, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return h.rollbackValid(ctx, ecs, inv, req)
}

// rollbackValid is Rollback for a request Validate has passed: Run
// validates before it connects, and a second pass found nothing new (it
// cost each warm invocation ~12 µs, bench/CHANGES.md).
func (h *Handler) rollbackValid(ctx context.Context, ecs ECS, inv Invocation, req *Request) (*Result, error) {
	clock := h.clock()
	r := &run{h: h, ecs: ecs, inv: inv, req: req, res: &Result{}, w: newWaiter(clock, h.Config.PollInterval), clock: clock, ctx: ctx, started: map[string]bool{}}
	work, cancel := ctx, context.CancelFunc(func() {})
	defer func() { cancel() }()
	for _, p := range r.phases() {
		if p.needsReserve && work == ctx && len(r.plan.InstancesToStop)+len(r.owned) > 0 {
			work, cancel = withStartReserve(ctx) // from the first phase that may leave an instance stopped
		}
		pctx := ctx
		if p.needsReserve {
			pctx = work
		}
		if p.idle != nil && p.idle() {
			continue
		}
		if pctx.Err() != nil && !p.atDeadline {
			r.failure = r.deadlineBefore(p.name)
			break
		}
		if err := p.do(pctx); err != nil {
			r.failure = FromECS(p.name, err)
			break
		}
	}
	for i := len(r.compensations) - 1; i >= 0; i-- {
		r.compensations[i](ctx)
	}
	return r.answer(ctx)
}

// phases lists the phases of this request.
func (r *run) phases() []phase {
	ps := []phase{
		{name: "plan", do: r.planPhase},
		{name: "allow", do: func(ctx context.Context) error { return r.h.checkAllowed(ctx, r.ecs, r.plan) }},
	}
	if r.req.DryRun {
		return append(ps, phase{name: "preflight", do: r.preflightPhase})
	}
	return append(ps,
		phase{name: "claim", do: r.claimPhase},
		phase{name: "preflight", do: r.preflightPhase},
		phase{name: "stop", needsReserve: true, do: r.stopPhase},
		phase{name: "backup", needsReserve: true, idle: func() bool { return !r.req.BackupBeforeReset || len(r.toReset) == 0 }, do: r.backupPhase},
		phase{name: "reset", needsReserve: true, idle: func() bool { return len(r.toReset) == 0 }, do: r.resetPhase},
		phase{name: "wait", needsReserve: true, idle: func() bool { return !r.waitNeeded() }, do: r.waitPhase},
		phase{name: "start", idle: func() bool { return len(r.instancesToStart()) == 0 }, do: r.startPhase},
		phase{name: "identity", idle: func() bool { return len(r.gateTargets()) == 0 }, do: r.identityPhase},
		phase{name: "gate", atDeadline: true, idle: func() bool { return r.req.HealthCheck == nil || len(r.gateTargets()) == 0 }, do: r.gatePhase},
		phase{name: "undo", atDeadline: true, idle: func() bool { return !r.undoWanted() }, do: r.undoPhase},
	)
}

// startReserveMin/Max bound the time kept back, once instances are to be
// stopped, to start them again: a quarter of what is left.
const (
	startReserveMin = 500 * time.Millisecond
	startReserveMax = 30 * time.Second
)

// withStartReserve ends the work phases early enough that the start phase
// and the compensations still have time to start the instances again.
func withStartReserve(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := min(max(time.Until(deadline)/4, startReserveMin), startReserveMax)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// compensate registers what to run after the phases, whatever ends them.
func (r *run) compensate(do compensation) {
	r.compensations = append(r.compensations, do)
}

func (r *run) planPhase(ctx context.Context) error {
	if hc := r.req.HealthCheck; hc != nil && hc.Type == "Command" && r.h.Config.HealthCommandID == "" {
		// Knowable before anything is done: refuse rather than roll back
		// and then say the gate could not check.
		return Errorf(ErrPlanRefused, "HealthCheck Type Command needs the function's HEALTH_COMMAND_ID (the registered Cloud Assistant command); it is not set; nothing was done")
	}
	plan, err := r.resolve(ctx)
	r.res.Plan = plan
	return err
}

// claimPhase applies cooldown and idempotency; the claim's record of each
// disk's outcome is written last, whatever happens in between.
func (r *run) claimPhase(ctx context.Context) error {
	until, _ := r.ctx.Deadline()
	c, err := r.h.claim(ctx, r.ecs, r.inv, r.plan, until)
	if err != nil {
		return err
	}
	r.claim = c
	r.toReset, r.dups, r.busy = c.toReset, c.duplicates, c.busy
	r.compensate(r.record)
	key := r.keyDescription()
	for _, d := range r.dups {
		r.step(Step{Name: "Idempotency", Target: d.DiskID, Outcome: stepSkipped, Message: "already reset for " + key})
	}
	for _, d := range r.busy {
		r.step(Step{Name: "Idempotency", Target: d.DiskID, Outcome: stepSkipped, Code: ErrRollbackInProgress, Message: "being reset right now by another invocation with " + key})
	}
	if len(r.dups)+len(r.busy) > 0 {
		r.plan.Batches = planBatches(r.toReset)
	}
	return nil
}

// record writes each claimed disk's outcome (the claim's release): done,
// unknown, or failed for a disk this invocation did not reset.
func (r *run) record(ctx context.Context) {
	outcome := map[string]string{}
	for id := range r.claim.won {
		outcome[id] = stateFailed
	}
	for i, p := range r.toReset {
		if !r.resetDone || i >= len(r.reset.progress) {
			continue
		}
		switch r.reset.progress[i].OperationStatus {
		case OperationStatusSuccess:
			outcome[p.DiskID] = stateDone
		case OperationStatusUnknown:
			outcome[p.DiskID] = stateUnknown
		}
	}
	if len(outcome) == 0 {
		return
	}
	start := r.h.now()
	err := r.claim.record(ctx, outcome, r.h.now())
	if err != nil {
		fe := FromECS("TagResources", err)
		r.step(Step{Name: "RecordOutcome", Target: strings.Join(sortedKeys(r.claim.won), ","), Outcome: StatusFailed, Code: fe.Code,
			Message: "the outcome could not be recorded on the disks: requests with other keys get " + ErrGuardRecordLost + " for them until the claim goes stale; " + fe.Message, DurationMs: r.h.since(start)})
		r.recordLost = true
		return
	}
	r.step(Step{Name: "RecordOutcome", Target: strings.Join(sortedKeys(r.claim.won), ","), Outcome: StatusSucceeded, DurationMs: r.h.since(start)})
	var done []string
	for id, st := range outcome {
		if st == stateDone {
			done = append(done, id)
		}
	}
	if len(done) > 0 {
		slices.Sort(done)
		r.recordBackups(ctx, done)
	}
}

func (r *run) keyDescription() string {
	if r.plan.IdempotencyKey == "" {
		return "this FC request id (a retry of the same invocation)"
	}
	return "idempotency key " + r.plan.IdempotencyKey
}

func (r *run) backupPhase(ctx context.Context) error {
	if !r.req.BackupBeforeReset || len(r.toReset) == 0 {
		return nil
	}
	return r.backup(ctx, r.toReset)
}

func (r *run) resetPhase(ctx context.Context) error {
	if len(r.toReset) == 0 {
		return nil
	}
	r.resetDone = true
	r.reset = r.resetPairs(ctx, r.toReset, false)
	r.setRequestIDs(r.reset.requestIDs)
	if !r.reset.answered && !r.reset.notSent && r.reset.firstErr != nil {
		// Every call was refused: nothing happened; report the refusal.
		return r.reset.firstErr
	}
	if r.reset.notSent {
		return &Error{Code: ErrDeadlineExceeded, Message: "the invocation deadline came before every disk was sent for reset", cause: errDeadline}
	}
	return nil
}

// resetIDs are the disks this invocation reset and ECS accepted.
func (r *run) resetIDs() []string {
	var ids []string
	for i, p := range r.toReset {
		if r.resetDone && i < len(r.reset.progress) && r.reset.progress[i].OperationStatus == OperationStatusSuccess {
			ids = append(ids, p.DiskID)
		}
	}
	return ids
}

// waitNeeded reports whether disks were reset now and the request waits
// for them (Wait, or an instance to start).
func (r *run) waitNeeded() bool {
	return len(r.resetIDs()) > 0 && (r.req.Wait || len(r.instancesToStart()) > 0)
}

func (r *run) waitPhase(ctx context.Context) error {
	r.res.Disks, r.pending, r.waitErr = r.waitDisks(ctx, r.resetIDs())
	return nil
}

// failOnPartial is the request's FailOnPartial, else FAIL_ON_PARTIAL.
func (r *run) failOnPartial() bool {
	if r.req.FailOnPartial != nil {
		return *r.req.FailOnPartial
	}
	return r.h.Config.FailOnPartial
}

// deadlineBefore is the failure of a phase that could not start in time.
func (r *run) deadlineBefore(phase string) *Error {
	fe := &Error{Code: ErrDeadlineExceeded, Message: "the invocation deadline came before the " + phase + " phase", cause: errDeadline}
	r.step(Step{Name: "Deadline", Outcome: StatusFailed, Code: fe.Code, Message: fe.Message})
	return fe
}
