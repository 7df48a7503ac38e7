package ecsclient

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/retry"
)

const (
	testKeyID  = "LTAItestkeyid0000001"
	testSecret = "test-secret-value"
	testToken  = "CAIStesttoken+abc/def=="
)

var testCreds = function.Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret, SecurityToken: testToken}

// fastRetry retries without sleeping.
func fastRetry() retry.Policy {
	return retry.Policy{MaxAttempts: 3, Backoff: retry.ConstantBackoff(0), MinAttemptTime: -1}
}

// fakeECS is an httptest server answering by Action; it records every request.
type fakeECS struct {
	mu      sync.Mutex
	reqs    []url.Values
	answer  func(n int, q url.Values) (int, any) // n counts calls of that action, from 1
	counts  map[string]int
	srv     *httptest.Server
	rawBody func(n int, q url.Values) (int, string, bool)
}

func newFake(t *testing.T, answer func(n int, q url.Values) (int, any)) *fakeECS {
	f := &fakeECS{answer: answer, counts: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		q := r.Form
		f.mu.Lock()
		f.reqs = append(f.reqs, q)
		f.counts[q.Get("Action")]++
		n := f.counts[q.Get("Action")]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if f.rawBody != nil {
			if st, body, ok := f.rawBody(n, q); ok {
				w.WriteHeader(st)
				_, _ = w.Write([]byte(body))
				return
			}
		}
		st, body := f.answer(n, q)
		w.WriteHeader(st)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeECS) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[action]
}

func (f *fakeECS) requests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.reqs...)
}

func ok(extra map[string]any) map[string]any {
	m := map[string]any{"RequestId": "REQ-OK"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func apiErr(code string) map[string]any {
	return map[string]any{"RequestId": "REQ-ERR", "HostId": "ecs.cn-hangzhou.aliyuncs.com", "Code": code,
		"Message": "msg for " + code, "Recommend": "https://api.aliyun.com/troubleshoot?q=" + code}
}

func connect(t *testing.T, c *Connector) *Client {
	t.Helper()
	e, err := c.Connect(context.Background(), testCreds)
	if err != nil {
		t.Fatal(err)
	}
	return e.(*Client)
}

func newTestConnector(endpoint string) *Connector {
	return New(Config{Endpoint: endpoint, Retry: fastRetry(), ConnectTimeout: 2 * time.Second})
}

func httptestTLS(t *testing.T, f *fakeECS) *httptest.Server {
	srv := httptest.NewUnstartedServer(f.srv.Config.Handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}
