package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/jsonscan"
)

// Kind is the shape of an event.
type Kind int

// The shapes Detect tells apart.
const (
	// KindUnknown is returned with an error.
	KindUnknown Kind = iota
	// KindDirect: a rollback request object, as sent by a direct invocation
	// (fc3 invoke, the SDK, the console) or a CloudFlow FC:InvokeFunction task.
	KindDirect
	// KindTimer: a timer trigger event (TimerEvent).
	KindTimer
	// KindHTTP: an HTTP trigger event (HTTPTriggerEvent).
	KindHTTP
	// KindCloudEvent: one CloudEvents 1.0 event from EventBridge (CloudEvent).
	KindCloudEvent
	// KindCloudEventBatch: a JSON array of CloudEvents (CloudEventBatch).
	KindCloudEventBatch
	// KindCloudMonitorAlarm: a CloudMonitor alarm on its own, as an
	// EventBridge trigger delivering RawData hands it (CloudMonitorAlarm).
	KindCloudMonitorAlarm
)

var kindNames = [...]string{"Unknown", "Direct", "Timer", "HTTP", "CloudEvent", "CloudEventBatch", "CloudMonitorAlarm"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// AcceptedShapes names the shapes Detect accepts; its errors end with it.
const AcceptedShapes = "a rollback request object (RegionId, Disk, SnapshotGroupId, InstanceId, ...), " +
	"a timer trigger event (triggerTime, triggerName, payload), " +
	"an HTTP trigger event (version, rawPath, requestContext), " +
	"a CloudEvents 1.0 event (specversion, from EventBridge) or a JSON array of them, " +
	"or a CloudMonitor alarm (alertState)"

// ErrUnrecognized is wrapped by every error Detect returns.
var ErrUnrecognized = errors.New("events: unrecognized event")

// RequestKeys are the top-level names of a rollback request (the ECS API's
// spelling); Detect also accepts each in lowerCamel (regionId, disk). Keep
// in step with function.Request's JSON names (function.TestRequestKeysMatchRequest checks).
var RequestKeys = []string{
	"RegionId", "DryRun", "Disk", "SnapshotGroupId", "DiskIds", "InstanceId", "Latest",
	"StopInstance", "StartInstance", "Wait", "BackupBeforeReset", "ResetMode", "FailOnPartial",
	"IdempotencyKey", "HealthCheck", "OnUnhealthy", "UndoRollback",
}

var requestKeySet = func() map[string]bool {
	m := make(map[string]bool, 2*len(RequestKeys))
	for _, k := range RequestKeys {
		m[k] = true
		m[strings.ToLower(k[:1])+k[1:]] = true
	}
	return m
}()

// Detect tells which shape an event has. It reads only the top-level keys
// (after one validity pass over the bytes, with no allocation for the
// values), never panics, and applies these rules in order:
//
//  1. Not valid JSON, or empty: error.
//  2. A JSON array: KindCloudEventBatch, if it is non-empty and every
//     element is an object (each is decoded and checked later, one by one);
//     otherwise an error.
//  3. Anything but an object: error.
//  4. An object with "specversion": KindCloudEvent.
//  5. With both "triggerTime" and "triggerName": KindTimer.
//  6. With "requestContext" and "rawPath" or "version": KindHTTP.
//  7. With "alertState": KindCloudMonitorAlarm.
//  8. With any request key (RequestKeys, or its lowerCamel spelling):
//     KindDirect. Unknown keys beside it are left for the request decoder
//     to report.
//  9. Otherwise: an error naming the accepted shapes.
//
// Keys are matched exactly (case-sensitively), after JSON unescaping. Every
// error wraps ErrUnrecognized and ends with AcceptedShapes.
//
// Why a hand scan and not json.Decoder tokens: BenchmarkDetect
// (detect_bench_test.go) runs both on each trigger's sample. On this 2-core
// machine the token stream took 2–8× the time (direct request 1.9 µs vs
// 15.9 µs, EventBridge batch 14 µs vs 53 µs) and 10–40× the allocations
// (3 vs 43, 0 vs 15), for the same decisions (TestDetectTokensAgrees).
// Detect runs on every cold start, where FC's smallest instance has 0.05
// vCPU: 50 µs there is about 1 ms of the start-up budget (cold start), so the scan stays.
func Detect(raw []byte) (Kind, error) {
	i := jsonscan.SkipSpace(raw, 0)
	if i == len(raw) {
		return KindUnknown, unrecognized("the event is empty")
	}
	if !json.Valid(raw) {
		return KindUnknown, unrecognized("the event is not valid JSON")
	}
	switch raw[i] {
	case '[':
		return detectArray(raw, i)
	case '{':
	default:
		return KindUnknown, unrecognized("the event is a JSON " + scalarName(raw[i]) + ", not an object")
	}
	var has struct{ specversion, triggerTime, triggerName, requestContext, rawPath, version, alertState, request bool }
	jsonscan.ForEachMember(raw, i, func(k string, _ []byte) {
		switch k {
		case "specversion":
			has.specversion = true
		case "triggerTime":
			has.triggerTime = true
		case "triggerName":
			has.triggerName = true
		case "requestContext":
			has.requestContext = true
		case "rawPath":
			has.rawPath = true
		case "version":
			has.version = true
		case "alertState":
			has.alertState = true
		default:
			if requestKeySet[k] {
				has.request = true
			}
		}
	})
	switch {
	case has.specversion:
		return KindCloudEvent, nil
	case has.triggerTime && has.triggerName:
		return KindTimer, nil
	case has.requestContext && (has.rawPath || has.version):
		return KindHTTP, nil
	case has.alertState:
		return KindCloudMonitorAlarm, nil
	case has.request:
		return KindDirect, nil
	}
	return KindUnknown, unrecognized("the object has none of the keys that identify a shape")
}

func unrecognized(why string) error {
	return fmt.Errorf("%w: %s; accepted: %s", ErrUnrecognized, why, AcceptedShapes)
}

func scalarName(c byte) string {
	switch c {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// detectArray accepts a non-empty array of objects. raw is valid JSON.
func detectArray(raw []byte, i int) (Kind, error) {
	i = jsonscan.SkipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return KindUnknown, unrecognized("the event is an empty JSON array")
	}
	for n := 0; i < len(raw); n++ {
		if raw[i] != '{' {
			return KindUnknown, unrecognized(fmt.Sprintf("element %d of the JSON array is not an object", n))
		}
		i = jsonscan.SkipSpace(raw, jsonscan.SkipValue(raw, i))
		if i >= len(raw) || raw[i] == ']' {
			break
		}
		i = jsonscan.SkipSpace(raw, i+1) // the comma
	}
	return KindCloudEventBatch, nil
}
