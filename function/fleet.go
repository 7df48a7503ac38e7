package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-playground/validator/v10"
)

// The fleet invocation serves flows/fleet-rollback.yaml: a CloudFlow task
// sends {"Fleet": <the execution's input>, "Key": <the execution's name>}
// to plan the fleet, then, after each wave, the same plus "State" (its
// previous answer) and "Outcomes" (the wave's per-instance results) to
// tally the wave and pick the next one. It answers a FleetState. Planning
// reads from ECS (the selector, each instance's newest instance snapshot,
// the allow-list); tallying makes no call. The arithmetic a flow
// definition cannot do (wave sizes, failure threshold, summary) is here;
// the flow runs the waves.

// Fleet limits.
const (
	// MaxFleetInline is the most instances one fleet flow execution takes:
	// its summary rides in the flow's state, which CloudFlow caps at 64 KiB
	// ("Inputs and outputs"). Larger fleets: split by tag or list, or the
	// distributed flow (flows/fleet-rollback-distributed.yaml).
	MaxFleetInline = 250
	// fleetDefaultConcurrency is the wave cap when MaxConcurrency is unset.
	fleetDefaultConcurrency = 5
	// fleetMaxConcurrency is the flow's Map MaxConcurrency: a wave is never
	// larger, so all its items start at once and none starts after a halt.
	fleetMaxConcurrency = 10
	// fleetWaveCallBudget caps the mutating ECS calls (ResetDisk(s),
	// StopInstance, StartInstance, CreateSnapshot) of one wave: half of
	// ResetDisk's 500 calls / 60 s per account, with waves at least 60 s
	// apart (the flow's PaceWaves Wait), leaving room for retries and others.
	fleetWaveCallBudget = 250
)

// FleetSpec is the fleet flow's execution input.
type FleetSpec struct {
	RegionID string `json:"RegionId" validate:"required,regionid"`
	// InstanceIDs lists the instances; or Tag (key=value) selects them.
	InstanceIDs []string `json:"InstanceIds,omitempty" validate:"required_without=Tag,excluded_with=Tag,omitempty,max=1000,dive,instanceid"`
	Tag         string   `json:"Tag,omitempty" validate:"omitempty,fleettag"`
	// Canary is the first wave's size (default 1), or CanaryPercent of the
	// eligible instances (rounded up). Every canary must succeed.
	Canary        int `json:"Canary,omitempty" validate:"omitempty,min=1,max=250"`
	CanaryPercent int `json:"CanaryPercent,omitempty" validate:"excluded_with=Canary,omitempty,min=1,max=100"`
	// MaxConcurrency caps a wave (default 5, at most 10); waves double from
	// the canary's size up to it.
	MaxConcurrency int `json:"MaxConcurrency,omitempty" validate:"omitempty,min=1,max=10"`
	// MaxFailures (default 0) or MaxFailurePercent of the eligible
	// instances (rounded down) may fail; one more halts the fleet.
	MaxFailures       int  `json:"MaxFailures,omitempty" validate:"omitempty,min=0,max=250"`
	MaxFailurePercent int  `json:"MaxFailurePercent,omitempty" validate:"excluded_with=MaxFailures,omitempty,min=1,max=100"`
	DryRun            bool `json:"DryRun,omitempty"`
	// Options are rollback request fields given to every instance's
	// request (StopInstance, StartInstance, Wait, BackupBeforeReset, ...).
	Options map[string]json.RawMessage `json:"Options,omitempty"`
}

// fleetOwnedFields are request fields the fleet sets itself.
var fleetOwnedFields = []string{"RegionId", "InstanceId", "SnapshotGroupId", "Latest", "Disk", "DiskIds", "DryRun", "IdempotencyKey"}

// fleetEvent is one fleet invocation.
type fleetEvent struct {
	Fleet    json.RawMessage `json:"Fleet"`
	Key      string          `json:"Key"`
	State    *FleetState     `json:"State,omitempty"`
	Outcomes []FleetOutcome  `json:"Outcomes,omitempty"`
}

// FleetOutcome is one wave item's result as the flow's Processor reduces
// it: the instance, and the rollback's Summary.Status, or the error its
// Catch recorded ($Context.Current.Error).
type FleetOutcome struct {
	InstanceID string      `json:"InstanceId"`
	Status     string      `json:"Status,omitempty"`
	Error      *FleetError `json:"Error,omitempty"`
}

// FleetError is CloudFlow's error of a failed task: Code and Detail.
type FleetError struct {
	Code   string `json:"Code"`
	Detail string `json:"Detail"`
}

// Fleet actions: what the flow does next (its Route state).
const (
	FleetRunWave          = "RunWave"          // run Next now (the first wave)
	FleetPauseThenRunWave = "PauseThenRunWave" // wait out the pacing interval, then run Next
	FleetReport           = "Report"           // done: Summary is final
)

