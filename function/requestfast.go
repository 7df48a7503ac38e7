package function

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// decodeRequestFast decodes a request that is plainly right — valid JSON,
// an object, no duplicate or null (scanStrict), only known keys under one
// spelling each, every value of its field's type — by hand, without
// encoding/json's reflection. The reflection path (decodeRequestReflect)
// cost a cold start 0.5–0.7 ms building its caches on the first request
// (bench/CHANGES.md) and ~30 µs on every warm one.
//
// It answers ok=false at the first thing it does not plainly accept;
// DecodeRequest then takes the reflection path, which decides and reports
// it with its JSON path. When ok, the Request is the one the reflection
// path makes (TestDecodeRequestFastMatchesReflect, FuzzDecodeRequestFast).
func decodeRequestFast(data []byte, validJSON bool) (*Request, bool) {
	if !validJSON && !json.Valid(data) || len(scanStrict(data)) > 0 {
		return nil, false
	}
	d := fastDecoder{b: data}
	req := &Request{}
	d.request(req)
	if d.bad {
		return nil, false
	}
	return req, true
}

// fastDecoder reads a valid JSON document (json.Valid checked it) into the
// request's types. bad is set at the first value it does not take; every
// method returns at once after that.
type fastDecoder struct {
	b   []byte
	i   int
	bad bool
}

// peek is the next non-space byte, or 0 at the end.
func (d *fastDecoder) peek() byte {
	for d.i < len(d.b) {
		switch c := d.b[d.i]; c {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return c
		}
	}
	return 0
}

// members calls member with each key of the object at d.i (unescaped as
// encoding/json unescapes it), positioned at the key's value; member must
// read the value or set bad. known maps accepted keys to canonical names:
// an unknown key, or one given twice under two spellings, is bad.
func (d *fastDecoder) members(known map[string]string, member func(name string)) {
	if d.peek() != '{' {
		d.bad = true
		return
	}
	d.i++
	var buf [24]string
	seen := buf[:0]
	for !d.bad {
		switch d.peek() {
		case '}':
			d.i++
			return
		case ',':
			d.i++
			continue
		}
		key := d.str()
		name, ok := known[key]
		if d.bad || !ok || slices.Contains(seen, name) {
			d.bad = true
			return
		}
		seen = append(seen, name)
		d.peek()
		d.i++ // the colon
		member(name)
	}
}

// elements calls elem for each element of the array at d.i; elem must read
// the element or set bad.
func (d *fastDecoder) elements(elem func()) {
	if d.peek() != '[' {
		d.bad = true
		return
	}
	d.i++
	for !d.bad {
		switch d.peek() {
		case ']':
			d.i++
			return
		case ',':
			d.i++
			continue
		}
		elem()
	}
}

// str reads a string. One with escapes or non-ASCII bytes is unquoted by
// encoding/json itself (its rules for \u, surrogates and invalid UTF-8).
func (d *fastDecoder) str() string {
	if d.peek() != '"' {
		d.bad = true
		return ""
	}
	start, plain := d.i, true
	for d.i++; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '\\':
			plain = false
			d.i++
		case c >= utf8.RuneSelf:
			plain = false
		case c == '"':
			d.i++
			if plain {
				return string(d.b[start+1 : d.i-1])
			}
			var s string
			if json.Unmarshal(d.b[start:d.i], &s) != nil {
				d.bad = true
			}
			return s
		}
	}
	d.bad = true
	return ""
}

// boolean reads true or false.
func (d *fastDecoder) boolean() bool {
	switch d.peek() {
	case 't':
		d.i += len("true")
		return true
	case 'f':
		d.i += len("false")
		return false
	}
	d.bad = true
	return false
}

// integer reads a number that is an integer in int's range, as
// encoding/json takes it into an int field (strconv.ParseInt of the text:
// 1.0 and 1e2 are refused).
func (d *fastDecoder) integer() int {
	if c := d.peek(); c != '-' && (c < '0' || c > '9') {
		d.bad = true
		return 0
	}
	start := d.i
	for d.i < len(d.b) && !isValueEnd(d.b[d.i]) {
		d.i++
	}
	n, err := strconv.ParseInt(string(d.b[start:d.i]), 10, strconv.IntSize)
	if err != nil {
		d.bad = true
	}
	return int(n)
}

// isValueEnd reports whether c ends a number in valid JSON.
func isValueEnd(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

func (d *fastDecoder) strings() []string {
	out := []string{}
	d.elements(func() { out = append(out, d.str()) })
	return out
}

func (d *fastDecoder) request(req *Request) {
	d.members(requestFields, func(name string) {
		switch name {
		case "RegionId":
			req.RegionID = d.str()
		case "DryRun":
			req.DryRun = d.boolean()
		case "Disk":
			req.Disk = d.pairs()
		case "SnapshotGroupId":
			req.SnapshotGroupID = d.str()
		case "DiskIds":
			req.DiskIDs = d.strings()
		case "InstanceId":
			req.InstanceID = d.str()
		case "Latest":
			req.Latest = d.boolean()
		case "StopInstance":
			req.StopInstance = d.boolean()
		case "StartInstance":
			req.StartInstance = d.boolean()
		case "Wait":
			req.Wait = d.boolean()
		case "BackupBeforeReset":
			req.BackupBeforeReset = d.boolean()
		case "ResetMode":
			req.ResetMode = d.str()
		case "FailOnPartial":
			b := d.boolean()
			req.FailOnPartial = &b
		case "IdempotencyKey":
			req.IdempotencyKey = d.str()
		case "HealthCheck":
			req.HealthCheck = d.healthCheck()
		case "OnUnhealthy":
			req.OnUnhealthy = d.str()
		case "UndoRollback":
			u := &UndoRollback{}
			d.members(objectFields["UndoRollback"], func(name string) {
				if name != "InstanceId" {
					d.bad = true
					return
				}
				u.InstanceID = d.str()
			})
			req.UndoRollback = u
		default: // a field added to Request and not here: the reflection path decodes it
			d.bad = true
		}
	})
}

func (d *fastDecoder) pairs() []DiskPair {
	out := []DiskPair{}
	d.elements(func() {
		var p DiskPair
		d.members(pairFields, func(name string) {
			switch name {
			case "DiskId":
				p.DiskID = d.str()
			case "SnapshotId":
				p.SnapshotID = d.str()
			default:
				d.bad = true
			}
		})
		out = append(out, p)
	})
	return out
}

func (d *fastDecoder) healthCheck() *HealthCheck {
	hc := &HealthCheck{}
	d.members(objectFields["HealthCheck"], func(name string) {
		switch name {
		case "Type":
			hc.Type = d.str()
		case "Port":
			hc.Port = d.integer()
		case "Path":
			hc.Path = d.str()
		case "ExpectStatus":
			hc.ExpectStatus = d.integer()
		case "TimeoutSeconds":
			hc.TimeoutSeconds = d.integer()
		default:
			d.bad = true
		}
	})
	return hc
}
