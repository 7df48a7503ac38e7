package ecsemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func withModes(m Modes) Options {
	o := fast()
	o.ResetDuration = 200 * time.Millisecond
	o.Modes = m
	return o
}

func TestResetStatusModes(t *testing.T) {
	const disk, snap = "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000"
	tests := []struct {
		mode                    ResetStatusMode
		wantAtOnce, wantAtLater string // right after the call; 150 ms later
	}{
		{ResetStatusImmediate, DiskReIniting, DiskReIniting},
		{ResetStatusLagged, DiskInUse, DiskReIniting},
		{ResetStatusHidden, DiskInUse, DiskInUse},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			s := newTestServer(t, withModes(Modes{ResetStatus: tt.mode, ResetLag: 100 * time.Millisecond}))
			status, code, _ := raw(t, s, map[string]string{"Action": "ResetDisk", "DiskId": disk, "SnapshotId": snap})
			if status != 200 {
				t.Fatalf("ResetDisk: %d %s", status, code)
			}
			if got := diskStatus(t, s, hz, disk); got != tt.wantAtOnce {
				t.Errorf("got %s at once, want %s", got, tt.wantAtOnce)
			}
			// Whatever the disk shows, a second reset is refused while the first runs.
			status, code, _ = raw(t, s, map[string]string{"Action": "ResetDisk", "DiskId": disk, "SnapshotId": snap})
			if status != 403 || code != CodeDiskResetInProgress {
				t.Errorf("second reset: got %d %s, want 403 %s", status, code, CodeDiskResetInProgress)
			}
			time.Sleep(150 * time.Millisecond)
			if got := diskStatus(t, s, hz, disk); got != tt.wantAtLater {
				t.Errorf("got %s after 150 ms, want %s", got, tt.wantAtLater)
			}
			eventually(t, "reset finished", func() bool {
				status, _, _ := raw(t, s, map[string]string{"Action": "ResetDisk", "DryRun": "true", "DiskId": disk, "SnapshotId": snap})
				return status == 400 // DryRunOperation: the disk can be reset again
			})
			if got := diskStatus(t, s, hz, disk); got != DiskInUse {
				t.Errorf("got %s after the reset, want In_use", got)
			}
		})
	}
}

func TestResetDisksFailureModes(t *testing.T) {
	good := []string{"d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000"}
	bad := []string{"d-bp1tooold00000000000", "s-bp1tooold00000000000"}
	call := func(pairs ...[]string) map[string]string {
		p := map[string]string{"Action": "ResetDisks"}
		for i, pr := range pairs {
			n := string(rune('1' + i))
			p["Disk."+n+".DiskId"], p["Disk."+n+".SnapshotId"] = pr[0], pr[1]
		}
		return p
	}
	tests := []struct {
		mode       ResetDisksFailureMode
		pairs      [][]string
		status     int
		code       string
		entries    int
		goodResets int
	}{
		{ResetDisksFailureMixed, [][]string{good, bad}, 200, "", 2, 1},
		{ResetDisksFailureMixed, [][]string{bad}, 403, CodeInvalidSnapshotTooOld, 0, 0},
		{ResetDisksFailurePerDisk, [][]string{good, bad}, 200, "", 2, 1},
		{ResetDisksFailurePerDisk, [][]string{bad}, 200, "", 1, 0},
		{ResetDisksFailureWholeCall, [][]string{good, bad}, 403, CodeInvalidSnapshotTooOld, 0, 0},
		{ResetDisksFailureWholeCall, [][]string{good}, 200, "", 1, 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+"/"+tt.pairs[0][0], func(t *testing.T) {
			s := newTestServer(t, withModes(Modes{ResetDisksFailure: tt.mode}))
			status, code, body := raw(t, s, call(tt.pairs...))
			if status != tt.status || code != tt.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
			if tt.entries > 0 {
				ops := body["OperationProgressSet"].(map[string]any)["OperationProgress"].([]any)
				if len(ops) != tt.entries {
					t.Errorf("got %d entries, want %d", len(ops), tt.entries)
				}
			}
			if got := s.ResetCount(good[0]); got != tt.goodResets {
				t.Errorf("got %d resets of the good disk, want %d", got, tt.goodResets)
			}
		})
	}
}

