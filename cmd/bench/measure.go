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
	"slices"
	"strings"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

// Contender names.
const (
	cFunction     = "function"
	cFloorRuntime = "floor-runtime"
	cFloorLibs    = "floor-libs"
	cFloorSDK     = "floor-sdk"
	cFloorCall    = "floor-call"
	cPeer         = "peer-node"
)

// measuresMemory are the contenders whose memory is measured: the function
// against its runtime floor and the peer. The other floors are floors of
// time (start-up, the SDK call), not of memory.
var measuresMemory = map[string]bool{cFunction: true, cFloorRuntime: true, cPeer: true}

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
	type pair struct {
		DiskID     string `json:"DiskId"`
		SnapshotID string `json:"SnapshotId"`
	}
	ev := struct {
		RegionID string `json:"RegionId"`
		DryRun   bool
		Disk     []pair
		Wait     bool `json:",omitempty"`
	}{RegionID: region, DryRun: dryRun, Wait: wait}
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
	return append(append(os.Environ(), accessKeyEnv...), sameRuntime...)
}

// placement is where the processes of the cold, warm and memory figures
// run (measureAll and runAB set it).
var placement cpuPlan

// startMeasured runs start (a process start) so that the process lands on
// the measured CPU when the harness is pinned.
func startMeasured(start func() error) error {
	if !placement.Pinned {
		return start()
	}
	return startOn(placement.Measured, start)
}

// accessKeyEnv is the ECS emulator's access key as the environment of the
// floors that sign with the raw SDK (floor-sdk, floor-call).
var accessKeyEnv = []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=" + ecsemu.DefaultAccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + ecsemu.DefaultAccessKeySecret}

// sameRuntime is the Go runtime setting every Go contender of the cold and
// warm figures runs with: the function's own default of one P (main.go's
// maxProcs), given to the floors too, so that a ratio compares code, not
// runtime settings (Go's default of two Ps costs the floors the same
// spinning it cost the function; bench/CHANGES.md).
var sameRuntime = []string{"GOMAXPROCS=1"}

func (f floorSDK) args(extra ...string) []string {
	return append([]string{"-endpoint", f.Endpoint, "-region", "cn-hangzhou", "-disks", pairsArg(dryRunPairs)}, extra...)
}

// once runs the program once: exec → exit, and the call as it timed it.
func (f floorSDK) once() (total, call, inMain, cpu time.Duration, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), invokeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.Binary, f.args()...)
	cmd.Env = f.env()
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	start := time.Now()
	err = startMeasured(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	total = time.Since(start)
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("floor-sdk: %v: %s", err, stderr.String())
	}
	var r struct {
		Code           string
		CallNs, MainNs int64
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Code != "DryRunOperation" {
		return 0, 0, 0, 0, fmt.Errorf("floor-sdk answered %q", out.String())
	}
	return total, time.Duration(r.CallNs), time.Duration(r.MainNs), processCPU(cmd.ProcessState), nil
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
	if err := startMeasured(cmd.Start); err != nil {
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

// warmResult is what measureWarm measured: each contender's latency per
// invocation and, for each hosted contender, its process's time on a CPU
// (all its threads, user and system alike; procCPUTime) per invocation
// over the measured rounds.
type warmResult struct {
	Latency map[string]sample
	CPU     map[string]time.Duration
}

// warmUpInvocations each contender gets before it is measured:
// connections, lazily built SDK state, the JIT of the Node peer.
const warmUpInvocations = 50

// measureWarm keeps one process per contender up and, in each of rounds
// rounds, invokes every contender perRound times in turn, the order
// rotating. The report runs blocks of 100 sequential invocations, so each
// process runs warm in its caches, as the target was set. -ab-warm
// runs one invocation per side per round unless -ab-per-round says more:
// each then runs after the other sides have used the same CPU, which costs
// every contender more (bench/CHANGES.md, round 6).
func measureWarm(cs []contender, fs *floorSDK, rounds, perRound int, event []byte, logf func(string, ...any)) (*warmResult, error) {
	hosts := map[string]host{}
	defer func() {
		for _, h := range hosts {
			h.Close()
		}
	}()
	var names []string
	if fs != nil {
		names = append(names, cFloorSDK)
	}
	for _, c := range cs {
		h, err := startHost(c.Spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", c.Name, err)
		}
		hosts[c.Name] = h
		names = append(names, c.Name)
	}
	var loop *floorLoop
	if fs != nil {
		l, err := fs.startLoop()
		if err != nil {
			return nil, err
		}
		defer l.close()
		loop = l
	}
	for _, c := range cs {
		for range warmUpInvocations {
			if _, err := invokeOnce(hosts[c.Name], event); err != nil {
				return nil, fmt.Errorf("%s warm-up: %v", c.Name, err)
			}
		}
	}
	if loop != nil {
		if _, err := loop.calls(warmUpInvocations); err != nil {
			return nil, err
		}
	}
	out := map[string]sample{}
	// CPU is read around the measured rounds: the processes are idle
	// between invocations, so what they use in between is theirs.
	cpuBefore := map[string]time.Duration{}
	for _, c := range cs {
		if t, err := procCPUTime(hosts[c.Name].PID()); err == nil {
			cpuBefore[c.Name] = t
		}
	}
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
		if every := max(rounds/10, 1); (r+1)%every == 0 || r+1 == rounds {
			logf("warm round %d/%d done", r+1, rounds)
		}
	}
	cpu := map[string]time.Duration{}
	for _, c := range cs {
		before, ok := cpuBefore[c.Name]
		after, err := procCPUTime(hosts[c.Name].PID())
		if ok && err == nil && rounds*perRound > 0 {
			cpu[c.Name] = (after - before) / time.Duration(rounds*perRound)
		}
	}
	return &warmResult{Latency: out, CPU: cpu}, nil
}
