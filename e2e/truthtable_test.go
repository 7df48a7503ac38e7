package e2e

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

var updateTruth = flag.Bool("update-truth", false, "rewrite the truthfulness table in RELIABILITY.md from this run")

// Faults of the truthfulness table, each aimed at the first real (not
// dry-run) call of one phase.
const (
	faultDropBefore = "drop before acting"
	faultDropAfter  = "drop after acting"
	faultActThen500 = "500 after acting"
	faultThrottle   = "throttled"
	faultDeadline   = "deadline during the call"
)

// truthPhase names a phase and the call that carries it.
type truthPhase struct {
	name, action, resourceType string
	afterReset                 bool // only calls after a real ResetDisks was served (the record)
}

var truthPhases = []truthPhase{
	{name: "claim", action: "TagResources", resourceType: "disk"},
	{name: "stop", action: "StopInstance"},
	{name: "backup", action: "CreateSnapshot"},
	{name: "reset", action: "ResetDisks"},
	{name: "start", action: "StartInstance"},
	{name: "record", action: "TagResources", resourceType: "disk", afterReset: true},
}

var truthFaults = []string{faultDropBefore, faultDropAfter, faultActThen500, faultThrottle, faultDeadline}

// faultProxy sits between the function and the ECS emulator and applies
// one fault to the first real call of a phase (every such call, for
// throttling: the adapter retries it). The answer of a 500 is the ECS error
// body; drops close the connection; a deadline holds the call, unanswered
// and not forwarded, until the client gives up.
type faultProxy struct {
	next  http.Handler
	phase truthPhase
	fault string

	mu          sync.Mutex
	fired       int
	resetServed bool
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	params, action := ecsCall(r)
	real := !strings.EqualFold(params.Get("DryRun"), "true")
	p.mu.Lock()
	match := real && action == p.phase.action &&
		(p.phase.resourceType == "" || strings.EqualFold(params.Get("ResourceType"), p.phase.resourceType)) &&
		(!p.phase.afterReset || p.resetServed) &&
		(p.fired == 0 || p.fault == faultThrottle)
	if match {
		p.fired++
	}
	if real && action == "ResetDisks" {
		p.resetServed = true
	}
	p.mu.Unlock()
	if !match {
		p.next.ServeHTTP(w, r)
		return
	}
	switch p.fault {
	case faultDropBefore:
		hangUp(w)
	case faultDropAfter:
		p.next.ServeHTTP(httptest.NewRecorder(), r)
		hangUp(w)
	case faultActThen500:
		p.next.ServeHTTP(httptest.NewRecorder(), r)
		writeECSError(w, http.StatusInternalServerError, "InternalError", "The request processing has failed due to some unknown error.")
	case faultThrottle:
		writeECSError(w, http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control.")
	case faultDeadline:
		<-r.Context().Done()
	}
}

// firedCount is how often the fault fired. A held (deadline) call's
// handler gives the test no happens-before edge, so it is read under mu.
func (p *faultProxy) firedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fired
}

