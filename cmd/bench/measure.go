package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

// Contender names.
const (
	cFunction     = "function"
	cFloorRuntime = "floor-runtime"
	cFloorSDK     = "floor-sdk"
	cPeer         = "peer-node"
)

// contender is one program under test.
type contender struct {
	Name   string
	Hosted bool     // runs under the runtime emulator (else floor-sdk: a plain process)
	Spec   hostSpec // for hosted contenders
	// Check validates a hosted contender's first result.
	Check func(payload []byte) error
}

// dryRunPairs are the two disks of events/testdata/direct-dryrun.json.
var dryRunPairs = [][2]string{
	{"d-bp1stoppedsys0000000", "s-bp1stoppedsys0000000"},
	{"d-bp1stoppeddata000000", "s-bp1stoppeddata000000"},
}

func requestEvent(region string, dryRun, wait bool, pairs [][2]string) []byte {
	type pair struct{ DiskId, SnapshotId string }
	ev := struct {
		RegionId string
		DryRun   bool
		Disk     []pair
		Wait     bool `json:",omitempty"`
	}{RegionId: region, DryRun: dryRun, Wait: wait}
	for _, p := range pairs {
		ev.Disk = append(ev.Disk, pair{p[0], p[1]})
	}
	b, _ := json.Marshal(ev)
	return b
}

func pairsArg(pairs [][2]string) string {
	var s []string
	for _, p := range pairs {
		s = append(s, p[0]+"="+p[1])
	}
	return strings.Join(s, ",")
}

// summaryStatus pulls Summary.Status out of a result.
func summaryStatus(payload []byte) string {
	var r struct{ Summary struct{ Status string } }
	_ = json.Unmarshal(payload, &r)
	return r.Summary.Status
}

func wantStatus(want string) func([]byte) error {
	return func(p []byte) error {
		if got := summaryStatus(p); got != want {
			return fmt.Errorf("Summary.Status %q, want %q (result %.300s)", got, want, p)
		}
		return nil
	}
}

// ---- floor-sdk as a process -------------------------------------------------

type floorSDK struct {
	Binary   string
	Endpoint string
}

func (f floorSDK) env() []string {
	return append(os.Environ(), "ALIBABA_CLOUD_ACCESS_KEY_ID="+ecsemu.DefaultAccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+ecsemu.DefaultAccessKeySecret)
}

func (f floorSDK) args(extra ...string) []string {
	return append([]string{"-endpoint", f.Endpoint, "-region", "cn-hangzhou", "-disks", pairsArg(dryRunPairs)}, extra...)
}

// once runs the program once: exec → exit, and the call as it timed it.
func (f floorSDK) once() (total, call, inMain time.Duration, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), invokeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.Binary, f.args()...)
	cmd.Env = f.env()
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	start := time.Now()
	err = cmd.Run()
	total = time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("floor-sdk: %v: %s", err, stderr.String())
	}
	var r struct {
		Code           string
		CallNs, MainNs int64
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Code != "DryRunOperation" {
		return 0, 0, 0, fmt.Errorf("floor-sdk answered %q", out.String())
	}
	return total, time.Duration(r.CallNs), time.Duration(r.MainNs), nil
}

// floorLoop is floor-sdk -serve: calls in a loop with one client.
type floorLoop struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func (f floorSDK) startLoop() (*floorLoop, error) {
	cmd := exec.Command(f.Binary, f.args("-serve")...)
	cmd.Env = f.env()
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &floorLoop{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}, nil
}

func (l *floorLoop) calls(n int) (sample, error) {
	if _, err := fmt.Fprintf(l.in, "%d\n", n); err != nil {
		return nil, err
	}
	line, err := l.out.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("floor-sdk loop: %v", err)
	}
	var r struct{ Ns []int64 }
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, err
	}
	s := make(sample, len(r.Ns))
	for i, v := range r.Ns {
		s[i] = time.Duration(v)
	}
	return s, nil
}

func (l *floorLoop) close() {
	_ = l.in.Close()
	done := make(chan struct{})
	go func() { _ = l.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = l.cmd.Process.Kill()
		<-done
	}
}

// ---- cold start ---------------------------------------------------------------

