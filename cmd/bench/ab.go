package main

// A/B runs between builds: cold-start CPU (-ab) and warm latency
// (-ab-warm), the way to judge a change. A cold-start change, whose effect is a few hundred microseconds against a process
// CPU that varies by ±2 ms from one start to the next on this machine.
// Measured one at a time in isolated programs, such changes looked like
// 0.15–0.3 ms savings; compared paired in the function's own process,
// none moved its CPU (bench/CHANGES.md, round 5).

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
	Specs []abSpec
	CPU   []sample
	Diff  []sample
}

// measureAB cold-starts every side once per round under the runtime
// emulator with the dry run, the order rotating, and takes each process's
// CPU from its rusage as the cold figures do.
func measureAB(specs []abSpec, rounds int, event []byte) (*abResult, error) {
	es, env, err := abEmulator()
	if err != nil {
		return nil, err
	}
	defer es.Close()
	res := &abResult{Specs: specs, CPU: make([]sample, len(specs)), Diff: make([]sample, len(specs))}
	for r := -1; r < rounds; r++ {
		cpu := make([]time.Duration, len(specs))
		for _, k := range rotate(indexes(len(specs)), r+1) {
			sp := specs[k]
			c0 := childrenCPU()
			h, err := startHost(hostSpec{Name: sp.Binary, Binary: sp.Binary, Env: append(slices.Clone(env), sp.Env...)})
			if err != nil {
				return nil, fmt.Errorf("%s: starting: %v", sp.Binary, err)
			}
			_, err = invokeOnce(h, event)
			h.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: cold invocation: %v", sp.Binary, err)
			}
			cpu[k] = childrenCPU() - c0
		}
		if r < 0 {
			continue // warm-up round
		}
		for k := range specs {
			res.CPU[k] = append(res.CPU[k], cpu[k])
			res.Diff[k] = append(res.Diff[k], cpu[k]-cpu[0])
		}
	}
	return res, nil
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// render prints each side's median and its paired difference from the
// first side (median and quartiles of the per-round differences).
func (a *abResult) render(w io.Writer, what string) {
	_, _ = fmt.Fprintf(w, "%s, %d rounds; paired difference = this side − the first side, per round\n", what, len(a.CPU[0]))
	for k, sp := range a.Specs {
		name := sp.Binary
		if len(sp.Env) > 0 {
			name += " (" + strings.Join(sp.Env, " ") + ")"
		}
		d := a.Diff[k]
		_, _ = fmt.Fprintf(w, "%s: median %s; paired difference median %+.3f ms (p25 %+.3f, p75 %+.3f)\n",
			name, ms(a.CPU[k].median()), msf(d.median()), msf(d.q(0.25)), msf(d.q(0.75)))
	}
}

// abEmulator starts the ECS emulator the sides call and returns the
// environment every side gets.
func abEmulator() (*ecsemu.Server, []string, error) {
	es, err := ecsemu.NewServer(ecsemu.Options{})
	if err != nil {
		return nil, nil, err
	}
	return es, append(append([]string{"ECS_ENDPOINT=" + es.URL(), "LOG_LEVEL=info"}, sameRuntime...), accessKeyEnv...), nil
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measureABWarm keeps one process per side up and, round after round in
// rotating order, times one invocation of each (event in → result out).
func measureABWarm(specs []abSpec, rounds int, event []byte) (*abResult, error) {
	es, env, err := abEmulator()
	if err != nil {
		return nil, err
	}
	defer es.Close()
	hosts := make([]host, len(specs))
	defer func() {
		for _, h := range hosts {
			if h != nil {
				h.Close()
			}
		}
	}()
	for k, sp := range specs {
		h, err := startHost(hostSpec{Name: sp.Binary, Binary: sp.Binary, Env: append(slices.Clone(env), sp.Env...)})
		if err != nil {
			return nil, fmt.Errorf("%s: starting: %v", sp.Binary, err)
		}
		hosts[k] = h
	}
	res := &abResult{Specs: specs, CPU: make([]sample, len(specs)), Diff: make([]sample, len(specs))}
	const warmup = 100
	for r := -warmup; r < rounds; r++ {
		lat := make([]time.Duration, len(specs))
		for _, k := range rotate(indexes(len(specs)), r+warmup) {
			start := time.Now()
			if _, err := invokeOnce(hosts[k], event); err != nil {
				return nil, fmt.Errorf("%s: %v", specs[k].Binary, err)
			}
			lat[k] = time.Since(start)
		}
		if r < 0 {
			continue
		}
		for k := range specs {
			res.CPU[k] = append(res.CPU[k], lat[k])
			res.Diff[k] = append(res.Diff[k], lat[k]-lat[0])
		}
	}
	return res, nil
}

// runAB is `cmd/bench -ab` (warm: -ab-warm): it measures and prints, and
// writes no report.
func runAB(list string, rounds int, warm bool, stdout, stderr io.Writer) int {
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
	event := requestEvent("cn-hangzhou", true, false, dryRunPairs)
	measure, what := measureAB, "cold-start CPU"
	if warm {
		measure, what = measureABWarm, "warm latency"
	}
	res, err := measure(run, rounds, event)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	res.Specs = specs
	res.render(stdout, what)
	return 0
}
