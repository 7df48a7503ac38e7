package function

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// benchECS is an ECS that answers at once, as the real API would for a
// fleet where every disk may be reset: ResetDisks succeeds for every pair
// (a dry run gets ECS's DryRunOperation answer), DescribeDisks says In_use,
// the guard tags are empty and writing them succeeds. The other methods are
// not used by the plain request and fail. It keeps no state, so parallel
// benchmarks share it.
type benchECS struct{}

var _ ECS = benchECS{}

var errBenchUnused = fmt.Errorf("benchECS: not used by the benchmark")

const benchRequestID = "3D66C85C-AA97-4A00-B0ED-2D9A80FE782C"

func (benchECS) ResetDisks(_ context.Context, in ResetDisksInput) (*ResetDisksOutput, error) {
	if in.DryRun {
		return nil, &APIError{Code: codeDryRunOperation, Message: "Request validation has been passed with DryRun flag set.", RequestID: benchRequestID, HTTPStatus: 400}
	}
	out := &ResetDisksOutput{RequestID: benchRequestID}
	out.OperationProgressSet.OperationProgress = make([]OperationProgress, len(in.Disks))
	for i, p := range in.Disks {
		out.OperationProgressSet.OperationProgress[i] = OperationProgress{
			OperationStatus: OperationStatusSuccess,
			RelatedItemSet:  RelatedItemSet{RelatedItem: []RelatedItem{{Name: "DiskId", Value: p.DiskID}, {Name: "SnapshotId", Value: p.SnapshotID}}},
		}
	}
	return out, nil
}

func (benchECS) ResetDisk(context.Context, ResetDiskInput) (string, error) { return "", errBenchUnused }
func (benchECS) DescribeDisks(_ context.Context, region string, ids []string) ([]Disk, error) {
	out := make([]Disk, len(ids))
	for i, id := range ids {
		out[i] = Disk{DiskID: id, RegionID: region, Status: DiskStatusInUse, Category: "cloud_essd", Type: "data"}
	}
	return out, nil
}
func (benchECS) DescribeInstances(context.Context, string, []string) ([]Instance, error) {
	return nil, errBenchUnused
}
func (benchECS) DescribeInstancesByTag(context.Context, string, string, string) ([]Instance, error) {
	return nil, errBenchUnused
}
func (benchECS) DescribeSnapshots(context.Context, string, []string) ([]Snapshot, error) {
	return nil, errBenchUnused
}
func (benchECS) DescribeSnapshotGroups(context.Context, DescribeSnapshotGroupsInput) ([]SnapshotGroup, error) {
	return nil, errBenchUnused
}
func (benchECS) StopInstance(context.Context, StopInstanceInput) error { return errBenchUnused }
func (benchECS) StartInstance(context.Context, string, string, bool) error {
	return errBenchUnused
}
func (benchECS) CreateSnapshot(context.Context, CreateSnapshotInput) (string, error) {
	return "", errBenchUnused
}
func (benchECS) TagResources(context.Context, string, string, []string, map[string]string) error {
	return nil
}
func (benchECS) ListTagResources(context.Context, string, string, []string) ([]ResourceTag, error) {
	return nil, nil
}

// benchHandler is the handler as main.go builds it, minus the SDK: the
// connector hands out benchECS, credentials come from the environment
// fields, and logging is off (the benchmark measures the handler's own CPU).
func benchHandler() *Handler {
	return &Handler{
		Connector:      ConnectorFunc(func(context.Context, Credentials) (ECS, error) { return benchECS{}, nil }),
		Config:         Config{ResetMode: "auto", LogLevel: "info", AlarmStopStart: true},
		EnvCredentials: Credentials{AccessKeyID: "LTAIbench0000000000", AccessKeySecret: "bench-secret"},
	}
}

