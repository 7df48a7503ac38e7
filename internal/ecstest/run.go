package ecstest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// check is one statement of the contract.
type check struct {
	name string
	// mutates: the check needs Caps.Mutate.
	mutates bool
	fn      func(t TB, h Harness, e Env)
}

// RunConformance runs every check as a subtest of t against h.
func RunConformance(t *testing.T, h Harness) {
	t.Helper()
	shared := sharedEnv(t, h)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if h.Caps.Parallel {
				t.Parallel()
			}
			runCheck(t, h, c, shared)
		})
	}
}

// sharedEnv is the world of the read-only checks.
func sharedEnv(t TB, h Harness) Env {
	if h.Shared != nil {
		return h.Shared(t)
	}
	return h.New(t)
}

// runCheck skips a mutating check when mutating is not allowed, then runs
// it on its Env (a fresh one if it mutates) with an ECS that checks every
// error it returns.
func runCheck(t TB, h Harness, c check, shared Env) {
	if c.mutates && !h.Caps.Mutate {
		t.Skipf("mutating check: the harness allows reads and dry runs only")
	}
	e := shared
	if c.mutates {
		e = h.New(t)
	}
	e.ECS = guard{t: t, next: e.ECS, secrets: e.Secrets}
	c.fn(t, h, e)
}

// Names lists the checks in the order they run.
func Names() []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.name
	}
	return out
}

// Outcomes of a check in a Report.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Result is one check's outcome in a Report.
type Result struct {
	Name       string   `json:"name"`
	Outcome    string   `json:"outcome"`
	DurationMS int64    `json:"durationMs"`
	Log        []string `json:"log,omitempty"`
}

// Report is what Run returns.
type Report struct {
	Checks []Result `json:"checks"`
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Outcome == Fail {
			return true
		}
	}
	return false
}

// Run runs the checks whose name match accepts (nil: all) one after the
// other, without a *testing.T, for a command such as cmd/cloud-check.
func Run(ctx context.Context, h Harness, match func(name string) bool) Report {
	var rep Report
	setup := &runner{name: "setup", ctx: ctx}
	var shared Env
	if !runIn(setup, func() { shared = sharedEnv(setup, h) }) {
		return Report{Checks: []Result{setup.result(0)}}
	}
	defer setup.runCleanups()
	for _, c := range checks {
		if match != nil && !match(c.name) {
			continue
		}
		r := &runner{name: c.name, ctx: ctx}
		start := time.Now()
		runIn(r, func() { runCheck(r, h, c, shared) })
		r.runCleanups()
		rep.Checks = append(rep.Checks, r.result(time.Since(start)))
	}
	return rep
}

// runIn runs f on its own goroutine (Fatalf and Skipf end it) and reports
// whether r neither failed nor skipped.
func runIn(r *runner, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.failed && !r.skipped
}

// runner implements TB for Run: Fatalf and Skipf end the check's goroutine
// as testing does.
type runner struct {
	name string
	ctx  context.Context

	mu       sync.Mutex
	failed   bool
	skipped  bool
	log      []string
	cleanups []func()
}

func (r *runner) Name() string             { return r.name }
func (r *runner) Helper()                  {}
func (r *runner) Context() context.Context { return r.ctx }

func (r *runner) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *runner) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

func (r *runner) Errorf(format string, args ...any) {
	r.Logf("FAIL: "+format, args...)
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
}

