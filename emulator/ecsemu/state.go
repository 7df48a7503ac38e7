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
