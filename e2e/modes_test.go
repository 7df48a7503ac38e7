package e2e

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// modeScenario is one rollback the function must get right whichever way
// the behaviours no public document settles fall (ecsemu.AllModes:
// emulator/ecsemu/CONFORMANCE.md).
type modeScenario struct {
	name    string
	opts    ecsemu.Options // durations and faults; zero fields get inProcess's
	fixture func() (*ecsemu.Fixture, []function.DiskPair)
	req     function.Request // Disk filled from the fixture when nil
	// api is the reset API the plan must end on.
	api string
	// instance must be Running at the end, when set.
	instance string
}

var stoppedPairs = []function.DiskPair{{DiskID: "d-bp1stoppedsys0000000", SnapshotID: "s-bp1stoppedsys0000000"}, {DiskID: "d-bp1stoppeddata000000", SnapshotID: "s-bp1stoppeddata000000"}}

func modeScenarios() []modeScenario {
	many := func() (*ecsemu.Fixture, []function.DiskPair) { return manyFixture(25) }
	return []modeScenario{
		{name: "plain reset", req: function.Request{Disk: stoppedPairs}, api: "ResetDisks"},
		{name: "batches and Wait", fixture: many, req: function.Request{Wait: true}, api: "ResetDisks"},
		{name: "Wait", req: function.Request{Disk: stoppedPairs, Wait: true}, api: "ResetDisks"},
		{name: "stop reset wait start", req: function.Request{SnapshotGroupID: "ssg-bp1running0000000000", StopInstance: true, StartInstance: true, Wait: true},
			api: "ResetDisks", instance: "i-bp1running0000000000"},
		{name: "backup", req: function.Request{Disk: stoppedPairs, BackupBeforeReset: true, Wait: true}, api: "ResetDisks"},
		{name: "fallback to ResetDisk", opts: ecsemu.Options{Faults: []ecsemu.FaultRule{{Action: "ResetDisks", Kind: ecsemu.FaultError, Code: "InvalidAction.NotFound"}}},
			req: function.Request{Disk: stoppedPairs, Wait: true}, api: "ResetDisk"},
		// The reset's answer is lost after ECS acted (the first ResetDisks is
		// the preflight's dry run). A long reset keeps it running while the
		// function reads it back, in every mode.
		{name: "unanswered reset read back", opts: ecsemu.Options{ResetDuration: 1500 * time.Millisecond,
			Faults: []ecsemu.FaultRule{{Action: "ResetDisks", Sequence: []ecsemu.FaultKind{ecsemu.FaultPass, ecsemu.FaultDropAfter}}}},
			req: function.Request{Disk: stoppedPairs}, api: "ResetDisks"},
	}
}

// TestModeMatrix runs every scenario under every mode and checks the
// truth of each answer: a disk reported Success was reset (once), none was
// reported finished while its reset still ran (Wait), a reported
// OperationProgress names its disk, and the instance stopped for the
// rollback runs again.
//
// The rollbacks mostly wait (polls, the claim's settle), so the modes run
// concurrently, 18 at a time, from goroutines: subtests started that
// way are not held to -parallel (GOMAXPROCS, 2 here).
func TestModeMatrix(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 18)
	for _, nm := range ecsemu.AllModes() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(nm.Name, func(t *testing.T) {
				for _, sc := range modeScenarios() {
					t.Run(sc.name, func(t *testing.T) {
						runModeScenario(t, nm.Modes, sc)
					})
				}
			})
		}()
	}
	wg.Wait()
}

func runModeScenario(t *testing.T, modes ecsemu.Modes, sc modeScenario) {
	t.Helper()
	opts := sc.opts
	opts.Modes = modes
	var fixture *ecsemu.Fixture
	req := sc.req
	req.RegionID = region
	if sc.fixture != nil {
		var ps []function.DiskPair
		fixture, ps = sc.fixture()
		req.Disk = ps
	}
	s, h := inProcess(t, fixture, opts)
	res, err := runInProcess(t, h, 30*time.Second, &req)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if res.Summary.Status != function.StatusSucceeded || res.Summary.Succeeded != len(res.Plan.Pairs) {
		t.Errorf("Summary = %+v, want every disk Succeeded", res.Summary)
	}
	if res.Plan.ResetAPI != sc.api {
		t.Errorf("Plan.ResetAPI = %q, want %q", res.Plan.ResetAPI, sc.api)
	}
	for i, op := range res.OperationProgressSet.OperationProgress {
		d := op.Item("DiskId")
		if d != res.Plan.Pairs[i].DiskID {
			t.Errorf("progress %d names disk %q, want %q", i, d, res.Plan.Pairs[i].DiskID)
		}
		if n := s.ResetCount(d); n != 1 {
			t.Errorf("%s reset %d times, reported %s", d, n, op.OperationStatus)
		}
	}
	if req.Wait {
		for _, p := range res.Plan.Pairs {
			if s.ResetInProgress(p.DiskID) {
				t.Errorf("%s reported waited for while its reset still runs", p.DiskID)
			}
		}
	}
	if sc.instance != "" {
		if in, _ := s.Instance(region, sc.instance); in.Status != function.InstanceStatusRunning {
			t.Errorf("%s is %s, want Running", sc.instance, in.Status)
		}
	}
	if sc.api == "ResetDisk" && slices.Contains(realActions(s, "ResetDisks"), "ResetDisks") {
		t.Errorf("real ResetDisks calls after the preflight found it unavailable")
	}
}
