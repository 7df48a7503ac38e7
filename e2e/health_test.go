package e2e

// Issue 13: verified rollback through the built binary. Each test runs the
// function under the FC runtime emulator against the ECS emulator, with the
// instance's health, Cloud Assistant agent, command exit codes, stock and
// public IP scripted per instance (ecsemu.InstanceScript).

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// healthCommand is the Cloud Assistant command registered for the gate.
const healthCommand = "c-hzemuhealth0001"

// gateResult is function.Result with the fields of issue 13.
type gateResult struct {
	Summary  truthSummary             `json:"Summary"`
	Steps    []function.Step          `json:"Steps"`
	Backups  []function.Backup        `json:"Backups"`
	Health   []function.HealthOutcome `json:"Health"`
	Undo     *function.UndoOutcome    `json:"Undo"`
	Warnings []string                 `json:"Warnings"`
	Plan     *function.Plan           `json:"Plan"`
}

// gateAnswer is an invocation's errorType ("" for a result) and Result.
func gateAnswer(t *testing.T, e *env, res *fcruntime.Result) (string, *gateResult) {
	t.Helper()
	if res.TimedOut {
		t.Fatalf("the invocation timed out: the function must answer before its deadline\nlogs:\n%s", e.logs.String())
	}
	raw := string(res.Payload)
	typ := ""
	if res.Error != nil {
		typ = res.Error.Type
		i := strings.LastIndex(res.Error.Message, resultMarker+"{\"RequestId\"")
		if i < 0 {
			t.Fatalf("FC error %s carries no Result: %.300s", typ, res.Error.Message)
		}
		raw = res.Error.Message[i+len(resultMarker):]
	}
	var r gateResult
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("result %.300s: %v", raw, err)
	}
	return typ, &r
}

