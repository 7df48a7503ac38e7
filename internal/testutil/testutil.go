// Package testutil holds what several packages' tests share: building a
// program once for a test binary's run, and starting an ECS emulator bound
// to a test. Only tests import it; nothing here is linked into the function.
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

// Build is go build of pkg (a path as the go command takes it, relative to
// the test's package directory) into a new temporary directory, with extra
// go build flags (e.g. "-race", "-ldflags=-X main.version=v0"). It returns
// the binary's path and a function removing the directory. Build output
// goes to stderr.
func Build(name, pkg string, flags ...string) (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "build-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, name)
	args := append([]string{"build"}, flags...)
	args = append(args, "-o", path, pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo(flags))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building %s: %w", pkg, err)
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

// cgo is "1" for a race build (the race detector needs cgo), else "0": the
// function is built static, as make build does.
func cgo(flags []string) string {
	for _, f := range flags {
		if f == "-race" {
			return "1"
		}
	}
	return "0"
}

// MainWithBinary builds pkg once into *path, runs the tests, and removes
// the build: the body of a TestMain whose tests share one binary.
func MainWithBinary(m *testing.M, path *string, name, pkg string, flags ...string) int {
	p, cleanup, err := Build(name, pkg, flags...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	*path = p
	return m.Run()
}

// FastECS are emulator durations short enough for tests; zero fields of
// opts are filled from them.
func FastECS(opts ecsemu.Options, d time.Duration) ecsemu.Options {
	for _, f := range []*time.Duration{&opts.ResetDuration, &opts.StopDuration, &opts.StartDuration, &opts.SnapshotDuration} {
		if *f == 0 {
			*f = d
		}
	}
	return opts
}

// StartECS starts an ECS emulator with opts and closes it when t ends.
func StartECS(t testing.TB, opts ecsemu.Options) *ecsemu.Server {
	t.Helper()
	s, err := ecsemu.NewServer(opts)
	if err != nil {
		t.Fatalf("ECS emulator: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// RefusedAddr is a loopback address that refuses connections: nothing
// listens on port 1. The port of a listener just closed is no such
// address: with tests running in parallel, another test's server can be
// given that port a moment later (an "unreachable" ECS once answered).
const RefusedAddr = "127.0.0.1:1"
