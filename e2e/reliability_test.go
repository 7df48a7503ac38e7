package e2e

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// faultCase is one fault the function must survive: what the caller sees
// and how often each disk may have been reset.
type faultCase struct {
	name   string
	faults []ecsemu.FaultRule
	// accept reports whether the caller's view is a right one.
	accept func(res *fcruntime.Result, r *function.Result) error
	// maxResets per disk: never more than one.
	wantResets int
}

func succeeded(res *fcruntime.Result, r *function.Result) error {
	if res.Error != nil {
		return fmt.Errorf("error %s: %s", res.Error.Type, res.Error.Message)
	}
	if r.Summary.Status != function.StatusSucceeded {
		return fmt.Errorf("summary %+v", r.Summary)
	}
	return nil
}

// reportedOrSucceeded accepts a success, or a result that reports each disk
// it could not confirm (never a silent gap).
func reportedOrSucceeded(res *fcruntime.Result, r *function.Result) error {
	if res.Error != nil {
		switch res.Error.Type {
		case function.ErrECSUnreachable, function.ErrDeadlineExceeded, function.ErrOutcomeUnknown:
			return nil
		}
		return fmt.Errorf("error %s: %s", res.Error.Type, res.Error.Message)
	}
	if got := len(r.OperationProgressSet.OperationProgress); got != 2 {
		return fmt.Errorf("%d disks reported, want 2: %+v", got, r.Summary)
	}
	return nil
}

func TestFaultsSurvived(t *testing.T) {
	t.Parallel()
	// Each fault hits the real ResetDisks: the first call is the
	// preflight's dry run (FaultPass lets it through).
	pass := ecsemu.FaultPass
	cases := []faultCase{
		{"throttling burst", []ecsemu.FaultRule{{Action: "ResetDisks", Sequence: []ecsemu.FaultKind{pass, ecsemu.FaultThrottle, ecsemu.FaultThrottle}}}, succeeded, 1},
		// A 5xx to the reset is not retried (ECS may have acted); here it
		// did not, so the disks are reported unknown: never Success.
		{"500 on the reset", []ecsemu.FaultRule{{Action: "ResetDisks", Sequence: []ecsemu.FaultKind{pass, ecsemu.FaultInternal}}}, reportedOrSucceeded, 1},
		{"latency", []ecsemu.FaultRule{{Action: "ResetDisks", Sequence: []ecsemu.FaultKind{pass, ecsemu.FaultLatency}, Latency: 300 * time.Millisecond}}, succeeded, 1},
		{"drop before acting", []ecsemu.FaultRule{{Action: "ResetDisks", Sequence: []ecsemu.FaultKind{pass, ecsemu.FaultDropBefore}}}, reportedOrSucceeded, 1},
		{"drop after acting", []ecsemu.FaultRule{{Action: "ResetDisks", Sequence: []ecsemu.FaultKind{pass, ecsemu.FaultDropAfter}}}, func(res *fcruntime.Result, r *function.Result) error {
			if err := reportedOrSucceeded(res, r); err != nil {
				return err
			}
			if res.Error == nil && r.Summary.Succeeded != 2 {
				return fmt.Errorf("the reset was applied; want both disks confirmed, got %+v", r.OperationProgressSet)
			}
			return nil
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := fastECS()
			o.ResetDuration = 2 * time.Second // long enough to see ReIniting after a drop
			o.Faults = tc.faults
			e := newEnv(t, envOptions{ecs: o})
			res := e.invoke(t, sample(t, "direct-reset.json"), fcruntime.InvokeOptions{})
			var r function.Result
			if res.Error == nil {
				if err := jsonUnmarshal(res.Payload, &r); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.accept(res, &r); err != nil {
				t.Errorf("outcome: %v\nlogs:\n%s", err, e.logs.String())
			}
			for _, d := range []string{sysDisk, dataDisk} {
				if got := e.ecs.ResetCount(d); got > tc.wantResets {
					t.Errorf("ResetCount(%s) = %d, want at most %d", d, got, tc.wantResets)
				}
			}
			recordFault(tc.name, res, &r, e)
		})
	}
}

func TestLatencyNearTheDeadline(t *testing.T) {
	o := fastECS()
	o.Faults = []ecsemu.FaultRule{{Action: "ResetDisks", Kind: ecsemu.FaultLatency, Latency: 5 * time.Second}}
	e := newEnv(t, envOptions{ecs: o, timeout: 2 * time.Second})
	res := e.invoke(t, sample(t, "direct-reset.json"), fcruntime.InvokeOptions{})
	if res.TimedOut {
		t.Fatal("FC reported a timeout: the function must answer before its deadline")
	}
	if res.Error == nil || res.Error.Type != function.ErrDeadlineExceeded {
		t.Fatalf("got %+v %s, want DeadlineExceeded", res.Error, res.Payload)
	}
	recordFault("latency past the deadline", res, nil, e)
}

func TestEndpointDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{fnEnv: []string{"ECS_ENDPOINT=http://" + testutil.RefusedAddr}, timeout: 5 * time.Second})
	res := e.invoke(t, sample(t, "direct-reset.json"), fcruntime.InvokeOptions{})
	if res.Error == nil || res.Error.Type != function.ErrECSUnreachable {
		t.Fatalf("got %+v %s, want ECSUnreachable", res.Error, res.Payload)
	}
	if strings.Contains(res.Error.Message, "AccessKeyId") || strings.Contains(res.Error.Message, "Signature=") {
		t.Errorf("the error leaks the signed URL: %s", res.Error.Message)
	}
	recordFault("ECS endpoint down", res, nil, e)
}

func TestFCRetryOfASucceededInvocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	event := sample(t, "direct-reset.json")
	first := e.invoke(t, event, fcruntime.InvokeOptions{RequestID: "fc-async-1"})
	if first.Error != nil {
		t.Fatalf("first: %s %s", first.Error.Type, first.Error.Message)
	}
	time.Sleep(300 * time.Millisecond) // the disks are back from ReIniting
	again := e.invoke(t, event, fcruntime.InvokeOptions{RequestID: "fc-async-1", RetryCount: 1})
	var r function.Result
	if again.Error != nil || jsonUnmarshal(again.Payload, &r) != nil {
		t.Fatalf("retry: %+v %s", again.Error, again.Payload)
	}
	if r.Summary.Status != function.StatusDuplicate {
		t.Errorf("retry summary %+v, want Duplicate", r.Summary)
	}
	for _, d := range []string{sysDisk, dataDisk} {
		if got := e.ecs.ResetCount(d); got != 1 {
			t.Errorf("ResetCount(%s) = %d, want 1", d, got)
		}
	}
	recordFault("FC async retry of a success", again, &r, e)
}

func TestConcurrentDuplicatesResetOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{race: true})
	event := mustJSON(t, function.Request{RegionID: region, Disk: pairs(sysDisk, sysSnap, dataDisk, dataSnap), IdempotencyKey: "change-42"})
	var wg sync.WaitGroup
	results := make([]*fcruntime.Result, 2)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := e.fc.Invoke(t.Context(), event, fcruntime.InvokeOptions{RequestID: fmt.Sprintf("dup-%d", i)})
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = res
		}(i)
	}
	wg.Wait()
	for _, d := range []string{sysDisk, dataDisk} {
		if got := e.ecs.ResetCount(d); got != 1 {
			t.Errorf("ResetCount(%s) = %d, want 1", d, got)
		}
	}
	// One invocation resets; the other, running at the same time with the
	// same key, either finds the disks recorded (Duplicate) or in flight:
	// then it says so (RollbackInProgress), never Succeeded for a reset it
	// did not see through.
	succeeded := 0
	for i, res := range results {
		switch {
		case res == nil:
		case res.Error == nil:
			succeeded++
		case res.Error.Type != function.ErrRollbackInProgress:
			t.Errorf("invocation %d: %s %s, want a result or RollbackInProgress", i, res.Error.Type, res.Error.Message)
		}
	}
	if succeeded == 0 {
		t.Errorf("no invocation answered with a result")
	}
}

