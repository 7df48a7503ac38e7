package events

import (
	"strings"
	"time"
)

// TimerEvent is what an FC 3.0 timer trigger delivers each time it fires:
//
//	{"triggerTime":"2026-11-26T02:00:00Z","triggerName":"nightly-dryrun","payload":"..."}
//
// Format: Function Compute 3.0, "Timer triggers" (event format). Payload is
// the trigger's configured payload verbatim, always a JSON string: it holds
// a JSON document only if the operator wrote one there, and it is "" when
// the trigger has none. The function reads the rollback request from it.
type TimerEvent struct {
	// TriggerTime is when the trigger fired, RFC 3339 in UTC.
	TriggerTime string `json:"triggerTime"`
	// TriggerName is the trigger's name in the function's configuration.
	TriggerName string `json:"triggerName"`
	// Payload is the configured payload text.
	Payload string `json:"payload"`
}

// Time parses TriggerTime (RFC 3339).
func (e *TimerEvent) Time() (time.Time, error) {
	return time.Parse(time.RFC3339, e.TriggerTime)
}

// PayloadIsJSON reports whether the payload, trimmed, looks like a JSON
// object (the only payload the function can act on).
func (e *TimerEvent) PayloadIsJSON() bool {
	p := strings.TrimSpace(e.Payload)
	return len(p) >= 2 && p[0] == '{' && p[len(p)-1] == '}'
}
