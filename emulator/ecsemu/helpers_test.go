package ecsemu

import (
	stderrors "errors"
	"regexp"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

const hz = "cn-hangzhou"

// fast returns Options with millisecond transitions.
func fast() Options {
	return Options{ResetDuration: 50 * time.Millisecond, StopDuration: 50 * time.Millisecond,
		StartDuration: 50 * time.Millisecond, SnapshotDuration: 50 * time.Millisecond, Seed: 1}
}

func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func newClient(t testing.TB, s *Server, region string) *ecs.Client {
	t.Helper()
	c, err := s.NewClient(region)
	if err != nil {
		t.Fatalf("NewClient(%q): %v", region, err)
	}
	return c
}

var requestIDRE = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)

// wantServerError checks err is a *errors.ServerError with code and status and
// that every field the SDK fills from the body is set.
func wantServerError(t *testing.T, err error, code string, status int) *errors.ServerError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s (%d)", code, status)
	}
	var se *errors.ServerError
	if !stderrors.As(err, &se) {
		t.Fatalf("got %T %v, want *errors.ServerError %s", err, err, code)
	}
	if se.ErrorCode() != code || se.HttpStatus() != status {
		t.Fatalf("got %s (%d) %q, want %s (%d)", se.ErrorCode(), se.HttpStatus(), se.Message(), code, status)
	}
	if !requestIDRE.MatchString(se.RequestId()) {
		t.Errorf("got RequestId %q, want an uppercase UUID", se.RequestId())
	}
	if se.HostId() == "" || se.Message() == "" || se.Recommend() == "" {
		t.Errorf("got HostId %q Message %q Recommend %q, want all set", se.HostId(), se.Message(), se.Recommend())
	}
	return se
}

func resetDisksReq(region string, dry bool, pairs ...string) *ecs.ResetDisksRequest {
	req := ecs.CreateResetDisksRequest()
	req.RegionId = region
	if dry {
		req.DryRun = "true"
	}
	var disks []ecs.ResetDisksDisk
	for i := 0; i+1 < len(pairs); i += 2 {
		disks = append(disks, ecs.ResetDisksDisk{DiskId: pairs[i], SnapshotId: pairs[i+1]})
	}
	req.Disk = &disks
	return req
}

func diskStatus(t *testing.T, s *Server, region, id string) string {
	t.Helper()
	d, ok := s.Disk(region, id)
	if !ok {
		t.Fatalf("disk %s not found", id)
	}
	return d.Status
}

// eventually polls cond until it holds or 3 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
