package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// CloudEvent is a CloudEvents 1.0 event in the structured JSON form
// EventBridge delivers to an FC event-function target (an FC "eventbridge"
// trigger).
//
// Format: CloudEvents 1.0 (JSON format) for the standard attributes;
// Alibaba Cloud EventBridge, "Event overview", for the aliyun* extension
// attributes EventBridge adds. Extension attributes the type does not name
// are kept in Extensions and written back, so a round trip loses nothing.
//
// Data is the payload as raw JSON: for this function, a rollback request or
// a CloudMonitor alarm. Some event transforms deliver data as a JSON string
// holding JSON; DataJSON undoes that. A trigger configured to deliver only
// the data ("RawData") delivers the payload alone, without this envelope.
type CloudEvent struct {
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	SpecVersion     string          `json:"specversion"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time,omitempty"` // RFC 3339
	DataContentType string          `json:"datacontenttype,omitempty"`
	DataSchema      string          `json:"dataschema,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`

	// EventBridge extension attributes (documented in "Event overview").
	AliyunAccountID    string `json:"aliyunaccountid,omitempty"`
	AliyunPublishTime  string `json:"aliyunpublishtime,omitempty"` // e.g. 2026-11-26T10:04:42.179PRC: not RFC 3339
	AliyunEventBusName string `json:"aliyuneventbusname,omitempty"`
	AliyunRegionID     string `json:"aliyunregionid,omitempty"`
	AliyunPublishAddr  string `json:"aliyunpublishaddr,omitempty"`
	// AliyunOriginalAccountID is seen on events routed across accounts; its
	// presence is not in the overview's table (unconfirmed).
	AliyunOriginalAccountID string `json:"aliyunoriginalaccountid,omitempty"`

	// Extensions holds every other top-level attribute, raw.
	Extensions map[string]json.RawMessage `json:"-"`
}

// Source and type of CloudMonitor events on EventBridge.
const (
	// SourceCloudMonitor is the source of CloudMonitor's system events.
	SourceCloudMonitor = "acs.cms"
	// TypeCloudMonitorAlertWebHook is the type EventBridge's "CloudMonitor
	// events" page lists for alert callbacks, the threshold-alarm
	// notification this function acts on. That the data of this type is the
	// alarm callback body (CloudMonitorAlarm) is unconfirmed.
	TypeCloudMonitorAlertWebHook = "cms:CloudMonitor:AlertWebHook"
)

// SpecVersion10 is the only CloudEvents version EventBridge uses.
const SpecVersion10 = "1.0"

// cloudEventFields are the attribute names the struct names.
var cloudEventFields = map[string]bool{
	"id": true, "source": true, "specversion": true, "type": true, "subject": true, "time": true,
	"datacontenttype": true, "dataschema": true, "data": true,
	"aliyunaccountid": true, "aliyunpublishtime": true, "aliyuneventbusname": true,
	"aliyunregionid": true, "aliyunpublishaddr": true, "aliyunoriginalaccountid": true,
}

type cloudEventAlias CloudEvent

// UnmarshalJSON decodes the event, keeping unknown attributes in Extensions.
// Attribute names are matched exactly (CloudEvents names are lower case).
func (e *CloudEvent) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	if all == nil {
		return errors.New("events: a CloudEvent must be a JSON object, not null")
	}
	var out CloudEvent
	set := func(name string, dst *string) error {
		raw, ok := all[name]
		if !ok || string(raw) == "null" {
			return nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return fmt.Errorf("events: CloudEvent attribute %q must be a string", name)
		}
		return nil
	}
	fields := []struct {
		name string
		dst  *string
	}{
		{"id", &out.ID}, {"source", &out.Source}, {"specversion", &out.SpecVersion}, {"type", &out.Type},
		{"subject", &out.Subject}, {"time", &out.Time}, {"datacontenttype", &out.DataContentType},
		{"dataschema", &out.DataSchema}, {"aliyunaccountid", &out.AliyunAccountID},
		{"aliyunpublishtime", &out.AliyunPublishTime}, {"aliyuneventbusname", &out.AliyunEventBusName},
		{"aliyunregionid", &out.AliyunRegionID}, {"aliyunpublishaddr", &out.AliyunPublishAddr},
		{"aliyunoriginalaccountid", &out.AliyunOriginalAccountID},
	}
	for _, f := range fields {
		if err := set(f.name, f.dst); err != nil {
			return err
		}
	}
	if raw, ok := all["data"]; ok {
		out.Data = raw
	}
	for k, v := range all {
		if !cloudEventFields[k] {
			if out.Extensions == nil {
				out.Extensions = map[string]json.RawMessage{}
			}
			out.Extensions[k] = v
		}
	}
	*e = out
	return nil
}

// MarshalJSON encodes the event with its extensions. Extensions never
// override a named attribute.
func (e CloudEvent) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(cloudEventAlias(e))
	if err != nil || len(e.Extensions) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(e.Extensions))
	for k := range e.Extensions {
		if !cloudEventFields[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // drop the closing brace
	for _, k := range keys {
		v := e.Extensions[k]
		if !json.Valid(v) {
			return nil, fmt.Errorf("events: CloudEvent extension %q is not valid JSON", k)
		}
		kb, _ := json.Marshal(k)
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// DataJSON returns the data as JSON text: a JSON string holding JSON is
// unwrapped; no data, or null, gives nil.
func (e *CloudEvent) DataJSON() []byte {
	d := bytes.TrimSpace(e.Data)
	if len(d) == 0 || string(d) == "null" {
		return nil
	}
	if d[0] == '"' {
		var s string
		if json.Unmarshal(d, &s) == nil {
			return []byte(strings.TrimSpace(s))
		}
	}
	return d
}

// DecodeData unmarshals the data (unwrapped as DataJSON does) into v.
func (e *CloudEvent) DecodeData(v any) error {
	d := e.DataJSON()
	if d == nil {
		return fmt.Errorf("events: event %q has no data", e.ID)
	}
	return json.Unmarshal(d, v)
}

// IsCloudMonitorAlarm reports whether the envelope says the event is a
// CloudMonitor alert callback (source acs.cms, type AlertWebHook).
func (e *CloudEvent) IsCloudMonitorAlarm() bool {
	return e.Source == SourceCloudMonitor && e.Type == TypeCloudMonitorAlertWebHook
}

// CloudEventBatch is a JSON array of CloudEvents, the form EventBridge uses
// when it delivers events in batches (streaming sources, batch push).
type CloudEventBatch []CloudEvent

// ParseCloudEventBatch decodes a JSON array of CloudEvents.
func ParseCloudEventBatch(raw []byte) (CloudEventBatch, error) {
	var b CloudEventBatch
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.New("events: a CloudEvent batch must be a JSON array, not null")
	}
	return b, nil
}