func (r *runner) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *runner) Skipf(format string, args ...any) {
	r.Logf("SKIP: "+format, args...)
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *runner) runCleanups() {
	r.mu.Lock()
	cs := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

func (r *runner) result(d time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Result{Name: r.name, Outcome: Pass, DurationMS: d.Milliseconds(), Log: r.log}
	switch {
	case r.failed:
		out.Outcome = Fail
	case r.skipped:
		out.Outcome = Skip
	}
	return out
}

// guard wraps the ECS under test and states, for every call of every
// check, that errors are *function.APIError or *function.TransportError and
// that no error text holds a secret.
type guard struct {
	t       TB
	next    function.ECS
	secrets []string
}

var _ function.ECS = guard{}

func (g guard) check(op string, err error) {
	if err == nil {
		return
	}
	var ae *function.APIError
	var te *function.TransportError
	if !errors.As(err, &ae) && !errors.As(err, &te) {
		g.t.Errorf("%s: got error %T %v, want *function.APIError or *function.TransportError", op, err, err)
	}
	text := fmt.Sprintf("%v %+v %#v", err, err, err)
	for _, s := range g.secrets {
		if s != "" && strings.Contains(text, s) {
			g.t.Errorf("%s: error text carries a credential: %q", op, s)
		}
	}
}

func (g guard) ResetDisks(ctx context.Context, in function.ResetDisksInput) (*function.ResetDisksOutput, error) {
	out, err := g.next.ResetDisks(ctx, in)
	g.check("ResetDisks", err)
	return out, err
}

func (g guard) ResetDisk(ctx context.Context, in function.ResetDiskInput) (string, error) {
	id, err := g.next.ResetDisk(ctx, in)
	g.check("ResetDisk", err)
	return id, err
}

func (g guard) DescribeDisks(ctx context.Context, region string, ids []string) ([]function.Disk, error) {
	out, err := g.next.DescribeDisks(ctx, region, ids)
	g.check("DescribeDisks", err)
	return out, err
}

func (g guard) DescribeInstances(ctx context.Context, region string, ids []string) ([]function.Instance, error) {
	out, err := g.next.DescribeInstances(ctx, region, ids)
	g.check("DescribeInstances", err)
	return out, err
}

func (g guard) DescribeInstancesByTag(ctx context.Context, region, key, value string) ([]function.Instance, error) {
	out, err := g.next.DescribeInstancesByTag(ctx, region, key, value)
	g.check("DescribeInstancesByTag", err)
	return out, err
}

func (g guard) DescribeInstanceDisks(ctx context.Context, region, instanceID string) ([]function.Disk, error) {
	out, err := g.next.DescribeInstanceDisks(ctx, region, instanceID)
	g.check("DescribeInstanceDisks", err)
	return out, err
}

func (g guard) DescribeInstancesFullStatus(ctx context.Context, region string, ids []string) ([]function.InstanceHealth, error) {
	out, err := g.next.DescribeInstancesFullStatus(ctx, region, ids)
	g.check("DescribeInstancesFullStatus", err)
	return out, err
}

func (g guard) DescribeCloudAssistantStatus(ctx context.Context, region string, ids []string) ([]function.AgentStatus, error) {
	out, err := g.next.DescribeCloudAssistantStatus(ctx, region, ids)
	g.check("DescribeCloudAssistantStatus", err)
	return out, err
}

func (g guard) InvokeCommand(ctx context.Context, in function.InvokeCommandInput) (string, error) {
	out, err := g.next.InvokeCommand(ctx, in)
	g.check("InvokeCommand", err)
	return out, err
}

func (g guard) DescribeInvocationResults(ctx context.Context, region, invokeID string) ([]function.InvocationResult, error) {
	out, err := g.next.DescribeInvocationResults(ctx, region, invokeID)
	g.check("DescribeInvocationResults", err)
	return out, err
}

func (g guard) DescribeSnapshots(ctx context.Context, region string, ids []string) ([]function.Snapshot, error) {
	out, err := g.next.DescribeSnapshots(ctx, region, ids)
	g.check("DescribeSnapshots", err)
	return out, err
}

func (g guard) DescribeSnapshotGroups(ctx context.Context, in function.DescribeSnapshotGroupsInput) ([]function.SnapshotGroup, error) {
	out, err := g.next.DescribeSnapshotGroups(ctx, in)
	g.check("DescribeSnapshotGroups", err)
	return out, err
}

func (g guard) StopInstance(ctx context.Context, in function.StopInstanceInput) error {
	err := g.next.StopInstance(ctx, in)
	g.check("StopInstance", err)
	return err
}

func (g guard) StartInstance(ctx context.Context, region, id string, dryRun bool) error {
	err := g.next.StartInstance(ctx, region, id, dryRun)
	g.check("StartInstance", err)
	return err
}

func (g guard) CreateSnapshot(ctx context.Context, in function.CreateSnapshotInput) (string, error) {
	id, err := g.next.CreateSnapshot(ctx, in)
	g.check("CreateSnapshot", err)
	return id, err
}

func (g guard) TagResources(ctx context.Context, region, rt string, ids []string, tags map[string]string) error {
	err := g.next.TagResources(ctx, region, rt, ids, tags)
	g.check("TagResources", err)
	return err
}

func (g guard) ListTagResources(ctx context.Context, region, rt string, ids []string) ([]function.ResourceTag, error) {
	out, err := g.next.ListTagResources(ctx, region, rt, ids)
	g.check("ListTagResources", err)
	return out, err
}
