package ecsemu

// The state as tests and the admin API see and change it.

import (
	"maps"
	"slices"
)

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
