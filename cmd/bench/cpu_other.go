//go:build !linux

package main

// cpuPlan places nothing outside Linux.
type cpuPlan struct {
	Harness, Measured int
	Pinned            bool
}

func pinHarness() cpuPlan { return cpuPlan{} }

func (cpuPlan) unpin() {}

func startOn(_ int, start func() error) error { return start() }
