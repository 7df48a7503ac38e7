package function

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/go-playground/validator/v10"
)

// requestOldTags is Request with its validate tags as they were before
// omitempty moved to the front of the excluded_* rules. A Request converts
// to it (same fields); the two must validate alike.
type requestOldTags struct {
	RegionID          string        `json:"RegionId" validate:"required,regionid"`
	DryRun            bool          `json:"DryRun"`
	Disk              []DiskPair    `json:"Disk,omitempty" validate:"required_without_all=SnapshotGroupID InstanceID UndoRollback,omitempty,min=1,max=100,dive"`
	SnapshotGroupID   string        `json:"SnapshotGroupId,omitempty" validate:"excluded_with=Disk,omitempty,snapshotgroupid"`
	DiskIDs           []string      `json:"DiskIds,omitempty" validate:"excluded_with=Disk,omitempty,max=100,dive,diskid"`
	InstanceID        string        `json:"InstanceId,omitempty" validate:"excluded_with=Disk,excluded_without_all=Latest SnapshotGroupID,omitempty,instanceid"`
	Latest            bool          `json:"Latest,omitempty" validate:"excluded_without=InstanceID,excluded_with=SnapshotGroupID"`
	StopInstance      bool          `json:"StopInstance,omitempty"`
	StartInstance     bool          `json:"StartInstance,omitempty" validate:"required_with=HealthCheck"`
	Wait              bool          `json:"Wait,omitempty"`
	BackupBeforeReset bool          `json:"BackupBeforeReset,omitempty" validate:"required_if=OnUnhealthy Undo"`
	ResetMode         string        `json:"ResetMode,omitempty" validate:"omitempty,oneof=auto never always"`
	FailOnPartial     *bool         `json:"FailOnPartial,omitempty"`
	IdempotencyKey    string        `json:"IdempotencyKey,omitempty" validate:"omitempty,max=128,idempotencykey"`
	HealthCheck       *HealthCheck  `json:"HealthCheck,omitempty"`
	OnUnhealthy       string        `json:"OnUnhealthy,omitempty" validate:"omitempty,oneof=Report Undo,excluded_without=HealthCheck"`
	UndoRollback      *UndoRollback `json:"UndoRollback,omitempty" validate:"excluded_with=Disk SnapshotGroupID InstanceID DiskIDs"`
	keyOrigin         string
}

// structViolations is what the validator alone says about v, as Validate
// reports it.
func structViolations(t *testing.T, v any) []Violation {
	t.Helper()
	err := validate.Struct(v)
	var ves validator.ValidationErrors
	if err != nil && !errors.As(err, &ves) {
		t.Fatal(err)
	}
	var out []Violation
	for _, fe := range ves {
		out = append(out, violationOf(fe))
	}
	sortViolations(out)
	return out
}

// randomRuleRequest sets or leaves out each field with values that pass
// and values that break its rules, so every combination of present and
// absent fields the cross-field rules look at comes up.
func randomRuleRequest(rnd *rand.Rand) *Request {
	pick := func(vals ...string) string { return vals[rnd.IntN(len(vals))] }
	flag := func() bool { return rnd.IntN(2) == 0 }
	r := &Request{RegionID: pick("", "cn-hangzhou", "CN!"), DryRun: flag(), Latest: flag(), StopInstance: flag(), StartInstance: flag(),
		Wait: flag(), BackupBeforeReset: flag(), ResetMode: pick("", "", "auto", "sometimes"), IdempotencyKey: pick("", "", "k-1", "<x>"),
		SnapshotGroupID: pick("", "", "ssg-bp1abcd", "ssg-"), InstanceID: pick("", "", "i-bp1abcd", "i-"), OnUnhealthy: pick("", "", "Report", "Undo", "Maybe")}
	switch rnd.IntN(4) {
	case 1:
		r.Disk = []DiskPair{}
	case 2, 3:
		for range 1 + rnd.IntN(2) {
			r.Disk = append(r.Disk, DiskPair{DiskID: pick("d-bp1abcd", "d-bp1efgh", "x", ""), SnapshotID: pick("s-bp1abcd", "y", "")})
		}
	}
	switch rnd.IntN(4) {
	case 1:
		r.DiskIDs = []string{}
	case 2:
		r.DiskIDs = []string{pick("d-bp1abcd", "z")}
	}
	if rnd.IntN(3) == 0 {
		r.HealthCheck = &HealthCheck{Type: pick("", "HTTP", "Command", "InstanceStatus"), Port: rnd.IntN(3) * 40000, Path: pick("", "/ok", "bad")}
	}
	if rnd.IntN(4) == 0 {
		r.UndoRollback = &UndoRollback{InstanceID: pick("", "i-bp1abcd", "bad")}
	}
	if flag() {
		b := flag()
		r.FailOnPartial = &b
	}
	return r
}

// TestValidateTagOrderIsTheOldOne: the reordered rules report exactly what
// the old order reported, over the decode cases and random requests.
func TestValidateTagOrderIsTheOldOne(t *testing.T) {
	var reqs []*Request
	for _, c := range decodeCases {
		if req, err := DecodeRequest([]byte(c.in)); err == nil {
			reqs = append(reqs, req)
		}
	}
	rnd := rand.New(rand.NewPCG(9, 10))
	for range 5000 {
		reqs = append(reqs, randomRuleRequest(rnd))
	}
	for _, req := range reqs {
		old := requestOldTags(*req)
		got, want := structViolations(t, req), structViolations(t, &old)
		if !slices.Equal(got, want) {
			t.Fatalf("request %+v:\n new order %v\n old order %v", *req, got, want)
		}
	}
}
