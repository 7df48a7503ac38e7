package ecsclient_test

// Integration tests: the real SDK, through this package, against the ECS
// emulator (emulator/ecsemu) and its default fleet (docs/default-fleet.md).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/ecsclient"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/retry"
)

const region = "cn-hangzhou"

var emuCreds = function.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret}

// startEmu starts an emulator with quick resets, stops and starts; a
// snapshot keeps its default duration unless set (tests watch it progress).
func startEmu(t *testing.T, opts ecsemu.Options) *ecsemu.Server {
	t.Helper()
	snap := opts.SnapshotDuration
	opts = testutil.FastECS(opts, 20*time.Millisecond)
	opts.SnapshotDuration = snap
	return testutil.StartECS(t, opts)
}

func quickPolicy() retry.Policy {
	return retry.Policy{MaxAttempts: 4, Backoff: retry.ConstantBackoff(time.Millisecond), MinAttemptTime: -1}
}

// newConnector returns a Connector whose idle connections are closed before
// the emulator shuts down (cleanups run last-in first-out): an idle
// connection the server never saw a request on would otherwise hold
// http.Server.Shutdown for its 2 s grace period.
func newConnector(t *testing.T, cfg ecsclient.Config) *ecsclient.Connector {
	c := ecsclient.New(cfg)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func emuClient(t *testing.T, s *ecsemu.Server, creds function.Credentials) function.ECS {
	t.Helper()
	e, err := newConnector(t, ecsclient.Config{Endpoint: s.URL(), Retry: quickPolicy()}).Connect(context.Background(), creds)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEmuRoundTrips(t *testing.T) {
	s := startEmu(t, ecsemu.Options{})
	e := emuClient(t, s, emuCreds)
	ctx := context.Background()

	disks, err := e.DescribeDisks(ctx, region, []string{"d-bp1stoppedsys0000000", "d-bp1stoppeddata000000", "d-bp1doesnotexist00000"})
	if err != nil || len(disks) != 2 {
		t.Fatalf("DescribeDisks: %+v %v", disks, err)
	}
	for _, d := range disks {
		if d.InstanceID != "i-bp1stopped0000000000" || d.Status != function.DiskStatusInUse || d.Tags["rollback"] != "allowed" || d.Category != "cloud_essd" {
			t.Errorf("disk %+v", d)
		}
	}

	ins, err := e.DescribeInstances(ctx, region, []string{"i-bp1stopped0000000000", "i-bp1locked00000000000"})
	if err != nil || len(ins) != 2 {
		t.Fatalf("DescribeInstances: %+v %v", ins, err)
	}
	for _, in := range ins {
		if in.InstanceID == "i-bp1locked00000000000" && (len(in.LockReasons) != 1 || in.LockReasons[0] != "security") {
			t.Errorf("locked: %+v", in)
		}
		if in.Status != function.InstanceStatusStopped {
			t.Errorf("%+v", in)
		}
	}

	snaps, err := e.DescribeSnapshots(ctx, region, []string{"s-bp1stoppedsys0000000", "s-bp1notready000000000"})
	if err != nil || len(snaps) != 2 {
		t.Fatalf("DescribeSnapshots: %+v %v", snaps, err)
	}
	for _, sn := range snaps {
		if sn.CreationTime.IsZero() || sn.SourceDiskID == "" {
			t.Errorf("snapshot %+v", sn)
		}
		if sn.SnapshotID == "s-bp1stoppedsys0000000" && (sn.Status != "accomplished" || !sn.CreationTime.Equal(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC))) {
			t.Errorf("snapshot %+v", sn)
		}
	}

	groups, err := e.DescribeSnapshotGroups(ctx, function.DescribeSnapshotGroupsInput{RegionID: region, InstanceID: "i-bp1stopped0000000000", Statuses: []string{"accomplished"}})
	if err != nil || len(groups) != 2 {
		t.Fatalf("DescribeSnapshotGroups: %+v %v", groups, err)
	}
	if groups[0].SnapshotGroupID != "ssg-bp1stopped0000000000" || len(groups[0].Snapshots) != 2 || groups[0].Snapshots[0].SourceDiskType == "" {
		t.Errorf("groups %+v", groups)
	}
	// What the real API sends per snapshot: Available and InstantAccess, no Status.
	for _, gs := range groups[0].Snapshots {
		if !gs.Available || !gs.InstantAccess || gs.Progress != "100%" {
			t.Errorf("got group snapshot %+v, want Available, InstantAccess, 100%%", gs)
		}
	}
	one, err := e.DescribeSnapshotGroups(ctx, function.DescribeSnapshotGroupsInput{RegionID: region, SnapshotGroupIDs: []string{"ssg-bp1stoppedprog000000"}})
	if err != nil || len(one) != 1 || one[0].Status != "progressing" {
		t.Errorf("by id: %+v %v", one, err)
	}

	// Dry run comes back as an APIError for the caller to interpret.
	_, err = e.ResetDisks(ctx, function.ResetDisksInput{RegionID: region, DryRun: true, Disks: []function.DiskPair{{DiskID: "d-bp1stoppedsys0000000", SnapshotID: "s-bp1stoppedsys0000000"}}})
	var ae *function.APIError
	if !errors.As(err, &ae) || ae.Code != "DryRunOperation" || ae.HTTPStatus != 400 {
		t.Errorf("dry run: %#v", err)
	}

	out, err := e.ResetDisks(ctx, function.ResetDisksInput{RegionID: region, Disks: []function.DiskPair{
		{DiskID: "d-bp1stoppedsys0000000", SnapshotID: "s-bp1stoppedsys0000000"},
		{DiskID: "d-bp1notready000000000", SnapshotID: "s-bp1notready000000000"},
	}})
	if err != nil {
		t.Fatalf("ResetDisks: %v", err)
	}
	ops := out.OperationProgressSet.OperationProgress
	if out.RequestID == "" || len(ops) != 2 || ops[0].OperationStatus != function.OperationStatusSuccess || ops[0].Item("DiskId") != "d-bp1stoppedsys0000000" ||
		ops[1].ErrorCode != "InvalidSnapshotId.NotReady" {
		t.Errorf("ResetDisks: %+v", out)
	}
	if s.ResetCount("d-bp1stoppedsys0000000") != 1 {
		t.Errorf("reset count %d", s.ResetCount("d-bp1stoppedsys0000000"))
	}

	time.Sleep(50 * time.Millisecond) // let the reset finish
	rid, err := e.ResetDisk(ctx, function.ResetDiskInput{RegionID: region, DiskID: "d-bp1stoppeddata000000", SnapshotID: "s-bp1stoppeddata000000"})
	if err != nil || rid == "" || s.ResetCount("d-bp1stoppeddata000000") != 1 {
		t.Errorf("ResetDisk: %q %v", rid, err)
	}

	if err := e.StopInstance(ctx, function.StopInstanceInput{RegionID: region, InstanceID: "i-bp1running0000000000", StoppedMode: function.StoppedModeKeepCharging, DryRun: true}); !errors.As(err, &ae) || ae.Code != "DryRunOperation" {
		t.Errorf("StopInstance dry run: %v", err)
	}
	if err := e.StopInstance(ctx, function.StopInstanceInput{RegionID: region, InstanceID: "i-bp1running0000000000", StoppedMode: function.StoppedModeKeepCharging}); err != nil {
		t.Fatalf("StopInstance: %v", err)
	}
	waitInstance(t, s, "i-bp1running0000000000", "Stopped")
	if err := e.StartInstance(ctx, region, "i-bp1running0000000000", false); err != nil {
		t.Fatalf("StartInstance: %v", err)
	}
	if err := e.StartInstance(ctx, region, "i-bp1stopped0000000000", true); !errors.As(err, &ae) || ae.Code != "DryRunOperation" {
		t.Errorf("StartInstance dry run: %v", err)
	}

	id, err := e.CreateSnapshot(ctx, function.CreateSnapshotInput{RegionID: region, DiskID: "d-bp1runningdata000000", SnapshotName: "pre-rollback", Description: "d", Tags: map[string]string{"created-by": "ecs-disk-rollback"}})
	if err != nil || !strings.HasPrefix(id, "s-") {
		t.Fatalf("CreateSnapshot: %q %v", id, err)
	}
	// The same ClientToken again: the same snapshot, not a second one.
	in := function.CreateSnapshotInput{RegionID: region, DiskID: "d-bp1untagged000000000", SnapshotName: "pre-rollback", ClientToken: "edr-test-token"}
	first, err := e.CreateSnapshot(ctx, in)
	if err != nil {
		t.Fatalf("CreateSnapshot with token: %v", err)
	}
	if again, err := e.CreateSnapshot(ctx, in); err != nil || again != first {
		t.Errorf("CreateSnapshot resent: got %q %v, want %q", again, err, first)
	}
	var tokens []string
	for _, r := range s.Requests() {
		if r.Action == "CreateSnapshot" && r.Params["DiskId"] == "d-bp1untagged000000000" {
			tokens = append(tokens, r.Params["ClientToken"])
		}
	}
	if len(tokens) != 2 || tokens[0] != "edr-test-token" || tokens[1] != "edr-test-token" {
		t.Errorf("got ClientTokens %q, want the caller's twice", tokens)
	}
	created, err := e.DescribeSnapshots(ctx, region, []string{id})
	if err != nil || len(created) != 1 || created[0].Tags["created-by"] != "ecs-disk-rollback" || created[0].SourceDiskID != "d-bp1runningdata000000" {
		t.Errorf("created snapshot: %+v %v", created, err)
	}

	if err := e.TagResources(ctx, region, "disk", []string{"d-bp1untagged000000000"}, map[string]string{"a": "1", "b": "2"}); err != nil {
		t.Fatalf("TagResources: %v", err)
	}
	tags, err := e.ListTagResources(ctx, region, "disk", []string{"d-bp1untagged000000000", "d-bp1stoppedsys0000000"})
	if err != nil {
		t.Fatalf("ListTagResources: %v", err)
	}
	got := map[string]string{}
	for _, tg := range tags {
		got[tg.ResourceID+"/"+tg.TagKey] = tg.TagValue
	}
	if got["d-bp1untagged000000000/a"] != "1" || got["d-bp1untagged000000000/b"] != "2" || got["d-bp1stoppedsys0000000/rollback"] != "allowed" {
		t.Errorf("tags %v", got)
	}

	// Another region.
	sh, err := e.DescribeDisks(ctx, "cn-shanghai", []string{"d-sh1stoppedsys0000000"})
	if err != nil || len(sh) != 1 || sh[0].RegionID != "cn-shanghai" {
		t.Errorf("cn-shanghai: %+v %v", sh, err)
	}
}

func waitInstance(t *testing.T, s *ecsemu.Server, id, status string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if in, ok := s.Instance(region, id); ok && in.Status == status {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never %s", id, status)
}

func TestEmuErrorMapping(t *testing.T) {
	s := startEmu(t, ecsemu.Options{})
	e := emuClient(t, s, emuCreds)
	ctx := context.Background()
	cases := []struct {
		call   func() error
		code   string
		status int
	}{
		{func() error {
			_, err := e.ResetDisk(ctx, function.ResetDiskInput{RegionID: region, DiskID: "d-bp1doesnotexist00000", SnapshotID: "s-bp1stoppedsys0000000"})
			return err
		}, "InvalidDiskId.NotFound", 404},
		{func() error {
			_, err := e.ResetDisks(ctx, function.ResetDisksInput{RegionID: region, Disks: []function.DiskPair{{DiskID: "d-bp1runningsys0000000", SnapshotID: "s-bp1runningsys0000000"}}})
			return err
		}, "IncorrectInstanceStatus", 403},
		{func() error {
			_, err := e.DescribeDisks(ctx, "cn-nowhere-1", []string{"d-x"})
			return err
		}, "InvalidRegionId.NotFound", 404},
		{func() error {
			_, err := e.ResetDisk(ctx, function.ResetDiskInput{RegionID: region, DiskID: "d-bp1lockedsys00000000", SnapshotID: "s-bp1lockedsys00000000"})
			return err
		}, "InstanceLockedForSecurity", 403},
	}
	for _, c := range cases {
		err := c.call()
		var ae *function.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: %T %v", c.code, err, err)
			continue
		}
		if ae.Code != c.code || ae.HTTPStatus != c.status || ae.RequestID == "" || ae.HostID == "" || ae.Message == "" || ae.Recommend == "" {
			t.Errorf("%s: %#v", c.code, ae)
		}
	}
	// Wrong secret with an STS token: the SDK's message echoes the string to
	// sign; it must come back redacted.
	bad := emuClient(t, s, function.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: "wrong-secret", SecurityToken: "STS.tok+en/123="})
	_, err := bad.DescribeDisks(ctx, region, []string{"d-bp1stoppedsys0000000"})
	var ae *function.APIError
	if !errors.As(err, &ae) || ae.Code != "SignatureDoesNotMatch" {
		t.Fatalf("%#v", err)
	}
	// ECS echoes the string to sign, the client's own: the secret is wrong,
	// and Recommend says so as the SDK would.
	if !strings.HasPrefix(ae.Recommend, "InvalidAccessKeySecret") {
		t.Errorf("Recommend = %q, want the SDK's InvalidAccessKeySecret hint", ae.Recommend)
	}
	for _, leak := range []string{ecsemu.DefaultAccessKeyID, "STS.tok", "wrong-secret"} {
		if strings.Contains(fmt.Sprintf("%#v %v", ae, ae), leak) {
			t.Errorf("leak %q in %#v", leak, ae)
		}
	}
}

