// Package ecsfake is an in-memory function.ECS for tests outside package
// function (whose own tests cannot import it: import cycle).
//
// State comes from an ecsemu.Fixture, so one fixture describes the fake and
// the emulator alike; codes and HTTP statuses are the emulator's (in its
// default modes). Transitions (a reset, a stop or start, a new snapshot)
// last Options' durations on an injected clock, or Options.Steps reads of
// the resource. Every call is recorded. A Fake is safe for concurrent use.
// internal/ecstest states the contract it keeps.
package ecsfake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

var _ function.ECS = (*Fake)(nil)

// Options tune a Fake. The zero value makes every transition instant.
type Options struct {
	// Now is the clock; nil is time.Now (see Clock for a manual one).
	Now func() time.Time
	// How long a reset disk stays ReIniting, an instance Stopping or
	// Starting, and a snapshot made by CreateSnapshot progressing.
	ResetDuration, StopDuration, StartDuration, SnapshotDuration time.Duration
	// Steps, when positive, ends each transition after that many calls that
	// read the resource (Describe*, reset checks) instead of by the clock.
	Steps int
}

// Call is one recorded call.
type Call struct {
	Op     string
	Region string
	IDs    []string
	DryRun bool
	Tags   map[string]string
	// Code is the ECS code answered ("" on success); Err the error returned.
	Code string
	Err  error
}

// Fake is an in-memory ECS.
type Fake struct {
	mu    sync.Mutex
	opts  Options
	known map[string]bool // regions

	instances map[string]*instance
	instOrder []string
	disks     map[string]*disk
	diskOrder []string
	snaps     map[string]*snap
	snapOrder []string
	groups    []ecsemu.SnapshotGroup
	inGroup   map[string]bool
	tokens    map[string]string
	resets    map[string][]string

	calls []Call
	hook  func(Call) error
	seq   int
}

// transition is a status change in progress.
type transition struct {
	active bool
	to     string
	until  time.Time
	reads  int
}

type instance struct {
	ecsemu.Instance
	tr transition
}

type disk struct {
	ecsemu.Disk
	tr transition
}

type snap struct {
	ecsemu.Snapshot
	tr transition
}

// New returns a Fake holding a copy of fx (nil: the emulator's default fleet).
func New(fx *ecsemu.Fixture, opts Options) (*Fake, error) {
	if fx == nil {
		fx = ecsemu.DefaultFixture()
	}
	if err := fx.Validate(); err != nil {
		return nil, err
	}
	fx = fx.Clone()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fake{opts: opts, known: map[string]bool{}, instances: map[string]*instance{}, disks: map[string]*disk{},
		snaps: map[string]*snap{}, inGroup: map[string]bool{}, tokens: map[string]string{}, resets: map[string][]string{}}
	for _, r := range fx.Regions {
		f.known[r] = true
	}
	for _, in := range fx.Instances {
		f.instances[in.InstanceID] = &instance{Instance: in}
		f.instOrder = append(f.instOrder, in.InstanceID)
		f.known[in.RegionID] = true
	}
	for _, d := range fx.Disks {
		f.disks[d.DiskID] = &disk{Disk: d}
		f.diskOrder = append(f.diskOrder, d.DiskID)
		f.known[d.RegionID] = true
	}
	for _, s := range fx.Snapshots {
		f.snaps[s.SnapshotID] = &snap{Snapshot: s}
		f.snapOrder = append(f.snapOrder, s.SnapshotID)
	}
	for _, g := range fx.SnapshotGroups {
		f.groups = append(f.groups, g)
		for _, id := range g.SnapshotIDs {
			f.inGroup[id] = true
		}
	}
	return f, nil
}

// SetHook makes h run first on every call (without the Fake's lock); a
// non-nil error is returned instead of serving the call (fault injection).
func (f *Fake) SetHook(h func(Call) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

// Calls returns the calls made so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Resets returns the snapshot IDs disk was reset to, in order.
func (f *Fake) Resets(diskID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.resets[diskID])
}

// do records c and serves it with fn under the lock, after the hook.
func (f *Fake) do(c Call, fn func(now time.Time) error) error {
	f.mu.Lock()
	hook := f.hook
	f.mu.Unlock()
	var err error
	if hook != nil {
		err = hook(c)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		if !f.known[c.Region] {
			err = f.apiErr(ecsemu.CodeInvalidRegionIDNotFound)
		} else {
			err = fn(f.opts.Now())
		}
	}
	c.Err = err
	if ae, ok := err.(*function.APIError); ok {
		c.Code = ae.Code
	}
	f.calls = append(f.calls, c)
	return err
}

// apiErr is ECS's answer code with the emulator's HTTP status. Caller holds f.mu.
func (f *Fake) apiErr(code string) *function.APIError {
	st, _ := ecsemu.CodeStatus(code)
	return &function.APIError{Code: code, HTTPStatus: st, RequestID: f.requestID(), HostID: "ecs.fake", Message: code + " (ecsfake)"}
}

// requestID is a fresh RequestId. Caller holds f.mu.
func (f *Fake) requestID() string {
	f.seq++
	return fmt.Sprintf("ECSFAKE-%08d", f.seq)
}

// start begins a transition to `to` lasting d. Caller holds f.mu.
func (f *Fake) start(tr *transition, to string, d time.Duration, now time.Time) {
	*tr = transition{active: true, to: to, until: now.Add(d)}
}

// settle ends tr if it is over, counting this access as a read when read.
// It reports whether tr ended now. Caller holds f.mu.
func (f *Fake) settle(tr *transition, now time.Time, read bool) bool {
	if !tr.active {
		return false
	}
	if read {
		tr.reads++
	}
	over := !now.Before(tr.until)
	if f.opts.Steps > 0 {
		over = tr.reads >= f.opts.Steps
	}
	if over {
		tr.active = false
	}
	return over
}

// disk returns a settled disk of region, or nil. Caller holds f.mu.
func (f *Fake) disk(region, id string, now time.Time, read bool) *disk {
	d := f.disks[id]
	if d == nil || d.RegionID != region {
		return nil
	}
	if f.settle(&d.tr, now, read) {
		d.Status = d.tr.to
	}
	return d
}

// instance returns a settled instance of region, or nil. Caller holds f.mu.
func (f *Fake) instance(region, id string, now time.Time, read bool) *instance {
	in := f.instances[id]
	if in == nil || in.RegionID != region {
		return nil
	}
	if f.settle(&in.tr, now, read) {
		in.Status = in.tr.to
	}
	return in
}

// snapshot returns a settled snapshot of region, or nil. Caller holds f.mu.
func (f *Fake) snapshot(region, id string, now time.Time, read bool) *snap {
	s := f.snaps[id]
	if s == nil || s.RegionID != region {
		return nil
	}
	if f.settle(&s.tr, now, read) {
		s.Status, s.Progress = s.tr.to, 100
	}
	return s
}

func essd(category string) bool { return strings.HasPrefix(category, "cloud_essd") }

// usable reports whether s can be rolled back to. Caller holds f.mu.
func usable(s *snap) bool { return s.Status == ecsemu.SnapshotAccomplished }

// Clock is a manual clock for Options.Now: it moves only by Advance or Sleep.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Sleep advances the clock by d at once (unless ctx is done).
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}
