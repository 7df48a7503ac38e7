package function

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzDecodeRequest: any input either decodes to a request whose Validate
// returns nil or a typed *Error, or fails with a typed ValidationFailed
// error — never a panic, never an untyped error.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"d-bp1stoppedsys0000000","SnapshotId":"s-bp1stoppedsys0000000"}]}`,
		`{"regionId":"cn-hangzhou","dryRun":true,"disk":[{"diskId":"d-x","snapshotId":"s-y"}]}`,
		`{"RegionId":"cn-hangzhou","SnapshotGroupId":"ssg-bp1stopped0000000000","DiskIds":["d-1234"]}`,
		`{"RegionId":1,"Disk":{}}`, `[]`, `null`, `{`, `{"Disk":[null,1,"x",{"DiskId":[]}]}`,
	} {
		f.Add([]byte(s))
	}
	if files, _ := filepath.Glob("testdata/*.json"); len(files) > 0 {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRequest(data)
		if err != nil {
			assertTyped(t, err, ErrValidationFailed)
			return
		}
		if err := req.Validate(); err != nil {
			assertTyped(t, err, ErrValidationFailed)
		}
	})
}

func assertTyped(t *testing.T, err error, code string) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %T %v is not *Error", err, err)
	}
	if fe.Code != code {
		t.Fatalf("code = %q, want %q", fe.Code, code)
	}
	if len(fe.Violations) == 0 {
		t.Fatalf("ValidationFailed without violations: %v", err)
	}
}

// FuzzHandle feeds any event to the trigger dispatcher with an ECS that
// refuses everything: whatever the envelope, the answer is a value or a
// typed *Error, never a panic.
func FuzzHandle(f *testing.F) {
	files, _ := filepath.Glob("../events/testdata/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`[{"specversion":"1.0","id":"x","data":"{\"alertState\":\"ALERT\"}"}]`))
	f.Add([]byte(`{"triggerTime":"t","triggerName":"n","payload":"[]"}`))
	f.Fuzz(func(t *testing.T, event []byte) {
		h := &Handler{
			Connector:      ConnectorFunc(func(context.Context, Credentials) (ECS, error) { return refusingECS{}, nil }),
			EnvCredentials: Credentials{AccessKeyID: "id", AccessKeySecret: "secret"},
			Config:         Config{AlarmRollback: true, ClaimSettle: time.Millisecond},
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := h.Handle(ctx, Invocation{RequestID: "fuzz"}, event)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.Code == "" {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
	})
}

// refusingECS answers every call with an ECS error.
type refusingECS struct{ ECS }

var _ ECS = refusingECS{}

func (refusingECS) refuse() error {
	return &APIError{Code: "Forbidden.RAM", Message: "refused by the fuzz fake", HTTPStatus: 403, RequestID: "FUZZ"}
}
func (r refusingECS) ResetDisks(context.Context, ResetDisksInput) (*ResetDisksOutput, error) {
	return nil, r.refuse()
}
func (r refusingECS) ResetDisk(context.Context, ResetDiskInput) (string, error) {
	return "", r.refuse()
}
func (r refusingECS) DescribeDisks(context.Context, string, []string) ([]Disk, error) {
	return nil, r.refuse()
}
func (r refusingECS) DescribeInstances(context.Context, string, []string) ([]Instance, error) {
	return nil, r.refuse()
}
func (r refusingECS) DescribeInstancesByTag(context.Context, string, string, string) ([]Instance, error) {
	return nil, r.refuse()
}
func (r refusingECS) DescribeSnapshots(context.Context, string, []string) ([]Snapshot, error) {
	return nil, r.refuse()
}
func (r refusingECS) DescribeSnapshotGroups(context.Context, DescribeSnapshotGroupsInput) ([]SnapshotGroup, error) {
	return nil, r.refuse()
}
func (r refusingECS) StopInstance(context.Context, StopInstanceInput) error { return r.refuse() }
func (r refusingECS) StartInstance(context.Context, string, string, bool) error {
	return r.refuse()
}
func (r refusingECS) CreateSnapshot(context.Context, CreateSnapshotInput) (string, error) {
	return "", r.refuse()
}
func (r refusingECS) TagResources(context.Context, string, string, []string, map[string]string) error {
	return r.refuse()
}
func (r refusingECS) ListTagResources(context.Context, string, string, []string) ([]ResourceTag, error) {
	return nil, r.refuse()
}
