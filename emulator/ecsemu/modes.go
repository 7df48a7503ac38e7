package ecsemu

import (
	"fmt"
	"strings"
	"time"
)

// Modes choose the emulator's behaviour where no public document settles
// what the real service does (see CONFORMANCE.md, "unconfirmed"). The zero
// value is the emulator's historical behaviour, so existing tests keep their
// meaning. Select modes with Options.Modes, a fixture's "modes" field,
// Server.SetModes, POST /_emulator/modes, or the cmd/ecs-emulator -mode flag.
type Modes struct {
	// ResetStatus is what DescribeDisks shows while a reset runs.
	ResetStatus ResetStatusMode `json:"resetStatus,omitempty"`
	// ResetLag is how long a reset stays invisible before ReIniting shows in
	// ResetStatusLagged; 0 means half of Options.ResetDuration.
	ResetLag time.Duration `json:"resetLag,omitempty"`
	// ResetDisksFailure is how ResetDisks answers when some disks fail their checks.
	ResetDisksFailure ResetDisksFailureMode `json:"resetDisksFailure,omitempty"`
	// RelatedItems is what each ResetDisks OperationProgress names.
	RelatedItems RelatedItemsMode `json:"relatedItems,omitempty"`
	// InstantAccess says whether a snapshot still being created (progressing)
	// of a disk with instant access can be used for a rollback.
	InstantAccess InstantAccessMode `json:"instantAccess,omitempty"`
}

// ResetStatusMode: the disk status DescribeDisks shows during a reset.
type ResetStatusMode string

// Reset status modes.
const (
	// ResetStatusImmediate: ReIniting from the moment the reset is accepted
	// until it ends (default).
	ResetStatusImmediate ResetStatusMode = "immediate"
	// ResetStatusLagged: the disk keeps its status for Modes.ResetLag, then
	// shows ReIniting for Options.ResetDuration.
	ResetStatusLagged ResetStatusMode = "lagged"
	// ResetStatusHidden: the disk keeps its status for the whole reset
	// (Options.ResetDuration); only another reset notices it is running
	// (InvalidOperation.DiskResetInProgress).
	ResetStatusHidden ResetStatusMode = "hidden"
)

// ResetDisksFailureMode: how ResetDisks answers when some disks fail.
type ResetDisksFailureMode string

// ResetDisks failure modes.
const (
	// ResetDisksFailureMixed: when every disk fails with the same code the
	// whole call fails with it; otherwise 200 with per-disk entries (default).
	ResetDisksFailureMixed ResetDisksFailureMode = "mixed"
	// ResetDisksFailurePerDisk: always 200 with one entry per disk, even when
	// every disk fails.
	ResetDisksFailurePerDisk ResetDisksFailureMode = "per-disk"
	// ResetDisksFailureWholeCall: any failing disk fails the whole call with
	// the first failing disk's code, and no disk is reset.
	ResetDisksFailureWholeCall ResetDisksFailureMode = "whole-call"
)

// RelatedItemsMode: the RelatedItemSet of each ResetDisks OperationProgress.
type RelatedItemsMode string

// RelatedItemSet modes.
const (
	// RelatedItemsDiskAndSnapshot: {DiskId}, {SnapshotId} (default).
	RelatedItemsDiskAndSnapshot RelatedItemsMode = "disk-and-snapshot"
	// RelatedItemsSnapshotOnly: only {SnapshotId}, as the ResetDisks API
	// reference's response example shows.
	RelatedItemsSnapshotOnly RelatedItemsMode = "snapshot-only"
)

// InstantAccessMode: can a progressing instant-access snapshot be rolled back to?
type InstantAccessMode string

// Instant access modes.
const (
	// InstantAccessNotUsable: a progressing snapshot gives
	// InvalidSnapshotId.NotReady and reports Available=false (default).
	InstantAccessNotUsable InstantAccessMode = "not-usable"
	// InstantAccessUsable: a progressing snapshot of an ESSD disk (instant
	// access by default since 2020-12-14, CreateSnapshot page) reports
	// Available=true and can be used by ResetDisk(s).
	InstantAccessUsable InstantAccessMode = "usable"
)

