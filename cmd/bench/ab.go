package main

// A/B runs between builds: cold-start CPU (-ab) and warm latency
// (-ab-warm), the way to judge a change. A cold-start change moves a few
// hundred microseconds at most, against a process CPU that varies by
// ±2 ms from one start to the next on this machine; measured one at a time
// in small programs, such changes looked like 0.15–0.3 ms savings, and
// compared paired in the function's own process none moved its CPU
// (bench/CHANGES.md, round 5).

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

// abSpec is one side of an A/B: a function binary and the environment it
// gets beyond the harness's (ECS_ENDPOINT, LOG_LEVEL=info, the same
// runtime setting as every contender, the emulator's access key).
type abSpec struct {
	Binary string
	Env    []string
}

// parseABSpec reads "binary[:K=V[:K=V…]]".
func parseABSpec(s string) (abSpec, error) {
	parts := strings.Split(s, ":")
	if parts[0] == "" {
		return abSpec{}, fmt.Errorf("ab: %q names no binary", s)
	}
	for _, kv := range parts[1:] {
		if !strings.Contains(kv, "=") {
			return abSpec{}, fmt.Errorf("ab: %q: %q is not K=V", s, kv)
		}
	}
	return abSpec{Binary: parts[0], Env: parts[1:]}, nil
}

// abResult is each side's figure per round (cold-start CPU, or warm
// latency) and, per round, each side's minus the first side's.
type abResult struct {
	Specs  []abSpec
	Figure []sample
	Diff   []sample
	// CPU is each side's process CPU time per warm invocation (-ab-warm
	// only; zero where /proc cannot tell).
	CPU []time.Duration
}

// measureAB runs the sides as contenders of the report's cold-start loop
// (measureCold: one cold start of each per round, the order rotating) or,
// warm, of its warm loop with perRound invocations per side per round
// (measureWarm; one unless -ab-per-round says more), and pairs the
// samples: cold-start CPU or warm latency.
func measureAB(specs []abSpec, rounds, perRound int, warm bool, event []byte) (*abResult, error) {
	es, err := ecsemu.NewServer(ecsemu.Options{})
	if err != nil {
		return nil, err
	}
	defer es.Close()
	env := append(append([]string{"ECS_ENDPOINT=" + es.URL(), "LOG_LEVEL=info"}, sameRuntime...), accessKeyEnv...)
	cs := make([]contender, len(specs))
	for k, sp := range specs {
		name := strconv.Itoa(k) + " " + sp.Binary // unique, for the loops' maps
		cs[k] = contender{Name: name, Hosted: true, Spec: hostSpec{Name: name, Binary: sp.Binary, Env: append(slices.Clone(env), sp.Env...)}}
	}
	quiet := func(string, ...any) {}
	var per map[string]sample
	var cpu map[string]time.Duration
	if warm {
		w, err := measureWarm(cs, nil, rounds, max(perRound, 1), event, quiet)
		if err != nil {
			return nil, err
		}
		per, cpu = w.Latency, w.CPU
	} else {
		c, err := measureCold(cs, nil, rounds, event, quiet)
		if err != nil {
			return nil, err
		}
		per = c.CPU
	}
	res := &abResult{Specs: specs, Figure: make([]sample, len(specs)), Diff: make([]sample, len(specs)), CPU: make([]time.Duration, len(specs))}
	first := per[cs[0].Name]
	for k, c := range cs {
		res.Figure[k] = per[c.Name]
		res.CPU[k] = cpu[c.Name]
		for r, v := range per[c.Name] {
			res.Diff[k] = append(res.Diff[k], v-first[r])
		}
	}
	return res, nil
}

// render prints each side's median and its paired difference from the
// first side (median and quartiles of the per-round differences).
func (a *abResult) render(w io.Writer, what string) {
	_, _ = fmt.Fprintf(w, "%s, %d samples per side; paired difference = this side − the first side, sample by sample\n", what, len(a.Figure[0]))
	for k, sp := range a.Specs {
		name := sp.Binary
		if len(sp.Env) > 0 {
			name += " (" + strings.Join(sp.Env, " ") + ")"
		}
		d := a.Diff[k]
		cpu := ""
		if a.CPU != nil && a.CPU[k] > 0 {
			cpu = fmt.Sprintf("; process CPU %.1f µs per invocation", float64(a.CPU[k])/float64(time.Microsecond))
		}
		_, _ = fmt.Fprintf(w, "%s: median %s; paired difference median %+.3f ms (p25 %+.3f, p75 %+.3f)%s\n",
			name, ms(a.Figure[k].median()), msf(d.median()), msf(d.q(0.25)), msf(d.q(0.75)), cpu)
	}
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runAB is `cmd/bench -ab` (warm: -ab-warm): it measures and prints, and
// writes no report.
func runAB(list string, rounds, perRound int, warm bool, stdout, stderr io.Writer) int {
	var specs []abSpec
	for _, s := range strings.Split(list, ",") {
		sp, err := parseABSpec(s)
		if err != nil {
			_, _ = fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
		specs = append(specs, sp)
	}
	if len(specs) < 2 || rounds < 1 {
		_, _ = fmt.Fprintln(stderr, "bench: -ab needs at least two binaries and -ab-rounds ≥ 1")
		return 2
	}
	// Each side runs from a copy written front to back, as the report's
	// contenders do (rewriteAsUnpacked); the printed names stay the given.
	dir, err := os.MkdirTemp("", "ecs-disk-rollback-ab-")
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	run := slices.Clone(specs)
	for k := range run {
		run[k].Binary = filepath.Join(dir, strconv.Itoa(k), filepath.Base(specs[k].Binary))
		if err := os.MkdirAll(filepath.Dir(run[k].Binary), 0o755); err == nil {
			err = copyFile(specs[k].Binary, run[k].Binary)
		}
		if err != nil {
			_, _ = fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	placement = pinHarness()
	defer func() { placement.unpin(); placement = cpuPlan{} }()
	if placement.Pinned {
		_, _ = fmt.Fprintf(stdout, "measured processes on CPU %d, the harness on CPU %d\n", placement.Measured, placement.Harness)
	}
	what := "cold-start CPU"
	if warm {
		what = "warm latency"
		if perRound > 1 {
			what = fmt.Sprintf("warm latency in blocks of %d invocations", perRound)
		}
	}
	res, err := measureAB(run, rounds, perRound, warm, requestEvent("cn-hangzhou", true, false, dryRunPairs))
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	res.Specs = specs
	res.render(stdout, what)
	return 0
}
