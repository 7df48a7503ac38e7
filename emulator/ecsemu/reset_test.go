package ecsemu

import (
	"net/http"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/google/go-cmp/cmp"
)

func TestResetDiskErrors(t *testing.T) {
	s := newTestServer(t, fast())
	tests := []struct {
		name, region, disk, snap string
		code                     string
		status                   int
	}{
		{"disk not found", hz, "d-bp1doesnotexist00000", "s-bp1stoppedsys0000000", CodeInvalidDiskIDNotFound, 404},
		{"snapshot not found", hz, "d-bp1stoppedsys0000000", "s-bp1doesnotexist00000", CodeInvalidSnapshotIDNotFound, 404},
		{"mismatch", hz, "d-bp1untagged000000000", "s-bp1stoppedsys0000000", CodeInvalidParameterMismatch, 403},
		{"local disk", hz, "d-bp1localdisk00000000", "s-bp1localdisk00000000", CodeDiskCategoryNotSupported, 400},
		{"multi attach", hz, "d-bp1multiattach000000", "s-bp1multiattach000000", CodeMultiAttachDisk, 403},
		{"locked", hz, "d-bp1lockedsys00000000", "s-bp1lockedsys00000000", CodeInstanceLockedForSecurity, 403},
		{"expired", hz, "d-bp1expiredsys0000000", "s-bp1expiredsys0000000", CodeInstanceExpiredOrInArrears, 403},
		{"running", hz, "d-bp1runningsys0000000", "s-bp1runningsys0000000", CodeIncorrectInstanceStatus, 403},
		{"reiniting", hz, "d-bp1reiniting00000000", "s-bp1reiniting00000000", CodeIncorrectDiskStatus, 403},
		{"unfinished", hz, "d-bp1unfinished0000000", "s-bp1unfinished0000000", CodeHasUnfinishedSnapshot, 403},
		{"not ready", hz, "d-bp1notready000000000", "s-bp1notready000000000", CodeInvalidSnapshotIDNotReady, 403},
		{"too old", hz, "d-bp1tooold00000000000", "s-bp1tooold00000000000", CodeInvalidSnapshotTooOld, 403},
		{"region malformed", "CN_HANGZHOU!", "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000", CodeInvalidRegionIDMalFormed, 400},
		{"region unknown", "cn-nowhere-1", "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000", CodeInvalidRegionIDNotFound, 404},
		{"wrong region", "cn-shanghai", "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000", CodeInvalidDiskIDNotFound, 404},
		{"missing disk id", hz, "", "s-bp1stoppedsys0000000", "MissingDiskId", 400},
		{"missing snapshot id", hz, "d-bp1stoppedsys0000000", "", "MissingSnapshotId", 400},
	}
	for _, tt := range tests {
		t.Run("ResetDisk/"+tt.name, func(t *testing.T) {
			req := ecs.CreateResetDiskRequest()
			req.RegionId, req.DiskId, req.SnapshotId = tt.region, tt.disk, tt.snap
			_, err := newClient(t, s, hz).ResetDisk(req)
			wantServerError(t, err, tt.code, tt.status)
		})
		if tt.disk == "" || tt.snap == "" {
			continue
		}
		t.Run("ResetDisks/"+tt.name, func(t *testing.T) {
			_, err := newClient(t, s, hz).ResetDisks(resetDisksReq(tt.region, false, tt.disk, tt.snap))
			wantServerError(t, err, tt.code, tt.status)
		})
	}
	if n := s.ResetCount("d-bp1stoppedsys0000000"); n != 0 {
		t.Errorf("got %d resets after only failing calls, want 0", n)
	}
}

func TestResetDisksRequestChecks(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	_, err := c.ResetDisks(resetDisksReq(hz, false))
	wantServerError(t, err, "MissingDisk", 400)

	var pairs []string
	for range 11 {
		pairs = append(pairs, "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000")
	}
	_, err = c.ResetDisks(resetDisksReq(hz, false, pairs...))
	wantServerError(t, err, CodeInvalidParameter, 400)

	_, err = c.ResetDisks(resetDisksReq(hz, false, "d-bp1stoppedsys0000000", ""))
	wantServerError(t, err, "MissingDisk.1.SnapshotId", 400)
}

