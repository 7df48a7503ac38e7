package function

import (
	"strconv"
	"unicode/utf8"
)

// MarshalJSON encodes a Result exactly as encoding/json's reflection does
// (field order, omitempty, null for nil slices, HTML-safe string escapes),
// by hand: the first reflection-encoded Result of a process cost a cold
// start 0.4–0.5 ms building encoding/json's encoders (bench/CHANGES.md).
// TestResultJSONMatchesReflect compares the bytes with the reflection
// encoding over random Results that set every field, so a field added to
// any of these types without a line here fails it.
func (r *Result) MarshalJSON() ([]byte, error) {
	return r.encodeJSON(), nil
}

// encodeJSON is MarshalJSON's bytes, for the callers that need no error
// (Invoke and ToFCError skip json.Marshal's reflection and its re-scan of
// the marshaler's output).
func (r *Result) encodeJSON() []byte {
	return r.appendJSON(make([]byte, 0, r.sizeHint()))
}

// sizeHint is about the encoded size: ~320 bytes a disk (its progress,
// plan pair, step target and batch entry) over ~600 of the rest.
func (r *Result) sizeHint() int {
	return 640 + 320*len(r.OperationProgressSet.OperationProgress) + 160*len(r.Steps)
}

// jsonWriter appends one JSON object's members; sep is what goes before
// the next member.
type jsonWriter struct {
	b   []byte
	sep byte
}

func (w *jsonWriter) open() { w.b, w.sep = append(w.b, '{'), 0 }

func (w *jsonWriter) close() { w.b, w.sep = append(w.b, '}'), ',' }

// key writes the separator and "name":.
func (w *jsonWriter) key(name string) {
	if w.sep != 0 {
		w.b = append(w.b, w.sep)
	}
	w.b = append(append(append(w.b, '"'), name...), '"', ':')
	w.sep = ','
}

func (w *jsonWriter) str(name, v string) { w.key(name); w.b = appendJSONString(w.b, v) }

func (w *jsonWriter) strOmit(name, v string) {
	if v != "" {
		w.str(name, v)
	}
}

func (w *jsonWriter) int(name string, v int64) { w.key(name); w.b = strconv.AppendInt(w.b, v, 10) }

func (w *jsonWriter) intOmit(name string, v int64) {
	if v != 0 {
		w.int(name, v)
	}
}

func (w *jsonWriter) boolean(name string, v bool) { w.key(name); w.b = strconv.AppendBool(w.b, v) }

// strs writes a string list: null when nil, unless omitted when empty.
func (w *jsonWriter) strs(name string, v []string, omitEmpty bool) {
	if omitEmpty && len(v) == 0 {
		return
	}
	w.key(name)
	w.b = appendJSONStrings(w.b, v)
}

func appendJSONStrings(b []byte, v []string) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// array starts a list member: false (nothing written) when omitEmpty and
// empty, "null" and false when nil; else "[" and true, and the caller writes
// the items, each after w.next(i), then w.end().
func (w *jsonWriter) array(name string, n int, isNil, omitEmpty bool) bool {
	if omitEmpty && n == 0 {
		return false
	}
	w.key(name)
	if isNil {
		w.b = append(w.b, "null"...)
		return false
	}
	w.b = append(w.b, '[')
	return true
}

func (w *jsonWriter) next(i int) {
	if i > 0 {
		w.b = append(w.b, ',')
	}
}

func (w *jsonWriter) end() { w.b, w.sep = append(w.b, ']'), ',' }

// twoStrings writes a list of objects with two string members, ka and kb.
func twoStrings[T any](w *jsonWriter, name string, v []T, omitEmpty bool, ka, kb string, get func(*T) (string, string)) {
	if !w.array(name, len(v), v == nil, omitEmpty) {
		return
	}
	for i := range v {
		w.next(i)
		a, b := get(&v[i])
		w.open()
		w.str(ka, a)
		w.str(kb, b)
		w.close()
	}
	w.end()
}

func (r *Result) appendJSON(b []byte) []byte {
	w := jsonWriter{b: b}
	w.open()
	w.str("RequestId", r.RequestID)
	w.key("OperationProgressSet")
	w.open()
	ops := r.OperationProgressSet.OperationProgress
	if w.array("OperationProgress", len(ops), ops == nil, false) {
		for i := range ops {
			w.next(i)
			w.progress(&ops[i])
		}
		w.end()
	}
	w.close()
	w.key("Summary")
	w.summary(&r.Summary)
	w.strs("RequestIds", r.RequestIDs, true)
	if r.Plan != nil {
		w.key("Plan")
		w.plan(r.Plan)
	}
	if w.array("Steps", len(r.Steps), r.Steps == nil, true) {
		for i := range r.Steps {
			w.next(i)
			w.step(&r.Steps[i])
		}
		w.end()
	}
	twoStrings(&w, "Disks", r.Disks, true, "DiskId", "Status", func(d *DiskOutcome) (string, string) { return d.DiskID, d.Status })
	w.backups("Backups", r.Backups, true)
	if w.array("Health", len(r.Health), r.Health == nil, true) {
		for i := range r.Health {
			w.next(i)
			w.health(&r.Health[i])
		}
		w.end()
	}
	if u := r.Undo; u != nil {
		w.key("Undo")
		w.open()
		w.str("Status", u.Status)
		w.strs("Instances", u.Instances, false)
		w.backups("Snapshots", u.Snapshots, false)
		w.strOmit("Message", u.Message)
		w.close()
	}
	w.strs("Warnings", r.Warnings, true)
	w.strOmit("Version", r.Version)
	w.close()
	return w.b
}

