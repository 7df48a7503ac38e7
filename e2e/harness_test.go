// Package e2e runs the built function binary under the FC runtime emulator
// against the ECS emulator, over loopback HTTP, with the real SDKs on both
// sides: fc-runtime-go-sdk's fc.Start loop in the function process and
// alibaba-cloud-sdk-go as its ECS client.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

var soak = flag.Bool("soak", false, "run the long form of the load test")

// functionBinary is the function built once for the whole package, without
// the race detector: most tests run it. raceBinary is the
// same with the race detector, for the tests whose invocations run
// concurrently inside one process (FC instance concurrency), so a race
// there is caught; the race detector doubles a process's CPU, so the rest
// of the suite does without (the handler runs under it in-process, in
// inprocess_test.go and the mode matrix).
var functionBinary, raceBinary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// The whole suite waits out emulated transitions: minutes, not
		// seconds (make test-short is the quick pass).
		fmt.Println("e2e: skipped under -short")
		os.Exit(0)
	}
	os.Exit(runSuite(m))
}

// runSuite builds both binaries at once, runs the tests, greps their
// answers and logs for secrets, and removes the builds.
func runSuite(m *testing.M) int {
	builds := []struct {
		path  *string
		flags []string
	}{{&functionBinary, []string{"-ldflags=-s -w"}}, {&raceBinary, []string{"-race", "-ldflags=-s -w"}}} // stripped, as make build does: a quicker link
	cleanups := make([]func(), len(builds))
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, b := range builds {
		wg.Go(func() { *b.path, cleanups[i], errs[i] = testutil.Build("main", "..", b.flags...) })
	}
	wg.Wait()
	for _, cleanup := range cleanups {
		if cleanup != nil {
			defer cleanup()
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if code := m.Run(); code != 0 {
		return code
	}
	return grepSuiteForSecrets()
}

// env is one ECS emulator and one function process under the runtime emulator.
type env struct {
	ecs  *ecsemu.Server
	fc   *fcruntime.Server
	logs *fcruntime.LogBuffer
}

type envOptions struct {
	ecs     ecsemu.Options
	fnEnv   []string               // extra environment of the function process
	creds   *fcruntime.Credentials // invocation credentials; nil = the emulator's defaults
	timeout time.Duration          // function timeout
	race    bool                   // run raceBinary (concurrent invocations in one process)
}

// The suite's timing. The function polls every 100 ms (POLL_INTERVAL)
// against the emulator's 100–150 ms transitions, so a wait costs a poll or
// two, not the deployed 500 ms–1.5 s. The claim's settle delay stays the
// deployed 1 s: the tests run in parallel on a 2-core machine, and a claim
// whose read-to-write gap passes the settle delay fails closed
// (ClaimTimedOut) — right, but not what those tests are about.
const (
	e2ePollInterval = 100 * time.Millisecond
	e2eClaimSettle  = time.Second
)

// timingEnv is the function's environment for the suite's timing.
func timingEnv() []string {
	return []string{"POLL_INTERVAL=" + e2ePollInterval.String(), "CLAIM_SETTLE=" + e2eClaimSettle.String()}
}

// fastECS makes state transitions quick enough for tests.
func fastECS() ecsemu.Options {
	return ecsemu.Options{ResetDuration: 150 * time.Millisecond, StopDuration: 100 * time.Millisecond, StartDuration: 100 * time.Millisecond, SnapshotDuration: 100 * time.Millisecond}
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.ecs.ResetDuration == 0 {
		fast := fastECS()
		fast.Fixture, fast.Faults, fast.Seed = o.ecs.Fixture, o.ecs.Faults, o.ecs.Seed
		o.ecs = fast
	}
	es := testutil.StartECS(t, o.ecs)
	creds := fcruntime.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret}
	if o.creds != nil {
		creds = *o.creds
	}
	if o.timeout == 0 {
		o.timeout = 30 * time.Second
	}
	binary := functionBinary
	if o.race {
		binary = raceBinary
	}
	logs := &fcruntime.LogBuffer{}
	suiteLogs.add(logs)
	fs, err := fcruntime.NewServer(fcruntime.Options{
		Binary:       binary,
		Env:          append(append([]string{"ECS_ENDPOINT=" + es.URL(), "LOG_LEVEL=debug", "ALIBABA_CLOUD_ACCESS_KEY_ID=", "ALIBABA_CLOUD_ACCESS_KEY_SECRET="}, timingEnv()...), o.fnEnv...),
		FunctionName: "ecs-disk-rollback",
		Region:       "cn-hangzhou",
		Timeout:      o.timeout,
		Credentials:  creds,
		Stdout:       logs,
		Stderr:       logs,
	})
	if err != nil {
		t.Fatalf("FC runtime emulator: %v", err)
	}
	t.Cleanup(func() {
		fs.Close()
		if strings.Contains(logs.String(), "DATA RACE") {
			t.Errorf("the function process reported a data race:\n%s", logs.String())
		}
	})
	return &env{ecs: es, fc: fs, logs: logs}
}

// invoke runs one event and returns the raw result.
func (e *env) invoke(t *testing.T, event []byte, opts fcruntime.InvokeOptions) *fcruntime.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := e.fc.Invoke(ctx, event, opts)
	if err != nil {
		t.Fatalf("invoke: %v\nfunction logs:\n%s", err, e.logs.String())
	}
	suiteAnswers.record(res)
	return res
}

