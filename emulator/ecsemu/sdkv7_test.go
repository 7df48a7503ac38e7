package ecsemu_test

// These tests drive the emulator with the current-generation SDK
// (github.com/alibabacloud-go/ecs-20140526/v7 on darabonba-openapi/v2), a
// test-only dependency: its request models carry no RegionId for ResetDisk,
// StopInstance, StartInstance and CreateSnapshot, so the emulator must find
// the region from the resource. Both of its RPC signatures are exercised:
// ACS3-HMAC-SHA256 (the default) and v2 (SignatureAlgorithm "v2", which
// signs HMAC-SHA1 with SignatureVersion 1.0).

import (
	"errors"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	ecs "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

const v7Region = "cn-hangzhou"

func newV7Client(t *testing.T, s *ecsemu.Server, algorithm string) *ecs.Client {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     tea.String(ecsemu.DefaultAccessKeyID),
		AccessKeySecret: tea.String(ecsemu.DefaultAccessKeySecret),
		RegionId:        tea.String(v7Region),
		Endpoint:        tea.String(s.Addr()),
		Protocol:        tea.String("http"),
	}
	if algorithm != "" {
		cfg.SignatureAlgorithm = tea.String(algorithm)
	}
	c, err := ecs.NewClient(cfg)
	if err != nil {
		t.Fatalf("ecs.NewClient: %v", err)
	}
	return c
}

