package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/ecstest"
)

// emulator starts an ecsemu server with the default fleet, the running
// and stopped instances tagged with the opt-in tag when optIn.
func emulator(t *testing.T, optIn bool) *ecsemu.Server {
	t.Helper()
	fx := ecsemu.DefaultFixture()
	for i := range fx.Instances {
		if optIn {
			fx.Instances[i].Tags = map[string]string{OptInKey: OptInValue}
		}
	}
	d := 50 * time.Millisecond
	s, err := ecsemu.NewServer(ecsemu.Options{Fixture: fx, ResetDuration: d, StopDuration: d, StartDuration: d, SnapshotDuration: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func creds(endpoint string) map[string]string {
	return map[string]string{envKeyID: ecsemu.DefaultAccessKeyID, envSecret: ecsemu.DefaultAccessKeySecret, "ECS_ENDPOINT": endpoint}
}

func runCmd(t *testing.T, getenv func(string) string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, getenv, &out, &errb)
	return code, out.String() + errb.String()
}

func TestNoCredentials(t *testing.T) {
	code, out := runCmd(t, env(nil), "-region", "cn-hangzhou")
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	for _, want := range []string{envKeyID, envSecret, OptInKey + "=" + OptInValue, "-mutate", "-instance"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRefusals(t *testing.T) {
	s := emulator(t, false)
	tagged := emulator(t, true)
	for _, tc := range []struct {
		name     string
		s        *ecsemu.Server
		args     []string
		wantCode int
		want     string
	}{
		{"no opt-in tag", s, []string{"-instance", "i-bp1stopped0000000000", "-disks", "d-bp1stoppedsys0000000"}, 1, "opt-in tag"},
		{"a disk of another instance", tagged, []string{"-instance", "i-bp1stopped0000000000", "-disks", "d-bp1runningsys0000000"}, 1, "not i-bp1stopped"},
		{"no disks", tagged, []string{"-instance", "i-bp1stopped0000000000"}, 2, "-disks"},
		{"snapshots not one per disk", tagged, []string{"-instance", "i-bp1stopped0000000000", "-disks", "d-a,d-b", "-snapshots", "s-a"}, 2, "one snapshot per disk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.ClearRequests()
			report := filepath.Join(t.TempDir(), "r.json")
			code, out := runCmd(t, env(creds(tc.s.URL())), append([]string{"-region", "cn-hangzhou", "-report", report}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(out, tc.want) {
				t.Errorf("got exit %d, output:\n%s\nwant exit %d and %q", code, out, tc.wantCode, tc.want)
			}
			for _, r := range tc.s.Requests() {
				if !slices.Contains([]string{"ListTagResources", "DescribeDisks"}, r.Action) {
					t.Errorf("got a %s call before the refusal, want only the tag and disk reads", r.Action)
				}
			}
			if _, err := os.Stat(report); err == nil {
				t.Errorf("a report was written on refusal")
			}
		})
	}
}

func TestAgainstEmulator(t *testing.T) {
	for _, tc := range []struct {
		name         string
		instance     string
		disks, snaps string
		mutate       bool
		wantPass     []string
	}{
		{"read-only stopped", "i-bp1stopped0000000000", "d-bp1stoppedsys0000000,d-bp1stoppeddata000000", "s-bp1stoppedsys0000000,s-bp1stoppeddata000000",
			false, []string{"Describe/Fixture", "DryRun/Answers", "NotFound/ResetDiskDryRun"}},
		{"mutate running", "i-bp1running0000000000", "d-bp1runningsys0000000,d-bp1runningdata000000", "",
			true, []string{"Instance/Lifecycle", "Snapshot/ClientToken", "Tags/RoundTrip", "Tags/Quota", "DryRun/Answers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := emulator(t, true)
			path := filepath.Join(t.TempDir(), "report.json")
			args := []string{"-region", "cn-hangzhou", "-instance", tc.instance, "-disks", tc.disks, "-snapshots", tc.snaps,
				"-foreign-snapshot", "s-bp1lockedsys00000000", "-report", path, "-poll", "20ms", "-timeout", "10s"}
			if tc.mutate {
				args = append(args, "-mutate")
			}
			code, out := runCmd(t, env(creds(s.URL())), args...)
			if code != 0 {
				t.Fatalf("exit %d, want 0:\n%s", code, out)
			}
			var rep report
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			outcome := map[string]string{}
			for _, c := range rep.Checks {
				outcome[c.Name] = c.Outcome
			}
			for _, n := range tc.wantPass {
				if outcome[n] != ecstest.Pass {
					t.Errorf("check %s: got %q, want pass", n, outcome[n])
				}
			}
			if len(rep.Answers) == 0 || rep.Mutate != tc.mutate {
				t.Errorf("report: got %d answers, mutate %v; want answers, mutate %v", len(rep.Answers), rep.Mutate, tc.mutate)
			}
			if strings.Contains(string(b), ecsemu.DefaultAccessKeySecret) {
				t.Errorf("the report holds the secret")
			}
			for _, r := range s.Requests() {
				mutating := slices.Contains([]string{"StopInstance", "StartInstance", "ResetDisks", "ResetDisk", "CreateSnapshot", "TagResources"}, r.Action)
				if !tc.mutate && mutating && r.Params["DryRun"] != "true" {
					t.Errorf("read-only run made a mutating call: %s %v", r.Action, r.Params)
				}
			}
		})
	}
}
