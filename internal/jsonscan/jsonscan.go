// Package jsonscan walks JSON documents that json.Valid has accepted,
// without decoding them: finding a few top-level members this way costs a
// fraction of json.Unmarshal into a map (events.Detect runs on every
// event, ecsclient reads every ECS error answer).
//
// Every function expects valid JSON; on anything else it returns without
// panicking, but what it finds is unspecified.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// SkipSpace returns the index of the first non-space byte of b at or after i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipString returns the index just past the string starting at b[i] ('"').
func SkipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// SkipValue returns the index just past the value starting at b[i].
func SkipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = SkipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// ForEachMember calls fn with the key and the raw value of each member of
// the object starting at b[i] ('{'), in order (a key given twice comes
// twice: the last is the one encoding/json keeps).
func ForEachMember(b []byte, i int, fn func(key string, value []byte)) {
	i = SkipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		end := SkipString(b, i)
		key, ok := String(b[i:end])
		i = SkipSpace(b, end)
		if i < len(b) && b[i] == ':' {
			i = SkipSpace(b, i+1)
		}
		vend := SkipValue(b, i)
		if ok {
			fn(key, b[i:vend])
		}
		i = SkipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = SkipSpace(b, i+1)
			continue
		}
		return
	}
}

// String is the text of the JSON string raw (quotes included), as
// encoding/json decodes it; false if raw is not a string. A string without
// escapes that is valid UTF-8 is taken as it is; any other goes through
// encoding/json, which also replaces invalid UTF-8.
func String(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
