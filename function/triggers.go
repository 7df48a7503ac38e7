package function

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/events"
)

// MaxHTTPBodyBytes caps an HTTP trigger's body; larger ones get 413.
const MaxHTTPBodyBytes = 64 << 10

// dispatch recognises the event's envelope and runs what it carries. The
// detection rules are events.Detect's; each envelope's answer is the form
// its caller understands (a Result; an HTTP response object; one outcome
// per event for batches).
func (h *Handler) dispatch(ctx context.Context, inv Invocation, event []byte) (any, error) {
	if len(event) > MaxEventBytes {
		return nil, ValidationError([]Violation{{Field: "(event)", Rule: "max", Message: fmt.Sprintf("event is %d bytes; at most %d are accepted", len(event), MaxEventBytes)}})
	}
	if IsFleetEvent(event) { // CloudFlow's fleet flow (fleet.go)
		return h.runFleet(ctx, inv, event)
	}
	kind, err := events.Detect(event)
	if err != nil {
		return nil, ValidationError([]Violation{{Field: "(event)", Rule: "shape", Message: "not a known event shape: expected " + events.AcceptedShapes}})
	}
	switch kind {
	case events.KindTimer:
		return h.runTimer(ctx, inv, event)
	case events.KindHTTP:
		return h.runHTTP(ctx, inv, event), nil
	case events.KindCloudEvent:
		var ce events.CloudEvent
		if err := json.Unmarshal(event, &ce); err != nil {
			return nil, shapeError("CloudEvent", err)
		}
		return h.runCloudEvent(ctx, inv, &ce)
	case events.KindCloudEventBatch:
		return h.runBatch(ctx, inv, event)
	case events.KindCloudMonitorAlarm:
		var alarm events.CloudMonitorAlarm
		if err := json.Unmarshal(event, &alarm); err != nil {
			return nil, shapeError("CloudMonitor alarm", err)
		}
		return h.runAlarm(ctx, inv, &alarm, "", "")
	default:
		return h.RunJSON(ctx, inv, event)
	}
}

func shapeError(shape string, err error) *Error {
	return ValidationError([]Violation{{Field: "(event)", Rule: "json", Message: "malformed " + shape + ": " + jsonProblem(err)}})
}

// runTimer runs the request a timer trigger carries as its payload string.
// The idempotency key is the trigger's name and firing time, so a timer
// delivered twice resets once.
func (h *Handler) runTimer(ctx context.Context, inv Invocation, event []byte) (*Result, error) {
	var te events.TimerEvent
	if err := json.Unmarshal(event, &te); err != nil {
		return nil, shapeError("timer trigger event", err)
	}
	payload := strings.TrimSpace(te.Payload)
	if payload == "" {
		return nil, ValidationError([]Violation{{Field: "payload", Rule: "required", Message: fmt.Sprintf("timer trigger %q has an empty payload: set it to the rollback request JSON", te.TriggerName)}})
	}
	req, err := DecodeRequest([]byte(payload))
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			fe.Message = fmt.Sprintf("timer trigger %q payload: %s", te.TriggerName, fe.Message)
			for i := range fe.Violations {
				fe.Violations[i].Field = "payload." + fe.Violations[i].Field
			}
		}
		return nil, err
	}
	if req.IdempotencyKey == "" {
		req.IdempotencyKey, req.keyOrigin = keyFrom("timer", te.TriggerName+"@"+te.TriggerTime), "timer"
	}
	return h.Run(ctx, inv, req)
}

// keyFrom makes an idempotency key from a trigger's identity, hashing it
// when it holds characters the key format does not allow.
func keyFrom(source, id string) string {
	k := source + ":" + id
	if isIdempotencyKey(k) {
		return k
	}
	sum := sha256.Sum256([]byte(id))
	return source + ":" + hex.EncodeToString(sum[:16])
}

