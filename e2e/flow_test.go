package e2e

// The flows of flows/ run through internal/flowtest (a test-only executor
// of the FDL subset they use) against the built function binary under the
// FC runtime emulator and the ECS emulator.

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/flowtest"
)

// fleetFixture is n running instances i-bp1fleetNNNN… tagged env=web, each
// with a system and a data disk tagged rollback=allowed and one
// accomplished instance snapshot over both.
func fleetFixture(n int) *ecsemu.Fixture {
	fx := &ecsemu.Fixture{}
	created := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("i-bp1fleet%012d", i)
		fx.Instances = append(fx.Instances, ecsemu.Instance{InstanceID: id, RegionID: region, ZoneID: "cn-hangzhou-i", Status: "Running", Tags: map[string]string{"env": "web"}})
		var snaps []string
		for _, kind := range []string{"system", "data"} {
			d := fmt.Sprintf("d-bp1fleet%s%06d", kind[:3], i)
			s := "s-" + strings.TrimPrefix(d, "d-")
			fx.Disks = append(fx.Disks, ecsemu.Disk{DiskID: d, RegionID: region, ZoneID: "cn-hangzhou-i", InstanceID: id, Category: "cloud_essd", Type: kind, Status: "In_use", Size: 40, Tags: map[string]string{"rollback": "allowed"}})
			fx.Snapshots = append(fx.Snapshots, ecsemu.Snapshot{SnapshotID: s, RegionID: region, SourceDiskID: d, SourceDiskType: kind, SourceDiskSize: 40, Status: "accomplished", CreationTime: created})
			snaps = append(snaps, s)
		}
		fx.SnapshotGroups = append(fx.SnapshotGroups, ecsemu.SnapshotGroup{SnapshotGroupID: fmt.Sprintf("ssg-bp1fleet%012d", i), RegionID: region, InstanceID: id, Status: "accomplished", CreationTime: created, SnapshotIDs: snaps})
	}
	return fx
}

func fleetInstance(i int) string { return fmt.Sprintf("i-bp1fleet%012d", i) }
func fleetDisks(i int) []string {
	return []string{fmt.Sprintf("d-bp1fleetsys%06d", i), fmt.Sprintf("d-bp1fleetdat%06d", i)}
}

// flowEnv is one ECS emulator and a pool of function processes, one
// invocation at a time each, as FC would run instances side by side.
type flowEnv struct {
	ecs  *ecsemu.Server
	pool chan *fcruntime.Server
	logs []*fcruntime.LogBuffer
}

func newFlowEnv(t testing.TB, fx *ecsemu.Fixture, processes int) *flowEnv {
	t.Helper()
	o := fastECS()
	o.Fixture = fx
	es, err := ecsemu.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(es.Close)
	e := &flowEnv{ecs: es, pool: make(chan *fcruntime.Server, processes)}
	for range processes {
		logs := &fcruntime.LogBuffer{}
		suiteLogs.add(logs)
		fs, err := fcruntime.NewServer(fcruntime.Options{
			Binary: functionBinary, FunctionName: "ecs-disk-rollback", Region: region, Timeout: 60 * time.Second,
			Env:         append([]string{"ECS_ENDPOINT=" + es.URL(), "LOG_LEVEL=warn", "ALLOWED_DISK_TAG=rollback=allowed", "ALIBABA_CLOUD_ACCESS_KEY_ID=", "ALIBABA_CLOUD_ACCESS_KEY_SECRET="}, timingEnv()...),
			Credentials: fcruntime.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret},
			Stdout:      logs, Stderr: logs,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fs.Close() })
		e.pool <- fs
		e.logs = append(e.logs, logs)
	}
	return e
}

// Invoke implements flowtest.Invoker on a free process of the pool.
func (e *flowEnv) Invoke(ctx context.Context, arn string, body []byte) ([]byte, *flowtest.FCError, error) {
	if !strings.Contains(arn, ":functions/ecs-disk-rollback/") {
		return nil, nil, fmt.Errorf("resourceArn %s names another function", arn)
	}
	fs := <-e.pool
	defer func() { e.pool <- fs }()
	res, err := fs.Invoke(ctx, body, fcruntime.InvokeOptions{})
	if err != nil {
		return nil, nil, err
	}
	suiteAnswers.record(res)
	if res.Error != nil {
		return nil, &flowtest.FCError{Type: res.Error.Type, Message: res.Error.Message}, nil
	}
	return res.Payload, nil, nil
}

func (e *flowEnv) run(t testing.TB, file, name string, input any) *flowtest.Execution {
	t.Helper()
	f, err := flowtest.Load(filepath.Join("..", "flows", file))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ex, err := f.Run(ctx, flowtest.Options{Invoker: e, TimeScale: time.Millisecond}, name, input)
	if err != nil {
		var logs strings.Builder
		for _, l := range e.logs {
			logs.WriteString(l.String())
		}
		t.Fatalf("executor: %v\nlogs:\n%.4000s", err, logs.String())
	}
	return ex
}

