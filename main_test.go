package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// TestVersionInResult: the handler main builds puts the build's version
// into every Result, and into the Result an error carries.
func TestVersionInResult(t *testing.T) {
	es := testutil.StartECS(t, ecsemu.Options{ResetDuration: 50 * time.Millisecond})
	env := map[string]string{"ECS_ENDPOINT": es.URL(), "CLAIM_SETTLE": "300ms", "LOG_LEVEL": "error"}
	h := newHandler(func(k string) string { return env[k] })
	if got, want := h.Version, version; got != want {
		t.Fatalf("Handler.Version = %q, want main.version %q", got, want)
	}
	h.Version = "v1.2.3-test"
	inv := function.Invocation{RequestID: "req-version", Credentials: function.Credentials{
		AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret}}

	tests := []struct {
		name    string
		request string
		wantErr string // "" for a Result, else the error's Code (its Result checked)
	}{
		{"dry run result", `{"RegionId":"cn-hangzhou","DryRun":true,"Disk":[{"DiskId":"d-bp1stoppedsys0000000","SnapshotId":"s-bp1stoppedsys0000000"}]}`, ""},
		{"reset result", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"d-bp1stoppeddata000000","SnapshotId":"s-bp1stoppeddata000000"}]}`, ""},
		{"refused plan error", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"d-bp1stoppedsys0000000","SnapshotId":"s-bp1stoppedsys0000000"},{"DiskId":"d-bp1tooold00000000000","SnapshotId":"s-bp1tooold00000000000"}]}`, function.ErrPlanRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := h.RunJSON(ctx, inv, []byte(tt.request))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("RunJSON: %v", err)
				}
			} else {
				var fe *function.Error
				if !errors.As(err, &fe) || fe.Code != tt.wantErr || fe.Result == nil {
					t.Fatalf("RunJSON error = %v, want a %s carrying a Result", err, tt.wantErr)
				}
				res = fe.Result
			}
			if got, want := res.Version, "v1.2.3-test"; got != want {
				t.Errorf("Result.Version = %q, want %q", got, want)
			}
		})
	}
	// An alarm the function does not act on answers a Result too.
	t.Run("alarm not acted on", func(t *testing.T) {
		alarm, err := os.ReadFile("events/testdata/cloudmonitor-alarm-raw.json")
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.Handle(t.Context(), inv, alarm)
		res, ok := out.(*function.Result)
		if err != nil || !ok || res.Version != "v1.2.3-test" {
			t.Errorf("Handle = %+v, %v; want a Result with Version v1.2.3-test", out, err)
		}
	})
}

// TestVersionStampedAtBuild builds the binary as make does (-ldflags -X
// main.version=...) and checks the version is logged at start and carried
// in the result FC gets.
func TestVersionStampedAtBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function binary")
	}
	bin, cleanup, err := testutil.Build("main", ".", "-ldflags=-X main.version=v0.0.0-stamped")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	es := testutil.StartECS(t, ecsemu.Options{})
	logs := &fcruntime.LogBuffer{}
	rt, err := fcruntime.NewServer(fcruntime.Options{
		Binary:      bin,
		Env:         []string{"ECS_ENDPOINT=" + es.URL(), "ALIBABA_CLOUD_ACCESS_KEY_ID=", "ALIBABA_CLOUD_ACCESS_KEY_SECRET="},
		Credentials: fcruntime.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret},
		Stdout:      logs, Stderr: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	event, err := os.ReadFile("events/testdata/direct-dryrun.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := rt.Invoke(context.Background(), event, fcruntime.InvokeOptions{})
	if err != nil || !res.OK() {
		t.Fatalf("invoke: %v %v\n%s", err, res.Err(), logs.String())
	}
	var got function.Result
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if got, want := got.Version, "v0.0.0-stamped"; got != want {
		t.Errorf("Result.Version = %q, want %q", got, want)
	}
	if got, want := logs.String(), `"msg":"ecs-disk-rollback starting","version":"v0.0.0-stamped"`; !strings.Contains(got, want) {
		t.Errorf("logs do not contain %s:\n%s", want, got)
	}
}

func TestMaxProcs(t *testing.T) {
	tests := []struct {
		name string
		env  string
		want int
	}{
		{"unset: one P", "", 1},
		{"set: Go reads it", "4", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := maxProcs(func(k string) string {
				if k == "GOMAXPROCS" {
					return tt.env
				}
				return ""
			})
			if got != tt.want {
				t.Errorf("maxProcs = %d, want %d", got, tt.want)
			}
		})
	}
}
