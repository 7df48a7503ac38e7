package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// binary is the function, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(testutil.MainWithBinary(m, &binary, "main", "../..", "-ldflags=-X main.version=v0.0.0-runlocal"))
}

const samples = "../../events/testdata/"

func TestRunOutput(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantOut   []string // substrings of stdout
		notOut    []string // must not be in stdout
		wantFinal string   // a substring of the last line
		wantErr   []string // substrings of stderr
	}{
		{
			name: "dry run then reset",
			args: []string{"-event", samples + "direct-dryrun.json", "-event", samples + "direct-reset.json"},
			wantOut: []string{
				"run-local: CLAIM_SETTLE=300ms: the idempotency settle delay",
				"a deployed function keeps the safe 1s default",
				"direct-dryrun.json: DryRunPassed | disks 2 (2 succeeded, 0 failed) | instances none | ",
				"direct-reset.json: Succeeded | disks 2 (2 succeeded, 0 failed) | instances none | ",
				`{"Name": "DiskId", "Value": "d-bp1stoppedsys0000000"}`,
			},
			notOut:    []string{`"level":"INFO"`, "FC Invoke Start"},
			wantFinal: "run-local: 2 of 2 invocations answered with a result; ",
		},
		{
			name: "a gated rollback with a backup, then its undo: dry run and real",
			args: []string{"-event", samples + "direct-reset-health-instancestatus.json", "-event", samples + "direct-undo-dryrun.json", "-event", samples + "direct-undo.json"},
			wantOut: []string{
				"direct-reset-health-instancestatus.json: Succeeded | disks 1 (1 succeeded, 0 failed)",
				"direct-undo-dryrun.json: DryRunPassed | disks 1 (1 succeeded, 0 failed)",
				"direct-undo.json: Succeeded | disks 1 (1 succeeded, 0 failed)",
				`"Name": "HealthCheck"`,
			},
			wantFinal: "3 of 3 invocations answered with a result",
		},
		{
			name:      "an HTTP trigger's body is shown decoded",
			args:      []string{"-event", samples + "http-post-base64.json"},
			wantOut:   []string{`"body": {`, "http-post-base64.json: HTTP 200 DryRunPassed | disks 2 (2 succeeded, 0 failed)"},
			notOut:    []string{`\"RequestId\"`},
			wantFinal: "1 of 1 invocations answered with a result",
		},
		{
			name:      "an alarm without ALARM_ROLLBACK is refused",
			args:      []string{"-event", samples + "eventbridge-alarm-alert.json"},
			wantOut:   []string{"eventbridge-alarm-alert.json: Refused | disks 0 (0 succeeded, 0 failed)", "set ALARM_ROLLBACK=true"},
			wantFinal: "1 of 1 invocations answered with a result",
		},
		{
			name: "-env reaches the function: the alarm rolls its instance back",
			args: []string{"-env", "ALARM_ROLLBACK=true", "-event", samples + "eventbridge-alarm-alert.json"},
			wantOut: []string{"run-local: function environment: POLL_INTERVAL=100ms ALARM_ROLLBACK=true", // the test's -env first
				"eventbridge-alarm-alert.json: Succeeded | disks 2 (2 succeeded, 0 failed) | instances i-bp1stopped0000000000 | "},
			wantFinal: "1 of 1 invocations answered with a result",
		},
		{
			name:      "a sample meant to fail is an answer, not a failed run",
			args:      []string{"-event", samples + "timer-empty-payload.json"},
			wantOut:   []string{"error ValidationFailed: ValidationFailed: invalid request: payload", "timer-empty-payload.json: error ValidationFailed | disks 0"},
			wantFinal: "0 of 1 invocations answered with a result, 1 with a function error (ValidationFailed: the function's answer to the event, not a build or emulator failure); ",
		},
		{
			name:      "-strict turns a function error into exit 1",
			args:      []string{"-strict", "-event", samples + "timer-empty-payload.json"},
			wantCode:  1,
			wantFinal: "function version v0.0.0-runlocal",
		},
		{
			name:      "-v shows the function's logs on stderr",
			args:      []string{"-v", "-event", samples + "direct-dryrun.json"},
			wantOut:   []string{"function logs (JSON): on stderr and in "},
			notOut:    []string{"FC Invoke Start"},
			wantErr:   []string{"FC Invoke Start", `"msg":"ecs-disk-rollback starting","version":"v0.0.0-runlocal"`},
			wantFinal: "function version v0.0.0-runlocal",
		},
		{
			name:      "CLAIM_SETTLE given is the one shown",
			args:      []string{"-env", "CLAIM_SETTLE=1s", "-event", samples + "direct-dryrun.json"},
			wantOut:   []string{"run-local: CLAIM_SETTLE=1s: "},
			wantFinal: "1 of 1 invocations answered with a result",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each run has its own emulators; they mostly wait out transitions
			logPath := filepath.Join(t.TempDir(), "fn.log")
			var stdout, stderr fcruntime.LogBuffer
			args := append([]string{"-binary", binary, "-reset-duration", "100ms", "-transition", "100ms", "-env", "POLL_INTERVAL=100ms", "-log", logPath}, tt.args...)
			code := run(context.Background(), args, &stdout, &stderr)
			out := stdout.String()
			if got, want := code, tt.wantCode; got != want {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, out, stderr.String())
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, out)
				}
			}
			for _, bad := range tt.notOut {
				if strings.Contains(out, bad) {
					t.Errorf("stdout contains %q:\n%s", bad, out)
				}
			}
			for _, want := range tt.wantErr {
				if got := stderr.String(); !strings.Contains(got, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, got)
				}
			}
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			last := lines[len(lines)-1]
			if !strings.Contains(last, tt.wantFinal) || !strings.HasSuffix(last, "logs in "+logPath) {
				t.Errorf("last line %q: want it to contain %q and end naming %s", last, tt.wantFinal, logPath)
			}
			if got := strings.Count(out, "\n==> "); got != strings.Count(out, "\n--- ") {
				t.Errorf("%d summary lines for %d invocations", got, strings.Count(out, "\n--- "))
			}
			logs, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(logs), "FC Invoke Start"; !strings.Contains(got, want) {
				t.Errorf("log file does not contain %q:\n%s", want, got)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	dryrun := samples + "direct-dryrun.json"
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no event", []string{"-binary", binary}, 2, "give at least one -event"},
		{"stray argument", []string{"-event", dryrun, "ALARM_ROLLBACK=true"}, 2, "unexpected arguments"},
		{"env without =", []string{"-env", "ALARM_ROLLBACK", "-event", dryrun}, 2, "want KEY=VALUE"},
		{"ECS_ENDPOINT cannot point elsewhere", []string{"-env", "ECS_ENDPOINT=https://ecs.cn-hangzhou.aliyuncs.com", "-event", dryrun}, 2, "ECS_ENDPOINT cannot be set"},
		{"missing event file", []string{"-event", "/nonexistent.json"}, 1, "nonexistent.json"},
		{"missing binary", []string{"-binary", "/nonexistent/main", "-event", dryrun}, 1, "FC runtime emulator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr fcruntime.LogBuffer
			args := append([]string{"-log", filepath.Join(t.TempDir(), "fn.log")}, tt.args...)
			if got, want := run(context.Background(), args, &stdout, &stderr), tt.wantCode; got != want {
				t.Errorf("exit code %d, want %d", got, want)
			}
			if got := stderr.String(); !strings.Contains(got, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", got, tt.wantErr)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		rep  fcruntime.Report
		want string
	}{
		{
			name: "result with stop and start",
			rep: fcruntime.Report{Result: []byte(`{"Summary":{"Status":"Succeeded","Total":1,"Succeeded":1,"Failed":0},
				"Plan":{"InstancesToStop":["i-a"],"InstancesToStart":["i-a"]},
				"Steps":[{"Name":"StopInstance","Target":"i-a"},{"Name":"ResetDisks","Target":"d-1"},{"Name":"StartInstance","Target":"i-a"}]}`)},
			want: "==> e.json: Succeeded | disks 1 (1 succeeded, 0 failed) | instances i-a (stopped, started) | 7 ms",
		},
		{
			name: "FC error carrying its result",
			rep: fcruntime.Report{Error: &fcruntime.ReportError{ErrorType: "PartialFailure",
				ErrorMessage: `PartialFailure: 1 of 2 disks were not reset; result: {"Summary":{"Status":"PartiallyFailed","Total":2,"Succeeded":1,"Failed":1}}`}},
			want: "==> e.json: error PartialFailure | disks 2 (1 succeeded, 1 failed) | instances none | 7 ms",
		},
		{
			name: "HTTP error body",
			rep:  fcruntime.Report{Result: []byte(`{"statusCode":409,"body":"{\"Code\":\"CooldownActive\",\"Message\":\"m\"}"}`)},
			want: "==> e.json: HTTP 409 CooldownActive | disks 0 (0 succeeded, 0 failed) | instances none | 7 ms",
		},
		{
			name: "batch",
			rep: fcruntime.Report{Result: []byte(`[{"id":"1","result":{"Summary":{"Status":"DryRunPassed","Total":2,"Succeeded":2}}},
				{"id":"2","error":{"Code":"DiskNotAllowed","Message":"m"}}]`)},
			want: "==> e.json: batch of 2: DryRunPassed, DiskNotAllowed | disks 2 (2 succeeded, 0 failed) | instances none | 7 ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := summarize(tt.rep).line("e.json", 7), tt.want; got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestReadable(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"small object on one line", `{"a":1,"b":"x"}`, `{"a": 1, "b": "x"}`},
		{"HTTP body decoded", `{"statusCode":200,"body":"{\"RequestId\":\"R\"}"}`, `{"statusCode": 200, "body": {"RequestId": "R"}}`},
		{"non-JSON body kept as a string", `{"statusCode":200,"body":"ok"}`, `{"statusCode": 200, "body": "ok"}`},
		{"markup not escaped", `{"m":"a<b>&c"}`, `{"m": "a<b>&c"}`},
		{"not JSON", `plain text`, `plain text`},
		{"long object broken over lines", `{"k":"` + strings.Repeat("x", 100) + `","n":[]}`,
			"{\n  \"k\": \"" + strings.Repeat("x", 100) + "\",\n  \"n\": []\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := readable([]byte(tt.payload)), tt.want; got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestNoLineTooWide: the readable form keeps lines within 100 columns
// where the values themselves allow it.
func TestNoLineTooWide(t *testing.T) {
	payload, err := os.ReadFile("../../function/testdata/seed-response.json")
	if err != nil {
		t.Skip(err)
	}
	for _, l := range strings.Split(readable(payload), "\n") {
		if len(l) > 100 && !regexp.MustCompile(`^\s*("[^"]*": )?"[^"]*",?$`).MatchString(l) {
			t.Errorf("line of %d columns: %s", len(l), l)
		}
	}
}
