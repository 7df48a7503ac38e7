package e2e

// flows/fleet-rollback-distributed.yaml runs through internal/flowtest's
// distributed Map (items and results in its fake OSS) against the built
// function binary and the ECS emulator, with the helpers of flow_test.go.

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/flowtest"
)

const (
	distributedFlow = "fleet-rollback-distributed.yaml"
	fleetBucket     = "ops-fleet"
	itemsObject     = "rollbacks/items.json"
	resultsPrefix   = "rollbacks/results/"
)

// distributedSummary is the Report state's Summary of the distributed flow.
type distributedSummary struct {
	Status string
	Error  *flowtest.StateError
}

// itemResult is one record of the executor's ResultWriter object.
type itemResult struct {
	Index  int
	Status string // Succeeded or Failed: the sub-workflow's end
	Input  struct{ Request struct{ InstanceId string } }
	Output struct{ InstanceId, Status string }
	Error  *flowtest.StateError
}

// runDistributed seeds oss://ops-fleet/rollbacks/items.json with the
// first n fleet instances and runs the distributed flow with the given
// canary, tolerance and options; it returns the execution, its summary and
// each Map's results by instance.
func runDistributed(t *testing.T, e *flowEnv, n int, canary []int, maxFailurePercent float64, options map[string]any) (*flowtest.Execution, distributedSummary, map[string]map[string]itemResult) {
	t.Helper()
	oss := flowtest.NewOSS()
	items := make([]map[string]string, n)
	for i := range items {
		items[i] = map[string]string{"InstanceId": fleetInstance(i)}
	}
	oss.Put(fleetBucket, itemsObject, mustJSON(t, items))
	var canaryItems []map[string]string
	for _, i := range canary {
		canaryItems = append(canaryItems, items[i])
	}
	input := map[string]any{"RegionId": region, "Items": map[string]any{"Bucket": fleetBucket, "Object": itemsObject},
		"Results": map[string]any{"Bucket": fleetBucket, "Prefix": resultsPrefix}, "CanaryItems": canaryItems,
		"MaxFailurePercent": maxFailurePercent, "Options": options}
	f, err := flowtest.Load(filepath.Join("..", "flows", distributedFlow))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ex, err := f.Run(ctx, flowtest.Options{Invoker: e, TimeScale: time.Millisecond, OSS: oss}, "fleet-2026-11-26", input)
	if err != nil {
		t.Fatalf("executor: %v", err)
	}
	var report struct{ Summary distributedSummary }
	if err := json.Unmarshal(mustJSON(t, ex.History["Report"]), &report); err != nil || report.Summary.Status == "" {
		t.Fatalf("no Report summary in %v (%v)", ex.History["Report"], err)
	}
	results := map[string]map[string]itemResult{}
	for _, name := range oss.List(fleetBucket, resultsPrefix) {
		b, _ := oss.Get(fleetBucket, name)
		var records []itemResult
		if err := json.Unmarshal(b, &records); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		byInstance := map[string]itemResult{}
		for _, r := range records {
			byInstance[r.Input.Request.InstanceId] = r
		}
		results[strings.TrimSuffix(filepath.Base(name), ".json")] = byInstance
	}
	return ex, report.Summary, results
}

