package ecsemu

import (
	"strconv"
	"strings"
	"time"
)

// snapshotCutoff: snapshots older than this cannot be reset to (InvalidSnapshot.TooOld).
var snapshotCutoff = time.Date(2013, 7, 15, 0, 0, 0, 0, time.UTC)

func isLocalCategory(c string) bool {
	return strings.HasPrefix(c, "local_") || strings.HasPrefix(c, "ephemeral")
}

// instantAccess reports whether a snapshot has instant access: ESSD
// snapshots do by default since 2020-12-14 (ECS CreateSnapshot API reference,
// "InstantAccess"/"Category" parameters). Caller holds s.mu.
func (s *Server) instantAccess(sn *snapState) bool {
	d := s.st.disks[sn.SourceDiskID]
	return d != nil && strings.HasPrefix(d.Category, "cloud_essd")
}

// snapshotUsable reports whether a snapshot can be used to roll back a disk
// (the Available field of DescribeSnapshots/DescribeSnapshotGroups). A
// progressing instant-access snapshot counts only in InstantAccessUsable
// (unconfirmed, see Modes). Caller holds s.mu.
func (s *Server) snapshotUsable(sn *snapState) bool {
	if sn.Status == SnapshotAccomplished {
		return true
	}
	return sn.Status == SnapshotProgressing && s.modes.InstantAccess == InstantAccessUsable && s.instantAccess(sn)
}

// checkReset runs the per-disk checks in the documented order. Caller holds s.mu.
func (s *Server) checkReset(region, diskID, snapID string, now time.Time, claimed map[string]bool) *apiError {
	d := s.st.disk(diskID, now)
	if d == nil || d.RegionID != region {
		return newError(CodeInvalidDiskIDNotFound)
	}
	sn := s.st.snapshot(snapID, now)
	if sn == nil || sn.RegionID != region {
		return newError(CodeInvalidSnapshotIDNotFound)
	}
	if sn.SourceDiskID != diskID {
		return newError(CodeInvalidParameterMismatch)
	}
	if isLocalCategory(d.Category) {
		return newError(CodeDiskCategoryNotSupported)
	}
	if d.MultiAttach {
		return newError(CodeMultiAttachDisk)
	}
	if d.InstanceID != "" {
		if in := s.st.instance(d.InstanceID, now); in != nil {
			if err := instanceLockError(in); err != nil {
				return err
			}
			if in.Status != InstanceStopped {
				return newError(CodeIncorrectInstanceStatus)
			}
		}
	}
	// A reset still running is reported as such whatever the disk shows
	// (ResetDisk error table: InvalidOperation.DiskResetInProgress, 403).
	if d.resetting(now) {
		return newError(CodeDiskResetInProgress)
	}
	if (d.Status != DiskInUse && d.Status != DiskAvailable) || claimed[diskID] {
		return newError(CodeIncorrectDiskStatus)
	}
	// The target snapshot itself is excluded, so a progressing target gives
	// InvalidSnapshotId.NotReady rather than HasUnfinishedSnapshot.
	if s.st.hasUnfinishedSnapshot(diskID, snapID, now) {
		return newError(CodeHasUnfinishedSnapshot)
	}
	if !s.snapshotUsable(sn) {
		return newError(CodeInvalidSnapshotIDNotReady)
	}
	if sn.CreationTime.Before(snapshotCutoff) {
		return newError(CodeInvalidSnapshotTooOld)
	}
	return nil
}

func instanceLockError(in *instState) *apiError {
	if strings.EqualFold(in.LockReason, "security") {
		return newError(CodeInstanceLockedForSecurity)
	}
	if in.Expired || strings.EqualFold(in.LockReason, "financial") {
		return newError(CodeInstanceExpiredOrInArrears)
	}
	return nil
}

// applyReset starts a reset and records it. The disk shows ReIniting as
// Modes.ResetStatus says. Caller holds s.mu.
func (s *Server) applyReset(diskID, snapID string, now time.Time) {
	d := s.st.disks[diskID]
	if dur := s.opts.ResetDuration; dur > 0 {
		lag := s.resetLag()
		d.r = resetRun{visible: now.Add(lag), until: now.Add(lag + dur), show: s.modes.ResetStatus != ResetStatusHidden}
		d.settle(now)
	}
	s.st.resets[diskID] = append(s.st.resets[diskID], snapID)
}

type resetEntry struct {
	diskID, snapID string
	err            *apiError
}

func (s *Server) resetDisks(c *call) (map[string]any, *apiError) {
	idx := indexes(c.p, "Disk")
	if len(idx) == 0 {
		return nil, missing("Disk")
	}
	if len(idx) > 10 {
		return nil, invalidParam("Disk", "at most 10 disks can be reset in one call")
	}
	entries := make([]resetEntry, 0, len(idx))
	for _, n := range idx {
		base := "Disk." + strconv.Itoa(n) + "."
		e := resetEntry{diskID: c.p[base+"DiskId"], snapID: c.p[base+"SnapshotId"]}
		if e.diskID == "" {
			return nil, missing(base + "DiskId")
		}
		if e.snapID == "" {
			return nil, missing(base + "SnapshotId")
		}
		entries = append(entries, e)
	}
	dry := boolParam(c.p, "DryRun")

	s.mu.Lock()
	defer s.mu.Unlock()
	claimed := map[string]bool{}
	var firstErr *apiError
	failed := 0
	sameCode := true
	for i := range entries {
		e := &entries[i]
		e.err = s.checkReset(c.region, e.diskID, e.snapID, c.now, claimed)
		if e.err != nil {
			failed++
			if firstErr == nil {
				firstErr = e.err
			} else if e.err.Code != firstErr.Code {
				sameCode = false
			}
			continue
		}
		claimed[e.diskID] = true
	}
	if dry {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, newError(CodeDryRunOperation)
	}
	switch s.modes.ResetDisksFailure {
	case ResetDisksFailureWholeCall:
		if firstErr != nil {
			return nil, firstErr
		}
	case ResetDisksFailureMixed:
		if failed == len(entries) && sameCode {
			return nil, firstErr
		}
	}
	progress := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		status, code, msg := "Success", "", ""
		if e.err != nil {
			status, code, msg = "Failed", e.err.Code, e.err.Message
		} else {
			s.applyReset(e.diskID, e.snapID, c.now)
		}
		items := []map[string]string{{"Name": "SnapshotId", "Value": e.snapID}}
		if s.modes.RelatedItems == RelatedItemsDiskAndSnapshot {
			items = []map[string]string{{"Name": "DiskId", "Value": e.diskID}, items[0]}
		}
		progress = append(progress, map[string]any{
			"OperationStatus": status,
			"ErrorCode":       code,
			"ErrorMsg":        msg,
			"RelatedItemSet":  map[string]any{"RelatedItem": items},
		})
	}
	return map[string]any{"OperationProgressSet": map[string]any{"OperationProgress": progress}}, nil
}

func (s *Server) resetDisk(c *call) (map[string]any, *apiError) {
	diskID, snapID := c.p["DiskId"], c.p["SnapshotId"]
	if diskID == "" {
		return nil, missing("DiskId")
	}
	if snapID == "" {
		return nil, missing("SnapshotId")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkReset(c.region, diskID, snapID, c.now, nil); err != nil {
		return nil, err
	}
	if boolParam(c.p, "DryRun") {
		return nil, newError(CodeDryRunOperation)
	}
	s.applyReset(diskID, snapID, c.now)
	return map[string]any{}, nil
}
