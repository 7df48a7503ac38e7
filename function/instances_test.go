package function

import (
	"slices"
	"strings"
	"testing"
)

// stopStartFleet: i-run is Running, i-stop is Stopped; d-loose is detached.
func stopStartFleet() *fakeECS {
	f := newFakeECS().
		addInstance("i-run0", InstanceStatusRunning, "d-runsys", "d-rundata").
		addInstance("i-stop", InstanceStatusStopped, "d-stopsys").
		addInstance("", "", "d-loose")
	f.resetPolls, f.stopPolls = 2, 2
	return f
}

func TestStopStart(t *testing.T) {
	tests := []struct {
		name        string
		req         Request
		wantOps     []string
		wantToStop  []string
		wantToStart []string
		wantFinal   map[string]string // instance → status at the end
		wantStatus  string
		wantMsg     string
		wantErr     string
	}{
		{
			name:        "stop, reset, wait, start",
			req:         Request{Disk: pairsOf("d-runsys", "d-rundata"), StopInstance: true, StartInstance: true, Wait: true},
			wantOps:     []string{"DescribeDisks", "DescribeInstances", "StopInstance dry", "ResetDisks dry", "DescribeSnapshots", "StopInstance", "DescribeInstances*", "ResetDisks", "DescribeDisks*", "ResetDisks dry", "StartInstance", "DescribeInstances*"},
			wantToStop:  []string{"i-run0"},
			wantToStart: []string{"i-run0"},
			wantFinal:   map[string]string{"i-run0": InstanceStatusRunning},
			wantStatus:  StatusSucceeded,
		},
		{
			name:        "start implies the wait",
			req:         Request{Disk: pairsOf("d-runsys"), StopInstance: true, StartInstance: true},
			wantOps:     []string{"DescribeDisks", "DescribeInstances", "StopInstance dry", "ResetDisks dry", "DescribeSnapshots", "StopInstance", "DescribeInstances*", "ResetDisks", "DescribeDisks*", "ResetDisks dry", "StartInstance", "DescribeInstances*"},
			wantToStop:  []string{"i-run0"},
			wantToStart: []string{"i-run0"},
			wantFinal:   map[string]string{"i-run0": InstanceStatusRunning},
			wantStatus:  StatusSucceeded,
		},
		{
			name:       "stop only leaves it stopped",
			req:        Request{Disk: pairsOf("d-runsys"), StopInstance: true},
			wantOps:    []string{"DescribeDisks", "DescribeInstances", "StopInstance dry", "ResetDisks dry", "DescribeSnapshots", "StopInstance", "DescribeInstances*", "ResetDisks"},
			wantToStop: []string{"i-run0"},
			wantFinal:  map[string]string{"i-run0": InstanceStatusStopped},
			wantStatus: StatusSucceeded,
			wantMsg:    "left stopped",
		},
		{
			name:       "an instance already stopped stays stopped",
			req:        Request{Disk: pairsOf("d-stopsys", "d-runsys"), StopInstance: true, StartInstance: true},
			wantOps:    []string{"DescribeDisks", "DescribeInstances", "StopInstance dry", "ResetDisks dry", "DescribeSnapshots", "StopInstance", "DescribeInstances*", "ResetDisks", "DescribeDisks*", "ResetDisks dry", "StartInstance", "DescribeInstances*"},
			wantToStop: []string{"i-run0"}, wantToStart: []string{"i-run0"},
			wantFinal:  map[string]string{"i-run0": InstanceStatusRunning, "i-stop": InstanceStatusStopped},
			wantStatus: StatusSucceeded,
		},
		{
			name:        "start alone starts the stopped instance",
			req:         Request{Disk: pairsOf("d-stopsys"), StartInstance: true},
			wantOps:     []string{"DescribeDisks", "DescribeInstances", "ResetDisks dry", "StartInstance dry", "ResetDisks", "DescribeDisks*", "ResetDisks dry", "StartInstance", "DescribeInstances*"},
			wantToStart: []string{"i-stop"},
			wantFinal:   map[string]string{"i-stop": InstanceStatusRunning},
			wantStatus:  StatusSucceeded,
		},
		{
			name:       "detached disks need no instance",
			req:        Request{Disk: pairsOf("d-loose"), StopInstance: true, StartInstance: true},
			wantOps:    []string{"DescribeDisks", "ResetDisks dry", "ResetDisks"},
			wantStatus: StatusSucceeded,
		},
		{
			// The dry run refuses the call as a whole: the real run resets nothing.
			// Each pair is then checked alone, to name the one at fault.
			name:      "without stop, a running instance's disks refuse the request",
			req:       Request{Disk: pairsOf("d-runsys", "d-stopsys")},
			wantOps:   []string{"ResetDisks dry*"},
			wantFinal: map[string]string{"i-run0": InstanceStatusRunning},
			wantErr:   ErrPlanRefused,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := stopStartFleet()
			req := tt.req
			req.RegionID = fakeRegion
			res, err := runRollback(t, f, &req)
			if got := f.opNames(); !slices.Equal(got, tt.wantOps) {
				t.Errorf("calls = %v, want %v", got, tt.wantOps)
			}
			if tt.wantErr != "" || err != nil {
				if got := codeOf(err); got != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				for id, want := range tt.wantFinal {
					if got := f.instanceStatus(id); got != want {
						t.Errorf("%s is %s, want %s", id, got, want)
					}
				}
				return
			}
			if got := res.Plan.InstancesToStop; !slices.Equal(got, tt.wantToStop) {
				t.Errorf("InstancesToStop = %v, want %v", got, tt.wantToStop)
			}
			if got := res.Plan.InstancesToStart; !slices.Equal(got, tt.wantToStart) {
				t.Errorf("InstancesToStart = %v, want %v", got, tt.wantToStart)
			}
			for id, want := range tt.wantFinal {
				if got := f.instanceStatus(id); got != want {
					t.Errorf("%s is %s, want %s", id, got, want)
				}
			}
			for _, c := range f.callsOf("StopInstance") {
				if c.Mode != StoppedModeKeepCharging {
					t.Errorf("StopInstance %s StoppedMode = %q, want KeepCharging", c.Target, c.Mode)
				}
			}
			if res.Summary.Status != tt.wantStatus {
				t.Errorf("Summary = %+v, want %s", res.Summary, tt.wantStatus)
			}
			if !strings.Contains(res.Summary.Message, tt.wantMsg) {
				t.Errorf("Summary.Message = %q, want it to mention %q", res.Summary.Message, tt.wantMsg)
			}
			if req.StartInstance && len(tt.wantToStart) > 0 {
				for _, d := range res.Disks {
					if d.Status == DiskStatusReIniting {
						t.Errorf("disk %s still ReIniting after the wait", d.DiskID)
					}
				}
			}
		})
	}
}

