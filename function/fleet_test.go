package function

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func fleetSpecJSON(t *testing.T, spec map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// planFleet runs the planning invocation against f.
func planFleet(t *testing.T, h *Handler, f *fakeECS, spec map[string]any) (*FleetState, error) {
	t.Helper()
	ev, _ := json.Marshal(map[string]any{"Fleet": fleetSpecJSON(t, spec), "Key": "exec-1"})
	if !IsFleetEvent(ev) {
		t.Fatalf("%s is not recognised as a fleet event", ev)
	}
	e, s, err := decodeFleet(ev)
	if err != nil {
		return nil, err
	}
	insts, err := h.PlanFleet(context.Background(), f, s)
	if err != nil {
		return nil, err
	}
	return startFleet(s, e.Key, insts), nil
}

// tally feeds a wave's outcomes back (statusOf decides each instance's).
func tally(t *testing.T, spec map[string]any, st *FleetState, statusOf func(id string) FleetOutcome) *FleetState {
	t.Helper()
	var outs []FleetOutcome
	for _, raw := range st.Next {
		var req Request
		if err := json.Unmarshal(raw, &req); err != nil {
			t.Fatal(err)
		}
		o := statusOf(req.InstanceID)
		o.InstanceID = req.InstanceID
		outs = append(outs, o)
	}
	ev, _ := json.Marshal(map[string]any{"Fleet": fleetSpecJSON(t, spec), "Key": "exec-1", "State": st, "Outcomes": outs})
	e, s, err := decodeFleet(ev)
	if err != nil {
		t.Fatalf("tally: %v", err)
	}
	return tallyFleet(s, e, Config{})
}

func TestPlanFleet(t *testing.T) {
	allowed := &Handler{Config: Config{AllowedDiskTagKey: "rollback", AllowedDiskTagValue: "allowed"}}
	for _, tc := range []struct {
		name   string
		h      *Handler
		setup  func(f *fakeECS)
		spec   map[string]any
		want   []string // InstanceId=Status[/Code]
		status string
	}{
		{"tag selector", allowed, func(f *fakeECS) {}, map[string]any{"RegionId": fakeRegion, "Tag": "env=web"},
			[]string{"i-fleet0000=InWave", "i-fleet0001=Pending", "i-fleet0002=Pending"}, FleetRunning},
		{"selector matching nothing", allowed, func(f *fakeECS) {}, map[string]any{"RegionId": fakeRegion, "Tag": "env=none"},
			nil, FleetNothingToDo},
		{"list with a missing instance", allowed, func(f *fakeECS) {}, map[string]any{"RegionId": fakeRegion, "InstanceIds": []string{"i-fleet0002", "i-missing0000"}},
			[]string{"i-fleet0002=InWave", "i-missing0000=NotEligible/InvalidInstanceId.NotFound"}, FleetRunning},
		{"a disk without the allow-list tag", allowed, func(f *fakeECS) { f.tags["d-fleet0001b"] = nil },
			map[string]any{"RegionId": fakeRegion, "Tag": "env=web"},
			[]string{"i-fleet0000=InWave", "i-fleet0001=NotEligible/DiskNotAllowed", "i-fleet0002=Pending"}, FleetRunning},
		{"no allow-list configured", &Handler{}, func(f *fakeECS) { f.tags["d-fleet0001b"] = nil },
			map[string]any{"RegionId": fakeRegion, "InstanceIds": []string{"i-fleet0001"}},
			[]string{"i-fleet0001=InWave"}, FleetRunning},
		{"no instance snapshot", allowed, func(f *fakeECS) { f.addInstance("i-nosnap0000", InstanceStatusRunning, "d-nosnap0000") },
			map[string]any{"RegionId": fakeRegion, "InstanceIds": []string{"i-nosnap0000"}},
			[]string{"i-nosnap0000=NotEligible/SnapshotGroupNotReady"}, FleetNothingToDo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeECS().addFleet(3, map[string]string{"env": "web"})
			tc.setup(f)
			st, err := planFleet(t, tc.h, f, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, in := range st.Summary.Instances {
				s := in.InstanceID + "=" + in.Status
				if in.Code != "" {
					s += "/" + in.Code
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("instances = %v, want %v", got, tc.want)
			}
			if st.Summary.Status != tc.status {
				t.Errorf("status = %s, want %s", st.Summary.Status, tc.status)
			}
			for _, in := range st.Summary.Instances {
				if in.Status != fleetNotEligible && (in.SnapshotGroupID != "ssg-"+strings.TrimPrefix(in.InstanceID, "i-") || in.Disks != 2 || !in.Allowed) {
					t.Errorf("plan of %s = %+v, want its group, 2 disks, allowed", in.InstanceID, in)
				}
			}
		})
	}
}

func TestFleetValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spec  map[string]any
		field string
	}{
		{"no region", map[string]any{"Tag": "a=b"}, "Fleet.RegionId"},
		{"neither list nor tag", map[string]any{"RegionId": fakeRegion}, "Fleet.InstanceIds"},
		{"both list and tag", map[string]any{"RegionId": fakeRegion, "Tag": "a=b", "InstanceIds": []string{"i-fleet0000"}}, "Fleet.InstanceIds"},
		{"tag without =", map[string]any{"RegionId": fakeRegion, "Tag": "ab"}, "Fleet.Tag"},
		{"concurrency over the Map's cap", map[string]any{"RegionId": fakeRegion, "Tag": "a=b", "MaxConcurrency": 11}, "Fleet.MaxConcurrency"},
		{"count and percent", map[string]any{"RegionId": fakeRegion, "Tag": "a=b", "MaxFailures": 1, "MaxFailurePercent": 10}, "Fleet.MaxFailurePercent"},
		{"an option the fleet sets", map[string]any{"RegionId": fakeRegion, "Tag": "a=b", "Options": map[string]any{"DryRun": true}}, "Fleet.Options.DryRun"},
		{"an unknown option", map[string]any{"RegionId": fakeRegion, "Tag": "a=b", "Options": map[string]any{"Nope": true}}, "Fleet.Options.Nope"},
		{"a bad option value", map[string]any{"RegionId": fakeRegion, "Tag": "a=b", "Options": map[string]any{"ResetMode": "sometimes"}}, "Fleet.Options.ResetMode"},
		{"an unknown fleet field", map[string]any{"RegionId": fakeRegion, "Tag": "a=b", "Waves": 3}, "Fleet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, _ := json.Marshal(map[string]any{"Fleet": tc.spec, "Key": "exec-1"})
			_, _, err := decodeFleet(ev)
			fe := asError(err)
			if err == nil || fe.Code != ErrValidationFailed {
				t.Fatalf("err = %v, want ValidationFailed", err)
			}
			var fields []string
			for _, v := range fe.Violations {
				fields = append(fields, v.Field)
			}
			if !slices.Contains(fields, tc.field) {
				t.Errorf("violations %v, want one on %s", fields, tc.field)
			}
		})
	}
}

