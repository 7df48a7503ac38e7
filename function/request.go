package function

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Limits on what one request may carry. They keep a hostile or broken event
// from costing memory or API calls before validation rejects it.
const (
	// MaxEventBytes caps an event before it is parsed (FC's own cap is larger).
	MaxEventBytes = 256 << 10
	// MaxDisks caps the pairs of one request; more than 10 are split into
	// ResetDisks batches of 10.
	MaxDisks = 100
	// ResetDisksBatchSize is the most pairs one ResetDisks call takes.
	ResetDisksBatchSize = 10
)

// Request is the rollback request every trigger is normalised into. Its JSON
// names are the ECS API's (RegionId, DryRun, Disk[].DiskId/SnapshotId);
// lowerCamel spellings are accepted too. All fields after Disk are optional
// and default to the plain ResetDisks behaviour.
//
// An excluded_* rule passes for an empty field, so omitempty goes first:
// the validator then skips its cross-field lookups for the fields a request
// leaves out (TestValidateTagOrderIsTheOldOne holds the rules to the order
// before).
type Request struct {
	RegionID string     `json:"RegionId" validate:"required,regionid"`
	DryRun   bool       `json:"DryRun"`
	Disk     []DiskPair `json:"Disk,omitempty" validate:"required_without_all=SnapshotGroupID InstanceID UndoRollback,omitempty,min=1,max=100,dive"`

	// SnapshotGroupID rolls back to an instance snapshot (ssg-…) instead of
	// explicit pairs; DiskIds optionally limits it to some of its disks.
	SnapshotGroupID string   `json:"SnapshotGroupId,omitempty" validate:"omitempty,excluded_with=Disk,snapshotgroupid"`
	DiskIDs         []string `json:"DiskIds,omitempty" validate:"omitempty,excluded_with=Disk,max=100,dive,diskid"`
	// InstanceID with Latest rolls the instance back to its newest
	// accomplished instance snapshot; with SnapshotGroupId it asserts the
	// instance snapshot is that instance's.
	InstanceID string `json:"InstanceId,omitempty" validate:"omitempty,excluded_with=Disk,excluded_without_all=Latest SnapshotGroupID,instanceid"`
	Latest     bool   `json:"Latest,omitempty" validate:"omitempty,excluded_without=InstanceID,excluded_with=SnapshotGroupID"`

	// StopInstance stops each affected Running instance first (KeepCharging);
	// StartInstance starts it again once its disks are back.
	StopInstance  bool `json:"StopInstance,omitempty"`
	StartInstance bool `json:"StartInstance,omitempty" validate:"required_with=HealthCheck"`
	// Wait polls until every reset disk has left ReIniting.
	Wait bool `json:"Wait,omitempty"`
	// BackupBeforeReset snapshots each disk's current state first.
	BackupBeforeReset bool `json:"BackupBeforeReset,omitempty" validate:"required_if=OnUnhealthy Undo"`
	// ResetMode picks ResetDisks or per-disk ResetDisk: auto (fall back when
	// ResetDisks is unavailable), never (no fallback), always (ResetDisk only).
	ResetMode string `json:"ResetMode,omitempty" validate:"omitempty,oneof=auto never always"`
	// FailOnPartial makes a partially failed reset an error (overrides FAIL_ON_PARTIAL).
	FailOnPartial *bool `json:"FailOnPartial,omitempty"`
	// IdempotencyKey: the same key never resets a disk twice. Triggers fill
	// it from the event id, timer name+time or the Idempotency-Key header.
	IdempotencyKey string `json:"IdempotencyKey,omitempty" validate:"omitempty,max=128,idempotencykey"`

	// HealthCheck gates the rollback on the restarted instance's health
	// (health.go); it needs StartInstance.
	HealthCheck *HealthCheck `json:"HealthCheck,omitempty"`
	// OnUnhealthy: Report (default) only reports a failed gate; Undo resets
	// the disks to the backups this rollback took (needs BackupBeforeReset).
	OnUnhealthy string `json:"OnUnhealthy,omitempty" validate:"omitempty,oneof=Report Undo,excluded_without=HealthCheck"`
	// UndoRollback resets the disks of the instance's last rollback to the
	// backups it took (undo.go), instead of Disk or an instance snapshot.
	UndoRollback *UndoRollback `json:"UndoRollback,omitempty" validate:"omitempty,excluded_with=Disk SnapshotGroupID InstanceID DiskIDs"`

	// keyOrigin says who chose IdempotencyKey: a trigger ("eb", "timer",
	// "cms") or the caller (""). Keys of different origins never match.
	keyOrigin string
}

// requestFields maps every accepted JSON key to its canonical name.
var requestFields, pairFields = fieldAliases(Request{}), fieldAliases(DiskPair{})

// objectFields are the request's object fields and their accepted keys:
// their unknown keys are refused as the top level's are.
var objectFields = map[string]map[string]string{"HealthCheck": fieldAliases(HealthCheck{}), "UndoRollback": fieldAliases(UndoRollback{})}

// fieldAliases lists a struct's JSON names and their lowerCamel spellings.
func fieldAliases(v any) map[string]string {
	m := map[string]string{}
	for _, name := range jsonNames(v) {
		m[name] = name
		m[strings.ToLower(name[:1])+name[1:]] = name
	}
	return m
}

// DecodeRequest parses a rollback request strictly: unknown fields, wrong
// types and trailing data are violations, all reported at once with their
// JSON paths. It does not apply the validation rules; Validate does.
func DecodeRequest(data []byte) (*Request, error) {
	if len(data) > MaxEventBytes {
		return nil, ValidationError([]Violation{{Field: "(event)", Rule: "max", Message: fmt.Sprintf("event is %d bytes; at most %d are accepted", len(data), MaxEventBytes)}})
	}
	return decodeRequest(data, false)
}

