package main

// The cold-start and size parts of the report: targets, tables, the
// estimate at FC's smallest CPU shares, and the byte costs.

import (
	"fmt"
	"time"
)

// vCPU shares of FC 3.0's smallest instances (128 MB runs on 0.05–0.1 vCPU).
var cpuShares = []float64{0.1, 0.05}

// coldContenders are the cold section's rows, in order: the function, the
// hosted floors, floor-sdk (a plain process), the peer.
var coldContenders = []string{cFunction, cFloorRuntime, cFloorLibs, cFloorCall, cFloorSDK, cPeer}

func (rep *report) coldTargets() []target {
	c := rep.Cold
	var ts []target
	fn := c.Wall[cFunction].median()
	if floor := c.LibsPlusCall.median(); floor > 0 {
		r := ratio(fn, floor)
		ts = append(ts, target{"cold start wall", fmt.Sprintf("%s vs %s = %s", ms(fn), ms(floor), fmtRatio(r)),
			"≤ 1.2 × (floor-libs exec → result + floor-sdk's first call timed inside main)", r <= targetColdRatio, false})
	}
	if fl := c.CPU[cFloorLibs].median(); fl > 0 {
		fc := c.CPU[cFunction].median()
		r := ratio(fc, fl)
		ts = append(ts, target{"cold start CPU", fmt.Sprintf("%s vs %s = %s (est. at 0.1 vCPU: %s vs %s)", ms(fc), ms(fl), fmtRatio(r), ms(atShare(fc, 0.1)), ms(atShare(fl, 0.1))),
			"≤ 1.2 × floor-libs' process CPU (user + system, rusage)", r <= targetColdRatio, false})
	}
	if p := c.Wall[cPeer]; len(p) > 0 {
		r := ratio(fn, p.median())
		ts = append(ts, target{"cold start vs Node peer", fmt.Sprintf("%s vs %s = %s", ms(fn), ms(p.median()), fmtRatio(r)), "far below the peer (≤ 0.5×)", r <= targetPeerRatio, false})
	} else {
		ts = append(ts, target{"cold start vs Node peer", "not measured: " + rep.PeerAbsent, "far below the peer", false, true})
	}
	return ts
}

// atShare estimates the wall time of cpu worth of work on a share of one
// vCPU: cpu ÷ share.
func atShare(cpu time.Duration, share float64) time.Duration {
	return time.Duration(float64(cpu) / share)
}