// Fleet summary statuses.
const (
	FleetRunning               = "Running"
	FleetSucceeded             = "Succeeded"
	FleetCompletedWithFailures = "CompletedWithFailures"
	FleetHalted                = "Halted"
	FleetCanaryFailed          = "CanaryFailed"
	FleetNothingToDo           = "NothingToDo"
	FleetDryRunPassed          = "DryRunPassed"
	FleetDryRunFailed          = "DryRunFailed"
)

// Per-instance statuses besides a rollback's own Summary.Status.
const (
	fleetPending     = "Pending"
	fleetInWave      = "InWave"
	fleetNotStarted  = "NotStarted"
	fleetNotEligible = "NotEligible"
)

// FleetState is the fleet invocation's answer and the flow's state.
type FleetState struct {
	Action  string            `json:"Action"`
	Wave    int               `json:"Wave"`
	Next    []json.RawMessage `json:"Next"`
	Summary FleetSummary      `json:"Summary"`
}

// FleetSummary is the fleet's account: counts and one entry per instance.
type FleetSummary struct {
	Status      string          `json:"Status"`
	DryRun      bool            `json:"DryRun"`
	Total       int             `json:"Total"`
	Eligible    int             `json:"Eligible"`
	Succeeded   int             `json:"Succeeded"`
	Failed      int             `json:"Failed"`
	NotStarted  int             `json:"NotStarted"`
	NotEligible int             `json:"NotEligible"`
	MaxFailures int             `json:"MaxFailures"`
	Waves       int             `json:"Waves"`
	Message     string          `json:"Message,omitempty"`
	Instances   []FleetInstance `json:"Instances"`
}

// FleetInstance is one instance: the plan (its newest accomplished
// instance snapshot, disk count, allow-list verdict) and its outcome.
type FleetInstance struct {
	InstanceID      string `json:"InstanceId"`
	SnapshotGroupID string `json:"SnapshotGroupId,omitempty"`
	Disks           int    `json:"Disks"`
	Allowed         bool   `json:"Allowed"`
	Wave            int    `json:"Wave,omitempty"`
	Status          string `json:"Status"`
	Step            string `json:"Step,omitempty"`
	Code            string `json:"Code,omitempty"`
}

// IsFleetEvent reports whether event is a fleet invocation: a JSON object
// with a top-level "Fleet" key.
func IsFleetEvent(event []byte) bool {
	if !bytes.Contains(event, []byte(`"Fleet"`)) {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(event, &top) != nil {
		return false
	}
	_, ok := top["Fleet"]
	return ok
}

// runFleet plans the fleet (no State) or tallies a wave (State given).
func (h *Handler) runFleet(ctx context.Context, inv Invocation, event []byte) (*FleetState, error) {
	ev, spec, err := decodeFleet(event)
	if err != nil {
		return nil, err
	}
	if ev.State != nil {
		return tallyFleet(spec, ev, h.Config), nil
	}
	ctx, cancel := withAnswerMargin(ctx)
	defer cancel()
	ecs, err := h.connect(ctx, inv)
	if err != nil {
		return nil, err
	}
	instances, err := h.PlanFleet(ctx, ecs, spec)
	if err != nil {
		return nil, err
	}
	return startFleet(spec, ev.Key, instances), nil
}

// decodeFleet decodes the event and its spec strictly and validates the
// spec with the one validator, and a sample request built from Options.
func decodeFleet(event []byte) (*fleetEvent, *FleetSpec, error) {
	var ev fleetEvent
	if err := strictUnmarshal(event, &ev); err != nil {
		return nil, nil, ValidationError([]Violation{{Field: "(event)", Rule: "json", Message: "malformed fleet invocation: " + err.Error()}})
	}
	var spec FleetSpec
	if err := strictUnmarshal(ev.Fleet, &spec); err != nil {
		return nil, nil, ValidationError([]Violation{{Field: "Fleet", Rule: "json", Message: "malformed fleet: " + err.Error()}})
	}
	var vs []Violation
	if err := validate.Struct(&spec); err != nil {
		var ves validator.ValidationErrors
		if !errors.As(err, &ves) {
			return nil, nil, &Error{Code: ErrInternal, Message: "validation: " + err.Error()}
		}
		for _, fe := range ves {
			v := violationOf(fe)
			v.Field = "Fleet." + v.Field
			vs = append(vs, v)
		}
	}
	if !isIdempotencyKey(ev.Key) {
		vs = append(vs, Violation{Field: "Key", Rule: "idempotencykey", Message: "the execution's name: " + ruleMessages["idempotencykey"]})
	}
	for _, k := range fleetOwnedFields {
		if _, ok := spec.Options[k]; ok {
			vs = append(vs, Violation{Field: "Fleet.Options." + k, Rule: "fleet", Message: "is set by the fleet for each instance"})
		}
	}
	if len(vs) == 0 {
		sample, _ := fleetRequest(&spec, "i-sample0000", "ssg-sample0000", "sample")
		if req, err := DecodeRequest(sample); err != nil {
			vs = append(vs, prefixViolations(err, "Fleet.Options.")...)
		} else if err := req.Validate(); err != nil {
			vs = append(vs, prefixViolations(err, "Fleet.Options.")...)
		}
	}
	if len(vs) > 0 {
		sortViolations(vs)
		return nil, nil, ValidationError(vs)
	}
	return &ev, &spec, nil
}

// strictUnmarshal decodes one JSON value, refusing unknown fields and trailing data.
func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the object")
	}
	return nil
}