func TestEmuSTS(t *testing.T) {
	s := startEmu(t, ecsemu.Options{SecurityToken: "STS.token-value"})
	ok := emuClient(t, s, function.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret, SecurityToken: "STS.token-value"})
	if _, err := ok.DescribeDisks(context.Background(), region, []string{"d-bp1stoppedsys0000000"}); err != nil {
		t.Fatal(err)
	}
	_, err := emuClient(t, s, emuCreds).DescribeDisks(context.Background(), region, []string{"d-bp1stoppedsys0000000"})
	var ae *function.APIError
	if !errors.As(err, &ae) || ae.Code != "MissingSecurityToken" {
		t.Errorf("%#v", err)
	}
}

func TestEmuFaults(t *testing.T) {
	ctx := context.Background()
	reset := func(e function.ECS, disk, snap string) (*function.ResetDisksOutput, error) {
		return e.ResetDisks(ctx, function.ResetDisksInput{RegionID: region, Disks: []function.DiskPair{{DiskID: disk, SnapshotID: snap}}})
	}
	t.Run("throttle burst retried to success", func(t *testing.T) {
		s := startEmu(t, ecsemu.Options{})
		if err := s.SetFaults(ecsemu.FaultRule{Action: "ResetDisks", Kind: ecsemu.FaultThrottle, Count: 3}); err != nil {
			t.Fatal(err)
		}
		out, err := reset(emuClient(t, s, emuCreds), "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000")
		if err != nil || out.OperationProgressSet.OperationProgress[0].OperationStatus != "Success" {
			t.Fatalf("%+v %v", out, err)
		}
		if n := s.ResetCount("d-bp1stoppedsys0000000"); n != 1 {
			t.Errorf("reset %d times", n)
		}
	})
	t.Run("throttle beyond attempts surfaces Throttling", func(t *testing.T) {
		s := startEmu(t, ecsemu.Options{})
		_ = s.SetFaults(ecsemu.FaultRule{Action: "DescribeDisks", Kind: ecsemu.FaultThrottle})
		_, err := emuClient(t, s, emuCreds).DescribeDisks(ctx, region, []string{"d-bp1stoppedsys0000000"})
		var ae *function.APIError
		if !errors.As(err, &ae) || !ae.Throttled() || len(s.Requests()) != 4 {
			t.Errorf("%#v after %d requests", err, len(s.Requests()))
		}
	})
	t.Run("5xx on a mutating call not retried", func(t *testing.T) {
		// ECS may act and still answer 500: the caller reads back instead.
		s := startEmu(t, ecsemu.Options{})
		_ = s.SetFaults(ecsemu.FaultRule{Action: "StopInstance", Sequence: []ecsemu.FaultKind{ecsemu.FaultInternal, ecsemu.FaultUnavailable}})
		err := emuClient(t, s, emuCreds).StopInstance(ctx, function.StopInstanceInput{RegionID: region, InstanceID: "i-bp1running0000000000", StoppedMode: "KeepCharging"})
		var ae *function.APIError
		if !errors.As(err, &ae) || ae.HTTPStatus != 500 || len(s.Requests()) != 1 {
			t.Fatalf("got %v after %d requests, want one InternalError", err, len(s.Requests()))
		}
	})
	t.Run("drop-before on a read retried", func(t *testing.T) {
		s := startEmu(t, ecsemu.Options{})
		_ = s.SetFaults(ecsemu.FaultRule{Action: "DescribeDisks", Kind: ecsemu.FaultDropBefore, Count: 2})
		d, err := emuClient(t, s, emuCreds).DescribeDisks(ctx, region, []string{"d-bp1stoppedsys0000000"})
		if err != nil || len(d) != 1 {
			t.Fatalf("%+v %v", d, err)
		}
	})
	t.Run("drop-before on ResetDisks: sent, so not retried (the client cannot tell it from drop-after)", func(t *testing.T) {
		s := startEmu(t, ecsemu.Options{})
		_ = s.SetFaults(ecsemu.FaultRule{Action: "ResetDisks", Kind: ecsemu.FaultDropBefore, Count: 1})
		_, err := reset(emuClient(t, s, emuCreds), "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000")
		var te *function.TransportError
		if !errors.As(err, &te) || !te.Sent {
			t.Fatalf("%#v", err)
		}
		if n := s.ResetCount("d-bp1stoppedsys0000000"); n != 0 {
			t.Errorf("reset %d times", n)
		}
	})
	t.Run("drop-after on ResetDisks NOT retried and reported Sent", func(t *testing.T) {
		s := startEmu(t, ecsemu.Options{})
		_ = s.SetFaults(ecsemu.FaultRule{Action: "ResetDisks", Kind: ecsemu.FaultDropAfter, Count: 1})
		_, err := reset(emuClient(t, s, emuCreds), "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000")
		var te *function.TransportError
		if !errors.As(err, &te) || !te.Sent || te.Op != "ResetDisks" || te.Timeout {
			t.Fatalf("%#v", err)
		}
		if n := s.ResetCount("d-bp1stoppedsys0000000"); n != 1 {
			t.Errorf("reset %d times, want exactly 1 (applied once, never resent)", n)
		}
		if strings.Contains(te.Error(), ecsemu.DefaultAccessKeyID) || strings.Contains(te.Error(), "http://") {
			t.Errorf("leak: %v", te)
		}
	})
	t.Run("deadline cuts a slow call", func(t *testing.T) {
		s := startEmu(t, ecsemu.Options{})
		_ = s.SetFaults(ecsemu.FaultRule{Action: "ResetDisk", Kind: ecsemu.FaultLatency, Latency: 5 * time.Second})
		dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		e, _ := newConnector(t, ecsclient.Config{Endpoint: s.URL(), Retry: quickPolicy()}).Connect(dctx, emuCreds)
		start := time.Now()
		_, err := e.ResetDisk(context.Background(), function.ResetDiskInput{RegionID: region, DiskID: "d-bp1stoppedsys0000000", SnapshotID: "s-bp1stoppedsys0000000"})
		var te *function.TransportError
		if !errors.As(err, &te) || !te.Timeout || !te.Sent {
			t.Fatalf("%#v", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v", took)
		}
	})
	t.Run("deadline stops retries with the real backoff", func(t *testing.T) {
		s := startEmu(t, ecsemu.Options{})
		_ = s.SetFaults(ecsemu.FaultRule{Action: "DescribeDisks", Kind: ecsemu.FaultUnavailable})
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		e, _ := newConnector(t, ecsclient.Config{Endpoint: s.URL(), Retry: retry.Policy{MaxAttempts: 50}}).Connect(dctx, emuCreds)
		start := time.Now()
		_, err := e.DescribeDisks(dctx, region, []string{"d-bp1stoppedsys0000000"})
		var ae *function.APIError
		if !errors.As(err, &ae) || ae.Code != "ServiceUnavailable" || ae.HTTPStatus != 503 {
			t.Fatalf("%#v", err)
		}
		if took := time.Since(start); took > 300*time.Millisecond {
			t.Errorf("took %v: slept past the deadline", took)
		}
	})
}

// TestEmuConcurrency: 16 goroutines, each with its own Connect, share one
// Connector (one transport). Run with -race.
func TestEmuConcurrency(t *testing.T) {
	s := startEmu(t, ecsemu.Options{ResetDuration: -1})
	conn := newConnector(t, ecsclient.Config{Endpoint: s.URL(), Retry: quickPolicy()})
	pairs := []function.DiskPair{
		{DiskID: "d-bp1stoppedsys0000000", SnapshotID: "s-bp1stoppedsys0000000"},
		{DiskID: "d-bp1stoppeddata000000", SnapshotID: "s-bp1stoppeddata000000"},
		{DiskID: "d-bp1untagged000000000", SnapshotID: "s-bp1untagged000000000"},
		{DiskID: "d-sh1stoppedsys0000000", SnapshotID: "s-sh1stoppedsys0000000"},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16*3)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			e, err := conn.Connect(ctx, emuCreds)
			if err != nil {
				errs <- err
				return
			}
			p := pairs[i%len(pairs)]
			reg := region
			if strings.HasPrefix(p.DiskID, "d-sh1") {
				reg = "cn-shanghai"
			}
			if _, err := e.DescribeDisks(ctx, reg, []string{p.DiskID}); err != nil {
				errs <- err
			}
			if _, err := e.ResetDisk(ctx, function.ResetDiskInput{RegionID: reg, DiskID: p.DiskID, SnapshotID: p.SnapshotID}); err != nil {
				errs <- fmt.Errorf("%s: %w", p.DiskID, err)
			}
			if _, err := e.DescribeSnapshotGroups(ctx, function.DescribeSnapshotGroupsInput{RegionID: region, InstanceID: "i-bp1stopped0000000000"}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, p := range pairs {
		total += s.ResetCount(p.DiskID)
	}
	if total != 16 {
		t.Errorf("%d resets, want 16", total)
	}
}

// TestEmuDescribeInstancesByTag lists a tagged fleet across pages (120
// instances, 100 a page) and nothing for a tag nobody carries.
func TestEmuDescribeInstancesByTag(t *testing.T) {
	fx := &ecsemu.Fixture{}
	for i := range 120 {
		tags := map[string]string{"fleet": "web"}
		if i%4 == 0 {
			tags["fleet"] = "db"
		}
		fx.Instances = append(fx.Instances, ecsemu.Instance{InstanceID: fmt.Sprintf("i-bp1tagged%012d", i), RegionID: region, Status: "Running", Tags: tags})
	}
	s := startEmu(t, ecsemu.Options{Fixture: fx})
	e := emuClient(t, s, emuCreds)
	for _, tc := range []struct {
		name, key, value string
		want             int
	}{
		{"web across pages", "fleet", "web", 90},
		{"db", "fleet", "db", 30},
		{"nobody", "fleet", "none", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.DescribeInstancesByTag(context.Background(), region, tc.key, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Errorf("instances = %d, want %d", len(got), tc.want)
			}
		})
	}
}
