// Package ecstest is the contract of function.ECS: what the function relies
// on from ECS, written once and run against every implementation (in the
// style of go-cloud's drivertest). internal/ecsfake runs it against the
// in-memory fake, this package's tests against ecsclient and the emulator in
// every ecsemu mode, and cmd/cloud-check against real ECS.
//
// Each check is a named function with a doc comment saying what it states;
// RunConformance runs them as subtests, Run runs them without a
// *testing.T (for a command) and returns a Report.
package ecstest

import (
	"context"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// TB is the part of *testing.T a check uses; *testing.T implements it and
// so does the runner of Run.
type TB interface {
	Name() string
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	Context() context.Context
}

// Harness is one implementation under test.
type Harness struct {
	// New returns the ECS and fixture for one mutating check; it is called
	// once per such check. With Caps.Parallel every call must return an
	// independent world.
	New func(t TB) Env
	// Shared, if set, returns the world every read-only check shares (the
	// one naming IDs.Paging); it is called once per run. Nil: New.
	Shared func(t TB) Env
	Caps   Caps
}

// Caps say what a harness allows and how long its transitions take.
type Caps struct {
	// Mutate allows calls that change something: non-dry resets, stop,
	// start, CreateSnapshot, TagResources. Without it only reads and dry
	// runs are made.
	Mutate bool
	// Parallel: checks may run concurrently (New gives independent worlds).
	Parallel bool
	// Transition is how long a reset, stop or start lasts at least: a read
	// made within it after the call returned must show Stopping/Starting or
	// find the reset running. 0: what such reads show is only logged (real
	// ECS gives no such bound).
	Transition time.Duration
	// TagQuota allows filling a disk to the 20-tag quota.
	TagQuota bool
	// Poll is the interval between polls of a transition (default 1s).
	Poll time.Duration
	// Timeout bounds one transition, counted in polls (default 10 min).
	Timeout time.Duration
}

// Env is what one check gets: the ECS under test and the fixture's IDs.
type Env struct {
	ECS function.ECS
	IDs IDs
	// BadCredentials, if set, is the same ECS reached with a wrong secret.
	BadCredentials function.ECS
	// Unreachable, if set, is an ECS whose endpoint does not answer.
	Unreachable function.ECS
	// Secrets must never appear in an error (secret, token).
	Secrets []string
	// Sleep waits between polls of a transition; nil is a real sleep. A
	// fake with an injected clock advances its clock here.
	Sleep func(ctx context.Context, d time.Duration) error
}

// IDs name the fixture's resources. Checks whose resources are not named
// are skipped.
type IDs struct {
	Region string
	// Stopped is a Stopped instance with its disks (In_use) and one
	// accomplished snapshot per disk, in the same order.
	Stopped Instance
	// Running is a Running instance with its disks and snapshots (the
	// snapshots may be empty: the lifecycle check then creates them).
	Running Instance
	// MissingDisk is a well-formed disk ID that does not exist.
	MissingDisk string
	// ForeignSnapshot is a snapshot of a disk that is none of Stopped's.
	ForeignSnapshot string
	// InstanceSnapshot is an accomplished snapshot group of Stopped.
	InstanceSnapshot string
	// Paging names more resources than one page holds; nil skips paging.
	Paging *Paging
}

// Instance is an instance with its disks and a snapshot of each.
type Instance struct {
	ID        string
	Disks     []string
	Snapshots []string
}

// Pairs pairs each disk with its snapshot.
func (in Instance) Pairs() []function.DiskPair {
	out := make([]function.DiskPair, 0, len(in.Disks))
	for i, d := range in.Disks {
		if i < len(in.Snapshots) {
			out = append(out, function.DiskPair{DiskID: d, SnapshotID: in.Snapshots[i]})
		}
	}
	return out
}

// Paging names many resources of one region.
type Paging struct {
	Disks, Instances, Snapshots []string
	// GroupInstance has Groups snapshot groups.
	GroupInstance string
	Groups        int
}

func (c Caps) poll() time.Duration {
	if c.Poll > 0 {
		return c.Poll
	}
	return time.Second
}

func (c Caps) polls() int {
	t := c.Timeout
	if t <= 0 {
		t = 10 * time.Minute
	}
	return max(1, int(t/c.poll()))
}
