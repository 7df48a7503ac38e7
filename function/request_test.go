package function

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/events"
)

const (
	okDisk  = "d-bp1stoppedsys0000000"
	okSnap  = "s-bp1stoppedsys0000000"
	okDisk2 = "d-bp1stoppeddata000000"
	okSnap2 = "s-bp1stoppeddata000000"
)

// violations returns the Field/Rule pairs of a validation error.
func violations(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %T %v is not *Error", err, err)
	}
	if fe.Code != ErrValidationFailed {
		t.Fatalf("code = %q, want %q", fe.Code, ErrValidationFailed)
	}
	var out []string
	for _, v := range fe.Violations {
		if v.Message == "" {
			t.Errorf("violation %s/%s has no message", v.Field, v.Rule)
		}
		out = append(out, v.Field+"/"+v.Rule)
	}
	return out
}

func decodeAndValidate(raw string) (*Request, error) {
	req, err := DecodeRequest([]byte(raw))
	if err != nil {
		return nil, err
	}
	return req, req.Validate()
}

func pairsJSON(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"DiskId":"d-disk%016d","SnapshotId":"s-snap%016d"}`, i, i)
	}
	return "[" + b.String() + "]"
}

// decodeCases are requests and what DecodeRequest and Validate make of
// them; requestfast_test.go also runs them through both decoders.
var decodeCases = []struct {
	name string
	in   string
	want []string // Field/Rule of each violation; nil = valid
}{
	{"plain", `{"RegionId":"cn-hangzhou","DryRun":false,"Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, nil},
	{"two pairs dry run", `{"RegionId":"cn-hangzhou","DryRun":true,"Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"},{"DiskId":"` + okDisk2 + `","SnapshotId":"` + okSnap2 + `"}]}`, nil},
	{"lowerCamel keys", `{"regionId":"cn-hangzhou","dryRun":true,"disk":[{"diskId":"` + okDisk + `","snapshotId":"` + okSnap + `"}]}`, nil},
	{"ten pairs", `{"RegionId":"cn-hangzhou","Disk":` + pairsJSON(10) + `}`, nil},
	{"hundred pairs are batched", `{"RegionId":"cn-hangzhou","Disk":` + pairsJSON(100) + `}`, nil},
	{"snapshot group", `{"RegionId":"cn-hangzhou","SnapshotGroupId":"ssg-bp1stopped0000000000"}`, nil},
	{"latest of instance", `{"RegionId":"cn-hangzhou","InstanceId":"i-bp1stopped0000000000","Latest":true,"StopInstance":true,"StartInstance":true,"Wait":true}`, nil},
	{"region in another partition", `{"RegionId":"cn-shanghai-finance-1","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, nil},

	{"missing region", `{"Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"RegionId/required"}},
	{"malformed region", `{"RegionId":"CN_HANGZHOU!","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"RegionId/regionid"}},
	{"no disks", `{"RegionId":"cn-hangzhou"}`, []string{"Disk/required_without_all"}},
	{"empty disk list", `{"RegionId":"cn-hangzhou","Disk":[]}`, []string{"Disk/min"}},
	{"too many pairs", `{"RegionId":"cn-hangzhou","Disk":` + pairsJSON(101) + `}`, []string{"Disk/max"}},
	{"missing snapshot", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + okDisk + `"}]}`, []string{"Disk[0].SnapshotId/required"}},
	{"missing disk id", `{"RegionId":"cn-hangzhou","Disk":[{"SnapshotId":"` + okSnap + `"}]}`, []string{"Disk[0].DiskId/required"}},
	{"bad ids", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"},{"DiskId":"disk-1","SnapshotId":"s-AB"}]}`, []string{"Disk[1].DiskId/diskid", "Disk[1].SnapshotId/snapshotid"}},
	{"masked seed ids", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"d-j6cf7l0ewidb78lq****","SnapshotId":"s-j6cdofbycydvg7ey****"}]}`, []string{"Disk[0].DiskId/diskid", "Disk[0].SnapshotId/snapshotid"}},
	{"disk twice", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"},{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap2 + `"}]}`, []string{"Disk/uniquedisks"}},
	{"unknown top-level field", `{"RegionId":"cn-hangzhou","Force":true,"Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"Force/unknown"}},
	{"unknown pair field", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `","Size":40}]}`, []string{"Disk[0].Size/unknown"}},
	{"same field twice", `{"RegionId":"cn-hangzhou","regionId":"cn-hangzhou","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"RegionId/duplicate"}},
	{"same key twice", `{"RegionId":"cn-hangzhou","DryRun":true,"DryRun":false,"Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"DryRun/duplicate"}},
	{"same key twice in a pair", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + okDisk + `","DiskId":"` + okDisk2 + `","SnapshotId":"` + okSnap + `"}]}`, []string{"Disk[0].DiskId/duplicate"}},
	{"null field", `{"RegionId":"cn-hangzhou","DryRun":null,"Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"DryRun/null"}},
	{"null FailOnPartial", `{"RegionId":"cn-hangzhou","FailOnPartial":null,"Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"FailOnPartial/null"}},
	{"null in a pair", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":null,"SnapshotId":"` + okSnap + `"}]}`, []string{"Disk[0].DiskId/null"}},
	{"wrong type in a pair", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":5,"SnapshotId":"` + okSnap + `"}]}`, []string{"Disk[0].DiskId/type"}},
	{"wrong types", `{"RegionId":5,"DryRun":"yes","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"DryRun/type", "RegionId/type"}},
	{"disk not an array", `{"RegionId":"cn-hangzhou","Disk":{"DiskId":"` + okDisk + `"}}`, []string{"Disk/type"}},
	{"pair not an object", `{"RegionId":"cn-hangzhou","Disk":["` + okDisk + `"]}`, []string{"Disk[0]/type"}},
	{"not json", `RegionId=cn-hangzhou`, []string{"(event)/json"}},
	{"json array", `[1,2]`, []string{"(event)/json"}},
	{"null", `null`, []string{"(event)/json"}},
	{"trailing data", `{"RegionId":"cn-hangzhou"} {}`, []string{"(event)/json"}},
	{"group and pairs", `{"RegionId":"cn-hangzhou","SnapshotGroupId":"ssg-bp1stopped0000000000","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"SnapshotGroupId/excluded_with"}},
	{"instance without Latest", `{"RegionId":"cn-hangzhou","InstanceId":"i-bp1stopped0000000000"}`, []string{"InstanceId/excluded_without_all"}},
	{"Latest without instance", `{"RegionId":"cn-hangzhou","SnapshotGroupId":"ssg-bp1stopped0000000000","Latest":true}`, []string{"Latest/excluded_without"}},
	{"Latest with a group", `{"RegionId":"cn-hangzhou","SnapshotGroupId":"ssg-bp1stopped0000000000","InstanceId":"i-bp1stopped0000000000","Latest":true}`, []string{"Latest/excluded_with"}},
	{"DiskIds with pairs", `{"RegionId":"cn-hangzhou","DiskIds":["` + okDisk + `"],"Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"DiskIds/excluded_with"}},
	{"bad reset mode", `{"RegionId":"cn-hangzhou","ResetMode":"sometimes","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"ResetMode/oneof"}},
	{"bad idempotency key", `{"RegionId":"cn-hangzhou","IdempotencyKey":"<script>","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"IdempotencyKey/idempotencykey"}},
	{"too long idempotency key", `{"RegionId":"cn-hangzhou","IdempotencyKey":"` + strings.Repeat("k", 129) + `","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}]}`, []string{"IdempotencyKey/max"}},
	{"event too large", `{"RegionId":"` + strings.Repeat("x", MaxEventBytes) + `"}`, []string{"(event)/max"}},
	{"deeply nested", `{"RegionId":"cn-hangzhou","Disk":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, []string{"Disk[0]/type"}},
	{"nested past the decoder's depth", `{"RegionId":"cn-hangzhou","Disk":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, []string{"(event)/json"}},
}

func TestDecodeAndValidate(t *testing.T) {
	for _, tt := range decodeCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAndValidate(tt.in)
			got := violations(t, err)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("violations (-got +want):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestValidationErrorNamesFieldAndRule(t *testing.T) {
	_, err := decodeAndValidate(`{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"},{"DiskId":"` + okDisk2 + `","SnapshotId":"x"},{"DiskId":"d-bp1untagged000000000"}]}`)
	if err == nil {
		t.Fatal("got no error, want one")
	}
	msg := err.Error()
	for _, want := range []string{"ValidationFailed", "Disk[1].SnapshotId", "Disk[2].SnapshotId", "is required", "s- followed by"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	var fe *Error
	errors.As(err, &fe)
	if got, want := httpStatus(fe), 400; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
}

func TestDecodeLowerCamelEqualsCanonical(t *testing.T) {
	a, err := DecodeRequest([]byte(`{"regionId":"cn-hangzhou","dryRun":true,"disk":[{"diskId":"` + okDisk + `","snapshotId":"` + okSnap + `"}],"stopInstance":true}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeRequest([]byte(`{"RegionId":"cn-hangzhou","DryRun":true,"Disk":[{"DiskId":"` + okDisk + `","SnapshotId":"` + okSnap + `"}],"StopInstance":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b, cmp.AllowUnexported(Request{})); diff != "" {
		t.Errorf("lowerCamel vs canonical (-got +want):\n%s", diff)
	}
}

// TestSeedGolden checks the seed API page's request and response examples
// round-trip through the function's types unchanged.
func TestSeedGolden(t *testing.T) {
	t.Run("request", func(t *testing.T) {
		raw := readFile(t, "testdata/seed-request.json")
		req, err := DecodeRequest(raw)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		assertJSONEqual(t, marshalT(t, req), raw)
		// The page masks its ids with ****, which real ids never contain.
		if got := violations(t, req.Validate()); len(got) != 2 {
			t.Errorf("masked seed ids: violations %v, want the two ids", got)
		}
	})
	t.Run("response", func(t *testing.T) {
		raw := readFile(t, "testdata/seed-response.json")
		var out ResetDisksOutput
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		assertJSONEqual(t, marshalT(t, out), raw)
		res := Result{RequestID: out.RequestID, OperationProgressSet: out.OperationProgressSet}
		var back struct {
			RequestId            string
			OperationProgressSet json.RawMessage
		}
		if err := json.Unmarshal(marshalT(t, res), &back); err != nil {
			t.Fatal(err)
		}
		var seed struct{ OperationProgressSet json.RawMessage }
		_ = json.Unmarshal(raw, &seed)
		assertJSONEqual(t, back.OperationProgressSet, seed.OperationProgressSet)
	})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshalT(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertJSONEqual compares two JSON documents by value.
func assertJSONEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if diff := cmp.Diff(g, w); diff != "" {
		t.Errorf("JSON differs (-got +want):\n%s", diff)
	}
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	c := Credentials{AccessKeyID: "LTAIsecretish123", AccessKeySecret: "topsecret", SecurityToken: "tok"}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "topsecret") || strings.Contains(s, "tok") || strings.Contains(s, "LTAIsecretish123") {
			t.Errorf("printed %q", s)
		}
	}
}

// TestRequestKeysMatchRequest: events.Detect recognises a direct request by
// its top-level keys (events.RequestKeys, which cannot import this package);
// they must be exactly Request's JSON names.
func TestRequestKeysMatchRequest(t *testing.T) {
	got := slices.Sorted(slices.Values(events.RequestKeys))
	want := slices.Sorted(slices.Values(jsonNames(Request{})))
	if !slices.Equal(got, want) {
		t.Errorf("events.RequestKeys = %v, want Request's JSON names %v", got, want)
	}
}

// TestRuleParametersNameJSONFields: a rule that names other fields names
// them as the caller writes them (SnapshotGroupId), not as Go does.
func TestRuleParametersNameJSONFields(t *testing.T) {
	_, err := decodeAndValidate(`{"RegionId":"cn-hangzhou","SnapshotGroupId":"ssg-bp1stopped0000000000","Latest":true,"InstanceId":"i-bp1stopped0000000000"}`)
	if err == nil || !strings.Contains(err.Error(), "SnapshotGroupId") || strings.Contains(err.Error(), "SnapshotGroupID") {
		t.Errorf("error %v, want the JSON name SnapshotGroupId", err)
	}
}
