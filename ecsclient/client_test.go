package ecsclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// recordingRT answers every request itself and remembers the URLs.
type recordingRT struct {
	mu   sync.Mutex
	urls []*url.URL
}

func (r *recordingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL)
	r.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"RequestId":"R1"}`)), Request: req}, nil
}

func TestEndpointSelection(t *testing.T) {
	cases := []struct {
		cfg    Config
		region string
		want   string
	}{
		{Config{}, "cn-hangzhou", "https://ecs.cn-hangzhou.aliyuncs.com"}, // the SDK's map says ecs-cn-hangzhou.aliyuncs.com
		{Config{Network: "public"}, "ap-southeast-1", "https://ecs.ap-southeast-1.aliyuncs.com"},
		{Config{Network: "vpc"}, "cn-shanghai", "https://ecs-vpc.cn-shanghai.aliyuncs.com"},
		{Config{Endpoint: "http://127.0.0.1:8090"}, "cn-hangzhou", "http://127.0.0.1:8090"},
		{Config{Endpoint: "https://ecs.example.com:8443", Network: "vpc"}, "cn-hangzhou", "https://ecs.example.com:8443"},
	}
	for _, tc := range cases {
		c := New(tc.cfg)
		rec := &recordingRT{}
		c.transport = rec
		e := connect(t, c)
		if _, err := e.ResetDisk(context.Background(), function.ResetDiskInput{RegionID: tc.region, DiskID: "d-1", SnapshotID: "s-1"}); err != nil {
			t.Fatalf("%+v: %v", tc.cfg, err)
		}
		u := rec.urls[0]
		if got := u.Scheme + "://" + u.Host; got != tc.want {
			t.Errorf("%+v region %s: %s, want %s", tc.cfg, tc.region, got, tc.want)
		}
		q := u.Query()
		if q.Get("RegionId") != tc.region || q.Get("Action") != "ResetDisk" || q.Get("SignatureMethod") != "HMAC-SHA1" || q.Get("SecurityToken") != testToken {
			t.Errorf("query %v", q)
		}
	}
	if endpointMapInitialised() {
		t.Error("ecs.GetEndpointMap() ran: the package must never touch the racy endpoint map")
	}
}

func TestMalformedRegionNotSent(t *testing.T) {
	c := New(Config{})
	rec := &recordingRT{}
	c.transport = rec
	e := connect(t, c)
	_, err := e.DescribeDisks(context.Background(), "CN_HANGZHOU!", []string{"d-1"})
	var ae *function.APIError
	if !errors.As(err, &ae) || ae.Code != "InvalidRegionId.MalFormed" || ae.HTTPStatus != 400 {
		t.Fatalf("err %#v", err)
	}
	if len(rec.urls) != 0 {
		t.Fatal("sent")
	}
}

func TestConnectValidates(t *testing.T) {
	if _, err := New(Config{}).Connect(context.Background(), function.Credentials{AccessKeyID: "x"}); err == nil {
		t.Error("no secret accepted")
	}
	if _, err := New(Config{Network: "bad"}).Connect(context.Background(), testCreds); err == nil {
		t.Error("bad network accepted")
	}
}

func TestErrorMappingAllFields(t *testing.T) {
	f := newFake(t, func(n int, q url.Values) (int, any) {
		return 403, map[string]any{"RequestId": "REQ-1", "HostId": "ecs.cn-hangzhou.aliyuncs.com", "Code": "IncorrectInstanceStatus",
			"Message": "The current status of the resource does not support this operation.", "Recommend": "https://api.aliyun.com/troubleshoot?q=IncorrectInstanceStatus"}
	})
	e := connect(t, newTestConnector(f.srv.URL))
	_, err := e.ResetDisks(context.Background(), function.ResetDisksInput{RegionID: "cn-hangzhou", Disks: []function.DiskPair{{DiskID: "d-1", SnapshotID: "s-1"}}})
	want := &function.APIError{Code: "IncorrectInstanceStatus", Message: "The current status of the resource does not support this operation.",
		RequestID: "REQ-1", HostID: "ecs.cn-hangzhou.aliyuncs.com", Recommend: "api.aliyun.com", HTTPStatus: 403}
	var ae *function.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%T %v", err, err)
	}
	// Recommend keeps its host only: Redact cuts every URL down to its host.
	if d := cmp.Diff(want, ae); d != "" {
		t.Error(d)
	}
	if f.count("ResetDisks") != 1 {
		t.Errorf("a 403 was retried: %d calls", f.count("ResetDisks"))
	}
}

func TestErrorMappingOddBodies(t *testing.T) {
	f := newFake(t, nil)
	f.rawBody = func(n int, q url.Values) (int, string, bool) {
		switch q.Get("DiskId") {
		case "html":
			return 502, "<html>Bad Gateway</html>", true
		case "numcode":
			return 400, `{"RequestId":"R","Code":42,"Message":"x"}`, true
		case "code399":
			return 399, `{"RequestId":"R","Code":"Odd","Message":"m"}`, true
		case "numcode399":
			// Below 400 the SDK reads the body itself, and panics on it.
			return 399, `{"RequestId":"R","Code":42,"Message":"x"}`, true
		case "badjson":
			return 200, `{"RequestId":`, true
		}
		return 200, `{}`, true
	}
	c := newTestConnector(f.srv.URL)
	c.cfg.Retry.MaxAttempts = 1
	e := connect(t, c)
	ctx := context.Background()
	_, err := e.ResetDisk(ctx, function.ResetDiskInput{RegionID: "cn-hangzhou", DiskID: "html", SnapshotID: "s"})
	var ae *function.APIError
	if !errors.As(err, &ae) || ae.Code != "HTTP502" || ae.HTTPStatus != 502 || !strings.Contains(ae.Message, "Bad Gateway") {
		t.Errorf("html: %#v", err)
	}
	// The SDK panics on a non-string Code; the panic is contained.
	_, err = e.ResetDisk(ctx, function.ResetDiskInput{RegionID: "cn-hangzhou", DiskID: "numcode", SnapshotID: "s"})
	if !errors.As(err, &ae) || ae.Code != "InvalidResponse" || ae.HTTPStatus != 400 {
		t.Errorf("numcode: %#v", err)
	}
	_, err = e.ResetDisk(ctx, function.ResetDiskInput{RegionID: "cn-hangzhou", DiskID: "code399", SnapshotID: "s"})
	if !errors.As(err, &ae) || ae.Code != "Odd" || ae.HTTPStatus != 399 || ae.RequestID != "R" || ae.Message != "m" {
		t.Errorf("code399 (read by the SDK): %#v", err)
	}
	_, err = e.ResetDisk(ctx, function.ResetDiskInput{RegionID: "cn-hangzhou", DiskID: "numcode399", SnapshotID: "s"})
	if !errors.As(err, &ae) || ae.Code != "InvalidResponse" || ae.HTTPStatus != 399 || !strings.Contains(ae.Message, "could not read") {
		t.Errorf("numcode399 (an SDK panic, contained): %#v", err)
	}
	_, err = e.ResetDisk(ctx, function.ResetDiskInput{RegionID: "cn-hangzhou", DiskID: "badjson", SnapshotID: "s"})
	var te *function.TransportError
	if !errors.As(err, &te) || !te.Sent {
		t.Errorf("badjson: %#v", err)
	}
}

func TestRetryByCallKind(t *testing.T) {
	type tc struct {
		name   string
		codes  []string // answers before success; "" = success
		call   func(e function.ECS) error
		action string
		calls  int
		errIs  string
	}
	reset := func(e function.ECS) error {
		_, err := e.ResetDisks(context.Background(), function.ResetDisksInput{RegionID: "cn-hangzhou", Disks: []function.DiskPair{{DiskID: "d-1", SnapshotID: "s-1"}}})
		return err
	}
	describe := func(e function.ECS) error {
		_, err := e.DescribeDisks(context.Background(), "cn-hangzhou", []string{"d-1"})
		return err
	}
	stop := func(e function.ECS) error {
		return e.StopInstance(context.Background(), function.StopInstanceInput{RegionID: "cn-hangzhou", InstanceID: "i-1", StoppedMode: "KeepCharging"})
	}
	cases := []tc{
		{"reset throttled twice", []string{"Throttling.User", "Throttling"}, reset, "ResetDisks", 3, ""},
		// A 5xx to a mutating call is final: ECS may have acted.
		{"reset 500 not retried", []string{"InternalError"}, reset, "ResetDisks", 1, "InternalError"},
		{"reset 503 not retried", []string{"ServiceUnavailable", "ServiceUnavailable", "ServiceUnavailable"}, reset, "ResetDisks", 1, "ServiceUnavailable"},
		{"reset 403 final", []string{"IncorrectInstanceStatus"}, reset, "ResetDisks", 1, "IncorrectInstanceStatus"},
		{"dry run is an APIError", []string{"DryRunOperation"}, reset, "ResetDisks", 1, "DryRunOperation"},
		{"describe throttled", []string{"Throttling.Api"}, describe, "DescribeDisks", 2, ""},
		{"describe 404 final", []string{"InvalidRegionId.NotFound"}, describe, "DescribeDisks", 1, "InvalidRegionId.NotFound"},
		{"stop 500 not retried", []string{"InternalError"}, stop, "StopInstance", 1, "InternalError"},
		{"describe 500 retried", []string{"InternalError"}, describe, "DescribeDisks", 2, ""},
	}
	status := map[string]int{"Throttling.User": 400, "Throttling": 400, "Throttling.Api": 400, "InternalError": 500, "ServiceUnavailable": 503,
		"IncorrectInstanceStatus": 403, "DryRunOperation": 400, "InvalidRegionId.NotFound": 404}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, func(n int, q url.Values) (int, any) {
				if n <= len(c.codes) && c.codes[n-1] != "" {
					return status[c.codes[n-1]], apiErr(c.codes[n-1])
				}
				return 200, ok(map[string]any{"OperationProgressSet": map[string]any{"OperationProgress": []any{}}})
			})
			err := c.call(connect(t, newTestConnector(f.srv.URL)))
			if got := f.count(c.action); got != c.calls {
				t.Errorf("%d calls, want %d", got, c.calls)
			}
			var ae *function.APIError
			switch {
			case c.errIs == "" && err != nil:
				t.Errorf("err %v", err)
			case c.errIs != "" && (!errors.As(err, &ae) || ae.Code != c.errIs):
				t.Errorf("err %#v, want %s", err, c.errIs)
			}
		})
	}
}

// rawServer accepts connections and hands each to handle.
func rawServer(t *testing.T, handle func(net.Conn)) (addr string, accepted func() int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			go handle(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// readRequest reads one full HTTP request from c.
func readRequest(c net.Conn) {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err == nil {
		_, _ = io.Copy(io.Discard, req.Body)
	}
}

func TestSentDetection(t *testing.T) {
	resetDisks := func(e function.ECS) error {
		_, err := e.ResetDisks(context.Background(), function.ResetDisksInput{RegionID: "cn-hangzhou", Disks: []function.DiskPair{{DiskID: "d-1", SnapshotID: "s-1"}}})
		return err
	}
	t.Run("refused: not sent, mutating call retried", func(t *testing.T) {
		var raw []error
		c := newTestConnector("http://" + testutil.RefusedAddr)
		c.onRawError = func(err error) { raw = append(raw, err) }
		err := resetDisks(connect(t, c))
		var te *function.TransportError
		if !errors.As(err, &te) || te.Sent || te.Op != "ResetDisks" {
			t.Fatalf("%#v", err)
		}
		if len(raw) != 3 || !strings.Contains(te.Message, "after 3 attempts") {
			t.Errorf("attempts %d, message %q", len(raw), te.Message)
		}
		assertClean(t, te.Message)
		if !strings.Contains(raw[0].Error(), "AccessKeyId="+testKeyID) {
			t.Logf("raw SDK error no longer holds the key: %v", raw[0])
		}
	})
	t.Run("closed before reading (TLS handshake never completes): not sent, retried", func(t *testing.T) {
		addr, accepted := rawServer(t, func(c net.Conn) { c.Close() })
		err := resetDisks(connect(t, newTestConnector("https://"+addr)))
		var te *function.TransportError
		if !errors.As(err, &te) || te.Sent {
			t.Fatalf("%#v", err)
		}
		if accepted() != 3 {
			t.Errorf("%d connections, want 3 (retried)", accepted())
		}
		assertClean(t, te.Message)
	})
	t.Run("closed after reading: sent, mutating call NOT retried", func(t *testing.T) {
		addr, accepted := rawServer(t, func(c net.Conn) { readRequest(c); c.Close() })
		err := resetDisks(connect(t, newTestConnector("http://"+addr)))
		var te *function.TransportError
		if !errors.As(err, &te) || !te.Sent || te.Timeout {
			t.Fatalf("%#v", err)
		}
		if accepted() != 1 {
			t.Errorf("%d connections, want 1", accepted())
		}
		assertClean(t, te.Message)
	})
	t.Run("closed after reading: read call retried", func(t *testing.T) {
		addr, accepted := rawServer(t, func(c net.Conn) { readRequest(c); c.Close() })
		_, err := connect(t, newTestConnector("http://"+addr)).DescribeDisks(context.Background(), "cn-hangzhou", []string{"d-1"})
		var te *function.TransportError
		if !errors.As(err, &te) || !te.Sent {
			t.Fatalf("%#v", err)
		}
		if accepted() != 3 {
			t.Errorf("%d connections, want 3", accepted())
		}
	})
}

// hungServer reads each request and never answers (for 10 s, or until the
// test ends).
func hungServer(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	addr, _ := rawServer(t, func(c net.Conn) {
		readRequest(c)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		c.Close()
	})
	return addr
}

func TestDeadlineCutsSlowCall(t *testing.T) {
	addr := hungServer(t)
	for _, viaConnect := range []bool{false, true} {
		c := newTestConnector("http://" + addr)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		callCtx := ctx
		cctx := context.Background()
		if viaConnect {
			cctx, callCtx = ctx, context.Background()
		}
		e, _ := c.Connect(cctx, testCreds)
		start := time.Now()
		_, err := e.DescribeDisks(callCtx, "cn-hangzhou", []string{"d-1"})
		took := time.Since(start)
		cancel()
		var te *function.TransportError
		if !errors.As(err, &te) || !te.Timeout || !te.Sent {
			t.Fatalf("viaConnect=%v: %#v", viaConnect, err)
		}
		if took > 2*time.Second {
			t.Errorf("viaConnect=%v: took %v", viaConnect, took)
		}
		assertClean(t, te.Message)
	}
	// A ctx already done: nothing sent.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := connect(t, newTestConnector("http://"+addr)).ResetDisk(ctx, function.ResetDiskInput{RegionID: "cn-hangzhou", DiskID: "d", SnapshotID: "s"})
	var te *function.TransportError
	if !errors.As(err, &te) || te.Sent {
		t.Fatalf("%#v", err)
	}
}

func assertClean(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{testKeyID, testToken, url.QueryEscape(testToken), "Signature=", "SignatureNonce", "http://", "https://", "?"} {
		if strings.Contains(s, bad) {
			t.Errorf("message leaks %q: %s", bad, s)
		}
	}
}

// TestClientTimeoutStillAborts: with no deadline in ctx, the SDK's
// http.Client Timeout (ReadTimeout) still ends a call whose answer never
// comes, now that boundTransport drops the legacy Request.Cancel and the
// timeout reaches the connection through the request's context alone.
func TestClientTimeoutStillAborts(t *testing.T) {
	addr := hungServer(t)
	c := New(Config{Endpoint: "http://" + addr, Retry: fastRetry(), ConnectTimeout: 2 * time.Second, ReadTimeout: 300 * time.Millisecond})
	e, err := c.Connect(context.Background(), testCreds)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = e.DescribeDisks(context.Background(), "cn-hangzhou", []string{"d-1"})
	took := time.Since(start)
	var te *function.TransportError
	if !errors.As(err, &te) || !te.Timeout || !te.Sent {
		t.Fatalf("got %#v, want a sent, timed-out TransportError", err)
	}
	if took > 5*time.Second {
		t.Errorf("took %v; want the 300ms read timeout (retries included) to end it well before the server's 10s", took)
	}
}

func TestRequestBuilding(t *testing.T) {
	f := newFake(t, func(n int, q url.Values) (int, any) {
		switch q.Get("Action") {
		case "CreateSnapshot":
			if n == 1 {
				return 400, apiErr("Throttling.User")
			}
			return 200, ok(map[string]any{"SnapshotId": "s-new"})
		}
		return 200, ok(nil)
	})
	e := connect(t, newTestConnector(f.srv.URL))
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.ResetDisks(ctx, function.ResetDisksInput{RegionID: "cn-hangzhou", DryRun: true, Disks: []function.DiskPair{{DiskID: "d-1", SnapshotID: "s-1"}, {DiskID: "d-2", SnapshotID: "s-2"}}})
	must(err)
	must(e.StopInstance(ctx, function.StopInstanceInput{RegionID: "cn-hangzhou", InstanceID: "i-1", StoppedMode: "KeepCharging", ForceStop: true}))
	must(e.StartInstance(ctx, "cn-hangzhou", "i-1", true))
	id, err := e.CreateSnapshot(ctx, function.CreateSnapshotInput{RegionID: "cn-hangzhou", DiskID: "d-1", SnapshotName: "n", Description: "d", Tags: map[string]string{"b": "2", "a": "1"}})
	must(err)
	if id != "s-new" {
		t.Errorf("id %q", id)
	}
	must(e.TagResources(ctx, "cn-hangzhou", "disk", []string{"d-1", "d-2"}, map[string]string{"k": "v"}))
	_, err = e.DescribeSnapshotGroups(ctx, function.DescribeSnapshotGroupsInput{RegionID: "cn-hangzhou", InstanceID: "i-1", SnapshotGroupIDs: []string{"ssg-1", "ssg-2"}, Statuses: []string{"accomplished"}})
	must(err)
	_, err = e.DescribeDisks(ctx, "cn-hangzhou", []string{"d-1", "d-2", "d-1"})
	must(err)

	pick := func(q url.Values, keys ...string) map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			if v, ok := q[k]; ok {
				m[k] = v[0]
			}
		}
		return m
	}
	reqs := f.requests()
	byAction := map[string][]url.Values{}
	for _, q := range reqs {
		byAction[q.Get("Action")] = append(byAction[q.Get("Action")], q)
	}
	checks := []struct {
		action string
		keys   []string
		want   map[string]string
	}{
		{"ResetDisks", []string{"RegionId", "DryRun", "Disk.1.DiskId", "Disk.1.SnapshotId", "Disk.2.DiskId", "Disk.2.SnapshotId", "Disk.3.DiskId"},
			map[string]string{"RegionId": "cn-hangzhou", "DryRun": "true", "Disk.1.DiskId": "d-1", "Disk.1.SnapshotId": "s-1", "Disk.2.DiskId": "d-2", "Disk.2.SnapshotId": "s-2"}},
		{"StopInstance", []string{"InstanceId", "StoppedMode", "ForceStop", "DryRun"},
			map[string]string{"InstanceId": "i-1", "StoppedMode": "KeepCharging", "ForceStop": "true"}},
		{"StartInstance", []string{"InstanceId", "DryRun"}, map[string]string{"InstanceId": "i-1", "DryRun": "true"}},
		{"CreateSnapshot", []string{"DiskId", "SnapshotName", "Description", "Tag.1.Key", "Tag.1.Value", "Tag.2.Key", "Tag.2.Value"},
			map[string]string{"DiskId": "d-1", "SnapshotName": "n", "Description": "d", "Tag.1.Key": "a", "Tag.1.Value": "1", "Tag.2.Key": "b", "Tag.2.Value": "2"}},
		{"TagResources", []string{"ResourceType", "ResourceId.1", "ResourceId.2", "Tag.1.Key", "Tag.1.Value"},
			map[string]string{"ResourceType": "disk", "ResourceId.1": "d-1", "ResourceId.2": "d-2", "Tag.1.Key": "k", "Tag.1.Value": "v"}},
		{"DescribeSnapshotGroups", []string{"InstanceId", "SnapshotGroupId.1", "SnapshotGroupId.2", "Status.1", "MaxResults"},
			map[string]string{"InstanceId": "i-1", "SnapshotGroupId.1": "ssg-1", "SnapshotGroupId.2": "ssg-2", "Status.1": "accomplished", "MaxResults": "100"}},
		{"DescribeDisks", []string{"DiskIds", "MaxResults"}, map[string]string{"DiskIds": `["d-1","d-2"]`, "MaxResults": "100"}},
	}
	for _, c := range checks {
		qs := byAction[c.action]
		if len(qs) == 0 {
			t.Errorf("%s not called", c.action)
			continue
		}
		if d := cmp.Diff(c.want, pick(qs[0], c.keys...)); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.action, d)
		}
	}
	cs := byAction["CreateSnapshot"]
	if len(cs) != 2 || cs[0].Get("ClientToken") == "" || cs[0].Get("ClientToken") != cs[1].Get("ClientToken") {
		t.Errorf("CreateSnapshot retry must keep its ClientToken: %v", cs)
	}
}

func TestPagingAndMapping(t *testing.T) {
	f := newFake(t, func(n int, q url.Values) (int, any) {
		switch q.Get("Action") {
		case "DescribeDisks":
			if q.Get("NextToken") == "" {
				return 200, ok(map[string]any{"NextToken": "p2", "Disks": map[string]any{"Disk": []any{
					map[string]any{"DiskId": "d-1", "RegionId": "cn-hangzhou", "InstanceId": "i-1", "Status": "In_use", "Category": "cloud_essd", "Type": "system", "MultiAttach": "Disabled",
						"Tags": map[string]any{"Tag": []any{map[string]any{"TagKey": "rollback", "TagValue": "allowed"}}}}}}})
			}
			return 200, ok(map[string]any{"NextToken": "", "Disks": map[string]any{"Disk": []any{map[string]any{"DiskId": "d-2", "Status": "ReIniting"}}}})
		case "DescribeSnapshots":
			return 200, ok(map[string]any{"Snapshots": map[string]any{"Snapshot": []any{
				map[string]any{"SnapshotId": "s-1", "SourceDiskId": "d-1", "Status": "accomplished", "Progress": "100%", "CreationTime": "2026-11-20T02:00Z"},
				map[string]any{"SnapshotId": "s-2", "CreationTime": "2026-11-20T02:00:05Z", "Tags": map[string]any{"Tag": []any{map[string]any{"Key": "k", "Value": "v"}}}}}}})
		case "DescribeInstances":
			return 200, ok(map[string]any{"Instances": map[string]any{"Instance": []any{map[string]any{"InstanceId": "i-1", "RegionId": "cn-hangzhou", "Status": "Stopped", "ExpiredTime": "2099-12-31T16:00Z",
				"OperationLocks": map[string]any{"LockReason": []any{map[string]any{"LockReason": "security"}}}}}}})
		case "ListTagResources":
			if q.Get("NextToken") == "" {
				return 200, ok(map[string]any{"NextToken": "t2", "TagResources": map[string]any{"TagResource": []any{map[string]any{"ResourceId": "d-1", "ResourceType": "disk", "TagKey": "a", "TagValue": "1"}}}})
			}
			return 200, ok(map[string]any{"TagResources": map[string]any{"TagResource": []any{map[string]any{"ResourceId": "d-1", "ResourceType": "disk", "TagKey": "b", "TagValue": "2"}}}})
		case "DescribeSnapshotGroups":
			if q.Get("NextToken") == "" {
				return 200, ok(map[string]any{"NextToken": "g2", "SnapshotGroups": map[string]any{"SnapshotGroup": []any{map[string]any{"SnapshotGroupId": "ssg-1", "Status": "accomplished",
					"CreationTime": "2026-11-20T02:00:00Z", "Snapshots": map[string]any{"Snapshot": []any{map[string]any{"SnapshotId": "s-1", "SourceDiskId": "d-1", "SourceDiskType": "system", "Status": "accomplished", "Progress": "100%"}}}}}}})
			}
			return 200, ok(map[string]any{"SnapshotGroups": map[string]any{"SnapshotGroup": []any{map[string]any{"SnapshotGroupId": "ssg-2"}}}})
		}
		return 200, ok(nil)
	})
	e := connect(t, newTestConnector(f.srv.URL))
	ctx := context.Background()
	disks, err := e.DescribeDisks(ctx, "cn-hangzhou", []string{"d-1", "d-2"})
	if err != nil {
		t.Fatal(err)
	}
	wantDisks := []function.Disk{
		{DiskID: "d-1", RegionID: "cn-hangzhou", InstanceID: "i-1", Status: "In_use", Category: "cloud_essd", Type: "system", MultiAttach: "Disabled", Tags: map[string]string{"rollback": "allowed"}},
		{DiskID: "d-2", Status: "ReIniting"},
	}
	if d := cmp.Diff(wantDisks, disks); d != "" {
		t.Error(d)
	}
	snaps, err := e.DescribeSnapshots(ctx, "cn-hangzhou", []string{"s-1", "s-2"})
	if err != nil {
		t.Fatal(err)
	}
	wantSnaps := []function.Snapshot{
		{SnapshotID: "s-1", SourceDiskID: "d-1", Status: "accomplished", Progress: "100%", CreationTime: time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)},
		{SnapshotID: "s-2", CreationTime: time.Date(2026, 11, 20, 2, 0, 5, 0, time.UTC), Tags: map[string]string{"k": "v"}},
	}
	if d := cmp.Diff(wantSnaps, snaps); d != "" {
		t.Error(d)
	}
	ins, err := e.DescribeInstances(ctx, "cn-hangzhou", []string{"i-1"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]function.Instance{{InstanceID: "i-1", RegionID: "cn-hangzhou", Status: "Stopped", LockReasons: []string{"security"}, ExpiredTime: "2099-12-31T16:00Z"}}, ins); d != "" {
		t.Error(d)
	}
	tags, err := e.ListTagResources(ctx, "cn-hangzhou", "disk", []string{"d-1"})
	if err != nil || len(tags) != 2 || tags[1].TagKey != "b" {
		t.Errorf("%v %v", tags, err)
	}
	groups, err := e.DescribeSnapshotGroups(ctx, function.DescribeSnapshotGroupsInput{RegionID: "cn-hangzhou", InstanceID: "i-1"})
	if err != nil || len(groups) != 2 || groups[0].Snapshots[0].SourceDiskType != "system" || !groups[0].CreationTime.Equal(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("%+v %v", groups, err)
	}
	// Empty ID lists make no call.
	before := len(f.requests())
	if d, err := e.DescribeDisks(ctx, "cn-hangzhou", nil); d != nil || err != nil {
		t.Error(d, err)
	}
	if len(f.requests()) != before {
		t.Error("an empty DescribeDisks was sent")
	}
}

func TestChunking(t *testing.T) {
	var ids []string
	for i := range 250 {
		ids = append(ids, fmt.Sprintf("d-%03d", i))
	}
	f := newFake(t, func(n int, q url.Values) (int, any) { return 200, ok(nil) })
	e := connect(t, newTestConnector(f.srv.URL))
	if _, err := e.DescribeDisks(context.Background(), "cn-hangzhou", ids); err != nil {
		t.Fatal(err)
	}
	if err := e.TagResources(context.Background(), "cn-hangzhou", "disk", ids[:120], map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if f.count("DescribeDisks") != 3 || f.count("TagResources") != 3 {
		t.Errorf("DescribeDisks %d calls, TagResources %d", f.count("DescribeDisks"), f.count("TagResources"))
	}
	if !slices.Equal(chunks([]string{"a", "b", "a", "c"}, 2)[1], []string{"c"}) {
		t.Error("chunks")
	}
}

func TestClassifier(t *testing.T) {
	cases := []struct {
		err       error
		read, mut string
	}{
		{&function.APIError{Code: "Throttling.User", HTTPStatus: 400}, "Retry", "Retry"},
		{&function.APIError{Code: "Throttling.Whatever", HTTPStatus: 400}, "Retry", "Retry"},
		{&function.APIError{Code: "InternalError", HTTPStatus: 500}, "Retry", "NoRetry"},
		{&function.APIError{Code: "ServiceUnavailable", HTTPStatus: 503}, "Retry", "NoRetry"},
		{&function.APIError{Code: "DryRunOperation", HTTPStatus: 400}, "NoRetry", "NoRetry"},
		{&function.APIError{Code: "IncorrectDiskStatus", HTTPStatus: 403}, "NoRetry", "NoRetry"},
		{&function.TransportError{Sent: false}, "Retry", "Retry"},
		{&function.TransportError{Sent: false, Timeout: true}, "RetryTimeout", "RetryTimeout"},
		{&function.TransportError{Sent: true}, "Retry", "NoRetry"},
		{&function.TransportError{Sent: true, Timeout: true}, "RetryTimeout", "NoRetry"},
		{fmt.Errorf("wrapped: %w", &function.TransportError{Sent: true}), "Retry", "NoRetry"},
		{errors.New("other"), "NoRetry", "NoRetry"},
	}
	for _, c := range cases {
		if got := classifier(read)(c.err).String(); got != c.read {
			t.Errorf("read %v: %s, want %s", c.err, got, c.read)
		}
		if got := classifier(mutating)(c.err).String(); got != c.mut {
			t.Errorf("mutating %v: %s, want %s", c.err, got, c.mut)
		}
	}
}

func TestHTTPSOverride(t *testing.T) {
	f := newFake(t, func(n int, q url.Values) (int, any) { return 200, ok(nil) })
	f.srv.Close()
	srv := httptestTLS(t, f)
	c := New(Config{Endpoint: srv.URL, Retry: fastRetry()})
	c.transport = srv.Client().Transport // trusts the test certificate
	e := connect(t, c)
	if _, err := e.ResetDisk(context.Background(), function.ResetDiskInput{RegionID: "cn-hangzhou", DiskID: "d", SnapshotID: "s"}); err != nil {
		t.Fatal(err)
	}
	if f.count("ResetDisk") != 1 {
		t.Error("not served over TLS")
	}
	// Without the test CA the shared transport refuses the certificate:
	// nothing is sent, and the error is not retried forever.
	c2 := New(Config{Endpoint: srv.URL, Retry: fastRetry()})
	_, err := connect(t, c2).ResetDisk(context.Background(), function.ResetDiskInput{RegionID: "cn-hangzhou", DiskID: "d", SnapshotID: "s"})
	var te *function.TransportError
	if !errors.As(err, &te) || te.Sent {
		t.Fatalf("%#v", err)
	}
	assertClean(t, te.Message)
}

func TestDryRunsRetryLikeReads(t *testing.T) {
	for _, c := range []struct {
		dryRun bool
		want   callKind
	}{{true, read}, {false, mutating}} {
		if got := kindOf(c.dryRun); got != c.want {
			t.Errorf("kindOf(%v) = %s, want %s", c.dryRun, got, c.want)
		}
	}
}
