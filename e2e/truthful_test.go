package e2e

// Issue 11: the function's answers must be truthful. Each numbered case of
// the issue is a TestTruth… test through the built binary, written against
// the new contract:
//
//   - an FC error's message is "<Code>: <message>; result: <JSON>", the JSON
//     being the whole function.Result (RequestId, OperationProgressSet,
//     Summary, Plan, Steps, …);
//   - Summary gains Unknown (json "Unknown"); a disk whose outcome is unknown
//     is OperationStatus "Unknown", ErrorCode "OutcomeUnknown"; never
//     "Success" without evidence;
//   - new errorTypes / Summary.Status values: PlanRefused, OutcomeUnknown,
//     InstanceNotRestarted, BatchIncomplete, RollbackInProgress,
//     GuardRecordLost, ClaimTimedOut (string literals here: the function
//     package defines them later).
//
// Every test asserts the answer and the world afterwards (ResetCount, disk
// and instance status in the ECS emulator). Each one says in a comment what
// today's main does wrong. Case 5 (5xx after acting) is not here: it needs
// an emulator fault that is being built elsewhere.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// Error types and statuses of the new contract.
const (
	errPlanRefused          = "PlanRefused"
	errOutcomeUnknown       = "OutcomeUnknown"
	errInstanceNotRestarted = "InstanceNotRestarted"
	errBatchIncomplete      = "BatchIncomplete"
	errGuardRecordLost      = "GuardRecordLost"
	errClaimTimedOut        = "ClaimTimedOut"
	opUnknown               = "Unknown" // OperationStatus of a disk whose outcome is unknown
)

// The default fleet's Running instance and its disks.
const (
	runningInst = "i-bp1running0000000000"
	runSys      = "d-bp1runningsys0000000"
	runSysSnap  = "s-bp1runningsys0000000"
	runData     = "d-bp1runningdata000000"
	runDataSnap = "s-bp1runningdata000000"
)

// truthSummary is function.Summary with the new Unknown count.
type truthSummary struct {
	Status    string `json:"Status"`
	Total     int    `json:"Total"`
	Succeeded int    `json:"Succeeded"`
	Failed    int    `json:"Failed"`
	Unknown   int    `json:"Unknown"`
	DryRun    bool   `json:"DryRun"`
	Message   string `json:"Message"`
}

// truthResult is function.Result as the new contract has it.
type truthResult struct {
	RequestID            string                        `json:"RequestId"`
	OperationProgressSet function.OperationProgressSet `json:"OperationProgressSet"`
	Summary              truthSummary                  `json:"Summary"`
	Plan                 *function.Plan                `json:"Plan"`
	Steps                []function.Step               `json:"Steps"`
	Disks                []function.DiskOutcome        `json:"Disks"`
}

const resultMarker = "; result: "

// fcErrorResult decodes the Result an FC error carries: its message must be
// "<Code>: <message>; result: <JSON>" with Code = errorType and the JSON the
// whole Result, ending the message.
func fcErrorResult(fe *fcruntime.FunctionError) (*truthResult, error) {
	msg := fe.Message
	if !strings.HasPrefix(msg, fe.Type+": ") {
		return nil, fmt.Errorf("message %.200q does not start with %q", msg, fe.Type+": ")
	}
	for from := 0; ; {
		i := strings.Index(msg[from:], resultMarker)
		if i < 0 {
			return nil, fmt.Errorf("no %q JSON ends the message %.300q", resultMarker, msg)
		}
		from += i + len(resultMarker)
		var r truthResult
		if err := json.Unmarshal([]byte(msg[from:]), &r); err == nil {
			return &r, nil
		}
	}
}

// answerOf returns an invocation's errorType ("" for a result) and its
// Result, from the payload or from the FC error message (nil, with a test
// error, when the error carries none).
func answerOf(t *testing.T, e *env, res *fcruntime.Result) (string, *truthResult) {
	t.Helper()
	if res.TimedOut {
		t.Fatalf("the invocation timed out (%+v): the function must answer before its deadline\nlogs:\n%s", res.Error, e.logs.String())
	}
	if res.Error != nil {
		r, err := fcErrorResult(res.Error)
		if err != nil {
			t.Errorf("FC error %s carries no Result: %v", res.Error.Type, err)
		}
		return res.Error.Type, r
	}
	var r truthResult
	if err := json.Unmarshal(res.Payload, &r); err != nil {
		t.Fatalf("result %s: %v", res.Payload, err)
	}
	return "", &r
}

// describe is a one-line account of an answer, for failure messages.
func describe(typ string, r *truthResult) string {
	var b strings.Builder
	if typ != "" {
		fmt.Fprintf(&b, "FC error %s; ", typ)
	} else {
		b.WriteString("result; ")
	}
	if r == nil {
		b.WriteString("no Result")
		return b.String()
	}
	fmt.Fprintf(&b, "summary %+v; progress [", r.Summary)
	for i, p := range r.OperationProgressSet.OperationProgress {
		if i == 6 {
			fmt.Fprintf(&b, " … %d more", len(r.OperationProgressSet.OperationProgress)-i)
			break
		}
		fmt.Fprintf(&b, " %s=%s/%s", p.Item("DiskId"), p.OperationStatus, p.ErrorCode)
	}
	b.WriteString(" ]")
	return b.String()
}

