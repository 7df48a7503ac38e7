package fcruntime

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of the HTTP front (Handler).
const (
	// HeaderRetryCount on POST /invoke sets InvokeOptions.RetryCount.
	HeaderRetryCount = "X-Fc-Retry-Count"
	// HeaderInvocationTimeout on POST /invoke overrides the function timeout:
	// whole seconds ("5") or a Go duration ("1500ms").
	HeaderInvocationTimeout = "X-Fc-Invocation-Timeout"
	// HeaderRequestID is read from POST /invoke (optional) and always answered.
	HeaderRequestID = "X-Fc-Request-Id"
	// HeaderErrorType marks a failed invocation, as FC's invoke API does.
	HeaderErrorType = "X-Fc-Error-Type"
	// UnhandledInvocationError is the HeaderErrorType value FC uses for every
	// function error; the function's own type is errorType in the body.
	UnhandledInvocationError = "UnhandledInvocationError"
)

// Handler is a small invoke API in front of the Server, for the command:
//
//   - POST /invoke: body is the event. Answers 200 with the function's
//     payload; or, like FC's InvokeFunction, 200 with the error JSON body
//     ({"errorMessage","errorType"[,"stackTrace"]}) and X-Fc-Error-Type:
//     UnhandledInvocationError for a function error, panic or timeout
//     (errorType FunctionTimeout). 502 with an error body if the process
//     died, 503 after Close, 400 for bad headers. X-Fc-Request-Id is echoed.
//   - GET /health: 200 {"status":"ok","pid":N} while the process runs, 503
//     once it has exited.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invoke", s.serveInvoke)
	mux.HandleFunc("GET /health", s.serveHealth)
	return mux
}

func (s *Server) serveInvoke(w http.ResponseWriter, r *http.Request) {
	event, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	var o InvokeOptions
	o.RequestID = r.Header.Get(HeaderRequestID)
	if v := r.Header.Get(HeaderRetryCount); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeJSONError(w, http.StatusBadRequest, "BadRequest", HeaderRetryCount+" must be a non-negative integer")
			return
		}
		o.RetryCount = n
	}
	if v := r.Header.Get(HeaderInvocationTimeout); v != "" {
		d, err := parseTimeout(v)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "BadRequest", HeaderInvocationTimeout+": "+err.Error())
			return
		}
		o.Timeout = d
	}
	res, err := s.Invoke(r.Context(), event, o)
	if res != nil {
		w.Header().Set(HeaderRequestID, res.RequestID)
	}
	switch {
	case errors.Is(err, ErrClosed):
		writeJSONError(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
	case errors.Is(err, ErrProcessExited):
		writeJSONError(w, http.StatusBadGateway, ErrorTypeProcessExited, err.Error())
	case err != nil:
		// The client went away; nobody reads this.
		writeJSONError(w, http.StatusServiceUnavailable, "Canceled", err.Error())
	case res.Error != nil:
		w.Header().Set(HeaderErrorType, UnhandledInvocationError)
		w.Header().Set("Content-Type", "application/json")
		b, _ := json.Marshal(res.Error)
		_, _ = w.Write(b)
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(res.Payload)
	}
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	select {
	case <-s.exited:
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "exited", "error": s.exitError().Error()})
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "pid": s.PID()})
	}
}

func parseTimeout(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return 0, errors.New("want positive seconds or a Go duration")
	}
	return d, nil
}

func writeJSONError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(marshalError(typ, msg))
}
