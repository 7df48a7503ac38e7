package function

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidateHealthFields(t *testing.T) {
	base := func(mod func(r *Request)) *Request {
		r := &Request{RegionID: "cn-hangzhou", Disk: []DiskPair{{DiskID: okDisk, SnapshotID: okSnap}}, StopInstance: true, StartInstance: true, BackupBeforeReset: true}
		mod(r)
		return r
	}
	tests := []struct {
		name string
		req  *Request
		want []string
	}{
		{"InstanceStatus", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "InstanceStatus"}; r.OnUnhealthy = "Undo" }), nil},
		{"HTTP", base(func(r *Request) {
			r.HealthCheck = &HealthCheck{Type: "HTTP", Port: 8080, Path: "/healthz", ExpectStatus: 204}
		}), nil},
		{"unknown type", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "Ping"} }), []string{"HealthCheck.Type/oneof"}},
		{"HTTP without port", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "HTTP"} }), []string{"HealthCheck.Port/required_if"}},
		{"port 0x10000", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "HTTP", Port: 65536} }), []string{"HealthCheck.Port/max"}},
		{"port for InstanceStatus", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "InstanceStatus", Port: 80} }), []string{"HealthCheck.Port/excluded_unless"}},
		{"scheme-relative path", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "HTTP", Port: 80, Path: "//evil.example/x"} }), []string{"HealthCheck.Path/httppath"}},
		{"dot-dot path", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "HTTP", Port: 80, Path: "/a/../b"} }), []string{"HealthCheck.Path/httppath"}},
		{"query", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "HTTP", Port: 80, Path: "/h?x=1"} }), []string{"HealthCheck.Path/httppath"}},
		{"a URL as path", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "HTTP", Port: 80, Path: "http://h/"} }), []string{"HealthCheck.Path/httppath"}},
		{"status 700", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "HTTP", Port: 80, ExpectStatus: 700} }), []string{"HealthCheck.ExpectStatus/max"}},
		{"gate without start", base(func(r *Request) { r.HealthCheck = &HealthCheck{Type: "InstanceStatus"}; r.StartInstance = false }), []string{"StartInstance/required_with"}},
		{"undo without backup", base(func(r *Request) {
			r.HealthCheck = &HealthCheck{Type: "InstanceStatus"}
			r.OnUnhealthy, r.BackupBeforeReset = "Undo", false
		}), []string{"BackupBeforeReset/required_if"}},
		{"OnUnhealthy without gate", base(func(r *Request) { r.OnUnhealthy = "Report" }), []string{"OnUnhealthy/excluded_without"}},
		{"UndoRollback", &Request{RegionID: "cn-hangzhou", UndoRollback: &UndoRollback{InstanceID: "i-bp1running0000000000"}}, nil},
		{"UndoRollback with Disk", base(func(r *Request) { r.UndoRollback = &UndoRollback{InstanceID: "i-bp1running0000000000"} }), []string{"UndoRollback/excluded_with"}},
		{"UndoRollback bad id", &Request{RegionID: "cn-hangzhou", UndoRollback: &UndoRollback{InstanceID: "bp1"}}, []string{"UndoRollback.InstanceId/instanceid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := violations(t, tt.req.Validate())
			if !slices.Equal(got, tt.want) {
				t.Errorf("violations %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeHealthObjects(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string // a violation Field/Rule, "" for none
	}{
		{"ok", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}],"StartInstance":true,"HealthCheck":{"type":"HTTP","port":80}}`, ""},
		{"a host of the caller's choosing", `{"RegionId":"cn-hangzhou","HealthCheck":{"Type":"HTTP","Port":80,"Host":"10.0.0.1"}}`, "HealthCheck.Host/unknown"},
		{"a command of the caller's choosing", `{"RegionId":"cn-hangzhou","HealthCheck":{"Type":"Command","CommandId":"c-x"}}`, "HealthCheck.CommandId/unknown"},
		{"null port", `{"RegionId":"cn-hangzhou","HealthCheck":{"Type":"HTTP","Port":null}}`, "HealthCheck.Port/null"},
		{"not an object", `{"RegionId":"cn-hangzhou","UndoRollback":"i-1"}`, "UndoRollback/type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeRequest([]byte(tt.json))
			got := violations(t, err)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.want == "":
				if req.HealthCheck == nil || req.HealthCheck.Type != "HTTP" || req.HealthCheck.Port != 80 {
					t.Errorf("HealthCheck %+v", req.HealthCheck)
				}
			case !slices.Contains(got, tt.want):
				t.Errorf("violations %v, want %s", got, tt.want)
			}
		})
	}
}

// gatedRequest rolls back i-run0's system disk with a gate.
func gatedRequest(hc *HealthCheck, on string) *Request {
	return &Request{RegionID: fakeRegion, Disk: pairsOf("d-runsys"), StopInstance: true, StartInstance: true, BackupBeforeReset: true, HealthCheck: hc, OnUnhealthy: on}
}

func TestGateOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		req        *Request
		script     func(f *fakeECS)
		command    string
		wantCode   string // "" for success
		wantHealth []string
		wantResets []string
	}{
		{"InstanceStatus Ok", gatedRequest(&HealthCheck{Type: "InstanceStatus"}, ""), nil, "", "", []string{"1:Healthy"}, []string{"s-runsys"}},
		{"InstanceStatus Impaired, Report", gatedRequest(&HealthCheck{Type: "InstanceStatus"}, "Report"),
			func(f *fakeECS) { f.health.status = map[string][]string{"i-run0": {"Impaired"}} }, "", ErrUnhealthy, []string{"1:Unhealthy"}, []string{"s-runsys"}},
		{"Impaired then Ok, Undo", gatedRequest(&HealthCheck{Type: "InstanceStatus"}, "Undo"),
			func(f *fakeECS) { f.health.status = map[string][]string{"i-run0": {"Impaired", "Ok"}} }, "", ErrUndoneAfterUnhealthy, []string{"1:Unhealthy", "2:Healthy"}, []string{"s-runsys", "backup"}},
		{"Impaired twice, Undo", gatedRequest(&HealthCheck{Type: "InstanceStatus"}, "Undo"),
			func(f *fakeECS) { f.health.status = map[string][]string{"i-run0": {"Impaired"}} }, "", ErrUndoFailed, []string{"1:Unhealthy", "2:Unhealthy"}, []string{"s-runsys", "backup"}},
		{"Initializing until the bound", gatedRequest(&HealthCheck{Type: "InstanceStatus", TimeoutSeconds: 30}, "Undo"),
			func(f *fakeECS) { f.health.status = map[string][]string{"i-run0": {"Initializing", "Ok"}} }, "", ErrUndoneAfterUnhealthy, []string{"1:Unhealthy", "2:Healthy"}, []string{"s-runsys", "backup"}},
		{"Command exit 0", gatedRequest(&HealthCheck{Type: "Command"}, ""), nil, "c-health0001", "", []string{"1:Healthy"}, []string{"s-runsys"}},
		{"Command exit 2", gatedRequest(&HealthCheck{Type: "Command"}, ""),
			func(f *fakeECS) { f.health.exitCodes = map[string][]int64{"i-run0": {2}} }, "c-health0001", ErrUnhealthy, []string{"1:Unhealthy"}, []string{"s-runsys"}},
		{"Command agent down", gatedRequest(&HealthCheck{Type: "Command", TimeoutSeconds: 5}, "Undo"),
			func(f *fakeECS) { f.health.agentDown = map[string]bool{"i-run0": true} }, "c-health0001", ErrHealthCheckUnavailable, []string{"1:AgentUnavailable"}, []string{"s-runsys"}},
		{"HTTP without an address", gatedRequest(&HealthCheck{Type: "HTTP", Port: 80}, ""), nil, "", ErrHealthCheckUnavailable, []string{"1:CheckFailed"}, []string{"s-runsys"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := stopStartFleet()
			if tt.script != nil {
				tt.script(f)
			}
			clock := newFakeClock()
			h := rollbackHandler(clock)
			h.Config.HealthCommandID = tt.command
			res, err := h.Rollback(rollbackCtx(t, clock), f, Invocation{RequestID: "fc-req-1"}, tt.req)
			code := ""
			if err != nil {
				var fe *Error
				if !errors.As(err, &fe) || fe.Result == nil {
					t.Fatalf("error %v carries no Result", err)
				}
				code, res = fe.Code, fe.Result
			}
			if code != tt.wantCode {
				t.Fatalf("code %q, want %q; summary %+v", code, tt.wantCode, res.Summary)
			}
			if tt.wantCode != "" && res.Summary.Status != tt.wantCode {
				t.Errorf("Summary.Status %q, want %q", res.Summary.Status, tt.wantCode)
			}
			var health []string
			for _, o := range res.Health {
				health = append(health, strings.Join([]string{string(rune('0' + o.Round)), o.Status}, ":"))
			}
			if !slices.Equal(health, tt.wantHealth) {
				t.Errorf("health %v, want %v", health, tt.wantHealth)
			}
			resets := slices.Clone(f.resets["d-runsys"])
			for i, s := range resets {
				if len(res.Backups) == 1 && s == res.Backups[0].SnapshotID {
					resets[i] = "backup"
				}
			}
			if !slices.Equal(resets, tt.wantResets) {
				t.Errorf("resets %v, want %v", resets, tt.wantResets)
			}
			if st := f.instanceStatus("i-run0"); st != InstanceStatusRunning {
				t.Errorf("instance %s, want Running", st)
			}
		})
	}
}

func TestStartNoStock(t *testing.T) {
	tests := []struct {
		name     string
		refusals int
		wantCode string
	}{
		{"refused twice, then started", 2, ""},
		{"refused to the deadline", -1, ErrInstanceNotRestarted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := stopStartFleet()
			f.health.noStock = map[string]int{"i-run0": tt.refusals}
			res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: pairsOf("d-runsys"), StopInstance: true, StartInstance: true})
			var fe *Error
			code := ""
			if errors.As(err, &fe) {
				code, res = fe.Code, fe.Result
			}
			if code != tt.wantCode {
				t.Fatalf("code %q, want %q (%v)", code, tt.wantCode, err)
			}
			i := slices.IndexFunc(res.Steps, func(s Step) bool { return s.Name == "StartInstanceRetry" })
			if i < 0 {
				t.Fatalf("no StartInstanceRetry step")
			}
			if tt.wantCode != "" && (!strings.Contains(fe.Message, "OperationDenied.NoStock") || res.Steps[i].Outcome != StatusFailed) {
				t.Errorf("message %q / step %+v: the cause is not named", fe.Message, res.Steps[i])
			}
			if tt.wantCode == "" && f.instanceStatus("i-run0") != InstanceStatusRunning {
				t.Errorf("instance %s, want Running", f.instanceStatus("i-run0"))
			}
		})
	}
}

func TestIdentityChanges(t *testing.T) {
	a := Network{VpcID: "vpc-1", VSwitchID: "vsw-1", PrivateIps: []string{"10.0.0.2"}, PublicIps: []string{"47.0.0.1"}, SecurityGroupIDs: []string{"sg-1", "sg-2"}}
	tests := []struct {
		name string
		b    Network
		want int
	}{
		{"same, groups reordered", Network{VpcID: "vpc-1", VSwitchID: "vsw-1", PrivateIps: []string{"10.0.0.2"}, PublicIps: []string{"47.0.0.1"}, SecurityGroupIDs: []string{"sg-2", "sg-1"}}, 0},
		{"public IP", Network{VpcID: "vpc-1", VSwitchID: "vsw-1", PrivateIps: []string{"10.0.0.2"}, PublicIps: []string{"47.0.0.9"}, SecurityGroupIDs: []string{"sg-1", "sg-2"}}, 1},
		{"everything", Network{VpcID: "vpc-2", VSwitchID: "vsw-2", EipAddress: "1.2.3.4"}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := identityChanges("i-1", a, tt.b); len(got) != tt.want {
				t.Errorf("changes %q, want %d", got, tt.want)
			}
		})
	}
}

// One instance's missing agent does not keep the command from the others.
func TestCommandGateAgentDownOnOne(t *testing.T) {
	f := newFakeECS().addInstance("i-run0", InstanceStatusRunning, "d-runsys").addInstance("i-run1", InstanceStatusRunning, "d-run1sys")
	f.health.agentDown = map[string]bool{"i-run1": true}
	clock := newFakeClock()
	h := rollbackHandler(clock)
	h.Config.HealthCommandID = "c-health0001"
	req := &Request{RegionID: fakeRegion, Disk: pairsOf("d-runsys", "d-run1sys"), StopInstance: true, StartInstance: true, HealthCheck: &HealthCheck{Type: "Command", TimeoutSeconds: 60}}
	_, err := h.Rollback(rollbackCtx(t, clock), f, Invocation{RequestID: "fc-req-1"}, req)
	var fe *Error
	if !errors.As(err, &fe) || fe.Code != ErrHealthCheckUnavailable {
		t.Fatalf("error %v, want %s", err, ErrHealthCheckUnavailable)
	}
	got := map[string]string{}
	for _, o := range fe.Result.Health {
		got[o.InstanceID] = o.Status
	}
	if want := map[string]string{"i-run0": HealthHealthy, "i-run1": HealthAgentUnavailable}; got["i-run0"] != want["i-run0"] || got["i-run1"] != want["i-run1"] {
		t.Errorf("verdicts %v, want %v", got, want)
	}
	if c, ok := f.lastCall("InvokeCommand"); !ok || c.Target != "i-run0" {
		t.Errorf("InvokeCommand %+v, want on i-run0 only", c)
	}
}

func TestResolveUndo(t *testing.T) {
	backup := func(f *fakeECS, disk, snap, of, key, at string) {
		f.tags[disk] = map[string]string{tagBackup: snap, tagKey: key, tagAt: at}
		if snap != "" && of != "" {
			f.snapshots[snap] = &Snapshot{SnapshotID: snap, SourceDiskID: of, Status: SnapshotStatusAccomplished, Tags: map[string]string{tagBackupOf: of}}
		}
	}
	tests := []struct {
		name      string
		setup     func(f *fakeECS)
		wantCode  string
		wantPairs []DiskPair
	}{
		{"no backup recorded", func(*fakeECS) {}, ErrNothingToUndo, nil},
		{"the last rollback's backups", func(f *fakeECS) {
			backup(f, "d-runsys", "s-bk1", "d-runsys", "k2", "200")
			backup(f, "d-rundata", "s-bk0", "d-rundata", "k1", "100") // an older rollback's
		}, "", []DiskPair{{DiskID: "d-runsys", SnapshotID: "s-bk1"}}},
		{"backup released", func(f *fakeECS) { backup(f, "d-runsys", "s-gone", "", "k1", "100") }, ErrNothingToUndo, nil},
		{"not this disk's backup", func(f *fakeECS) { backup(f, "d-runsys", "s-other", "d-rundata", "k1", "100") }, ErrNothingToUndo, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := stopStartFleet()
			tt.setup(f)
			req := &Request{RegionID: fakeRegion, UndoRollback: &UndoRollback{InstanceID: "i-run0"}, DryRun: true, StopInstance: true, StartInstance: true}
			res, err := runRollback(t, f, req)
			code := ""
			var fe *Error
			if errors.As(err, &fe) {
				code, res = fe.Code, fe.Result
			}
			if code != tt.wantCode {
				t.Fatalf("code %q, want %q (%v)", code, tt.wantCode, err)
			}
			if tt.wantCode == "" && !slices.Equal(res.Plan.Pairs, tt.wantPairs) {
				t.Errorf("pairs %+v, want %+v", res.Plan.Pairs, tt.wantPairs)
			}
			if n := f.count("ResetDisks") + f.count("ResetDisk"); tt.wantCode != "" && n > 0 {
				t.Errorf("%d reset calls after a refusal", n)
			}
		})
	}
}

// TestCommandGateNeedsConfiguration: a Command gate without the function's
// HEALTH_COMMAND_ID is refused before anything is done, not found out after
// the rollback.
func TestCommandGateNeedsConfiguration(t *testing.T) {
	f := stopStartFleet()
	clock := newFakeClock()
	_, err := rollbackHandler(clock).Rollback(rollbackCtx(t, clock), f, Invocation{RequestID: "fc-req-1"}, gatedRequest(&HealthCheck{Type: "Command"}, ""))
	var fe *Error
	if !errors.As(err, &fe) || fe.Code != ErrPlanRefused || !strings.Contains(fe.Message, "HEALTH_COMMAND_ID") {
		t.Fatalf("error %v, want PlanRefused naming HEALTH_COMMAND_ID", err)
	}
	if got := f.mutatingNonDry(); len(got) != 0 {
		t.Errorf("mutating calls %v, want none", got)
	}
}
