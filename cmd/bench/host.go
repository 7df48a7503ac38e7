package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// hostSpec is one function process to run under the FC runtime emulator.
type hostSpec struct {
	Name   string   // contender name, for messages
	Binary string   // executable started as the function process
	Args   []string // its arguments (FC passes none; node gets its script)
	Env    []string // extra environment
}

// invokeResult is one invocation's outcome as the runtime API saw it.
type invokeResult struct {
	Payload  []byte
	ErrType  string // "" on success
	ErrMsg   string
	TimedOut bool
}

func (r invokeResult) err() error {
	switch {
	case r.TimedOut:
		return fmt.Errorf("function timed out")
	case r.ErrType != "":
		return fmt.Errorf("function error %s: %s", r.ErrType, r.ErrMsg)
	}
	return nil
}

// host is a function process driven through the runtime API.
type host interface {
	Invoke(ctx context.Context, event []byte) (invokeResult, error)
	PID() int
	Close()
}

// invokeTimeout bounds every single invocation the harness makes.
const invokeTimeout = 60 * time.Second

func invokeOnce(h host, event []byte) (invokeResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), invokeTimeout)
	defer cancel()
	res, err := h.Invoke(ctx, event)
	if err != nil {
		return res, err
	}
	return res, res.err()
}

// procStatusKB reads one "Key:   N kB" line of /proc/PID/status.
func procStatusKB(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			return n * 1024, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}

// procCPUTime is the CPU time of process pid's live threads, in
// nanoseconds from /proc/PID/task/*/schedstat (its first field: time on a
// CPU). /proc/PID/stat's utime and stime count in clock ticks of 10 ms,
// too coarse for a few hundred invocations of ~0.1 ms each. A thread that
// exited is not counted; a Go process keeps its threads.
func procCPUTime(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil {
		return 0, err
	}
	if len(tasks) == 0 {
		return 0, fmt.Errorf("no /proc/%d/task/*/schedstat", pid)
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, fmt.Errorf("%s: empty", t)
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %v", t, err)
		}
		total += time.Duration(ns)
	}
	return total, nil
}