// healthEnv is an environment whose Running instance has the network of a
// VPC instance at 127.0.0.1, the script given, and the gate's command.
func healthEnv(t *testing.T, sc *ecsemu.InstanceScript, timeout time.Duration, env ...string) *env {
	t.Helper()
	e := newEnv(t, envOptions{timeout: timeout, fnEnv: append([]string{"HEALTH_COMMAND_ID=" + healthCommand}, env...)})
	if err := e.ecs.Mutate(func(f *ecsemu.Fixture) {
		f.Commands = append(f.Commands, ecsemu.Command{CommandID: healthCommand, RegionID: region, Name: "health", Type: "RunShellScript", CommandContent: "ZXhpdCAw"})
		for i := range f.Instances {
			if in := &f.Instances[i]; in.InstanceID == runningInst {
				in.VpcID, in.VSwitchID, in.SecurityGroupIDs = "vpc-emu0001", "vsw-emu0001", []string{"sg-emu0001"}
				in.PrivateIPs, in.PublicIPs = []string{"127.0.0.1"}, []string{"47.96.0.1"}
				in.Script = sc
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// gatedEvent is a rollback of the Running instance's system disk, stopped
// and started, backed up, with the gate hc and OnUnhealthy.
func gatedEvent(t *testing.T, hc map[string]any, onUnhealthy string) []byte {
	t.Helper()
	ev := map[string]any{"RegionId": region, "Disk": []map[string]string{{"DiskId": runSys, "SnapshotId": runSysSnap}},
		"StopInstance": true, "StartInstance": true, "BackupBeforeReset": true}
	if hc != nil {
		ev["HealthCheck"] = hc
	}
	if onUnhealthy != "" {
		ev["OnUnhealthy"] = onUnhealthy
	}
	return mustJSON(t, ev)
}

// httpTarget serves status on 127.0.0.1 and returns its port.
func httpTarget(t *testing.T, status int) int {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, "body never returned")
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	n, _ := strconv.Atoi(port)
	return n
}

func TestHealthGate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		script    *ecsemu.InstanceScript
		check     func(t *testing.T) map[string]any
		wantType  string // "" for a result
		wantState string // HealthOutcome.Status
	}{
		{"InstanceStatus healthy", nil, func(*testing.T) map[string]any { return map[string]any{"Type": "InstanceStatus"} }, "", function.HealthHealthy},
		{"InstanceStatus impaired", &ecsemu.InstanceScript{Health: []string{"Impaired"}},
			func(*testing.T) map[string]any { return map[string]any{"Type": "InstanceStatus"} }, function.ErrUnhealthy, function.HealthUnhealthy},
		{"Command exit 0", nil, func(*testing.T) map[string]any { return map[string]any{"Type": "Command"} }, "", function.HealthHealthy},
		{"Command exit 3", &ecsemu.InstanceScript{ExitCodes: []int{3}, Outputs: []string{"database not reachable\n"}},
			func(*testing.T) map[string]any { return map[string]any{"Type": "Command"} }, function.ErrUnhealthy, function.HealthUnhealthy},
		{"Command agent missing", &ecsemu.InstanceScript{Agent: ecsemu.AgentMissing},
			func(*testing.T) map[string]any { return map[string]any{"Type": "Command", "TimeoutSeconds": 3} }, function.ErrHealthCheckUnavailable, function.HealthAgentUnavailable},
		{"HTTP 200", nil, func(t *testing.T) map[string]any {
			return map[string]any{"Type": "HTTP", "Port": httpTarget(t, 200), "Path": "/healthz", "ExpectStatus": 200}
		}, "", function.HealthHealthy},
		{"HTTP 503", nil, func(t *testing.T) map[string]any {
			return map[string]any{"Type": "HTTP", "Port": httpTarget(t, 503), "Path": "/healthz", "TimeoutSeconds": 3}
		}, function.ErrUnhealthy, function.HealthUnhealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := healthEnv(t, tt.script, 40*time.Second)
			typ, r := gateAnswer(t, e, e.invoke(t, gatedEvent(t, tt.check(t), ""), fcruntime.InvokeOptions{}))
			if typ != tt.wantType {
				t.Fatalf("errorType %q, want %q; summary %+v; health %+v", typ, tt.wantType, r.Summary, r.Health)
			}
			if len(r.Health) != 1 || r.Health[0].Status != tt.wantState || r.Health[0].InstanceID != runningInst || r.Health[0].Round != 1 {
				t.Fatalf("health %+v, want one round-1 %s of %s", r.Health, tt.wantState, runningInst)
			}
			if got, want := r.Summary.Status, firstNonEmpty(tt.wantType, function.StatusSucceeded); got != want {
				t.Errorf("Summary.Status %q, want %q", got, want)
			}
			if n := e.ecs.ResetCount(runSys); n != 1 {
				t.Errorf("ResetCount %d, want 1 (Report never undoes)", n)
			}
			if st := instanceStatus(t, e, runningInst); st != ecsemu.InstanceRunning {
				t.Errorf("instance %s, want Running", st)
			}
			if !slices.ContainsFunc(r.Steps, func(s function.Step) bool { return s.Name == "HealthCheck" && s.Target == runningInst }) {
				t.Errorf("no HealthCheck step in %+v", r.Steps)
			}
			if tt.name == "Command exit 3" && (r.Health[0].ExitCode == nil || *r.Health[0].ExitCode != 3 || !strings.Contains(r.Health[0].Output, "database not reachable")) {
				t.Errorf("command verdict %+v, want exit code 3 and the output", r.Health[0])
			}
		})
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func TestUndoAfterUnhealthy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		health   []string
		wantType string
		round2   string
	}{
		{"healthy again", []string{"Impaired", "Ok"}, function.ErrUndoneAfterUnhealthy, function.HealthHealthy},
		{"failing again", []string{"Impaired"}, function.ErrUndoFailed, function.HealthUnhealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := healthEnv(t, &ecsemu.InstanceScript{Health: tt.health}, 60*time.Second)
			typ, r := gateAnswer(t, e, e.invoke(t, gatedEvent(t, map[string]any{"Type": "InstanceStatus"}, "Undo"), fcruntime.InvokeOptions{}))
			if typ != tt.wantType || r.Summary.Status != tt.wantType {
				t.Fatalf("errorType %q, Summary.Status %q, want %q; message %s", typ, r.Summary.Status, tt.wantType, r.Summary.Message)
			}
			if len(r.Backups) != 1 {
				t.Fatalf("backups %+v, want one", r.Backups)
			}
			backup := r.Backups[0].SnapshotID
			if r.Undo == nil || r.Undo.Status != "Undone" || len(r.Undo.Snapshots) != 1 || r.Undo.Snapshots[0].SnapshotID != backup {
				t.Errorf("undo %+v, want Undone to %s", r.Undo, backup)
			}
			if got, want := e.ecs.Resets(runSys), []string{runSysSnap, backup}; !slices.Equal(got, want) {
				t.Errorf("resets of %s: %v, want %v (the rollback, then its backup)", runSys, got, want)
			}
			var rounds []string
			for _, h := range r.Health {
				rounds = append(rounds, fmt.Sprintf("%d:%s", h.Round, h.Status))
			}
			if want := []string{"1:" + function.HealthUnhealthy, "2:" + tt.round2}; !slices.Equal(rounds, want) {
				t.Errorf("health rounds %v, want %v", rounds, want)
			}
			if st := instanceStatus(t, e, runningInst); st != ecsemu.InstanceRunning {
				t.Errorf("instance %s, want Running", st)
			}
		})
	}
}