func (w *jsonWriter) progress(p *OperationProgress) {
	w.open()
	w.str("ErrorMsg", p.ErrorMsg)
	w.str("ErrorCode", p.ErrorCode)
	w.str("OperationStatus", p.OperationStatus)
	w.key("RelatedItemSet")
	w.open()
	twoStrings(w, "RelatedItem", p.RelatedItemSet.RelatedItem, false, "Name", "Value", func(it *RelatedItem) (string, string) { return it.Name, it.Value })
	w.close()
	w.close()
}

func (w *jsonWriter) summary(s *Summary) {
	w.open()
	w.str("Status", s.Status)
	w.int("Total", int64(s.Total))
	w.int("Succeeded", int64(s.Succeeded))
	w.int("Failed", int64(s.Failed))
	w.int("Unknown", int64(s.Unknown))
	w.boolean("DryRun", s.DryRun)
	w.strOmit("Message", s.Message)
	w.close()
}

func (w *jsonWriter) plan(p *Plan) {
	w.open()
	w.str("RegionId", p.RegionID)
	w.strOmit("SnapshotGroupId", p.SnapshotGroupID)
	twoStrings(w, "Pairs", p.Pairs, false, "DiskId", "SnapshotId", func(d *DiskPair) (string, string) { return d.DiskID, d.SnapshotID })
	if w.array("Batches", len(p.Batches), p.Batches == nil, true) {
		for i, ids := range p.Batches {
			w.next(i)
			w.b = appendJSONStrings(w.b, ids)
		}
		w.end()
	}
	w.strs("InstancesToStop", p.InstancesToStop, true)
	w.strs("InstancesToStart", p.InstancesToStart, true)
	w.strs("Backups", p.Backups, true)
	w.str("ResetAPI", p.ResetAPI)
	w.strOmit("IdempotencyKey", p.IdempotencyKey)
	w.strOmit("UndoOf", p.UndoOf)
	w.close()
}

func (w *jsonWriter) step(s *Step) {
	w.open()
	w.str("Name", s.Name)
	w.strOmit("Target", s.Target)
	w.str("Outcome", s.Outcome)
	w.strOmit("Code", s.Code)
	w.strOmit("Message", s.Message)
	w.strOmit("RequestId", s.RequestID)
	w.int("DurationMs", s.DurationMs)
	w.close()
}

func (w *jsonWriter) backups(name string, bs []Backup, omitEmpty bool) {
	if !w.array(name, len(bs), bs == nil, omitEmpty) {
		return
	}
	for i, b := range bs {
		w.next(i)
		w.open()
		w.str("DiskId", b.DiskID)
		w.str("SnapshotId", b.SnapshotID)
		w.str("Status", b.Status)
		w.close()
	}
	w.end()
}

func (w *jsonWriter) health(h *HealthOutcome) {
	w.open()
	w.str("InstanceId", h.InstanceID)
	w.str("Type", h.Type)
	w.int("Round", int64(h.Round))
	w.str("Status", h.Status)
	w.strOmit("Detail", h.Detail)
	if h.ExitCode != nil {
		w.int("ExitCode", *h.ExitCode)
	}
	w.strOmit("Output", h.Output)
	w.intOmit("HTTPStatus", int64(h.HTTPStatus))
	w.close()
}

// jsonPlain reports whether encoding/json writes byte c of a string as it
// is: ASCII from space up, except " \\ and the HTML-escaped < > &.
func jsonPlain(c byte) bool {
	return c >= ' ' && c < utf8.RuneSelf && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// appendJSONString is encoding/json's string encoding with HTML escaping
// (its default): <, > and & as \u003c…, control characters escaped, invalid
// UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	i := 0
	for i < len(s) && jsonPlain(s[i]) {
		i++
	}
	if i == len(s) {
		return append(append(b, s...), '"')
	}
	start := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonPlain(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			}
			start = i + size
		}
		i += size
	}
	b = append(append(b, s[start:]...), '"')
	return b
}
