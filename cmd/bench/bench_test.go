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
	"strings"
	"testing"

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
	for _, want := range []string{"# Benchmarks", "## Targets", "cold start wall", "cold start CPU", "at 0.05 vCPU (est.)", "ECS action", "warm overhead (p50)", "handler CPU (2 disks)",
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
		if summaryStatus(out) != "DryRunPassed" {
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