func progressByDisk(r *truthResult) map[string]function.OperationProgress {
	m := map[string]function.OperationProgress{}
	if r == nil {
		return m
	}
	for _, p := range r.OperationProgressSet.OperationProgress {
		m[p.Item("DiskId")] = p
	}
	return m
}

// checkTruthful holds an answer about disks against the emulator's record:
// a disk reported Success was reset; a disk not reset is reported Unknown /
// OutcomeUnknown (in these tests nothing refused it, so nothing shows it was
// not reset); a disk reset is not reported Failed; no disk is reset twice;
// the Summary counts what the progress lists; a result with an Unknown disk
// is neither Succeeded nor Duplicate.
func checkTruthful(t *testing.T, e *env, typ string, r *truthResult, disks []string, when string) {
	t.Helper()
	if r == nil {
		t.Errorf("%s: no Result to check", when)
		return
	}
	prog := progressByDisk(r)
	var succ, unk int
	for _, p := range r.OperationProgressSet.OperationProgress {
		switch p.OperationStatus {
		case function.OperationStatusSuccess:
			succ++
		case opUnknown:
			unk++
		}
	}
	if r.Summary.Total != len(disks) || r.Summary.Succeeded != succ || r.Summary.Unknown != unk {
		t.Errorf("%s: summary Total/Succeeded/Unknown = %d/%d/%d, want %d/%d/%d (counted from the progress)",
			when, r.Summary.Total, r.Summary.Succeeded, r.Summary.Unknown, len(disks), succ, unk)
	}
	if unk > 0 && (r.Summary.Status == function.StatusSucceeded || r.Summary.Status == function.StatusDuplicate) {
		t.Errorf("%s: Summary.Status = %q with %d disks Unknown", when, r.Summary.Status, unk)
	}
	var problems []string
	for _, d := range disks {
		n := e.ecs.ResetCount(d)
		p, ok := prog[d]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s (ResetCount %d) not reported", d, n))
		case n > 1:
			problems = append(problems, fmt.Sprintf("%s reset %d times", d, n))
		case n == 0 && p.OperationStatus == function.OperationStatusSuccess:
			problems = append(problems, fmt.Sprintf("%s reported Success but ResetCount 0", d))
		case n == 0 && (p.OperationStatus != opUnknown || p.ErrorCode != errOutcomeUnknown):
			problems = append(problems, fmt.Sprintf("%s (ResetCount 0, nothing refused it) reported %s/%s, want Unknown/OutcomeUnknown", d, p.OperationStatus, p.ErrorCode))
		case n == 1 && p.OperationStatus != function.OperationStatusSuccess && p.OperationStatus != opUnknown:
			problems = append(problems, fmt.Sprintf("%s was reset but reported %s/%s", d, p.OperationStatus, p.ErrorCode))
		}
	}
	if len(problems) > 0 {
		shown := problems[:min(len(problems), 5)]
		t.Errorf("%s: %d of %d disks misreported: %s%s\nanswer: %s", when, len(problems), len(disks), strings.Join(shown, "; "),
			map[bool]string{true: "; …", false: ""}[len(problems) > 5], describe(typ, r))
	}
}

// realCalls counts the calls of action that were not dry runs.
func realCalls(e *env, action string) int {
	n := 0
	for _, r := range e.ecs.Requests() {
		if r.Action == action && !strings.EqualFold(r.Params["DryRun"], "true") {
			n++
		}
	}
	return n
}

func instanceStatus(t *testing.T, e *env, id string) string {
	t.Helper()
	in, ok := e.ecs.Instance(region, id)
	if !ok {
		t.Fatalf("instance %s not in the emulator", id)
	}
	return in.Status
}

