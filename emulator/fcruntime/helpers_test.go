package fcruntime

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// testfnBinary is testdata/testfn, built once by TestMain.
var testfnBinary string

func TestMain(m *testing.M) {
	os.Exit(testutil.MainWithBinary(m, &testfnBinary, "testfn", "./testdata/testfn"))
}

// seen mirrors testdata/testfn's answer.
type seen struct {
	RequestID       string          `json:"requestId"`
	HasDeadline     bool            `json:"hasDeadline"`
	DeadlineMs      int64           `json:"deadlineMs"`
	AccessKeyID     string          `json:"accessKeyId"`
	AccessKeySecret string          `json:"accessKeySecret"`
	SecurityToken   string          `json:"securityToken"`
	RetryCount      int             `json:"retryCount"`
	FunctionName    string          `json:"functionName"`
	Handler         string          `json:"handler"`
	Memory          string          `json:"memory"`
	Timeout         int             `json:"timeout"`
	Region          string          `json:"region"`
	AccountID       string          `json:"accountId"`
	Qualifier       string          `json:"qualifier"`
	Env             string          `json:"env"`
	StartNs         int64           `json:"startNs"`
	EndNs           int64           `json:"endNs"`
	Event           json.RawMessage `json:"event"`
}

// start runs testfn under a Server that is closed when the test ends.
func start(t *testing.T, opts Options) (*Server, *LogBuffer) {
	t.Helper()
	logs := &LogBuffer{}
	if opts.Binary == "" {
		opts.Binary = testfnBinary
	}
	opts.Stdout, opts.Stderr = logs, logs
	s, err := NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("function logs:\n%s", logs.String())
		}
	})
	return s, logs
}

// invoke calls s.Invoke with a generous context and fails on an error.
func invoke(t *testing.T, s *Server, event string, o InvokeOptions) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.Invoke(ctx, []byte(event), o)
	if err != nil {
		t.Fatalf("Invoke(%s): %v", event, err)
	}
	return res
}

// decode unmarshals a successful result's payload.
func decode(t *testing.T, res *Result) seen {
	t.Helper()
	if res.Error != nil || res.TimedOut {
		t.Fatalf("invocation failed: %+v (timed out %v)", res.Error, res.TimedOut)
	}
	var v seen
	if err := json.Unmarshal(res.Payload, &v); err != nil {
		t.Fatalf("payload %s: %v", res.Payload, err)
	}
	return v
}

// waitFor polls cond until it holds; the limit only stops a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// delivered reports whether the call with id has been handed to the function.
func (s *Server) delivered(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.pending[id]
	return ok && c.delivered
}
