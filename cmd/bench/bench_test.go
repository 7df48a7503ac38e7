package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/ecsclient"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// TestHarnessShort runs the whole harness in its tiny configuration: it
// builds every contender, measures each figure a few times and writes the
// report and the chart. It proves the harness works; it asserts no timing.
// The Node peer needs an npm install from the registry, which a test run
// should not depend on: it is included only with BENCH_TEST_NODE=1 (and
// node and npm present, and not -short). make bench always runs it.
func TestHarnessShort(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "BENCHMARKS.md")
	args := []string{"-short", "-out", out, "-root", root}
	withNode := os.Getenv("BENCH_TEST_NODE") == "1" && !testing.Short() && hasTool("node") && hasTool("npm")
	if !withNode {
		args = append(args, "-no-node")
	}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("bench exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	report := string(md)
	for _, want := range []string{"# Benchmarks", "## Targets", "cold start wall", "cold start CPU", "at 0.05 vCPU (est.)", "ECS action", "warm overhead (p50)", "; floor-call alone: ", "| " + figureWarmLikeForLike + " |", "handler CPU (2 disks)",
		"peak RSS (VmHWM)", "binary size", "function.zip size", "wait detection", "batching 30 vs 10 disks",
		"## Cold start", "## Warm latency", "## Memory", "## Reproduce", "](BENCHMARKS.svg)", "nproc"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	// Every contender was measured: its rows are in the cold and warm tables.
	for _, name := range []string{"| function |", "| floor-runtime |", "| floor-libs |", "| floor-sdk |", "| floor-sdk (exec → exit) |"} {
		if !strings.Contains(report, name) {
			t.Errorf("the report has no row %q", name)
		}
	}
	// floor-call takes part in cold start and warm latency, not memory.
	for _, tc := range []struct {
		section string
		want    bool
	}{
		{"## Contenders", true},
		{"## Cold start", true},
		{"## Warm latency", true},
		{"## Memory", false},
	} {
		t.Run("floor-call in "+tc.section, func(t *testing.T) {
			if got := strings.Contains(section(report, tc.section), "| floor-call |"); got != tc.want {
				t.Errorf("a floor-call row in %q: %v, want %v", tc.section, got, tc.want)
			}
		})
	}
	if withNode && !strings.Contains(report, "| peer-node |") {
		t.Errorf("the Node peer was not measured:\n%s", report)
	}
	if !strings.Contains(stdout.String(), "cold start wall") {
		t.Errorf("the summary was not printed:\n%s", stdout.String())
	}

	svg, err := os.ReadFile(filepath.Join(dir, "BENCHMARKS.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := wellFormed(svg); err != nil {
		t.Errorf("the chart is not well-formed XML: %v", err)
	}
	if n := bytes.Count(svg, []byte("<circle")); n < 10 {
		t.Errorf("the chart has %d sample dots, want the samples of the run", n)
	}
}

// section is the part of a Markdown report from the heading to the next
// second-level heading ("" when the heading is absent).
func section(report, heading string) string {
	_, rest, ok := strings.Cut(report, heading+"\n")
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(rest, "\n## ")
	return body
}

// TestWarmTargetsFloorCall renders the warm rows from made-up medians: the
// sum-based row keeps its definition and verdict and, when floor-call was
// measured, says how floor-call itself fares against the sum; the
// like-for-like row follows it.
func TestWarmTargetsFloorCall(t *testing.T) {
	const µs = time.Microsecond
	flat := func(d time.Duration) sample { return sample{d, d, d} }
	cases := []struct {
		name string
		warm map[string]sample
		// want* are "" when the row or text must be absent.
		wantSumMeasured  string
		wantLikeMeasured string
		wantLikeMet      bool
		wantParagraph    string
	}{
		{
			name:             "within 1.15× of floor-call, beyond the sum",
			warm:             map[string]sample{cFunction: flat(900 * µs), cFloorRuntime: flat(250 * µs), cFloorSDK: flat(310 * µs), cFloorCall: flat(850 * µs)},
			wantSumMeasured:  "0.900 ms vs 0.250 ms + 0.310 ms = 1.61× (p99 0.900 ms); floor-call alone: 1.52×",
			wantLikeMeasured: "0.900 ms vs 0.850 ms = 1.06×",
			wantLikeMet:      true,
			wantParagraph:    "floor-call is 0.850 ms at p50, itself 1.52× of that sum; the function is 1.06× of floor-call.",
		},
		{
			name:             "beyond 1.15× of floor-call",
			warm:             map[string]sample{cFunction: flat(1100 * µs), cFloorRuntime: flat(250 * µs), cFloorSDK: flat(310 * µs), cFloorCall: flat(850 * µs)},
			wantSumMeasured:  "1.10 ms vs 0.250 ms + 0.310 ms = 1.96× (p99 1.10 ms); floor-call alone: 1.52×",
			wantLikeMeasured: "1.10 ms vs 0.850 ms = 1.29×",
			wantLikeMet:      false,
			wantParagraph:    "the function is 1.29× of floor-call.",
		},
		{
			name:            "floor-call not measured",
			warm:            map[string]sample{cFunction: flat(600 * µs), cFloorRuntime: flat(250 * µs), cFloorSDK: flat(310 * µs)},
			wantSumMeasured: "0.600 ms vs 0.250 ms + 0.310 ms = 1.07× (p99 0.600 ms)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := &report{Config: shortConfig(), Warm: tc.warm, Errors: map[string]string{}}
			ts := rep.targets()
			i := slices.IndexFunc(ts, func(t target) bool { return t.Figure == "warm overhead (p50)" })
			if i < 0 {
				t.Fatalf("no warm overhead (p50) row in %+v", ts)
			}
			sum := ts[i]
			if got, want := sum.Measured, tc.wantSumMeasured; got != want {
				t.Errorf("warm overhead (p50) measured %q, want %q", got, want)
			}
			// The sum-based verdict is the issue's: function ÷ (floor-runtime + floor-sdk).
			fn, floor := tc.warm[cFunction].median(), tc.warm[cFloorRuntime].median()+tc.warm[cFloorSDK].median()
			if got, want := sum.Met, ratio(fn, floor) <= targetWarmRatio; got != want {
				t.Errorf("warm overhead (p50) met %v, want %v", got, want)
			}

			md := string(renderMarkdown(rep, "b.svg"))
			likeRow := slices.IndexFunc(ts, func(t target) bool { return t.Figure == figureWarmLikeForLike })
			if tc.wantLikeMeasured == "" {
				if likeRow >= 0 {
					t.Errorf("a like-for-like row without floor-call: %+v", ts[likeRow])
				}
				for _, absent := range []string{"floor-call alone", figureWarmLikeForLike, "of floor-call."} {
					if strings.Contains(md, absent) {
						t.Errorf("the report has %q without floor-call", absent)
					}
				}
				if strings.Contains(section(md, "## Warm latency"), "| floor-call |") {
					t.Errorf("the warm table has a floor-call row without floor-call")
				}
				return
			}
			if got, want := likeRow, i+1; got != want {
				t.Fatalf("like-for-like row at %d, want %d (right after the sum-based row)", got, want)
			}
			like := ts[likeRow]
			if got, want := like.Measured, tc.wantLikeMeasured; got != want {
				t.Errorf("like-for-like measured %q, want %q", got, want)
			}
			if got, want := like.Met, tc.wantLikeMet; got != want {
				t.Errorf("like-for-like met %v, want %v", got, want)
			}
			for _, want := range []string{
				"| " + figureWarmLikeForLike + " | " + tc.wantLikeMeasured + " | p50 ≤ 1.15 × floor-call p50 (the runtime round trip and the one raw SDK call, in one warm process) | " + verdict(tc.wantLikeMet) + " |",
				"| warm overhead (p50) | " + tc.wantSumMeasured + " |",
				tc.wantParagraph,
			} {
				if !strings.Contains(md, want) {
					t.Errorf("the report lacks %q:\n%s", want, md)
				}
			}
			// floor-call's warm row sits between floor-sdk and the peer.
			warm := section(md, "## Warm latency")
			if got := strings.Index(warm, "| floor-call |"); got < strings.Index(warm, "| floor-sdk |") {
				t.Errorf("floor-call's row is not after floor-sdk's:\n%s", warm)
			}
			if !tc.wantLikeMet && !strings.Contains(section(md, "## Gaps and causes"), "floor-call, the runtime API round trip and the one raw SDK call") {
				t.Errorf("the missed like-for-like row has no cause:\n%s", section(md, "## Gaps and causes"))
			}
		})
	}
}

func hasTool(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestStats(t *testing.T) {
	s := sample{5, 1, 4, 2, 3}
	if s.median() != 3 || s.min() != 1 || s.max() != 5 || s.q(0.25) != 2 {
		t.Errorf("median %v min %v max %v q25 %v", s.median(), s.min(), s.max(), s.q(0.25))
	}
	if got := rotate([]string{"a", "b", "c"}, 4); strings.Join(got, "") != "bca" {
		t.Errorf("rotate = %v", got)
	}
	if (sample{}).median() != 0 {
		t.Error("empty median")
	}
}

// BenchmarkInProcessInvoke runs the handler as main.go builds it (the real
// ecsclient connector) against an in-process ECS emulator: one warm
// invocation without the runtime API. With -cpuprofile it shows where the
// function's per-invocation time goes beyond the raw SDK call
// (BenchmarkInProcessRawSDK).
func BenchmarkInProcessInvoke(b *testing.B) {
	es, err := ecsemu.NewServer(ecsemu.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer es.Close()
	env := map[string]string{"ECS_ENDPOINT": es.URL()}
	cfg, err := function.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	ecsCfg, err := ecsclient.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	h := &function.Handler{
		Connector:      ecsclient.New(ecsCfg),
		Config:         cfg,
		EnvCredentials: function.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret},
		Logger:         slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	event := requestEvent("cn-hangzhou", true, false, dryRunPairs)
	ctx := context.Background()
	for b.Loop() {
		out, err := h.Invoke(ctx, event)
		if err != nil {
			b.Fatal(err)
		}
		// A byte search, not summaryStatus: decoding the result would add
		// ~10 µs of the benchmark's own to every operation.
		if !bytes.Contains(out, []byte(`"Status":"DryRunPassed"`)) {
			b.Fatalf("result %s", out)
		}
	}
}

// BenchmarkInProcessRawSDK is floor-sdk's loop in process: one raw SDK
// client making the same dry run against the same emulator.
func BenchmarkInProcessRawSDK(b *testing.B) {
	es, err := ecsemu.NewServer(ecsemu.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer es.Close()
	client, err := ecs.NewClientWithAccessKey("cn-hangzhou", ecsemu.DefaultAccessKeyID, ecsemu.DefaultAccessKeySecret)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		req := ecs.CreateResetDisksRequest()
		req.Scheme, req.Domain, req.RegionId = "HTTP", es.Addr(), "cn-hangzhou"
		req.DryRun = requests.NewBoolean(true)
		req.Disk = &[]ecs.ResetDisksDisk{{DiskId: dryRunPairs[0][0], SnapshotId: dryRunPairs[0][1]}, {DiskId: dryRunPairs[1][0], SnapshotId: dryRunPairs[1][1]}}
		_, err := client.ResetDisks(req)
		var se *sdkerrors.ServerError
		if !errors.As(err, &se) || se.ErrorCode() != "DryRunOperation" {
			b.Fatalf("ResetDisks: %v", err)
		}
	}
}

func TestParseABSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    abSpec
		wantErr bool
	}{
		{"target/main", abSpec{Binary: "target/main"}, false},
		{"target/main:TZ=UTC:LOG_LEVEL=warn", abSpec{Binary: "target/main", Env: []string{"TZ=UTC", "LOG_LEVEL=warn"}}, false},
		{":TZ=UTC", abSpec{}, true},
		{"target/main:TZ", abSpec{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseABSpec(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseABSpec(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && (got.Binary != tt.want.Binary || !slices.Equal(got.Env, tt.want.Env)) {
				t.Errorf("parseABSpec(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestABCold runs -ab on the function against itself with an extra
// variable, for three rounds: both sides start, answer the dry run and
// get a line with their median and paired difference (none for the
// first side's own). It asserts no timing.
func TestABCold(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "main")
	if err := buildStatic(root, map[string]string{".": bin}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-ab", bin + "," + bin + ":LOG_LEVEL=warn", "-ab-rounds", "3"}, &stdout, &stderr); code != 0 {
		t.Fatalf("bench -ab exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"cold-start CPU, 3 samples per side", bin + ": median ", "paired difference median +0.000 ms", bin + " (LOG_LEVEL=warn): median "} {
		if !strings.Contains(out, want) {
			t.Errorf("-ab output lacks %q:\n%s", want, out)
		}
	}
	stdout.Reset()
	if code := run([]string{"-ab", bin + "," + bin, "-ab-warm", "-ab-rounds", "5"}, &stdout, &stderr); code != 0 {
		t.Fatalf("bench -ab -ab-warm exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if out := stdout.String(); !strings.Contains(out, "warm latency, 5 samples per side") || strings.Count(out, bin+": median ") != 2 || strings.Count(out, "process CPU") != 2 {
		t.Errorf("-ab -ab-warm output:\n%s", out)
	}
	stdout.Reset()
	if code := run([]string{"-ab", bin + "," + bin, "-ab-warm", "-ab-per-round", "3", "-ab-rounds", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("bench -ab -ab-warm -ab-per-round exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if out := stdout.String(); !strings.Contains(out, "warm latency in blocks of 3 invocations, 6 samples per side") {
		t.Errorf("-ab -ab-warm -ab-per-round 3 output:\n%s", out)
	}
	if code := run([]string{"-ab", bin}, &stdout, &stderr); code != 2 {
		t.Errorf("-ab with one binary exited %d, want 2", code)
	}
}

func TestSplitPeer(t *testing.T) {
	cs := []contender{{Name: cFloorRuntime}, {Name: cPeer}, {Name: cFunction}}
	goCs, peer := splitPeer(cs)
	if len(goCs) != 2 || goCs[0].Name != cFloorRuntime || goCs[1].Name != cFunction {
		t.Errorf("Go contenders %+v, want floor-runtime and function in order", goCs)
	}
	if len(peer) != 1 || peer[0].Name != cPeer {
		t.Errorf("peer %+v, want the Node peer alone", peer)
	}
}

func TestProcCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	before, err := procCPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Millisecond)
	for time.Now().Before(deadline) { // spin: CPU time must grow
	}
	after, err := procCPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 5*time.Millisecond {
		t.Errorf("CPU time grew by %v over 20 ms of spinning, want at least 5 ms", after-before)
	}
	if _, err := procCPUTime(-1); err == nil {
		t.Error("procCPUTime(-1): no error")
	}
}
