package ecsemu

import (
	stderrors "errors"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

const (
	okDisk = "d-bp1stoppedsys0000000"
	okSnap = "s-bp1stoppedsys0000000"
)

func TestFaultKinds(t *testing.T) {
	tests := []struct {
		name   string
		rule   FaultRule
		code   string
		status int
	}{
		{"throttle", FaultRule{Action: "ResetDisks", Kind: FaultThrottle}, CodeThrottlingUser, 400},
		{"internal", FaultRule{Kind: FaultInternal}, CodeInternalError, 500},
		{"unavailable", FaultRule{Action: "*", Kind: FaultUnavailable}, CodeServiceUnavailable, 503},
		{"error from table", FaultRule{Kind: FaultError, Code: CodeOperationConflict}, CodeOperationConflict, 403},
		{"error not in table", FaultRule{Kind: FaultError, Code: "Some.Other"}, "Some.Other", 400},
		{"balance", FaultRule{Kind: FaultError, Code: CodeNotEnoughBalance}, CodeNotEnoughBalance, 403},
		{"region", FaultRule{Kind: FaultError, Code: CodeRegionNotSupport}, CodeRegionNotSupport, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fast()
			tt.rule.Count = 1
			opts.Faults = []FaultRule{tt.rule}
			s := newTestServer(t, opts)
			c := newClient(t, s, hz)
			_, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap))
			wantServerError(t, err, tt.code, tt.status)
			if n := s.ResetCount(okDisk); n != 0 {
				t.Errorf("got %d resets after a fault, want 0", n)
			}
			// Count 1: the next call passes.
			if _, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap)); err != nil {
				t.Fatalf("second call: %v", err)
			}
			if got := s.Requests()[0].Fault; got != tt.rule.Kind {
				t.Errorf("got logged fault %q, want %q", got, tt.rule.Kind)
			}
		})
	}
}

func TestFaultActionFilter(t *testing.T) {
	opts := fast()
	opts.Faults = []FaultRule{{Action: "ResetDisk", Kind: FaultInternal}}
	s := newTestServer(t, opts)
	c := newClient(t, s, hz)
	if _, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap)); err != nil {
		t.Fatalf("ResetDisks must not match a ResetDisk rule: %v", err)
	}
	if err := describeDisksCall(c); err != nil {
		t.Fatalf("DescribeDisks: %v", err)
	}
}

func TestFaultLatency(t *testing.T) {
	opts := fast()
	opts.Faults = []FaultRule{{Action: "DescribeDisks", Kind: FaultLatency, Latency: 150 * time.Millisecond}}
	s := newTestServer(t, opts)
	c := newClient(t, s, hz)
	start := time.Now()
	if err := describeDisksCall(c); err != nil {
		t.Fatalf("got %v, want success after the delay", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("got %v, want at least 150ms", d)
	}
}

func wantTransportError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want a transport error")
	}
	var se *errors.ServerError
	if stderrors.As(err, &se) {
		t.Fatalf("got server error %s, want a transport error", se.ErrorCode())
	}
}

func TestFaultDrop(t *testing.T) {
	for _, tt := range []struct {
		kind   FaultKind
		resets int
	}{{FaultDropBefore, 0}, {FaultDropAfter, 1}} {
		t.Run(string(tt.kind), func(t *testing.T) {
			opts := fast()
			opts.Faults = []FaultRule{{Action: "ResetDisks", Kind: tt.kind, Count: 1}}
			s := newTestServer(t, opts)
			c := newClient(t, s, hz)
			_, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap))
			wantTransportError(t, err)
			if n := s.ResetCount(okDisk); n != tt.resets {
				t.Errorf("got %d resets, want %d", n, tt.resets)
			}
			if got := s.Requests()[0]; got.HTTPStatus != 0 || got.Fault != tt.kind {
				t.Errorf("got log %+v, want status 0 and fault %s", got, tt.kind)
			}
		})
	}
}

func TestFaultSequence(t *testing.T) {
	opts := fast()
	opts.ResetDuration = -1 // instant, so every reset can pass
	opts.Faults = []FaultRule{{Action: "ResetDisks", Sequence: []FaultKind{FaultThrottle, FaultPass, FaultInternal, FaultDropAfter}}}
	s := newTestServer(t, opts)
	c := newClient(t, s, hz)
	call := func() error {
		_, err := c.ResetDisks(resetDisksReq(hz, false, okDisk, okSnap))
		return err
	}
	wantServerError(t, call(), CodeThrottlingUser, 400)
	if err := call(); err != nil {
		t.Fatalf("call 2 (pass): %v", err)
	}
	wantServerError(t, call(), CodeInternalError, 500)
	wantTransportError(t, call())
	if err := call(); err != nil {
		t.Fatalf("call 5 (script over): %v", err)
	}
	if n := s.ResetCount(okDisk); n != 3 {
		t.Errorf("got %d resets, want 3 (pass, drop-after, after the script)", n)
	}
}

