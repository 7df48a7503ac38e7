package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds every testdata sample (and the data of each CloudEvent in
// it) plus some junk as seeds. `go test` runs them; `make fuzz` explores.
// Corpus entries found by fuzzing go under testdata/fuzz/<Target>/.
func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		var e CloudEvent
		if json.Unmarshal(b, &e) == nil && len(e.Data) > 0 {
			f.Add([]byte(e.Data))
		}
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `[{}]`, `{"a":`, `{"\u0072awPath":1,"requestContext":0}`, "\x00"} {
		f.Add([]byte(s))
	}
}

// FuzzDetect: Detect never panics, and its answer is consistent: an error
// comes with KindUnknown and wraps ErrUnrecognized; a kind is only given
// to valid JSON of the matching outer form.
func FuzzDetect(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		k, err := Detect(raw)
		if err != nil {
			if k != KindUnknown || !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("Detect = %v, %v", k, err)
			}
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("Detect accepted invalid JSON as %v", k)
		}
		first := bytes.TrimLeft(raw, " \t\r\n")[0]
		if (k == KindCloudEventBatch) != (first == '[') {
			t.Fatalf("Detect = %v for a value starting with %q", k, first)
		}
		if k == KindCloudEventBatch {
			var elems []map[string]json.RawMessage
			if err := json.Unmarshal(raw, &elems); err != nil || len(elems) == 0 {
				t.Fatalf("batch of non-objects: %v", err)
			}
			return
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(raw, &top); err != nil {
			t.Fatalf("Detect = %v for a non-object: %v", k, err)
		}
		has := func(key string) bool { _, ok := top[key]; return ok }
		switch k {
		case KindCloudEvent:
			if !has("specversion") {
				t.Fatal("CloudEvent without specversion")
			}
		case KindTimer:
			if !has("triggerTime") || !has("triggerName") {
				t.Fatal("timer without its keys")
			}
		case KindHTTP:
			if !has("requestContext") {
				t.Fatal("HTTP without requestContext")
			}
		case KindCloudMonitorAlarm:
			if !has("alertState") {
				t.Fatal("alarm without alertState")
			}
		case KindDirect:
			found := false
			for key := range top {
				found = found || requestKeySet[key]
			}
			if !found {
				t.Fatal("Direct without a request key")
			}
		}
	})
}

// stable checks decode → encode → decode → encode gives the same bytes.
func stable[T any](t *testing.T, raw []byte) *T {
	v := new(T)
	if json.Unmarshal(raw, v) != nil {
		return nil
	}
	b1, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal after a successful unmarshal: %v", err)
	}
	w := new(T)
	if err := json.Unmarshal(b1, w); err != nil {
		t.Fatalf("re-unmarshal: %v\n%s", err, b1)
	}
	b2, err := json.Marshal(w)
	if err != nil || !bytes.Equal(b1, b2) {
		t.Fatalf("not stable:\n%s\n%s", b1, b2)
	}
	return v
}

func FuzzTimerEvent(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if e := stable[TimerEvent](t, raw); e != nil {
			_, _ = e.Time()
			_ = e.PayloadIsJSON()
		}
	})
}

func FuzzHTTPTriggerEvent(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		e := stable[HTTPTriggerEvent](t, raw)
		if e == nil {
			return
		}
		_ = e.Method()
		_ = e.Header("content-type")
		_, _ = e.Query("dryRun")
		for _, limit := range []int{0, 1, 16, 64 << 10} {
			b, err := e.DecodedBody(limit)
			if err == nil && limit > 0 && len(b) > limit {
				t.Fatalf("DecodedBody(%d) returned %d bytes", limit, len(b))
			}
		}
	})
}

func FuzzCloudEvent(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if e := stable[CloudEvent](t, raw); e != nil {
			_ = e.DataJSON()
			_ = e.IsCloudMonitorAlarm()
		}
		_, _ = ParseCloudEventBatch(raw)
	})
}

func FuzzCloudMonitorAlarm(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if a := stable[CloudMonitorAlarm](t, raw); a != nil {
			_, _ = a.InstanceID()
			_, _ = a.Time()
		}
	})
}

func FuzzParseDimensions(f *testing.F) {
	for _, s := range []string{"{instanceId=i-x, userId=1}", `{"instanceId":"i-x"}`, `[{"instanceId":"i-x"}]`, "", "{}", "{=}", "{a=b=c,,}", `[{"a":1},{"a":1}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseDimensions(s)
		if err == nil && m == nil {
			t.Fatal("nil map without an error")
		}
		if err != nil && m != nil {
			t.Fatal("a map with an error")
		}
	})
}