// waitInstance polls the emulator until the instance has status want or
// the time is up, and returns the last status seen.
func waitInstance(t *testing.T, e *env, id, want string, within time.Duration) string {
	t.Helper()
	end := time.Now().Add(within)
	for {
		st := instanceStatus(t, e, id)
		if st == want || time.Now().After(end) {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gate sits between the function and the ECS emulator (ECS_ENDPOINT points
// at it) and injects faults the emulator's own rules cannot aim:
//   - at the real (DryRun not true) ResetDisks calls only, so a dry-run
//     pre-check the fixed function may make does not absorb them;
//   - at every TagResources after a real ResetDisks was served (the guard
//     record written after the reset), however many tag writes come before.
//
// Its drops are the emulator's: the connection is closed without an answer,
// before (drop-before) or after (drop-after) the emulator acted.
type gate struct {
	mu             sync.Mutex
	next           http.Handler
	resetKinds     []ecsemu.FaultKind // for the successive real ResetDisks calls; then pass
	realResets     int                // real ResetDisks calls seen
	dropTagsAfter  bool               // drop TagResources once a real ResetDisks was served
	resetServed    bool
	droppedResets  int
	droppedTagging int
}

// newGatedEnv starts an env whose function reaches the emulator through g.
func newGatedEnv(t *testing.T, o envOptions, g *gate) *env {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	o.fnEnv = append(o.fnEnv, "ECS_ENDPOINT="+srv.URL) // the last ECS_ENDPOINT wins
	e := newEnv(t, o)
	g.mu.Lock()
	g.next = e.ecs.Handler()
	g.mu.Unlock()
	return e
}

func (g *gate) setDropTagsAfterReset(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.dropTagsAfter = on
}

func (g *gate) counts() (realResets, droppedResets, droppedTagging int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.realResets, g.droppedResets, g.droppedTagging
}

// ecsCall reads an ECS request's parameters (query, then form body; the
// body is put back for the emulator) and its action (an ACS3 request names
// it in a header).
func ecsCall(r *http.Request) (params url.Values, action string) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	params = r.URL.Query()
	if form, err := url.ParseQuery(string(body)); err == nil {
		for k, v := range form {
			if params.Get(k) == "" {
				params[k] = v
			}
		}
	}
	action = params.Get("Action")
	if a := r.Header.Get("x-acs-action"); a != "" {
		action = a
	}
	return params, action
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	params, action := ecsCall(r)
	kind := ecsemu.FaultPass
	g.mu.Lock()
	next := g.next
	switch {
	case action == "ResetDisks" && !strings.EqualFold(params.Get("DryRun"), "true"):
		if g.realResets < len(g.resetKinds) {
			kind = g.resetKinds[g.realResets]
		}
		g.realResets++
		if kind == ecsemu.FaultDropBefore || kind == ecsemu.FaultDropAfter {
			g.droppedResets++
		}
		if kind != ecsemu.FaultDropBefore {
			g.resetServed = true
		}
	case action == "TagResources" && g.dropTagsAfter && g.resetServed:
		kind = ecsemu.FaultDropBefore
		g.droppedTagging++
	}
	g.mu.Unlock()
	switch kind {
	case ecsemu.FaultDropBefore:
		hangUp(w)
	case ecsemu.FaultDropAfter:
		next.ServeHTTP(httptest.NewRecorder(), r) // the emulator acts; the answer is lost
		hangUp(w)
	default:
		next.ServeHTTP(w, r)
	}
}

func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Case 1. Today's main decodes the event with encoding/json into a map, so a
// key given twice silently keeps its last value and "DryRun":null is false:
// each of these events runs as a REAL reset (ResetCount 1, ECS called)
// instead of being refused.
func TestTruthAmbiguousKeysRefused(t *testing.T) {
	t.Parallel()
	disk := func(inner string) string { return `"Disk":[{` + inner + `}]` }
	good := `"DiskId":"` + sysDisk + `","SnapshotId":"` + sysSnap + `"`
	tests := []struct {
		name, body, field, rule string
	}{
		{"DryRun twice", `{"RegionId":"cn-hangzhou","DryRun":true,"DryRun":false,` + disk(good) + `}`, "DryRun", "duplicate"},
		{"DryRun null", `{"RegionId":"cn-hangzhou","DryRun":null,` + disk(good) + `}`, "DryRun", "null"},
		{"DiskId twice in a Disk element", `{"RegionId":"cn-hangzhou","DryRun":false,` + disk(`"DiskId":"`+dataDisk+`",`+good) + `}`, "Disk[0].DiskId", "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			res := e.invoke(t, []byte(tt.body), fcruntime.InvokeOptions{})
			switch {
			case res.Error == nil:
				t.Errorf("direct invocation answered %s, want errorType ValidationFailed naming %s", res.Payload, tt.field)
			case res.Error.Type != function.ErrValidationFailed || !strings.Contains(res.Error.Message, tt.field):
				t.Errorf("direct invocation: got %s %q, want ValidationFailed naming %s", res.Error.Type, res.Error.Message, tt.field)
			}
			// The same body through the HTTP trigger shows the violations.
			a := e.http(t, httpEvent(t, "POST", "application/json", tt.body, nil))
			found := slices.ContainsFunc(a.body.Violations, func(v function.Violation) bool { return v.Field == tt.field && v.Rule == tt.rule })
			if a.resp.StatusCode != http.StatusBadRequest || a.body.Code != function.ErrValidationFailed || !found {
				t.Errorf("HTTP trigger: got %d %q violations %+v, want 400 ValidationFailed with {Field %s, Rule %s}",
					a.resp.StatusCode, a.body.Code, a.body.Violations, tt.field, tt.rule)
			}
			for _, d := range []string{sysDisk, dataDisk} {
				if got := e.ecs.ResetCount(d); got != 0 {
					t.Errorf("ResetCount(%s) = %d, want 0", d, got)
				}
			}
			if got := len(e.ecs.Requests()); got != 0 {
				t.Errorf("ECS saw %d requests, want 0", got)
			}
		})
	}
}

// Case 2. Today's main sends the pairs to ResetDisks as they are: ECS resets
// the good disks and fails the bad one, and the answer is a PartiallyFailed
// result (good disks ResetCount 1); with StopInstance it stops the instance
// first, resets the good disks and starts it again. The plain dry run
// answers the bad pair's ECS code as errorType, without a Result; the dry
// run with StopInstance answers DryRunPassed, because ECS's dry run stops at
// the Running instance's IncorrectInstanceStatus (taken as "expected") and
// never checks the bad pair.
func TestTruthImpossiblePairRefusesThePlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		bad      function.DiskPair
		wantCode string
	}{
		{"missing disk", function.DiskPair{DiskID: "d-bp1doesnotexist00000", SnapshotID: untaggedSnap}, "InvalidDiskId.NotFound"},
		{"disk of another region", function.DiskPair{DiskID: "d-sh1stoppedsys0000000", SnapshotID: "s-sh1stoppedsys0000000"}, "InvalidDiskId.NotFound"},
		{"snapshot of another disk", function.DiskPair{DiskID: untagged, SnapshotID: runSysSnap}, "InvalidParameter.Mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			variants := []struct {
				name string
				req  function.Request
				good []string
			}{
				{"plain", function.Request{RegionID: region, Disk: append(pairs(sysDisk, sysSnap, dataDisk, dataSnap), tt.bad)}, []string{sysDisk, dataDisk}},
				{"with StopInstance", function.Request{RegionID: region, StopInstance: true, StartInstance: true,
					Disk: append(pairs(runSys, runSysSnap, runData, runDataSnap), tt.bad)}, []string{runSys, runData}},
			}
			for _, v := range variants {
				for _, dry := range []bool{false, true} {
					name := v.name
					if dry {
						name += " dry run"
					}
					t.Run(name, func(t *testing.T) {
						e := newEnv(t, envOptions{})
						req := v.req
						req.DryRun = dry
						res := e.invoke(t, mustJSON(t, req), fcruntime.InvokeOptions{})
						typ, r := answerOf(t, e, res)
						refused := typ == errPlanRefused || (dry && typ == "" && r != nil && r.Summary.Status == errPlanRefused)
						if !refused {
							t.Errorf("got %s, want FC error PlanRefused", describe(typ, r))
						}
						if r != nil {
							if r.Summary.Status == function.StatusDryRunPassed || (!dry && r.Summary.Succeeded != 0) {
								t.Errorf("summary %+v, want Succeeded 0 and not DryRunPassed", r.Summary)
							}
							if typ != "" && r.Plan == nil {
								t.Errorf("FC error %s carries no Plan", typ)
							}
							if p, ok := progressByDisk(r)[tt.bad.DiskID]; !ok || p.ErrorCode != tt.wantCode {
								t.Errorf("progress of the bad pair %s = %+v (reported %v), want ErrorCode %s", tt.bad.DiskID, p, ok, tt.wantCode)
							}
						}
						for _, d := range append(slices.Clone(v.good), tt.bad.DiskID) {
							if got := e.ecs.ResetCount(d); got != 0 {
								t.Errorf("ResetCount(%s) = %d, want 0", d, got)
							}
						}
						if v.req.StopInstance {
							if got := realCalls(e, "StopInstance"); got != 0 {
								t.Errorf("%d StopInstance calls (not dry runs), want 0", got)
							}
							if got := instanceStatus(t, e, runningInst); got != "Running" {
								t.Errorf("instance %s is %s, want still Running", runningInst, got)
							}
						}
					})
				}
			}
		})
	}
}