func newV7Server(t *testing.T) *ecsemu.Server {
	t.Helper()
	s, err := ecsemu.NewServer(ecsemu.Options{ResetDuration: 30 * time.Millisecond, StopDuration: 30 * time.Millisecond,
		StartDuration: 30 * time.Millisecond, SnapshotDuration: 30 * time.Millisecond, CommandDuration: 30 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// wantV7Error checks err is the SDK's error for code and status.
func wantV7Error(t *testing.T, err error, code string, status int) {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("got %T %v, want *tea.SDKError %s", err, err, code)
	}
	if got := tea.StringValue(se.Code); got != code || tea.IntValue(se.StatusCode) != status {
		t.Fatalf("got %s (%d), want %s (%d)", got, tea.IntValue(se.StatusCode), code, status)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSDKv7EveryAction(t *testing.T) {
	for _, sig := range []struct{ name, algorithm, signedWith string }{
		{"acs3", "", "acs3"},
		{"v2", "v2", "v1"},
	} {
		t.Run(sig.name, func(t *testing.T) {
			s := newV7Server(t)
			c := newV7Client(t, s, sig.algorithm)

			inst, err := c.DescribeInstances(&ecs.DescribeInstancesRequest{RegionId: tea.String(v7Region),
				InstanceIds: tea.String(`["i-bp1running0000000000"]`)})
			if err != nil {
				t.Fatalf("DescribeInstances: %v", err)
			}
			if got := inst.Body.Instances.Instance; len(got) != 1 || tea.StringValue(got[0].Status) != "Running" {
				t.Fatalf("got instances %v, want one Running", got)
			}

			if _, err := c.StopInstance(&ecs.StopInstanceRequest{InstanceId: tea.String("i-bp1running0000000000"),
				StoppedMode: tea.String("KeepCharging")}); err != nil {
				t.Fatalf("StopInstance without RegionId: %v", err)
			}
			waitFor(t, "instance stopped", func() bool {
				in, _ := s.Instance(v7Region, "i-bp1running0000000000")
				return in.Status == ecsemu.InstanceStopped
			})
			if _, err := c.StartInstance(&ecs.StartInstanceRequest{InstanceId: tea.String("i-bp1running0000000000")}); err != nil {
				t.Fatalf("StartInstance without RegionId: %v", err)
			}

			disks, err := c.DescribeDisks(&ecs.DescribeDisksRequest{RegionId: tea.String(v7Region),
				InstanceId: tea.String("i-bp1stopped0000000000"), MaxResults: tea.Int32(1)})
			if err != nil {
				t.Fatalf("DescribeDisks: %v", err)
			}
			// MaxResults below 10 is raised to 10 (DescribeDisks request model).
			if got := len(disks.Body.Disks.Disk); got != 2 {
				t.Errorf("got %d disks with MaxResults=1, want 2 (clamped to 10)", got)
			}

			snaps, err := c.DescribeSnapshots(&ecs.DescribeSnapshotsRequest{RegionId: tea.String(v7Region),
				SnapshotIds: tea.String(`["s-bp1stoppedsys0000000"]`)})
			if err != nil {
				t.Fatalf("DescribeSnapshots: %v", err)
			}
			if got := snaps.Body.Snapshots.Snapshot; len(got) != 1 || !tea.BoolValue(got[0].Available) {
				t.Fatalf("got snapshots %v, want one Available", got)
			}

			groups, err := c.DescribeSnapshotGroups(&ecs.DescribeSnapshotGroupsRequest{RegionId: tea.String(v7Region),
				SnapshotGroupId: []*string{tea.String("ssg-bp1stopped0000000000")}})
			if err != nil {
				t.Fatalf("DescribeSnapshotGroups: %v", err)
			}
			g := groups.Body.SnapshotGroups.SnapshotGroup
			if len(g) != 1 || tea.StringValue(g[0].Status) != "accomplished" || g[0].ProgressStatus == nil {
				t.Fatalf("got groups %v, want one accomplished with ProgressStatus", g)
			}
			for _, sn := range g[0].Snapshots.Snapshot {
				if !tea.BoolValue(sn.Available) || !tea.BoolValue(sn.InstantAccess) || tea.StringValue(sn.Progress) != "100%" {
					t.Errorf("got group snapshot %v, want Available, InstantAccess, 100%%", sn)
				}
			}

			if _, err := c.ResetDisk(&ecs.ResetDiskRequest{DiskId: tea.String("d-bp1stoppedsys0000000"),
				SnapshotId: tea.String("s-bp1stoppedsys0000000")}); err != nil {
				t.Fatalf("ResetDisk without RegionId: %v", err)
			}
			rd, err := c.ResetDisks(&ecs.ResetDisksRequest{RegionId: tea.String(v7Region), Disk: []*ecs.ResetDisksRequestDisk{
				{DiskId: tea.String("d-bp1stoppeddata000000"), SnapshotId: tea.String("s-bp1stoppeddata000000")}}})
			if err != nil {
				t.Fatalf("ResetDisks: %v", err)
			}
			if got := rd.Body.OperationProgressSet.OperationProgress; len(got) != 1 || tea.StringValue(got[0].OperationStatus) != "Success" {
				t.Errorf("got progress %v, want one Success", got)
			}
			if got, want := s.ResetCount("d-bp1stoppedsys0000000")+s.ResetCount("d-bp1stoppeddata000000"), 2; got != want {
				t.Errorf("got %d resets, want %d", got, want)
			}

			req := &ecs.CreateSnapshotRequest{DiskId: tea.String("d-bp1runningdata000000"),
				SnapshotName: tea.String("rollback-backup"), ClientToken: tea.String("token-" + sig.name)}
			first, err := c.CreateSnapshot(req)
			if err != nil {
				t.Fatalf("CreateSnapshot without RegionId: %v", err)
			}
			again, err := c.CreateSnapshot(req)
			if err != nil {
				t.Fatalf("CreateSnapshot retried: %v", err)
			}
			if a, b := tea.StringValue(first.Body.SnapshotId), tea.StringValue(again.Body.SnapshotId); a == "" || a != b {
				t.Errorf("got snapshot ids %q then %q, want the same for one ClientToken", a, b)
			}

			if _, err := c.TagResources(&ecs.TagResourcesRequest{RegionId: tea.String(v7Region), ResourceType: tea.String("disk"),
				ResourceId: []*string{tea.String("d-bp1untagged000000000")},
				Tag:        []*ecs.TagResourcesRequestTag{{Key: tea.String("team"), Value: tea.String("ops")}}}); err != nil {
				t.Fatalf("TagResources: %v", err)
			}
			lt, err := c.ListTagResources(&ecs.ListTagResourcesRequest{RegionId: tea.String(v7Region), ResourceType: tea.String("disk"),
				ResourceId: []*string{tea.String("d-bp1untagged000000000")}})
			if err != nil {
				t.Fatalf("ListTagResources: %v", err)
			}
			if got := lt.Body.TagResources.TagResource; len(got) != 1 || tea.StringValue(got[0].TagKey) != "team" {
				t.Errorf("got tags %v, want team=ops", got)
			}

			// An unknown disk without RegionId is the disk's NotFound, not MissingRegionId.
			_, err = c.ResetDisk(&ecs.ResetDiskRequest{DiskId: tea.String("d-bp1doesnotexist00000"), SnapshotId: tea.String("s-bp1stoppedsys0000000")})
			wantV7Error(t, err, ecsemu.CodeInvalidDiskIDNotFound, 404)

			running := []*string{tea.String("i-bp1running0000000000")}
			waitFor(t, "instance running", func() bool {
				in, _ := s.Instance(v7Region, "i-bp1running0000000000")
				return in.Status == ecsemu.InstanceRunning
			})
			fs, err := c.DescribeInstancesFullStatus(&ecs.DescribeInstancesFullStatusRequest{RegionId: tea.String(v7Region), InstanceId: running})
			if err != nil {
				t.Fatalf("DescribeInstancesFullStatus: %v", err)
			}
			if got := fs.Body.InstanceFullStatusSet.InstanceFullStatusType; len(got) != 1 || tea.StringValue(got[0].HealthStatus.Name) != "Ok" || tea.StringValue(got[0].Status.Name) != "Running" {
				t.Errorf("got full status %v, want one Running and Ok", got)
			}
			as, err := c.DescribeCloudAssistantStatus(&ecs.DescribeCloudAssistantStatusRequest{RegionId: tea.String(v7Region), InstanceId: running})
			if err != nil {
				t.Fatalf("DescribeCloudAssistantStatus: %v", err)
			}
			if got := as.Body.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus; len(got) != 1 || tea.StringValue(got[0].CloudAssistantStatus) != "true" {
				t.Errorf("got agent status %v, want one true", got)
			}
			cc, err := c.CreateCommand(&ecs.CreateCommandRequest{RegionId: tea.String(v7Region), Name: tea.String("health"),
				Type: tea.String("RunShellScript"), CommandContent: tea.String("ZXhpdCAw")})
			if err != nil {
				t.Fatalf("CreateCommand: %v", err)
			}
			ic, err := c.InvokeCommand(&ecs.InvokeCommandRequest{RegionId: tea.String(v7Region), CommandId: cc.Body.CommandId, InstanceId: running})
			if err != nil {
				t.Fatalf("InvokeCommand: %v", err)
			}
			waitFor(t, "invocation finished", func() bool {
				ir, err := c.DescribeInvocationResults(&ecs.DescribeInvocationResultsRequest{RegionId: tea.String(v7Region), InvokeId: ic.Body.InvokeId, ContentEncoding: tea.String("PlainText")})
				if err != nil {
					t.Fatalf("DescribeInvocationResults: %v", err)
				}
				got := ir.Body.Invocation.InvocationResults.InvocationResult
				return len(got) == 1 && tea.StringValue(got[0].InvocationStatus) == "Success" && tea.Int64Value(got[0].ExitCode) == 0
			})

			seen := map[string]bool{}
			for _, r := range s.Requests() {
				if r.SignedWith != sig.signedWith {
					t.Errorf("%s: got signature %q, want %q", r.Action, r.SignedWith, sig.signedWith)
				}
				if r.Action == "ResetDisk" && r.HTTPStatus == 200 && r.RegionID != v7Region {
					t.Errorf("ResetDisk logged region %q, want %q found from the disk", r.RegionID, v7Region)
				}
				seen[r.Action] = true
			}
			for _, a := range ecsemu.Actions() {
				if !seen[a] {
					t.Errorf("action %s not exercised", a)
				}
			}
		})
	}
}
