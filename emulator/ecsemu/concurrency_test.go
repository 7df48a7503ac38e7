package ecsemu

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// manyDisks builds a fleet of n stopped instances with one disk and one
// snapshot each, the way tests are expected to make big fixtures.
func manyDisks(n int) *Fixture {
	f := &Fixture{Regions: []string{hz}}
	created := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for i := range n {
		inst := fmt.Sprintf("i-bp1load%013d", i)
		disk := fmt.Sprintf("d-bp1load%011d", i)
		f.Instances = append(f.Instances, Instance{InstanceID: inst, RegionID: hz, Status: InstanceStopped})
		f.Disks = append(f.Disks, Disk{DiskID: disk, RegionID: hz, InstanceID: inst, Category: "cloud_essd", Type: "system", Status: DiskInUse})
		f.Snapshots = append(f.Snapshots, Snapshot{SnapshotID: fmt.Sprintf("s-bp1load%011d", i), RegionID: hz,
			SourceDiskID: disk, SourceDiskType: "system", Status: SnapshotAccomplished, CreationTime: created})
	}
	return f
}

func TestConcurrentClients(t *testing.T) {
	const workers, disksEach = 16, 4
	opts := fast()
	opts.ResetDuration = time.Hour // every disk stays ReIniting: a second reset would fail
	opts.Fixture = manyDisks(workers * disksEach)
	opts.Faults = []FaultRule{{Action: "DescribeDisks", Kind: FaultThrottle, Rate: 0.2}}
	s := newTestServer(t, opts)

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.NewClient(hz) // one client per goroutine
			if err != nil {
				errs <- err
				return
			}
			for i := range disksEach {
				n := w*disksEach + i
				if _, err := c.ResetDisks(resetDisksReq(hz, false, fmt.Sprintf("d-bp1load%011d", n), fmt.Sprintf("s-bp1load%011d", n))); err != nil {
					errs <- fmt.Errorf("worker %d reset %d: %w", w, n, err)
					return
				}
				for range 3 {
					req := ecs.CreateDescribeDisksRequest()
					req.RegionId = hz
					req.PageSize = "50"
					_, _ = c.DescribeDisks(req) // throttled or not, it must not race
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for n := range workers * disksEach {
		id := fmt.Sprintf("d-bp1load%011d", n)
		if got := s.ResetCount(id); got != 1 {
			t.Errorf("%s: got %d resets, want exactly 1", id, got)
		}
	}
}

// BenchmarkResetDisksSigned measures signed ResetDisks calls through the
// real SDK over loopback, one client per goroutine.
func BenchmarkResetDisksSigned(b *testing.B) {
	opts := Options{ResetDuration: -1, MaxLoggedRequests: 1000}
	opts.Fixture = manyDisks(1)
	s, err := NewServer(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c, err := s.NewClient(hz)
		if err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			req := resetDisksReq(hz, false, "d-bp1load00000000000", "s-bp1load00000000000")
			if _, err := c.ResetDisks(req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

func TestCloseLeaksNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	opts := fast()
	opts.Faults = []FaultRule{{Action: "DescribeDisks", Kind: FaultLatency, Latency: time.Hour, Count: 1}}
	s, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s, hz)
	if _, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = describeDisksCall(newClient(t, s, hz)); close(done) }() // parked in the hour-long delay
	time.Sleep(50 * time.Millisecond)
	s.Close()
	<-done
	s.Close() // idempotent
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