// Case 3, two disks. The first real ResetDisks call is dropped before ECS
// acts. Today's main reports both disks Failed/OutcomeUnknown (not Unknown,
// and Summary has no Unknown count), then records them as reset in the guard
// tags, so the FC retry (same request id) answers Duplicate with both disks
// Success although ResetCount is 0.
func TestTruthUnansweredResetAndFCRetry(t *testing.T) {
	t.Parallel()
	g := &gate{resetKinds: []ecsemu.FaultKind{ecsemu.FaultDropBefore}}
	e := newGatedEnv(t, envOptions{}, g)
	disks := []string{sysDisk, dataDisk}
	event := sample(t, "direct-reset.json")

	first := e.invoke(t, event, fcruntime.InvokeOptions{RequestID: "truth-unanswered-1"})
	typ, r := answerOf(t, e, first)
	if typ != "" && typ != errOutcomeUnknown {
		t.Errorf("first answer: errorType %q, want OutcomeUnknown or a result (%s)", typ, describe(typ, r))
	}
	if r != nil && r.Summary.Status == function.StatusSucceeded {
		t.Errorf("first answer Succeeded, but the reset call was never answered: %s", describe(typ, r))
	}
	checkTruthful(t, e, typ, r, disks, "first answer")
	if real, dropped, _ := g.counts(); real < 1 || dropped != 1 {
		t.Fatalf("harness: %d real ResetDisks calls, %d dropped; want the first one dropped", real, dropped)
	}

	time.Sleep(300 * time.Millisecond)
	again := e.invoke(t, event, fcruntime.InvokeOptions{RequestID: "truth-unanswered-1", RetryCount: 1})
	typ, r = answerOf(t, e, again)
	if typ != "" && typ != errOutcomeUnknown {
		t.Errorf("FC retry: errorType %q, want OutcomeUnknown or a result (%s)", typ, describe(typ, r))
	}
	checkTruthful(t, e, typ, r, disks, "FC retry")
}

