package ecsemu

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// snapshotCutoff: snapshots older than this cannot be reset to (InvalidSnapshot.TooOld).
var snapshotCutoff = time.Date(2013, 7, 15, 0, 0, 0, 0, time.UTC)

func isLocalCategory(c string) bool {
	return strings.HasPrefix(c, "local_") || strings.HasPrefix(c, "ephemeral")
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
	if (d.Status != DiskInUse && d.Status != DiskAvailable) || claimed[diskID] {
		return newError(CodeIncorrectDiskStatus)
	}
	// The target snapshot itself is excluded, so a progressing target gives
	// InvalidSnapshotId.NotReady rather than HasUnfinishedSnapshot.
	if s.st.hasUnfinishedSnapshot(diskID, snapID, now) {
		return newError(CodeHasUnfinishedSnapshot)
	}
	if sn.Status != SnapshotAccomplished {
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

// applyReset moves the disk to ReIniting and records the reset. Caller holds s.mu.
func (s *Server) applyReset(diskID, snapID string, now time.Time) {
	d := s.st.disks[diskID]
	if s.opts.ResetDuration > 0 {
		prior := d.Status
		d.Status = DiskReIniting
		d.p = pending{start: now, at: now.Add(s.opts.ResetDuration), to: prior}
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
	if failed == len(entries) && sameCode {
		return nil, firstErr
	}
	progress := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		status, code, msg := "Success", "", ""
		if e.err != nil {
			status, code, msg = "Failed", e.err.Code, e.err.Message
		} else {
			s.applyReset(e.diskID, e.snapID, c.now)
		}
		progress = append(progress, map[string]any{
			"OperationStatus": status,
			"ErrorCode":       code,
			"ErrorMsg":        msg,
			"RelatedItemSet": map[string]any{"RelatedItem": []map[string]string{
				{"Name": "DiskId", "Value": e.diskID},
				{"Name": "SnapshotId", "Value": e.snapID},
			}},
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

func (s *Server) stopInstance(c *call) (map[string]any, *apiError) {
	return s.powerAction(c, InstanceRunning, InstanceStopping, InstanceStopped, s.opts.StopDuration)
}

func (s *Server) startInstance(c *call) (map[string]any, *apiError) {
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
	}
	in.Status = to
	if dur > 0 {
		in.Status = via
		in.p = pending{start: c.now, at: c.now.Add(dur), to: to}
	}
	return map[string]any{}, nil
}

func (s *Server) createSnapshot(c *call) (map[string]any, *apiError) {
	diskID := c.p["DiskId"]
	if diskID == "" {
		return nil, missing("DiskId")
	}
	tags := map[string]string{}
	for _, t := range tagParams(c.p, "Tag") {
		if t.Key == "" {
			return nil, invalidParam("Tag.N.Key", "tag key must not be empty")
		}
		tags[t.Key] = t.Value
	}
	s.mu.Lock()
	defer s.mu.Unlock()
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
	}}
	sn.p = pending{start: c.now, at: c.now.Add(s.opts.SnapshotDuration), to: SnapshotAccomplished}
	sn.settle(c.now)
	s.st.snapshots[sn.SnapshotID] = sn
	s.st.snapOrder = append(s.st.snapOrder, sn.SnapshotID)
	return map[string]any{"SnapshotId": sn.SnapshotID}, nil
}

// ---- describe ----

func diskOut(d *Disk) map[string]any {
	multi := "Disabled"
	if d.MultiAttach {
		multi = "Enabled"
	}
	attachments := []map[string]any{}
	mountNum := 0
	if d.InstanceID != "" {
		mountNum = 1
		attachments = append(attachments, map[string]any{"InstanceId": d.InstanceID, "Device": d.Device, "AttachedTime": fmtTime(d.CreationTime)})
	}
	return map[string]any{
		"DiskId":             d.DiskID,
		"DiskName":           d.DiskName,
		"RegionId":           d.RegionID,
		"ZoneId":             d.ZoneID,
		"InstanceId":         d.InstanceID,
		"Category":           d.Category,
		"Type":               d.Type,
		"Status":             d.Status,
		"Size":               d.Size,
		"Device":             d.Device,
		"MultiAttach":        multi,
		"MountInstanceNum":   mountNum,
		"Portable":           d.Type == "data" && !isLocalCategory(d.Category),
		"DeleteWithInstance": d.Type == "system",
		"DiskChargeType":     "PostPaid",
		"CreationTime":       fmtTime(d.CreationTime),
		"AttachedTime":       fmtTime(d.CreationTime),
		"Tags":               tagsOut(d.Tags),
		"Attachments":        map[string]any{"Attachment": attachments},
		"OperationLocks":     map[string]any{"OperationLock": []any{}},
	}
}

func (s *Server) describeDisks(c *call) (map[string]any, *apiError) {
	ids, hasIDs, err := jsonIDs(c.p, "DiskIds", CodeInvalidDiskIDsMalformed)
	if err != nil {
		return nil, err
	}
	tagf := tagParams(c.p, "Tag")
	diskType := strings.ToLower(c.p["DiskType"])
	s.mu.Lock()
	var list []map[string]any
	for _, id := range s.st.diskOrder {
		d := s.st.disk(id, c.now)
		if d.RegionID != c.region ||
			(hasIDs && !slices.Contains(ids, id)) ||
			(c.p["InstanceId"] != "" && d.InstanceID != c.p["InstanceId"]) ||
			(c.p["Status"] != "" && c.p["Status"] != "All" && d.Status != c.p["Status"]) ||
			(diskType != "" && diskType != "all" && d.Type != diskType) ||
			(c.p["Category"] != "" && c.p["Category"] != "all" && d.Category != c.p["Category"]) ||
			(c.p["ZoneId"] != "" && d.ZoneID != c.p["ZoneId"]) ||
			(c.p["MultiAttach"] != "" && strings.EqualFold(c.p["MultiAttach"], "Enabled") != d.MultiAttach) ||
			!matchTags(d.Tags, tagf) {
			continue
		}
		list = append(list, diskOut(&d.Disk))
	}
	s.mu.Unlock()
	pg, err := paginate(c.p, len(list), 10, 100, 500, false)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Disks": map[string]any{"Disk": nonNil(list[pg.start:pg.end])}}
	pg.fields(out, len(list))
	return out, nil
}

func nonNil(l []map[string]any) []map[string]any {
	if l == nil {
		return []map[string]any{}
	}
	return l
}

func snapshotOut(sn *Snapshot) map[string]any {
	return map[string]any{
		"SnapshotId":        sn.SnapshotID,
		"SnapshotName":      sn.SnapshotName,
		"Description":       sn.Description,
		"RegionId":          sn.RegionID,
		"SourceDiskId":      sn.SourceDiskID,
		"SourceDiskType":    sn.SourceDiskType,
		"SourceDiskSize":    strconv.Itoa(sn.SourceDiskSize),
		"SourceStorageType": "disk",
		"Status":            sn.Status,
		"Progress":          strconv.Itoa(sn.Progress) + "%",
		"Available":         sn.Status == SnapshotAccomplished,
		"CreationTime":      fmtTime(sn.CreationTime),
		"LastModifiedTime":  fmtTime(sn.CreationTime),
		"Category":          "standard",
		"SnapshotType":      "user",
		"Usage":             "none",
		"Tags":              tagsOut(sn.Tags),
	}
}

// sortedSnapshots lists settled snapshots newest first, as ECS does. Caller holds s.mu.
func (s *Server) sortedSnapshots(now time.Time) []*snapState {
	out := make([]*snapState, 0, len(s.st.snapOrder))
	for _, id := range s.st.snapOrder {
		out = append(out, s.st.snapshot(id, now))
	}
	slices.SortStableFunc(out, func(a, b *snapState) int { return b.CreationTime.Compare(a.CreationTime) })
	return out
}

func (s *Server) describeSnapshots(c *call) (map[string]any, *apiError) {
	ids, hasIDs, err := jsonIDs(c.p, "SnapshotIds", CodeInvalidSnapshotIDsMalformed)
	if err != nil {
		return nil, err
	}
	tagf := tagParams(c.p, "Tag")
	status := c.p["Status"]
	s.mu.Lock()
	var list []map[string]any
	for _, sn := range s.sortedSnapshots(c.now) {
		if sn.RegionID != c.region ||
			(hasIDs && !slices.Contains(ids, sn.SnapshotID)) ||
			(c.p["DiskId"] != "" && sn.SourceDiskID != c.p["DiskId"]) ||
			(status != "" && status != "all" && sn.Status != status) ||
			(c.p["SnapshotName"] != "" && sn.SnapshotName != c.p["SnapshotName"]) ||
			(c.p["SourceDiskType"] != "" && !strings.EqualFold(sn.SourceDiskType, c.p["SourceDiskType"])) ||
			!matchTags(sn.Tags, tagf) {
			continue
		}
		if inst := c.p["InstanceId"]; inst != "" {
			d := s.st.disks[sn.SourceDiskID]
			if d == nil || d.InstanceID != inst {
				continue
			}
		}
		list = append(list, snapshotOut(&sn.Snapshot))
	}
	s.mu.Unlock()
	pg, err := paginate(c.p, len(list), 10, 100, 100, false)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Snapshots": map[string]any{"Snapshot": nonNil(list[pg.start:pg.end])}}
	pg.fields(out, len(list))
	return out, nil
}

func (s *Server) describeSnapshotGroups(c *call) (map[string]any, *apiError) {
	ids := repeated(c.p, "SnapshotGroupId")
	statuses := repeated(c.p, "Status")
	tagf := tagParams(c.p, "Tag")
	s.mu.Lock()
	groups := make([]*SnapshotGroup, 0, len(s.st.groupOrder))
	for _, id := range s.st.groupOrder {
		groups = append(groups, s.st.groups[id])
	}
	slices.SortStableFunc(groups, func(a, b *SnapshotGroup) int { return b.CreationTime.Compare(a.CreationTime) })
	var list []map[string]any
	for _, g := range groups {
		if g.RegionID != c.region ||
			(len(ids) > 0 && !slices.Contains(ids, g.SnapshotGroupID)) ||
			(len(statuses) > 0 && !slices.Contains(statuses, g.Status)) ||
			(c.p["InstanceId"] != "" && g.InstanceID != c.p["InstanceId"]) ||
			(c.p["Name"] != "" && g.Name != c.p["Name"]) ||
			!matchTags(g.Tags, tagf) {
			continue
		}
		snaps := []map[string]any{}
		for _, sid := range g.SnapshotIDs {
			if sn := s.st.snapshot(sid, c.now); sn != nil {
				snaps = append(snaps, snapshotOut(&sn.Snapshot))
			}
		}
		list = append(list, map[string]any{
			"SnapshotGroupId": g.SnapshotGroupID,
			"Name":            g.Name,
			"Description":     g.Description,
			"InstanceId":      g.InstanceID,
			"Status":          g.Status,
			"CreationTime":    fmtTime(g.CreationTime),
			"Tags":            tagsOut(g.Tags),
			"Snapshots":       map[string]any{"Snapshot": snaps},
		})
	}
	s.mu.Unlock()
	pg, err := paginate(c.p, len(list), 10, 100, 100, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"NextToken":      pg.nextToken,
		"SnapshotGroups": map[string]any{"SnapshotGroup": nonNil(list[pg.start:pg.end])},
	}, nil
}

func instanceOut(in *Instance) map[string]any {
	locks := []map[string]string{}
	if in.LockReason != "" {
		locks = append(locks, map[string]string{"LockReason": in.LockReason})
	}
	if in.Expired && in.LockReason == "" {
		locks = append(locks, map[string]string{"LockReason": "financial"})
	}
	expired := "2099-12-31T16:00Z"
	if in.Expired {
		expired = "2020-01-01T16:00Z"
	}
	return map[string]any{
		"InstanceId":         in.InstanceID,
		"InstanceName":       in.InstanceName,
		"HostName":           in.InstanceName,
		"RegionId":           in.RegionID,
		"ZoneId":             in.ZoneID,
		"InstanceType":       in.InstanceType,
		"Status":             in.Status,
		"StoppedMode":        in.StoppedMode,
		"InstanceChargeType": "PrePaid",
		"ExpiredTime":        expired,
		"CreationTime":       fmtTime(in.CreationTime),
		"OSType":             "linux",
		"Tags":               tagsOut(in.Tags),
		"OperationLocks":     map[string]any{"LockReason": locks},
	}
}

func (s *Server) describeInstances(c *call) (map[string]any, *apiError) {
	ids, hasIDs, err := jsonIDs(c.p, "InstanceIds", CodeInvalidInstanceIDsMalformed)
	if err != nil {
		return nil, err
	}
	tagf := tagParams(c.p, "Tag")
	s.mu.Lock()
	var list []map[string]any
	for _, id := range s.st.instOrder {
		in := s.st.instance(id, c.now)
		if in.RegionID != c.region ||
			(hasIDs && !slices.Contains(ids, id)) ||
			(c.p["Status"] != "" && in.Status != c.p["Status"]) ||
			(c.p["InstanceName"] != "" && in.InstanceName != c.p["InstanceName"]) ||
			(c.p["ZoneId"] != "" && in.ZoneID != c.p["ZoneId"]) ||
			!matchTags(in.Tags, tagf) {
			continue
		}
		list = append(list, instanceOut(&in.Instance))
	}
	s.mu.Unlock()
	pg, err := paginate(c.p, len(list), 10, 100, 100, false)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Instances": map[string]any{"Instance": nonNil(list[pg.start:pg.end])}}
	pg.fields(out, len(list))
	return out, nil
}

// ---- tags ----

// tagsOf returns a pointer to a resource's tag map. Caller holds s.mu.
func (s *Server) tagsOf(resType, id, region string) (*map[string]string, bool) {
	switch resType {
	case "disk":
		if d := s.st.disks[id]; d != nil && d.RegionID == region {
			return &d.Tags, true
		}
	case "snapshot":
		if sn := s.st.snapshots[id]; sn != nil && sn.RegionID == region {
			return &sn.Tags, true
		}
	case "instance":
		if in := s.st.instances[id]; in != nil && in.RegionID == region {
			return &in.Tags, true
		}
	}
	return nil, false
}

func resourceType(c *call) (string, *apiError) {
	rt := strings.ToLower(c.p["ResourceType"])
	switch rt {
	case "":
		return "", missing("ResourceType")
	case "disk", "snapshot", "instance":
		return rt, nil
	}
	return "", newError(CodeInvalidResourceTypeNotFound)
}

func (s *Server) tagResources(c *call) (map[string]any, *apiError) {
	rt, err := resourceType(c)
	if err != nil {
		return nil, err
	}
	ids := repeated(c.p, "ResourceId")
	if len(ids) == 0 {
		return nil, missing("ResourceId")
	}
	if len(ids) > 50 {
		return nil, invalidParam("ResourceId", "at most 50 resources")
	}
	tags := tagParams(c.p, "Tag")
	if len(tags) == 0 {
		return nil, missing("Tag")
	}
	if len(tags) > 20 {
		return nil, invalidParam("Tag", "at most 20 tags")
	}
	for _, t := range tags {
		if t.Key == "" {
			return nil, invalidParam("Tag.N.Key", "tag key must not be empty")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var targets []*map[string]string
	for _, id := range ids {
		m, ok := s.tagsOf(rt, id, c.region)
		if !ok {
			return nil, newError(CodeInvalidResourceIDNotFound)
		}
		targets = append(targets, m)
	}
	for _, m := range targets {
		if *m == nil {
			*m = map[string]string{}
		}
		for _, t := range tags {
			(*m)[t.Key] = t.Value
		}
	}
	return map[string]any{}, nil
}

func (s *Server) listTagResources(c *call) (map[string]any, *apiError) {
	rt, err := resourceType(c)
	if err != nil {
		return nil, err
	}
	ids := repeated(c.p, "ResourceId")
	tagf := tagParams(c.p, "Tag")
	s.mu.Lock()
	var order []string
	switch rt {
	case "disk":
		order = s.st.diskOrder
	case "snapshot":
		order = s.st.snapOrder
	case "instance":
		order = s.st.instOrder
	}
	var list []map[string]any
	for _, id := range order {
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		m, ok := s.tagsOf(rt, id, c.region)
		if !ok || !matchTags(*m, tagf) {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(*m)) {
			list = append(list, map[string]any{"ResourceId": id, "ResourceType": rt, "TagKey": k, "TagValue": (*m)[k]})
		}
	}
	s.mu.Unlock()
	pg, err := paginate(c.p, len(list), 50, 50, 50, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"NextToken":    pg.nextToken,
		"TagResources": map[string]any{"TagResource": nonNil(list[pg.start:pg.end])},
	}, nil
}