// coldResult holds the cold-start samples per contender.
type coldResult struct {
	Samples map[string]sample
	// FloorSDKCall is the first call as floor-sdk timed it inside main
	// (client construction + signing + connect + answer).
	FloorSDKCall sample
	// FloorSum is, per round, floor-runtime start + floor-sdk exec→exit.
	FloorSum sample
}

// measureCold runs every contender once per round, rotating the order, after
// one discarded round that warms the page cache.
func measureCold(cs []contender, fs floorSDK, rounds int, event []byte, logf func(string, ...any)) (*coldResult, error) {
	res := &coldResult{Samples: map[string]sample{}}
	names := []string{cFloorSDK}
	for _, c := range cs {
		names = append(names, c.Name)
	}
	byName := map[string]contender{}
	for _, c := range cs {
		byName[c.Name] = c
	}
	for r := -1; r < rounds; r++ {
		order := rotate(names, r+1)
		round := map[string]time.Duration{}
		for _, name := range order {
			if name == cFloorSDK {
				total, call, _, err := fs.once()
				if err != nil {
					return nil, err
				}
				round[name] = total
				if r >= 0 {
					res.FloorSDKCall = append(res.FloorSDKCall, call)
				}
				continue
			}
			c := byName[name]
			start := time.Now()
			h, err := startHost(c.Spec)
			if err != nil {
				return nil, fmt.Errorf("%s: starting: %v", name, err)
			}
			out, err := invokeOnce(h, event)
			d := time.Since(start)
			h.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: cold invocation: %v", name, err)
			}
			if c.Check != nil {
				if err := c.Check(out.Payload); err != nil {
					return nil, fmt.Errorf("%s: %v", name, err)
				}
			}
			round[name] = d
		}
		if r < 0 {
			continue // warm-up round
		}
		for n, d := range round {
			res.Samples[n] = append(res.Samples[n], d)
		}
		if fr, ok := round[cFloorRuntime]; ok {
			res.FloorSum = append(res.FloorSum, fr+round[cFloorSDK])
		}
		logf("cold round %d/%d: %s", r+1, rounds, fmtRound(round, names))
	}
	return res, nil
}

func fmtRound(round map[string]time.Duration, names []string) string {
	var parts []string
	for _, n := range names {
		if d, ok := round[n]; ok {
			parts = append(parts, n+" "+ms(d))
		}
	}
	return strings.Join(parts, ", ")
}

func rotate(names []string, k int) []string {
	if len(names) == 0 {
		return nil
	}
	k %= len(names)
	return append(slices.Clone(names[k:]), names[:k]...)
}

// ---- warm latency -------------------------------------------------------------

