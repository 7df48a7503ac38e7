package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// FlexString is a scalar that the documentation gives as a JSON string but
// that a producer may also send as a number (CloudMonitor's timestamp and
// curValue, FC's timeEpoch). It keeps the value's text; null is "". It is
// always marshalled as a JSON string, the documented form.
type FlexString string

// String returns the value's text.
func (s FlexString) String() string { return string(s) }

// UnmarshalJSON accepts a JSON string, number, boolean or null.
func (s *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("events: empty value")
	}
	switch b[0] {
	case '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = FlexString(v)
	case 'n':
		if string(b) != "null" {
			return fmt.Errorf("events: invalid literal %q", b)
		}
		*s = ""
	case '{', '[':
		return fmt.Errorf("events: want a string or a number, got a JSON %s", map[byte]string{'{': "object", '[': "array"}[b[0]])
	default:
		if !json.Valid(b) {
			return fmt.Errorf("events: invalid scalar %q", b)
		}
		*s = FlexString(b)
	}
	return nil
}

// MarshalJSON writes the value as a JSON string.
func (s FlexString) MarshalJSON() ([]byte, error) { return json.Marshal(string(s)) }

// Int64 parses the value as a base-10 integer.
func (s FlexString) Int64() (int64, error) { return strconv.ParseInt(string(s), 10, 64) }

// Float64 parses the value as a number.
func (s FlexString) Float64() (float64, error) { return strconv.ParseFloat(string(s), 64) }

// EpochTime reads the value as a Unix time: seconds, or milliseconds when it
// has 13 or more digits (CloudMonitor has used both; FC's timeEpoch is ms).
func (s FlexString) EpochTime() (time.Time, error) {
	n, err := s.Int64()
	if err != nil {
		return time.Time{}, fmt.Errorf("events: %q is not a Unix time: %w", string(s), err)
	}
	if n >= 1e12 || n <= -1e12 {
		return time.UnixMilli(n).UTC(), nil
	}
	return time.Unix(n, 0).UTC(), nil
}
