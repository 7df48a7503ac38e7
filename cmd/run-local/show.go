package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
)

// doc is the part of any answer the summary line needs: a Result, an error
// body ({Code, Message, Result}), an HTTP trigger response or a batch item.
// encoding/json matches keys case-insensitively, so "result" fills Result.
type doc struct {
	Summary *struct {
		Status                   string
		Total, Succeeded, Failed int
	}
	Plan *struct {
		InstancesToStop, InstancesToStart []string
	}
	Steps []struct {
		Name, Target string
	}
	Version    string
	Code       string  // an error body
	Result     *doc    // an error's Result, a batch item's result
	Error      *doc    // a batch item's error
	StatusCode int     `json:"statusCode"` // an HTTP trigger response
	Body       *string `json:"body"`
}

// outcome is one invocation in a line.
type outcome struct {
	Status                   string
	Disks, Succeeded, Failed int
	Instances                []string // "id" or "id (stopped, started)"
	Version                  string
	FunctionError            string // FC errorType, or "" when the function answered
}

// summarize reads a Report into an outcome.
func summarize(rep fcruntime.Report) outcome {
	if rep.Error != nil {
		o := outcome{Status: "error " + rep.Error.ErrorType, FunctionError: rep.Error.ErrorType}
		// FC errors carry what was done as "...; result: {Summary, ...}".
		if _, after, ok := strings.Cut(rep.Error.ErrorMessage, "; result: "); ok {
			var d doc
			if json.Unmarshal([]byte(after), &d) == nil {
				o.add(&d)
			}
		}
		return o
	}
	var o outcome
	if trimmed := bytes.TrimSpace(rep.Result); len(trimmed) > 0 && trimmed[0] == '[' {
		var items []doc
		_ = json.Unmarshal(trimmed, &items)
		var statuses []string
		for i := range items {
			it := &items[i]
			if it.Error != nil {
				it = it.Error
			} else if it.Result != nil {
				it = it.Result
			}
			statuses = append(statuses, o.add(it))
		}
		o.Status = fmt.Sprintf("batch of %d: %s", len(items), strings.Join(statuses, ", "))
		return o
	}
	var d doc
	_ = json.Unmarshal(rep.Result, &d)
	if d.StatusCode != 0 && d.Body != nil {
		var inner doc
		_ = json.Unmarshal([]byte(*d.Body), &inner)
		o.Status = "HTTP " + strconv.Itoa(d.StatusCode)
		if s := o.add(&inner); s != "" {
			o.Status += " " + s
		}
		return o
	}
	o.Status = o.add(&d)
	return o
}

// add folds one Result or error body into o and returns its status word.
func (o *outcome) add(d *doc) string {
	status := ""
	if d.Code != "" {
		status = d.Code
		if d.Result != nil {
			d = d.Result
		}
	}
	if d.Summary != nil {
		if status == "" {
			status = d.Summary.Status
		}
		o.Disks += d.Summary.Total
		o.Succeeded += d.Summary.Succeeded
		o.Failed += d.Summary.Failed
	}
	if o.Version == "" {
		o.Version = d.Version
	}
	var ids []string
	did := map[string][]string{}
	note := func(id, what string) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		if what != "" && !slices.Contains(did[id], what) {
			did[id] = append(did[id], what)
		}
	}
	for _, s := range d.Steps {
		for t := range strings.SplitSeq(s.Target, ",") {
			if strings.HasPrefix(t, "i-") {
				note(t, map[string]string{"StopInstance": "stopped", "StartInstance": "started"}[s.Name])
			}
		}
	}
	if d.Plan != nil {
		for _, id := range append(slices.Clone(d.Plan.InstancesToStop), d.Plan.InstancesToStart...) {
			note(id, "")
		}
	}
	for _, id := range ids {
		if len(did[id]) > 0 {
			id += " (" + strings.Join(did[id], ", ") + ")"
		}
		if !slices.Contains(o.Instances, id) {
			o.Instances = append(o.Instances, id)
		}
	}
	return status
}