// TestSecretsNeverLeak runs the paths that handle credentials — success,
// ECS rejections, an unreachable endpoint (whose SDK error holds the signed
// URL) and DEBUG=sdk — and greps every log line and answer for them.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const (
		keyID  = "LTAIe2eLeakCheckKey01"
		secret = "e2e-leak-check-secret-value"
		token  = "e2e-leak-check-sts-token-value"
	)
	creds := fcruntime.Credentials{AccessKeyID: keyID, AccessKeySecret: secret, SecurityToken: token}
	o := fastECS()
	o.AccessKeyID, o.AccessKeySecret, o.SecurityToken = keyID, secret, token
	var answers []string
	check := func(e *env) {
		for _, s := range append(answers, e.logs.String()) {
			for _, bad := range []string{keyID, secret, token} {
				if strings.Contains(s, bad) {
					t.Errorf("%q leaked in: %.300s", bad, s)
				}
			}
		}
	}
	run := func(e *env, event []byte) {
		res := e.invoke(t, event, fcruntime.InvokeOptions{})
		answers = append(answers, string(res.Payload))
		if res.Error != nil {
			answers = append(answers, res.Error.Type+" "+res.Error.Message)
		}
	}
	e := newEnv(t, envOptions{ecs: o, creds: &creds, fnEnv: []string{"DEBUG=sdk"}})
	for _, ev := range [][]byte{
		sample(t, "direct-reset.json"), sample(t, "direct-dryrun.json"), sample(t, "http-post.json"),
		mustJSON(t, function.Request{RegionID: region, Disk: pairs("d-bp1doesnotexist00000", sysSnap)}),
		[]byte(`{"RegionId":"x"}`),
	} {
		run(e, ev)
	}
	check(e)
	down := newEnv(t, envOptions{ecs: o, creds: &creds, fnEnv: []string{"ECS_ENDPOINT=http://" + testutil.RefusedAddr, "DEBUG=sdk"}, timeout: 5 * time.Second})
	run(down, sample(t, "direct-reset.json"))
	check(down)
	recordFigure("secrets", fmt.Sprintf("%d answers and %d log bytes grepped for the key id, secret and token: 0 hits", len(answers), len(e.logs.String())+len(down.logs.String())))
}

// TestLoad drives concurrent invocations with faults on. Every invocation
// must end in a correct result or a typed error; the function's memory must
// not keep growing. -soak makes it longer.
func TestLoad(t *testing.T) {
	total, workers := 200, 16
	if *soak {
		total, workers = 5000, 32
	}
	if testing.Short() {
		total = 60
	}
	o := fastECS()
	o.Seed = 7
	o.Faults = []ecsemu.FaultRule{
		{Action: "ResetDisks", Kind: ecsemu.FaultThrottle, Rate: 0.2},
		{Action: "ResetDisks", Kind: ecsemu.FaultInternal, Rate: 0.05},
		{Action: "ResetDisks", Kind: ecsemu.FaultLatency, Rate: 0.1, Latency: 50 * time.Millisecond},
	}
	e := newEnv(t, envOptions{ecs: o, race: true})
	goroutinesBefore := runtime.NumGoroutine()
	events := [][]byte{
		mustJSON(t, function.Request{RegionID: region, DryRun: true, Disk: pairs(sysDisk, sysSnap, dataDisk, dataSnap)}),
		[]byte(`{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"bad"}]}`),
		mustJSON(t, function.Request{RegionID: region, Disk: pairs("d-bp1doesnotexist00000", sysSnap)}),
		sample(t, "http-post-dryrun-query.json"),
	}
	var okCount, typedErrors, bad atomic.Int64
	var rssMid int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res, err := e.fc.Invoke(t.Context(), events[i%len(events)], fcruntime.InvokeOptions{})
				switch {
				case err != nil || res.TimedOut:
					bad.Add(1)
					t.Errorf("invocation %d: %v timedOut=%v", i, err, res != nil && res.TimedOut)
				case res.Error != nil && typedErrorName(res.Error.Type):
					typedErrors.Add(1)
				case res.Error != nil:
					bad.Add(1)
					t.Errorf("invocation %d: untyped error %+v", i, res.Error)
				default:
					okCount.Add(1)
				}
			}
		}()
	}
	start := time.Now()
	for i := 0; i < total; i++ {
		if i == total/2 {
			rssMid = rssKB(e.fc.PID())
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	rssEnd := rssKB(e.fc.PID())
	if rssMid > 0 && rssEnd > rssMid+16*1024 {
		t.Errorf("function RSS grew from %d KB (half-way) to %d KB (end)", rssMid, rssEnd)
	}
	time.Sleep(100 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > goroutinesBefore+workers {
		t.Errorf("goroutines %d → %d", goroutinesBefore, after)
	}
	recordFigure("load", fmt.Sprintf("%d invocations, %d workers, faults throttle 20%% / 500 5%% / latency 10%%: %d results, %d typed errors, %d bad, %.0f inv/s, function RSS %d KB half-way → %d KB end",
		total, workers, okCount.Load(), typedErrors.Load(), bad.Load(), float64(total)/elapsed.Seconds(), rssMid, rssEnd))
}

// typedErrorName tells the function's and ECS's error names (ValidationFailed,
// InvalidDiskId.NotFound, InternalError) from Go type names the FC SDK
// reports for untyped errors (errorString, wrapError).
func typedErrorName(s string) bool {
	return s != "" && s[0] >= 'A' && s[0] <= 'Z'
}

// rssKB reads a process's resident set size.
func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}
