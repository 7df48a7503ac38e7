// Command run-local runs the function on one machine as FC would: it
// starts the ECS emulator (default fleet unless -fixture), starts the built
// function binary under the FC runtime emulator pointed at it, invokes it
// once per event file in order, and prints each answer, readably, followed
// by one summary line; a final line sums the run up. `make run` uses it.
//
// The function's JSON logs go to a file (-log, named in the output), or
// to stderr as well with -v. It only ever talks to its own ECS emulator:
// ECS_ENDPOINT cannot be overridden, and the shell's Alibaba Cloud
// credentials are not passed to the function.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
)

type eventList []string

func (l *eventList) String() string     { return strings.Join(*l, ",") }
func (l *eventList) Set(v string) error { *l = append(*l, v); return nil }

// emulatorClaimSettle is the idempotency settle delay (CLAIM_SETTLE) used
// against the emulator, which answers in milliseconds: the e2e suite's value.
// A deployed function keeps the 1 s default (docs/idempotency.md).
const emulatorClaimSettle = 300 * time.Millisecond

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process. Exit code: 0 when every invocation was
// answered (a function error is an answer, shown as such; with -strict it
// is 1), 1 when the local run itself failed, 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	binary := fs.String("binary", "target/main", "the built function binary")
	fixture := fs.String("fixture", "", "ECS emulator fixture JSON (default: the embedded fleet)")
	timeout := fs.Duration("timeout", 60*time.Second, "function timeout")
	resetDuration := fs.Duration("reset-duration", 2*time.Second, "how long a reset disk stays ReIniting in the emulator")
	transition := fs.Duration("transition", time.Second, "how long a stop, a start and a snapshot take in the emulator")
	logPath := fs.String("log", "target/run-local.log", "file for the function's JSON logs (overwritten)")
	verbose := fs.Bool("v", false, "show the function's logs on stderr too")
	settle := fs.Duration("claim-settle", emulatorClaimSettle, "CLAIM_SETTLE for the function (the emulator answers fast; a deployed function keeps 1s)")
	strict := fs.Bool("strict", false, "exit 1 when the function answers any event with an error")
	var events, env eventList
	fs.Var(&events, "event", "event file to invoke with (repeatable, in order)")
	fs.Var(&env, "env", "K=V for the function's environment (repeatable), e.g. ALARM_ROLLBACK=true")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "run-local: unexpected arguments %q (events go after -event, environment after -env)\n", fs.Args())
		return 2
	}
	if len(events) == 0 {
		fmt.Fprintln(stderr, "run-local: give at least one -event FILE")
		return 2
	}
	settleShown := settle.String()
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok || k == "":
			fmt.Fprintf(stderr, "run-local: -env %q: want KEY=VALUE\n", kv)
			return 2
		case k == "ECS_ENDPOINT":
			fmt.Fprintln(stderr, "run-local: ECS_ENDPOINT cannot be set: run-local only talks to its own ECS emulator (for another endpoint use cmd/fc-runtime-emulator)")
			return 2
		case k == "CLAIM_SETTLE":
			settleShown = v
		}
	}
	// Read every event first: a typo should not cost a function start.
	payloads := make([][]byte, len(events))
	for i, p := range events {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(stderr, "run-local:", err)
			return 1
		}
		payloads[i] = b
	}

	opts := ecsemu.Options{ResetDuration: *resetDuration, StopDuration: *transition, StartDuration: *transition, SnapshotDuration: *transition}
	if *fixture != "" {
		fx, err := ecsemu.LoadFixture(*fixture)
		if err != nil {
			fmt.Fprintln(stderr, "run-local:", err)
			return 1
		}
		opts.Fixture = fx
	}
	es, err := ecsemu.NewServer(opts)
	if err != nil {
		fmt.Fprintln(stderr, "run-local: ECS emulator:", err)
		return 1
	}
	defer es.Close()
	fleet := "default fleet: docs/default-fleet.md"
	if *fixture != "" {
		fleet = "fixture " + *fixture
	}
	fmt.Fprintf(stdout, "run-local: ECS emulator on %s (%s)\n", es.URL(), fleet)
	fmt.Fprintf(stdout, "run-local: CLAIM_SETTLE=%s: the idempotency settle delay, short because the emulator answers in milliseconds; a deployed function keeps the safe 1s default (docs/idempotency.md)\n", settleShown)

	if err := os.MkdirAll(filepath.Dir(*logPath), 0o755); err != nil {
		fmt.Fprintln(stderr, "run-local:", err)
		return 1
	}
	logFile, err := os.Create(*logPath)
	if err != nil {
		fmt.Fprintln(stderr, "run-local:", err)
		return 1
	}
	defer logFile.Close()
	var logs io.Writer = logFile
	where := "function logs (JSON): " + *logPath + " (-v to show them here too)"
	if *verbose {
		logs = io.MultiWriter(logFile, stderr)
		where = "function logs (JSON): on stderr and in " + *logPath
	}
	fmt.Fprintln(stdout, "run-local: "+where)
	if len(env) > 0 {
		fmt.Fprintf(stdout, "run-local: function environment: %s\n", strings.Join(env, " "))
	}

	// The shell's credentials never reach the function: it gets the
	// emulator's with each invocation, and ECS_ENDPOINT (last, so it wins)
	// is the emulator.
	fnEnv := []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=", "ALIBABA_CLOUD_SECURITY_TOKEN=", "CLAIM_SETTLE=" + settle.String()}
	fnEnv = append(append(fnEnv, env...), "ECS_ENDPOINT="+es.URL())
	lw := &lockedWriter{w: logs}
	rt, err := fcruntime.NewServer(fcruntime.Options{
		Binary:       *binary,
		Env:          fnEnv,
		FunctionName: "ecs-disk-rollback",
		Region:       "cn-hangzhou",
		Timeout:      *timeout,
		Credentials:  fcruntime.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret},
		Stdout:       lw,
		Stderr:       lw,
	})
	if err != nil {
		fmt.Fprintln(stderr, "run-local: FC runtime emulator:", err)
		return 1
	}
	defer rt.Close()

	start := time.Now()
	var answered, errored []string
	version := ""
	for i, path := range events {
		res, err := rt.Invoke(ctx, payloads[i], fcruntime.InvokeOptions{})
		if res == nil {
			fmt.Fprintln(stderr, "run-local: invoke:", err)
			return 1
		}
		rep := res.Report() // a timeout is an error too
		o := summarize(rep)
		fmt.Fprintf(stdout, "\n--- %s (FC request %s)\n", path, rep.RequestID)
		if rep.Error != nil {
			// FC errors carry what was done as "...; result: {JSON}".
			msg, done, ok := strings.Cut(rep.Error.ErrorMessage, "; result: ")
			fmt.Fprintf(stdout, "error %s: %s\n", rep.Error.ErrorType, msg)
			if ok {
				fmt.Fprintf(stdout, "result: %s\n", readable([]byte(done)))
			}
		} else {
			fmt.Fprintln(stdout, readable(rep.Result))
		}
		fmt.Fprintln(stdout, o.line(path, rep.DurationMs))
		if o.FunctionError != "" {
			errored = append(errored, o.FunctionError)
		} else {
			answered = append(answered, path)
		}
		if version == "" {
			version = o.Version
		}
		if err != nil { // the process died: nothing more can run
			fmt.Fprintln(stderr, "run-local:", err)
			fmt.Fprintln(stdout, final(len(events), answered, errored, time.Since(start), version, *logPath))
			return 1
		}
	}
	fmt.Fprintln(stdout, final(len(events), answered, errored, time.Since(start), version, *logPath))
	if *strict && len(errored) > 0 {
		return 1
	}
	return 0
}

// final is the run's last line.
func final(total int, answered, errored []string, took time.Duration, version, logPath string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "run-local: %d of %d invocations answered with a result", len(answered), total)
	if len(errored) > 0 {
		fmt.Fprintf(&b, ", %d with a function error (%s: the function's answer to the event, not a build or emulator failure)",
			len(errored), strings.Join(errored, ", "))
	}
	if n := total - len(answered) - len(errored); n > 0 {
		fmt.Fprintf(&b, ", %d not run (the function process died)", n)
	}
	if version == "" {
		version = versionFromLog(logPath)
	}
	fmt.Fprintf(&b, "; %s; function version %s; logs in %s", took.Round(10*time.Millisecond), version, logPath)
	return b.String()
}

// startLine is the function's first log line; it names the build.
var startLine = regexp.MustCompile(`"msg":"ecs-disk-rollback starting","version":"([^"]*)"`)

// versionFromLog reads the version from the function's start log line,
// for a run where no Result carried it (every answer an error).
func versionFromLog(path string) string {
	b, err := os.ReadFile(path)
	if m := startLine.FindSubmatch(b); err == nil && m != nil {
		return string(m[1])
	}
	return "unknown"
}

// lockedWriter serialises the function's stdout and stderr copies.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
