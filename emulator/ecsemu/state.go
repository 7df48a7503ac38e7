package ecsemu

import (
	"maps"
	"slices"
	"time"
)

// Status values used by the emulator, as ECS spells them.
const (
	DiskInUse     = "In_use"
	DiskAvailable = "Available"
	DiskReIniting = "ReIniting"

	InstanceRunning  = "Running"
	InstanceStopped  = "Stopped"
	InstanceStopping = "Stopping"
	InstanceStarting = "Starting"

	SnapshotProgressing  = "progressing"
	SnapshotAccomplished = "accomplished"
	SnapshotFailed       = "failed"
)

// pending is a transition evaluated lazily against the clock: no goroutines
// or timers, so nothing outlives Close and reads stay race-free under mu.
type pending struct {
	start, at time.Time
	to        string
}

type diskState struct {
	Disk
	r resetRun
}

// resetRun is a reset in progress on a disk: it runs until `until`; when
// show is set the disk shows ReIniting from `visible` on (see Modes.ResetStatus)
// and gets its prior status back at the end.
type resetRun struct {
	visible, until time.Time
	prior          string
	show, shown    bool
}

type instState struct {
	Instance
	p pending
}

type snapState struct {
	Snapshot
	p pending
}

type state struct {
	regions   map[string]bool
	instances map[string]*instState
	disks     map[string]*diskState
	snapshots map[string]*snapState
	groups    map[string]*SnapshotGroup
	// fixture order, for stable listings
	instOrder, diskOrder, snapOrder, groupOrder []string
	resets                                      map[string][]string
	// inGroup marks snapshots that belong to an instance snapshot (ssg-).
	inGroup map[string]bool
	// tokens maps a CreateSnapshot ClientToken to the snapshot it made.
	tokens map[string]string
	// Cloud Assistant commands and invocations (actions_health.go).
	commands     map[string]*Command
	cmdOrder     []string
	invocations  map[string]*invocation
	invokeTokens map[string]string
}

func newState(f *Fixture) *state {
	st := &state{
		regions:   map[string]bool{},
		instances: map[string]*instState{},
		disks:     map[string]*diskState{},
		snapshots: map[string]*snapState{},
		groups:    map[string]*SnapshotGroup{},
		resets:    map[string][]string{},
		inGroup:   map[string]bool{},
		tokens:    map[string]string{},

		commands:     map[string]*Command{},
		invocations:  map[string]*invocation{},
		invokeTokens: map[string]string{},
	}
	for _, x := range f.Commands {
		st.regions[x.RegionID] = true
		c := x
		st.commands[x.CommandID] = &c
		st.cmdOrder = append(st.cmdOrder, x.CommandID)
	}
	for _, r := range f.Regions {
		st.regions[r] = true
	}
	for _, x := range f.Instances {
		st.regions[x.RegionID] = true
		st.instances[x.InstanceID] = &instState{Instance: x}
		st.instOrder = append(st.instOrder, x.InstanceID)
	}
	for _, x := range f.Disks {
		st.regions[x.RegionID] = true
		st.disks[x.DiskID] = &diskState{Disk: x}
		st.diskOrder = append(st.diskOrder, x.DiskID)
	}
	for _, x := range f.Snapshots {
		st.regions[x.RegionID] = true
		if x.Status == SnapshotAccomplished {
			x.Progress = 100
		}
		st.snapshots[x.SnapshotID] = &snapState{Snapshot: x}
		st.snapOrder = append(st.snapOrder, x.SnapshotID)
	}
	for _, x := range f.SnapshotGroups {
		st.regions[x.RegionID] = true
		g := x
		st.groups[x.SnapshotGroupID] = &g
		st.groupOrder = append(st.groupOrder, x.SnapshotGroupID)
		for _, id := range x.SnapshotIDs {
			st.inGroup[id] = true
		}
	}
	return st
}

func (d *diskState) settle(now time.Time) {
	r := &d.r
	if r.until.IsZero() {
		return
	}
	if !now.Before(r.until) {
		if r.shown {
			d.Status = r.prior
		}
		d.r = resetRun{}
		return
	}
	if r.show && !r.shown && !now.Before(r.visible) {
		r.prior, r.shown, d.Status = d.Status, true, DiskReIniting
	}
}

// resetting reports a reset still running on the settled disk.
func (d *diskState) resetting(now time.Time) bool {
	return !d.r.until.IsZero() && now.Before(d.r.until)
}

func (i *instState) settle(now time.Time) {
	if i.p.to != "" && !now.Before(i.p.at) {
		i.Status, i.p = i.p.to, pending{}
	}
}

func (s *snapState) settle(now time.Time) {
	if s.p.to == "" {
		return
	}
	if !now.Before(s.p.at) {
		s.Status, s.Progress, s.p = s.p.to, 100, pending{}
		return
	}
	total := s.p.at.Sub(s.p.start)
	if total > 0 {
		s.Progress = int(99 * now.Sub(s.p.start) / total)
	}
}

func (st *state) disk(id string, now time.Time) *diskState {
	d := st.disks[id]
	if d != nil {
		d.settle(now)
	}
	return d
}

func (st *state) instance(id string, now time.Time) *instState {
	i := st.instances[id]
	if i != nil {
		i.settle(now)
	}
	return i
}

func (st *state) snapshot(id string, now time.Time) *snapState {
	s := st.snapshots[id]
	if s != nil {
		s.settle(now)
	}
	return s
}

// group returns a copy of g.
func (st *state) group(g *SnapshotGroup) SnapshotGroup {
	out := *g
	out.SnapshotIDs = slices.Clone(g.SnapshotIDs)
	out.Tags = maps.Clone(g.Tags)
	return out
}

