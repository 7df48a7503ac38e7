package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

const (
	region       = "cn-hangzhou"
	sysDisk      = "d-bp1stoppedsys0000000"
	sysSnap      = "s-bp1stoppedsys0000000"
	dataDisk     = "d-bp1stoppeddata000000"
	dataSnap     = "s-bp1stoppeddata000000"
	untagged     = "d-bp1untagged000000000"
	untaggedSnap = "s-bp1untagged000000000"
	notReady     = "d-bp1notready000000000"
	notReadySnap = "s-bp1notready000000000"
)

func pairs(kv ...string) []function.DiskPair {
	var out []function.DiskPair
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, function.DiskPair{DiskID: kv[i], SnapshotID: kv[i+1]})
	}
	return out
}

func statuses(r function.Result) []string {
	var out []string
	for _, p := range r.OperationProgressSet.OperationProgress {
		out = append(out, p.Item("DiskId")+"="+p.OperationStatus+p.ErrorCode)
	}
	return out
}

func TestResetSeveralDisks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	var res function.Result
	e.ok(t, sample(t, "direct-reset.json"), &res)
	if got, want := res.Summary.Status, function.StatusSucceeded; got != want {
		t.Fatalf("status = %q, want %q (%v)", got, want, statuses(res))
	}
	if got, want := strings.Join(statuses(res), " "), sysDisk+"=Success "+dataDisk+"=Success"; got != want {
		t.Errorf("progress = %q, want %q", got, want)
	}
	if res.RequestID == "" {
		t.Error("no ECS RequestId in the result")
	}
	for _, d := range []string{sysDisk, dataDisk} {
		if got, want := e.ecs.ResetCount(d), 1; got != want {
			t.Errorf("ResetCount(%s) = %d, want %d", d, got, want)
		}
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	var res function.Result
	e.ok(t, sample(t, "direct-dryrun.json"), &res)
	if got, want := res.Summary.Status, function.StatusDryRunPassed; got != want {
		t.Fatalf("status = %q, want %q", got, want)
	}
	if !res.Summary.DryRun || res.RequestID == "" {
		t.Errorf("summary %+v, RequestId %q: want DryRun and the DryRunOperation request id", res.Summary, res.RequestID)
	}
	for _, d := range []string{sysDisk, dataDisk} {
		if got := e.ecs.ResetCount(d); got != 0 {
			t.Errorf("ResetCount(%s) = %d after a dry run, want 0", d, got)
		}
	}
}

func TestValidationRulesRejectBeforeAnyCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	tests := []struct {
		name, event, field string
	}{
		{"missing region", `{"Disk":[{"DiskId":"` + sysDisk + `","SnapshotId":"` + sysSnap + `"}]}`, "RegionId"},
		{"malformed region", `{"RegionId":"CN_HANGZHOU!","Disk":[{"DiskId":"` + sysDisk + `","SnapshotId":"` + sysSnap + `"}]}`, "RegionId"},
		{"no pairs", `{"RegionId":"cn-hangzhou","Disk":[]}`, "Disk"},
		{"too many pairs", `{"RegionId":"cn-hangzhou","Disk":[` + strings.TrimSuffix(strings.Repeat(`{"DiskId":"d-aaaa","SnapshotId":"s-aaaa"},`, 101), ",") + `]}`, "Disk"},
		{"missing snapshot", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + sysDisk + `"}]}`, "Disk[0].SnapshotId"},
		{"malformed disk id", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"disk-1","SnapshotId":"` + sysSnap + `"}]}`, "Disk[0].DiskId"},
		{"disk listed twice", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + sysDisk + `","SnapshotId":"` + sysSnap + `"},{"DiskId":"` + sysDisk + `","SnapshotId":"` + dataSnap + `"}]}`, "Disk"},
		{"unknown field", `{"RegionId":"cn-hangzhou","Force":true,"Disk":[{"DiskId":"` + sysDisk + `","SnapshotId":"` + sysSnap + `"}]}`, "Force"},
		{"not JSON", `RegionId=cn-hangzhou`, "(event)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := e.fail(t, []byte(tt.event))
			if got, want := fe.Type, function.ErrValidationFailed; got != want {
				t.Fatalf("errorType = %q, want %q (%s)", got, want, fe.Message)
			}
			if !strings.Contains(fe.Message, tt.field) {
				t.Errorf("message %q does not name %q", fe.Message, tt.field)
			}
		})
	}
	if got := len(e.ecs.Requests()); got != 0 {
		t.Errorf("ECS saw %d requests for invalid events, want 0", got)
	}
}

func TestECSRejectionCarriesCodeAndRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	fe := e.fail(t, mustJSON(t, function.Request{RegionID: region, Disk: pairs("d-bp1doesnotexist00000", sysSnap)}))
	if got, want := fe.Type, "InvalidDiskId.NotFound"; got != want {
		t.Fatalf("errorType = %q, want %q (%s)", got, want, fe.Message)
	}
	var resetID string
	for _, r := range e.ecs.Requests() {
		if r.Action == "ResetDisks" {
			resetID = r.RequestID
		}
	}
	if resetID == "" || !strings.Contains(fe.Message, resetID) {
		t.Errorf("message %q lacks the ResetDisks RequestId %q", fe.Message, resetID)
	}
}

// TestPartialFailureKnowableBeforehandIsRefused: a request with one pair
// whose snapshot is not ready is refused as a whole, before any reset (its
// dry run says so), rather than half rolled back. Partial results remain
// for what ECS reports during the reset itself (function unit tests:
// TestPartialAnswerKeepsECSEntries).
func TestPartialFailureKnowableBeforehandIsRefused(t *testing.T) {
	t.Parallel()
	req := function.Request{RegionID: region, Disk: pairs(untagged, untaggedSnap, notReady, notReadySnap)}
	e := newEnv(t, envOptions{fnEnv: []string{"FAIL_ON_PARTIAL=true"}})
	fe := e.fail(t, mustJSON(t, req))
	if got, want := fe.Type, function.ErrPlanRefused; got != want {
		t.Fatalf("errorType = %q, want %q (%s)", got, want, fe.Message)
	}
	if !strings.Contains(fe.Message, notReady+" (InvalidSnapshotId.NotReady)") {
		t.Errorf("message %q does not name the pair at fault", fe.Message)
	}
	if got := e.ecs.ResetCount(untagged); got != 0 {
		t.Errorf("ResetCount(%s) = %d, want 0", untagged, got)
	}
}

func TestCredentialsComeFromTheInvocation(t *testing.T) {
	t.Parallel()
	event := mustJSON(t, function.Request{RegionID: region, DryRun: true, Disk: pairs(sysDisk, sysSnap)})
	tests := []struct {
		name     string
		creds    fcruntime.Credentials
		wantType string
	}{
		{"right keys", fcruntime.Credentials{AccessKeyID: "LTAIemulator00000000", AccessKeySecret: "emulator-secret"}, ""},
		{"unknown key id", fcruntime.Credentials{AccessKeyID: "LTAIsomeoneelse0000", AccessKeySecret: "emulator-secret"}, "InvalidAccessKeyId.NotFound"},
		{"wrong secret", fcruntime.Credentials{AccessKeyID: "LTAIemulator00000000", AccessKeySecret: "not-the-secret"}, "SignatureDoesNotMatch"},
	}
	e := newEnv(t, envOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := tt.creds
			res := e.invoke(t, event, fcruntime.InvokeOptions{Credentials: &creds})
			switch {
			case tt.wantType == "" && res.Error != nil:
				t.Fatalf("error %s: %s", res.Error.Type, res.Error.Message)
			case tt.wantType != "" && (res.Error == nil || res.Error.Type != tt.wantType):
				t.Fatalf("got %+v %s, want errorType %q", res.Error, res.Payload, tt.wantType)
			}
		})
	}
	if strings.Contains(e.logs.String(), "not-the-secret") || strings.Contains(e.logs.String(), "emulator-secret") {
		t.Error("a secret reached the function's logs")
	}
}

