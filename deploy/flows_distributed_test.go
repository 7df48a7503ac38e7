package deploy

import (
	"slices"
	"strings"
	"testing"
)

// Map concurrency caps, for the ECS rate limits: an inline wave runs all at
// once (at most 10); a distributed Map's slots each run about 2 items a
// minute, so 20 of them stay under half of ResetDisk's 500 calls a minute
// (flows/fleet-rollback-distributed.yaml explains the arithmetic).
const (
	maxInlineConcurrency      = 10
	maxDistributedConcurrency = 20
)

// checkMapItems checks where a Map's items come from and how many run at
// once: ItemsPath, or (distributed mode only) ItemReader, never both; a
// Processor; a concurrency within the cap of its mode.
func checkMapItems(t *testing.T, at string, st state) {
	t.Helper()
	if st.Processor == nil || (st.ItemsPath == "") == (st.ItemReader == nil) {
		t.Fatalf("%s: a Map needs a Processor and its items from ItemsPath or ItemReader, one of the two", at)
	}
	if st.ItemReader != nil && st.ProcessorConfig == nil {
		t.Errorf("%s: ItemReader is a distributed-mode field: the Map needs ProcessorConfig", at)
	}
	limit := maxInlineConcurrency
	if st.ProcessorConfig != nil {
		limit = maxDistributedConcurrency
	}
	if conc := max(st.MaxConcurrency, st.MaxConcuccency); conc < 1 || conc > limit {
		t.Errorf("%s: MaxConcurrency %d; keep it between 1 and %d for the ECS rate limits", at, conc, limit)
	}
}

// TestDistributedFleetFlow checks the distributed fleet flow's shape: the
// canary Map runs first, from the input, without a tolerance (one failure
// fails it), and a failure ends the flow before RollOut; RollOut reads the
// list from OSS with the tolerance from the input; both write results to
// OSS and run Standard sub-workflows (Express stops after 5 minutes);
// every item's request carries the execution's name as IdempotencyKey and
// the newest instance snapshot (Latest), which the function requires.
func TestDistributedFleetFlow(t *testing.T) {
	f := loadFlow(t, "flows/fleet-rollback-distributed.yaml")
	raw := loadYAML(t, "flows/fleet-rollback-distributed.yaml")
	byName := map[string]state{}
	rawByName := map[string]map[string]any{}
	for i, st := range f.States {
		byName[st.Name] = st
		rawByName[st.Name], _ = raw["States"].([]any)[i].(map[string]any)
	}
	canary, rollout := byName[f.StartAt], byName["RollOut"]
	if canary.Type != "Map" || canary.ItemsPath != "$Input.CanaryItems" || canary.Next != rollout.Name {
		t.Fatalf("the flow must start with the canary Map over $Input.CanaryItems, then RollOut: %+v", canary)
	}
	if _, ok := rawByName[canary.Name]["ToleratedFailurePercentage"]; ok {
		t.Error("the canary tolerates no failure: no ToleratedFailurePercentage")
	}
	if c := canary.Catch[len(canary.Catch)-1]; c.Next == rollout.Name {
		t.Error("a failed canary must not go on to RollOut")
	}
	if rollout.ItemReader["SourceType"] != "OSS_JSON_LIST" {
		t.Errorf("RollOut must read the list from OSS: %v", rollout.ItemReader)
	}
	if got := rawByName[rollout.Name]["ToleratedFailurePercentage.$"]; got != "$Context.Execution.Input.MaxFailurePercent" {
		t.Errorf("RollOut's tolerance = %v, want the input's MaxFailurePercent", got)
	}
	for _, name := range []string{canary.Name, rollout.Name} {
		st, rs := byName[name], rawByName[name]
		if st.ProcessorConfig["ExecutionMode"] != "Standard" {
			t.Errorf("%s: ExecutionMode %v, want Standard (a rollback may outlast Express's 5 minutes)", name, st.ProcessorConfig["ExecutionMode"])
		}
		if _, ok := rs["ResultWriter"]; !ok {
			t.Errorf("%s: no ResultWriter: each item's result must land in OSS", name)
		}
		ic, _ := rs["ItemConstructor"].(map[string]any)
		fixed, _ := ic["Fixed"].(map[string]any)
		if fixed["IdempotencyKey.$"] != "$Context.Execution.Name" || fixed["Latest"] != true {
			t.Errorf("%s: every item needs IdempotencyKey = the execution's name and Latest: %v", name, ic)
		}
		if body := st.Processor.States[0].Parameters["body.$"]; body != "jsonMerge($Input.Request, $Input.Fixed)" {
			t.Errorf("%s: the rollback's body = %v, want the item's request merged with the fixed fields", name, body)
		}
	}
	codes := map[string]bool{}
	for _, st := range f.States {
		codes[st.Code] = st.Type == "Fail"
	}
	for _, c := range []string{"CanaryFailed", "FleetRolloutFailed"} {
		if !codes[c] {
			t.Errorf("no Fail state with Code %s", c)
		}
	}
	verdict := byName["Verdict"]
	if !slices.ContainsFunc(verdict.Branches, func(b branch) bool { return strings.Contains(b.Condition, `"RolloutFailed"`) }) {
		t.Error("Verdict has no branch for RolloutFailed")
	}
}