func (st *state) settleAll(now time.Time) {
	for _, d := range st.disks {
		d.settle(now)
	}
	for _, i := range st.instances {
		i.settle(now)
	}
	for _, s := range st.snapshots {
		s.settle(now)
	}
}

// export returns the settled state as a Fixture.
func (st *state) export(now time.Time) *Fixture {
	st.settleAll(now)
	f := &Fixture{}
	for r := range st.regions {
		f.Regions = append(f.Regions, r)
	}
	slices.Sort(f.Regions)
	for _, id := range st.instOrder {
		x := st.instances[id].Instance
		x.Tags = maps.Clone(x.Tags)
		if x.Script != nil {
			sc := *x.Script
			x.Script = &sc
		}
		f.Instances = append(f.Instances, x)
	}
	for _, id := range st.diskOrder {
		x := st.disks[id].Disk
		x.Tags = maps.Clone(x.Tags)
		f.Disks = append(f.Disks, x)
	}
	for _, id := range st.snapOrder {
		x := st.snapshots[id].Snapshot
		x.Tags = maps.Clone(x.Tags)
		f.Snapshots = append(f.Snapshots, x)
	}
	for _, id := range st.groupOrder {
		f.SnapshotGroups = append(f.SnapshotGroups, st.group(st.groups[id]))
	}
	for _, id := range st.cmdOrder {
		f.Commands = append(f.Commands, *st.commands[id])
	}
	return f
}

// hasUnfinishedSnapshot reports a progressing disk snapshot of diskID other
// than except. Members of an instance snapshot (snapshot group) do not count:
// the default fleet's happy-path disks have a progressing instance snapshot
// and must still reset (see README, "ResetDisks choices").
func (st *state) hasUnfinishedSnapshot(diskID, except string, now time.Time) bool {
	for _, id := range st.snapOrder {
		s := st.snapshots[id]
		if s.SourceDiskID != diskID || id == except || st.inGroup[id] {
			continue
		}
		s.settle(now)
		if s.Status == SnapshotProgressing {
			return true
		}
	}
	return false
}

// ---- state access for tests ----

// Disk returns the current (settled) disk.
func (s *Server) Disk(region, id string) (Disk, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.st.disk(id, s.now())
	if d == nil || d.RegionID != region {
		return Disk{}, false
	}
	out := d.Disk
	out.Tags = maps.Clone(out.Tags)
	return out, true
}

// Instance returns the current (settled) instance.
// ResetInProgress reports whether a reset of disk id is still running,
// whatever DescribeDisks shows for it in the current mode: tests check
// that nothing is reported finished before it is.
func (s *Server) ResetInProgress(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	d := s.st.disk(id, now)
	return d != nil && d.resetting(now)
}

func (s *Server) Instance(region, id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.st.instance(id, s.now())
	if i == nil || i.RegionID != region {
		return Instance{}, false
	}
	out := i.Instance
	out.Tags = maps.Clone(out.Tags)
	return out, true
}

// Snapshot returns the current (settled) snapshot.
func (s *Server) Snapshot(region, id string) (Snapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.st.snapshot(id, s.now())
	if x == nil || x.RegionID != region {
		return Snapshot{}, false
	}
	out := x.Snapshot
	out.Tags = maps.Clone(out.Tags)
	return out, true
}

// ResetCount is how many resets were applied to a disk (by ResetDisk,
// ResetDisks, including ones whose response was dropped).
func (s *Server) ResetCount(diskID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.resets[diskID])
}

// Resets lists the snapshot IDs applied to a disk, oldest first.
func (s *Server) Resets(diskID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.resets[diskID])
}

// SetDiskStatus forces a disk's status, cancelling any pending transition.
func (s *Server) SetDiskStatus(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.st.disks[id]
	if d == nil {
		return false
	}
	d.Status, d.r = status, resetRun{}
	return true
}

// SetInstanceStatus forces an instance's status, cancelling any pending transition.
func (s *Server) SetInstanceStatus(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.st.instances[id]
	if i == nil {
		return false
	}
	i.Status, i.p = status, pending{}
	return true
}

// State returns the whole settled state as a Fixture (a copy).
func (s *Server) State() *Fixture {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.export(s.now())
}

// Mutate lets a test edit the state in place: fn gets the settled state as a
// Fixture, and the result replaces it. Reset counts are kept; pending
// transitions are kept for objects whose status fn left unchanged.
func (s *Server) Mutate(fn func(*Fixture)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	f := s.st.export(now)
	fn(f)
	if err := f.Validate(); err != nil {
		return err
	}
	old := s.st
	st := newState(f)
	st.resets = old.resets
	st.tokens = old.tokens
	st.invocations, st.invokeTokens = old.invocations, old.invokeTokens
	for id, d := range st.disks {
		if o := old.disks[id]; o != nil && o.Status == d.Status {
			d.r = o.r
		}
	}
	for id, i := range st.instances {
		if o := old.instances[id]; o != nil && o.Status == i.Status {
			i.p = o.p
		}
	}
	for id, x := range st.snapshots {
		if o := old.snapshots[id]; o != nil && o.Status == x.Status {
			x.p = o.p
		}
	}
	s.st = st
	return nil
}

// LoadState replaces the whole state with f and forgets reset counts; f's
// Modes, when set, replace the active modes.
func (s *Server) LoadState(f *Fixture) error {
	if err := f.Validate(); err != nil {
		return err
	}
	st := newState(f.Clone())
	s.mu.Lock()
	s.st = st
	if f.Modes != nil {
		s.modes, _ = f.Modes.normalize()
	}
	s.mu.Unlock()
	return nil
}
