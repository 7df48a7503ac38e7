package function

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
