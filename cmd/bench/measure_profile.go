package main

// Measurements of the handler inside the process: go test -bench, the
// start-up trace, a CPU profile, the warm path taken apart.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

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
	"function.(*Result).encodeJSON",
	"function.(*Handler).log",
	"ecsclient.(*Client).sdkClient",
	"sdk.(*Client).DoActionWithSigner",
	"sdk/auth.Sign",
	"sdk/utils.getGID",
	"sdk/responses.Unmarshal",
	"sdk/errors.NewServerError",
	"net/http.(*Client).Do",
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
			fn := strings.TrimSuffix(strings.TrimSpace(f[5]), " (inline)")
			for _, want := range inProcessFuncs {
				if strings.HasSuffix(fn, "/"+want) || fn == want {
					m[want] += float64(d.Microseconds()) / float64(ops*count)
				}
			}
		}
		return m, nil
	}
	// The function's SDK calls run on ecsclient's kept goroutines
	// (runSDKCalls), whose stacks do not hold the benchmark's frame.
	inv, err := perOp("BenchmarkInProcessInvoke|ecsclient.runSDKCalls")
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
