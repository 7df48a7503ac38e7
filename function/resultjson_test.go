package function

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/fc/messages"
)

// reflectResult is Result without its MarshalJSON: encoding/json encodes
// it by reflection, the encoding Result.MarshalJSON must reproduce.
type reflectResult Result

// checkResultJSON fails unless the hand encoding of r, and json.Marshal of
// r (which calls it), are byte for byte the reflection encoding.
func checkResultJSON(t *testing.T, r *Result) {
	t.Helper()
	want, err := json.Marshal((*reflectResult)(r))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.appendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("hand encoding differs from reflection:\n got %s\nwant %s", got, want)
	}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("json.Marshal(*Result) differs from reflection:\n got %s\nwant %s", got, want)
	}
}

// TestResultJSONMatchesReflect: random Results (every exported field of
// every nested type, found by reflection: a field added later is covered)
// encode byte for byte as encoding/json encodes them by reflection.
func TestResultJSONMatchesReflect(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		var r Result
		fillRandom(reflect.ValueOf(&r).Elem(), rnd, i%4 == 0, 0)
		checkResultJSON(t, &r)
	}
	checkResultJSON(t, &Result{})
}

// TestResultJSONGolden: the results of the handler's own paths (a passed
// dry run, a refused one carried in an error) encode as by reflection.
func TestResultJSONGolden(t *testing.T) {
	h := benchHandler()
	for _, disks := range []int{1, 2, 12} {
		t.Run(strconv.Itoa(disks), func(t *testing.T) {
			req, err := DecodeRequest(benchEvent(disks, true))
			if err != nil {
				t.Fatal(err)
			}
			res, err := h.Run(context.Background(), Invocation{RequestID: "r-1"}, req)
			if err != nil {
				t.Fatal(err)
			}
			checkResultJSON(t, res)
			out, err := h.Invoke(context.Background(), benchEvent(disks, true))
			if err != nil {
				t.Fatal(err)
			}
			// Invoke's answer is another run (its steps' DurationMs may
			// differ): it must be the reflection encoding of what it says.
			var answered Result
			if err := json.Unmarshal(out, &answered); err != nil {
				t.Fatalf("Invoke answered %s: %v", out, err)
			}
			want, _ := json.Marshal((*reflectResult)(&answered))
			if !bytes.Equal(out, want) {
				t.Errorf("Invoke answered\n%s\nwant\n%s", out, want)
			}
		})
	}
}

// TestToFCErrorCarriesResultJSON: a failure's message carries its Result
// encoded as by reflection.
func TestToFCErrorCarriesResultJSON(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	for range 50 {
		res := &Result{}
		fillRandom(reflect.ValueOf(res).Elem(), rnd, false, 0)
		fe := &Error{Code: ErrPlanRefused, Message: "refused", Result: res}
		b, _ := json.Marshal((*reflectResult)(res))
		want := fe.Error() + "; result: " + string(b)
		got, ok := ToFCError(fe).(messages.InvokeResponse_Error)
		if !ok || got.Message != want {
			t.Fatalf("ToFCError message\n%s\nwant\n%s", got.Message, want)
		}
	}
}

func TestAppendJSONStringMatchesReflect(t *testing.T) {
	var cases []string
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	cases = append(cases, trickyStrings...)
	rnd := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		cases = append(cases, randomString(rnd))
	}
	for _, s := range cases {
		checkJSONString(t, s)
	}
}

func checkJSONString(t *testing.T, s string) {
	t.Helper()
	want, _ := json.Marshal(s)
	if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
		t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}