// runCloudEvent runs one EventBridge event: a rollback request in data, or
// a CloudMonitor alarm in data.
func (h *Handler) runCloudEvent(ctx context.Context, inv Invocation, ce *events.CloudEvent) (*Result, error) {
	data := ce.DataJSON()
	if len(data) == 0 {
		return nil, ValidationError([]Violation{{Field: "data", Rule: "required", Message: fmt.Sprintf("event %q (type %q) has no data", ce.ID, ce.Type)}})
	}
	kind, err := events.Detect(data)
	if err == nil && kind == events.KindCloudMonitorAlarm {
		var alarm events.CloudMonitorAlarm
		if err := json.Unmarshal(data, &alarm); err != nil {
			return nil, shapeError("CloudMonitor alarm in data", err)
		}
		return h.runAlarm(ctx, inv, &alarm, ce.ID, ce.AliyunRegionID)
	}
	if err != nil || kind != events.KindDirect {
		return nil, ValidationError([]Violation{{Field: "data", Rule: "shape", Message: fmt.Sprintf("event %q (type %q): data is neither a rollback request nor a CloudMonitor alarm", ce.ID, ce.Type)}})
	}
	req, err := DecodeRequest(data)
	if err != nil {
		return nil, err
	}
	if req.IdempotencyKey == "" && ce.ID != "" {
		req.IdempotencyKey, req.keyOrigin = keyFrom("eb", ce.ID), "eb"
	}
	return h.Run(ctx, inv, req)
}

// runAlarm acts on a CloudMonitor alarm: only ALERT, only with the
// ALARM_ROLLBACK opt-in, and then rolls the alarmed instance back to its
// newest accomplished instance snapshot.
func (h *Handler) runAlarm(ctx context.Context, inv Invocation, alarm *events.CloudMonitorAlarm, eventID, regionID string) (*Result, error) {
	nothing := func(status, msg string) *Result {
		return &Result{OperationProgressSet: OperationProgressSet{OperationProgress: []OperationProgress{}}, Summary: Summary{Status: status, Message: msg}}
	}
	if !alarm.AlertState.Firing() {
		return nothing(StatusNothingToDo, fmt.Sprintf("alarm %q is %s, not ALERT: nothing to roll back", alarm.AlertName, alarm.AlertState)), nil
	}
	if !h.Config.AlarmRollback {
		return nothing(StatusRefused, fmt.Sprintf("alarm %q is ALERT, but alarm-driven rollback is off: set ALARM_ROLLBACK=true to let alarms roll instances back", alarm.AlertName)), nil
	}
	instanceID, err := alarm.InstanceID()
	if err != nil || instanceID == "" {
		return nil, ValidationError([]Violation{{Field: "dimensions", Rule: "instanceid", Message: fmt.Sprintf("alarm %q names no instanceId in its dimensions", alarm.AlertName)}})
	}
	if regionID == "" {
		regionID = alarm.RegionID
	}
	if regionID == "" {
		regionID = inv.Region
	}
	req := &Request{RegionId: regionID, InstanceId: instanceID, Latest: true,
		StopInstance: h.Config.AlarmStopStart, StartInstance: h.Config.AlarmStopStart, Wait: h.Config.AlarmStopStart}
	switch {
	case eventID != "":
		req.IdempotencyKey, req.keyOrigin = keyFrom("eb", eventID), "eb"
	default:
		req.IdempotencyKey, req.keyOrigin = keyFrom("cms", alarm.RuleID+"@"+alarm.Timestamp.String()+"@"+instanceID), "cms"
	}
	return h.Run(ctx, inv, req)
}

// BatchOutcome is one event's answer within a batch, in delivery order.
type BatchOutcome struct {
	ID     string  `json:"id,omitempty"`
	Result *Result `json:"result,omitempty"`
	Error  *Error  `json:"error,omitempty"`
}