func TestResetDisksSuccessAndTransition(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	resp, err := c.ResetDisks(resetDisksReq(hz, false,
		"d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000",
		"d-bp1stoppeddata000000", "s-bp1stoppeddata000000"))
	if err != nil {
		t.Fatalf("ResetDisks: %v", err)
	}
	if !requestIDRE.MatchString(resp.RequestId) {
		t.Errorf("got RequestId %q", resp.RequestId)
	}
	want := []ecs.OperationProgress{
		{OperationStatus: "Success", RelatedItemSet: ecs.RelatedItemSetInDeleteSnapshotGroup{RelatedItem: []ecs.RelatedItem{
			{Name: "DiskId", Value: "d-bp1stoppedsys0000000"}, {Name: "SnapshotId", Value: "s-bp1stoppedsys0000000"}}}},
		{OperationStatus: "Success", RelatedItemSet: ecs.RelatedItemSetInDeleteSnapshotGroup{RelatedItem: []ecs.RelatedItem{
			{Name: "DiskId", Value: "d-bp1stoppeddata000000"}, {Name: "SnapshotId", Value: "s-bp1stoppeddata000000"}}}},
	}
	if diff := cmp.Diff(want, resp.OperationProgressSet.OperationProgress); diff != "" {
		t.Errorf("OperationProgress mismatch (-want +got):\n%s", diff)
	}
	if got := diskStatus(t, s, hz, "d-bp1stoppedsys0000000"); got != DiskReIniting {
		t.Errorf("got status %s right after reset, want ReIniting", got)
	}
	// A second reset while the first runs is refused (ResetDisk error table).
	_, err = c.ResetDisks(resetDisksReq(hz, false, "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000"))
	wantServerError(t, err, CodeDiskResetInProgress, 403)
	eventually(t, "disk back to In_use", func() bool { return diskStatus(t, s, hz, "d-bp1stoppedsys0000000") == DiskInUse })
	if got, want := s.Resets("d-bp1stoppedsys0000000"), []string{"s-bp1stoppedsys0000000"}; !cmp.Equal(got, want) {
		t.Errorf("got resets %v, want %v", got, want)
	}
}

func TestResetDisksPartialFailure(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	resp, err := c.ResetDisks(resetDisksReq(hz, false,
		"d-bp1untagged000000000", "s-bp1untagged000000000",
		"d-bp1tooold00000000000", "s-bp1tooold00000000000"))
	if err != nil {
		t.Fatalf("ResetDisks: %v", err)
	}
	ops := resp.OperationProgressSet.OperationProgress
	if len(ops) != 2 {
		t.Fatalf("got %d entries, want 2", len(ops))
	}
	if ops[0].OperationStatus != "Success" || ops[0].ErrorCode != "" || ops[0].ErrorMsg != "" {
		t.Errorf("got entry 0 %+v, want a clean Success", ops[0])
	}
	if ops[1].OperationStatus != "Failed" || ops[1].ErrorCode != CodeInvalidSnapshotTooOld || ops[1].ErrorMsg == "" {
		t.Errorf("got entry 1 %+v, want Failed %s", ops[1], CodeInvalidSnapshotTooOld)
	}
	if got := ops[1].RelatedItemSet.RelatedItem; len(got) != 2 || got[0].Value != "d-bp1tooold00000000000" {
		t.Errorf("got related items %+v", got)
	}
	if s.ResetCount("d-bp1untagged000000000") != 1 || s.ResetCount("d-bp1tooold00000000000") != 0 {
		t.Errorf("got reset counts %d/%d, want 1/0", s.ResetCount("d-bp1untagged000000000"), s.ResetCount("d-bp1tooold00000000000"))
	}

	// Every disk failing, but with different codes: 200, all Failed.
	resp, err = c.ResetDisks(resetDisksReq(hz, false,
		"d-bp1tooold00000000000", "s-bp1tooold00000000000",
		"d-bp1notready000000000", "s-bp1notready000000000"))
	if err != nil {
		t.Fatalf("ResetDisks mixed failures: %v", err)
	}
	for i, op := range resp.OperationProgressSet.OperationProgress {
		if op.OperationStatus != "Failed" {
			t.Errorf("entry %d: got %s, want Failed", i, op.OperationStatus)
		}
	}
	// Every disk failing with the same code: the call fails with it.
	_, err = c.ResetDisks(resetDisksReq(hz, false,
		"d-bp1doesnotexist00000", "s-bp1stoppedsys0000000",
		"d-bp1doesnotexist00001", "s-bp1stoppedsys0000000"))
	wantServerError(t, err, CodeInvalidDiskIDNotFound, http.StatusNotFound)
}

func TestResetDryRun(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	_, err := c.ResetDisks(resetDisksReq(hz, true, "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000"))
	wantServerError(t, err, CodeDryRunOperation, 400)
	_, err = c.ResetDisks(resetDisksReq(hz, true,
		"d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000",
		"d-bp1tooold00000000000", "s-bp1tooold00000000000"))
	wantServerError(t, err, CodeInvalidSnapshotTooOld, 403)
	req := ecs.CreateResetDiskRequest()
	req.RegionId, req.DiskId, req.SnapshotId, req.DryRun = hz, "d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000", "true"
	_, err = c.ResetDisk(req)
	wantServerError(t, err, CodeDryRunOperation, 400)
	if n := s.ResetCount("d-bp1stoppedsys0000000"); n != 0 {
		t.Errorf("got %d resets after dry runs, want 0", n)
	}
	req.DryRun = "false"
	if _, err := c.ResetDisk(req); err != nil {
		t.Fatalf("ResetDisk: %v", err)
	}
	if n := s.ResetCount("d-bp1stoppedsys0000000"); n != 1 {
		t.Errorf("got %d resets, want 1", n)
	}
}
