package main

// CPU placement on Linux: the harness (its emulators and bookkeeping) on
// one CPU, each measured process on another, so that a contender's CPU
// time and latency are not those of a process sharing its CPU with the
// emulators answering it (bench/CHANGES.md, round 5).

import (
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// cpuPlan says where the harness and the measured processes run; zero
// value: nowhere in particular.
type cpuPlan struct {
	Harness, Measured int
	Pinned            bool
	orig              unix.CPUSet // the harness's CPUs before pinning
}

// pinHarness moves every thread of this process to the first CPU it may
// use and returns the plan, with the measured processes on the second;
// with fewer than two usable CPUs it pins nothing. Threads the runtime
// starts later inherit the mask of the thread that starts them.
func pinHarness() cpuPlan {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return cpuPlan{}
	}
	var cpus []int
	for c := 0; c < 1024 && len(cpus) < 2; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) < 2 {
		return cpuPlan{}
	}
	plan := cpuPlan{Harness: cpus[0], Measured: cpus[1], Pinned: true, orig: set}
	var one unix.CPUSet
	one.Set(plan.Harness)
	if err := setAllThreads(&one); err != nil {
		_ = setAllThreads(&set)
		return cpuPlan{}
	}
	return plan
}

// unpin gives the harness's threads back every CPU they had.
func (p cpuPlan) unpin() {
	if p.Pinned {
		_ = setAllThreads(&p.orig)
	}
}

func setAllThreads(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, set); err != nil {
			return err
		}
	}
	return nil
}

// startOn runs start (a process start) on a thread bound to cpu, so that
// the process and every thread it starts run there.
func startOn(cpu int, start func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return start()
	}
	var one unix.CPUSet
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return start()
	}
	defer func() { _ = unix.SchedSetaffinity(0, &old) }()
	return start()
}