// line is the summary line printed after each invocation.
func (o outcome) line(event string, durationMs int64) string {
	inst := "none"
	if len(o.Instances) > 0 {
		inst = strings.Join(o.Instances, ", ")
	}
	return fmt.Sprintf("==> %s: %s | disks %d (%d succeeded, %d failed) | instances %s | %d ms",
		event, o.Status, o.Disks, o.Succeeded, o.Failed, inst, durationMs)
}

// readable renders an answer for people: an HTTP trigger's JSON body is
// shown decoded (not as an escaped string), and small objects and arrays
// stay on one line.
func readable(payload []byte) string {
	n, err := parseNode(payload)
	if err != nil {
		return string(payload)
	}
	if n.kind == '{' {
		if i := slices.Index(n.keys, "body"); i >= 0 && slices.Contains(n.keys, "statusCode") && n.vals[i].kind == '"' {
			var s string
			if json.Unmarshal(n.vals[i].raw, &s) == nil {
				if inner, err := parseNode([]byte(s)); err == nil && (inner.kind == '{' || inner.kind == '[') {
					n.vals[i] = inner
				}
			}
		}
	}
	var b strings.Builder
	n.write(&b, "", 0, 100)
	return b.String()
}

// node is a JSON value with its object keys in document order.
type node struct {
	kind byte // '{', '[', '"' or 0 for any other scalar
	raw  []byte
	keys []string
	vals []node
}

func parseNode(b []byte) (node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := decodeNode(dec)
	if err == nil && dec.More() {
		err = fmt.Errorf("trailing data")
	}
	return n, err
}

func decodeNode(dec *json.Decoder) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		return node{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := node{kind: byte(t)}
		for dec.More() {
			if n.kind == '{' {
				k, err := dec.Token()
				if err != nil {
					return node{}, err
				}
				n.keys = append(n.keys, k.(string))
			}
			v, err := decodeNode(dec)
			if err != nil {
				return node{}, err
			}
			n.vals = append(n.vals, v)
		}
		_, err := dec.Token() // the closing delimiter
		return n, err
	case string:
		return node{kind: '"', raw: []byte(quote(t))}, nil
	default:
		raw, _ := json.Marshal(t)
		return node{raw: raw}, nil
	}
}

// compact is n on one line, with a space after each colon and comma.
func (n node) compact() string {
	if n.kind != '{' && n.kind != '[' {
		return string(n.raw)
	}
	parts := make([]string, len(n.vals))
	for i, v := range n.vals {
		parts[i] = v.compact()
		if n.kind == '{' {
			parts[i] = quote(n.keys[i]) + ": " + parts[i]
		}
	}
	end := "}"
	if n.kind == '[' {
		end = "]"
	}
	return string(n.kind) + strings.Join(parts, ", ") + end
}

// write puts n at indent, used columns into the current line; it breaks n
// over lines only when its one-line form would pass width columns.
func (n node) write(b *strings.Builder, indent string, used, width int) {
	one := n.compact()
	if n.kind != '{' && n.kind != '[' || len(n.vals) == 0 || used+len(one) <= width {
		b.WriteString(one)
		return
	}
	b.WriteByte(n.kind)
	inner := indent + "  "
	for i, v := range n.vals {
		b.WriteString("\n" + inner)
		prefix := ""
		if n.kind == '{' {
			prefix = quote(n.keys[i]) + ": "
			b.WriteString(prefix)
		}
		v.write(b, inner, len(inner)+len(prefix), width)
		if i < len(n.vals)-1 {
			b.WriteByte(',')
		}
	}
	b.WriteString("\n" + indent)
	if n.kind == '{' {
		b.WriteByte('}')
	} else {
		b.WriteByte(']')
	}
}

// quote is s as a JSON string, leaving <, > and & as they are.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
