package function

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc/messages"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/events"
)

// fleetFake is the default fleet's i-bp1stopped0000000000 (the instance
// the sample events name) in the package's fake ECS.
func fleetFake() *fakeECS {
	disks := []string{"d-bp1stoppedsys0000000", "d-bp1stoppeddata000000"}
	return newFakeECS().addInstance("i-bp1stopped0000000000", InstanceStatusStopped, disks...).
		addGroup("ssg-bp1stopped0000000000", "i-bp1stopped0000000000", SnapshotStatusAccomplished, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), disks...)
}

// guard rails are exercised in their own tests; these only route events.
func newTestHandler(t *testing.T, ecs ECS) *Handler {
	t.Helper()
	return &Handler{
		Connector: ConnectorFunc(func(context.Context, Credentials) (ECS, error) {
			if ecs == nil {
				t.Fatal("connected to ECS for an event that should not reach it")
			}
			return ecs, nil
		}),
		EnvCredentials: Credentials{AccessKeyID: "id", AccessKeySecret: "secret"},
		Config:         Config{ClaimSettle: 5 * time.Millisecond},
	}
}

func testdataEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTriggerRouting(t *testing.T) {
	tests := []struct {
		file       string
		wantDryRun bool
		wantDisks  int
		wantKey    string // prefix of the idempotency key the trigger set
	}{
		{"direct-reset.json", false, 2, ""},
		{"direct-dryrun.json", true, 2, ""},
		{"direct-lowercamel.json", true, 2, ""},
		{"cloudflow-task.json", true, 2, "flow:"},
		{"timer-default.json", true, 2, "timer:"},
		{"eventbridge-request.json", true, 2, "eb:"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fake := fleetFake()
			h := newTestHandler(t, fake)
			out, err := h.Handle(t.Context(), Invocation{RequestID: "fc-1"}, testdataEvent(t, tt.file))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			res, ok := out.(*Result)
			if !ok {
				t.Fatalf("answer is %T, want *Result", out)
			}
			last, ok := fake.lastCall("ResetDisks") // a real run makes its dry run first
			if !ok {
				t.Fatalf("ResetDisks was not called: %v", fake.ops())
			}
			if got := last.DryRun; got != tt.wantDryRun {
				t.Errorf("DryRun = %v, want %v", got, tt.wantDryRun)
			}
			if got := len(strings.Split(last.Target, ",")); got != tt.wantDisks {
				t.Errorf("disks = %d, want %d", got, tt.wantDisks)
			}
			if tt.wantKey != "" && (res.Plan == nil || !strings.HasPrefix(res.Plan.IdempotencyKey, tt.wantKey)) {
				t.Errorf("plan %+v: want an idempotency key starting %q", res.Plan, tt.wantKey)
			}
		})
	}
}

func TestTriggerRefusals(t *testing.T) {
	tests := []struct {
		file      string
		wantField string
	}{
		{"timer-empty-payload.json", "payload"},
		{"timer-nonjson-payload.json", "payload"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h := newTestHandler(t, nil)
			_, err := h.Handle(t.Context(), Invocation{}, testdataEvent(t, tt.file))
			fe := asError(err)
			if err == nil || fe.Code != ErrValidationFailed {
				t.Fatalf("got %v, want ValidationFailed", err)
			}
			if !strings.Contains(fe.Message, "timer trigger") || !strings.Contains(fe.Violations[0].Field, tt.wantField) {
				t.Errorf("error %q (%+v) should name the trigger and %s", fe.Message, fe.Violations, tt.wantField)
			}
		})
	}
	t.Run("unknown shape", func(t *testing.T) {
		h := newTestHandler(t, nil)
		_, err := h.Handle(t.Context(), Invocation{}, []byte(`{"hello":"world"}`))
		if fe := asError(err); err == nil || fe.Code != ErrValidationFailed || !strings.Contains(fe.Message, "timer trigger event") {
			t.Fatalf("got %v, want ValidationFailed naming the accepted shapes", err)
		}
	})
}

func TestAlarmWithoutAction(t *testing.T) {
	tests := []struct {
		file       string
		optIn      bool
		wantStatus string
	}{
		{"eventbridge-alarm-ok.json", true, StatusNothingToDo},
		{"eventbridge-alarm-insufficient-data.json", true, StatusNothingToDo},
		{"eventbridge-alarm-alert.json", false, StatusRefused},
		{"cloudmonitor-alarm-raw.json", false, StatusRefused},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h := newTestHandler(t, nil)
			h.Config.AlarmRollback = tt.optIn
			out, err := h.Handle(t.Context(), Invocation{}, testdataEvent(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := out.(*Result).Summary.Status; got != tt.wantStatus {
				t.Errorf("status = %q, want %q (%s)", got, tt.wantStatus, out.(*Result).Summary.Message)
			}
		})
	}
}

