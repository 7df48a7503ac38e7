package function

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/go-playground/validator/v10"
)

// oldTags are Request's validate tags before omitempty moved to the front
// of the excluded_* rules.
var oldTags = map[string]string{
	"SnapshotGroupID": "excluded_with=Disk,omitempty,snapshotgroupid",
	"DiskIDs":         "excluded_with=Disk,omitempty,max=100,dive,diskid",
	"InstanceID":      "excluded_with=Disk,excluded_without_all=Latest SnapshotGroupID,omitempty,instanceid",
	"Latest":          "excluded_without=InstanceID,excluded_with=SnapshotGroupID",
	"UndoRollback":    "excluded_with=Disk SnapshotGroupID InstanceID DiskIDs",
}

// withOldTags copies req's exported fields into a struct type made from
// Request's with the old tags, for the validator to check as before.
func withOldTags(req *Request) any {
	rt := reflect.TypeOf(*req)
	var fields []reflect.StructField
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		if tag, ok := oldTags[f.Name]; ok {
			f.Tag = reflect.StructTag(`json:"` + f.Tag.Get("json") + `" validate:"` + tag + `"`)
		}
		fields = append(fields, f)
	}
	old := reflect.New(reflect.StructOf(fields)).Elem()
	src := reflect.ValueOf(req).Elem()
	for i := range old.NumField() {
		old.Field(i).Set(src.FieldByName(old.Type().Field(i).Name))
	}
	return old.Addr().Interface()
}

// structViolations is what the validator alone says about v, as Validate
// reports it. The struct withOldTags makes has no name, so its namespaces
// lack the "Request." that violationOf drops.
func structViolations(t *testing.T, v any) []Violation {
	t.Helper()
	err := validate.Struct(v)
	var ves validator.ValidationErrors
	if err != nil && !errors.As(err, &ves) {
		t.Fatal(err)
	}
	var out []Violation
	for _, fe := range ves {
		if reflect.TypeOf(v).Elem().Name() == "" {
			fe = namedNamespace{fe}
		}
		out = append(out, violationOf(fe))
	}
	sortViolations(out)
	return out
}

type namedNamespace struct{ validator.FieldError }

func (n namedNamespace) Namespace() string { return "Request." + n.FieldError.Namespace() }

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
		got, want := structViolations(t, req), structViolations(t, withOldTags(req))
		if !slices.Equal(got, want) {
			t.Fatalf("request %+v:\n new order %v\n old order %v", *req, got, want)
		}
	}
}
