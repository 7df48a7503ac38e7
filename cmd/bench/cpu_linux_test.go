package main

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestStartOnPlacesTheProcess: a process started through startOn may run
// only on the given CPU, and pinHarness/unpin give the harness's threads
// one CPU and then all of them back.
func TestStartOnPlacesTheProcess(t *testing.T) {
	before := allowedCPUs(t, "/proc/self/status")
	plan := pinHarness()
	if !plan.Pinned {
		t.Skip("fewer than two usable CPUs: nothing to place")
	}
	t.Cleanup(plan.unpin)
	if got := allowedCPUs(t, "/proc/thread-self/status"); got != strconv.Itoa(plan.Harness) {
		t.Errorf("harness thread allowed on %q, want %d", got, plan.Harness)
	}
	var out bytes.Buffer
	cmd := exec.Command("grep", "Cpus_allowed_list", "/proc/self/status")
	cmd.Stdout = &out
	if err := startOn(plan.Measured, cmd.Start); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(strings.TrimPrefix(out.String(), "Cpus_allowed_list:")); got != strconv.Itoa(plan.Measured) {
		t.Errorf("child allowed on %q, want %d", got, plan.Measured)
	}
	plan.unpin()
	if got := allowedCPUs(t, "/proc/thread-self/status"); got != before {
		t.Errorf("after unpin allowed on %q, want %q", got, before)
	}
}

func allowedCPUs(t *testing.T, status string) string {
	t.Helper()
	out, err := exec.Command("grep", "Cpus_allowed_list", status).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(strings.TrimPrefix(string(out), "Cpus_allowed_list:"))
}
