package events

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// detectWant is the shape of every sample in testdata; a new sample must be
// added here (TestDetectTestdata fails otherwise). KindUnknown means Detect
// must refuse it (HTTP responses are not events).
var detectWant = map[string]Kind{
	"direct-reset.json":                        KindDirect,
	"direct-dryrun.json":                       KindDirect,
	"direct-lowercamel.json":                   KindDirect,
	"direct-reset-one-disk.json":               KindDirect,
	"direct-reset-health-command.json":         KindDirect,
	"direct-reset-health-http.json":            KindDirect,
	"direct-reset-health-instancestatus.json":  KindDirect,
	"direct-undo-dryrun.json":                  KindDirect,
	"direct-undo.json":                         KindDirect,
	"cloudflow-task.json":                      KindDirect,
	"timer-default.json":                       KindTimer,
	"timer-empty-payload.json":                 KindTimer,
	"timer-nonjson-payload.json":               KindTimer,
	"http-post.json":                           KindHTTP,
	"http-post-base64.json":                    KindHTTP,
	"http-post-dryrun-query.json":              KindHTTP,
	"http-get.json":                            KindHTTP,
	"http-post-text-plain.json":                KindHTTP,
	"http-post-invalid.json":                   KindHTTP,
	"http-response-ok.json":                    KindUnknown,
	"http-response-method-not-allowed.json":    KindUnknown,
	"eventbridge-request.json":                 KindCloudEvent,
	"eventbridge-alarm-alert.json":             KindCloudEvent,
	"eventbridge-alarm-ok.json":                KindCloudEvent,
	"eventbridge-alarm-insufficient-data.json": KindCloudEvent,
	"eventbridge-alarm-json-dimensions.json":   KindCloudEvent,
	"eventbridge-batch.json":                   KindCloudEventBatch,
	"cloudmonitor-alarm-raw.json":              KindCloudMonitorAlarm,
}

func TestDetectTestdata(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		seen++
		want, ok := detectWant[e.Name()]
		if !ok {
			t.Errorf("testdata/%s is not in detectWant: add it with its Kind", e.Name())
			continue
		}
		got, err := Detect(readFile(t, filepath.Join("testdata", e.Name())))
		if want == KindUnknown {
			if err == nil {
				t.Errorf("%s: Detect = %v, want an error", e.Name(), got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%s: Detect = %v, %v; want %v", e.Name(), got, err, want)
		}
	}
	if seen != len(detectWant) {
		t.Errorf("testdata has %d samples, detectWant lists %d", seen, len(detectWant))
	}
}

func TestDetectRules(t *testing.T) {
	cases := []struct {
		in   string
		want Kind
	}{
		{`{"RegionId":"cn-hangzhou"}`, KindDirect},
		{`{"regionId":"cn-hangzhou"}`, KindDirect},
		{`{"disk":[]}`, KindDirect},
		{`{"SnapshotGroupId":"ssg-bp1stopped0000000000"}`, KindDirect},
		{`{"instanceId":"i-bp1stopped0000000000","latest":true}`, KindDirect},
		{`{"Force":true,"RegionId":"x"}`, KindDirect}, // unknown keys are the decoder's to report
		{`{"\u0052egionId":"cn-hangzhou"}`, KindDirect},
		{` 	{"triggerTime":"t","triggerName":"n"}`, KindTimer},
		{`{"triggerTime":"t","triggerName":"n","RegionId":"x"}`, KindTimer},
		{`{"version":"v1","requestContext":{}}`, KindHTTP},
		{`{"rawPath":"/","requestContext":{"RegionId":1}}`, KindHTTP},
		{`{"specversion":"1.0","triggerTime":"t","triggerName":"n"}`, KindCloudEvent},
		{`{"specversion":"1.0","data":{"alertState":"ALERT"}}`, KindCloudEvent},
		{`{"alertState":"OK"}`, KindCloudMonitorAlarm},
		{`{"alertState":"OK","RegionId":"x"}`, KindCloudMonitorAlarm},
		{`[{"specversion":"1.0"}]`, KindCloudEventBatch},
		{`[ {} , {"a":[1,{"b":"]"}]} ]`, KindCloudEventBatch},
		{`{"a":{"RegionId":"x"},"Disk":"}\"{"}`, KindDirect},
	}
	for _, c := range cases {
		got, err := Detect([]byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("Detect(%s) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestDetectJunk(t *testing.T) {
	junk := []string{
		``, `   `, `{`, `}`, `{}`, `[]`, ` [ ] `, `null`, `true`, `42`, `"RegionId"`, `[1]`, `[{}, 2]`, `[{},[]]`,
		`{"triggerTime":"t"}`, `{"requestContext":{}}`, `{"version":"v1","rawPath":"/"}`,
		`{"regionid":"cn-hangzhou"}`, `{"REGIONID":"x"}`, `{"a":{"RegionId":"x"}}`,
		`{"RegionId":"x"`, `{"RegionId":"x"}}`, `{"RegionId":"x"} {}`, "\xff\xfe", `{"RegionId":"x",}`,
		strings.Repeat("[", 100000), strings.Repeat(`{"a":`, 5000),
	}
	for _, in := range junk {
		kind, err := Detect([]byte(in))
		if err == nil {
			t.Errorf("Detect(%.40q) = %v, want an error", in, kind)
			continue
		}
		if kind != KindUnknown || !errors.Is(err, ErrUnrecognized) {
			t.Errorf("Detect(%.40q) = %v, %v", in, kind, err)
		}
		for _, shape := range []string{"rollback request", "timer trigger event", "HTTP trigger event", "CloudEvents 1.0", "JSON array", "CloudMonitor alarm"} {
			if !strings.Contains(err.Error(), shape) {
				t.Errorf("Detect(%.40q) error does not name %q: %v", in, shape, err)
			}
		}
	}
	if _, err := Detect(nil); err == nil {
		t.Error("Detect(nil) succeeded")
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindUnknown: "Unknown", KindDirect: "Direct", KindTimer: "Timer", KindHTTP: "HTTP",
		KindCloudEvent: "CloudEvent", KindCloudEventBatch: "CloudEventBatch", KindCloudMonitorAlarm: "CloudMonitorAlarm", Kind(99): "Kind(99)", Kind(-1): "Kind(-1)"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(k), k.String(), want)
		}
	}
}

func BenchmarkDetectLargeDirect(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"RegionId":"cn-hangzhou","Disk":[`)
	for i := range 2000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"DiskId":"d-bp1stoppedsys0000000","SnapshotId":"s-bp1stoppedsys0000000"}`)
	}
	sb.WriteString(`]}`)
	raw := []byte(sb.String())
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if k, err := Detect(raw); err != nil || k != KindDirect {
			b.Fatal(k, err)
		}
	}
}