// summary is the Report state's output.
func summary(t testing.TB, ex *flowtest.Execution) function.FleetSummary {
	t.Helper()
	var out struct{ Summary function.FleetSummary }
	b, _ := json.Marshal(ex.History["Report"])
	if err := json.Unmarshal(b, &out); err != nil || out.Summary.Status == "" {
		t.Fatalf("no Report summary in %s (%v)", b, err)
	}
	return out.Summary
}

func TestFleetFlow(t *testing.T) {
	t.Parallel()
	const n = 20
	base := map[string]any{"RegionId": region, "Tag": "env=web", "MaxConcurrency": 5,
		"Options": map[string]any{"StopInstance": true, "StartInstance": true, "Wait": true}}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	locked := func(idx ...int) func(fx *ecsemu.Fixture) {
		return func(fx *ecsemu.Fixture) {
			for _, i := range idx {
				fx.Instances[i].LockReason = "security"
			}
		}
	}
	for _, tc := range []struct {
		name   string
		input  map[string]any
		setup  func(fx *ecsemu.Fixture)
		faults []ecsemu.FaultRule
		exec   string // execution status, and the Fail code
		status string // summary status
		ran    []int  // instances whose disks were reset once; every other none
		failed []int
		waves  int
	}{
		{name: "20 instances all good", input: base, exec: "Succeeded", status: function.FleetSucceeded, ran: span(0, n), waves: 6},
		{name: "the canary fails: nothing else starts", input: base, setup: locked(0), exec: "Failed CanaryFailed", status: function.FleetCanaryFailed, failed: []int{0}, waves: 1},
		{name: "failures cross the threshold in wave 3", input: with("MaxFailures", 1), setup: locked(3, 5), exec: "Failed FleetHalted",
			status: function.FleetHalted, ran: []int{0, 1, 2, 4, 6}, failed: []int{3, 5}, waves: 3},
		{name: "throttling absorbed without a double reset", input: base, exec: "Succeeded", status: function.FleetSucceeded, ran: span(0, n), waves: 6,
			faults: []ecsemu.FaultRule{{Action: "ResetDisks", Kind: ecsemu.FaultThrottle, Count: 6}, {Action: "StopInstance", Kind: ecsemu.FaultThrottle, Count: 3}}},
		{name: "a selector matching nothing", input: with("Tag", "env=nothing"), exec: "Succeeded", status: function.FleetNothingToDo, waves: 0},
		{name: "the fleet dry run", input: with("DryRun", true), exec: "Succeeded", status: function.FleetDryRunPassed, waves: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := fleetFixture(n)
			if tc.setup != nil {
				tc.setup(fx)
			}
			e := newFlowEnv(t, fx, 5)
			if len(tc.faults) > 0 {
				if err := e.ecs.SetFaults(tc.faults...); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			ex := e.run(t, "fleet-rollback.yaml", "fleet-e2e-1", tc.input)
			got := ex.Status
			if ex.Error != nil {
				got += " " + ex.Error.Code
			}
			if got != tc.exec {
				t.Errorf("execution = %s (%v), want %s", got, ex.Error, tc.exec)
			}
			s := summary(t, ex)
			t.Logf("%s in %v: %d states, %d invocations, %d ECS calls", s.Status, time.Since(start).Round(time.Millisecond), ex.States, ex.Invocations, len(e.ecs.Requests()))
			if s.Status != tc.status || s.Waves != tc.waves {
				t.Errorf("summary %s after %d waves, want %s after %d (%s)", s.Status, s.Waves, tc.status, tc.waves, s.Message)
			}
			wantTotal := n
			if tc.status == function.FleetNothingToDo {
				wantTotal = 0
			}
			notStarted := wantTotal - len(tc.ran) - len(tc.failed)
			if tc.status == function.FleetDryRunPassed || tc.status == function.FleetSucceeded {
				notStarted = 0
			}
			if s.Total != wantTotal || s.Succeeded != countOK(tc) || s.Failed != len(tc.failed) || s.NotStarted != notStarted {
				t.Errorf("instances %+v", s.Instances)
				t.Errorf("counts total %d done %d failed %d not started %d, want %d %d %d %d", s.Total, s.Succeeded, s.Failed, s.NotStarted, wantTotal, countOK(tc), len(tc.failed), notStarted)
			}
			for i := range n {
				want := 0
				if contains(tc.ran, i) {
					want = 1
				}
				for _, d := range fleetDisks(i) {
					if got := e.ecs.ResetCount(d); got != want {
						t.Errorf("ResetCount(%s) = %d, want %d", d, got, want)
					}
				}
			}
			for _, in := range s.Instances {
				idx := indexOf(in.InstanceID)
				switch {
				case contains(tc.failed, idx) && (in.Status != function.StatusFailed || in.Code == ""):
					t.Errorf("%s: %+v, want Failed with a code", in.InstanceID, in)
				case contains(tc.ran, idx) && in.Status != function.StatusSucceeded:
					t.Errorf("%s: %+v, want Succeeded", in.InstanceID, in)
				case tc.status == function.FleetDryRunPassed && in.Status != function.StatusDryRunPassed:
					t.Errorf("%s: %+v, want DryRunPassed", in.InstanceID, in)
				case !contains(tc.ran, idx) && !contains(tc.failed, idx) && tc.status != function.FleetDryRunPassed && in.Status != "NotStarted":
					t.Errorf("%s: %+v, want NotStarted", in.InstanceID, in)
				}
			}
		})
	}
}