func TestConcurrentInvocations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{race: true})
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			event := mustJSON(t, function.Request{RegionID: region, DryRun: true, Disk: pairs(sysDisk, sysSnap, dataDisk, dataSnap)})
			if i%3 == 0 { // some invalid ones in the mix
				event = []byte(`{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"bad"}]}`)
			}
			res, err := e.fc.Invoke(t.Context(), event, fcruntime.InvokeOptions{RequestID: fmt.Sprintf("req-%d", i)})
			switch {
			case err != nil:
				errs <- err
			case i%3 == 0 && (res.Error == nil || res.Error.Type != function.ErrValidationFailed):
				errs <- fmt.Errorf("invocation %d: got %+v, want ValidationFailed", i, res.Error)
			case i%3 != 0 && res.Error != nil:
				errs <- fmt.Errorf("invocation %d: %s: %s", i, res.Error.Type, res.Error.Message)
			case i%3 != 0 && !strings.Contains(string(res.Payload), function.StatusDryRunPassed):
				errs <- fmt.Errorf("invocation %d: %s", i, res.Payload)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestGuardRails(t *testing.T) {
	t.Parallel()
	t.Run("allow-list refuses an untagged disk", func(t *testing.T) {
		e := newEnv(t, envOptions{fnEnv: []string{"ALLOWED_DISK_TAG=rollback=allowed"}})
		fe := e.fail(t, mustJSON(t, function.Request{RegionID: region, Disk: pairs(sysDisk, sysSnap, untagged, untaggedSnap)}))
		if fe.Type != function.ErrDiskNotAllowed || !strings.Contains(fe.Message, untagged) {
			t.Fatalf("got %s %q, want DiskNotAllowed naming %s", fe.Type, fe.Message, untagged)
		}
		if n := e.calls("ResetDisks", "ResetDisk", "TagResources"); n != 0 {
			t.Errorf("%d mutating calls, want 0", n)
		}
		var res function.Result // the tagged disks alone pass
		e.ok(t, mustJSON(t, function.Request{RegionID: region, Disk: pairs(sysDisk, sysSnap)}), &res)
		if res.Summary.Status != function.StatusSucceeded {
			t.Errorf("summary %+v", res.Summary)
		}
	})
	t.Run("cooldown refuses a second reset", func(t *testing.T) {
		e := newEnv(t, envOptions{fnEnv: []string{"ROLLBACK_COOLDOWN=1h"}})
		var res function.Result
		e.ok(t, mustJSON(t, function.Request{RegionID: region, Disk: pairs(sysDisk, sysSnap), IdempotencyKey: "change-1"}), &res)
		time.Sleep(300 * time.Millisecond) // back from ReIniting
		fe := e.fail(t, mustJSON(t, function.Request{RegionID: region, Disk: pairs(sysDisk, sysSnap), IdempotencyKey: "change-2"}))
		if fe.Type != function.ErrCooldownActive || !strings.Contains(fe.Message, sysDisk) {
			t.Fatalf("got %s %q, want CooldownActive naming %s", fe.Type, fe.Message, sysDisk)
		}
		if got := e.ecs.ResetCount(sysDisk); got != 1 {
			t.Errorf("ResetCount = %d, want 1", got)
		}
	})
	t.Run("a duplicate event resets once", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		event := sample(t, "eventbridge-request.json")
		var req map[string]any
		_ = jsonUnmarshal(event, &req)
		req["data"].(map[string]any)["DryRun"] = false
		event = mustJSON(t, req)
		var first, second function.Result
		e.ok(t, event, &first)
		time.Sleep(300 * time.Millisecond)
		e.ok(t, event, &second)
		if first.Summary.Status != function.StatusSucceeded || second.Summary.Status != function.StatusDuplicate {
			t.Errorf("statuses %q then %q, want Succeeded then Duplicate", first.Summary.Status, second.Summary.Status)
		}
		for _, d := range []string{sysDisk, dataDisk} {
			if got := e.ecs.ResetCount(d); got != 1 {
				t.Errorf("ResetCount(%s) = %d, want 1", d, got)
			}
		}
	})
}

func TestOrchestratedRollback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	var res function.Result
	e.ok(t, mustJSON(t, function.Request{RegionID: region, InstanceID: "i-bp1running0000000000", Latest: true,
		StopInstance: true, StartInstance: true, Wait: true, BackupBeforeReset: true}), &res)
	if res.Summary.Status != function.StatusSucceeded {
		t.Fatalf("summary %+v, steps %+v", res.Summary, res.Steps)
	}
	if len(res.Backups) != 2 || len(res.Disks) != 2 {
		t.Errorf("backups %+v, disks %+v: want two of each", res.Backups, res.Disks)
	}
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Name)
	}
	t.Logf("steps: %v", names)
	inst, _ := e.ecs.Instance(region, "i-bp1running0000000000")
	if inst.Status != "Running" && inst.Status != "Starting" {
		t.Errorf("instance %s, want started again", inst.Status)
	}
	for _, d := range []string{"d-bp1runningsys0000000", "d-bp1runningdata000000"} {
		if got := e.ecs.ResetCount(d); got != 1 {
			t.Errorf("ResetCount(%s) = %d, want 1", d, got)
		}
	}
}
