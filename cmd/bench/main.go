// Command bench is the performance harness (`make bench`). It
// builds the contenders in one run — floor-runtime (a hello-world fc.Start
// function), floor-libs (floor-runtime linking the function's libraries),
// floor-sdk (the raw SDK making the same ResetDisks call), floor-call
// (floor-runtime's handler making that one raw SDK call), this
// function (built as `make build` builds it) and the Node.js peer (the
// official @alicloud/ecs20140526 SDK behind a small runtime-API bootstrap,
// installed with npm into a cache directory) — and measures them over
// loopback against the ECS emulator, through the FC runtime emulator,
// alternating the contenders round by round. It prints a summary and
// rewrites BENCHMARKS.md (with an SVG chart written from the same run).
//
//	go run ./cmd/bench -out BENCHMARKS.md          # the full run (make bench)
//	go run ./cmd/bench -short -out /tmp/b.md       # a tiny run that only proves it works
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

// config sizes a run. Every loop in the harness is bounded by these.
type config struct {
	ColdRounds     int
	WarmRounds     int
	WarmPerRound   int
	MemInvocations int
	MemConcurrency int
	WaitResets     []time.Duration // one Wait run per reset duration
	BatchReps      int             // real resets (each pays the guards' settle delay)
	BatchDryReps   int
	BenchCount     int
	BenchTime      string // go test -benchtime; "" = default
	Node           bool
	ColdOnly       bool // -cold-only: build, size and cold start, nothing else
}

func fullConfig() config {
	return config{ColdRounds: 41, WarmRounds: 20, WarmPerRound: 100, MemInvocations: 1000, MemConcurrency: 8,
		WaitResets: []time.Duration{1500 * time.Millisecond, 3 * time.Second, 5 * time.Second, 8 * time.Second, 12 * time.Second}, BatchReps: 6, BatchDryReps: 20, BenchCount: 5, Node: true}
}

func shortConfig() config {
	return config{ColdRounds: 2, WarmRounds: 2, WarmPerRound: 5, MemInvocations: 40, MemConcurrency: 4,
		WaitResets: []time.Duration{300 * time.Millisecond}, BatchReps: 1, BatchDryReps: 2, BenchCount: 1, BenchTime: "20x", Node: true}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "BENCHMARKS.md", "report to write (the SVG chart goes beside it)")
	short := fs.Bool("short", false, "tiny configuration: proves the harness works, figures mean nothing")
	noNode := fs.Bool("no-node", false, "leave out the Node.js peer")
	root := fs.String("root", "", "module root (default: found from the working directory)")
	cache := fs.String("cache", "", "where the Node peer is installed (default: the user cache dir)")
	keep := fs.Bool("keep", false, "keep the build directory")
	fnPkg := fs.String("function-pkg", ".", "package built as the function (another one only to develop the harness)")
	coldOnly := fs.Bool("cold-only", false, "measure only sizes, start-up work and cold start (to iterate on cold start; the report says so)")
	coldRounds := fs.Int("cold-rounds", 0, "cold-start rounds (0: the configuration's)")
	ab := fs.String("ab", "", "instead of the report: A/B the cold-start CPU of function builds, comma-separated binary[:K=V...] (e.g. target/old,target/main), -ab-rounds rounds; prints each side's median and its paired difference from the first")
	abRounds := fs.Int("ab-rounds", 300, "rounds of -ab")
	abWarm := fs.Bool("ab-warm", false, "-ab compares warm latency instead: one process per side stays up, one invocation each per round")
	abPerRound := fs.Int("ab-per-round", 1, "-ab-warm: invocations per side per round (100: the report's blocks, each process warm in its caches)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *ab != "" {
		return runAB(*ab, *abRounds, *abPerRound, *abWarm, stdout, stderr)
	}
	cfg := fullConfig()
	if *short {
		cfg = shortConfig()
	}
	if *noNode {
		cfg.Node = false
	}
	cfg.ColdOnly = *coldOnly
	if *coldRounds > 0 {
		cfg.ColdRounds = *coldRounds
	}
	if *root == "" {
		r, err := moduleRoot()
		if err != nil {
			_, _ = fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		*root = r
	}
	if *cache == "" {
		if d, err := os.UserCacheDir(); err == nil {
			*cache = filepath.Join(d, "ecs-disk-rollback-bench")
		} else {
			*cache = filepath.Join(os.TempDir(), "ecs-disk-rollback-bench")
		}
	}
	logf := func(format string, a ...any) {
		_, _ = fmt.Fprintf(stderr, "bench: "+format+"\n", a...)
	}
	started := time.Now()
	rep, err := measureAll(cfg, *root, *cache, *fnPkg, *keep, *short, logf)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	rep.Elapsed = time.Since(started)
	// The chart goes to bench/benchmarks.svg when the report is the
	// repository's BENCHMARKS.md, else beside the report.
	outDir := filepath.Dir(*out)
	svgRel := strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out)) + ".svg"
	if st, err := os.Stat(filepath.Join(outDir, "bench", "floor-runtime")); err == nil && st.IsDir() {
		svgRel = filepath.Join("bench", "benchmarks.svg")
	}
	svgName := filepath.Join(outDir, svgRel)
	svg := renderSVG(rep)
	md := renderMarkdown(rep, svgRel)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		_, _ = fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err := os.WriteFile(svgName, svg, 0o644); err != nil {
		_, _ = fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err := os.WriteFile(*out, md, 0o644); err != nil {
		_, _ = fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	_, _ = fmt.Fprint(stdout, renderSummary(rep))
	_, _ = fmt.Fprintf(stdout, "\nwrote %s and %s in %s\n", *out, svgName, rep.Elapsed.Round(time.Second))
	return 0
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/ecs-disk-rollback/ecs-disk-rollback\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the ecs-disk-rollback module; pass -root")
		}
		dir = parent
	}
}