func TestHTTPStatuses(t *testing.T) {
	tests := []struct {
		file       string
		wantStatus int
		wantCode   string
	}{
		{"http-post.json", 200, ""},
		{"http-post-base64.json", 200, ""},
		{"http-post-dryrun-query.json", 200, ""},
		{"http-get.json", 405, "MethodNotAllowed"},
		{"http-post-text-plain.json", 415, "UnsupportedMediaType"},
		{"http-post-invalid.json", 400, ErrValidationFailed},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fake := fleetFake()
			h := newTestHandler(t, fake)
			out, err := h.Handle(t.Context(), Invocation{}, testdataEvent(t, tt.file))
			if err != nil {
				t.Fatalf("an HTTP trigger must answer with a status, not an error: %v", err)
			}
			resp := out.(*events.HTTPTriggerResponse)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			var body httpBody
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			if body.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", body.Code, tt.wantCode)
			}
			if tt.wantStatus == 405 && resp.Headers["Allow"] != "POST" {
				t.Errorf("405 without Allow: POST: %v", resp.Headers)
			}
			if tt.wantStatus != 200 && len(fake.ops()) != 0 {
				t.Errorf("ECS was called for a refused request")
			}
		})
	}
	t.Run("body too large", func(t *testing.T) {
		ev := events.HTTPTriggerEvent{Body: `{"RegionId":"` + strings.Repeat("a", MaxHTTPBodyBytes) + `"}`, Headers: map[string]string{"Content-Type": "application/json"}}
		ev.RequestContext.HTTP.Method = "POST"
		ev.Version, ev.RawPath = "v1", "/"
		raw, _ := json.Marshal(ev)
		out, err := newTestHandler(t, nil).Handle(t.Context(), Invocation{}, raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.(*events.HTTPTriggerResponse).StatusCode; got != 413 {
			t.Errorf("status = %d, want 413", got)
		}
	})
	t.Run("request data is escaped", func(t *testing.T) {
		ev := events.HTTPTriggerEvent{Version: "v1", RawPath: "/", Body: `{"RegionId":"cn-hangzhou","<script>alert(1)</script>":1,"Disk":[{"DiskId":"d-abcd","SnapshotId":"s-abcd"}]}`}
		ev.RequestContext.HTTP.Method = "POST"
		raw, _ := json.Marshal(ev)
		out, _ := newTestHandler(t, nil).Handle(t.Context(), Invocation{}, raw)
		resp := out.(*events.HTTPTriggerResponse)
		if resp.StatusCode != 400 || strings.Contains(resp.Body, "<script>") {
			t.Errorf("status %d body %s: want 400 with the field name escaped", resp.StatusCode, resp.Body)
		}
	})
}

func TestBatchKeepsOrder(t *testing.T) {
	h := newTestHandler(t, fleetFake())
	out, err := h.Handle(t.Context(), Invocation{}, testdataEvent(t, "eventbridge-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := out.([]BatchOutcome)
	if len(got) != 2 {
		t.Fatalf("outcomes = %d, want 2", len(got))
	}
	if got[0].Result == nil || got[0].Error != nil {
		t.Errorf("first (request) outcome = %+v, want a result", got[0])
	}
	if got[1].Result == nil || got[1].Result.Summary.Status != StatusNothingToDo {
		t.Errorf("second (OK alarm) outcome = %+v, want NothingToDo", got[1])
	}
}

func TestFCErrorCarriesTheResult(t *testing.T) {
	res := &Result{Summary: Summary{Status: StatusPartiallyFailed, Total: 2, Succeeded: 1, Failed: 1},
		OperationProgressSet: OperationProgressSet{OperationProgress: []OperationProgress{progressFor(DiskPair{DiskID: "d-aaaa", SnapshotID: "s-aaaa"}, OperationStatusSuccess, "", "")}}}
	fcErr, ok := ToFCError(&Error{Code: ErrPartialFailure, Message: "1 of 2 disks were not reset", Result: res}).(messages.InvokeResponse_Error)
	if !ok || fcErr.Type != ErrPartialFailure {
		t.Fatalf("got %#v, want an InvokeResponse_Error of type PartialFailure", fcErr)
	}
	got := fcErr.Message
	for _, want := range []string{"1 of 2 disks", `"Status":"PartiallyFailed"`, `"Value":"d-aaaa"`} {
		if !strings.Contains(got, want) {
			t.Errorf("FC error %q lacks %q", got, want)
		}
	}
}
