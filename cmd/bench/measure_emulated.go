package main

// Measurements against the ECS emulator: memory, wait detection, batching.

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

// ---- memory -------------------------------------------------------------------

type memResult struct {
	Invocations, Concurrency int
	VmHWM, VmRSS             int64
	Wall                     time.Duration
	Err                      string
}

// measureMemory runs n invocations on a fresh process — the first half one
// at a time, the second half from `conc` concurrent callers — then reads
// the process's peak resident set (VmHWM).
func measureMemory(c contender, n, conc int, event []byte) memResult {
	r := memResult{Invocations: n, Concurrency: conc}
	h, err := startHost(c.Spec)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer h.Close()
	start := time.Now()
	seq := n / 2
	for range seq {
		if _, err := invokeOnce(h, event); err != nil {
			r.Err = err.Error()
			return r
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	work := make(chan struct{}, n-seq)
	for range n - seq {
		work <- struct{}{}
	}
	close(work)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if _, err := invokeOnce(h, event); err != nil {
					mu.Lock()
					r.Err = err.Error()
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	r.Wall = time.Since(start)
	pid := h.PID()
	if r.VmHWM, err = procStatusKB(pid, "VmHWM"); err != nil {
		r.Err = err.Error()
	}
	r.VmRSS, _ = procStatusKB(pid, "VmRSS")
	return r
}

// ---- wait detection ---------------------------------------------------------

type waitRun struct {
	ResetDuration time.Duration
	Latency       time.Duration // last disk back In_use → result
	Total         time.Duration // invocation wall time
	DescribeDisks int
	// Busiest is the most DescribeDisks calls in any 60 s window (the
	// target's "calls per minute"; for a wait under a minute, all of them).
	Busiest int
	// Rate is DescribeDisks calls ÷ time from the reset to the result,
	// per minute: the average pace, which overstates short waits.
	Rate float64
	// LastGap is the time between the last two DescribeDisks calls (or
	// the reset and the only one): the poll interval the flip fell into.
	LastGap time.Duration
}

type waitResult struct {
	NotMeasured string
	Runs        []waitRun
}

// measureWait resets two disks with "Wait": true, once per reset duration
// (a fresh emulator each, so the flip lands at different points of the
// function's polling schedule), and times the result against the moment the
// emulator flips the last disk back (its ResetDisks time + the duration).
func measureWait(fnSpec hostSpec, durations []time.Duration) (*waitResult, error) {
	wr := &waitResult{}
	event := requestEvent("cn-hangzhou", false, true, dryRunPairs)
	for _, resetDur := range durations {
		run, notImpl, err := waitOnce(fnSpec, resetDur, event)
		if err != nil {
			return nil, err
		}
		if notImpl != "" {
			wr.NotMeasured = notImpl
			return wr, nil
		}
		wr.Runs = append(wr.Runs, run)
	}
	return wr, nil
}

func waitOnce(fnSpec hostSpec, resetDur time.Duration, event []byte) (waitRun, string, error) {
	es, err := ecsemu.NewServer(ecsemu.Options{ResetDuration: resetDur, StopDuration: -1, StartDuration: -1, SnapshotDuration: -1})
	if err != nil {
		return waitRun{}, "", err
	}
	defer es.Close()
	spec := fnSpec
	spec.Env = append(slices.Clone(fnSpec.Env), "ECS_ENDPOINT="+es.URL())
	h, err := startHost(spec)
	if err != nil {
		return waitRun{}, "", err
	}
	defer h.Close()
	start := time.Now()
	out, err := invokeOnce(h, event)
	end := time.Now()
	if err != nil {
		return waitRun{}, "", fmt.Errorf("invocation with Wait: %v", err)
	}
	var resetAt time.Time
	var describes []time.Time
	for _, r := range es.Requests() {
		switch r.Action {
		case "ResetDisks", "ResetDisk":
			// The real reset: its dry runs (the preflight before it, the
			// wait's probes after it) change nothing.
			if r.Params["DryRun"] != "true" && r.Time.After(resetAt) {
				resetAt = r.Time
			}
		case "DescribeDisks":
			describes = append(describes, r.Time)
		}
	}
	if resetAt.IsZero() {
		return waitRun{}, "", fmt.Errorf("the invocation with Wait made no reset call: %.300s", out.Payload)
	}
	flip := resetAt.Add(resetDur)
	if end.Before(flip) || len(describes) == 0 {
		return waitRun{}, fmt.Sprintf("Wait not implemented: the result (Summary.Status %q) came %s before the disks left ReIniting, after %d DescribeDisks calls",
			summaryStatus(out.Payload), ms(flip.Sub(end)), len(describes)), nil
	}
	if st := summaryStatus(out.Payload); st != "Succeeded" {
		return waitRun{}, "", fmt.Errorf("invocation with Wait: Summary.Status %q: %.300s", st, out.Payload)
	}
	busiest := 0
	for i, t := range describes {
		n := 0
		for _, u := range describes[i:] {
			if u.Sub(t) < time.Minute {
				n++
			}
		}
		busiest = max(busiest, n)
	}
	prev := resetAt
	if len(describes) > 1 {
		prev = describes[len(describes)-2]
	}
	return waitRun{ResetDuration: resetDur, Latency: end.Sub(flip), Total: end.Sub(start), DescribeDisks: len(describes), Busiest: busiest,
		Rate: float64(len(describes)) / end.Sub(resetAt).Minutes(), LastGap: describes[len(describes)-1].Sub(prev)}, "", nil
}

// ---- batching -----------------------------------------------------------------

// batchFixture is 3 stopped instances with 10 disks each, every disk with
// an accomplished snapshot, built programmatically.
func batchFixture() (*ecsemu.Fixture, [][2]string) {
	fx := &ecsemu.Fixture{Regions: []string{"cn-hangzhou"}}
	created := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	var pairs [][2]string
	for i := range 3 {
		inst := fmt.Sprintf("i-bp1bench%011d", i)
		fx.Instances = append(fx.Instances, ecsemu.Instance{InstanceID: inst, RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-i", Status: "Stopped", StoppedMode: "KeepCharging"})
		for j := range 10 {
			disk := fmt.Sprintf("d-bp1bench%04d%07d", i, j)
			snap := fmt.Sprintf("s-bp1bench%04d%07d", i, j)
			typ := "data"
			if j == 0 {
				typ = "system"
			}
			fx.Disks = append(fx.Disks, ecsemu.Disk{DiskID: disk, RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-i", InstanceID: inst, Category: "cloud_essd", Type: typ, Status: "In_use", Size: 40})
			fx.Snapshots = append(fx.Snapshots, ecsemu.Snapshot{SnapshotID: snap, RegionID: "cn-hangzhou", SourceDiskID: disk, SourceDiskType: typ, Status: "accomplished", CreationTime: created})
			pairs = append(pairs, [2]string{disk, snap})
		}
	}
	return fx, pairs
}

type batchResult struct {
	Ten, Thirty           sample // real resets
	DryTen, DryThirty     sample // dry runs: the ResetDisks batches alone
	CallsTen, CallsThirty int    // ResetDisks calls per real reset (its preflight's dry runs included)
	// DryCallsTen, DryCallsThirty are the ResetDisks calls per dry run.
	DryCallsTen, DryCallsThirty int
}

// measureBatching alternates a 10-disk and a 30-disk request on one warm
// process: real resets (the emulator's resets are instant, so they repeat)
// `reps` times, and dry runs `dryReps` times (no guards, only the batches).
func measureBatching(fnSpec hostSpec, reps, dryReps int) (*batchResult, error) {
	fx, pairs := batchFixture()
	es, err := ecsemu.NewServer(ecsemu.Options{Fixture: fx, ResetDuration: -1, StopDuration: -1, StartDuration: -1, SnapshotDuration: -1})
	if err != nil {
		return nil, err
	}
	defer es.Close()
	spec := fnSpec
	spec.Env = append(slices.Clone(fnSpec.Env), "ECS_ENDPOINT="+es.URL())
	h, err := startHost(spec)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	br := &batchResult{}
	resetCalls := func() int {
		n := 0
		for _, r := range es.Requests() {
			if r.Action == "ResetDisks" {
				n++
			}
		}
		es.ClearRequests()
		return n
	}
	type variant struct {
		ev   []byte
		dst  *sample
		want string
		n    *int
	}
	for _, mode := range []struct {
		dry  bool
		reps int
	}{{false, reps}, {true, dryReps}} {
		want := "Succeeded"
		ten, thirty := &br.Ten, &br.Thirty
		n10, n30 := &br.CallsTen, &br.CallsThirty
		if mode.dry {
			want, ten, thirty = "DryRunPassed", &br.DryTen, &br.DryThirty
			n10, n30 = &br.DryCallsTen, &br.DryCallsThirty
		}
		vs := []variant{
			{requestEvent("cn-hangzhou", mode.dry, false, pairs[:10]), ten, want, n10},
			{requestEvent("cn-hangzhou", mode.dry, false, pairs), thirty, want, n30},
		}
		for i := -1; i < mode.reps; i++ { // one warm-up pair
			order := vs
			if i%2 != 0 {
				order = []variant{vs[1], vs[0]}
			}
			for _, v := range order {
				resetCalls()
				start := time.Now()
				out, err := invokeOnce(h, v.ev)
				d := time.Since(start)
				if err != nil {
					return nil, err
				}
				if st := summaryStatus(out.Payload); st != v.want {
					return nil, fmt.Errorf("batching: Summary.Status %q, want %q: %.300s", st, v.want, out.Payload)
				}
				*v.n = resetCalls()
				if i >= 0 {
					*v.dst = append(*v.dst, d)
				}
			}
		}
	}
	return br, nil
}