// benchEvent is a direct-invocation request with n disk pairs.
func benchEvent(n int, dryRun bool) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"RegionId":"cn-hangzhou","DryRun":%t,"Disk":[`, dryRun)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"DiskId":"d-bp1bench%012d","SnapshotId":"s-bp1bench%012d"}`, i, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// BenchmarkInvoke is the handler's CPU per invocation: the whole Invoke
// path (envelope detection, strict decode, validation, plan, the ECS call
// against an instant fake, result encoding) for the request cmd/bench
// measures end to end, a ResetDisks dry run. (A real reset adds the guards'
// tag calls and their settle delay, a sleep, not CPU.) Target: ≤ 25 µs/op
// for two disks. cmd/bench runs it with -benchmem for BENCHMARKS.md.
func BenchmarkInvoke(b *testing.B) {
	for _, tc := range []struct {
		name  string
		disks int
	}{{"disks=2", 2}, {"disks=10", 10}, {"disks=30", 30}} {
		b.Run(tc.name, func(b *testing.B) {
			h := benchHandler()
			event := benchEvent(tc.disks, true)
			ctx := context.Background()
			checkBenchResult(b, h, event, tc.disks)
			b.SetBytes(int64(len(event)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := h.Invoke(ctx, event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInvokeParallel is BenchmarkInvoke with concurrent invocations,
// as fc.Start runs them (one goroutine each): shared state such as the
// validator cache must not serialise them.
func BenchmarkInvokeParallel(b *testing.B) {
	h := benchHandler()
	event := benchEvent(2, true)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Invoke(ctx, event); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDecodeValidate isolates the two steps before any ECS call.
func BenchmarkDecodeValidate(b *testing.B) {
	event := benchEvent(2, true)
	b.ReportAllocs()
	for b.Loop() {
		req, err := DecodeRequest(event)
		if err != nil {
			b.Fatal(err)
		}
		if err := req.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeResult isolates encoding a two-disk result as Invoke
// encodes it (Result.appendJSON; json.Marshal gives the same bytes).
func BenchmarkEncodeResult(b *testing.B) {
	h := benchHandler()
	req, err := DecodeRequest(benchEvent(2, true))
	if err != nil {
		b.Fatal(err)
	}
	res, err := h.Rollback(context.Background(), benchECS{}, Invocation{}, req)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if out := res.appendJSON(make([]byte, 0, res.sizeHint())); len(out) == 0 {
			b.Fatal("empty encoding")
		}
	}
}

// checkBenchResult makes sure the benchmark measures a successful reset,
// not a fast failure.
func checkBenchResult(b *testing.B, h *Handler, event []byte, disks int) {
	b.Helper()
	out, err := h.Invoke(context.Background(), event)
	if err != nil {
		b.Fatalf("invoke: %v", err)
	}
	var res Result
	if err := json.Unmarshal(out, &res); err != nil {
		b.Fatalf("result %s: %v", out, err)
	}
	if res.Summary.Status != StatusDryRunPassed || res.Summary.Succeeded != disks {
		b.Fatalf("summary %+v, want %d disks DryRunPassed", res.Summary, disks)
	}
}

// TestBenchECSFixture keeps the benchmark's fixture honest under go test
// (benchmarks do not run there): the dry run passes for every disk, in
// order, in two ResetDisks calls.
func TestBenchECSFixture(t *testing.T) {
	out, err := benchHandler().Invoke(context.Background(), benchEvent(12, true))
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if res.Summary.Status != StatusDryRunPassed || res.Summary.Succeeded != 12 || len(res.RequestIDs) != 2 {
		t.Fatalf("summary %+v, request ids %v", res.Summary, res.RequestIDs)
	}
	for i, p := range res.OperationProgressSet.OperationProgress {
		if want := fmt.Sprintf("d-bp1bench%012d", i); p.Item("DiskId") != want {
			t.Fatalf("progress %d is %s, want %s", i, p.Item("DiskId"), want)
		}
	}
}

// BenchmarkScanStrict is the duplicate-key and null check of a two-disk
// request (the strictjson.go comment quotes it).
func BenchmarkScanStrict(b *testing.B) {
	event := benchEvent(2, true)
	b.ReportAllocs()
	for b.Loop() {
		if vs := scanStrict(event); len(vs) != 0 {
			b.Fatal(vs)
		}
	}
}