func TestFaultRate(t *testing.T) {
	opts := fast()
	opts.Faults = []FaultRule{{Action: "DescribeDisks", Kind: FaultThrottle, Rate: 0.3}}
	s := newTestServer(t, opts)
	c := newClient(t, s, hz)
	throttled := 0
	const n = 200
	for range n {
		if err := describeDisksCall(c); err != nil {
			wantServerError(t, err, CodeThrottlingUser, 400)
			throttled++
		}
	}
	if throttled < 30 || throttled > 90 {
		t.Errorf("got %d/%d throttled, want about 60", throttled, n)
	}
	// The same seed gives the same pattern.
	pattern := func() []bool {
		s := newTestServer(t, opts)
		var out []bool
		for range 50 {
			out = append(out, s.decide("DescribeDisks").kind != "")
		}
		return out
	}
	a, b := pattern(), pattern()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seeded runs differ at call %d", i)
		}
	}
}

func TestFaultMethodsAndValidation(t *testing.T) {
	s := newTestServer(t, fast())
	if err := s.SetFaults(FaultRule{Kind: "explode"}); err == nil {
		t.Error("got nil error for an unknown kind")
	}
	if err := s.SetFaults(FaultRule{Kind: FaultError}); err == nil {
		t.Error("got nil error for an error fault without code")
	}
	if err := s.SetFaults(FaultRule{Kind: FaultInternal, Rate: 1.5}); err == nil {
		t.Error("got nil error for rate 1.5")
	}
	if err := s.SetFaults(FaultRule{Kind: FaultInternal}); err != nil {
		t.Fatal(err)
	}
	wantServerError(t, describeDisksCall(newClient(t, s, hz)), CodeInternalError, 500)
	s.ClearFaults()
	if err := describeDisksCall(newClient(t, s, hz)); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
}

func TestParseFaultFlag(t *testing.T) {
	tests := []struct {
		in   string
		want FaultRule
		bad  bool
	}{
		{in: "ResetDisks:throttle:0.5", want: FaultRule{Action: "ResetDisks", Kind: FaultThrottle, Rate: 0.5}},
		{in: "*:internal::3", want: FaultRule{Action: "*", Kind: FaultInternal, Count: 3}},
		{in: "ResetDisk:error=Operation.Conflict", want: FaultRule{Action: "ResetDisk", Kind: FaultError, Code: "Operation.Conflict"}},
		{in: "DescribeDisks:latency=250ms:1", want: FaultRule{Action: "DescribeDisks", Kind: FaultLatency, Latency: 250 * time.Millisecond, Rate: 1}},
		{in: "ResetDisks:seq=throttle,pass,drop-after", want: FaultRule{Action: "ResetDisks", Sequence: []FaultKind{FaultThrottle, FaultPass, FaultDropAfter}}},
		{in: "ResetDisks", bad: true},
		{in: "ResetDisks:nope", bad: true},
		{in: "ResetDisks:throttle:x", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFaultFlag(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Action != tt.want.Action || got.Kind != tt.want.Kind || got.Rate != tt.want.Rate || got.Count != tt.want.Count ||
				got.Latency != tt.want.Latency || got.Code != tt.want.Code || len(got.Sequence) != len(tt.want.Sequence) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestEveryCodeAsFault drives every code of the table through the real
// client with the status the table gives it.
func TestEveryCodeAsFault(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	for code, ci := range codeTable {
		t.Run(code, func(t *testing.T) {
			if err := s.SetFaults(FaultRule{Action: "ResetDisk", Kind: FaultError, Code: code, Count: 1}); err != nil {
				t.Fatal(err)
			}
			req := ecs.CreateResetDiskRequest()
			req.RegionId, req.DiskId, req.SnapshotId = hz, okDisk, okSnap
			_, err := c.ResetDisk(req)
			se := wantServerError(t, err, code, ci.status)
			if se.Message() != ci.message {
				t.Errorf("got message %q, want %q", se.Message(), ci.message)
			}
			if st, ok := CodeStatus(code); !ok || st != ci.status {
				t.Errorf("CodeStatus(%s) = %d, %v", code, st, ok)
			}
		})
	}
}