func TestRelatedItemsModes(t *testing.T) {
	tests := []struct {
		mode RelatedItemsMode
		want []any
	}{
		{RelatedItemsDiskAndSnapshot, []any{map[string]any{"Name": "DiskId", "Value": "d-bp1stoppedsys0000000"},
			map[string]any{"Name": "SnapshotId", "Value": "s-bp1stoppedsys0000000"}}},
		{RelatedItemsSnapshotOnly, []any{map[string]any{"Name": "SnapshotId", "Value": "s-bp1stoppedsys0000000"}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			s := newTestServer(t, withModes(Modes{RelatedItems: tt.mode}))
			_, _, body := raw(t, s, map[string]string{"Action": "ResetDisks",
				"Disk.1.DiskId": "d-bp1stoppedsys0000000", "Disk.1.SnapshotId": "s-bp1stoppedsys0000000"})
			op := body["OperationProgressSet"].(map[string]any)["OperationProgress"].([]any)[0].(map[string]any)
			got := op["RelatedItemSet"].(map[string]any)["RelatedItem"]
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("RelatedItem (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInstantAccessModes(t *testing.T) {
	// s-bp1stoppedsysprog000 is a progressing ESSD snapshot of d-bp1stoppedsys0000000.
	tests := []struct {
		mode          InstantAccessMode
		status        int
		code          string
		wantAvailable bool
	}{
		{InstantAccessNotUsable, 403, CodeInvalidSnapshotIDNotReady, false},
		{InstantAccessUsable, 200, "", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			s := newTestServer(t, withModes(Modes{InstantAccess: tt.mode}))
			_, _, body := raw(t, s, map[string]string{"Action": "DescribeSnapshots", "SnapshotIds": `["s-bp1stoppedsysprog000"]`})
			sn := body["Snapshots"].(map[string]any)["Snapshot"].([]any)[0].(map[string]any)
			if sn["Status"] != SnapshotProgressing || sn["Available"] != tt.wantAvailable || sn["InstantAccess"] != true {
				t.Errorf("got Status %v Available %v InstantAccess %v, want progressing %v true", sn["Status"], sn["Available"], sn["InstantAccess"], tt.wantAvailable)
			}
			status, code, _ := raw(t, s, map[string]string{"Action": "ResetDisk", "DiskId": "d-bp1stoppedsys0000000", "SnapshotId": "s-bp1stoppedsysprog000"})
			if status != tt.status || code != tt.code {
				t.Errorf("ResetDisk: got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
		})
	}
}

func TestModesSelection(t *testing.T) {
	want := Modes{ResetStatus: ResetStatusHidden, ResetDisksFailure: ResetDisksFailurePerDisk,
		RelatedItems: RelatedItemsSnapshotOnly, InstantAccess: InstantAccessUsable}
	t.Run("defaults", func(t *testing.T) {
		s := newTestServer(t, fast())
		got := s.Modes()
		if diff := cmp.Diff(AllModes()[0].Modes, got); diff != "" {
			t.Errorf("default modes (-want +got):\n%s", diff)
		}
	})
	t.Run("options", func(t *testing.T) {
		s := newTestServer(t, withModes(want))
		if got := s.Modes(); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("fixture", func(t *testing.T) {
		fx := DefaultFixture()
		fx.Modes = &want
		o := fast()
		o.Fixture = fx
		s := newTestServer(t, o)
		if got := s.Modes(); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("admin", func(t *testing.T) {
		s := newTestServer(t, fast())
		b, _ := json.Marshal(want)
		resp, err := http.Post(s.URL()+"/_emulator/modes", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("got %d", resp.StatusCode)
		}
		if got := s.Modes(); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		resp, _ = http.Post(s.URL()+"/_emulator/modes", "application/json", bytes.NewReader([]byte(`{"resetStatus":"sometimes"}`)))
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("bad mode: got %d, want 400", resp.StatusCode)
		}
	})
	t.Run("flag form", func(t *testing.T) {
		got, err := ParseModes(want.String())
		if err != nil || got != want {
			t.Errorf("got %+v %v, want %+v", got, err, want)
		}
		if _, err := ParseModes("resetStatus=never"); err == nil {
			t.Error("got no error for an unknown mode")
		}
	})
	t.Run("AllModes", func(t *testing.T) {
		all := AllModes()
		names := map[string]bool{}
		for _, m := range all {
			if _, err := m.Modes.normalize(); err != nil || names[m.Name] {
				t.Errorf("mode %s: err %v, duplicate %v", m.Name, err, names[m.Name])
			}
			names[m.Name] = true
		}
		if got, want := len(all), 36; got != want {
			t.Errorf("got %d combinations, want %d", got, want)
		}
	})
}

func TestActThenErrorFault(t *testing.T) {
	tests := []struct {
		name   string
		rule   FaultRule
		p      map[string]string
		status int
		code   string
		acted  func(s *Server) bool
	}{
		{"ResetDisks 500", FaultRule{Action: "ResetDisks", Kind: FaultActThenError},
			map[string]string{"Action": "ResetDisks", "Disk.1.DiskId": "d-bp1stoppedsys0000000", "Disk.1.SnapshotId": "s-bp1stoppedsys0000000"},
			500, CodeInternalError, func(s *Server) bool { return s.ResetCount("d-bp1stoppedsys0000000") == 1 }},
		{"ResetDisk InternalError as 400", FaultRule{Action: "ResetDisk", Kind: FaultActThenError, Code: CodeInternalError, Status: 400},
			map[string]string{"Action": "ResetDisk", "DiskId": "d-bp1stoppedsys0000000", "SnapshotId": "s-bp1stoppedsys0000000"},
			400, CodeInternalError, func(s *Server) bool { return s.ResetCount("d-bp1stoppedsys0000000") == 1 }},
		{"StopInstance 503", FaultRule{Action: "StopInstance", Kind: FaultActThenError, Code: CodeServiceUnavailable},
			map[string]string{"Action": "StopInstance", "InstanceId": "i-bp1running0000000000"},
			503, CodeServiceUnavailable, func(s *Server) bool {
				in, _ := s.Instance(hz, "i-bp1running0000000000")
				return in.Status != InstanceRunning
			}},
		{"TagResources throttled", FaultRule{Action: "TagResources", Kind: FaultActThenError, Code: CodeThrottling},
			map[string]string{"Action": "TagResources", "ResourceType": "disk", "ResourceId.1": "d-bp1untagged000000000", "Tag.1.Key": "k"},
			403, CodeThrottling, func(s *Server) bool {
				d, _ := s.Disk(hz, "d-bp1untagged000000000")
				return d.Tags["k"] == "" && len(d.Tags) > 0
			}},
		{"refused call keeps its own error", FaultRule{Action: "ResetDisk", Kind: FaultActThenError},
			map[string]string{"Action": "ResetDisk", "DiskId": "d-bp1tooold00000000000", "SnapshotId": "s-bp1tooold00000000000"},
			403, CodeInvalidSnapshotTooOld, func(s *Server) bool { return s.ResetCount("d-bp1tooold00000000000") == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fast()
			o.Faults = []FaultRule{tt.rule}
			s := newTestServer(t, o)
			status, code, _ := raw(t, s, tt.p)
			if status != tt.status || code != tt.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
			if !tt.acted(s) {
				t.Error("the action was not applied before the error")
			}
			if got := s.Requests()[0].Fault; got != FaultActThenError {
				t.Errorf("got logged fault %q, want %q", got, FaultActThenError)
			}
		})
	}
	t.Run("flag", func(t *testing.T) {
		got, err := ParseFaultFlag("ResetDisks:act-then-error=InternalError@400::1")
		want := FaultRule{Action: "ResetDisks", Kind: FaultActThenError, Code: CodeInternalError, Status: 400, Count: 1}
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("got %+v %v, want %+v", got, err, want)
		}
		if _, err := ParseFaultFlag("ResetDisks:error=InternalError@200"); err == nil {
			t.Error("got no error for status 200")
		}
	})
	t.Run("admin", func(t *testing.T) {
		s := newTestServer(t, fast())
		resp, err := http.Post(s.URL()+"/_emulator/faults", "application/json",
			bytes.NewReader([]byte(`{"action":"ResetDisk","kind":"act-then-error","code":"InternalError","status":400}`)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := s.Faults(); len(got) != 1 || got[0].Kind != FaultActThenError || got[0].Status != 400 {
			t.Errorf("got faults %+v", got)
		}
	})
}