// TestFleetWaves drives the planner through whole fleets of 20: the
// canary, doubling waves up to the cap, the threshold and the summary.
func TestFleetWaves(t *testing.T) {
	ok := func(string) FleetOutcome { return FleetOutcome{Status: StatusSucceeded} }
	failing := func(ids ...string) func(string) FleetOutcome {
		return func(id string) FleetOutcome {
			if slices.Contains(ids, id) {
				return FleetOutcome{Error: &FleetError{Code: "IncorrectInstanceStatus", Detail: `IncorrectInstanceStatus: stop refused: no; result: {"Steps":[{"Name":"StopInstance","Outcome":"Failed"}]}`}}
			}
			return FleetOutcome{Status: StatusSucceeded}
		}
	}
	for _, tc := range []struct {
		name       string
		extra      map[string]any
		outcome    func(string) FleetOutcome
		waves      []int
		status     string
		done, fail int
		notStarted int
	}{
		{"all good", nil, ok, []int{1, 2, 4, 5, 5, 3}, FleetSucceeded, 20, 0, 0},
		{"canary count 2, cap 8", map[string]any{"Canary": 2, "MaxConcurrency": 8}, ok, []int{2, 4, 8, 6}, FleetSucceeded, 20, 0, 0},
		{"canary percent", map[string]any{"CanaryPercent": 10}, ok, []int{2, 4, 5, 5, 4}, FleetSucceeded, 20, 0, 0},
		{"canary fails", nil, failing("i-fleet0000"), []int{1}, FleetCanaryFailed, 0, 1, 19},
		{"threshold crossed in wave 3", map[string]any{"MaxFailures": 1}, failing("i-fleet0003", "i-fleet0005"), []int{1, 2, 4}, FleetHalted, 5, 2, 13},
		{"within the percent threshold", map[string]any{"MaxFailurePercent": 10}, failing("i-fleet0003", "i-fleet0005"), []int{1, 2, 4, 5, 5, 3}, FleetCompletedWithFailures, 18, 2, 0},
		{"dry run goes at the cap, never halts", map[string]any{"DryRun": true}, failing("i-fleet0000"), []int{5, 5, 5, 5}, FleetDryRunFailed, 19, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeECS().addFleet(20, map[string]string{"env": "web"})
			spec := map[string]any{"RegionId": fakeRegion, "Tag": "env=web", "Options": map[string]any{"StopInstance": true, "StartInstance": true}}
			for k, v := range tc.extra {
				spec[k] = v
			}
			st, err := planFleet(t, &Handler{}, f, spec)
			if err != nil {
				t.Fatal(err)
			}
			var waves []int
			for st.Action != FleetReport {
				waves = append(waves, len(st.Next))
				if len(waves) > 30 {
					t.Fatal("no end")
				}
				st = tally(t, spec, st, tc.outcome)
			}
			s := st.Summary
			if !slices.Equal(waves, tc.waves) {
				t.Errorf("waves = %v, want %v", waves, tc.waves)
			}
			if s.Status != tc.status || s.Succeeded != tc.done || s.Failed != tc.fail || s.NotStarted != tc.notStarted || s.Total != 20 {
				t.Errorf("summary = %s %d done %d failed %d not started of %d, want %s %d %d %d of 20 (%s)", s.Status, s.Succeeded, s.Failed, s.NotStarted, s.Total, tc.status, tc.done, tc.fail, tc.notStarted, s.Message)
			}
			for _, in := range s.Instances {
				if in.Status == StatusFailed && in.Step != "StopInstance" {
					t.Errorf("%s failed at step %q, want StopInstance", in.InstanceID, in.Step)
				}
			}
		})
	}
}

func TestFleetRequests(t *testing.T) {
	f := newFakeECS().addFleet(2, map[string]string{"env": "web"})
	spec := map[string]any{"RegionId": fakeRegion, "Tag": "env=web", "Options": map[string]any{"StopInstance": true, "Wait": true}}
	st, err := planFleet(t, &Handler{}, f, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Next) != 1 {
		t.Fatalf("canary = %d requests", len(st.Next))
	}
	req, err := DecodeRequest(st.Next[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %s %s stop=%v wait=%v dry=%v", req.InstanceID, req.SnapshotGroupID, req.IdempotencyKey, req.StopInstance, req.Wait, req.DryRun)
	if want := "i-fleet0000 ssg-fleet0000 fleet:exec-1/i-fleet0000 stop=true wait=true dry=false"; got != want {
		t.Errorf("request = %s, want %s", got, want)
	}
}