// hundredDisks is the default fleet plus a Stopped instance with 100 data
// disks, each with one accomplished snapshot.
func hundredDisks() (*ecsemu.Fixture, []function.DiskPair) {
	f := ecsemu.DefaultFixture()
	const inst = "i-bp1hundred0000000000"
	f.Instances = append(f.Instances, ecsemu.Instance{InstanceID: inst, RegionID: region, ZoneID: "cn-hangzhou-i", Status: "Stopped", StoppedMode: "KeepCharging"})
	var ps []function.DiskPair
	created := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	for i := range 100 {
		d, s := fmt.Sprintf("d-bp1hundred%010d", i), fmt.Sprintf("s-bp1hundred%010d", i)
		f.Disks = append(f.Disks, ecsemu.Disk{DiskID: d, RegionID: region, InstanceID: inst, Category: "cloud_essd", Type: "data", Status: "In_use", Size: 20})
		f.Snapshots = append(f.Snapshots, ecsemu.Snapshot{SnapshotID: s, RegionID: region, SourceDiskID: d, SourceDiskType: "data", Status: "accomplished", CreationTime: created})
		ps = append(ps, function.DiskPair{DiskID: d, SnapshotID: s})
	}
	return f, ps
}

// Case 3, 100 disks: all 10 ResetDisks batch calls dropped, alternately
// before ECS acts (50 disks not reset) and after (50 reset, seen ReIniting).
// Today's main reports the first 50 Failed/OutcomeUnknown (not Unknown) and
// the FC retry answers all 100 as reset (Duplicate), 50 of them with
// ResetCount 0: its Summary does not match ResetCount.
func TestTruthHundredDisksUnansweredBatches(t *testing.T) {
	t.Parallel()
	fx, ps := hundredDisks()
	o := fastECS()
	o.ResetDuration = time.Second // a disk reset by a dropped-after call is still ReIniting when read back
	o.Fixture = fx
	var kinds []ecsemu.FaultKind
	for range 5 {
		kinds = append(kinds, ecsemu.FaultDropBefore, ecsemu.FaultDropAfter)
	}
	g := &gate{resetKinds: kinds}
	e := newGatedEnv(t, envOptions{ecs: o, race: true}, g) // ten batches at once in one process
	disks := make([]string, len(ps))
	for i, p := range ps {
		disks[i] = p.DiskID
	}
	event := mustJSON(t, function.Request{RegionID: region, Disk: ps})

	first := e.invoke(t, event, fcruntime.InvokeOptions{RequestID: "truth-hundred-1"})
	typ, r := answerOf(t, e, first)
	if typ != "" && typ != errOutcomeUnknown {
		t.Errorf("first answer: errorType %q, want OutcomeUnknown or a result (%s)", typ, describe(typ, r))
	}
	checkTruthful(t, e, typ, r, disks, "first answer")
	if real, dropped, _ := g.counts(); real != 10 || dropped != 10 {
		t.Fatalf("harness: %d real ResetDisks calls, %d dropped; want 10 and 10", real, dropped)
	}

	time.Sleep(1200 * time.Millisecond) // every disk is back from ReIniting
	again := e.invoke(t, event, fcruntime.InvokeOptions{RequestID: "truth-hundred-1", RetryCount: 1})
	typ, r = answerOf(t, e, again)
	if typ != "" && typ != errOutcomeUnknown {
		t.Errorf("FC retry: errorType %q, want OutcomeUnknown or a result (%s)", typ, describe(typ, r))
	}
	checkTruthful(t, e, typ, r, disks, "FC retry")
	reset := 0
	for _, d := range disks {
		if e.ecs.ResetCount(d) > 0 {
			reset++
		}
	}
	if r != nil && r.Summary.Succeeded > reset {
		t.Errorf("FC retry counts %d disks reset; ResetCount shows %d", r.Summary.Succeeded, reset)
	}
}

// Case 4, the deadline while the instance is stopping. Today's main answers
// DeadlineExceeded (not InstanceNotRestarted), its FC error carries only
// Summary and OperationProgressSet (no Plan, no Steps), and it leaves the
// instance Stopped; the FC retry finds it Stopping, waits, resets and answers
// Succeeded without starting it (only instances it stopped itself are
// started), so the instance stays Stopped.
func TestTruthDeadlineWhileStopping(t *testing.T) {
	t.Parallel()
	o := fastECS()
	o.StopDuration = 4 * time.Second
	e := newEnv(t, envOptions{ecs: o})
	event := mustJSON(t, function.Request{RegionID: region, Disk: pairs(runSys, runSysSnap, runData, runDataSnap),
		StopInstance: true, StartInstance: true, Wait: true})
	const id = "truth-stop-deadline-1"

	first := e.invoke(t, event, fcruntime.InvokeOptions{RequestID: id, Timeout: 2 * time.Second})
	typ, r := answerOf(t, e, first)
	if st := instanceStatus(t, e, runningInst); st != "Running" && typ != errInstanceNotRestarted {
		t.Errorf("first answer: %s with the instance %s; want the instance Running again or errorType InstanceNotRestarted", describe(typ, r), st)
	}
	if typ == "" {
		t.Errorf("first answer is a result (%s): the deadline came before the rollback was done", describe(typ, r))
	} else if r == nil || r.Plan == nil || len(r.Steps) == 0 {
		t.Errorf("FC error %s lacks Plan or Steps: %+v", typ, r)
	} else if !slices.ContainsFunc(r.Steps, func(s function.Step) bool { return s.Name == "StopInstance" && s.Target == runningInst }) {
		t.Errorf("Steps %+v do not show the StopInstance of %s", r.Steps, runningInst)
	}
	for _, d := range []string{runSys, runData} {
		if got := e.ecs.ResetCount(d); got != 0 {
			t.Errorf("after the first answer ResetCount(%s) = %d, want 0 (the instance never reached Stopped)", d, got)
		}
	}

	again := e.invoke(t, event, fcruntime.InvokeOptions{RequestID: id, RetryCount: 1, Timeout: 20 * time.Second})
	typ, r = answerOf(t, e, again)
	atAnswer := instanceStatus(t, e, runningInst)
	if typ == "" && atAnswer != "Running" && atAnswer != "Starting" {
		t.Errorf("FC retry answered %s with the instance %s", describe(typ, r), atAnswer)
	}
	if st := waitInstance(t, e, runningInst, "Running", 3*time.Second); st != "Running" {
		t.Errorf("after the FC retry (%s) the instance is %s, want Running", describe(typ, r), st)
	}
	for _, d := range []string{runSys, runData} {
		if got := e.ecs.ResetCount(d); got > 1 || (typ == "" && got != 1) {
			t.Errorf("after the FC retry (%s) ResetCount(%s) = %d, want 1", describe(typ, r), d, got)
		}
	}
}

