package ecstest

import (
	"fmt"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// pagingDisks: DescribeDisks of more disks than one page (and one call's
// 100 IDs) holds returns each of them once.
func pagingDisks(t TB, _ Harness, e Env) {
	p := e.IDs.Paging
	need(t, p != nil && len(p.Disks) > 0, "paging disks")
	disks, err := e.ECS.DescribeDisks(ctxOf(t), e.IDs.Region, p.Disks)
	if err != nil {
		t.Fatalf("DescribeDisks(%d): %v", len(p.Disks), err)
	}
	got := make([]string, len(disks))
	for i, d := range disks {
		got[i] = d.DiskID
	}
	sameSet(t, "DescribeDisks", got, p.Disks)
}

// pagingInstances: DescribeInstances of more instances than one page holds
// returns each of them once.
func pagingInstances(t TB, _ Harness, e Env) {
	p := e.IDs.Paging
	need(t, p != nil && len(p.Instances) > 0, "paging instances")
	ins, err := e.ECS.DescribeInstances(ctxOf(t), e.IDs.Region, p.Instances)
	if err != nil {
		t.Fatalf("DescribeInstances(%d): %v", len(p.Instances), err)
	}
	got := make([]string, len(ins))
	for i, in := range ins {
		got[i] = in.InstanceID
	}
	sameSet(t, "DescribeInstances", got, p.Instances)
}

// pagingSnapshots: DescribeSnapshots of more snapshots than one page holds
// returns each of them once.
func pagingSnapshots(t TB, _ Harness, e Env) {
	p := e.IDs.Paging
	need(t, p != nil && len(p.Snapshots) > 0, "paging snapshots")
	snaps, err := e.ECS.DescribeSnapshots(ctxOf(t), e.IDs.Region, p.Snapshots)
	if err != nil {
		t.Fatalf("DescribeSnapshots(%d): %v", len(p.Snapshots), err)
	}
	got := make([]string, len(snaps))
	for i, s := range snaps {
		got[i] = s.SnapshotID
	}
	sameSet(t, "DescribeSnapshots", got, p.Snapshots)
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
