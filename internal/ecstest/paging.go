package ecstest

import (
	"context"
	"fmt"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// pagingDisks: DescribeDisks of more disks than one page (and one call's
// 100 IDs) holds returns each of them once.
func pagingDisks(t TB, _ Harness, e Env) {
	p := e.IDs.Paging
	need(t, p != nil && len(p.Disks) > 0, "paging disks")
	checkListed(t, e.IDs.Region, "DescribeDisks", p.Disks, e.ECS.DescribeDisks, func(d function.Disk) string { return d.DiskID })
}

// pagingInstances: DescribeInstances of more instances than one page holds
// returns each of them once.
func pagingInstances(t TB, _ Harness, e Env) {
	p := e.IDs.Paging
	need(t, p != nil && len(p.Instances) > 0, "paging instances")
	checkListed(t, e.IDs.Region, "DescribeInstances", p.Instances, e.ECS.DescribeInstances, func(in function.Instance) string { return in.InstanceID })
}

// pagingSnapshots: DescribeSnapshots of more snapshots than one page holds
// returns each of them once.
func pagingSnapshots(t TB, _ Harness, e Env) {
	p := e.IDs.Paging
	need(t, p != nil && len(p.Snapshots) > 0, "paging snapshots")
	checkListed(t, e.IDs.Region, "DescribeSnapshots", p.Snapshots, e.ECS.DescribeSnapshots, func(s function.Snapshot) string { return s.SnapshotID })
}

// checkListed calls a Describe of ids and checks it lists each exactly once.
func checkListed[T any](t TB, region, name string, ids []string, describe func(context.Context, string, []string) ([]T, error), id func(T) string) {
	items, err := describe(ctxOf(t), region, ids)
	if err != nil {
		t.Fatalf("%s(%d): %v", name, len(ids), err)
	}
	got := make([]string, len(items))
	for i, it := range items {
		got[i] = id(it)
	}
	sameSet(t, name, got, ids)
}

// pagingGroups: DescribeSnapshotGroups of an instance with more instance
// snapshots than one page holds returns each of them once.
func pagingGroups(t TB, _ Harness, e Env) {
	p := e.IDs.Paging
	need(t, p != nil && p.GroupInstance != "" && p.Groups > 0, "paging snapshot groups")
	groups, err := e.ECS.DescribeSnapshotGroups(ctxOf(t), function.DescribeSnapshotGroupsInput{RegionID: e.IDs.Region, InstanceID: p.GroupInstance})
	if err != nil {
		t.Fatalf("DescribeSnapshotGroups(%s): %v", p.GroupInstance, err)
	}
	seen := map[string]bool{}
	for _, g := range groups {
		if seen[g.SnapshotGroupID] || g.InstanceID != p.GroupInstance {
			t.Errorf("DescribeSnapshotGroups: got %s of %s (seen before: %v), want each group of %s once", g.SnapshotGroupID, g.InstanceID, seen[g.SnapshotGroupID], p.GroupInstance)
		}
		seen[g.SnapshotGroupID] = true
	}
	if len(seen) != p.Groups {
		t.Errorf("DescribeSnapshotGroups: got %d groups, want %d", len(seen), p.Groups)
	}
}

// pagingTags: ListTagResources of more disks than one call names (50), with
// more tags than one page holds (50), lists exactly the tags DescribeDisks
// shows on them.
func pagingTags(t TB, _ Harness, e Env) {
	p := e.IDs.Paging
	need(t, p != nil && len(p.Disks) > 0, "paging disks")
	disks, err := e.ECS.DescribeDisks(ctxOf(t), e.IDs.Region, p.Disks)
	if err != nil {
		t.Fatalf("DescribeDisks: %v", err)
	}
	var want []string
	for _, d := range disks {
		for k, v := range d.Tags {
			want = append(want, fmt.Sprintf("%s %s=%s", d.DiskID, k, v))
		}
	}
	list, err := e.ECS.ListTagResources(ctxOf(t), e.IDs.Region, resourceTypeDisk, p.Disks)
	if err != nil {
		t.Fatalf("ListTagResources(%d): %v", len(p.Disks), err)
	}
	got := make([]string, len(list))
	for i, r := range list {
		got[i] = fmt.Sprintf("%s %s=%s", r.ResourceID, r.TagKey, r.TagValue)
	}
	if len(want) <= 50 {
		t.Errorf("paging fixture: %d tags on %d disks, want more than one page (50)", len(want), len(p.Disks))
	}
	sameSet(t, "ListTagResources", got, want)
}