func (rep *report) renderCold(p func(string, ...any), c *coldResult) {
	p("## Cold start\n\n")
	p("Each hosted contender is started under the runtime emulator and sent the dry run once; the harness notes exec, the process's first `GET /next` (process start, package initialisation, `main` up to `fc.Start`) and the result (the first invocation: the SDK's first request and decode, the validator's first pass, client and transport set-up, logging). ")
	p("CPU is the process's user + system time from its rusage when reaped (`getrusage(RUSAGE_CHILDREN)` before and after; one process at a time), so it covers its whole life: start, the first invocation, and exit on SIGTERM right after the result. ")
	p("floor-sdk runs as a plain process (exec → exit after its one call; CPU from its `ProcessState`). ")
	p("floor-call is floor-runtime whose handler makes that one raw SDK call: its CPU is the libraries' start-up plus the SDK's first call, with no code of the function's. ")
	p("%d rounds after one discarded warm-up round; in each round every contender runs once, the order rotating. ", rep.Config.ColdRounds)
	if len(c.Wall[cPeer]) > 0 {
		p("The Node peer runs in %d rounds of its own after them: in the same rotation, its second-long starts slowed the Go processes that followed it on the measured CPU, the function more than the floors (bench/CHANGES.md, round 5). ", rep.Config.ColdRounds)
	}
	p("Medians, p25–p75 in brackets.\n\n")
	p("| contender | exec → first /next | /next → result | exec → result | CPU (user + sys) | function ÷ contender (wall, CPU) |\n| --- | --- | --- | --- | --- | --- |\n")
	fnW, fnC := c.Wall[cFunction].median(), c.CPU[cFunction].median()
	for _, name := range coldContenders {
		w := c.Wall[name]
		if len(w) == 0 {
			continue
		}
		toNext, toRes := "—", "—"
		if s := c.ToNext[name]; len(s) > 0 {
			toNext = fmt.Sprintf("%s (%s)", ms(s.median()), s.spread())
			toRes = fmt.Sprintf("%s (%s)", ms(c.NextToResult[name].median()), c.NextToResult[name].spread())
		}
		label := name
		if name == cFloorSDK {
			label += " (exec → exit)"
		}
		cpu := c.CPU[name]
		p("| %s | %s | %s | %s (%s) | %s (%s) | %s, %s |\n", label, toNext, toRes, ms(w.median()), w.spread(), ms(cpu.median()), cpu.spread(),
			fmtRatio(ratio(fnW, w.median())), fmtRatio(ratio(fnC, cpu.median())))
	}
	p("| floor-sdk's first call, timed inside its main | | | %s (%s) | | %s |\n", ms(c.FloorSDKCall.median()), c.FloorSDKCall.spread(), fmtRatio(ratio(fnW, c.FloorSDKCall.median())))
	p("| floor-libs + floor-sdk's first call (per round) | | | %s (%s) | | %s |\n", ms(c.LibsPlusCall.median()), c.LibsPlusCall.spread(), fmtRatio(ratio(fnW, c.LibsPlusCall.median())))
	p("| floor-runtime + floor-sdk exec → exit (per round; counts process start twice) | | | %s (%s) | | %s |\n\n", ms(c.FloorSum.median()), c.FloorSum.spread(), fmtRatio(ratio(fnW, c.FloorSum.median())))

	p("**Estimate at FC's smallest sizes.** A 128 MB instance gets 0.05–0.1 of a vCPU, so its CPU time stretches by 1 ÷ share. ")
	p("*Estimate, not a measurement*: the median CPU time above ÷ the share. It assumes the start-up is CPU-bound once throttled (on this machine the processes are mostly on CPU: compare CPU with exec → result) and leaves out waits that do not shrink or grow with the share (network, the ECS answer), so a real cold start there is at least this long.\n\n")
	p("| contender | CPU | at 0.1 vCPU (est.) | at 0.05 vCPU (est.) |\n| --- | --- | --- | --- |\n")
	for _, name := range coldContenders {
		cpu := c.CPU[name]
		if len(cpu) == 0 {
			continue
		}
		p("| %s | %s | %s | %s |\n", name, ms(cpu.median()), ms(atShare(cpu.median(), cpuShares[0])), ms(atShare(cpu.median(), cpuShares[1])))
	}
	p("\n")
}

// renderBytes is the byte cost table: what the function adds over
// floor-libs, per package, and what each ECS action costs.
func (rep *report) renderBytes(p func(string, ...any)) {
	bc := rep.Bytes
	if bc == nil {
		if e := rep.Errors["bytes"]; e != "" {
			p("Byte costs not measured: %s\n\n", mdEsc(firstLine(e)))
		}
		return
	}
	p("### What the bytes are\n\n")
	p("The symbol tables (what `go tool nm -size` lists, read with `debug/elf` so that .bss symbols, which take no room in the file, are left out) of the function and floor-libs built as above but with symbols kept; text, read-only data and data symbols summed per package (type descriptors, itabs and closures count for their package; string data and other unnamed symbols are `(other)`). ")
	p("Counted symbols: function %d bytes, floor-libs %d, difference %d; the stripped binaries differ by %d (the rest is mostly the pclntab, which grows with code).\n\n",
		bc.SymFunction, bc.SymLibs, bc.SymFunction-bc.SymLibs, rep.Sizes.Function-rep.Sizes.FloorLibs)
	p("| package | function | floor-libs | added by the function |\n| --- | --- | --- | --- |\n")
	n := 0
	for _, pk := range bc.Packages {
		if d := pk.Delta(); d < 1024 && d > -1024 {
			continue
		}
		p("| %s | %d | %d | %+d |\n", pk.Pkg, pk.Function, pk.Libs, pk.Delta())
		if n++; n >= 14 {
			break
		}
	}
	p("\nECS actions the function calls (from `ecsclient`'s `ecs.Create…Request` calls): the ECS package's symbols named after each (request, response and nested types, constructors, type descriptors). An action added later costs about as much as one of these, plus the pclntab share.\n\n")
	p("| ECS action | bytes |\n| --- | --- |\n")
	for _, a := range bc.Actions {
		p("| %s | %d |\n", a.Action, a.Bytes)
	}
	p("\n")
}
