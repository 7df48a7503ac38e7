package function

import (
	"slices"
	"strings"
	"testing"
)

// stopStartFleet: i-run is Running, i-stop is Stopped; d-loose is detached.
func stopStartFleet() *fakeECS {
	f := newFakeECS().
		addInstance("i-run", InstanceStatusRunning, "d-runsys", "d-rundata").
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
	}{
		{
			name:        "stop, reset, wait, start",
			req:         Request{Disk: pairsOf("d-runsys", "d-rundata"), StopInstance: true, StartInstance: true, Wait: true},
			wantOps:     []string{"DescribeDisks", "DescribeInstances", "StopInstance", "DescribeInstances*", "ResetDisks", "DescribeDisks*", "StartInstance"},
			wantToStop:  []string{"i-run"},
			wantToStart: []string{"i-run"},
			wantFinal:   map[string]string{"i-run": InstanceStatusStarting},
			wantStatus:  StatusSucceeded,
		},
		{
			name:        "start implies the wait",
			req:         Request{Disk: pairsOf("d-runsys"), StopInstance: true, StartInstance: true},
			wantOps:     []string{"DescribeDisks", "DescribeInstances", "StopInstance", "DescribeInstances*", "ResetDisks", "DescribeDisks*", "StartInstance"},
			wantToStop:  []string{"i-run"},
			wantToStart: []string{"i-run"},
			wantFinal:   map[string]string{"i-run": InstanceStatusStarting},
			wantStatus:  StatusSucceeded,
		},
		{
			name:       "stop only leaves it stopped",
			req:        Request{Disk: pairsOf("d-runsys"), StopInstance: true},
			wantOps:    []string{"DescribeDisks", "DescribeInstances", "StopInstance", "DescribeInstances*", "ResetDisks"},
			wantToStop: []string{"i-run"},
			wantFinal:  map[string]string{"i-run": InstanceStatusStopped},
			wantStatus: StatusSucceeded,
			wantMsg:    "left stopped",
		},
		{
			name:       "an instance already stopped stays stopped",
			req:        Request{Disk: pairsOf("d-stopsys", "d-runsys"), StopInstance: true, StartInstance: true},
			wantOps:    []string{"DescribeDisks", "DescribeInstances", "StopInstance", "DescribeInstances*", "ResetDisks", "DescribeDisks*", "StartInstance"},
			wantToStop: []string{"i-run"}, wantToStart: []string{"i-run"},
			wantFinal:  map[string]string{"i-run": InstanceStatusStarting, "i-stop": InstanceStatusStopped},
			wantStatus: StatusSucceeded,
		},
		{
			name:        "start alone starts the stopped instance",
			req:         Request{Disk: pairsOf("d-stopsys"), StartInstance: true},
			wantOps:     []string{"DescribeDisks", "DescribeInstances", "ResetDisks", "DescribeDisks*", "StartInstance"},
			wantToStart: []string{"i-stop"},
			wantFinal:   map[string]string{"i-stop": InstanceStatusStarting},
			wantStatus:  StatusSucceeded,
		},
		{
			name:       "detached disks need no instance",
			req:        Request{Disk: pairsOf("d-loose"), StopInstance: true, StartInstance: true},
			wantOps:    []string{"DescribeDisks", "ResetDisks"},
			wantStatus: StatusSucceeded,
		},
		{
			name:       "without stop, a running instance's disks fail",
			req:        Request{Disk: pairsOf("d-runsys", "d-stopsys")},
			wantOps:    []string{"ResetDisks"},
			wantFinal:  map[string]string{"i-run": InstanceStatusRunning},
			wantStatus: StatusPartiallyFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := stopStartFleet()
			req := tt.req
			req.RegionId = fakeRegion
			res, err := runRollback(t, f, &req)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.opNames(); !slices.Equal(got, tt.wantOps) {
				t.Errorf("calls = %v, want %v", got, tt.wantOps)
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
						t.Errorf("disk %s still ReIniting after the wait", d.DiskId)
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
	_, err := runRollback(t, f, &Request{RegionId: fakeRegion, Disk: pairsOf("d-a0000", "d-b0000"), StopInstance: true, StartInstance: true})
	if got := codeOf(err); got != "InstanceLockedForSecurity" {
		t.Fatalf("error = %v, want InstanceLockedForSecurity", err)
	}
	if n := f.count("ResetDisks"); n != 0 {
		t.Errorf("ResetDisks called %d times after a refused stop", n)
	}
	want := []string{"DescribeDisks", "DescribeInstances", "StopInstance*", "DescribeInstances*", "StartInstance"}
	if got := f.opNames(); !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v (i-a, stopped by the function, started again)", got, want)
	}
	if got := f.instanceStatus("i-a"); got != InstanceStatusStarting {
		t.Errorf("i-a is %s, want Starting again", got)
	}
	if got := f.callsOf("StartInstance"); len(got) != 1 || got[0].Target != "i-a" {
		t.Errorf("StartInstance calls = %v, want i-a only", got)
	}
	var fe *Error
	if asErr(err, &fe); fe.Result == nil || len(fe.Result.Steps) == 0 {
		t.Errorf("the error carries no steps")
	}
}

func TestStopWaitReachesDeadline(t *testing.T) {
	f := stopStartFleet()
	f.stopPolls = -1 // never Stopped
	clock := newFakeClock()
	ctx, cancel := withDeadlineIn(rollbackCtx(t, clock), clock, 30)
	defer cancel()
	_, err := rollbackHandler(clock).Rollback(ctx, f, Invocation{}, &Request{RegionId: fakeRegion, Disk: pairsOf("d-runsys"), StopInstance: true, StartInstance: true})
	if got := codeOf(err); got != ErrDeadlineExceeded {
		t.Fatalf("error = %v, want DeadlineExceeded", err)
	}
	var fe *Error
	asErr(err, &fe)
	if fe.Result == nil || !slices.ContainsFunc(fe.Result.Steps, func(s Step) bool { return s.Name == "WaitInstancesStopped" && s.Code == ErrDeadlineExceeded }) {
		t.Errorf("Result steps = %+v, want a WaitInstancesStopped step that hit the deadline", fe.Result)
	}
	if n := f.count("ResetDisks"); n != 0 {
		t.Errorf("ResetDisks called %d times", n)
	}
}
