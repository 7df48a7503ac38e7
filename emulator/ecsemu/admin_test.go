package ecsemu

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func adminDo(t *testing.T, s *Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestAdminAPI(t *testing.T) {
	opts := fast()
	opts.SecurityToken = "tok"
	s := newTestServer(t, opts)
	if code, b := adminDo(t, s, "GET", "/_emulator/health", ""); code != 200 || !strings.Contains(string(b), `"ok"`) {
		t.Fatalf("health: got %d %s", code, b)
	}

	// Faults over HTTP.
	if code, b := adminDo(t, s, "POST", "/_emulator/faults", `{"action":"DescribeDisks","kind":"latency","latency":"10ms","count":1}`); code != 200 {
		t.Fatalf("POST faults: got %d %s", code, b)
	}
	if code, b := adminDo(t, s, "POST", "/_emulator/faults", `[{"action":"ResetDisks","kind":"error","code":"Operation.Conflict"}]`); code != 200 {
		t.Fatalf("POST faults array: got %d %s", code, b)
	}
	if code, _ := adminDo(t, s, "POST", "/_emulator/faults", `{"kind":"bogus"}`); code != 400 {
		t.Errorf("POST bad fault: got %d, want 400", code)
	}
	_, b := adminDo(t, s, "GET", "/_emulator/faults", "")
	var rules []FaultRule
	if err := json.Unmarshal(b, &rules); err != nil || len(rules) != 2 {
		t.Fatalf("GET faults: got %s, %v", b, err)
	}
	c := newClient(t, s, hz)
	_, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap))
	wantServerError(t, err, CodeOperationConflict, 403)
	if code, _ := adminDo(t, s, "DELETE", "/_emulator/faults", ""); code != 204 {
		t.Errorf("DELETE faults: got %d", code)
	}
	if _, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap)); err != nil {
		t.Fatalf("after DELETE faults: %v", err)
	}

	// The request log never carries secrets.
	_, b = adminDo(t, s, "GET", "/_emulator/requests", "")
	var logged []LoggedRequest
	if err := json.Unmarshal(b, &logged); err != nil || len(logged) != 2 {
		t.Fatalf("GET requests: got %d entries, %v", len(logged), err)
	}
	for _, secret := range []string{DefaultAccessKeyID, "tok", `"Signature"`} {
		if strings.Contains(string(b), secret) {
			t.Errorf("request log contains %q: %s", secret, b)
		}
	}
	if logged[0].Action != "ResetDisks" || logged[0].Code != CodeOperationConflict || logged[0].HTTPStatus != 403 ||
		logged[0].Params["Disk.1.DiskId"] != okDisk || logged[1].HTTPStatus != 200 {
		t.Errorf("got log %+v", logged)
	}
	if code, _ := adminDo(t, s, "DELETE", "/_emulator/requests", ""); code != 204 || len(s.Requests()) != 0 {
		t.Errorf("DELETE requests: got %d, %d left", code, len(s.Requests()))
	}

	// State: read, then load a small fixture.
	_, b = adminDo(t, s, "GET", "/_emulator/state", "")
	var st Fixture
	if err := json.Unmarshal(b, &st); err != nil || len(st.Disks) != 14 {
		t.Fatalf("GET state: got %d disks, %v", len(st.Disks), err)
	}
	small := `{"instances":[{"instanceId":"i-x","regionId":"eu-central-1","status":"Stopped"}],
	  "disks":[{"diskId":"d-x","regionId":"eu-central-1","instanceId":"i-x","category":"cloud_essd","type":"system","status":"In_use"}],
	  "snapshots":[{"snapshotId":"s-x","regionId":"eu-central-1","sourceDiskId":"d-x","status":"accomplished","creationTime":"2026-01-01T00:00:00Z"}]}`
	if code, b := adminDo(t, s, "POST", "/_emulator/state", small); code != 204 {
		t.Fatalf("POST state: got %d %s", code, b)
	}
	if code, _ := adminDo(t, s, "POST", "/_emulator/state", `{"disks":[{"diskId":"d-y"}]}`); code != 400 {
		t.Errorf("POST invalid state: got %d, want 400", code)
	}
	if _, ok := s.Disk(hz, okDisk); ok {
		t.Error("old fleet still present after POST state")
	}
	eu := newClient(t, s, "eu-central-1")
	if _, err := eu.ResetDisks(resetDisksReq("eu-central-1", false, "d-x", "s-x")); err != nil {
		t.Fatalf("reset in loaded fixture: %v", err)
	}
	if code, _ := adminDo(t, s, "GET", "/_emulator/nothing", ""); code != 404 {
		t.Errorf("unknown admin path: got %d, want 404", code)
	}
}

func TestMutateAndSetters(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	if !s.SetInstanceStatus("i-bp1running0000000000", InstanceStopped) {
		t.Fatal("SetInstanceStatus: instance not found")
	}
	if _, err := c.ResetDisks(resetDisksReq(hz, false, "d-bp1runningsys0000000", "s-bp1runningsys0000000")); err != nil {
		t.Fatalf("reset after SetInstanceStatus: %v", err)
	}
	s.SetDiskStatus(okDisk, "Attaching")
	_, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap))
	wantServerError(t, err, CodeIncorrectDiskStatus, 403)

	err = s.Mutate(func(f *Fixture) {
		for i := range f.Disks {
			if f.Disks[i].DiskID == okDisk {
				f.Disks[i].Status = DiskAvailable
				f.Disks[i].InstanceID = ""
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap)); err != nil {
		t.Fatalf("detached Available disk: %v", err)
	}
	if n := s.ResetCount("d-bp1runningsys0000000"); n != 1 {
		t.Errorf("Mutate lost reset counts: got %d, want 1", n)
	}
}

func TestLoadFixtureFile(t *testing.T) {
	f, err := LoadFixture("default-fleet.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Instances) != 6 || len(f.SnapshotGroups) != 5 {
		t.Errorf("got %d instances, %d groups", len(f.Instances), len(f.SnapshotGroups))
	}
	if _, err := LoadFixture("does-not-exist.json"); err == nil {
		t.Error("got nil error for a missing file")
	}
	bad := DefaultFixture()
	bad.Disks = append(bad.Disks, bad.Disks[0])
	if _, err := NewServer(Options{Fixture: bad}); err == nil {
		t.Error("got nil error for a duplicate disk")
	}
}
