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
// before). The four cross-field rules that no omitempty can put behind one
// (they look at every request) are checked in Go by Validate instead of
// by tags: the validator splits a cross-field rule's parameters with a
// regexp it compiles on first use, about 0.3 ms of every cold start
// (bench/CHANGES.md round 5). They keep their tag names and messages
// (TestEveryRequestRulesAreTheTags holds them to the tags).
type Request struct {
	RegionID string `json:"RegionId" validate:"required,regionid"`
	DryRun   bool   `json:"DryRun"`
	// Disk is required without SnapshotGroupId, InstanceId and UndoRollback
	// (required_without_all, checked in Validate: see everyRequestRules).
	Disk []DiskPair `json:"Disk,omitempty" validate:"omitempty,min=1,max=100,dive"`

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
	StopInstance bool `json:"StopInstance,omitempty"`
	// StartInstance is required with HealthCheck (required_with, in Validate).
	StartInstance bool `json:"StartInstance,omitempty"`
	// Wait polls until every reset disk has left ReIniting.
	Wait bool `json:"Wait,omitempty"`
	// BackupBeforeReset snapshots each disk's current state first.
	// It is required when OnUnhealthy is Undo (required_if, in Validate).
	BackupBeforeReset bool `json:"BackupBeforeReset,omitempty"`
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
	// It excludes Disk, SnapshotGroupId, InstanceId and DiskIds
	// (excluded_with, in Validate).
	UndoRollback *UndoRollback `json:"UndoRollback,omitempty"`

	// keyOrigin says who chose IdempotencyKey: a trigger ("eb", "timer",
	// "cms") or the caller (""). Keys of different origins never match.
	keyOrigin string
}

// requestFields maps every accepted JSON key to its canonical name: each
// field's JSON name and its lowerCamel spelling. They are written out, not
// derived from the struct tags at start-up (reflection there cost every
// cold start about 0.1 ms); TestFieldAliasesAreTheTags holds them to
// fieldAliases of each type.
var requestFields = map[string]string{
	"RegionId": "RegionId", "regionId": "RegionId",
	"DryRun": "DryRun", "dryRun": "DryRun",
	"Disk": "Disk", "disk": "Disk",
	"SnapshotGroupId": "SnapshotGroupId", "snapshotGroupId": "SnapshotGroupId",
	"DiskIds": "DiskIds", "diskIds": "DiskIds",
	"InstanceId": "InstanceId", "instanceId": "InstanceId",
	"Latest": "Latest", "latest": "Latest",
	"StopInstance": "StopInstance", "stopInstance": "StopInstance",
	"StartInstance": "StartInstance", "startInstance": "StartInstance",
	"Wait": "Wait", "wait": "Wait",
	"BackupBeforeReset": "BackupBeforeReset", "backupBeforeReset": "BackupBeforeReset",
	"ResetMode": "ResetMode", "resetMode": "ResetMode",
	"FailOnPartial": "FailOnPartial", "failOnPartial": "FailOnPartial",
	"IdempotencyKey": "IdempotencyKey", "idempotencyKey": "IdempotencyKey",
	"HealthCheck": "HealthCheck", "healthCheck": "HealthCheck",
	"OnUnhealthy": "OnUnhealthy", "onUnhealthy": "OnUnhealthy",
	"UndoRollback": "UndoRollback", "undoRollback": "UndoRollback",
}

// pairFields are DiskPair's accepted keys, as requestFields.
var pairFields = map[string]string{
	"DiskId": "DiskId", "diskId": "DiskId",
	"SnapshotId": "SnapshotId", "snapshotId": "SnapshotId",
}

// objectFields are the request's object fields and their accepted keys,
// as requestFields: their unknown keys are refused as the top level's are.
var objectFields = map[string]map[string]string{
	"HealthCheck": {
		"Type": "Type", "type": "Type",
		"Port": "Port", "port": "Port",
		"Path": "Path", "path": "Path",
		"ExpectStatus": "ExpectStatus", "expectStatus": "ExpectStatus",
		"TimeoutSeconds": "TimeoutSeconds", "timeoutSeconds": "TimeoutSeconds",
	},
	"UndoRollback": {"InstanceId": "InstanceId", "instanceId": "InstanceId"},
}

// DecodeRequest parses a rollback request strictly: unknown fields, wrong
// types and trailing data are violations, all reported at once with their
// JSON paths. It does not apply the validation rules; Validate does.
func DecodeRequest(data []byte) (*Request, error) {
	if len(data) > MaxEventBytes {
		return nil, ValidationError([]Violation{{Field: "(event)", Rule: "max", Message: fmt.Sprintf("event is %d bytes; at most %d are accepted", len(data), MaxEventBytes)}})
	}
	if req, ok := decodeRequestFast(data); ok {
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