func prefixViolations(err error, prefix string) []Violation {
	fe := asError(err)
	if len(fe.Violations) == 0 {
		return []Violation{{Field: strings.TrimSuffix(prefix, "."), Rule: fe.Code, Message: fe.Message}}
	}
	out := make([]Violation, len(fe.Violations))
	for i, v := range fe.Violations {
		v.Field = prefix + v.Field
		out[i] = v
	}
	return out
}

// PlanFleet resolves the spec's instances: the list or the tag selector,
// each instance's newest accomplished instance snapshot and disk count, and
// whether ALLOWED_DISK_TAG allows every one of its disks. An instance that
// cannot be rolled back is NotEligible with the reason's code.
func (h *Handler) PlanFleet(ctx context.Context, ecs ECS, spec *FleetSpec) ([]FleetInstance, error) {
	var insts []Instance
	var err error
	if spec.Tag != "" {
		key, value, _ := strings.Cut(spec.Tag, "=")
		insts, err = ecs.DescribeInstancesByTag(ctx, spec.RegionID, key, value)
	} else {
		insts, err = ecs.DescribeInstances(ctx, spec.RegionID, spec.InstanceIDs)
	}
	if err != nil {
		return nil, FromECS("DescribeInstances", err)
	}
	ids := make([]string, 0, len(insts))
	for _, in := range insts {
		ids = append(ids, in.InstanceID)
	}
	if spec.Tag == "" {
		ids = spec.InstanceIDs // the caller's order; missing ones are reported
	}
	if len(ids) > MaxFleetInline {
		return nil, ValidationError([]Violation{{Field: "Fleet", Rule: "max", Message: fmt.Sprintf("%d instances; one fleet execution takes at most %d (its summary must fit CloudFlow's 64 KiB state): split the fleet, or list it in OSS for flows/fleet-rollback-distributed.yaml", len(ids), MaxFleetInline)}})
	}
	found := map[string]bool{}
	for _, in := range insts {
		found[in.InstanceID] = true
	}
	out := make([]FleetInstance, 0, len(ids))
	var allDisks []string
	groupDisks := map[string][]string{}
	for _, id := range ids {
		fi := FleetInstance{InstanceID: id, Status: fleetNotEligible}
		if !found[id] {
			fi.Code = "InvalidInstanceId.NotFound"
			out = append(out, fi)
			continue
		}
		groups, err := ecs.DescribeSnapshotGroups(ctx, DescribeSnapshotGroupsInput{RegionID: spec.RegionID, InstanceID: id, Statuses: []string{SnapshotStatusAccomplished}})
		if err != nil {
			return nil, FromECS("DescribeSnapshotGroups", err)
		}
		g := newestAccomplished(groups, id)
		if g == nil {
			fi.Code = ErrSnapshotGroupNotReady
			out = append(out, fi)
			continue
		}
		pairs, err := groupPairs(g, nil)
		if err != nil {
			fi.Code = asError(err).Code
			out = append(out, fi)
			continue
		}
		fi.SnapshotGroupID, fi.Disks, fi.Allowed, fi.Status = g.SnapshotGroupID, len(pairs), true, fleetPending
		groupDisks[id] = pairDiskIDs(pairs)
		allDisks = append(allDisks, groupDisks[id]...)
		out = append(out, fi)
	}
	if key := h.Config.AllowedDiskTagKey; key != "" && len(allDisks) > 0 {
		tags, err := readDiskTags(ctx, ecs, spec.RegionID, allDisks)
		if err != nil {
			return nil, FromECS("ListTagResources", err)
		}
		for i := range out {
			if slices.ContainsFunc(groupDisks[out[i].InstanceID], func(d string) bool {
				v, ok := tags[d][key]
				return !ok || v != h.Config.AllowedDiskTagValue
			}) {
				out[i].Allowed, out[i].Status, out[i].Code = false, fleetNotEligible, ErrDiskNotAllowed
			}
		}
	}
	return out, nil
}
