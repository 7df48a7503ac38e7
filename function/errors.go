package function

import (
	"errors"
	"fmt"
	"strings"
)

// Error types the function reports to FC as errorType. CloudFlow Retry and
// Catch clauses (flows/) and operators' alert rules match on these names, so
// they are part of the function's interface: add, never rename. An ECS
// rejection is reported with the ECS error code itself (e.g.
// "InvalidDiskId.NotFound"); the names below are the function's own.
const (
	// ErrValidationFailed: the event is malformed or breaks a rule; nothing was called.
	ErrValidationFailed = "ValidationFailed"
	// ErrPartialFailure: some disks were reset and some were not, and the
	// request asked for that to be an error (FailOnPartial / FAIL_ON_PARTIAL).
	ErrPartialFailure = "PartialFailure"
	// ErrECSUnreachable: no answer from the ECS endpoint (connection refused,
	// dropped, timed out) after the retries the deadline allowed.
	ErrECSUnreachable = "ECSUnreachable"
	// ErrDeadlineExceeded: the invocation's deadline came before the work finished.
	ErrDeadlineExceeded = "DeadlineExceeded"
	// ErrCredentialsMissing: neither the invocation nor the environment has credentials.
	ErrCredentialsMissing = "CredentialsMissing"
	// ErrDiskNotAllowed: a disk lacks the ALLOWED_DISK_TAG tag; nothing was reset.
	ErrDiskNotAllowed = "DiskNotAllowed"
	// ErrCooldownActive: a disk was reset less than ROLLBACK_COOLDOWN ago.
	ErrCooldownActive = "CooldownActive"
	// ErrSnapshotGroupNotReady: the instance snapshot is not accomplished, or
	// no accomplished one exists.
	ErrSnapshotGroupNotReady = "SnapshotGroupNotReady"
	// ErrBackupFailed: BackupBeforeReset could not take a usable snapshot;
	// nothing was reset.
	ErrBackupFailed = "BackupFailed"
	// ErrPlanRefused: a real run failed the checks its dry run makes (a
	// missing disk, a snapshot of another disk, an instance that cannot be
	// stopped, ...) for some pairs; the whole request was refused before
	// anything was stopped or reset. OperationProgressSet names each pair's
	// reason.
	ErrPlanRefused = "PlanRefused"
	// ErrOutcomeUnknown: ECS may have reset some disks (a call got no
	// answer, or a 5xx answer, after it was sent) and shows no sign either
	// way. Those disks are OperationStatus "Unknown"; a retry with the same
	// idempotency key resends them.
	ErrOutcomeUnknown = "OutcomeUnknown"
	// ErrInstanceNotRestarted: an instance this rollback stopped (or was
	// asked to start) is not Running at the end. It carries the tag
	// ecs-disk-rollback:stopped-by, so a retry or a later rollback starts it.
	ErrInstanceNotRestarted = "InstanceNotRestarted"
	// ErrBatchIncomplete: an event of an EventBridge batch failed in a way
	// a retry can fix (throttling, 5xx, unreachable, deadline, unknown
	// outcome); the events already done are duplicates on the retry.
	ErrBatchIncomplete = "BatchIncomplete"
	// ErrRollbackInProgress: another invocation, with another idempotency
	// key, holds a live claim on a disk of this request.
	ErrRollbackInProgress = "RollbackInProgress"
	// ErrGuardRecordLost: an earlier invocation claimed a disk and ended
	// without recording whether it reset it; until its claim goes stale the
	// disk is refused to other keys (a retry with that key re-resolves it).
	ErrGuardRecordLost = "GuardRecordLost"
	// ErrClaimTimedOut: ECS answered the claim's tag calls too slowly to
	// rule out a concurrent rollback; nothing was reset; try again.
	ErrClaimTimedOut = "ClaimTimedOut"
	// ErrUnhealthy: the rollback was done, the instances run again, and the
	// health gate (HealthCheck) found one unhealthy; OnUnhealthy Report.
	ErrUnhealthy = "Unhealthy"
	// ErrUndoneAfterUnhealthy: the gate failed, OnUnhealthy Undo reset the
	// disks to the backups the rollback took and the gate passed again.
	ErrUndoneAfterUnhealthy = "UndoneAfterUnhealthy"
	// ErrUndoFailed: the gate failed and the undo did not end healthy
	// (a step failed, or the gate failed again); Result.Undo says which.
	ErrUndoFailed = "UndoFailed"
	// ErrHealthCheckPending: the gate had not concluded when the invocation
	// deadline came; nothing is assumed healthy.
	ErrHealthCheckPending = "HealthCheckPending"
	// ErrHealthCheckUnavailable: the gate could not check (the Cloud
	// Assistant agent is missing or stopped, HEALTH_COMMAND_ID unset or
	// unknown, no address to connect to, the status API failing).
	ErrHealthCheckUnavailable = "HealthCheckUnavailable"
	// ErrNothingToUndo: UndoRollback found no backup recorded for the
	// instance's disks (its last rollback took none, or was undone).
	ErrNothingToUndo = "NothingToUndo"
	// ErrInternal: a bug or misconfiguration in the function; the message
	// says what. (Distinct from ECS's own "InternalError", a 5xx from ECS.)
	ErrInternal = "FunctionInternalError"
)

