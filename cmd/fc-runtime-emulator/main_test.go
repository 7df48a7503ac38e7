package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// testfn is emulator/fcruntime/testdata/testfn, built once by TestMain.
var testfn string

func TestMain(m *testing.M) {
	// The tests must not depend on the shell's ECS_ENDPOINT or credentials.
	getenv = func(string) string { return "" }
	os.Exit(testutil.MainWithBinary(m, &testfn, "testfn", "../../emulator/fcruntime/testdata/testfn"))
}

// writeEvent puts an event in a temp file and returns its path.
func writeEvent(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeAll reads the stream of indented JSON objects printed in -event mode.
func decodeAll(t *testing.T, out string) []map[string]json.RawMessage {
	t.Helper()
	var all []map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var m map[string]json.RawMessage
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("stdout is not a stream of JSON objects: %v\n%s", err, out)
		}
		all = append(all, m)
	}
	return all
}

func keys(m map[string]json.RawMessage) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func TestEventMode(t *testing.T) {
	echo := writeEvent(t, "echo.json", `{"action":"echo"}`)
	fail := writeEvent(t, "fail.json", `{"action":"error","errorType":"ValidationFailed","message":"bad"}`)
	die := writeEvent(t, "die.json", `{"action":"exit","code":4}`)
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		// per printed object: its sorted keys, and a substring of "result" or "error"
		wantKeys []string
		wantIn   []string
	}{
		{
			name:     "one success",
			args:     []string{"-event", echo, "-access-key-id", "AK", "-access-key-secret", "SK", "-retry-count", "3", "-env", "TESTFN_ENV=hello", "-env", "ECS_ENDPOINT=http://127.0.0.1:8090"},
			wantKeys: []string{"durationMs,requestId,result"},
			wantIn:   []string{`"accessKeyId":"AK","accessKeySecret":"SK"`},
		},
		{
			name:     "flags reach the function",
			args:     []string{"-event", echo, "-retry-count", "3", "-env", "TESTFN_ENV=hello", "-function-name", "fn1", "-region", "cn-beijing"},
			wantKeys: []string{"durationMs,requestId,result"},
			wantIn:   []string{`"retryCount":3,"functionName":"fn1","handler":"main","memory":"512","timeout":60,"region":"cn-beijing"`},
		},
		{
			name:     "error, in order with successes",
			args:     []string{"-event", echo, "-event", fail, "-event", "-"},
			stdin:    `{"action":"echo","from":"stdin"}`,
			wantCode: 1,
			wantKeys: []string{"durationMs,requestId,result", "durationMs,error,requestId", "durationMs,requestId,result"},
			wantIn:   []string{`"action":"echo"`, `{"errorType":"ValidationFailed","errorMessage":"bad"}`, `"from":"stdin"`},
		},
		{
			name:     "process dies",
			args:     []string{"-event", die, "-event", echo},
			wantCode: 1,
			wantKeys: []string{"durationMs,error,requestId"},
			wantIn:   []string{`"errorType":"ProcessExited"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr fcruntime.LogBuffer
			args := append([]string{"-binary", testfn}, tt.args...)
			code := run(context.Background(), args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if got, want := code, tt.wantCode; got != want {
				t.Errorf("exit code %d, want %d\nstderr:\n%s", got, want, stderr.String())
			}
			objs := decodeAll(t, stdout.String())
			if got, want := len(objs), len(tt.wantKeys); got != want {
				t.Fatalf("printed %d results, want %d:\n%s", got, want, stdout.String())
			}
			for i, o := range objs {
				if got, want := keys(o), tt.wantKeys[i]; got != want {
					t.Errorf("result %d keys %s, want %s", i, got, want)
				}
				var compact bytes.Buffer
				_ = json.Compact(&compact, append(append([]byte{}, o["result"]...), o["error"]...))
				body := compact.String()
				if got, want := body, tt.wantIn[i]; !strings.Contains(got, want) {
					t.Errorf("result %d: %s does not contain %s", i, got, want)
				}
			}
			if !strings.Contains(stdout.String(), "\n  \"requestId\"") {
				t.Errorf("output is not indented:\n%s", stdout.String())
			}
			if strings.Contains(stdout.String(), "FC Invoke Start") || !strings.Contains(stderr.String(), "FC Invoke Start") {
				t.Errorf("function logs belong on stderr only")
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"unknown flag", []string{"-nope"}, 2},
		{"stray argument", []string{"-binary", testfn, "extra"}, 2},
		{"missing event file", []string{"-binary", testfn, "-event", "/nonexistent.json"}, 1},
		{"missing binary", []string{"-binary", "/nonexistent/main", "-event", "-"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr fcruntime.LogBuffer
			code := run(context.Background(), tt.args, strings.NewReader("{}"), &stdout, &stderr)
			if got, want := code, tt.wantCode; got != want {
				t.Errorf("exit code %d, want %d\nstderr:\n%s", got, want, stderr.String())
			}
			if stderr.String() == "" {
				t.Error("nothing said on stderr")
			}
		})
	}
}

func TestListenMode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr fcruntime.LogBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-binary", testfn, "-listen", "127.0.0.1:0"}, strings.NewReader(""), &stdout, &stderr)
	}()

	re := regexp.MustCompile(`fc-runtime-emulator listening on (http://\S+)`)
	var url string
	limit := time.Now().Add(20 * time.Second)
	for url == "" {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("run returned %d before listening\nstderr:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(limit) {
			t.Fatalf("never listened; stdout %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	tests := []struct {
		name          string
		event         string
		wantErrHeader string
		wantIn        string
	}{
		{"success", `{"action":"echo"}`, "", `"action":"echo"`},
		{"function error", `{"action":"error","errorType":"Boom","message":"m"}`, "UnhandledInvocationError", `"errorType":"Boom"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(url+"/invoke", "application/json", strings.NewReader(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if got, want := resp.StatusCode, http.StatusOK; got != want {
				t.Errorf("status %d, want %d", got, want)
			}
			if got, want := resp.Header.Get("X-Fc-Error-Type"), tt.wantErrHeader; got != want {
				t.Errorf("X-Fc-Error-Type %q, want %q", got, want)
			}
			if !strings.Contains(string(body), tt.wantIn) {
				t.Errorf("body %s does not contain %s", body, tt.wantIn)
			}
		})
	}

	cancel()
	if got, want := <-done, 0; got != want {
		t.Errorf("exit code %d, want %d\nstderr:\n%s", got, want, stderr.String())
	}
	if resp, err := http.Get(url + "/health"); err == nil {
		resp.Body.Close()
		t.Error("still serving after the context ended")
	}
}

// TestRealCloudGuard: with credentials and no ECS endpoint the function
// would call real ECS; that is refused unless -real-cloud says it is meant.
func TestRealCloudGuard(t *testing.T) {
	echo := writeEvent(t, "echo.json", `{"action":"echo"}`)
	tests := []struct {
		name     string
		shell    map[string]string // the inherited environment
		args     []string
		wantCode int
		wantErr  string // a substring of stderr
	}{
		{"shell credentials, no endpoint: refused", map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIreal", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"},
			nil, 2, "refusing to run: credentials are set (-access-key-id or $ALIBABA_CLOUD_ACCESS_KEY_ID) and no ECS endpoint is"},
		{"flag credentials, no endpoint: refused", nil, []string{"-access-key-id", "AK", "-access-key-secret", "SK"}, 2, "add -real-cloud"},
		{"credentials through -env, no endpoint: refused", nil, []string{"-env", "ALIBABA_CLOUD_ACCESS_KEY_ID=AK"}, 2, "-env ECS_ENDPOINT=http://127.0.0.1:8090"},
		{"refused in -listen mode too", map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIreal"}, []string{"-listen", "127.0.0.1:0"}, 2, "refusing to run"},
		{"endpoint in the shell: runs", map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIreal", "ECS_ENDPOINT": "http://127.0.0.1:8090"}, nil, 0, ""},
		{"endpoint through -env: runs", map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIreal"}, []string{"-env", "ECS_ENDPOINT=http://127.0.0.1:8090"}, 0, ""},
		{"-real-cloud: runs, and says so", map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIreal"}, []string{"-real-cloud"}, 0, "-real-cloud: the function may call the real ECS API"},
		{"no credentials at all: runs", nil, nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := getenv
			defer func() { getenv = saved }()
			getenv = func(k string) string { return tt.shell[k] }
			var stdout, stderr fcruntime.LogBuffer
			args := append([]string{"-binary", testfn}, tt.args...)
			if !slices.Contains(tt.args, "-listen") {
				args = append(args, "-event", echo)
			}
			if got, want := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr), tt.wantCode; got != want {
				t.Errorf("exit code %d, want %d\nstderr:\n%s", got, want, stderr.String())
			}
			if got := stderr.String(); !strings.Contains(got, tt.wantErr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantErr, got)
			}
			if tt.wantCode == 2 && strings.Contains(stderr.String(), "FC Invoke Start") {
				t.Error("the function was invoked although the run was refused")
			}
		})
	}
}
