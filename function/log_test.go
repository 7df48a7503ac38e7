package function

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
)

// TestRollbackLogLine: every rollback ends with one JSON line naming the
// invocation, the request and its outcome, keys in a fixed order.
func TestRollbackLogLine(t *testing.T) {
	var buf bytes.Buffer
	h := newTestHandler(t, fleetFake())
	h.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	inv := Invocation{RequestID: "fc-req-1"}
	if _, err := h.Handle(context.Background(), inv, testdataEvent(t, "direct-dryrun.json")); err != nil {
		t.Fatal(err)
	}
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	if _, err := dec.Token(); err != nil { // {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("log line %s: %v", buf.String(), err)
		}
	}
	want := []string{"time", "level", "msg", "fcRequestId", "regionId", "disks", "dryRun", "durationMs", "status", "ecsRequestId", "succeeded", "failed"}
	if !slices.Equal(keys, want) {
		t.Errorf("log line keys %v, want %v\n%s", keys, want, buf.String())
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["msg"] != "rollback done" || line["status"] != "DryRunPassed" || line["disks"] != 2.0 || line["dryRun"] != true || line["level"] != "INFO" {
		t.Errorf("log line %s", buf.String())
	}
}