// normalize fills defaults and checks each field.
func (m Modes) normalize() (Modes, error) {
	if m.ResetStatus == "" {
		m.ResetStatus = ResetStatusImmediate
	}
	if m.ResetDisksFailure == "" {
		m.ResetDisksFailure = ResetDisksFailureMixed
	}
	if m.RelatedItems == "" {
		m.RelatedItems = RelatedItemsDiskAndSnapshot
	}
	if m.InstantAccess == "" {
		m.InstantAccess = InstantAccessNotUsable
	}
	switch {
	case m.ResetStatus != ResetStatusImmediate && m.ResetStatus != ResetStatusLagged && m.ResetStatus != ResetStatusHidden:
		return m, fmt.Errorf("modes: unknown resetStatus %q", m.ResetStatus)
	case m.ResetDisksFailure != ResetDisksFailureMixed && m.ResetDisksFailure != ResetDisksFailurePerDisk &&
		m.ResetDisksFailure != ResetDisksFailureWholeCall:
		return m, fmt.Errorf("modes: unknown resetDisksFailure %q", m.ResetDisksFailure)
	case m.RelatedItems != RelatedItemsDiskAndSnapshot && m.RelatedItems != RelatedItemsSnapshotOnly:
		return m, fmt.Errorf("modes: unknown relatedItems %q", m.RelatedItems)
	case m.InstantAccess != InstantAccessNotUsable && m.InstantAccess != InstantAccessUsable:
		return m, fmt.Errorf("modes: unknown instantAccess %q", m.InstantAccess)
	case m.ResetLag < 0:
		return m, fmt.Errorf("modes: negative resetLag")
	}
	return m, nil
}

// String is the -mode flag form, e.g.
// "resetStatus=lagged,resetDisksFailure=per-disk,relatedItems=snapshot-only,instantAccess=usable".
func (m Modes) String() string {
	n, _ := m.normalize()
	s := fmt.Sprintf("resetStatus=%s,resetDisksFailure=%s,relatedItems=%s,instantAccess=%s",
		n.ResetStatus, n.ResetDisksFailure, n.RelatedItems, n.InstantAccess)
	if n.ResetLag > 0 {
		s += ",resetLag=" + n.ResetLag.String()
	}
	return s
}

// ParseModes parses the -mode flag form: comma-separated key=value pairs
// with keys resetStatus, resetLag, resetDisksFailure, relatedItems and
// instantAccess. Unnamed keys keep their defaults.
func ParseModes(s string) (Modes, error) {
	var m Modes
	for kv := range strings.SplitSeq(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return m, fmt.Errorf("mode %q: want key=value", kv)
		}
		switch k {
		case "resetStatus":
			m.ResetStatus = ResetStatusMode(v)
		case "resetLag":
			d, err := time.ParseDuration(v)
			if err != nil {
				return m, fmt.Errorf("mode resetLag: %w", err)
			}
			m.ResetLag = d
		case "resetDisksFailure":
			m.ResetDisksFailure = ResetDisksFailureMode(v)
		case "relatedItems":
			m.RelatedItems = RelatedItemsMode(v)
		case "instantAccess":
			m.InstantAccess = InstantAccessMode(v)
		default:
			return m, fmt.Errorf("mode: unknown key %q", k)
		}
	}
	n, err := m.normalize()
	if err != nil {
		return m, err
	}
	return n, nil
}

// NamedModes is one mode combination with a name usable as a subtest name.
type NamedModes struct {
	Name  string
	Modes Modes
}

// AllModes enumerates every combination of the unconfirmed behaviours that a
// caller of ResetDisks/ResetDisk/DescribeDisks/DescribeSnapshotGroups can
// observe: 3 reset-status modes × 3 ResetDisks failure modes × 2
// RelatedItemSet modes × 2 instant-access modes = 36. The first is the
// default. Run scenario tests under each:
//
//	for _, m := range ecsemu.AllModes() {
//		t.Run(m.Name, func(t *testing.T) { ... Options{Modes: m.Modes} ... })
//	}
func AllModes() []NamedModes {
	var out []NamedModes
	for _, rs := range []ResetStatusMode{ResetStatusImmediate, ResetStatusLagged, ResetStatusHidden} {
		for _, rf := range []ResetDisksFailureMode{ResetDisksFailureMixed, ResetDisksFailurePerDisk, ResetDisksFailureWholeCall} {
			for _, ri := range []RelatedItemsMode{RelatedItemsDiskAndSnapshot, RelatedItemsSnapshotOnly} {
				for _, ia := range []InstantAccessMode{InstantAccessNotUsable, InstantAccessUsable} {
					m := Modes{ResetStatus: rs, ResetDisksFailure: rf, RelatedItems: ri, InstantAccess: ia}
					out = append(out, NamedModes{Name: fmt.Sprintf("%s/%s/%s/%s", rs, rf, ri, ia), Modes: m})
				}
			}
		}
	}
	return out
}

// Modes returns the active modes, defaults filled in.
func (s *Server) Modes() Modes {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modes
}

// SetModes replaces the active modes; resets already running keep the
// visibility they started with.
func (s *Server) SetModes(m Modes) error {
	n, err := m.normalize()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.modes = n
	s.mu.Unlock()
	return nil
}

// resetLag is the invisible head of a reset in ResetStatusLagged. Caller holds s.mu.
func (s *Server) resetLag() time.Duration {
	if s.modes.ResetStatus != ResetStatusLagged {
		return 0
	}
	if s.modes.ResetLag > 0 {
		return s.modes.ResetLag
	}
	return s.opts.ResetDuration / 2
}