// ok invokes and decodes a successful result into v.
func (e *env) ok(t *testing.T, event []byte, v any) {
	t.Helper()
	res := e.invoke(t, event, fcruntime.InvokeOptions{})
	if res.Error != nil {
		t.Fatalf("invocation failed: %s: %s\nlogs:\n%s", res.Error.Type, res.Error.Message, e.logs.String())
	}
	if err := json.Unmarshal(res.Payload, v); err != nil {
		t.Fatalf("result %s: %v", res.Payload, err)
	}
}

// fail invokes and returns the FC error, failing the test on success.
func (e *env) fail(t *testing.T, event []byte) *fcruntime.FunctionError {
	t.Helper()
	res := e.invoke(t, event, fcruntime.InvokeOptions{})
	if res.Error == nil {
		t.Fatalf("invocation succeeded with %s, want an error", res.Payload)
	}
	return res.Error
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resetCalls counts the ECS requests of the given actions in the emulator's log.
func (e *env) calls(actions ...string) int {
	n := 0
	for _, r := range e.ecs.Requests() {
		for _, a := range actions {
			if r.Action == a {
				n++
			}
		}
	}
	return n
}

// Every function log and answer of the suite is kept, and grepped at the
// end for the credentials the suite uses: no test may leak them.
var (
	suiteLogs    logSet
	suiteAnswers answerSet
)

type logSet struct {
	mu   sync.Mutex
	bufs []*fcruntime.LogBuffer
}

func (l *logSet) add(b *fcruntime.LogBuffer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bufs = append(l.bufs, b)
}

type answerSet struct {
	mu      sync.Mutex
	answers []string
}

func (a *answerSet) record(res *fcruntime.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answers = append(a.answers, string(res.Payload))
	if res.Error != nil {
		a.answers = append(a.answers, res.Error.Type+" "+res.Error.Message)
	}
}

func grepSuiteForSecrets() int {
	suiteLogs.mu.Lock()
	suiteAnswers.mu.Lock()
	defer suiteLogs.mu.Unlock()
	defer suiteAnswers.mu.Unlock()
	texts := append([]string(nil), suiteAnswers.answers...)
	for _, b := range suiteLogs.bufs {
		texts = append(texts, b.String())
	}
	hits, size := 0, 0
	for _, s := range texts {
		size += len(s)
		for _, secret := range []string{ecsemu.DefaultAccessKeyID, ecsemu.DefaultAccessKeySecret} {
			if strings.Contains(s, secret) {
				hits++
				fmt.Fprintf(os.Stderr, "FAIL: %q leaked in: %.300s\n", secret, s)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "secrets check: %d answers and %d log streams (%d bytes) grepped for the suite's credentials: %d hits\n", len(suiteAnswers.answers), len(suiteLogs.bufs), size, hits)
	if hits > 0 {
		return 1
	}
	return 0
}