// decodeRequest is DecodeRequest after the size check; validJSON says the
// caller has already checked data with json.Valid (events.Detect does, for
// every event), so the fast path need not scan it again.
func decodeRequest(data []byte, validJSON bool) (*Request, error) {
	if req, ok := decodeRequestFast(data, validJSON); ok {
		return req, nil
	}
	return decodeRequestReflect(data)
}

// decodeRequestReflect is DecodeRequest by encoding/json: it decides every
// request decodeRequestFast does not plainly accept, and reports what is
// wrong with each field's JSON path.
func decodeRequestReflect(data []byte) (*Request, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, ValidationError([]Violation{{Field: "(event)", Rule: "json", Message: "the request must be a JSON object: " + jsonProblem(err)}})
	}
	if vs := scanStrict(data); len(vs) > 0 {
		sortViolations(vs)
		return nil, ValidationError(vs)
	}
	canon, vs := canonicalise(top, requestFields, "")
	if raw, ok := canon["Disk"]; ok {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			vs = append(vs, Violation{Field: "Disk", Rule: "type", Message: "must be an array of {DiskId, SnapshotId} objects"})
			delete(canon, "Disk")
		} else {
			fixed := make([]json.RawMessage, 0, len(items))
			for i, item := range items {
				var obj map[string]json.RawMessage
				path := fmt.Sprintf("Disk[%d]", i)
				if err := json.Unmarshal(item, &obj); err != nil || obj == nil {
					vs = append(vs, Violation{Field: path, Rule: "type", Message: "must be an object with DiskId and SnapshotId"})
					continue
				}
				c, more := canonicalise(obj, pairFields, path+".")
				vs = append(vs, more...)
				b, _ := json.Marshal(c)
				fixed = append(fixed, b)
			}
			canon["Disk"], _ = json.Marshal(fixed)
		}
	}
	for name, aliases := range objectFields {
		raw, ok := canon[name]
		if !ok {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			vs = append(vs, Violation{Field: name, Rule: "type", Message: "must be an object"})
			delete(canon, name)
			continue
		}
		c, more := canonicalise(obj, aliases, name+".")
		vs = append(vs, more...)
		canon[name], _ = json.Marshal(c)
	}
	var req Request
	if len(vs) == 0 {
		// One pass in the usual case; field by field only to say which
		// field has the wrong type.
		b, _ := json.Marshal(canon)
		if json.Unmarshal(b, &req) == nil {
			return &req, nil
		}
		req = Request{}
	}
	for name, raw := range canon {
		if name == "Disk" {
			vs = append(vs, decodePairs(&req, raw)...)
			continue
		}
		if err := decodeField(&req, name, raw); err != nil {
			vs = append(vs, Violation{Field: name, Rule: "type", Message: err.Error()})
		}
	}
	if len(vs) > 0 {
		sortViolations(vs)
		return nil, ValidationError(vs)
	}
	return &req, nil
}

// canonicalise renames accepted aliases to canonical names and reports
// unknown keys and keys given twice under two spellings.
func canonicalise(obj map[string]json.RawMessage, aliases map[string]string, prefix string) (map[string]json.RawMessage, []Violation) {
	out := make(map[string]json.RawMessage, len(obj))
	var vs []Violation
	for k, v := range obj {
		name, ok := aliases[k]
		if !ok {
			vs = append(vs, Violation{Field: prefix + k, Rule: "unknown", Message: "unknown field; accepted: " + strings.Join(canonicalNames(aliases), ", ")})
			continue
		}
		if _, dup := out[name]; dup {
			vs = append(vs, Violation{Field: prefix + name, Rule: "duplicate", Message: "given twice (under two spellings)"})
			continue
		}
		out[name] = v
	}
	return out, vs
}

func canonicalNames(aliases map[string]string) []string {
	seen := map[string]bool{}
	var names []string
	for _, c := range aliases {
		if !seen[c] {
			seen[c] = true
			names = append(names, c)
		}
	}
	sort.Strings(names)
	return names
}

// decodePairs decodes the canonical Disk array element by element, so a
// type error names the element's field (Disk[0].DiskId), not Disk.
func decodePairs(req *Request, raw json.RawMessage) []Violation {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return []Violation{{Field: "Disk", Rule: "type", Message: "must be an array of {DiskId, SnapshotId} objects"}}
	}
	var vs []Violation
	req.Disk = make([]DiskPair, len(items))
	for i, item := range items {
		for name, v := range item {
			wrapper, _ := json.Marshal(map[string]json.RawMessage{name: v})
			if err := json.Unmarshal(wrapper, &req.Disk[i]); err != nil {
				vs = append(vs, Violation{Field: fmt.Sprintf("Disk[%d].%s", i, name), Rule: "type", Message: typeProblem(err)})
			}
		}
	}
	return vs
}

// decodeField decodes one canonical field into req, reporting a readable
// type error (encoding/json's mention Go types, which operators don't know).
func decodeField(req *Request, name string, raw json.RawMessage) error {
	wrapper := map[string]json.RawMessage{name: raw}
	b, _ := json.Marshal(wrapper)
	if err := json.Unmarshal(b, req); err != nil {
		return errors.New(typeProblem(err))
	}
	return nil
}

// typeProblem says what is wrong with a value in operators' words
// (encoding/json's errors mention Go types).
func typeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("must be %s, not a JSON %s", jsonKind(te.Type.Kind().String()), te.Value)
	}
	return "cannot be decoded: " + jsonProblem(err)
}
