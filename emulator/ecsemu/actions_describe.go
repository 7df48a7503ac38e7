package ecsemu

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
	pg, err := paginate(c.p, len(list), 10, 100, 500, false, clampResults{10, 500})
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

// snapshotOut is a DescribeSnapshots entry. Caller holds s.mu.
func (s *Server) snapshotOut(st *snapState) map[string]any {
	sn := &st.Snapshot
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
		"Available":         s.snapshotUsable(st),
		"InstantAccess":     s.instantAccess(st),
		"CreationTime":      fmtTime(sn.CreationTime),
		"LastModifiedTime":  fmtTime(sn.CreationTime),
		"Category":          "standard",
		"SnapshotType":      "user",
		"Usage":             "none",
		"Tags":              tagsOut(sn.Tags),
		"RetentionDays":     sn.RetentionDays,
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
		list = append(list, s.snapshotOut(sn))
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
				snaps = append(snaps, s.groupSnapshotOut(sn))
			}
		}
		list = append(list, map[string]any{
			"SnapshotGroupId": g.SnapshotGroupID,
			"Name":            g.Name,
			"Description":     g.Description,
			"InstanceId":      g.InstanceID,
			"Status":          g.Status,
			"ProgressStatus":  g.Status,
			"ResourceGroupId": "",
			"CreationTime":    fmtTime(g.CreationTime),
			"Tags":            keyValueTags(g.Tags),
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
		// Network identity: the [v1] struct_instance.go shapes.
		"InstanceNetworkType": "vpc",
		"VpcAttributes": map[string]any{"VpcId": in.VpcID, "VSwitchId": in.VSwitchID, "NatIpAddress": "",
			"PrivateIpAddress": map[string]any{"IpAddress": nonNilStrings(in.PrivateIPs)}},
		"InnerIpAddress":   map[string]any{"IpAddress": []string{}},
		"PublicIpAddress":  map[string]any{"IpAddress": nonNilStrings(in.PublicIPs)},
		"EipAddress":       map[string]any{"IpAddress": in.EipAddress, "AllocationId": "", "Bandwidth": 0, "InternetChargeType": "", "IsSupportUnassociate": false},
		"SecurityGroupIds": map[string]any{"SecurityGroupId": nonNilStrings(in.SecurityGroupIDs)},
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
	pg, err := paginate(c.p, len(list), 10, 100, 100, false, clampResults{10, 100})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Instances": map[string]any{"Instance": nonNil(list[pg.start:pg.end])}}
	pg.fields(out, len(list))
	return out, nil
}

// groupSnapshotOut is one disk snapshot inside a DescribeSnapshotGroups
// group, with exactly the fields of the response model
// (DescribeSnapshotGroupsResponseBodySnapshotGroupsSnapshotGroupSnapshotsSnapshot
// in alibabacloud-go/ecs-20140526 v7 client/describe_snapshot_groups_response_body_model.go):
// no per-snapshot Status, tags as Key/Value. Caller holds s.mu.
func (s *Server) groupSnapshotOut(sn *snapState) map[string]any {
	retention := 0
	ia := s.instantAccess(sn)
	if ia {
		retention = 1
	}
	return map[string]any{
		"SnapshotId":                 sn.SnapshotID,
		"SourceDiskId":               sn.SourceDiskID,
		"SourceDiskType":             sn.SourceDiskType,
		"Progress":                   strconv.Itoa(sn.Progress) + "%",
		"Available":                  s.snapshotUsable(sn),
		"InstantAccess":              ia,
		"InstantAccessRetentionDays": retention,
		"Tags":                       keyValueTags(sn.Tags),
	}
}

type keyValue struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// keyValueTags is the {"Tag":[{"Key","Value"}]} form of DescribeSnapshotGroups.
func keyValueTags(tags map[string]string) map[string]any {
	list := make([]keyValue, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		list = append(list, keyValue{k, tags[k]})
	}
	return map[string]any{"Tag": list}
}
