package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Performance targets.
const (
	targetColdRatio   = 1.2
	targetPeerRatio   = 0.5 // "far below the peer": at most half its cold start
	targetWarmRatio   = 1.15
	targetHandlerNs   = 25_000
	targetRSS         = 32 << 20
	targetBinary      = 12 << 20
	targetZip         = 5 << 20
	targetWaitLatency = time.Second
	targetWaitPerMin  = 60
	targetBatchRatio  = 1.3
)

// figureWarmLikeForLike is the warm row against floor-call, the floor the
// function's warm path can reach (the sum-based row's floor-sdk calls back to
// back in a tight loop, which no invocation does).
const figureWarmLikeForLike = "warm overhead vs floor-call (p50, like for like)"

// warmContenders are the warm section's rows, in order (floor-libs answers
// like floor-runtime once started, so it is measured cold only).
var warmContenders = []string{cFunction, cFloorRuntime, cFloorSDK, cFloorCall, cPeer}

// target is one row of the summary.
type target struct {
	Figure, Measured, Target string
	Met                      bool
	NotMeasured              bool
}

// report is everything one run measured.
type report struct {
	Config  config
	Short   bool
	Machine machine
	Elapsed time.Duration
	// Placement is where the measured processes and the harness ran.
	Placement cpuPlan

	Sizes struct {
		Function, FunctionZip, FloorRuntime, FloorLibs, FloorSDK, FloorCall int64
		ZipHow                                                              string
	}
	// Bytes is what each package adds to the function's binary over
	// floor-libs, and what each ECS action costs (see sizes.go).
	Bytes     *byteCosts
	Init      []initLine
	InitFloor []initLine
	InitLibs  []initLine
	Cold      *coldResult
	Warm      map[string]sample
	// WarmCPU is each hosted contender's process CPU per warm invocation.
	WarmCPU    map[string]time.Duration
	Mem        map[string]memResult
	Wait       *waitResult
	Batch      *batchResult
	Bench      []benchLine
	Profile    []profLine
	InProcess  *inProcessResult
	Peer       *peerNode
	PeerAbsent string // why the Node peer was not measured
	// SignedWith counts the ECS emulator's verified requests by signature
	// version over the cold and warm phases (the peer signs with ACS3).
	SignedWith map[string]int
	Errors     map[string]string
}