// runBatch runs a JSON array of CloudEvents one after the other, so their
// order holds and the ECS rate limits are respected; a failing event does
// not stop the others.
func (h *Handler) runBatch(ctx context.Context, inv Invocation, event []byte) ([]BatchOutcome, error) {
	var batch []json.RawMessage
	if err := json.Unmarshal(event, &batch); err != nil {
		return nil, shapeError("event batch", err)
	}
	out := make([]BatchOutcome, 0, len(batch))
	for i, raw := range batch {
		var ce events.CloudEvent
		var res *Result
		var err error
		if jerr := json.Unmarshal(raw, &ce); jerr != nil {
			err = ValidationError([]Violation{{Field: fmt.Sprintf("[%d]", i), Rule: "json", Message: "not a CloudEvent: " + jsonProblem(jerr)}})
		} else {
			res, err = h.runCloudEvent(ctx, inv, &ce)
		}
		o := BatchOutcome{ID: ce.ID, Result: res}
		if err != nil {
			o.Error = asError(err)
		}
		out = append(out, o)
	}
	var retry []string
	for i, o := range out {
		if o.Error != nil && retryFixes(o.Error) {
			retry = append(retry, fmt.Sprintf("[%d] %s: %s", i, firstNonEmpty(o.ID, "(no id)"), o.Error.Code))
		}
	}
	if len(retry) > 0 {
		// Answering success would make EventBridge drop these events; the
		// ones already done are duplicates (idempotency keys) on the retry.
		b, _ := json.Marshal(out)
		return nil, &Error{Code: ErrBatchIncomplete, Message: fmt.Sprintf("%d of %d events failed in a way a retry can fix: %s; the events done are duplicates on the retry; outcomes: %s",
			len(retry), len(out), strings.Join(retry, ", "), b)}
	}
	return out, nil
}

// retryFixes reports whether an event's failure may pass on a retry:
// throttling, a 5xx or no answer from ECS, the deadline, an unknown
// outcome, a rollback in progress elsewhere, a slow claim, an instance not
// yet running again.
func retryFixes(e *Error) bool {
	switch e.Code {
	case ErrECSUnreachable, ErrDeadlineExceeded, ErrOutcomeUnknown, ErrRollbackInProgress, ErrClaimTimedOut, ErrInstanceNotRestarted:
		return true
	}
	return slices.Contains(ThrottlingCodes, e.Code) || strings.HasPrefix(e.Code, "Throttling") || e.HTTPStatus >= 500
}

func asError(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return &Error{Code: ErrInternal, Message: err.Error()}
}

// runHTTP answers an HTTP trigger. It never returns an FC error: every
// outcome is an HTTP status, and bad input is a 4xx, never a 500.
func (h *Handler) runHTTP(ctx context.Context, inv Invocation, event []byte) *events.HTTPTriggerResponse {
	var he events.HTTPTriggerEvent
	if err := json.Unmarshal(event, &he); err != nil {
		return httpError(shapeError("HTTP trigger event", err), nil)
	}
	if m := strings.ToUpper(he.Method()); m != http.MethodPost {
		return httpError(&Error{Code: "MethodNotAllowed", Message: fmt.Sprintf("method %s is not allowed: POST the rollback request as JSON", m), HTTPStatus: http.StatusMethodNotAllowed}, map[string]string{"Allow": http.MethodPost})
	}
	if ct := he.Header("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return httpError(&Error{Code: "UnsupportedMediaType", Message: "the body must be JSON (Content-Type: application/json)", HTTPStatus: http.StatusUnsupportedMediaType}, nil)
		}
	}
	body, err := he.DecodedBody(MaxHTTPBodyBytes)
	if err != nil {
		if errors.Is(err, events.ErrBodyTooLarge) {
			return httpError(&Error{Code: "PayloadTooLarge", Message: fmt.Sprintf("the body is larger than %d bytes", MaxHTTPBodyBytes), HTTPStatus: http.StatusRequestEntityTooLarge}, nil)
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
	RequestId  string      `json:"RequestId,omitempty"`
	Violations []Violation `json:"Violations,omitempty"`
	Result     *Result     `json:"Result,omitempty"`
}

func httpError(e *Error, headers map[string]string) *events.HTTPTriggerResponse {
	return httpJSON(e.Status(), httpBody{Code: e.Code, Message: e.Message, RequestId: e.RequestID, Violations: e.Violations, Result: e.Result}, headers)
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
