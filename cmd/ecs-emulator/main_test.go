package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

// start runs the command and returns its URL and a stop function that
// cancels it and returns run's error.
func start(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			cancel()
			t.Fatalf("run ended without printing: %v", <-done)
		}
		const prefix = "ecs-emulator listening on "
		if !strings.HasPrefix(line, prefix) {
			cancel()
			t.Fatalf("got line %q, want %q...", line, prefix)
		}
		return strings.TrimPrefix(line, prefix), func() error { cancel(); return <-done }
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("no listening line within 5s")
	}
	return "", nil
}

func client(t *testing.T, url, id, secret string) *ecs.Client {
	t.Helper()
	cfg := sdk.NewConfig().WithScheme("HTTP")
	c, err := ecs.NewClientWithOptions("cn-hangzhou", cfg, credentials.NewAccessKeyCredential(id, secret))
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = strings.TrimPrefix(url, "http://")
	return c
}

func TestRunDefaultFleet(t *testing.T) {
	url, stop := start(t, "-addr", "127.0.0.1:0", "-reset-duration", "10ms", "-fault", "DescribeDisks:throttle:1:1")
	c := client(t, url, ecsemu.DefaultAccessKeyID, ecsemu.DefaultAccessKeySecret)
	req := ecs.CreateDescribeDisksRequest()
	req.RegionId = "cn-hangzhou"
	req.DiskIds = `["d-bp1stoppedsys0000000"]`
	_, err := c.DescribeDisks(req)
	if se, ok := err.(*errors.ServerError); !ok || se.ErrorCode() != ecsemu.CodeThrottlingUser {
		t.Fatalf("first call: got %v, want the scripted throttle", err)
	}
	resp, err := c.DescribeDisks(req)
	if err != nil || resp.TotalCount != 1 {
		t.Fatalf("second call: got %v, %v", resp, err)
	}
	h, err := http.Get(url + "/_emulator/health")
	if err != nil || h.StatusCode != 200 {
		t.Fatalf("health: %v %v", h, err)
	}
	h.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want nil after cancel", err)
	}
	if _, err := http.Get(url + "/_emulator/health"); err == nil {
		t.Error("server still answering after cancel")
	}
}

func TestRunFixtureAndCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fleet.json")
	fixture := `{"disks":[{"diskId":"d-only","regionId":"cn-hangzhou","category":"cloud_essd","type":"data","status":"Available"}]}`
	if err := os.WriteFile(path, []byte(fixture), 0o600); err != nil {
		t.Fatal(err)
	}
	url, stop := start(t, "-fixture", path, "-access-key-id", "LTAIother", "-access-key-secret", "s3cret")
	defer stop()
	req := ecs.CreateDescribeDisksRequest()
	req.RegionId = "cn-hangzhou"
	resp, err := client(t, url, "LTAIother", "s3cret").DescribeDisks(req)
	if err != nil || resp.TotalCount != 1 || resp.Disks.Disk[0].DiskId != "d-only" {
		t.Fatalf("got %+v, %v", resp, err)
	}
	_, err = client(t, url, ecsemu.DefaultAccessKeyID, ecsemu.DefaultAccessKeySecret).DescribeDisks(req)
	if se, ok := err.(*errors.ServerError); !ok || se.ErrorCode() != ecsemu.CodeInvalidAccessKeyIDNotFound {
		t.Fatalf("default key: got %v, want InvalidAccessKeyId.NotFound", err)
	}
}

func TestRunBadArgs(t *testing.T) {
	for _, args := range [][]string{
		{"-fault", "ResetDisks:explode"},
		{"-mode", "resetStatus=sometimes"},
		{"-fixture", "/does/not/exist.json"},
		{"-addr", "256.0.0.1:99999"},
		{"extra"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q): got nil error", args)
		}
	}
}

func TestRunModeAndActThenErrorFlags(t *testing.T) {
	url, stop := start(t, "-mode", "resetStatus=hidden,relatedItems=snapshot-only",
		"-fault", "ResetDisk:act-then-error=InternalError@400")
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	resp, err := http.Get(url + "/_emulator/modes")
	if err != nil {
		t.Fatal(err)
	}
	var m ecsemu.Modes
	err = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if err != nil || m.ResetStatus != ecsemu.ResetStatusHidden || m.RelatedItems != ecsemu.RelatedItemsSnapshotOnly {
		t.Errorf("got modes %+v %v, want hidden and snapshot-only", m, err)
	}
	resp, err = http.Get(url + "/_emulator/faults")
	if err != nil {
		t.Fatal(err)
	}
	var rules []ecsemu.FaultRule
	err = json.NewDecoder(resp.Body).Decode(&rules)
	resp.Body.Close()
	if err != nil || len(rules) != 1 || rules[0].Kind != ecsemu.FaultActThenError || rules[0].Status != 400 {
		t.Errorf("got faults %+v %v", rules, err)
	}
}
