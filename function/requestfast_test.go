package function

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wellFormedRequests must take the fast path: every field, both spellings,
// escapes and non-ASCII text, spacing, integers at their edges.
var wellFormedRequests = []string{
	`{"RegionId":"cn-hangzhou","DryRun":true,"Disk":[{"DiskId":"d-bp1a","SnapshotId":"s-bp1a"},{"DiskId":"d-bp1b","SnapshotId":"s-bp1b"}]}`,
	`{"regionId":"cn-hangzhou","dryRun":false,"disk":[{"diskId":"d-x","snapshotId":"s-y"}],"stopInstance":true}`,
	" \n{ \"RegionId\" : \"cn-hangzhou\" ,\t\"Disk\" : [ ] , \"DiskIds\" : [ ] }\r\n",
	`{"RegionId":"cn-hangzhou","SnapshotGroupId":"ssg-1","DiskIds":["d-1","d-2"],"InstanceId":"i-1","Latest":true}`,
	`{"RegionId":"cn-hangzhou","Disk":[{}],"StopInstance":true,"StartInstance":true,"Wait":true,"BackupBeforeReset":true,"ResetMode":"always","FailOnPartial":false,"IdempotencyKey":"k-1"}`,
	`{"RegionId":"cn-hangzhou","Disk":[],"HealthCheck":{"Type":"HTTP","Port":8080,"Path":"/healthz","ExpectStatus":204,"TimeoutSeconds":-0},"OnUnhealthy":"Undo"}`,
	`{"RegionId":"cn-hangzhou","healthCheck":{"type":"Command","port":9223372036854775807,"expectStatus":-9223372036854775808,"timeoutSeconds":0}}`,
	`{"RegionId":"cn-hangzhou","HealthCheck":{},"UndoRollback":{"InstanceId":"i-1"}}`,
	`{"RegionId":"cn-hangzhou","undoRollback":{}}`,
	`{"RegionId":"cn-hang\u007a\u0068ou","IdempotencyKey":"\u00e9\ud83d\ude00\n\"\\\/","Disk":[{"DiskId":"d-\u0031","SnapshotId":"日本"}]}`,
	"{\"Reg\\u0069onId\":\"cn-hangzhou\",\"IdempotencyKey\":\"\xff\\ud800\"}",
	`{}`,
}

// requestCorpus is every request the tests know: the decode cases, the
// events' test data, the fuzz corpus, and the well-formed list.
func requestCorpus(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, c := range decodeCases {
		out = append(out, []byte(c.in))
	}
	for _, s := range wellFormedRequests {
		out = append(out, []byte(s))
	}
	files, _ := filepath.Glob("../events/testdata/*.json")
	files = append(files, "testdata/seed-request.json")
	for _, p := range files {
		out = append(out, readFile(t, p))
	}
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzDecodeRequest/*")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// go test fuzz v1, then []byte("...").
		_, arg, _ := strings.Cut(string(b), "\n")
		arg = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(arg), "[]byte("), ")")
		s, err := strconv.Unquote(arg)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, []byte(s))
	}
	return out
}

// checkFastMatchesReflect fails when the fast decoder accepts a request
// the reflection path refuses or decodes differently.
func checkFastMatchesReflect(t *testing.T, in []byte) (fastOK bool) {
	t.Helper()
	fast, ok := decodeRequestFast(in, false)
	slow, err := decodeRequestReflect(in)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("fast path accepted %q; reflection path: %v", in, err)
	}
	if diff := cmp.Diff(fast, slow, cmp.AllowUnexported(Request{})); diff != "" {
		t.Fatalf("decoding %q (-fast +reflect):\n%s", in, diff)
	}
	if (fast.Disk == nil) != (slow.Disk == nil) || (fast.DiskIDs == nil) != (slow.DiskIDs == nil) {
		t.Fatalf("decoding %q: nil and empty slices differ: fast %#v, reflect %#v", in, fast, slow)
	}
	return true
}

func TestDecodeRequestFastMatchesReflect(t *testing.T) {
	took := 0
	for i, in := range requestCorpus(t) {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if checkFastMatchesReflect(t, in) {
				took++
			}
		})
	}
	if took < len(wellFormedRequests) {
		t.Errorf("the fast path took %d of the corpus, fewer than the well-formed requests", took)
	}
}

func TestDecodeRequestFastTakesWellFormed(t *testing.T) {
	for i, in := range wellFormedRequests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := checkFastMatchesReflect(t, []byte(in)); !got {
				t.Errorf("fast path refused %s", in)
			}
		})
	}
}

// TestDecodeRequestFastKnowsEveryField: a request with every field set
// (found by reflection, so a field added to Request is included) takes the
// fast path and decodes as the reflection path decodes it.
func TestDecodeRequestFastKnowsEveryField(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var req Request
		fillRandom(reflect.ValueOf(&req).Elem(), rnd, true, 0)
		in, err := json.Marshal(&req)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 { // the lowerCamel spellings
			in = bytes.ReplaceAll(in, []byte(`"RegionId"`), []byte(`"regionId"`))
			in = bytes.ReplaceAll(in, []byte(`"DiskId"`), []byte(`"diskId"`))
		}
		if !checkFastMatchesReflect(t, in) {
			t.Fatalf("fast path refused %s", in)
		}
	}
}

// FuzzDecodeRequestFast: whatever the input, the fast path either declines
// or decodes exactly what the reflection path decodes.
func FuzzDecodeRequestFast(f *testing.F) {
	for _, s := range wellFormedRequests {
		f.Add([]byte(s))
	}
	for _, c := range decodeCases {
		if len(c.in) < 4096 {
			f.Add([]byte(c.in))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkFastMatchesReflect(t, in)
	})
}