// Case 4, StartInstance refused. Today's main records the failed
// StartInstance in a step and the Summary message but answers a Succeeded
// result: the caller is told all went well while the instance stays Stopped.
func TestTruthStartInstanceRefused(t *testing.T) {
	t.Parallel()
	o := fastECS()
	o.Faults = []ecsemu.FaultRule{{Action: "StartInstance", Kind: ecsemu.FaultUnavailable}}
	// The function retries StartInstance until its start reserve runs out:
	// the whole timeout, so a short one.
	e := newEnv(t, envOptions{ecs: o, timeout: 8 * time.Second})
	res := e.invoke(t, mustJSON(t, function.Request{RegionID: region, Disk: pairs(runSys, runSysSnap, runData, runDataSnap),
		StopInstance: true, StartInstance: true}), fcruntime.InvokeOptions{})
	typ, r := answerOf(t, e, res)
	if typ != errInstanceNotRestarted {
		t.Errorf("got %s, want FC error InstanceNotRestarted", describe(typ, r))
	}
	if r != nil {
		if r.Summary.Status != errInstanceNotRestarted {
			t.Errorf("Summary.Status = %q, want InstanceNotRestarted", r.Summary.Status)
		}
		if typ != "" && (r.Plan == nil || len(r.Steps) == 0) {
			t.Errorf("FC error lacks Plan or Steps: plan %+v, %d steps", r.Plan, len(r.Steps))
		}
		checkTruthful(t, e, typ, r, []string{runSys, runData}, "answer")
	}
	for _, d := range []string{runSys, runData} {
		if got := e.ecs.ResetCount(d); got != 1 {
			t.Errorf("ResetCount(%s) = %d, want 1", d, got)
		}
	}
	if got := realCalls(e, "StartInstance"); got == 0 {
		t.Errorf("harness: no StartInstance call was made")
	}
	if st := instanceStatus(t, e, runningInst); st != "Stopped" {
		t.Errorf("instance %s, want Stopped (every StartInstance answered 503)", st)
	}
}

// cloudEvent is an EventBridge event carrying a rollback request.
func cloudEvent(id string, data any) map[string]any {
	return map[string]any{"id": id, "source": "ops.rollback", "specversion": "1.0", "type": "ecsrollback:Rollback:Requested",
		"time": "2026-11-26T10:04:41+08:00", "datacontenttype": "application/json;charset=utf-8", "data": data,
		"aliyunaccountid": "1234567890123456", "aliyuneventbusname": "default", "aliyunregionid": region}
}