func countOK(tc struct {
	name   string
	input  map[string]any
	setup  func(fx *ecsemu.Fixture)
	faults []ecsemu.FaultRule
	exec   string
	status string
	ran    []int
	failed []int
	waves  int
}) int {
	if tc.status == function.FleetDryRunPassed {
		return 20
	}
	return len(tc.ran)
}

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func contains(l []int, v int) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func indexOf(instanceID string) int {
	var i int
	fmt.Sscanf(strings.TrimPrefix(instanceID, "i-bp1fleet"), "%d", &i)
	return i
}

// TestGuardedFlow runs flows/guarded-rollback.yaml as written: the dry run
// of the request passes, the abort window goes by, the real run resets the
// instance's disks once, keyed by the execution name. The request is sent
// whole (jsonMerge), so no field it leaves out arrives as null, which the
// function refuses. A request the dry run refuses ends in DryRunRefused with
// nothing reset.
func TestGuardedFlow(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, fleetFixture(2), 1)
	req := map[string]any{"RegionId": region, "SnapshotGroupId": "ssg-bp1fleet000000000000", "InstanceId": fleetInstance(0),
		"StopInstance": true, "StartInstance": true, "Wait": true}
	ex := e.run(t, "guarded-rollback.yaml", "guarded-e2e-1", map[string]any{"Request": req})
	if ex.Status != "Succeeded" {
		t.Fatalf("execution %s %v, want Succeeded", ex.Status, ex.Error)
	}
	for _, d := range fleetDisks(0) {
		if got := e.ecs.ResetCount(d); got != 1 {
			t.Errorf("ResetCount(%s) = %d, want 1", d, got)
		}
	}
	if in, _ := e.ecs.Instance(region, fleetInstance(0)); in.Status != "Running" {
		t.Errorf("%s is %s after the flow, want Running", fleetInstance(0), in.Status)
	}

	// The group of another instance: refused by the dry run, nothing reset.
	bad := map[string]any{"RegionId": region, "SnapshotGroupId": "ssg-bp1fleet000000000001", "InstanceId": fleetInstance(0)}
	ex = e.run(t, "guarded-rollback.yaml", "guarded-e2e-2", map[string]any{"Request": bad})
	if ex.Status != "Failed" || ex.Error == nil || ex.Error.Code != "DryRunRefused" {
		t.Fatalf("execution %s %v, want Failed DryRunRefused", ex.Status, ex.Error)
	}
	if _, ran := ex.History["RealRun"]; ran {
		t.Error("RealRun ran after a refused dry run")
	}
	for _, d := range fleetDisks(1) {
		if got := e.ecs.ResetCount(d); got != 0 {
			t.Errorf("ResetCount(%s) = %d, want 0", d, got)
		}
	}
}

// BenchmarkFleetFlow200 rolls back 200 instances (stop, reset, wait,
// start) through flows/fleet-rollback.yaml with 5 function processes and
// reports the wall time, the mutating ECS calls per minute of wall time
// (waits scaled: 1 s of flow time = 1 ms), and the most mutating calls of
// one wave — the bound per minute of flow time, since waves are 60 s apart.
//
//	go test -run '^$' -bench FleetFlow200 -benchtime 1x ./e2e
func BenchmarkFleetFlow200(b *testing.B) {
	const n = 200
	mutating := []string{"ResetDisks", "ResetDisk", "StopInstance", "StartInstance", "CreateSnapshot"}
	for i := 0; i < b.N; i++ {
		e := newFlowEnv(b, fleetFixture(n), 5)
		start := time.Now()
		ex := e.run(b, "fleet-rollback.yaml", fmt.Sprintf("bench-%d", i), map[string]any{"RegionId": region, "Tag": "env=web", "MaxConcurrency": 10,
			"Options": map[string]any{"StopInstance": true, "StartInstance": true, "Wait": true}})
		wall := time.Since(start)
		s := summary(b, ex)
		if s.Status != function.FleetSucceeded || s.Succeeded != n {
			b.Fatalf("summary %s %d/%d", s.Status, s.Succeeded, n)
		}
		calls := 0
		for _, r := range e.ecs.Requests() {
			for _, a := range mutating {
				if r.Action == a {
					calls++
				}
			}
		}
		maxWave := 0
		for _, in := range s.Instances {
			maxWave = max(maxWave, in.Disks)
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(calls)/wall.Minutes(), "ecs-calls/min")
		b.ReportMetric(float64(calls), "ecs-calls")
		b.ReportMetric(float64(s.Waves), "waves")
		b.ReportMetric(float64(10*(maxWave+2)), "max-calls/wave")
		b.ReportMetric(float64(ex.States), "states")
	}
}