func (rep *report) targets() []target {
	var ts []target
	add := func(t target) { ts = append(ts, t) }
	if c := rep.Cold; c != nil {
		ts = append(ts, rep.coldTargets()...)
	}
	if w := rep.Warm; w != nil {
		fn, fl, fr := w[cFunction], w[cFloorSDK], w[cFloorRuntime]
		floor := fr.median() + fl.median()
		r := ratio(fn.median(), floor)
		measured := fmt.Sprintf("%s vs %s + %s = %s (p99 %s)", ms(fn.median()), ms(fr.median()), ms(fl.median()), fmtRatio(r), ms(fn.p99()))
		fc := w[cFloorCall]
		if len(fc) > 0 {
			// The floor itself against the formula: how much of the
			// function's excess over the sum is not its code.
			measured += "; floor-call alone: " + fmtRatio(ratio(fc.median(), floor))
		}
		add(target{"warm overhead (p50)", measured, "p50 ≤ 1.15 × (floor-runtime p50 + floor-sdk call p50)", r <= targetWarmRatio, false})
		if len(fc) > 0 {
			rc := ratio(fn.median(), fc.median())
			add(target{figureWarmLikeForLike, fmt.Sprintf("%s vs %s = %s", ms(fn.median()), ms(fc.median()), fmtRatio(rc)),
				"p50 ≤ 1.15 × floor-call p50 (the runtime round trip and the one raw SDK call, in one warm process)", rc <= targetWarmRatio, false})
		}
	}
	if b := rep.benchLine("BenchmarkInvoke/disks=2"); b != nil {
		add(target{"handler CPU (2 disks)", fmt.Sprintf("%.1f µs/op, %.0f allocs/op, %.0f B/op", b.NsPerOp/1000, b.AllocsOp, b.BytesPerOp), "≤ 25 µs/op", b.NsPerOp <= targetHandlerNs, false})
	} else {
		add(target{"handler CPU (2 disks)", "not measured: " + rep.Errors["gobench"], "≤ 25 µs/op", false, true})
	}
	if m, ok := rep.Mem[cFunction]; ok && m.Err == "" {
		add(target{"peak RSS (VmHWM)", fmt.Sprintf("%s over %d invocations", mib(m.VmHWM), m.Invocations), "≤ 32 MB", m.VmHWM <= targetRSS, false})
	} else {
		add(target{"peak RSS (VmHWM)", "not measured: " + m.Err, "≤ 32 MB", false, true})
	}
	add(target{"binary size", mib(rep.Sizes.Function), "≤ 12 MB", rep.Sizes.Function > 0 && rep.Sizes.Function <= targetBinary, false})
	add(target{"function.zip size", mib(rep.Sizes.FunctionZip), "≤ 5 MB", rep.Sizes.FunctionZip > 0 && rep.Sizes.FunctionZip <= targetZip, false})
	switch w := rep.Wait; {
	case w == nil:
		add(target{"wait detection", "not measured: " + rep.Errors["wait"], "p50 ≤ 1 s, ≤ 60 DescribeDisks/min", false, true})
	case w.NotMeasured != "":
		add(target{"wait detection", "not measured: " + w.NotMeasured, "p50 ≤ 1 s, ≤ 60 DescribeDisks/min", false, true})
	default:
		lat, pm := w.latencies().median(), w.maxPerMinute()
		add(target{"wait detection", fmt.Sprintf("p50 %s after the flip (max %s, %d resets of %s–%s); at most %d DescribeDisks in any minute", ms(lat), ms(w.latencies().max()), len(w.Runs), w.Runs[0].ResetDuration, w.Runs[len(w.Runs)-1].ResetDuration, pm), "p50 ≤ 1 s, ≤ 60 calls/min", lat <= targetWaitLatency && pm <= targetWaitPerMin, false})
	}
	if b := rep.Batch; b != nil {
		r := ratio(b.Thirty.median(), b.Ten.median())
		rd := ratio(b.DryThirty.median(), b.DryTen.median())
		add(target{"batching 30 vs 10 disks", fmt.Sprintf("real reset %s vs %s = %s", ms(b.Thirty.median()), ms(b.Ten.median()), fmtRatio(r)), "≤ 1.3×", r <= targetBatchRatio, false})
		add(target{"batching, the batches alone (dry run)", fmt.Sprintf("%s vs %s = %s", ms(b.DryThirty.median()), ms(b.DryTen.median()), fmtRatio(rd)), "≤ 1.3×", rd <= targetBatchRatio, false})
	} else {
		add(target{"batching 30 vs 10 disks", "not measured: " + rep.Errors["batching"], "≤ 1.3×", false, true})
	}
	return ts
}

func (w *waitResult) latencies() sample {
	var s sample
	for _, r := range w.Runs {
		s = append(s, r.Latency)
	}
	return s
}

func (w *waitResult) maxPerMinute() int {
	m := 0
	for _, r := range w.Runs {
		m = max(m, r.Busiest)
	}
	return m
}

func (rep *report) benchLine(name string) *benchLine {
	for i := range rep.Bench {
		if rep.Bench[i].Name == name {
			return &rep.Bench[i]
		}
	}
	return nil
}

func verdictOf(t target) string {
	if t.NotMeasured {
		return "not measured"
	}
	return verdict(t.Met)
}

// renderSummary is what the harness prints.
func renderSummary(rep *report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-26s %-62s %s\n", "figure", "measured", "verdict")
	for _, t := range rep.targets() {
		fmt.Fprintf(&b, "%-26s %-62s %s (target %s)\n", t.Figure, t.Measured, strings.Trim(verdictOf(t), "*"), t.Target)
	}
	return b.String()
}

