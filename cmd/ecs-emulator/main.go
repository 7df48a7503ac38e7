// Command ecs-emulator serves the local ECS OpenAPI emulator (package
// emulator/ecsemu) until SIGINT or SIGTERM.
//
//	go run ./cmd/ecs-emulator -addr 127.0.0.1:0 -fixture FILE
//
// It prints one line, "ecs-emulator listening on http://HOST:PORT", once it
// accepts requests. See emulator/ecsemu/README.md for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ecs-emulator:", err)
		}
		os.Exit(2)
	}
}

// faultFlags collects repeated -fault values.
type faultFlags []ecsemu.FaultRule

func (f *faultFlags) String() string { return fmt.Sprint(len(*f), " rules") }

func (f *faultFlags) Set(v string) error {
	r, err := ecsemu.ParseFaultFlag(v)
	if err != nil {
		return err
	}
	*f = append(*f, r)
	return nil
}

// run parses args, serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ecs-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts    ecsemu.Options
		fixture string
		faults  faultFlags
		modes   string
		verbose bool
	)
	fs.StringVar(&opts.Addr, "addr", "127.0.0.1:0", "listen address (port 0 picks a free one)")
	fs.StringVar(&fixture, "fixture", "", "JSON fixture file (default: the embedded default fleet)")
	fs.StringVar(&opts.AccessKeyID, "access-key-id", ecsemu.DefaultAccessKeyID, "AccessKeyId that signatures are checked against")
	fs.StringVar(&opts.AccessKeySecret, "access-key-secret", ecsemu.DefaultAccessKeySecret, "AccessKeySecret that signatures are checked against")
	fs.StringVar(&opts.SecurityToken, "security-token", "", "if set, every call must carry this STS SecurityToken")
	fs.DurationVar(&opts.ResetDuration, "reset-duration", ecsemu.DefaultResetDuration, "how long a reset disk stays ReIniting (negative: instant)")
	fs.DurationVar(&opts.StopDuration, "stop-duration", ecsemu.DefaultStopDuration, "how long an instance stays Stopping (negative: instant)")
	fs.DurationVar(&opts.StartDuration, "start-duration", ecsemu.DefaultStartDuration, "how long an instance stays Starting (negative: instant)")
	fs.DurationVar(&opts.CommandDuration, "command-duration", ecsemu.DefaultCommandDuration, "how long a Cloud Assistant invocation runs (negative: instant)")
	fs.DurationVar(&opts.SnapshotDuration, "snapshot-duration", ecsemu.DefaultSnapshotDuration, "how long a new snapshot stays progressing (negative: instant)")
	fs.Var(&faults, "fault", "fault rule Action:kind[:rate[:count]], repeatable, e.g. ResetDisks:throttle:0.5")
	fs.StringVar(&modes, "mode", "", "modes for unconfirmed behaviour, e.g. resetStatus=hidden,resetDisksFailure=per-disk,relatedItems=snapshot-only,instantAccess=usable (see README)")
	fs.Uint64Var(&opts.Seed, "seed", 0, "seed for fault rates (0: random)")
	fs.BoolVar(&verbose, "v", false, "log every call to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if fixture != "" {
		f, err := ecsemu.LoadFixture(fixture)
		if err != nil {
			return err
		}
		opts.Fixture = f
	}
	opts.Faults = faults
	if modes != "" {
		m, err := ecsemu.ParseModes(modes)
		if err != nil {
			return err
		}
		opts.Modes = m
	}
	if verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	s, err := ecsemu.NewServer(opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ecs-emulator listening on %s\n", s.URL())
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(shutdownCtx)
}