// ThrottlingCodes are the ECS codes that mean "slow down"; flows retry on them.
var ThrottlingCodes = []string{"Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable"}

// FunctionErrorTypes lists every errorType the function emits under its own
// name (ECS codes come on top). The flow definitions are checked against it.
func FunctionErrorTypes() []string {
	return []string{ErrValidationFailed, ErrPartialFailure, ErrECSUnreachable, ErrDeadlineExceeded,
		ErrCredentialsMissing, ErrDiskNotAllowed, ErrCooldownActive, ErrSnapshotGroupNotReady, ErrBackupFailed, ErrInternal,
		ErrPlanRefused, ErrOutcomeUnknown, ErrInstanceNotRestarted, ErrBatchIncomplete, ErrRollbackInProgress, ErrGuardRecordLost, ErrClaimTimedOut,
		ErrUnhealthy, ErrUndoneAfterUnhealthy, ErrUndoFailed, ErrHealthCheckPending, ErrHealthCheckUnavailable, ErrNothingToUndo}
}

// Violation is one broken rule of a request.
type Violation struct {
	Field   string `json:"Field"`   // JSON path, e.g. Disk[2].SnapshotId
	Rule    string `json:"Rule"`    // the rule's name, e.g. required, diskid, max
	Message string `json:"Message"` // for people
}

// Error is what the function returns when it fails. Code becomes FC's
// errorType; Message is safe to show (no secrets, request data escaped by
// JSON encoding only).
type Error struct {
	Code       string      `json:"Code"`
	Message    string      `json:"Message"`
	RequestID  string      `json:"RequestId,omitempty"` // the ECS request id, when ECS answered
	Violations []Violation `json:"Violations,omitempty"`
	// Result carries what was done before the failure (e.g. a partial failure).
	Result *Result `json:"Result,omitempty"`
	cause  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.RequestID != "" {
		b.WriteString(" (ECS RequestId ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.cause }

// Errorf makes an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ValidationError reports every violation at once.
func ValidationError(vs []Violation) *Error {
	msgs := make([]string, 0, len(vs))
	for _, v := range vs {
		msgs = append(msgs, v.Field+": "+v.Message)
	}
	return &Error{Code: ErrValidationFailed, Message: "invalid request: " + strings.Join(msgs, "; "), Violations: vs}
}

// APIError is a rejection from the ECS API, with the fields of its error body.
type APIError struct {
	Code       string
	Message    string
	RequestID  string
	HostID     string
	Recommend  string
	HTTPStatus int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("ECS %s (HTTP %d): %s (RequestId %s)", e.Code, e.HTTPStatus, e.Message, e.RequestID)
}

// Throttled reports whether ECS asked to slow down.
func (e *APIError) Throttled() bool {
	for _, c := range ThrottlingCodes {
		if e.Code == c {
			return true
		}
	}
	return false
}

// TransportError is a call that got no answer from ECS. Op is the action;
// Sent reports whether the request may have reached the server (so a
// mutating call may have been applied). The message never holds the URL.
type TransportError struct {
	Op      string
	Sent    bool
	Timeout bool
	Message string
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("ECS %s: no answer: %s", e.Op, e.Message)
}

// FromECS turns an ECS-side failure into the function's *Error: an
// *APIError keeps its ECS code, status and request id.
func FromECS(action string, err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return &Error{Code: ae.Code, Message: fmt.Sprintf("%s refused: %s", action, ae.Message), RequestID: ae.RequestID, cause: err}
	}
	var te *TransportError
	if errors.As(err, &te) {
		return &Error{Code: ErrECSUnreachable, Message: te.Error(), cause: err}
	}
	if errors.Is(err, errDeadline) {
		return &Error{Code: ErrDeadlineExceeded, Message: fmt.Sprintf("%s: %v", action, err), cause: err}
	}
	return &Error{Code: ErrInternal, Message: fmt.Sprintf("%s: %v", action, err), cause: err}
}

// errDeadline marks work cut short by the invocation deadline.
var errDeadline = errors.New("invocation deadline reached")
