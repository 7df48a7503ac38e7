package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// getenv reads this process's environment (which the function inherits);
// tests replace it.
var getenv = os.Getenv

// run is main without the process: it returns the exit code (0 all good,
// 1 a failed invocation or a runtime failure, 2 bad usage or a refusal to
// reach the real cloud).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fc-runtime-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	binary := fs.String("binary", "target/main", "the built function binary")
	listen := fs.String("listen", "127.0.0.1:9000", "address of the invoke API (POST /invoke, GET /health) when no -event is given")
	timeout := fs.Duration("timeout", 60*time.Second, "function timeout")
	name := fs.String("function-name", "ecs-disk-rollback", "function name sent to the function")
	region := fs.String("region", "cn-hangzhou", "region sent to the function")
	memory := fs.Int("memory", 512, "memory (MB) sent to the function")
	akID := fs.String("access-key-id", getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), "invocation credentials: access key id (default $ALIBABA_CLOUD_ACCESS_KEY_ID)")
	akSecret := fs.String("access-key-secret", getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), "invocation credentials: access key secret (default $ALIBABA_CLOUD_ACCESS_KEY_SECRET)")
	token := fs.String("security-token", getenv("ALIBABA_CLOUD_SECURITY_TOKEN"), "invocation credentials: STS token (default $ALIBABA_CLOUD_SECURITY_TOKEN)")
	realCloud := fs.Bool("real-cloud", false, "allow the function to call the real ECS API (credentials given and no ECS_ENDPOINT); refused without it")
	retry := fs.Int("retry-count", 0, "x-fc-retry-count for every -event invocation")
	var events, env listFlag
	fs.Var(&events, "event", "event file to invoke with, - for stdin (repeatable, in order)")
	fs.Var(&env, "env", "K=V for the function's environment (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fc-runtime-emulator: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := cloudGuard(env, *akID, *realCloud); err != nil {
		fmt.Fprintln(stderr, "fc-runtime-emulator:", err)
		return 2
	}
	if *realCloud {
		fmt.Fprintln(stderr, "fc-runtime-emulator: -real-cloud: the function may call the real ECS API and reset real disks")
	}
	// Read every event first: a typo should not cost a function start.
	payloads, err := readEvents(events, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "fc-runtime-emulator:", err)
		return 1
	}

	s, err := fcruntime.NewServer(fcruntime.Options{
		Binary:       *binary,
		Env:          env,
		FunctionName: *name,
		Region:       *region,
		MemoryMB:     *memory,
		Timeout:      *timeout,
		Credentials:  fcruntime.Credentials{AccessKeyID: *akID, AccessKeySecret: *akSecret, SecurityToken: *token},
		Stdout:       stderr,
		Stderr:       stderr,
	})
	if err != nil {
		fmt.Fprintln(stderr, "fc-runtime-emulator:", err)
		return 1
	}
	defer s.Close()
	if len(payloads) > 0 {
		return invokeAll(ctx, s, payloads, *retry, stdout, stderr)
	}
	return serve(ctx, s, *listen, stdout, stderr)
}

// cloudGuard refuses a run that would reach real ECS by accident: the
// function has credentials (invocation or environment) but no ECS_ENDPOINT
// (-env or the inherited environment), so it would call
// ecs[-vpc].<region>.aliyuncs.com. -real-cloud says it is meant.
func cloudGuard(env []string, invocationKeyID string, realCloud bool) error {
	endpoint, envKeyID := getenv("ECS_ENDPOINT"), getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
	for _, kv := range env {
		switch k, v, _ := strings.Cut(kv, "="); k {
		case "ECS_ENDPOINT":
			endpoint = v
		case "ALIBABA_CLOUD_ACCESS_KEY_ID":
			envKeyID = v
		}
	}
	if realCloud || strings.TrimSpace(endpoint) != "" || invocationKeyID == "" && envKeyID == "" {
		return nil
	}
	return errors.New("refusing to run: credentials are set (-access-key-id or $ALIBABA_CLOUD_ACCESS_KEY_ID) " +
		"and no ECS endpoint is, so the function would call the real ECS API and could reset real disks. " +
		"For the local ECS emulator start `go run ./cmd/ecs-emulator -addr 127.0.0.1:8090` and add " +
		"-env ECS_ENDPOINT=http://127.0.0.1:8090; to call real ECS on purpose, add -real-cloud")
}

func readEvents(paths []string, stdin io.Reader) ([][]byte, error) {
	var out [][]byte
	var fromStdin []byte
	readStdin := false
	for _, p := range paths {
		if p == "-" {
			if !readStdin {
				b, err := io.ReadAll(stdin)
				if err != nil {
					return nil, fmt.Errorf("reading stdin: %w", err)
				}
				fromStdin, readStdin = b, true
			}
			out = append(out, fromStdin)
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// invokeAll runs the events in order and prints each result; it stops
// early only when the function process is gone or ctx is done.
func invokeAll(ctx context.Context, s *fcruntime.Server, events [][]byte, retry int, stdout, stderr io.Writer) int {
	code := 0
	for _, ev := range events {
		res, err := s.Invoke(ctx, ev, fcruntime.InvokeOptions{RetryCount: retry})
		if res == nil {
			fmt.Fprintln(stderr, "fc-runtime-emulator: invoke:", err)
			return 1
		}
		if res.Error != nil {
			code = 1
		}
		b, _ := json.MarshalIndent(res.Report(), "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		if err != nil {
			fmt.Fprintln(stderr, "fc-runtime-emulator:", err)
			return 1
		}
	}
	return code
}

// serve runs the invoke API until ctx is done (0) or the function dies (1).
func serve(ctx context.Context, s *fcruntime.Server, addr string, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(stderr, "fc-runtime-emulator:", err)
		return 1
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "fc-runtime-emulator listening on http://%s\n", ln.Addr())

	code := 0
	select {
	case <-ctx.Done():
	case <-s.Exited():
		fmt.Fprintln(stderr, "fc-runtime-emulator: the function process exited")
		code = 1
	case err := <-served:
		fmt.Fprintln(stderr, "fc-runtime-emulator:", err)
		return 1
	}
	// Stop the function first: pending invocations end with 503 at once,
	// and the runtime API is closed only after the process is gone.
	_ = s.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "fc-runtime-emulator:", err)
		return 1
	}
	return code
}
