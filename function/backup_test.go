package function

import (
	"slices"
	"strings"
	"testing"
)

func TestBackupBeforeReset(t *testing.T) {
	f := manyFleet(2)
	f.snapPolls = 3
	res, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: manyPairs(2), BackupBeforeReset: true, IdempotencyKey: "key-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ResetDisks dry", "CreateSnapshot*", "DescribeSnapshots*", "ResetDisks"}
	if got := f.opNames(); !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	wantBackups := []Backup{{"d-many0000", "s-backup0001", SnapshotStatusAccomplished}, {"d-many0001", "s-backup0002", SnapshotStatusAccomplished}}
	if !slices.Equal(res.Backups, wantBackups) {
		t.Errorf("Backups = %v, want %v", res.Backups, wantBackups)
	}
	if got := res.Plan.Backups; !slices.Equal(got, manyDisks(2)) {
		t.Errorf("Plan.Backups = %v", got)
	}
	for _, c := range f.callsOf("CreateSnapshot") {
		if !strings.HasPrefix(c.Name, "rollback-backup-"+c.Target+"-") {
			t.Errorf("snapshot name %q", c.Name)
		}
		if c.Tags[tagBackupOf] != c.Target {
			t.Errorf("tags %v lack %s=%s", c.Tags, tagBackupOf, c.Target)
		}
		if got, want := c.Tags[tagKey], guardHash(keyOriginCaller+"/key-1"); got != want || len(got) != 16 {
			t.Errorf("key tag = %q, want %q", got, want)
		}
	}
	if res.Summary.Status != StatusSucceeded {
		t.Errorf("Summary = %+v", res.Summary)
	}
}

func TestBackupFailureStopsBeforeReset(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(f *fakeECS)
		wantCode string
	}{
		{name: "CreateSnapshot refused", wantCode: "InvalidAccountStatus.SnapshotServiceUnavailable", setup: func(f *fakeECS) {
			f.hook = func(c fakeCall) error {
				if c.Op == "CreateSnapshot" && c.Target == "d-run0001" {
					return apiErr("InvalidAccountStatus.SnapshotServiceUnavailable", 403)
				}
				return nil
			}
		}},
		{name: "snapshot failed", wantCode: ErrBackupFailed, setup: func(f *fakeECS) {
			f.snapPolls = -1
			f.hook = func(c fakeCall) error {
				if c.Op == "DescribeSnapshots" { // the preflight's check reads snapshots before any backup exists
					f.mu.Lock()
					if s := f.snapshots["s-backup0002"]; s != nil {
						s.Status = SnapshotStatusFailed
					}
					f.mu.Unlock()
				}
				return nil
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeECS().addInstance("i-run0", InstanceStatusRunning, "d-run0000", "d-run0001")
			tt.setup(f)
			_, err := runRollback(t, f, &Request{RegionID: fakeRegion, Disk: pairsOf("d-run0000", "d-run0001"), BackupBeforeReset: true, StopInstance: true})
			if got := codeOf(err); got != tt.wantCode {
				t.Fatalf("error = %v, want %s", err, tt.wantCode)
			}
			if got := f.mutatingNonDry(); slices.ContainsFunc(got, func(c string) bool { return strings.HasPrefix(c, "ResetDisk") }) {
				t.Errorf("reset calls after a failed backup: %v", got)
			}
			var fe *Error
			asErr(err, &fe)
			if fe.Result == nil || len(fe.Result.Backups) == 0 {
				t.Errorf("Result = %+v, want the backups made so far", fe.Result)
			}
			if got := f.instanceStatus("i-run0"); got != InstanceStatusRunning {
				t.Errorf("i-run is %s, want Running again (nothing was reset)", got)
			}
		})
	}
}