func measureAll(cfg config, root, cache, fnPkg string, keep, short bool, logf func(string, ...any)) (*report, error) {
	rep := &report{Config: cfg, Short: short, Machine: describeMachine(), Errors: map[string]string{}, Mem: map[string]memResult{}}
	dir, err := os.MkdirTemp("", "ecs-disk-rollback-bench-")
	if err != nil {
		return nil, err
	}
	if keep {
		logf("build directory: %s", dir)
	} else {
		defer func() { _ = os.RemoveAll(dir) }()
	}

	// Build every contender in this run.
	fnBin := filepath.Join(dir, "fn", "main") // named main: the FC handler, and zipfn names the entry after it
	frBin := filepath.Join(dir, "floor-runtime")
	fsBin := filepath.Join(dir, "floor-sdk")
	flBin := filepath.Join(dir, "floor-libs")
	fcBin := filepath.Join(dir, "floor-call")
	logf("building the function and the floors (CGO_ENABLED=0 -trimpath -ldflags='-s -w')")
	if err := buildStatic(root, map[string]string{fnPkg: fnBin, "./bench/floor-runtime": frBin, "./bench/floor-sdk": fsBin, "./bench/floor-libs": flBin, "./bench/floor-call": fcBin}); err != nil {
		return nil, err
	}
	rep.Sizes.Function, rep.Sizes.FloorRuntime, rep.Sizes.FloorSDK, rep.Sizes.FloorLibs = fileSize(fnBin), fileSize(frBin), fileSize(fsBin), fileSize(flBin)
	rep.Sizes.FloorCall = fileSize(fcBin)
	logf("bytes per package and per ECS action (go tool nm -size on unstripped builds)")
	if rep.Bytes, err = measureBytes(root, fnPkg, dir); err != nil {
		rep.Errors["bytes"] = err.Error()
	}
	zipPath := filepath.Join(dir, "function.zip")
	if rep.Sizes.ZipHow, err = zipFunction(root, fnBin, zipPath); err != nil {
		rep.Errors["zip"] = err.Error()
	}
	rep.Sizes.FunctionZip = fileSize(zipPath)
	if rep.Init, err = initTrace(fnBin); err != nil {
		rep.Errors["inittrace"] = err.Error()
	}
	rep.InitFloor, _ = initTrace(frBin)
	rep.InitLibs, _ = initTrace(flBin)

	// The Node peer.
	if cfg.Node {
		p, err := installPeerNode(root, cache, logf)
		if err != nil {
			rep.PeerAbsent = err.Error()
			logf("Node peer left out: %v", err)
		} else {
			rep.Peer = p
		}
	} else {
		rep.PeerAbsent = "left out of this run (-no-node or -short without npm)"
	}

	// From here to the memory figures, each measured process runs on a CPU
	// of its own, the harness on another (cpu_linux.go).
	placement = pinHarness()
	rep.Placement = placement
	unpin := func() { placement.unpin(); placement = cpuPlan{} }
	defer unpin()

	// The ECS emulator the cold and warm figures share: the default fleet.
	es, err := ecsemu.NewServer(ecsemu.Options{})
	if err != nil {
		return nil, err
	}
	defer es.Close()
	env := append([]string{"ECS_ENDPOINT=" + es.URL(), "LOG_LEVEL=info"}, sameRuntime...)
	contenders := []contender{
		{Name: cFloorRuntime, Hosted: true, Spec: hostSpec{Name: cFloorRuntime, Binary: frBin, Env: env},
			Check: func(p []byte) error {
				if !bytes.Contains(p, []byte("hello")) {
					return fmt.Errorf("answered %.200s", p)
				}
				return nil
			}},
		{Name: cFloorLibs, Hosted: true, Spec: hostSpec{Name: cFloorLibs, Binary: flBin, Env: env},
			Check: func(p []byte) error {
				if !bytes.Contains(p, []byte("hello")) {
					return fmt.Errorf("answered %.200s", p)
				}
				return nil
			}},
		{Name: cFunction, Hosted: true, Spec: hostSpec{Name: cFunction, Binary: fnBin, Env: env}, Check: wantStatus("DryRunPassed")},
		// floor-call signs with the access key floor-sdk gets, from its
		// environment: it makes its client once, in main, as floor-sdk does.
		{Name: cFloorCall, Hosted: true, Spec: hostSpec{Name: cFloorCall, Binary: fcBin, Env: append(slices.Clone(env), accessKeyEnv...)},
			Check: func(p []byte) error {
				if !bytes.Contains(p, []byte(`"floor":"call"`)) {
					return fmt.Errorf("answered %.200s", p)
				}
				return nil
			}},
	}
	if fnPkg != "." {
		contenders[2].Check = nil
	}
	if rep.Peer != nil {
		contenders = append(contenders, contender{Name: cPeer, Hosted: true, Spec: hostSpec{Name: cPeer, Binary: rep.Peer.Node, Args: []string{filepath.Join(rep.Peer.Dir, "bootstrap.js")}, Env: env}, Check: wantStatus("DryRunPassed")})
	}
	floor := floorSDK{Binary: fsBin, Endpoint: es.URL()}
	event := requestEvent("cn-hangzhou", true, false, dryRunPairs)

	// A peer that cannot talk to the emulator is reported, not fatal.
	if rep.Peer != nil {
		if err := probe(contenders[len(contenders)-1], event); err != nil {
			rep.PeerAbsent = "the peer ran but its ResetDisks call failed against the emulator: " + err.Error()
			logf("Node peer left out: %v", err)
			contenders = contenders[:len(contenders)-1]
			rep.Peer = nil
		}
	}

	// The Node peer runs in rounds of its own. Its cold start is some fifty
	// times a Go contender's, and in the same rotation its after-effects
	// on the measured CPU slowed the Go processes that followed it, the
	// function more than the floors (bench/CHANGES.md, round 5). The Go
	// contenders are compared with each other; the peer only with the
	// function.
	goContenders, peer := splitPeer(contenders)
	logf("cold start: %d rounds × %d contenders", cfg.ColdRounds, len(goContenders)+1)
	if rep.Cold, err = measureCold(goContenders, &floor, cfg.ColdRounds, event, logf); err != nil {
		return nil, fmt.Errorf("cold start: %w", err)
	}
	if len(peer) > 0 {
		logf("cold start of the peer: %d rounds of its own", cfg.ColdRounds)
		pc, err := measureCold(peer, nil, cfg.ColdRounds, event, logf)
		if err != nil {
			return nil, fmt.Errorf("cold start: %w", err)
		}
		rep.Cold.merge(pc)
	}
	if cfg.ColdOnly {
		return rep, nil
	}
	// floor-libs answers like floor-runtime once started: it is a cold-start
	// floor only.
	var steady []contender
	for _, c := range goContenders {
		if c.Name != cFloorLibs {
			steady = append(steady, c)
		}
	}
	logf("warm latency: %d rounds × %d invocations per contender", cfg.WarmRounds, cfg.WarmPerRound)
	w, err := measureWarm(steady, &floor, cfg.WarmRounds, cfg.WarmPerRound, event, logf)
	if err != nil {
		return nil, fmt.Errorf("warm latency: %w", err)
	}
	rep.Warm, rep.WarmCPU = w.Latency, w.CPU
	if len(peer) > 0 {
		logf("warm latency of the peer: rounds of its own")
		pw, err := measureWarm(peer, nil, cfg.WarmRounds, cfg.WarmPerRound, event, logf)
		if err != nil {
			return nil, fmt.Errorf("warm latency: %w", err)
		}
		maps.Copy(rep.Warm, pw.Latency)
		maps.Copy(rep.WarmCPU, pw.CPU)
	}
	contenders = append(steady, peer...)
	rep.SignedWith = map[string]int{}
	for _, r := range es.Requests() {
		if r.HTTPStatus != 0 && r.Code != "SignatureDoesNotMatch" && r.Code != "IncompleteSignature" {
			rep.SignedWith[r.SignedWith]++
		}
	}
	for _, c := range contenders {
		if !measuresMemory[c.Name] {
			continue
		}
		logf("memory: %s, %d invocations (%d concurrent callers for the second half)", c.Name, cfg.MemInvocations, cfg.MemConcurrency)
		rep.Mem[c.Name] = measureMemory(c, cfg.MemInvocations, cfg.MemConcurrency, event)
	}
	unpin()
	fnSpec := hostSpec{Name: cFunction, Binary: fnBin, Env: []string{"LOG_LEVEL=info"}}
	if short {
		// The figures of a short run mean nothing; the claims' 1 s settle
		// delay would be most of its wall time.
		fnSpec.Env = append(fnSpec.Env, "CLAIM_SETTLE=100ms")
	}
	logf("wait detection: Wait on resets taking %v", cfg.WaitResets)
	if rep.Wait, err = measureWait(fnSpec, cfg.WaitResets); err != nil {
		rep.Errors["wait"] = err.Error()
		logf("wait detection failed: %v", err)
	}
	logf("batching: %d × real and %d × dry run of (10 disks, 30 disks)", cfg.BatchReps, cfg.BatchDryReps)
	if rep.Batch, err = measureBatching(fnSpec, cfg.BatchReps, cfg.BatchDryReps); err != nil {
		rep.Errors["batching"] = err.Error()
		logf("batching failed: %v", err)
	}
	logf("handler CPU: go test -bench ./function (-count %d)", cfg.BenchCount)
	if rep.Bench, _, err = runGoBench(root, cfg.BenchCount, cfg.BenchTime); err != nil {
		rep.Errors["gobench"] = err.Error()
		logf("go benchmark failed: %v", err)
	}
	if !short {
		logf("handler CPU profile (pprof)")
		if rep.Profile, err = profileHandler(root, dir); err != nil {
			rep.Errors["pprof"] = err.Error()
		}
		logf("warm path without the runtime API, in process (go test -bench BenchmarkInProcess ./cmd/bench)")
		if rep.InProcess, err = measureInProcess(root, dir, 3000, 5); err != nil {
			rep.Errors["inprocess"] = err.Error()
		}
	}
	return rep, nil
}

// probe runs one invocation on a fresh process of c.
func probe(c contender, event []byte) error {
	h, err := startHost(c.Spec)
	if err != nil {
		return err
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := h.Invoke(ctx, event)
	if err != nil {
		return err
	}
	if err := res.err(); err != nil {
		return err
	}
	if c.Check != nil {
		return c.Check(res.Payload)
	}
	return nil
}
