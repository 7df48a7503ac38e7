package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/events"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// httpEvent builds an FC 3.0 HTTP trigger event.
func httpEvent(t *testing.T, method, contentType, body string, query map[string]string) []byte {
	t.Helper()
	ev := events.HTTPTriggerEvent{Version: "v1", RawPath: "/rollback", Body: body,
		Headers: map[string]string{}, QueryParameters: query}
	if contentType != "" {
		ev.Headers["Content-Type"] = contentType
	}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = "/rollback"
	return mustJSON(t, ev)
}

type httpAnswer struct {
	resp events.HTTPTriggerResponse
	body struct {
		Code       string
		Message    string
		RequestId  string
		Violations []function.Violation
		Summary    function.Summary
	}
}

func (e *env) http(t *testing.T, event []byte) httpAnswer {
	t.Helper()
	var a httpAnswer
	e.ok(t, event, &a.resp)
	if err := json.Unmarshal([]byte(a.resp.Body), &a.body); err != nil {
		t.Fatalf("HTTP body %q: %v", a.resp.Body, err)
	}
	return a
}

func TestHTTPTrigger(t *testing.T) {
	t.Parallel()
	reset := `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + sysDisk + `","SnapshotId":"` + sysSnap + `"}]}`
	tests := []struct {
		name       string
		event      []byte
		wantStatus int
		wantCode   string
		check      func(t *testing.T, a httpAnswer)
	}{
		{"sample POST", sample(t, "http-post.json"), 200, "", func(t *testing.T, a httpAnswer) {
			if a.body.Summary.Status != function.StatusSucceeded {
				t.Errorf("summary %+v", a.body.Summary)
			}
		}},
		{"dryRun query", httpEvent(t, "POST", "application/json", reset, map[string]string{"dryRun": "true"}), 200, "", func(t *testing.T, a httpAnswer) {
			if a.body.Summary.Status != function.StatusDryRunPassed {
				t.Errorf("summary %+v, want DryRunPassed", a.body.Summary)
			}
		}},
		{"base64 body", sample(t, "http-post-base64.json"), 200, "", nil},
		{"bad input", httpEvent(t, "POST", "application/json", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"nope"}]}`, nil), 400, function.ErrValidationFailed, func(t *testing.T, a httpAnswer) {
			if len(a.body.Violations) < 2 {
				t.Errorf("violations %+v, want both pair fields", a.body.Violations)
			}
		}},
		{"not JSON", httpEvent(t, "POST", "application/json", `{{{`, nil), 400, function.ErrValidationFailed, nil},
		// ECS's refusal is the HTTP caller's 409 (the request conflicts with
		// the resources), not ECS's own 404/403, which were ECS's answer to
		// the function.
		{"ECS refusal, missing disk", httpEvent(t, "POST", "application/json", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"d-bp1doesnotexist00000","SnapshotId":"`+sysSnap+`"}]}`, nil), 409, "InvalidDiskId.NotFound", func(t *testing.T, a httpAnswer) {
			if a.body.RequestId == "" {
				t.Error("no ECS RequestId in the 409 body")
			}
		}},
		{"ECS refusal, running instance", httpEvent(t, "POST", "application/json", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"d-bp1runningsys0000000","SnapshotId":"s-bp1runningsys0000000"}]}`, nil), 409, "IncorrectInstanceStatus", nil},
		{"GET", sample(t, "http-get.json"), 405, "MethodNotAllowed", func(t *testing.T, a httpAnswer) {
			if a.resp.Headers["Allow"] != "POST" {
				t.Errorf("headers %v, want Allow: POST", a.resp.Headers)
			}
		}},
		{"too large", httpEvent(t, "POST", "application/json", `{"RegionId":"`+strings.Repeat("a", function.MaxHTTPBodyBytes)+`"}`, nil), 413, "PayloadTooLarge", nil},
		{"text/plain", sample(t, "http-post-text-plain.json"), 415, "UnsupportedMediaType", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{}) // a fresh fleet: resets leave disks ReIniting
			a := e.http(t, tt.event)
			if a.resp.StatusCode != tt.wantStatus || a.body.Code != tt.wantCode {
				t.Fatalf("got %d %q, want %d %q: %s", a.resp.StatusCode, a.body.Code, tt.wantStatus, tt.wantCode, a.resp.Body)
			}
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}

func TestTimerTrigger(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	var res function.Result
	e.ok(t, sample(t, "timer-default.json"), &res)
	if res.Summary.Status != function.StatusDryRunPassed {
		t.Errorf("summary %+v, want DryRunPassed", res.Summary)
	}
	for _, f := range []string{"timer-empty-payload.json", "timer-nonjson-payload.json"} {
		fe := e.fail(t, sample(t, f))
		if fe.Type != function.ErrValidationFailed || !strings.Contains(fe.Message, "timer trigger") {
			t.Errorf("%s: got %s %q, want ValidationFailed naming the trigger", f, fe.Type, fe.Message)
		}
	}
}

func TestEventBridgeRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	var res function.Result
	e.ok(t, sample(t, "eventbridge-request.json"), &res)
	if res.Summary.Status != function.StatusDryRunPassed || res.Summary.Total != 2 {
		t.Errorf("summary %+v, want a 2-disk dry run passed", res.Summary)
	}
}

func TestAlarmPath(t *testing.T) {
	t.Parallel()
	t.Run("opt-in off refuses", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		var res function.Result
		e.ok(t, sample(t, "eventbridge-alarm-alert.json"), &res)
		if res.Summary.Status != function.StatusRefused {
			t.Errorf("summary %+v, want Refused", res.Summary)
		}
		if n := e.calls("ResetDisks", "ResetDisk", "StopInstance"); n != 0 {
			t.Errorf("%d mutating calls, want 0", n)
		}
	})
	t.Run("OK and INSUFFICIENT_DATA do nothing", func(t *testing.T) {
		e := newEnv(t, envOptions{fnEnv: []string{"ALARM_ROLLBACK=true"}})
		for _, f := range []string{"eventbridge-alarm-ok.json", "eventbridge-alarm-insufficient-data.json"} {
			var res function.Result
			e.ok(t, sample(t, f), &res)
			if res.Summary.Status != function.StatusNothingToDo {
				t.Errorf("%s: summary %+v, want NothingToDo", f, res.Summary)
			}
		}
		if n := len(e.ecs.Requests()); n != 0 {
			t.Errorf("%d ECS calls, want 0", n)
		}
	})
	t.Run("ALERT rolls the instance back to its latest instance snapshot", func(t *testing.T) {
		e := newEnv(t, envOptions{fnEnv: []string{"ALARM_ROLLBACK=true"}})
		var res function.Result
		e.ok(t, sample(t, "eventbridge-alarm-alert.json"), &res)
		if res.Summary.Status != function.StatusSucceeded {
			t.Fatalf("summary %+v, want Succeeded; steps %+v", res.Summary, res.Steps)
		}
		if res.Plan == nil || res.Plan.SnapshotGroupID != "ssg-bp1stopped0000000000" {
			t.Errorf("plan %+v, want the newest accomplished group ssg-bp1stopped0000000000", res.Plan)
		}
		for _, d := range []string{sysDisk, dataDisk} {
			if got := e.ecs.ResetCount(d); got != 1 {
				t.Errorf("ResetCount(%s) = %d, want 1", d, got)
			}
		}
		// The same alarm delivered again resets nothing more.
		var again function.Result
		e.ok(t, sample(t, "eventbridge-alarm-alert.json"), &again)
		for _, d := range []string{sysDisk, dataDisk} {
			if got := e.ecs.ResetCount(d); got != 1 {
				t.Errorf("after a duplicate delivery ResetCount(%s) = %d, want 1", d, got)
			}
		}
	})
}

func TestEventBridgeBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	var out []function.BatchOutcome
	e.ok(t, sample(t, "eventbridge-batch.json"), &out)
	if len(out) != 2 {
		t.Fatalf("outcomes = %d, want 2", len(out))
	}
	if out[0].Error != nil || out[0].Result == nil {
		t.Errorf("first outcome %+v, want a result", out[0])
	}
	if out[1].Result == nil || out[1].Result.Summary.Status != function.StatusNothingToDo {
		t.Errorf("second outcome %+v, want NothingToDo (OK alarm)", out[1])
	}
}