// measureWarm keeps one process per contender alive and, round after round
// in rotating order, runs a block of sequential invocations on each.
func measureWarm(cs []contender, fs floorSDK, rounds, perRound int, event []byte, logf func(string, ...any)) (map[string]sample, error) {
	hosts := map[string]host{}
	defer func() {
		for _, h := range hosts {
			h.Close()
		}
	}()
	names := []string{cFloorSDK}
	for _, c := range cs {
		h, err := startHost(c.Spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", c.Name, err)
		}
		hosts[c.Name] = h
		names = append(names, c.Name)
	}
	loop, err := fs.startLoop()
	if err != nil {
		return nil, err
	}
	defer loop.close()
	// Warm up: connections, lazily built SDK state, JIT for Node.
	warmup := max(perRound/2, 5)
	for _, c := range cs {
		for range warmup {
			if _, err := invokeOnce(hosts[c.Name], event); err != nil {
				return nil, fmt.Errorf("%s warm-up: %v", c.Name, err)
			}
		}
	}
	if _, err := loop.calls(warmup); err != nil {
		return nil, err
	}
	out := map[string]sample{}
	for r := range rounds {
		for _, name := range rotate(names, r) {
			if name == cFloorSDK {
				s, err := loop.calls(perRound)
				if err != nil {
					return nil, err
				}
				out[name] = append(out[name], s...)
				continue
			}
			h := hosts[name]
			for range perRound {
				start := time.Now()
				if _, err := invokeOnce(h, event); err != nil {
					return nil, fmt.Errorf("%s: %v", name, err)
				}
				out[name] = append(out[name], time.Since(start))
			}
		}
		logf("warm round %d/%d done", r+1, rounds)
	}
	return out, nil
}

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
			if r.Time.After(resetAt) {
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
	CallsTen, CallsThirty int    // ResetDisks calls per invocation
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
			var a, b int
			n10, n30 = &a, &b
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

// ---- handler CPU (go test -bench) ---------------------------------------------

type benchLine struct {
	Name                 string
	NsPerOp              float64
	BytesPerOp, AllocsOp float64
}

var benchRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:.*?\s([\d.]+) B/op\s+([\d.]+) allocs/op)?`)

// runGoBench runs the function package's benchmarks with -benchmem and
// returns the median of each over `count` runs.
func runGoBench(root string, count int, benchtime string) ([]benchLine, string, error) {
	args := []string{"test", "-run", "^$", "-bench", "^(BenchmarkInvoke|BenchmarkDecodeValidate|BenchmarkEncodeResult)$", "-benchmem", "-count", strconv.Itoa(count)}
	if benchtime != "" {
		args = append(args, "-benchtime", benchtime)
	}
	args = append(args, "./function")
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, string(out), fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return parseBench(string(out)), string(out), nil
}

// parseBench reads `go test -bench` output and keeps the median of each
// benchmark's runs.
func parseBench(out string) []benchLine {
	runs := map[string][]benchLine{}
	var order []string
	for _, line := range strings.Split(out, "\n") {
		m := benchRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		b := benchLine{Name: m[1]}
		b.NsPerOp, _ = strconv.ParseFloat(m[2], 64)
		b.BytesPerOp, _ = strconv.ParseFloat(m[3], 64)
		b.AllocsOp, _ = strconv.ParseFloat(m[4], 64)
		if _, ok := runs[b.Name]; !ok {
			order = append(order, b.Name)
		}
		runs[b.Name] = append(runs[b.Name], b)
	}
	var res []benchLine
	for _, name := range order {
		rs := runs[name]
		sort.Slice(rs, func(i, j int) bool { return rs[i].NsPerOp < rs[j].NsPerOp })
		res = append(res, rs[len(rs)/2])
	}
	return res
}

// ---- start-up evidence (GODEBUG=inittrace=1) ----------------------------------

type initLine struct {
	Pkg    string
	Ms     float64
	Bytes  int64
	Allocs int64
}

var initRE = regexp.MustCompile(`^init (\S+) @[\d.]+ ms, ([\d.]+) ms clock, (\d+) bytes, (\d+) allocs`)

// initTrace starts bin with GODEBUG=inittrace=1 and a runtime API address
// nobody listens on, keeps the package-init lines it prints before main,
// and stops it.
func initTrace(bin string) ([]initLine, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "FC_RUNTIME_API=127.0.0.1:1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var lines []initLine
	sc := bufio.NewScanner(stderr)
	deadline := time.AfterFunc(3*time.Second, func() { _ = cmd.Process.Kill() })
	for sc.Scan() {
		m := initRE.FindStringSubmatch(sc.Text())
		if m == nil {
			if !strings.HasPrefix(sc.Text(), "init ") {
				break // main has started
			}
			continue
		}
		l := initLine{Pkg: m[1]}
		l.Ms, _ = strconv.ParseFloat(m[2], 64)
		l.Bytes, _ = strconv.ParseInt(m[3], 10, 64)
		l.Allocs, _ = strconv.ParseInt(m[4], 10, 64)
		lines = append(lines, l)
	}
	deadline.Stop()
	_ = cmd.Process.Kill()
	_, _ = io.Copy(io.Discard, stderr)
	_ = cmd.Wait()
	return lines, nil
}

// ---- handler CPU profile ------------------------------------------------------

type profLine struct {
	Func     string
	CumPct   float64
	FlatPct  float64
	CumValue string
}

var profRE = regexp.MustCompile(`^\s*(\S+)\s+([\d.]+)%\s+[\d.]+%\s+(\S+)\s+([\d.]+)%\s+(.+)$`)

// profileHandler CPU-profiles the two-disk BenchmarkInvoke and returns the
// heaviest functions by cumulative time: the evidence beside the figure.
func profileHandler(root, dir string) ([]profLine, error) {
	prof, bin := dir+"/handler-cpu.pprof", dir+"/function.test"
	cmd := exec.Command(goTool(), "test", "-run", "^$", "-bench", "^BenchmarkInvoke$/^disks=2$", "-benchtime", "20000x", "-cpuprofile", prof, "-o", bin, "./function")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, out)
	}
	out, err := exec.Command(goTool(), "tool", "pprof", "-top", "-cum", "-nodecount=60", bin, prof).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pprof: %v\n%s", err, out)
	}
	var lines []profLine
	for _, l := range strings.Split(string(out), "\n") {
		m := profRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		fn := strings.TrimSpace(m[5])
		if !strings.Contains(fn, "ecs-disk-rollback/") && !strings.HasPrefix(fn, "encoding/json.") && !strings.Contains(fn, "validator") && !strings.HasPrefix(fn, "regexp.") {
			continue
		}
		if strings.Contains(fn, "Benchmark") {
			continue
		}
		flat, _ := strconv.ParseFloat(m[2], 64)
		cum, _ := strconv.ParseFloat(m[4], 64)
		lines = append(lines, profLine{Func: strings.TrimPrefix(fn, "github.com/ecs-disk-rollback/ecs-disk-rollback/"), CumPct: cum, FlatPct: flat, CumValue: m[3]})
		if len(lines) == 14 {
			break
		}
	}
	return lines, nil
}

// ---- in-process decomposition of the warm path -------------------------------

// inProcessResult compares, without the runtime API, one warm function
// invocation (the handler as main.go builds it, real ecsclient) with one
// raw SDK call against an in-process emulator, and attributes CPU time to
// the functions that differ (µs per operation, from a CPU profile).
type inProcessResult struct {
	InvokeNs, RawNs float64
	Parts           []inProcessPart
}

type inProcessPart struct {
	Func            string
	InvokeUs, RawUs float64
}

// inProcessFuncs are the functions whose per-operation cost is reported.
var inProcessFuncs = []string{
	"function.DecodeRequest",
	"function.(*Request).Validate",
	"function.marshalResult",
	"ecsclient.(*Client).sdkClient",
	"sdk.(*Client).DoActionWithSigner",
	"sdk/auth.Sign",
	"sdk/utils.getGID",
	"sdk/responses.Unmarshal",
	"sdk/errors.NewServerError",
	"net/http.(*Client).Do",
	"log/slog.(*Logger).log",
}

func measureInProcess(root, dir string, ops, count int) (*inProcessResult, error) {
	prof, bin := dir+"/inprocess-cpu.pprof", dir+"/bench.test"
	cmd := exec.Command(goTool(), "test", "-run", "^$", "-bench", "^BenchmarkInProcess", "-benchtime", fmt.Sprintf("%dx", ops), "-count", strconv.Itoa(count), "-cpuprofile", prof, "-o", bin, "./cmd/bench")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, out)
	}
	lines := parseBench(string(out))
	res := &inProcessResult{}
	for _, l := range lines {
		switch l.Name {
		case "BenchmarkInProcessInvoke":
			res.InvokeNs = l.NsPerOp
		case "BenchmarkInProcessRawSDK":
			res.RawNs = l.NsPerOp
		}
	}
	perOp := func(focus string) (map[string]float64, error) {
		out, err := exec.Command(goTool(), "tool", "pprof", "-top", "-cum", "-nodecount=400", "-focus", focus, bin, prof).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("pprof: %v\n%s", err, out)
		}
		m := map[string]float64{}
		for _, l := range strings.Split(string(out), "\n") {
			f := profRE.FindStringSubmatch(l)
			if f == nil {
				continue
			}
			d, err := time.ParseDuration(f[3])
			if err != nil {
				continue
			}
			fn := strings.TrimSpace(f[5])
			for _, want := range inProcessFuncs {
				if strings.HasSuffix(fn, "/"+want) || fn == want {
					m[want] += float64(d.Microseconds()) / float64(ops*count)
				}
			}
		}
		return m, nil
	}
	inv, err := perOp("BenchmarkInProcessInvoke")
	if err != nil {
		return nil, err
	}
	raw, err := perOp("BenchmarkInProcessRawSDK")
	if err != nil {
		return nil, err
	}
	for _, f := range inProcessFuncs {
		if inv[f] == 0 && raw[f] == 0 {
			continue
		}
		res.Parts = append(res.Parts, inProcessPart{Func: f, InvokeUs: inv[f], RawUs: raw[f]})
	}
	return res, nil
}