// Case 6. Item A resets the faulty instance's untagged disk; item B rolls
// back to an instance snapshot, and only B calls DescribeSnapshotGroups,
// which is throttled until the faults are cleared. Today's main answers the
// batch as a success (an array with B's error inside), so FC never retries
// it and B is lost.
func TestTruthBatchWithATransientFailure(t *testing.T) {
	t.Parallel()
	o := fastECS()
	o.Faults = []ecsemu.FaultRule{{Action: "DescribeSnapshotGroups", Kind: ecsemu.FaultThrottle}}
	e := newEnv(t, envOptions{ecs: o})
	const idA, idB = "truth-batch-item-a-0001", "truth-batch-item-b-0002"
	batch := mustJSON(t, []any{
		cloudEvent(idA, function.Request{RegionID: region, Disk: pairs(untagged, untaggedSnap)}),
		cloudEvent(idB, function.Request{RegionID: region, SnapshotGroupID: "ssg-bp1stopped0000000000"}),
	})
	const fcID = "truth-batch-1"
	first := e.invoke(t, batch, fcruntime.InvokeOptions{RequestID: fcID})
	switch {
	case first.Error == nil:
		t.Errorf("the batch answered %s, want FC error BatchIncomplete (item %s failed)", first.Payload, idB)
	case first.Error.Type != errBatchIncomplete || !strings.Contains(first.Error.Message, idB):
		t.Errorf("got %s %.300q, want BatchIncomplete naming %s", first.Error.Type, first.Error.Message, idB)
	}
	if got := e.ecs.ResetCount(untagged); got != 1 {
		t.Errorf("after the first answer ResetCount(%s) = %d, want 1", untagged, got)
	}
	for _, d := range []string{sysDisk, dataDisk} {
		if got := e.ecs.ResetCount(d); got != 0 {
			t.Errorf("after the first answer ResetCount(%s) = %d, want 0 (item B was throttled)", d, got)
		}
	}

	e.ecs.ClearFaults()
	time.Sleep(300 * time.Millisecond)
	again := e.invoke(t, batch, fcruntime.InvokeOptions{RequestID: fcID, RetryCount: 1})
	if again.Error != nil {
		t.Fatalf("FC retry: %s %.300q", again.Error.Type, again.Error.Message)
	}
	var out []function.BatchOutcome
	if err := json.Unmarshal(again.Payload, &out); err != nil || len(out) != 2 {
		t.Fatalf("FC retry answered %s (%v), want two outcomes", again.Payload, err)
	}
	if out[0].Result == nil || out[0].Result.Summary.Status != function.StatusDuplicate {
		t.Errorf("FC retry, item A: %+v, want Duplicate", out[0])
	}
	if out[1].Result == nil || out[1].Result.Summary.Status != function.StatusSucceeded {
		t.Errorf("FC retry, item B: %+v (error %+v), want Succeeded", out[1].Result, out[1].Error)
	}
	for _, d := range []string{untagged, sysDisk, dataDisk} {
		if got := e.ecs.ResetCount(d); got != 1 {
			t.Errorf("after the FC retry ResetCount(%s) = %d, want 1", d, got)
		}
	}
}

