package function

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// codeOf is the function error code of err, or "".
func codeOf(err error) string {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return ""
}

// groupFleet: i-web (Stopped) with three instance snapshots: an old
// accomplished one, the newest accomplished one, and a newer progressing one.
func groupFleet() *fakeECS {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 2, 0, 0, 0, time.UTC) }
	return newFakeECS().
		addInstance("i-webz", InstanceStatusStopped, "d-websys", "d-webdata").
		addInstance("i-other", InstanceStatusStopped, "d-othersys").
		addGroup("ssg-webold", "i-webz", SnapshotStatusAccomplished, day(1), "d-websys", "d-webdata").
		addGroup("ssg-webnew", "i-webz", SnapshotStatusAccomplished, day(20), "d-websys", "d-webdata").
		addGroup("ssg-webprog", "i-webz", SnapshotStatusProgressing, day(25), "d-websys", "d-webdata").
		addGroup("ssg-other", "i-other", SnapshotStatusAccomplished, day(20), "d-othersys")
}

func TestSnapshotGroupPlans(t *testing.T) {
	tests := []struct {
		name      string
		req       Request
		wantGroup string
		wantPairs []DiskPair
		wantCode  string
		wantIn    string // in the error message
	}{
		{name: "by id", req: Request{SnapshotGroupID: "ssg-webold"}, wantGroup: "ssg-webold",
			wantPairs: []DiskPair{{"d-websys", "s-weboldwebsys"}, {"d-webdata", "s-weboldwebdata"}}},
		{name: "by id, filtered, in the filter's order", req: Request{SnapshotGroupID: "ssg-webnew", DiskIDs: []string{"d-webdata"}}, wantGroup: "ssg-webnew",
			wantPairs: []DiskPair{{"d-webdata", "s-webnewwebdata"}}},
		{name: "latest picks the newest accomplished", req: Request{InstanceID: "i-webz", Latest: true}, wantGroup: "ssg-webnew",
			wantPairs: []DiskPair{{"d-websys", "s-webnewwebsys"}, {"d-webdata", "s-webnewwebdata"}}},
		{name: "latest with a filter", req: Request{InstanceID: "i-webz", Latest: true, DiskIDs: []string{"d-webdata", "d-websys"}}, wantGroup: "ssg-webnew",
			wantPairs: []DiskPair{{"d-webdata", "s-webnewwebdata"}, {"d-websys", "s-webnewwebsys"}}},
		{name: "group and its instance", req: Request{SnapshotGroupID: "ssg-webnew", InstanceID: "i-webz"}, wantGroup: "ssg-webnew",
			wantPairs: []DiskPair{{"d-websys", "s-webnewwebsys"}, {"d-webdata", "s-webnewwebdata"}}},
		{name: "progressing group refused", req: Request{SnapshotGroupID: "ssg-webprog"}, wantCode: ErrSnapshotGroupNotReady, wantIn: "progressing"},
		{name: "unknown group", req: Request{SnapshotGroupID: "ssg-nothere"}, wantCode: ErrSnapshotGroupNotReady, wantIn: "not found"},
		{name: "latest without an accomplished group", req: Request{InstanceID: "i-bare", Latest: true}, wantCode: ErrSnapshotGroupNotReady, wantIn: "i-bare"},
		{name: "filter names a disk not in the group", req: Request{SnapshotGroupID: "ssg-webnew", DiskIDs: []string{"d-webdata", "d-othersys"}}, wantCode: ErrValidationFailed, wantIn: "d-othersys"},
		{name: "filter names a disk twice", req: Request{SnapshotGroupID: "ssg-webnew", DiskIDs: []string{"d-webdata", "d-webdata"}}, wantCode: ErrValidationFailed, wantIn: "more than once"},
		{name: "group of another instance", req: Request{SnapshotGroupID: "ssg-other", InstanceID: "i-webz"}, wantCode: ErrValidationFailed, wantIn: "belongs to i-other"},
		{name: "instance without latest", req: Request{InstanceID: "i-webz"}, wantCode: ErrValidationFailed, wantIn: "Latest"},
		{name: "group and latest", req: Request{SnapshotGroupID: "ssg-webnew", InstanceID: "i-webz", Latest: true}, wantCode: ErrValidationFailed, wantIn: "Latest"},
		{name: "filter with explicit pairs", req: Request{Disk: pairsOf("d-websys"), DiskIDs: []string{"d-websys"}}, wantCode: ErrValidationFailed, wantIn: "DiskIds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := groupFleet()
			req := tt.req
			req.RegionID = fakeRegion
			res, err := runRollback(t, f, &req)
			if tt.wantCode != "" {
				if got := codeOf(err); got != tt.wantCode {
					t.Fatalf("error code = %q (%v), want %q", got, err, tt.wantCode)
				}
				if !strings.Contains(err.Error(), tt.wantIn) {
					t.Errorf("error %q does not mention %q", err, tt.wantIn)
				}
				if n := len(f.mutatingNonDry()); n != 0 {
					t.Errorf("mutating calls after a refused plan: %v", f.mutatingNonDry())
				}
				var fe *Error
				if errors.As(err, &fe) && fe.Result == nil && req.Disk == nil && req.Validate() == nil {
					t.Errorf("the error carries no Result (plan and steps)")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Plan.SnapshotGroupID; got != tt.wantGroup {
				t.Errorf("Plan.SnapshotGroupId = %q, want %q", got, tt.wantGroup)
			}
			if got := res.Plan.Pairs; !slices.Equal(got, tt.wantPairs) {
				t.Errorf("Plan.Pairs = %v, want %v", got, tt.wantPairs)
			}
			if got := res.Summary.Status; got != StatusSucceeded {
				t.Errorf("Summary.Status = %q, want Succeeded (%s)", got, res.Summary.Message)
			}
			for _, p := range tt.wantPairs {
				if got := f.resets[p.DiskID]; !slices.Equal(got, []string{p.SnapshotID}) {
					t.Errorf("resets of %s = %v, want [%s]", p.DiskID, got, p.SnapshotID)
				}
			}
		})
	}
}

func TestNewestAccomplished(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	groups := []SnapshotGroup{
		{SnapshotGroupID: "ssg-a", InstanceID: "i-1", Status: SnapshotStatusAccomplished, CreationTime: t0},
		{SnapshotGroupID: "ssg-c", InstanceID: "i-1", Status: SnapshotStatusFailed, CreationTime: t0.Add(3 * time.Hour)},
		{SnapshotGroupID: "ssg-b", InstanceID: "i-1", Status: SnapshotStatusAccomplished, CreationTime: t0.Add(time.Hour)},
		{SnapshotGroupID: "ssg-d", InstanceID: "i-2", Status: SnapshotStatusAccomplished, CreationTime: t0.Add(5 * time.Hour)},
	}
	if got := newestAccomplished(groups, "i-1"); got == nil || got.SnapshotGroupID != "ssg-b" {
		t.Errorf("newestAccomplished = %v, want ssg-b", got)
	}
	if got := newestAccomplished(groups[1:2], "i-1"); got != nil {
		t.Errorf("newestAccomplished of a failed group = %v, want nil", got)
	}
}

func TestPlanBatches(t *testing.T) {
	for _, n := range []int{0, 1, 10, 11, 25, 100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			pairs := manyPairs(n)
			got := planBatches(pairs)
			if n <= ResetDisksBatchSize {
				if got != nil {
					t.Errorf("planBatches(%d) = %v, want none", n, got)
				}
				return
			}
			var flat []string
			for i, b := range got {
				if len(b) > ResetDisksBatchSize || (i < len(got)-1 && len(b) != ResetDisksBatchSize) {
					t.Errorf("batch %d has %d disks", i, len(b))
				}
				flat = append(flat, b...)
			}
			if want := pairDiskIDs(pairs); !slices.Equal(flat, want) {
				t.Errorf("batches flatten to %v, want %v", flat, want)
			}
		})
	}
}
