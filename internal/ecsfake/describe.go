package ecsfake

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// DescribeDisks lists the named disks of the region in fixture order;
// missing ones are absent.
func (f *Fake) DescribeDisks(_ context.Context, region string, ids []string) ([]function.Disk, error) {
	var out []function.Disk
	err := f.do(Call{Op: "DescribeDisks", Region: region, IDs: slices.Clone(ids)}, func(now time.Time) error {
		for _, id := range f.diskOrder {
			if !slices.Contains(ids, id) {
				continue
			}
			if d := f.disk(region, id, now, true); d != nil {
				multi := "Disabled"
				if d.MultiAttach {
					multi = "Enabled"
				}
				out = append(out, function.Disk{DiskID: d.DiskID, RegionID: d.RegionID, InstanceID: d.InstanceID, Status: d.Status,
					Category: d.Category, Type: d.Type, MultiAttach: multi, Tags: cloneTags(d.Tags)})
			}
		}
		return nil
	})
	return out, err
}

// DescribeInstances lists the named instances of the region in fixture order.
func (f *Fake) DescribeInstances(_ context.Context, region string, ids []string) ([]function.Instance, error) {
	var out []function.Instance
	err := f.do(Call{Op: "DescribeInstances", Region: region, IDs: slices.Clone(ids)}, func(now time.Time) error {
		for _, id := range f.instOrder {
			if !slices.Contains(ids, id) {
				continue
			}
			in := f.instance(region, id, now, true)
			if in == nil {
				continue
			}
			o := function.Instance{InstanceID: in.InstanceID, RegionID: in.RegionID, Status: in.Status, ExpiredTime: "2099-12-31T16:00Z"}
			switch {
			case in.LockReason != "":
				o.LockReasons = []string{in.LockReason}
			case in.Expired:
				o.LockReasons = []string{"financial"}
			}
			if in.Expired {
				o.ExpiredTime = "2020-01-01T16:00Z"
			}
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// DescribeInstancesByTag lists the instances of region carrying the tag
// key=value, in fixture order.
func (f *Fake) DescribeInstancesByTag(_ context.Context, region, key, value string) ([]function.Instance, error) {
	var out []function.Instance
	err := f.do(Call{Op: "DescribeInstancesByTag", Region: region, Tags: map[string]string{key: value}}, func(now time.Time) error {
		for _, id := range f.instOrder {
			in := f.instance(region, id, now, true)
			if in == nil {
				continue
			}
			if v, ok := in.Tags[key]; !ok || v != value {
				continue
			}
			out = append(out, function.Instance{InstanceID: in.InstanceID, RegionID: in.RegionID, Status: in.Status})
		}
		return nil
	})
	return out, err
}

// newestFirst orders snapshot-like items by creation time, newest first.
func newestFirst[T any](items []T, created func(T) time.Time) {
	slices.SortStableFunc(items, func(a, b T) int { return created(b).Compare(created(a)) })
}

// DescribeSnapshots lists the named snapshots of the region, newest first.
func (f *Fake) DescribeSnapshots(_ context.Context, region string, ids []string) ([]function.Snapshot, error) {
	var out []function.Snapshot
	err := f.do(Call{Op: "DescribeSnapshots", Region: region, IDs: slices.Clone(ids)}, func(now time.Time) error {
		for _, id := range f.snapOrder {
			if !slices.Contains(ids, id) {
				continue
			}
			if s := f.snapshot(region, id, now, true); s != nil {
				out = append(out, function.Snapshot{SnapshotID: s.SnapshotID, SourceDiskID: s.SourceDiskID, Status: s.Status,
					Progress: progress(s), CreationTime: s.CreationTime, Tags: cloneTags(s.Tags)})
			}
		}
		newestFirst(out, func(s function.Snapshot) time.Time { return s.CreationTime })
		return nil
	})
	return out, err
}

func progress(s *snap) string {
	if s.Status == ecsemu.SnapshotAccomplished {
		return "100%"
	}
	return strconv.Itoa(s.Progress) + "%"
}

// DescribeSnapshotGroups lists the instance snapshots matching in, newest first.
func (f *Fake) DescribeSnapshotGroups(_ context.Context, in function.DescribeSnapshotGroupsInput) ([]function.SnapshotGroup, error) {
	var out []function.SnapshotGroup
	c := Call{Op: "DescribeSnapshotGroups", Region: in.RegionID, IDs: slices.Clone(in.SnapshotGroupIDs)}
	if in.InstanceID != "" {
		c.IDs = append(c.IDs, in.InstanceID)
	}
	err := f.do(c, func(now time.Time) error {
		for _, g := range f.groups {
			if g.RegionID != in.RegionID || (in.InstanceID != "" && g.InstanceID != in.InstanceID) ||
				(len(in.SnapshotGroupIDs) > 0 && !slices.Contains(in.SnapshotGroupIDs, g.SnapshotGroupID)) ||
				(len(in.Statuses) > 0 && !slices.Contains(in.Statuses, g.Status)) {
				continue
			}
			sg := function.SnapshotGroup{SnapshotGroupID: g.SnapshotGroupID, InstanceID: g.InstanceID, Name: g.Name, Status: g.Status, CreationTime: g.CreationTime}
			for _, id := range g.SnapshotIDs {
				s := f.snapshot(g.RegionID, id, now, true)
				if s == nil {
					continue
				}
				ia := false
				if d := f.disks[s.SourceDiskID]; d != nil {
					ia = essd(d.Category)
				}
				sg.Snapshots = append(sg.Snapshots, function.GroupSnapshot{SnapshotID: s.SnapshotID, SourceDiskID: s.SourceDiskID,
					SourceDiskType: s.SourceDiskType, Progress: progress(s), Available: usable(s), InstantAccess: ia})
			}
			out = append(out, sg)
		}
		newestFirst(out, func(g function.SnapshotGroup) time.Time { return g.CreationTime })
		return nil
	})
	return out, err
}

func cloneTags(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
