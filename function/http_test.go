package function

import (
	"net/http"
	"testing"
)

func TestHTTPStatusIsTheAdaptersChoice(t *testing.T) {
	ecs := func(code string, status int) *Error {
		return FromECS("ResetDisks", &APIError{Code: code, HTTPStatus: status})
	}
	tests := []struct {
		name string
		err  *Error
		want int
	}{
		{"validation", ValidationError([]Violation{{Field: "RegionId", Rule: "required", Message: "is required"}}), http.StatusBadRequest},
		{"method", &Error{Code: codeMethodNotAllowed}, http.StatusMethodNotAllowed},
		{"plan refused", &Error{Code: ErrPlanRefused}, http.StatusConflict},
		{"in progress", &Error{Code: ErrRollbackInProgress}, http.StatusConflict},
		{"record lost", &Error{Code: ErrGuardRecordLost}, http.StatusConflict},
		{"claim slow", &Error{Code: ErrClaimTimedOut}, http.StatusServiceUnavailable},
		{"unknown outcome", &Error{Code: ErrOutcomeUnknown}, http.StatusBadGateway},
		{"instance down", &Error{Code: ErrInstanceNotRestarted}, http.StatusBadGateway},
		{"deadline", &Error{Code: ErrDeadlineExceeded}, http.StatusGatewayTimeout},
		{"partial", &Error{Code: ErrPartialFailure}, http.StatusMultiStatus},
		// ECS's own status describes ECS's caller (the function), not the
		// HTTP caller: a 404 for a missing disk is a refused request (409).
		{"ECS refusal", ecs("InvalidDiskId.NotFound", 404), http.StatusConflict},
		{"ECS throttling", ecs("Throttling.User", 400), http.StatusServiceUnavailable},
		{"ECS failure", ecs("InternalError", 500), http.StatusBadGateway},
		{"role lacks permission", ecs("Forbidden.RAM", 403), http.StatusBadGateway},
		{"unknown code, no ECS cause", &Error{Code: "Whatever"}, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := httpStatus(tt.err); got != tt.want {
				t.Errorf("httpStatus(%s) = %d, want %d", tt.err.Code, got, tt.want)
			}
		})
	}
}
