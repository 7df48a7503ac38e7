package main

// What the report says beside its tables: the gaps to the targets, their
// causes, and small formatting helpers.

import (
	"fmt"
	"math"
	"strings"
)

// gaps explains each missed target with the figures of this run.
func (rep *report) gaps() []string {
	var out []string
	for _, t := range rep.targets() {
		if t.Met || t.NotMeasured {
			continue
		}
		out = append(out, fmt.Sprintf("**%s** missed (%s; target %s). %s", t.Figure, mdEsc(t.Measured), t.Target, rep.cause(t.Figure)))
	}
	return out
}

// cause is the data-backed explanation of a miss.
func (rep *report) cause(figure string) string {
	switch {
	case figure == figureWarmLikeForLike && rep.Warm != nil:
		fn, fc := rep.Warm[cFunction].median(), rep.Warm[cFloorCall].median()
		return fmt.Sprintf("floor-call, the runtime API round trip and the one raw SDK call in one warm process, takes %s at p50; the function takes %s more: its own work per invocation (decoding, validation, the plan, its log line, the result) and a larger answer to post.%s",
			ms(fc), ms(max(0, fn-fc)), rep.inProcessCause())
	case strings.HasPrefix(figure, "warm") && rep.Warm != nil:
		fn, fl, fr := rep.Warm[cFunction].median(), rep.Warm[cFloorSDK].median(), rep.Warm[cFloorRuntime].median()
		msg := fmt.Sprintf("The runtime API round trip (floor-runtime, a hello-world) takes %s at p50 and the bare SDK call %s; the function takes %s more than both together: its own work per invocation and a larger answer to post.",
			ms(fr), ms(fl), ms(max(0, fn-fr-fl)))
		if fc := rep.Warm[cFloorCall].median(); fc > 0 {
			msg += fmt.Sprintf(" floor-call, that round trip and that call in one warm process with no code of the function's, is itself %s of the sum (floor-sdk's calls follow each other in a tight loop; an invocation's call comes after the process waited for its event): of the function's excess, that much is not its code (see the like-for-like row).",
				fmtRatio(ratio(fc, fr+fl)))
		}
		return msg + rep.inProcessCause()
	case strings.HasPrefix(figure, "cold start") && rep.Cold != nil:
		c := rep.Cold
		ms0, by0, _ := initTotals(rep.Init)
		ms1, by1, _ := initTotals(rep.InitLibs)
		return fmt.Sprintf("exec → first /next: function %s, floor-libs %s; /next → result: function %s, floor-libs %s + floor-sdk's whole first call %s. Package initialisation: function %.2f ms and %d bytes, floor-libs %.2f ms and %d bytes (see Start-up work); causes and changes: bench/CHANGES.md.",
			ms(c.ToNext[cFunction].median()), ms(c.ToNext[cFloorLibs].median()), ms(c.NextToResult[cFunction].median()), ms(c.NextToResult[cFloorLibs].median()), ms(c.FloorSDKCall.median()), ms0, by0, ms1, by1)
	case strings.HasPrefix(figure, "handler CPU"):
		var parts []string
		for _, l := range rep.Profile {
			switch l.Func {
			case "function.DecodeRequest", "function.(*Handler).Run", "function.(*Request).Validate":
				parts = append(parts, fmt.Sprintf("`%s` %.0f%%", l.Func, l.CumPct))
			}
		}
		return "The CPU profile (Handler CPU): " + strings.Join(parts, ", ") + " of the samples. `DecodeRequest` reads a plainly right request by hand (`function/requestfast.go`); `Validate` is go-playground/validator's reflection over the struct tags, its cross-field rules (`excluded_with`, `required_without_all`, …) the costliest. The figure moves by several µs between runs on this shared machine."
	case strings.HasPrefix(figure, "wait") && rep.Wait != nil:
		var gaps []string
		for _, r := range rep.Wait.Runs {
			gaps = append(gaps, fmt.Sprintf("%s → %s", r.ResetDuration, ms(r.LastGap)))
		}
		return fmt.Sprintf("The result comes at the first DescribeDisks poll after the flip, so the latency is up to one poll interval; the interval grows with each poll, and the last interval before the result was, per reset duration: %s. A reset that takes longer is detected later (up to the longest interval).", strings.Join(gaps, ", "))
	case strings.HasPrefix(figure, "batching") && rep.Batch != nil:
		msg := fmt.Sprintf("A real reset is dominated by the guards' settle delay (about 1 s, the same for 10 and 30 disks), so its ratio is about 1. The dry run isolates the batches: %d ResetDisks calls for 30 disks against %d for 10, running concurrently on a 2-core machine that also runs the emulator and the caller", rep.Batch.DryCallsThirty, rep.Batch.DryCallsTen)
		if b10, b30 := rep.benchLine("BenchmarkInvoke/disks=10"), rep.benchLine("BenchmarkInvoke/disks=30"); b10 != nil && b30 != nil {
			msg += fmt.Sprintf(", and the handler's own CPU grows with the disks (BenchmarkInvoke %.0f µs for 10 disks, %.0f µs for 30)", b10.NsPerOp/1000, b30.NsPerOp/1000)
		}
		return msg + "."
	}
	return ""
}

// inProcessCause is where a warm invocation's time goes beyond the raw SDK
// call, from the in-process benchmarks and their profile ("" when not
// measured).
func (rep *report) inProcessCause() string {
	ip := rep.InProcess
	if ip == nil || ip.RawNs <= 0 {
		return ""
	}
	var parts []string
	for _, pt := range ip.Parts {
		if d := pt.InvokeUs - pt.RawUs; math.Abs(d) >= 3 && pt.Func != "sdk.(*Client).DoActionWithSigner" {
			parts = append(parts, fmt.Sprintf("`%s` %+.0f µs", pt.Func, d))
		}
	}
	d := (ip.InvokeNs - ip.RawNs) / 1000
	more := "more"
	if d < 0 {
		more = "less"
	}
	s := fmt.Sprintf(" In process, without the runtime API, a warm invocation costs %.0f µs %s than the raw call (see Warm latency)", math.Abs(d), more)
	if len(parts) > 0 {
		s += "; of the functions the profile follows, " + strings.Join(parts, ", ") + " (`DecodeRequest` and `Validate` are the handler's own decoding and checks, see Handler CPU; the SDK's error reading is ecsclient's own, inside `net/http.(*Client).Do`)"
	}
	return s + "; no other followed function differs by 3 µs or more."
}

func initTotals(lines []initLine) (ms float64, bytes, allocs int64) {
	for _, l := range lines {
		ms += l.Ms
		bytes += l.Bytes
		allocs += l.Allocs
	}
	return
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func mdEsc(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
