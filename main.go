// Command main is the ecs-disk-rollback function for Alibaba Cloud Function
// Compute (FC 3.0, Go runtime). It only wires things together: the handler
// lives in package function, the ECS SDK adapter in package ecsclient.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"syscall"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/ecsclient"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// version is the build, stamped by make (-ldflags "-X main.version=...",
// from git describe). It is logged at start and carried in every Result.
var version = "dev"

func main() {
	if n := maxProcs(os.Getenv); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	reexecWithoutSDKDebug()
	h := newHandler(os.Getenv)
	function.LogRecord(context.Background(), h.Logger, slog.LevelInfo, "ecs-disk-rollback starting", slog.String("version", version))
	fc.Start(h.Invoke)
}

// maxProcs is the GOMAXPROCS the function runs with: 1, unless the
// GOMAXPROCS variable says otherwise (0: leave Go's choice). The function
// waits on the network for nearly all of an invocation. With Go's default
// of at least two Ps (even under FC's 0.05–1 vCPU limits), each goroutine
// woken by the network also wakes an idle thread that spins looking for
// work: on the benchmark machine that was a third of a warm invocation's
// wall time and of its CPU (bench/CHANGES.md), CPU that a fractional vCPU
// pays for in throttling. The batches and describe calls that run at once
// still overlap their waits on one P.
func maxProcs(getenv func(string) string) int {
	if getenv("GOMAXPROCS") != "" {
		return 0
	}
	return 1
}

// newHandler builds the handler from the environment. A configuration
// error does not stop the process (FC would only see a crash loop): every
// invocation reports it instead.
func newHandler(getenv func(string) string) *function.Handler {
	cfg, err := function.ConfigFromEnv(getenv)
	ecsCfg, ecsErr := ecsclient.ConfigFromEnv(getenv)
	if err == nil {
		err = ecsErr
	}
	return &function.Handler{
		Connector: ecsclient.New(ecsCfg),
		Config:    cfg,
		EnvCredentials: function.Credentials{
			AccessKeyID:     getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
			AccessKeySecret: getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
			SecurityToken:   getenv("ALIBABA_CLOUD_SECURITY_TOKEN"),
		},
		Logger:    slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)})),
		ConfigErr: err,
		Version:   version,
	}
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// reexecWithoutSDKDebug: with DEBUG=sdk the ECS SDK prints every signed
// request URL, AccessKeyId and SecurityToken included, to stdout — i.e. into
// the function's logs. The SDK reads DEBUG once, in its package init, before
// main runs, so the only reliable cure is to restart the process without it.
func reexecWithoutSDKDebug() {
	if !ecsclient.SDKDebugEnabled(os.Getenv) {
		return
	}
	fmt.Fprintln(os.Stderr, "ecs-disk-rollback: DEBUG=sdk ignored: it would log credentials")
	exe, err := os.Executable()
	if err == nil {
		err = syscall.Exec(exe, os.Args, ecsclient.EnvWithoutSDKDebug(os.Environ()))
	}
	// Exec failed: refuse to run with credential logging on.
	fmt.Fprintln(os.Stderr, "ecs-disk-rollback: cannot restart without DEBUG=sdk:", err)
	os.Exit(1)
}
