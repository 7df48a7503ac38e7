package ecsemu

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

func (s *Server) stopInstance(c *call) (map[string]any, *apiError) {
	return s.powerAction(c, InstanceRunning, InstanceStopping, InstanceStopped, s.opts.StopDuration)
}

func (s *Server) startInstance(c *call) (map[string]any, *apiError) {
	if err := s.scriptedStart(c); err != nil {
		return nil, err
	}
	return s.powerAction(c, InstanceStopped, InstanceStarting, InstanceRunning, s.opts.StartDuration)
}

// powerAction moves an instance from `from` through `via` to `to`.
func (s *Server) powerAction(c *call, from, via, to string, dur time.Duration) (map[string]any, *apiError) {
	id := c.p["InstanceId"]
	if id == "" {
		return nil, missing("InstanceId")
	}
	mode := c.p["StoppedMode"]
	if to == InstanceStopped && mode != "" && mode != "KeepCharging" && mode != "StopCharging" {
		return nil, invalidParam("StoppedMode", "must be KeepCharging or StopCharging")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.st.instance(id, c.now)
	if in == nil || in.RegionID != c.region {
		return nil, newError(CodeInvalidInstanceIDNotFound)
	}
	if err := instanceLockError(in); err != nil {
		return nil, err
	}
	if in.Status != from {
		return nil, newError(CodeIncorrectInstanceStatus)
	}
	if boolParam(c.p, "DryRun") {
		return nil, newError(CodeDryRunOperation)
	}
	if to == InstanceStopped {
		if mode == "" {
			mode = "KeepCharging"
		}
		in.StoppedMode = mode
	} else {
		in.StoppedMode = ""
		in.Starts++
		if sc := in.Script; sc != nil && sc.PublicIPsAfterStart != nil {
			in.PublicIPs = slices.Clone(sc.PublicIPsAfterStart)
		}
	}
	in.Status = to
	if dur > 0 {
		in.Status = via
		in.p = pending{start: c.now, at: c.now.Add(dur), to: to}
	}
	return map[string]any{}, nil
}

// maxClientToken: "The ClientToken value can contain only ASCII characters
// and cannot exceed 64 characters" (CreateSnapshot request model, ClientToken,
// alibabacloud-go/ecs-20140526 v7 client/create_snapshot_request_model.go).
const maxClientToken = 64

// validSnapshotName: 2 to 128 characters, starts with a letter, then letters,
// digits, colons, underscores, periods and hyphens; not http:// or https://
// and not auto (reserved for automatic snapshots). CreateSnapshot request
// model, SnapshotName (alibabacloud-go/ecs-20140526 v7); the code is
// InvalidSnapshotName.Malformed, 400 (CreateSnapshot error table).
func validSnapshotName(n string) bool {
	r := []rune(n)
	if len(r) < 2 || len(r) > 128 || !unicode.IsLetter(r[0]) {
		return false
	}
	lower := strings.ToLower(n)
	if strings.HasPrefix(lower, "auto") || strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		return false
	}
	for _, c := range r[1:] {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && !strings.ContainsRune(":_.-", c) {
			return false
		}
	}
	return true
}

func validClientToken(t string) bool {
	if len(t) > maxClientToken {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) createSnapshot(c *call) (map[string]any, *apiError) {
	diskID := c.p["DiskId"]
	if diskID == "" {
		return nil, missing("DiskId")
	}
	if name := c.p["SnapshotName"]; name != "" && !validSnapshotName(name) {
		return nil, newError(CodeInvalidSnapshotNameMalformed)
	}
	token := c.p["ClientToken"]
	if !validClientToken(token) {
		return nil, invalidParam("ClientToken", "at most 64 ASCII characters")
	}
	retention := 0
	if v := c.p["RetentionDays"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65536 {
			return nil, invalidParam("RetentionDays", "1 to 65536")
		}
		retention = n
	}
	tagList := tagParams(c.p, "Tag")
	if err := checkTags(tagList); err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, t := range tagList {
		tags[t.Key] = t.Value
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Same ClientToken, same answer: the snapshot the first call made, and no
	// second snapshot ("How to ensure idempotence", linked from the
	// ClientToken parameter of CreateSnapshot).
	if token != "" {
		if id, ok := s.st.tokens[token]; ok {
			if sn := s.st.snapshots[id]; sn == nil || sn.SourceDiskID != diskID {
				return nil, newError(CodeIdempotentParameterMismatch)
			}
			return map[string]any{"SnapshotId": id}, nil
		}
	}
	d := s.st.disk(diskID, c.now)
	if d == nil || d.RegionID != c.region {
		return nil, newError(CodeInvalidDiskIDNotFound)
	}
	if isLocalCategory(d.Category) {
		return nil, newError(CodeDiskCategoryNotSupported)
	}
	if d.Status != DiskInUse && d.Status != DiskAvailable {
		return nil, newError(CodeIncorrectDiskStatus)
	}
	// A disk snapshot still being created blocks another one
	// (IncorrectDiskStatus.CreatingSnapshot, 403, CreateSnapshot error table).
	// Members of an instance snapshot do not count (see hasUnfinishedSnapshot).
	if s.st.hasUnfinishedSnapshot(diskID, "", c.now) {
		return nil, newError(CodeCreatingSnapshot)
	}
	if len(tags) == 0 {
		tags = nil
	}
	sn := &snapState{Snapshot: Snapshot{
		SnapshotID:     newID("s-"),
		RegionID:       c.region,
		SnapshotName:   c.p["SnapshotName"],
		Description:    c.p["Description"],
		SourceDiskID:   diskID,
		SourceDiskType: d.Type,
		SourceDiskSize: d.Size,
		Status:         SnapshotProgressing,
		CreationTime:   c.now.UTC().Truncate(time.Second),
		Tags:           tags,
		RetentionDays:  retention,
	}}
	sn.p = pending{start: c.now, at: c.now.Add(s.opts.SnapshotDuration), to: SnapshotAccomplished}
	sn.settle(c.now)
	s.st.snapshots[sn.SnapshotID] = sn
	s.st.snapOrder = append(s.st.snapOrder, sn.SnapshotID)
	if token != "" {
		s.st.tokens[token] = sn.SnapshotID
	}
	return map[string]any{"SnapshotId": sn.SnapshotID}, nil
}