func TestStopRefusedResetsNothing(t *testing.T) {
	f := newFakeECS().
		addInstance("i-a", InstanceStatusRunning, "d-a0000").
		addInstance("i-b", InstanceStatusRunning, "d-b0000")
	f.hook = func(c fakeCall) error {
		if c.Op == "StopInstance" && c.Target == "i-b" {
			return apiErr("InstanceLockedForSecurity", 403)
		}
		return nil
	}
	_, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: pairsOf("d-a0000", "d-b0000"), StopInstance: true, StartInstance: true})
	// The dry run of StopInstance i-b fails, so the real run refuses the
	// whole request before stopping anything (it used to stop i-a first).
	if got := codeOf(err); got != ErrPlanRefused {
		t.Fatalf("error = %v, want PlanRefused", err)
	}
	if !strings.Contains(err.Error(), "InstanceLockedForSecurity") {
		t.Errorf("error %q does not name the refusal InstanceLockedForSecurity", err)
	}
	if got := f.mutatingNonDry(); slices.ContainsFunc(got, func(c string) bool { return !strings.HasPrefix(c, "TagResources") }) {
		t.Errorf("mutating calls %v after a refused plan, want only the claim's tags", got)
	}
	if got := f.instanceStatus("i-a"); got != InstanceStatusRunning {
		t.Errorf("i-a is %s, want Running (never stopped)", got)
	}
	var fe *Error
	if asErr(err, &fe); fe.Result == nil || len(fe.Result.Steps) == 0 || fe.Result.Plan == nil {
		t.Errorf("the error carries no plan and steps")
	}
}

func TestStopWaitReachesDeadline(t *testing.T) {
	f := stopStartFleet()
	f.stopPolls = -1 // never Stopped
	clock := newFakeClock()
	ctx, cancel := withDeadlineIn(rollbackCtx(t, clock), clock, 30)
	defer cancel()
	_, err := rollbackHandler(clock).Rollback(ctx, f, Invocation{}, &Request{RegionID: fakeRegion, Disk: pairsOf("d-runsys"), StopInstance: true, StartInstance: true})
	// The instance never reaches Stopped, so it cannot be started again
	// either: the answer says so (InstanceNotRestarted), with the deadline.
	if got := codeOf(err); got != ErrInstanceNotRestarted {
		t.Fatalf("error = %v, want InstanceNotRestarted", err)
	}
	if !strings.Contains(err.Error(), ErrDeadlineExceeded) {
		t.Errorf("error %q does not say the deadline came first", err)
	}
	var fe *Error
	asErr(err, &fe)
	if fe.Result == nil || !slices.ContainsFunc(fe.Result.Steps, func(s Step) bool { return s.Name == "WaitInstancesStopped" && s.Code == ErrDeadlineExceeded }) {
		t.Errorf("Result steps = %+v, want a WaitInstancesStopped step that hit the deadline", fe.Result)
	}
	if got := f.mutatingNonDry(); slices.ContainsFunc(got, func(c string) bool { return strings.HasPrefix(c, "ResetDisks") }) {
		t.Errorf("mutating calls %v, want no ResetDisks", got)
	}
}

// TestStopWhoseAnswerWasLostIsReadBack: StopInstance acted but its answer
// was lost (ECS may act and still answer 500, or not at all): the status
// read back says the stop is under way, so the rollback goes on and starts
// the instance again at the end.
func TestStopWhoseAnswerWasLostIsReadBack(t *testing.T) {
	f := stopStartFleet()
	f.dropAfter["StopInstance"] = true
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: pairsOf("d-runsys"), StopInstance: true, StartInstance: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.count("StopInstance"); got != 1 {
		t.Errorf("StopInstance calls = %d, want 1 (not resent)", got)
	}
	if got := f.instanceStatus("i-run0"); got != InstanceStatusRunning || res.Summary.Status != StatusSucceeded {
		t.Errorf("i-run0 is %s, Summary %+v; want Running and Succeeded", got, res.Summary)
	}
	if !slices.ContainsFunc(res.Steps, func(s Step) bool {
		return s.Name == "StopInstance" && s.Outcome == StatusSucceeded && strings.Contains(s.Message, "the stop was applied")
	}) {
		t.Errorf("steps %+v lack the StopInstance read back", res.Steps)
	}
}
