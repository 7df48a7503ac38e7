package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/events"
)

// The HTTP trigger: an HTTP request in, an HTTP response out. The domain
// error (*Error) carries a code, a message and details; which HTTP status
// a code means is this adapter's decision alone (httpStatus).

// MaxHTTPBodyBytes caps an HTTP trigger's body; larger ones get 413.
const MaxHTTPBodyBytes = 64 << 10

// Codes only the HTTP trigger answers with.
const (
	codeMethodNotAllowed     = "MethodNotAllowed"
	codeUnsupportedMediaType = "UnsupportedMediaType"
	codePayloadTooLarge      = "PayloadTooLarge"
)

// httpStatus is the status an HTTP caller gets for e: the function's codes
// by what they mean for the caller; an ECS code by what ECS's answer says
// about the request (refused: 409; throttled: 503, try later; ECS failed:
// 502), not ECS's own status, which describes ECS's caller, the function.
func httpStatus(e *Error) int {
	switch e.Code {
	case ErrValidationFailed:
		return http.StatusBadRequest
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case codePayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case ErrDiskNotAllowed, ErrCooldownActive, ErrSnapshotGroupNotReady, ErrPlanRefused, ErrRollbackInProgress, ErrGuardRecordLost, ErrNothingToUndo:
		return http.StatusConflict
	case ErrUnhealthy, ErrUndoneAfterUnhealthy, ErrUndoFailed, ErrHealthCheckUnavailable:
		return http.StatusBadGateway
	case ErrHealthCheckPending:
		return http.StatusGatewayTimeout
	case ErrPartialFailure:
		return http.StatusMultiStatus
	case ErrClaimTimedOut:
		return http.StatusServiceUnavailable
	case ErrECSUnreachable, ErrBackupFailed, ErrOutcomeUnknown, ErrInstanceNotRestarted:
		return http.StatusBadGateway
	case ErrDeadlineExceeded:
		return http.StatusGatewayTimeout
	case ErrCredentialsMissing, ErrInternal:
		return http.StatusInternalServerError
	}
	var ae *APIError
	switch {
	case !errors.As(e, &ae):
		return http.StatusInternalServerError
	case ae.Throttled():
		return http.StatusServiceUnavailable
	case ae.HTTPStatus >= 500 || ae.Code == "Forbidden.RAM":
		return http.StatusBadGateway // ECS failed, or the function's role lacks a permission
	}
	return http.StatusConflict
}

// runHTTP answers an HTTP trigger. It never returns an FC error: every
// outcome is an HTTP status, and bad input is a 4xx, never a 500.
func (h *Handler) runHTTP(ctx context.Context, inv Invocation, event []byte) *events.HTTPTriggerResponse {
	var he events.HTTPTriggerEvent
	if err := json.Unmarshal(event, &he); err != nil {
		return httpError(shapeError("HTTP trigger event", err), nil)
	}
	if m := strings.ToUpper(he.Method()); m != http.MethodPost {
		return httpError(&Error{Code: codeMethodNotAllowed, Message: fmt.Sprintf("method %s is not allowed: POST the rollback request as JSON", m)}, map[string]string{"Allow": http.MethodPost})
	}
	if ct := he.Header("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return httpError(&Error{Code: codeUnsupportedMediaType, Message: "the body must be JSON (Content-Type: application/json)"}, nil)
		}
	}
	body, err := he.DecodedBody(MaxHTTPBodyBytes)
	if err != nil {
		if errors.Is(err, events.ErrBodyTooLarge) {
			return httpError(&Error{Code: codePayloadTooLarge, Message: fmt.Sprintf("the body is larger than %d bytes", MaxHTTPBodyBytes)}, nil)
		}
		return httpError(ValidationError([]Violation{{Field: "body", Rule: "base64", Message: "isBase64Encoded is set but the body is not valid base64"}}), nil)
	}
	req, err := DecodeRequest(body)
	if err != nil {
		return httpError(asError(err), nil)
	}
	if v, ok := he.Query("dryRun"); ok {
		dry, perr := strconv.ParseBool(v)
		if perr != nil {
			return httpError(ValidationError([]Violation{{Field: "dryRun", Rule: "bool", Message: "query parameter dryRun must be true or false"}}), nil)
		}
		req.DryRun = req.DryRun || dry // a dry run asked anywhere wins
	}
	if key := he.Header("Idempotency-Key"); key != "" && req.IdempotencyKey == "" {
		req.IdempotencyKey = key
	}
	res, err := h.Run(ctx, inv, req)
	if err != nil {
		return httpError(asError(err), nil)
	}
	return httpJSON(http.StatusOK, res, nil)
}

// httpBody is the JSON an HTTP caller gets for an error.
type httpBody struct {
	Code       string      `json:"Code"`
	Message    string      `json:"Message"`
	RequestID  string      `json:"RequestId,omitempty"`
	Violations []Violation `json:"Violations,omitempty"`
	Result     *Result     `json:"Result,omitempty"`
}

func httpError(e *Error, headers map[string]string) *events.HTTPTriggerResponse {
	return httpJSON(httpStatus(e), httpBody{Code: e.Code, Message: e.Message, RequestID: e.RequestID, Violations: e.Violations, Result: e.Result}, headers)
}

// httpJSON encodes v; encoding/json escapes <, > and &, so request data
// echoed in a message is never reflected as markup.
func httpJSON(status int, v any, headers map[string]string) *events.HTTPTriggerResponse {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Code":"FunctionInternalError","Message":"encoding the answer failed"}`)
	}
	hs := map[string]string{"Content-Type": "application/json; charset=utf-8", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
	for k, v := range headers {
		hs[k] = v
	}
	return &events.HTTPTriggerResponse{StatusCode: status, Headers: hs, Body: string(b)}
}