func TestDistributedFleetFlow(t *testing.T) {
	t.Parallel()
	const n = 8 // one function process each: the Map's items all run at once
	rollback := map[string]any{"StopInstance": true, "StartInstance": true, "Wait": true}
	for _, tc := range []struct {
		name       string
		canary     []int
		tolerated  float64 // MaxFailurePercent
		locked     []int   // instances ECS refuses to stop (LockReason)
		faults     []ecsemu.FaultRule
		exec       string // the execution's status and Fail code
		status     string // Summary.Status
		errorCode  string // Summary.Error.Code
		rolledOut  bool   // RollOut ran (its results are in OSS)
		wantFailed []int  // the items whose sub-workflow failed
	}{
		{name: "all good: the canaries are replayed, never reset twice", canary: []int{0, 1}, exec: "Succeeded", status: "Completed", rolledOut: true},
		{name: "the canary fails: nothing else starts", canary: []int{0}, locked: []int{0}, exec: "Failed CanaryFailed", status: "CanaryFailed",
			errorCode: flowtest.CodeToleranceExceeded, wantFailed: []int{0}},
		{name: "failures within the tolerance", canary: []int{0}, tolerated: 15, locked: []int{5}, exec: "Succeeded", status: "Completed", rolledOut: true, wantFailed: []int{5}},
		{name: "failures past the tolerance fail the Map", canary: []int{0}, tolerated: 15, locked: []int{3, 5, 7}, exec: "Failed FleetRolloutFailed", status: "RolloutFailed",
			errorCode: flowtest.CodeToleranceExceeded, rolledOut: true, wantFailed: []int{3, 5, 7}},
		{name: "throttling absorbed without a double reset", canary: []int{0}, exec: "Succeeded", status: "Completed", rolledOut: true,
			faults: []ecsemu.FaultRule{{Action: "ResetDisks", Kind: ecsemu.FaultThrottle, Count: 6}, {Action: "StopInstance", Kind: ecsemu.FaultThrottle, Count: 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := fleetFixture(n)
			for _, i := range tc.locked {
				fx.Instances[i].LockReason = "security"
			}
			e := newFlowEnv(t, fx, n)
			if err := e.ecs.SetFaults(tc.faults...); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			ex, s, results := runDistributed(t, e, n, tc.canary, tc.tolerated, rollback)
			t.Logf("%s in %v: %d states, %d invocations, %d ECS calls", s.Status, time.Since(start).Round(time.Millisecond), ex.States, ex.Invocations, len(e.ecs.Requests()))
			got := ex.Status
			if ex.Error != nil {
				got += " " + ex.Error.Code
			}
			gotCode := ""
			if s.Error != nil {
				gotCode = s.Error.Code
			}
			if got != tc.exec || s.Status != tc.status || gotCode != tc.errorCode {
				t.Errorf("execution %s, summary %s %v; want %s, %s %s", got, s.Status, s.Error, tc.exec, tc.status, tc.errorCode)
			}
			if _, ran := results["RollOut"]; ran != tc.rolledOut {
				t.Fatalf("RollOut results in OSS: %v, want %v", ran, tc.rolledOut)
			}
			checkDistributedOutcome(t, e, n, tc.canary, tc.wantFailed, tc.rolledOut, results)
		})
	}
}

// checkDistributedOutcome checks each instance against ECS and the results
// in OSS: a failed item's disks were never reset and its result names the
// error; every other item that ran was reset exactly once, a canary's
// second run in RollOut being a Duplicate; without RollOut only the
// canaries ran.
func checkDistributedOutcome(t *testing.T, e *flowEnv, n int, canary, failed []int, rolledOut bool, results map[string]map[string]itemResult) {
	t.Helper()
	for i := range n {
		id := fleetInstance(i)
		isCanary, isFailed := contains(canary, i), contains(failed, i)
		wantResets := 0
		if !isFailed && (rolledOut || isCanary) {
			wantResets = 1
		}
		for _, d := range fleetDisks(i) {
			if got := e.ecs.ResetCount(d); got != wantResets {
				t.Errorf("ResetCount(%s) = %d, want %d", d, got, wantResets)
			}
		}
		for mapName, want := range map[string]string{"Canary": "Succeeded", "RollOut": "Succeeded"} {
			r, ok := results[mapName][id]
			ran := mapName == "RollOut" && rolledOut || mapName == "Canary" && isCanary
			if mapName == "RollOut" && isCanary {
				want = "Duplicate"
			}
			switch {
			case ok != ran:
				t.Errorf("%s result of %s in OSS: %v, want %v", mapName, id, ok, ran)
			case !ok:
			case isFailed && (r.Status != "Failed" || r.Error == nil || r.Error.Code == ""):
				t.Errorf("%s result of %s: %+v, want Failed with the function's error", mapName, id, r)
			case !isFailed && (r.Status != "Succeeded" || r.Output.Status != want || r.Output.InstanceId != id):
				t.Errorf("%s result of %s: %+v, want Succeeded with the rollback's %s", mapName, id, r, want)
			}
		}
	}
}

// TestDistributedFleetFlowPastInlineLimit: 300 instances, past the inline
// flow's 250, which refuses them pointing at the distributed flow; the
// distributed flow takes them all (a dry run: every request goes through
// the function and ECS's DryRun, nothing is reset).
func TestDistributedFleetFlowPastInlineLimit(t *testing.T) {
	t.Parallel()
	const n = 300
	e := newFlowEnv(t, fleetFixture(n), 5)
	inline := e.run(t, "fleet-rollback.yaml", "fleet-inline-300", map[string]any{"RegionId": region, "Tag": "env=web", "Options": map[string]any{}})
	plan, _ := json.Marshal(inline.History["Plan"])
	if inline.Error == nil || inline.Error.Code != "FleetPlanFailed" || !strings.Contains(string(plan), "fleet-rollback-distributed.yaml") {
		t.Errorf("inline flow: %v, Plan %s; want FleetPlanFailed pointing at the distributed flow", inline.Error, plan)
	}
	start := time.Now()
	ex, s, results := runDistributed(t, e, n, []int{0}, 0, map[string]any{"StopInstance": true, "StartInstance": true, "Wait": true, "DryRun": true})
	t.Logf("%s in %v: %d invocations", s.Status, time.Since(start).Round(time.Millisecond), ex.Invocations)
	if ex.Status != "Succeeded" || s.Status != "Completed" || len(results["RollOut"]) != n {
		t.Fatalf("execution %s %v, summary %s, %d RollOut results; want Succeeded, Completed, %d", ex.Status, ex.Error, s.Status, len(results["RollOut"]), n)
	}
	for id, r := range results["RollOut"] {
		if r.Output.Status != "DryRunPassed" {
			t.Errorf("%s: %+v, want DryRunPassed", id, r)
		}
	}
	for i := range n {
		for _, d := range fleetDisks(i) {
			if got := e.ecs.ResetCount(d); got != 0 {
				t.Errorf("ResetCount(%s) = %d after a dry run, want 0", d, got)
			}
		}
	}
}