// Case 7. A direct request whose IdempotencyKey is "eb:<id>" (the key the
// function derives for EventBridge event <id>) resets the disks; then the
// EventBridge event <id> itself arrives. Today's main shares one key space
// across sources, so the event is answered Duplicate and resets nothing.
func TestTruthCallerKeyDoesNotShadowEventBridge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	var ev map[string]any
	if err := json.Unmarshal(sample(t, "eventbridge-request.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["data"].(map[string]any)["DryRun"] = false
	evID := ev["id"].(string)

	var direct function.Result
	e.ok(t, mustJSON(t, function.Request{RegionID: region, Disk: pairs(sysDisk, sysSnap, dataDisk, dataSnap), IdempotencyKey: "eb:" + evID}), &direct)
	if direct.Summary.Status != function.StatusSucceeded {
		t.Fatalf("direct request: summary %+v, want Succeeded", direct.Summary)
	}
	time.Sleep(300 * time.Millisecond) // back from ReIniting

	res := e.invoke(t, mustJSON(t, ev), fcruntime.InvokeOptions{})
	typ, r := answerOf(t, e, res)
	if typ != "" || r == nil || r.Summary.Status != function.StatusSucceeded {
		t.Errorf("EventBridge event %s: %s, want a Succeeded result (not Duplicate): a caller's key must not stand for another source's", evID, describe(typ, r))
	}
	for _, d := range []string{sysDisk, dataDisk} {
		if got := e.ecs.ResetCount(d); got != 2 {
			t.Errorf("ResetCount(%s) = %d, want 2 (the direct request and the event)", d, got)
		}
	}
}

// Case 8a. Every TagResources after the reset is dropped, so the guard
// record of the finished rollback ("done") never lands and the claim stays
// pending. Today's main answers the first request Succeeded and tells the
// next request (another key) CooldownActive, "another request is rolling
// back these disks right now", although nothing is running.
func TestTruthGuardRecordLost(t *testing.T) {
	t.Parallel()
	g := &gate{}
	// A short function timeout: a claim counts as live until its
	// invocation's deadline (it may still be running), lost after it.
	const timeout = 3 * time.Second
	e := newGatedEnv(t, envOptions{timeout: timeout}, g)
	g.setDropTagsAfterReset(true)
	started := time.Now()
	res := e.invoke(t, mustJSON(t, function.Request{RegionID: region, Disk: pairs(sysDisk, sysSnap), IdempotencyKey: "truth-guard-1"}), fcruntime.InvokeOptions{})
	typ, r := answerOf(t, e, res)
	if typ != "" && typ != errGuardRecordLost {
		t.Errorf("first request: %s, want a result or errorType GuardRecordLost", describe(typ, r))
	}
	if _, _, dropped := g.counts(); dropped == 0 {
		t.Fatalf("harness: no TagResources after the reset was dropped (first answer %s)", describe(typ, r))
	}
	if got := e.ecs.ResetCount(sysDisk); got != 1 {
		t.Errorf("after the first request ResetCount = %d, want 1", got)
	}
	g.setDropTagsAfterReset(false)
	// Past the first invocation's deadline (claims keep whole seconds).
	time.Sleep(time.Until(started.Add(timeout + 1100*time.Millisecond)))

	res = e.invoke(t, mustJSON(t, function.Request{RegionID: region, Disk: pairs(sysDisk, sysSnap), IdempotencyKey: "truth-guard-2"}), fcruntime.InvokeOptions{})
	switch {
	case res.Error == nil:
		t.Errorf("second request answered %s, want errorType GuardRecordLost", res.Payload)
	case res.Error.Type != errGuardRecordLost || strings.Contains(res.Error.Message, "rolling back these disks right now"):
		t.Errorf("second request: got %s %.300q, want GuardRecordLost (nothing is rolling the disk back)", res.Error.Type, res.Error.Message)
	}
	if got := e.ecs.ResetCount(sysDisk); got != 1 {
		t.Errorf("after the refused second request ResetCount = %d, want 1", got)
	}
}

// Case 8b. The claim's TagResources is slower than the claim settle delay.
// Today's main refuses with CooldownActive, which tells the caller a disk was
// reset recently or is being rolled back: neither is true.
func TestTruthSlowClaimTimesOut(t *testing.T) {
	t.Parallel()
	o := fastECS()
	o.Faults = []ecsemu.FaultRule{{Action: "TagResources", Kind: ecsemu.FaultLatency, Latency: 500 * time.Millisecond, Count: 1}}
	e := newEnv(t, envOptions{ecs: o, fnEnv: []string{"CLAIM_SETTLE=200ms"}})
	event := mustJSON(t, function.Request{RegionID: region, Disk: pairs(sysDisk, sysSnap), IdempotencyKey: "truth-slow-claim-1"})
	res := e.invoke(t, event, fcruntime.InvokeOptions{})
	switch {
	case res.Error == nil:
		t.Errorf("answered %s, want errorType ClaimTimedOut", res.Payload)
	case res.Error.Type != errClaimTimedOut:
		t.Errorf("got %s %.300q, want ClaimTimedOut", res.Error.Type, res.Error.Message)
	}
	if got := realCalls(e, "ResetDisks") + realCalls(e, "ResetDisk"); got != 0 {
		t.Errorf("%d reset calls, want 0", got)
	}
	if got := e.ecs.ResetCount(sysDisk); got != 0 {
		t.Errorf("ResetCount = %d, want 0", got)
	}
	// The claim was withdrawn: the same request again, with ECS fast, resets.
	var again function.Result
	e.ok(t, event, &again)
	if again.Summary.Status != function.StatusSucceeded || e.ecs.ResetCount(sysDisk) != 1 {
		t.Errorf("the same request again: summary %+v, ResetCount %d; want Succeeded and 1", again.Summary, e.ecs.ResetCount(sysDisk))
	}
}

// Case 5. ECS acts and still answers 500 (the emulator's act-then-error
// fault) on a mutating call. The call is not resent as if nothing had
// happened: ResetDisks is read back (the disks are found resetting),
// StopInstance is read back (the instance is found stopping), CreateSnapshot
// is resent with the same ClientToken (one snapshot). The rollback ends
// Succeeded with each disk reset once and the instance Running.
func TestTruthActedThen500(t *testing.T) {
	t.Parallel()
	pass := ecsemu.FaultPass
	act := ecsemu.FaultActThenError
	for _, tc := range []struct {
		action string
		seq    []ecsemu.FaultKind // the first calls of action; dry runs included
	}{
		{"ResetDisks", []ecsemu.FaultKind{pass, act}}, // the preflight's dry run, then the reset
		{"StopInstance", []ecsemu.FaultKind{pass, act}},
		{"CreateSnapshot", []ecsemu.FaultKind{act}},
	} {
		t.Run(tc.action, func(t *testing.T) {
			o := fastECS()
			o.Faults = []ecsemu.FaultRule{{Action: tc.action, Sequence: tc.seq, Code: "InternalError"}}
			e := newEnv(t, envOptions{ecs: o})
			req := function.Request{RegionID: region, Disk: pairs(runSys, runSysSnap, runData, runDataSnap),
				StopInstance: true, StartInstance: true, BackupBeforeReset: true, IdempotencyKey: "truth-500-" + tc.action}
			typ, r := answerOf(t, e, e.invoke(t, mustJSON(t, req), fcruntime.InvokeOptions{}))
			if typ != "" || r.Summary.Status != function.StatusSucceeded {
				t.Errorf("got %s, want Succeeded", describe(typ, r))
			}
			for _, d := range []string{runSys, runData} {
				if got := e.ecs.ResetCount(d); got != 1 {
					t.Errorf("ResetCount(%s) = %d, want 1", d, got)
				}
			}
			if got := realCalls(e, tc.action); tc.action != "CreateSnapshot" && got != 1 {
				t.Errorf("%d real %s calls, want 1 (not resent)", got, tc.action)
			}
			snaps := 0
			for _, s := range e.ecs.State().Snapshots {
				if s.Tags["ecs-disk-rollback:backup-of"] != "" {
					snaps++
				}
			}
			if snaps != 2 {
				t.Errorf("%d backup snapshots, want 2 (one per disk, whatever was resent)", snaps)
			}
			if st := waitInstance(t, e, runningInst, "Running", 2*time.Second); st != "Running" {
				t.Errorf("instance %s, want Running", st)
			}
		})
	}
}