func writeECSError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"RequestId":"TRUTH-%d","HostId":"ecs.aliyuncs.com","Code":%q,"Message":%q}`, time.Now().UnixNano(), code, msg)
}

// truthRow is one cell of the table: the answer and the world after it.
type truthRow struct {
	phase, fault, status, errorType, disks, instance string
}

// TestTruthTable runs a full rollback (stop, backup, reset, wait, start)
// with each fault aimed at each phase, and checks that the answer is the
// truth about the world afterwards:
//   - a disk reported Success was reset, one reported Failed was not, none
//     was reset twice (Unknown may be either);
//   - a result (no FC error) means every disk reset and the instance Running;
//   - an instance not Running at the end is reported: errorType
//     InstanceNotRestarted;
//   - every FC error carries the Result with its plan and steps.
//
// go test ./e2e -run TestTruthTable -update-truth rewrites the table in
// RELIABILITY.md from the run.
func TestTruthTable(t *testing.T) {
	t.Parallel()
	disks := []string{runSys, runData}
	rows := make([]truthRow, 0, len(truthPhases)*len(truthFaults))
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	t.Run("cells", func(t *testing.T) {
		for _, ph := range truthPhases {
			for _, fault := range truthFaults {
				t.Run(ph.name+"/"+fault, func(t *testing.T) {
					t.Parallel()
					sem <- struct{}{}
					defer func() { <-sem }()
					row := runTruthCell(t, ph, fault, disks)
					mu.Lock()
					rows = append(rows, row)
					mu.Unlock()
				})
			}
		}
	})
	if *updateTruth && !t.Failed() {
		writeTruthTable(t, rows)
	}
}

func runTruthCell(t *testing.T, ph truthPhase, fault string, disks []string) truthRow {
	t.Helper()
	proxy := &faultProxy{phase: ph, fault: fault}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	e := newEnv(t, envOptions{timeout: 8 * time.Second, fnEnv: []string{"ECS_ENDPOINT=" + srv.URL}})
	proxy.next = e.ecs.Handler()
	req := function.Request{RegionID: region, Disk: pairs(runSys, runSysSnap, runData, runDataSnap),
		StopInstance: true, StartInstance: true, Wait: true, BackupBeforeReset: true, IdempotencyKey: "truth-" + ph.name}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := e.fc.Invoke(ctx, mustJSON(t, req), fcruntime.InvokeOptions{})
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	typ, r := answerOf(t, e, res)
	if proxy.firedCount() == 0 {
		t.Fatalf("harness: the %s fault never fired on %s (answer %s)", fault, ph.name, describe(typ, r))
	}
	inst, _ := e.ecs.Instance(region, runningInst)
	row := truthRow{phase: ph.name, fault: fault, errorType: typ, instance: inst.Status}
	if r == nil {
		return row
	}
	row.status = r.Summary.Status
	reset := 0
	progress := progressByDisk(r)
	for _, d := range disks {
		n := e.ecs.ResetCount(d)
		if n > 0 {
			reset++
		}
		op, listed := progress[d]
		switch {
		case n > 1:
			t.Errorf("%s reset %d times", d, n)
		case listed && op.OperationStatus == function.OperationStatusSuccess && n == 0:
			t.Errorf("%s reported Success but not reset", d)
		case listed && op.OperationStatus == function.StatusFailed && n != 0:
			t.Errorf("%s reported Failed (%s) but reset", d, op.ErrorCode)
		}
	}
	row.disks = fmt.Sprintf("%d/%d reset", reset, len(disks))
	if typ == "" && (reset != len(disks) || inst.Status != "Running") {
		t.Errorf("a result (%s) with %s and the instance %s", describe(typ, r), row.disks, inst.Status)
	}
	if inst.Status != "Running" && typ != function.ErrInstanceNotRestarted {
		t.Errorf("instance %s left %s, answer %s: want InstanceNotRestarted", runningInst, inst.Status, describe(typ, r))
	}
	if typ != "" && (r.Plan == nil || len(r.Steps) == 0) {
		t.Errorf("FC error %s without plan and steps", typ)
	}
	return row
}

const (
	truthTableStart = "<!-- truth-table:start -->"
	truthTableEnd   = "<!-- truth-table:end -->"
)

// writeTruthTable replaces the table between the markers in RELIABILITY.md.
func writeTruthTable(t *testing.T, rows []truthRow) {
	t.Helper()
	order := map[string]int{}
	for i, p := range truthPhases {
		order[p.name] = i * 10
	}
	for i, f := range truthFaults {
		order[f] = i
	}
	slices.SortFunc(rows, func(a, b truthRow) int {
		return (order[a.phase]*100 + order[a.fault]) - (order[b.phase]*100 + order[b.fault])
	})
	var b strings.Builder
	b.WriteString(truthTableStart + "\n")
	b.WriteString("| phase | fault | Summary.Status | errorType | disks | instance after |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.phase, r.fault, orDash(r.status), orDash(r.errorType), r.disks, r.instance)
	}
	b.WriteString(truthTableEnd)
	path := filepath.Join("..", "RELIABILITY.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, truthTableStart), strings.Index(s, truthTableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s … %s markers", path, truthTableStart, truthTableEnd)
	}
	s = s[:i] + b.String() + s[j+len(truthTableEnd):]
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