func renderMarkdown(rep *report, svgRel string) []byte {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := rep.Machine
	p("# Benchmarks\n\n")
	p("<!-- Generated by `make bench` (go run ./cmd/bench -out BENCHMARKS.md). Do not edit: rerun it. -->\n\n")
	if rep.Short {
		p("> **Short run** (`-short`): a tiny configuration that only proves the harness works. The figures below mean nothing.\n\n")
	}
	p("Generated %s in %s on %s × %s (`nproc` %s), %s, %s, Node.js %s, Linux %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), rep.Elapsed.Round(time.Second), orDash(m.CPUModel), fmt.Sprint(m.NumCPU), orDash(m.Nproc), fmt.Sprintf("%d MB RAM", m.MemTotalMB), m.GoVersion, orDash(m.NodeVer), m.Kernel)
	p("Everything ran over loopback against the in-process ECS emulator (`emulator/ecsemu`, default fleet), ")
	p("each function process under the FC runtime emulator, in one run, alternating the contenders. ")
	p("Every Go contender runs with `GOMAXPROCS=1`, the function's own default (`main.go`), the floors included, so the ratios compare code under one runtime setting. ")
	if pl := rep.Placement; pl.Pinned {
		p("Every process of the cold, warm and memory figures ran on CPU %d, the harness with its emulators on CPU %d, so that no contender shares its CPU with the emulators answering it. ", pl.Measured, pl.Harness)
	}
	p("The machine is shared and noisy: read the ratios, not the absolute times.\n\n")

	p("## Targets\n\n| figure | measured | target | verdict |\n| --- | --- | --- | --- |\n")
	for _, t := range rep.targets() {
		p("| %s | %s | %s | %s |\n", t.Figure, mdEsc(t.Measured), t.Target, verdictOf(t))
	}
	p("\n![cold-start and warm latency per contender](%s)\n\n", filepath.ToSlash(svgRel))

	p("## Contenders\n\n| contender | what | size |\n| --- | --- | --- |\n")
	p("| function | this repository's `main`, built as `make build` builds it (CGO_ENABLED=0, -trimpath, -ldflags='-s -w', linux/amd64) | %s |\n", mib(rep.Sizes.Function))
	p("| floor-runtime | `bench/floor-runtime`: a hello-world `fc.Start` function (fc-runtime-go-sdk only), built the same way | %s |\n", mib(rep.Sizes.FloorRuntime))
	p("| floor-libs | `bench/floor-libs`: floor-runtime linking alibaba-cloud-sdk-go's ECS package (a client and a `ResetDisks` call, built as `ecsclient` builds them) and go-playground/validator/v10 (a validator and a struct check), and using neither: the branch that would is never taken, so their code is mapped and their package initialisation runs, nothing more — the libraries' own start-up floor | %s |\n", mib(rep.Sizes.FloorLibs))
	p("| floor-sdk | `bench/floor-sdk`: the least code making the same `ResetDisks` dry run with the raw alibaba-cloud-sdk-go, built the same way; run as a plain process | %s |\n", mib(rep.Sizes.FloorSDK))
	p("| floor-call | `bench/floor-call`: floor-runtime whose handler makes the same `ResetDisks` dry run with the raw alibaba-cloud-sdk-go as floor-sdk makes it (one client made in `main`, the disks read from the event), and nothing else — no validation, no logging: the like-for-like floor of the function's warm path, the runtime round trip and the one call in one warm process | %s |\n", mib(rep.Sizes.FloorCall))
	if rep.Peer != nil {
		p("| peer-node | `bench/peer-node`: a Node.js handler using the official `@alicloud/ecs20140526` %s (`@alicloud/openapi-core` %s, which signs with ACS3-HMAC-SHA256 — the emulator accepts it) behind `bootstrap.js`, a stand-in for FC's Node runtime that speaks the same runtime API as `fc.Start`; Node %s; %s | node_modules not counted |\n",
			rep.Peer.SDKVersion, rep.Peer.CoreVersion, rep.Peer.NodeVersion, rep.Peer.Installed)
	} else {
		p("| peer-node | not measured in this run: %s | |\n", mdEsc(rep.PeerAbsent))
	}
	if n := rep.SignedWith["acs3"]; n > 0 {
		p("\nThe ECS emulator verified %d ACS3-signed requests (the peer) and %d signature-v1 requests (the Go contenders) during the cold and warm phases.\n", n, rep.SignedWith["v1"])
	}
	p("\nThe event is `events/testdata/direct-dryrun.json`'s request: a `ResetDisks` dry run of two disks of the default fleet, which ECS answers `DryRunOperation` (every contender treats that as success).\n\n")

	if c := rep.Cold; c != nil {
		rep.renderCold(p, c)
	}

	if w := rep.Warm; w != nil {
		p("## Warm latency\n\nOne process per contender stays up; after %d warm-up invocations each, %d rounds of %d sequential invocations per contender, the order rotating (the Node peer in rounds of its own afterwards, as for cold start). ", warmUpInvocations, rep.Config.WarmRounds, rep.Config.WarmPerRound)
		p("Function, floor-runtime, floor-call and peer are timed by the caller of the runtime emulator (event in → result out); floor-sdk times each `ResetDisks` call of its loop (one client, as a long-running program would). ")
		p("floor-call, the runtime round trip and the one raw SDK call in one warm process, is the like-for-like floor of the function's warm path: floor-sdk's calls follow each other in a tight loop and never wait between calls, whereas an invocation's call comes after the process has waited for its event, the function's as much as floor-call's.\n\n")
		p("Process CPU is the contender's CPU time (all its threads, from `/proc/PID/task/*/schedstat`) over the measured rounds ÷ its invocations: the work each invocation costs the process, which a fractional vCPU pays in full, apart from the latency the caller sees.\n\n")
		p("| contender | n | p50 | p99 | p25–p75 | p50 ÷ floor-sdk p50 | process CPU per invocation |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		fl := w[cFloorSDK].median()
		for _, name := range warmContenders {
			s := w[name]
			if len(s) == 0 {
				continue
			}
			cpu := "—"
			if c := rep.WarmCPU[name]; c > 0 {
				cpu = fmt.Sprintf("%.0f µs", float64(c)/float64(time.Microsecond))
			}
			p("| %s | %d | %s | %s | %s | %s | %s |\n", name, len(s), ms(s.median()), ms(s.p99()), s.spread(), fmtRatio(ratio(s.median(), fl)), cpu)
		}
		fnW, frW := w[cFunction].median(), w[cFloorRuntime].median()
		p("\nThe runtime API round trip alone (floor-runtime, a hello-world) is %s at p50; floor-runtime + floor-sdk = %s, and the function is %s of that sum.", ms(frW), ms(frW+fl), fmtRatio(ratio(fnW, frW+fl)))
		if fcW := w[cFloorCall].median(); fcW > 0 {
			p(" floor-call is %s at p50, itself %s of that sum; the function is %s of floor-call.", ms(fcW), fmtRatio(ratio(fcW, frW+fl)), fmtRatio(ratio(fnW, fcW)))
		}
		p("\n\n")
		if ip := rep.InProcess; ip != nil && ip.RawNs > 0 {
			p("Without the runtime API, in one process (`BenchmarkInProcessInvoke` vs `BenchmarkInProcessRawSDK` in `cmd/bench/bench_test.go`, median of 5 × 3,000 operations against an in-process emulator, whose own work is included in both): ")
			p("a warm function invocation takes %.0f µs, the raw SDK call %.0f µs (%s). CPU time per operation from the same run's profile:\n\n", ip.InvokeNs/1000, ip.RawNs/1000, fmtRatio(ip.InvokeNs/ip.RawNs))
			p("| function | per invocation | per raw SDK call |\n| --- | --- | --- |\n")
			for _, pt := range ip.Parts {
				p("| `%s` | %.1f µs | %.1f µs |\n", pt.Func, pt.InvokeUs, pt.RawUs)
			}
			p("\n")
		}
	}

	if len(rep.Mem) > 0 {
		p("## Memory\n\nA fresh process per contender, %d invocations of the dry run: the first half one at a time, the second half from %d concurrent callers. Then `VmHWM` (peak resident set) and `VmRSS` from `/proc/PID/status`.\n\n", rep.Config.MemInvocations, rep.Config.MemConcurrency)
		p("| contender | VmHWM | VmRSS after | wall time | note |\n| --- | --- | --- | --- | --- |\n")
		for _, name := range []string{cFunction, cFloorRuntime, cPeer} {
			mr, ok := rep.Mem[name]
			if !ok {
				continue
			}
			p("| %s | %s | %s | %s | %s |\n", name, mib(mr.VmHWM), mib(mr.VmRSS), mr.Wall.Round(time.Millisecond), mdEsc(mr.Err))
		}
		p("\n")
	}

	p("## Size\n\nMB here and in the memory figures means 2^20 bytes.\n\n| artifact | size | target |\n| --- | --- | --- |\n")
	p("| function binary (stripped, static) | %s (%d bytes) | ≤ 12 MB |\n", mib(rep.Sizes.Function), rep.Sizes.Function)
	p("| function.zip (%s) | %s (%d bytes) | ≤ 5 MB |\n", mdEsc(rep.Sizes.ZipHow), mib(rep.Sizes.FunctionZip), rep.Sizes.FunctionZip)
	p("| floor-runtime / floor-libs / floor-call / floor-sdk | %s / %s / %s / %s | |\n\n", mib(rep.Sizes.FloorRuntime), mib(rep.Sizes.FloorLibs), mib(rep.Sizes.FloorCall), mib(rep.Sizes.FloorSDK))
	rep.renderBytes(p)

	p("## Wait detection\n\n")
	switch w := rep.Wait; {
	case w == nil:
		p("Not measured: %s\n\n", mdEsc(rep.Errors["wait"]))
	case w.NotMeasured != "":
		p("Not measured: %s. The harness keeps the code path: it sends `\"Wait\": true` with a real reset to an emulator whose resets take a set time and times the result against the moment the emulator flips the last disk back to `In_use` (its `ResetDisks` time + that time).\n\n", mdEsc(w.NotMeasured))
	default:
		p("A real reset of two disks with `\"Wait\": true`, once per reset duration (a fresh emulator and process each; different durations land the flip at different points of the function's polling schedule). ")
		p("Latency = result − (the emulator's `ResetDisks` time + the reset duration), i.e. from the moment it flips the last disk back to `In_use`. Calls per minute: the most `DescribeDisks` calls in any 60 s window; the average pace (calls ÷ time from the reset to the result) is shown too.\n\n")
		p("| reset takes | flip → result | invocation | DescribeDisks | busiest minute | average pace | last poll interval |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, r := range w.Runs {
			p("| %s | %s | %s | %d | %d | %.0f/min | %s |\n", r.ResetDuration, ms(r.Latency), ms(r.Total), r.DescribeDisks, r.Busiest, r.Rate, ms(r.LastGap))
		}
		p("\n")
	}

	p("## Batching\n\n")
	if bt := rep.Batch; bt != nil {
		p("A fixture built in code (3 stopped instances × 10 disks, each with an accomplished snapshot; the emulator's resets complete at once so they repeat). One warm process; a request for 10 disks and one for all 30, alternating: real resets %d times each and dry runs %d times each, after one warm-up pair. ", rep.Config.BatchReps, rep.Config.BatchDryReps)
		p("A real reset also runs the guards (idempotency claim: read the disks' tags, write them, wait the settle delay, read them back; release afterwards), whose cost does not grow with the batches; the dry run has no guards, so it isolates the ResetDisks batches.\n\n")
		p("| request | ResetDisks calls | median | p25–p75 | min |\n| --- | --- | --- | --- | --- |\n")
		p("| 10 disks, real reset | %d | %s | %s | %s |\n", bt.CallsTen, ms(bt.Ten.median()), bt.Ten.spread(), ms(bt.Ten.min()))
		p("| 30 disks, real reset | %d | %s | %s | %s |\n", bt.CallsThirty, ms(bt.Thirty.median()), bt.Thirty.spread(), ms(bt.Thirty.min()))
		p("| 10 disks, dry run | %d | %s | %s | %s |\n", bt.DryCallsTen, ms(bt.DryTen.median()), bt.DryTen.spread(), ms(bt.DryTen.min()))
		p("| 30 disks, dry run | %d | %s | %s | %s |\n", bt.DryCallsThirty, ms(bt.DryThirty.median()), bt.DryThirty.spread(), ms(bt.DryThirty.min()))
		p("\nRatio of medians, 30 ÷ 10 disks: real reset %s, dry run %s (target ≤ 1.3×).\n\n", fmtRatio(ratio(bt.Thirty.median(), bt.Ten.median())), fmtRatio(ratio(bt.DryThirty.median(), bt.DryTen.median())))
	} else {
		p("Not measured: %s\n\n", mdEsc(rep.Errors["batching"]))
	}

	p("## Handler CPU\n\n`go test -run '^$' -bench '^(BenchmarkInvoke|BenchmarkDecodeValidate|BenchmarkEncodeResult)$' -benchmem -count %d ./function` (`function/bench_test.go`): the whole `Handler.Invoke` path — envelope detection, strict decode, validation, plan, the ECS call against an instant in-memory fake (`benchECS`), result encoding. Median of %d runs.\n\n", rep.Config.BenchCount, rep.Config.BenchCount)
	if len(rep.Bench) > 0 {
		p("| benchmark | µs/op | B/op | allocs/op |\n| --- | --- | --- | --- |\n")
		for _, bl := range rep.Bench {
			p("| %s | %.1f | %.0f | %.0f |\n", bl.Name, bl.NsPerOp/1000, bl.BytesPerOp, bl.AllocsOp)
		}
		p("\n")
	} else {
		p("Not measured: %s\n\n", mdEsc(rep.Errors["gobench"]))
	}

	if len(rep.Profile) > 0 {
		p("CPU profile of `BenchmarkInvoke/disks=2` (20,000 invocations, `go tool pprof -top -cum`), the project's functions and the encoders they call:\n\n| function | cumulative | flat |\n| --- | --- | --- |\n")
		for _, l := range rep.Profile {
			p("| `%s` | %.1f%% | %.1f%% |\n", l.Func, l.CumPct, l.FlatPct)
		}
		p("\n")
	}

	if len(rep.Init) > 0 {
		p("## Start-up work (GODEBUG=inittrace=1)\n\nPackage initialisation before `main`, from the built binaries of this run.\n\n")
		p("| binary | packages | init clock | bytes allocated | allocs |\n| --- | --- | --- | --- | --- |\n")
		for _, it := range []struct {
			name  string
			lines []initLine
		}{{"function", rep.Init}, {"floor-libs", rep.InitLibs}, {"floor-runtime", rep.InitFloor}} {
			ms, by, al := initTotals(it.lines)
			p("| %s | %d | %.2f ms | %d | %d |\n", it.name, len(it.lines), ms, by, al)
		}
		p("\nThe function's costliest package inits:\n\n| package | clock | bytes | allocs |\n| --- | --- | --- | --- |\n")
		top := slices.Clone(rep.Init)
		sort.Slice(top, func(i, j int) bool { return top[i].Ms > top[j].Ms })
		for _, l := range top[:min(8, len(top))] {
			p("| %s | %.3f ms | %d | %d |\n", l.Pkg, l.Ms, l.Bytes, l.Allocs)
		}
		p("\n")
	}

	p("## Gaps and causes\n\n")
	gaps := rep.gaps()
	if len(gaps) == 0 {
		p("Every measured target is met.\n\n")
	}
	for _, g := range gaps {
		p("- %s\n", g)
	}
	if len(gaps) > 0 {
		p("\n")
	}
	if len(rep.Errors) > 0 {
		p("Errors during the run:\n\n")
		keys := make([]string, 0, len(rep.Errors))
		for k := range rep.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p("- %s: %s\n", k, mdEsc(firstLine(rep.Errors[k])))
		}
		p("\n")
	}

	p("What earlier runs found and what was changed because of it, with the figures before and after: [bench/CHANGES.md](bench/CHANGES.md).\n\n")
	p("## Reproduce\n\n```sh\nmake bench                                   # go run ./cmd/bench -out BENCHMARKS.md\ngo run ./cmd/bench -no-node -out /tmp/b.md    # without the Node peer\ngo run ./cmd/bench -short -out /tmp/b.md      # the tiny run the tests use\n```\n\n")
	p("Needs Go; the Node peer also needs `node` and `npm` (its pinned SDK is installed once into the user cache directory; without npm the peer is reported as not measured). ")
	p("Everything stays on loopback; every loop is bounded (%d cold rounds, %d×%d warm invocations per contender, %d invocations for memory).\n", rep.Config.ColdRounds, rep.Config.WarmRounds, rep.Config.WarmPerRound, rep.Config.MemInvocations)
	return []byte(b.String())
}