func TestUndoRollbackExplicit(t *testing.T) {
	t.Parallel()
	e := healthEnv(t, nil, 40*time.Second)
	// A rollback with a backup, healthy: the backup is recorded on the disk.
	typ, r := gateAnswer(t, e, e.invoke(t, gatedEvent(t, map[string]any{"Type": "InstanceStatus"}, ""), fcruntime.InvokeOptions{}))
	if typ != "" || len(r.Backups) != 1 {
		t.Fatalf("rollback: errorType %q, backups %+v", typ, r.Backups)
	}
	backup := r.Backups[0].SnapshotID
	undo := func(dry bool) []byte {
		return mustJSON(t, map[string]any{"RegionId": region, "UndoRollback": map[string]string{"InstanceId": runningInst},
			"StopInstance": true, "StartInstance": true, "DryRun": dry})
	}
	steps := []struct {
		name       string
		dry        bool
		wantType   string
		wantStatus string
		wantResets []string
	}{
		{"dry run", true, "", function.StatusDryRunPassed, []string{runSysSnap}},
		{"undo", false, "", function.StatusSucceeded, []string{runSysSnap, backup}},
		{"undo again is refused", false, function.ErrNothingToUndo, function.StatusFailed, []string{runSysSnap, backup}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			typ, r := gateAnswer(t, e, e.invoke(t, undo(s.dry), fcruntime.InvokeOptions{}))
			if typ != s.wantType || r.Summary.Status != s.wantStatus {
				t.Fatalf("errorType %q, Summary.Status %q, want %q/%q; message %s", typ, r.Summary.Status, s.wantType, s.wantStatus, r.Summary.Message)
			}
			if got := e.ecs.Resets(runSys); !slices.Equal(got, s.wantResets) {
				t.Errorf("resets %v, want %v", got, s.wantResets)
			}
			if s.wantType == "" && (r.Plan == nil || len(r.Plan.Pairs) != 1 || r.Plan.Pairs[0].SnapshotID != backup || r.Plan.UndoOf == "") {
				t.Errorf("plan %+v, want %s back to %s", r.Plan, runSys, backup)
			}
			if st := waitInstance(t, e, runningInst, ecsemu.InstanceRunning, 3*time.Second); st != ecsemu.InstanceRunning {
				t.Errorf("instance %s, want Running", st)
			}
		})
	}
}

func TestNoStockOnStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		noStock  int
		wantType string
	}{
		{"then success", 2, ""},
		{"to the end", -1, errInstanceNotRestarted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := healthEnv(t, &ecsemu.InstanceScript{NoStockStarts: tt.noStock}, 12*time.Second)
			typ, r := gateAnswer(t, e, e.invoke(t, gatedEvent(t, nil, ""), fcruntime.InvokeOptions{}))
			if typ != tt.wantType {
				t.Fatalf("errorType %q, want %q; message %s", typ, tt.wantType, r.Summary.Message)
			}
			i := slices.IndexFunc(r.Steps, func(s function.Step) bool { return s.Name == "StartInstanceRetry" })
			if i < 0 {
				t.Fatalf("no StartInstanceRetry step in %+v", r.Steps)
			}
			refused := 0
			for _, q := range e.ecs.Requests() {
				if q.Action == "StartInstance" && q.Code == ecsemu.CodeOperationDeniedNoStock {
					refused++
				}
			}
			want := ecsemu.InstanceRunning
			if tt.noStock < 0 {
				want = ecsemu.InstanceStopped
				if !strings.Contains(r.Summary.Message, ecsemu.CodeOperationDeniedNoStock) || r.Steps[i].Code != ecsemu.CodeOperationDeniedNoStock {
					t.Errorf("the answer does not give the cause: %s; step %+v", r.Summary.Message, r.Steps[i])
				}
				if refused < 3 {
					t.Errorf("%d StartInstance refusals: the start was not retried", refused)
				}
			} else if refused != tt.noStock {
				t.Errorf("%d refusals, want %d", refused, tt.noStock)
			}
			if st := instanceStatus(t, e, runningInst); st != want {
				t.Errorf("instance %s, want %s", st, want)
			}
		})
	}
}

func TestHealthPendingAtDeadline(t *testing.T) {
	t.Parallel()
	e := healthEnv(t, &ecsemu.InstanceScript{Health: []string{"Initializing"}}, 10*time.Second)
	typ, r := gateAnswer(t, e, e.invoke(t, gatedEvent(t, map[string]any{"Type": "InstanceStatus", "TimeoutSeconds": 900}, "Undo"), fcruntime.InvokeOptions{}))
	if typ != function.ErrHealthCheckPending || r.Summary.Status != function.StatusHealthCheckPending {
		t.Fatalf("errorType %q, Summary.Status %q, want HealthCheckPending; message %s", typ, r.Summary.Status, r.Summary.Message)
	}
	if len(r.Health) != 1 || r.Health[0].Status != function.HealthPending {
		t.Errorf("health %+v, want one Pending", r.Health)
	}
	if n := e.ecs.ResetCount(runSys); n != 1 {
		t.Errorf("ResetCount %d, want 1: a pending gate is no reason to undo", n)
	}
}

func TestIdentityChangedIP(t *testing.T) {
	t.Parallel()
	e := healthEnv(t, &ecsemu.InstanceScript{PublicIPsAfterStart: []string{"47.96.0.2"}}, 30*time.Second)
	typ, r := gateAnswer(t, e, e.invoke(t, gatedEvent(t, nil, ""), fcruntime.InvokeOptions{}))
	if typ != "" {
		t.Fatalf("errorType %q: an IP change is a warning, not a failure; message %s", typ, r.Summary.Message)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "public IPs changed from [47.96.0.1] to [47.96.0.2]") {
		t.Errorf("warnings %q, want the public IP change", r.Warnings)
	}
}
