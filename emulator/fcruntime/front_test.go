package fcruntime

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	s, _ := start(t, Options{})
	front := httptest.NewServer(s.Handler())
	defer front.Close()

	tests := []struct {
		name          string
		event         string
		headers       map[string]string
		wantStatus    int
		wantErrHeader string
		wantErrType   string // errorType in the body; "" = a success payload
		check         func(t *testing.T, body []byte)
	}{
		{
			name: "success", event: `{"action":"echo"}`,
			headers:    map[string]string{HeaderRetryCount: "2", HeaderRequestID: "front-1"},
			wantStatus: http.StatusOK,
			check: func(t *testing.T, body []byte) {
				var v seen
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatalf("body %s: %v", body, err)
				}
				if v.RetryCount != 2 || v.RequestID != "front-1" {
					t.Errorf("function saw retry %d id %q, want 2 front-1", v.RetryCount, v.RequestID)
				}
			},
		},
		{
			name: "function error", event: `{"action":"error","errorType":"ValidationFailed","message":"no"}`,
			wantStatus: http.StatusOK, wantErrHeader: UnhandledInvocationError, wantErrType: "ValidationFailed",
		},
		{
			name: "timeout", event: `{"action":"sleep","sleepMs":1000}`,
			headers:    map[string]string{HeaderInvocationTimeout: "100ms"},
			wantStatus: http.StatusOK, wantErrHeader: UnhandledInvocationError, wantErrType: ErrorTypeTimeout,
		},
		{
			name: "bad retry count", event: `{}`,
			headers:    map[string]string{HeaderRetryCount: "x"},
			wantStatus: http.StatusBadRequest, wantErrType: "BadRequest",
		},
		{
			name: "bad timeout", event: `{}`,
			headers:    map[string]string{HeaderInvocationTimeout: "soon"},
			wantStatus: http.StatusBadRequest, wantErrType: "BadRequest",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, front.URL+"/invoke", strings.NewReader(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Fatalf("status %d, want %d (%s)", got, want, body)
			}
			if got, want := resp.Header.Get(HeaderErrorType), tt.wantErrHeader; got != want {
				t.Errorf("%s %q, want %q", HeaderErrorType, got, want)
			}
			if tt.wantStatus == http.StatusOK && resp.Header.Get(HeaderRequestID) == "" {
				t.Errorf("no %s header", HeaderRequestID)
			}
			if tt.wantErrType != "" {
				var fe FunctionError
				if err := json.Unmarshal(body, &fe); err != nil {
					t.Fatalf("body %s: %v", body, err)
				}
				if got, want := fe.Type, tt.wantErrType; got != want {
					t.Errorf("errorType %q, want %q (%s)", got, want, body)
				}
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}

	t.Run("health", func(t *testing.T) {
		resp, err := http.Get(front.URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if got, want := resp.StatusCode, http.StatusOK; got != want {
			t.Errorf("status %d, want %d", got, want)
		}
	})
}

func TestHandlerAfterProcessDied(t *testing.T) {
	s, _ := start(t, Options{})
	front := httptest.NewServer(s.Handler())
	defer front.Close()
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
	}{
		{"the dying invocation", http.MethodPost, "/invoke", `{"action":"exit","code":2}`, http.StatusBadGateway},
		{"a later invocation", http.MethodPost, "/invoke", `{"action":"echo"}`, http.StatusBadGateway},
		{"health", http.MethodGet, "/health", "", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, front.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Errorf("status %d, want %d (%s)", got, want, body)
			}
		})
	}
}
