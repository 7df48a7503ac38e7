package ecsemu

import (
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/google/go-cmp/cmp"
)

func diskIDs(disks []ecs.Disk) []string {
	var out []string
	for _, d := range disks {
		out = append(out, d.DiskId)
	}
	return out
}

func TestDescribeDisks(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)

	req := ecs.CreateDescribeDisksRequest()
	req.RegionId = hz
	req.InstanceId = "i-bp1stopped0000000000"
	resp, err := c.DescribeDisks(req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := diskIDs(resp.Disks.Disk), []string{"d-bp1stoppedsys0000000", "d-bp1stoppeddata000000"}; !cmp.Equal(got, want) {
		t.Errorf("by instance: got %v, want %v", got, want)
	}
	d := resp.Disks.Disk[0]
	if d.Category != "cloud_essd" || d.Type != "system" || d.Status != DiskInUse || d.InstanceId != "i-bp1stopped0000000000" ||
		len(d.Tags.Tag) != 1 || d.Tags.Tag[0].TagKey != "rollback" || d.Tags.Tag[0].TagValue != "allowed" || d.MultiAttach != "Disabled" {
		t.Errorf("got disk %+v", d)
	}

	req = ecs.CreateDescribeDisksRequest()
	req.RegionId = hz
	req.DiskIds = `["d-bp1runningdata000000","d-bp1multiattach000000"]`
	resp, err = c.DescribeDisks(req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := diskIDs(resp.Disks.Disk), []string{"d-bp1runningdata000000", "d-bp1multiattach000000"}; !cmp.Equal(got, want) || resp.TotalCount != 2 {
		t.Errorf("by DiskIds: got %v (total %d), want %v", got, resp.TotalCount, want)
	}
	if resp.Disks.Disk[1].MultiAttach != "Enabled" {
		t.Errorf("got MultiAttach %q, want Enabled", resp.Disks.Disk[1].MultiAttach)
	}

	req = ecs.CreateDescribeDisksRequest()
	req.RegionId = hz
	req.Tag = &[]ecs.DescribeDisksTag{{Key: "rollback", Value: "allowed"}}
	resp, err = c.DescribeDisks(req)
	if err != nil || resp.TotalCount != 4 {
		t.Errorf("by tag: got %d disks, err %v, want 4", resp.TotalCount, err)
	}

	// Paging: 13 disks in cn-hangzhou, 5 per page.
	var all []string
	for page := 1; ; page++ {
		req = ecs.CreateDescribeDisksRequest()
		req.RegionId = hz
		req.PageSize = "5"
		req.PageNumber = requestsInt(page)
		resp, err = c.DescribeDisks(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.PageNumber != page || resp.PageSize != 5 || resp.TotalCount != 13 {
			t.Fatalf("page %d: got PageNumber %d PageSize %d TotalCount %d", page, resp.PageNumber, resp.PageSize, resp.TotalCount)
		}
		if len(resp.Disks.Disk) == 0 {
			break
		}
		all = append(all, diskIDs(resp.Disks.Disk)...)
	}
	if len(all) != 13 {
		t.Errorf("paged: got %d disks, want 13", len(all))
	}
	// NextToken paging.
	var tokAll []string
	token := ""
	for {
		req = ecs.CreateDescribeDisksRequest()
		req.RegionId = hz
		req.MaxResults = "4"
		req.NextToken = token
		resp, err = c.DescribeDisks(req)
		if err != nil {
			t.Fatal(err)
		}
		tokAll = append(tokAll, diskIDs(resp.Disks.Disk)...)
		if token = resp.NextToken; token == "" {
			break
		}
	}
	if !cmp.Equal(all, tokAll) {
		t.Errorf("token paging: got %v, want %v", tokAll, all)
	}

	req = ecs.CreateDescribeDisksRequest()
	req.RegionId = hz
	req.DiskIds = `d-notjson`
	_, err = c.DescribeDisks(req)
	wantServerError(t, err, CodeInvalidDiskIDsMalformed, 400)

	req = ecs.CreateDescribeDisksRequest()
	req.RegionId = "cn-shanghai"
	resp, err = newClient(t, s, "cn-shanghai").DescribeDisks(req)
	if err != nil || !cmp.Equal(diskIDs(resp.Disks.Disk), []string{"d-sh1stoppedsys0000000"}) {
		t.Errorf("cn-shanghai: got %v, %v", diskIDs(resp.Disks.Disk), err)
	}
}

func requestsInt(n int) requests.Integer { return requests.NewInteger(n) }

func TestDescribeSnapshots(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	req := ecs.CreateDescribeSnapshotsRequest()
	req.RegionId = hz
	req.DiskId = "d-bp1stoppedsys0000000"
	resp, err := c.DescribeSnapshots(req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sn := range resp.Snapshots.Snapshot {
		got = append(got, sn.SnapshotId+"/"+sn.Status+"/"+sn.Progress)
	}
	want := []string{"s-bp1stoppedsysprog000/progressing/60%", "s-bp1stoppedsys0000000/accomplished/100%", "s-bp1stoppedsysold00000/accomplished/100%"}
	if !cmp.Equal(got, want) {
		t.Errorf("newest first: got %v, want %v", got, want)
	}
	sn := resp.Snapshots.Snapshot[1]
	if sn.SourceDiskId != "d-bp1stoppedsys0000000" || sn.SourceDiskType != "system" || sn.CreationTime != "2026-11-20T02:00:00Z" {
		t.Errorf("got snapshot %+v", sn)
	}

	req = ecs.CreateDescribeSnapshotsRequest()
	req.RegionId = hz
	req.InstanceId = "i-bp1stopped0000000000"
	req.Status = "accomplished"
	req.PageSize = "2"
	resp, err = c.DescribeSnapshots(req)
	if err != nil || resp.TotalCount != 4 || len(resp.Snapshots.Snapshot) != 2 {
		t.Errorf("by instance+status: got total %d, page %d, err %v; want 4, 2", resp.TotalCount, len(resp.Snapshots.Snapshot), err)
	}

	req = ecs.CreateDescribeSnapshotsRequest()
	req.RegionId = hz
	req.SnapshotIds = `["s-bp1tooold00000000000"]`
	resp, err = c.DescribeSnapshots(req)
	if err != nil || len(resp.Snapshots.Snapshot) != 1 || resp.Snapshots.Snapshot[0].CreationTime != "2013-01-01T00:00:00Z" {
		t.Errorf("by ids: got %+v, %v", resp.Snapshots.Snapshot, err)
	}
	req.SnapshotIds = `[1,2`
	_, err = c.DescribeSnapshots(req)
	wantServerError(t, err, CodeInvalidSnapshotIDsMalformed, 400)
}

func TestDescribeSnapshotGroups(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	req := ecs.CreateDescribeSnapshotGroupsRequest()
	req.RegionId = hz
	req.InstanceId = "i-bp1stopped0000000000"
	resp, err := c.DescribeSnapshotGroups(req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range resp.SnapshotGroups.SnapshotGroup {
		got = append(got, g.SnapshotGroupId+"/"+g.Status)
	}
	want := []string{"ssg-bp1stoppedprog000000/progressing", "ssg-bp1stopped0000000000/accomplished", "ssg-bp1stoppedold0000000/accomplished"}
	if !cmp.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	g := resp.SnapshotGroups.SnapshotGroup[1]
	if len(g.Snapshots.Snapshot) != 2 || g.Snapshots.Snapshot[0].SnapshotId != "s-bp1stoppedsys0000000" ||
		g.Snapshots.Snapshot[0].SourceDiskId != "d-bp1stoppedsys0000000" || g.Snapshots.Snapshot[0].Progress != "100%" || g.InstanceId != "i-bp1stopped0000000000" {
		t.Errorf("got group %+v", g)
	}

	req = ecs.CreateDescribeSnapshotGroupsRequest()
	req.RegionId = hz
	req.Status = &[]string{"accomplished"}
	req.MaxResults = "2"
	resp, err = c.DescribeSnapshotGroups(req)
	if err != nil || len(resp.SnapshotGroups.SnapshotGroup) != 2 || resp.NextToken == "" {
		t.Fatalf("page 1: got %d groups, token %q, err %v", len(resp.SnapshotGroups.SnapshotGroup), resp.NextToken, err)
	}
	req.NextToken = resp.NextToken
	resp, err = c.DescribeSnapshotGroups(req)
	if err != nil || len(resp.SnapshotGroups.SnapshotGroup) != 1 || resp.NextToken != "" {
		t.Fatalf("page 2: got %d groups, token %q, err %v", len(resp.SnapshotGroups.SnapshotGroup), resp.NextToken, err)
	}

	req = ecs.CreateDescribeSnapshotGroupsRequest()
	req.RegionId = hz
	req.SnapshotGroupId = &[]string{"ssg-bp1running0000000000"}
	resp, err = c.DescribeSnapshotGroups(req)
	if err != nil || len(resp.SnapshotGroups.SnapshotGroup) != 1 {
		t.Errorf("by id: got %+v, %v", resp.SnapshotGroups, err)
	}
}

func TestDescribeInstances(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId = hz
	req.InstanceIds = `["i-bp1locked00000000000","i-bp1running0000000000"]`
	resp, err := c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != 2 {
		t.Fatalf("got %d instances, want 2", resp.TotalCount)
	}
	for _, in := range resp.Instances.Instance {
		switch in.InstanceId {
		case "i-bp1running0000000000":
			if in.Status != InstanceRunning {
				t.Errorf("got %s, want Running", in.Status)
			}
		case "i-bp1locked00000000000":
			if in.Status != InstanceStopped || len(in.OperationLocks.LockReason) != 1 || in.OperationLocks.LockReason[0].LockReason != "security" {
				t.Errorf("got locked instance %+v", in)
			}
		}
	}
	req.InstanceIds = `nope`
	_, err = c.DescribeInstances(req)
	wantServerError(t, err, CodeInvalidInstanceIDsMalformed, 400)

	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId = hz
	req.Status = "Stopped"
	resp, err = c.DescribeInstances(req)
	if err != nil || resp.TotalCount != 4 {
		t.Errorf("Stopped: got %d, %v, want 4", resp.TotalCount, err)
	}
}

func TestStopResetStart(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	const inst = "i-bp1running0000000000"
	status := func() string {
		in, ok := s.Instance(hz, inst)
		if !ok {
			t.Fatalf("instance %s missing", inst)
		}
		return in.Status
	}

	start := ecs.CreateStartInstanceRequest()
	start.RegionId, start.InstanceId = hz, inst
	_, err := c.StartInstance(start)
	wantServerError(t, err, CodeIncorrectInstanceStatus, 403)

	stop := ecs.CreateStopInstanceRequest()
	stop.RegionId, stop.InstanceId, stop.DryRun = hz, inst, "true"
	_, err = c.StopInstance(stop)
	wantServerError(t, err, CodeDryRunOperation, 400)

	stop.DryRun, stop.StoppedMode, stop.ForceStop = "false", "KeepCharging", "false"
	if _, err := c.StopInstance(stop); err != nil {
		t.Fatalf("StopInstance: %v", err)
	}
	if got := status(); got != InstanceStopping {
		t.Errorf("got %s right after stop, want Stopping", got)
	}
	_, err = c.StopInstance(stop)
	wantServerError(t, err, CodeIncorrectInstanceStatus, 403)
	// Stopping is not Stopped: the reset is refused.
	_, err = c.ResetDisks(resetDisksReq(hz, false, "d-bp1runningsys0000000", "s-bp1runningsys0000000"))
	wantServerError(t, err, CodeIncorrectInstanceStatus, 403)
	eventually(t, "Stopped", func() bool { return status() == InstanceStopped })
	if in, _ := s.Instance(hz, inst); in.StoppedMode != "KeepCharging" {
		t.Errorf("got StoppedMode %q, want KeepCharging", in.StoppedMode)
	}
	if _, err := c.ResetDisks(resetDisksReq(hz, false, "d-bp1runningsys0000000", "s-bp1runningsys0000000")); err != nil {
		t.Fatalf("ResetDisks after stop: %v", err)
	}
	start.DryRun = "true"
	_, err = c.StartInstance(start)
	wantServerError(t, err, CodeDryRunOperation, 400)
	start.DryRun = "false"
	if _, err := c.StartInstance(start); err != nil {
		t.Fatalf("StartInstance: %v", err)
	}
	if got := status(); got != InstanceStarting {
		t.Errorf("got %s right after start, want Starting", got)
	}
	eventually(t, "Running", func() bool { return status() == InstanceRunning })

	tests := []struct {
		name, id, code string
		status         int
	}{
		{"not found", "i-bp1doesnotexist0000", CodeInvalidInstanceIDNotFound, 404},
		{"locked", "i-bp1locked00000000000", CodeInstanceLockedForSecurity, 403},
		{"expired", "i-bp1expired0000000000", CodeInstanceExpiredOrInArrears, 403},
		{"missing", "", "MissingInstanceId", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := ecs.CreateStartInstanceRequest()
			req.RegionId, req.InstanceId = hz, tt.id
			_, err := c.StartInstance(req)
			wantServerError(t, err, tt.code, tt.status)
		})
	}
	stop = ecs.CreateStopInstanceRequest()
	stop.RegionId, stop.InstanceId, stop.StoppedMode = hz, "i-bp1running0000000000", "Sometimes"
	_, err = c.StopInstance(stop)
	wantServerError(t, err, CodeInvalidParameter, 400)
}

func TestCreateSnapshot(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	req := ecs.CreateCreateSnapshotRequest()
	req.RegionId, req.DiskId, req.SnapshotName, req.Description = hz, "d-bp1untagged000000000", "pre-rollback", "taken by test"
	req.Tag = &[]ecs.CreateSnapshotTag{{Key: "purpose", Value: "backup"}}
	resp, err := c.CreateSnapshot(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.SnapshotId) != 22 || resp.SnapshotId[:2] != "s-" {
		t.Errorf("got SnapshotId %q, want s- plus 20 chars", resp.SnapshotId)
	}
	sn, ok := s.Snapshot(hz, resp.SnapshotId)
	if !ok || sn.Status != SnapshotProgressing || sn.SnapshotName != "pre-rollback" || sn.Tags["purpose"] != "backup" || sn.SourceDiskID != "d-bp1untagged000000000" {
		t.Fatalf("got %+v, want a progressing snapshot", sn)
	}
	// Meanwhile the disk has an unfinished snapshot.
	_, err = c.ResetDisks(resetDisksReq(hz, false, "d-bp1untagged000000000", "s-bp1untagged000000000"))
	wantServerError(t, err, CodeHasUnfinishedSnapshot, 403)
	eventually(t, "accomplished", func() bool {
		sn, _ := s.Snapshot(hz, resp.SnapshotId)
		return sn.Status == SnapshotAccomplished && sn.Progress == 100
	})
	if _, err := c.ResetDisks(resetDisksReq(hz, false, "d-bp1untagged000000000", resp.SnapshotId)); err != nil {
		t.Fatalf("reset to the new snapshot: %v", err)
	}

	tests := []struct {
		name, disk, code string
		status           int
	}{
		{"missing", "", "MissingDiskId", 400},
		{"not found", "d-bp1doesnotexist00000", CodeInvalidDiskIDNotFound, 404},
		{"reiniting", "d-bp1reiniting00000000", CodeIncorrectDiskStatus, 403},
		{"local", "d-bp1localdisk00000000", CodeDiskCategoryNotSupported, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := ecs.CreateCreateSnapshotRequest()
			req.RegionId, req.DiskId = hz, tt.disk
			_, err := c.CreateSnapshot(req)
			wantServerError(t, err, tt.code, tt.status)
		})
	}
}

func TestTags(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	list := func(rt string, ids []string, tags []ecs.ListTagResourcesTag) []string {
		t.Helper()
		req := ecs.CreateListTagResourcesRequest()
		req.RegionId, req.ResourceType = hz, rt
		if ids != nil {
			req.ResourceId = &ids
		}
		if tags != nil {
			req.Tag = &tags
		}
		resp, err := c.ListTagResources(req)
		if err != nil {
			t.Fatalf("ListTagResources: %v", err)
		}
		var out []string
		for _, r := range resp.TagResources.TagResource {
			out = append(out, r.ResourceType+":"+r.ResourceId+":"+r.TagKey+"="+r.TagValue)
		}
		return out
	}
	got := list("disk", nil, []ecs.ListTagResourcesTag{{Key: "rollback", Value: "allowed"}})
	want := []string{"disk:d-bp1stoppedsys0000000:rollback=allowed", "disk:d-bp1stoppeddata000000:rollback=allowed",
		"disk:d-bp1runningsys0000000:rollback=allowed", "disk:d-bp1runningdata000000:rollback=allowed"}
	if !cmp.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	tag := ecs.CreateTagResourcesRequest()
	tag.RegionId, tag.ResourceType = hz, "snapshot"
	tag.ResourceId = &[]string{"s-bp1untagged000000000"}
	tag.Tag = &[]ecs.TagResourcesTag{{Key: "rollback", Value: "allowed"}, {Key: "team", Value: "ops"}}
	if _, err := c.TagResources(tag); err != nil {
		t.Fatalf("TagResources: %v", err)
	}
	got = list("snapshot", []string{"s-bp1untagged000000000"}, nil)
	want = []string{"snapshot:s-bp1untagged000000000:rollback=allowed", "snapshot:s-bp1untagged000000000:team=ops"}
	if !cmp.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := list("instance", []string{"i-bp1stopped0000000000"}, nil); len(got) != 0 {
		t.Errorf("instances have no tags in the default fleet, got %v", got)
	}

	tests := []struct {
		name   string
		mod    func(r *ecs.TagResourcesRequest)
		code   string
		status int
	}{
		{"bad type", func(r *ecs.TagResourcesRequest) { r.ResourceType = "bucket" }, CodeInvalidResourceTypeNotFound, 404},
		{"no type", func(r *ecs.TagResourcesRequest) { r.ResourceType = "" }, CodeMissingParameterResourceType, 404},
		{"unknown id", func(r *ecs.TagResourcesRequest) { r.ResourceId = &[]string{"s-bp1doesnotexist00000"} }, CodeInvalidResourceIDNotFound, 404},
		{"no ids", func(r *ecs.TagResourcesRequest) { r.ResourceId = nil }, "MissingResourceId", 400},
		{"no tags", func(r *ecs.TagResourcesRequest) { r.Tag = nil }, CodeMissingParameterTags, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := ecs.CreateTagResourcesRequest()
			req.RegionId, req.ResourceType = hz, "disk"
			req.ResourceId = &[]string{"d-bp1untagged000000000"}
			req.Tag = &[]ecs.TagResourcesTag{{Key: "k", Value: "v"}}
			tt.mod(req)
			_, err := c.TagResources(req)
			wantServerError(t, err, tt.code, tt.status)
		})
	}
}
