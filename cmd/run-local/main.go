// Command run-local runs the function on one machine as FC would: it
// starts the ECS emulator (default fleet unless -fixture), starts the built
// function binary under the FC runtime emulator pointed at it, invokes it
// once per event file in order, and prints each result. `make run` uses it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
)

type eventList []string

func (l *eventList) String() string     { return strings.Join(*l, ",") }
func (l *eventList) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	binary := fs.String("binary", "target/main", "the built function binary")
	fixture := fs.String("fixture", "", "ECS emulator fixture JSON (default: the embedded fleet)")
	timeout := fs.Duration("timeout", 60*time.Second, "function timeout")
	resetDuration := fs.Duration("reset-duration", 2*time.Second, "how long a reset disk stays ReIniting in the emulator")
	quiet := fs.Bool("quiet", false, "do not copy the function's logs to stderr")
	var events, env eventList
	fs.Var(&events, "event", "event file to invoke with (repeatable, in order)")
	fs.Var(&env, "env", "K=V for the function's environment (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(events) == 0 {
		fmt.Fprintln(stderr, "run-local: give at least one -event FILE")
		return 2
	}
	opts := ecsemu.Options{ResetDuration: *resetDuration, StopDuration: time.Second, StartDuration: time.Second, SnapshotDuration: time.Second}
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
	fmt.Fprintf(stderr, "ECS emulator on %s (default fleet: docs/default-fleet.md)\n", es.URL())

	logs := stderr
	if *quiet {
		logs = io.Discard
	}
	rt, err := fcruntime.NewServer(fcruntime.Options{
		Binary:       *binary,
		Env:          append([]string{"ECS_ENDPOINT=" + es.URL()}, env...),
		FunctionName: "ecs-disk-rollback",
		Region:       "cn-hangzhou",
		Timeout:      *timeout,
		Credentials:  fcruntime.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret},
		Stdout:       logs,
		Stderr:       logs,
	})
	if err != nil {
		fmt.Fprintln(stderr, "run-local: FC runtime emulator:", err)
		return 1
	}
	defer rt.Close()

	failed := false
	for _, path := range events {
		event, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "run-local:", err)
			return 1
		}
		res, err := rt.Invoke(ctx, event, fcruntime.InvokeOptions{})
		if err != nil {
			fmt.Fprintln(stderr, "run-local: invoke:", err)
			return 1
		}
		rep := res.Report() // a timeout is an error too
		rep.Event = path
		failed = failed || rep.Error != nil
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, "run-local:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if failed {
		return 1
	}
	return 0
}
