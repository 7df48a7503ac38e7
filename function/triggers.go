package function

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/events"
)

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
		// Detect has checked that event is valid JSON, and dispatch its size.
		req, err := decodeRequest(event, true)
		if err != nil {
			return nil, err
		}
		return h.Run(ctx, inv, req)
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
		return &Result{OperationProgressSet: OperationProgressSet{OperationProgress: []OperationProgress{}}, Summary: Summary{Status: status, Message: msg}, Version: h.Version}
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
	req := &Request{RegionID: regionID, InstanceID: instanceID, Latest: true,
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
	var ae *APIError
	return slices.Contains(ThrottlingCodes, e.Code) || strings.HasPrefix(e.Code, "Throttling") || (errors.As(e, &ae) && ae.HTTPStatus >= 500)
}

func asError(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return &Error{Code: ErrInternal, Message: err.Error()}
}
