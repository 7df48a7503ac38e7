package ecsclient_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// TestEmuHealthCalls runs the adapter's health-gate and undo calls against
// the emulator: the request shapes the SDK sends are the ones it parses.
func TestEmuHealthCalls(t *testing.T) {
	s := startEmu(t, ecsemu.Options{CommandDuration: -1})
	const inst, cmd = "i-bp1running0000000000", "c-bp1health0000000000"
	if err := s.Mutate(func(f *ecsemu.Fixture) {
		for i := range f.Instances {
			if in := &f.Instances[i]; in.InstanceID == inst {
				in.VpcID, in.VSwitchID, in.PrivateIPs, in.EipAddress, in.SecurityGroupIDs = "vpc-1", "vsw-1", []string{"10.0.0.5"}, "47.1.1.1", []string{"sg-1"}
				in.Script = &ecsemu.InstanceScript{ExitCodes: []int{4}, Outputs: []string{"not ready\n"}}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	e := emuClient(t, s, emuCreds)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	insts, err := e.DescribeInstances(ctx, region, []string{inst})
	if err != nil || len(insts) != 1 {
		t.Fatalf("DescribeInstances: %v", err)
	}
	want := function.Network{VpcID: "vpc-1", VSwitchID: "vsw-1", PrivateIps: []string{"10.0.0.5"}, PublicIps: []string{}, EipAddress: "47.1.1.1", SecurityGroupIDs: []string{"sg-1"}}
	if got := insts[0].Network; got.VpcID != want.VpcID || got.VSwitchID != want.VSwitchID || !slices.Equal(got.PrivateIps, want.PrivateIps) ||
		got.EipAddress != want.EipAddress || !slices.Equal(got.SecurityGroupIDs, want.SecurityGroupIDs) || len(got.PublicIps) != 0 {
		t.Errorf("network %+v, want %+v", got, want)
	}

	hs, err := e.DescribeInstancesFullStatus(ctx, region, []string{inst, "i-bp1stopped0000000000"})
	if err != nil || len(hs) != 2 {
		t.Fatalf("DescribeInstancesFullStatus: %+v %v", hs, err)
	}
	for _, h := range hs {
		wantHealth := map[string]string{inst: "Ok", "i-bp1stopped0000000000": "NotApplicable"}[h.InstanceID]
		if h.Health != wantHealth {
			t.Errorf("%s: health %q, want %q", h.InstanceID, h.Health, wantHealth)
		}
	}

	as, err := e.DescribeCloudAssistantStatus(ctx, region, []string{inst})
	if err != nil || len(as) != 1 || !as[0].Running {
		t.Fatalf("DescribeCloudAssistantStatus: %+v %v", as, err)
	}

	id, err := e.InvokeCommand(ctx, function.InvokeCommandInput{RegionID: region, CommandID: cmd, InstanceIDs: []string{inst}, ClientToken: "hc-test"})
	if err != nil || id == "" {
		t.Fatalf("InvokeCommand: %q %v", id, err)
	}
	if again, err := e.InvokeCommand(ctx, function.InvokeCommandInput{RegionID: region, CommandID: cmd, InstanceIDs: []string{inst}, ClientToken: "hc-test"}); err != nil || again != id {
		t.Errorf("InvokeCommand with the same ClientToken: %q %v, want %q", again, err, id)
	}
	res, err := e.DescribeInvocationResults(ctx, region, id)
	if err != nil || len(res) != 1 {
		t.Fatalf("DescribeInvocationResults: %+v %v", res, err)
	}
	if r := res[0]; r.InvocationStatus != "Failed" || r.ExitCode != 4 || r.Output != "not ready\n" || r.ErrorCode != "ExitCodeNonzero" {
		t.Errorf("result %+v, want Failed, exit 4, plain-text output", r)
	}
	_, err = e.InvokeCommand(ctx, function.InvokeCommandInput{RegionID: region, CommandID: "c-doesnotexist000000", InstanceIDs: []string{inst}})
	if fe := function.FromECS("InvokeCommand", err); fe.Code != ecsemu.CodeInvalidCmdIDNotFound {
		t.Errorf("unknown command: %v, want %s", err, ecsemu.CodeInvalidCmdIDNotFound)
	}

	disks, err := e.DescribeInstanceDisks(ctx, region, inst)
	if err != nil || len(disks) != 2 {
		t.Fatalf("DescribeInstanceDisks: %+v %v", disks, err)
	}

	snap, err := e.CreateSnapshot(ctx, function.CreateSnapshotInput{RegionID: region, DiskID: "d-bp1runningdata000000", SnapshotName: "rollback-backup-test", RetentionDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	if sn, ok := s.Snapshot(region, snap); !ok || sn.RetentionDays != 7 {
		t.Errorf("snapshot %+v, want RetentionDays 7", sn)
	}
}
