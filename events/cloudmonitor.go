package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CloudMonitorAlarm is a CloudMonitor threshold-alert notification: the
// body of an alert callback, which is what sits in a CloudEvent's data for
// a CloudMonitor alert event (source acs.cms), or the whole event when an
// EventBridge trigger delivers only the data (RawData).
//
// Format: CloudMonitor, "Use the alert callback feature to send
// notifications about threshold-triggered alerts" (callback parameters),
// and EventBridge, "CloudMonitor events" (event type
// cms:CloudMonitor:AlertWebHook). The docs give every parameter as a
// string; timestamp and curValue use FlexString in case a producer sends
// numbers. Unconfirmed: that EventBridge's data is exactly the callback
// body (field for field), and the timestamp's unit (seconds in older
// samples, milliseconds in newer ones: Time accepts both).
//
// Dimensions is a string, in one of two forms seen in the docs:
// "{instanceId=i-x, userId=1}" (the callback sample) or JSON text, an object
// or an array of objects ('[{"userId":"1","instanceId":"i-x"}]', the
// parameter table). ParseDimensions reads both.
type CloudMonitorAlarm struct {
	AlertName     string     `json:"alertName"`
	AlertState    AlertState `json:"alertState"`
	Dimensions    string     `json:"dimensions"`
	MetricName    string     `json:"metricName,omitempty"`
	MetricProject string     `json:"metricProject,omitempty"` // e.g. acs_ecs_dashboard
	Namespace     string     `json:"namespace,omitempty"`
	CurValue      FlexString `json:"curValue,omitempty"`
	Timestamp     FlexString `json:"timestamp,omitempty"` // Unix time, s or ms
	RuleID        string     `json:"ruleId,omitempty"`
	UserID        string     `json:"userId,omitempty"`
	Expression    string     `json:"expression,omitempty"`
	// The fields below appear in newer callback samples only.
	InstanceName     string `json:"instanceName,omitempty"`
	TriggerLevel     string `json:"triggerLevel,omitempty"`    // CRITICAL, WARN, INFO
	PreTriggerLevel  string `json:"preTriggerLevel,omitempty"` // the level before this notification
	LastTime         string `json:"lastTime,omitempty"`        // how long the alert has lasted, free text
	RawMetricName    string `json:"rawMetricName,omitempty"`
	ProductGroupName string `json:"productGroupName,omitempty"`
	GroupID          string `json:"groupId,omitempty"`
	RegionID         string `json:"regionId,omitempty"`
	RegionName       string `json:"regionName,omitempty"`
	Signature        string `json:"signature,omitempty"` // callback signature; not verified here
}

// AlertState is an alarm's state.
type AlertState string

// The documented alert states.
const (
	AlertStateAlert            AlertState = "ALERT"             // the threshold is crossed
	AlertStateOK               AlertState = "OK"                // back to normal
	AlertStateInsufficientData AlertState = "INSUFFICIENT_DATA" // no data to judge
	// AlertStateAlarm is the spelling the DescribeMetricRuleList API and one
	// version of the callback page use for ALERT. Whether a callback ever
	// carries it is unconfirmed; Firing treats it as ALERT.
	AlertStateAlarm AlertState = "ALARM"
)

// Firing reports whether the state means the alarm is active (ALERT, or
// its variant ALARM).
func (s AlertState) Firing() bool { return s == AlertStateAlert || s == AlertStateAlarm }

// Known reports whether the state is one of the documented values.
func (s AlertState) Known() bool {
	switch s {
	case AlertStateAlert, AlertStateOK, AlertStateInsufficientData, AlertStateAlarm:
		return true
	}
	return false
}

// ErrNoInstanceID: the alarm's dimensions name no instance.
var ErrNoInstanceID = errors.New("events: the alarm's dimensions have no instanceId")

// InstanceID returns the instanceId dimension (matched case-insensitively:
// instanceId, InstanceId). It fails when the dimensions do not parse or
// have none.
func (a *CloudMonitorAlarm) InstanceID() (string, error) {
	dims, err := ParseDimensions(a.Dimensions)
	if err != nil {
		return "", err
	}
	if v := dims["instanceId"]; v != "" {
		return v, nil
	}
	for k, v := range dims {
		if strings.EqualFold(k, "instanceId") && v != "" {
			return v, nil
		}
	}
	return "", ErrNoInstanceID
}

// Time returns when the alarm was raised, from Timestamp.
func (a *CloudMonitorAlarm) Time() (time.Time, error) { return a.Timestamp.EpochTime() }

// ParseDimensions reads an alarm's dimensions string:
//
//   - "{instanceId=i-x, userId=1}": Java's map notation, pairs split at
//     commas and at the first "=" of each pair; spaces around keys and
//     values are dropped. A value cannot hold a comma in this form.
//   - a JSON object, {"instanceId":"i-x","userId":"1"};
//   - a JSON array of such objects, merged (a key given twice with two
//     different values is an error).
//
// JSON numbers and booleans become their text. "" and "{}" give an empty
// map. Anything else is an error.
func ParseDimensions(s string) (map[string]string, error) {
	t := strings.TrimSpace(s)
	out := map[string]string{}
	if t == "" {
		return out, nil
	}
	switch {
	case t[0] == '[':
		var arr []map[string]json.RawMessage
		if err := json.Unmarshal([]byte(t), &arr); err != nil {
			return nil, fmt.Errorf("events: dimensions %q: not a JSON array of objects: %v", clip(s), err)
		}
		for _, obj := range arr {
			if err := mergeJSONDims(out, obj, s); err != nil {
				return nil, err
			}
		}
		return out, nil
	case t[0] != '{' || t[len(t)-1] != '}':
		return nil, fmt.Errorf("events: dimensions %q: want {key=value, ...} or JSON", clip(s))
	}
	inner := strings.TrimSpace(t[1 : len(t)-1])
	if inner == "" {
		return out, nil
	}
	if inner[0] == '"' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(t), &obj); err != nil {
			return nil, fmt.Errorf("events: dimensions %q: not a JSON object: %v", clip(s), err)
		}
		return out, mergeJSONDims(out, obj, s)
	}
	for _, pair := range strings.Split(inner, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("events: dimensions %q: %q is not key=value", clip(s), clip(pair))
		}
		if old, dup := out[k]; dup && old != v {
			return nil, fmt.Errorf("events: dimensions %q: %s given twice", clip(s), k)
		}
		out[k] = v
	}
	return out, nil
}

func mergeJSONDims(out map[string]string, obj map[string]json.RawMessage, s string) error {
	for k, raw := range obj {
		var v string
		switch r := strings.TrimSpace(string(raw)); {
		case r == "null":
			continue
		case strings.HasPrefix(r, `"`):
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("events: dimensions %q: %s: %v", clip(s), k, err)
			}
		case r == "true" || r == "false":
			v = r
		default:
			if _, err := strconv.ParseFloat(r, 64); err != nil {
				return fmt.Errorf("events: dimensions %q: %s must be a string or a number", clip(s), k)
			}
			v = r
		}
		if old, dup := out[k]; dup && old != v {
			return fmt.Errorf("events: dimensions %q: %s given twice", clip(s), k)
		}
		out[k] = v
	}
	return nil
}

// clip shortens text quoted in an error.
func clip(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
