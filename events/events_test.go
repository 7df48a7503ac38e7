package events

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testdataFiles lists testdata/*.json matching the glob.
func testdataFiles(t testing.TB, glob string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no testdata matches %s", glob)
	}
	sort.Strings(files)
	return files
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertJSONEqual compares two JSON documents semantically.
func assertJSONEqual(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("round trip changed the JSON (-want +got):\n%s", diff)
	}
}

// roundTrip unmarshals raw into a new T, marshals it back and compares.
func roundTrip[T any](t *testing.T, raw []byte) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	assertJSONEqual(t, raw, out)
	return v
}

func TestTimerEventRoundTrip(t *testing.T) {
	for _, f := range testdataFiles(t, "timer-*.json") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			e := roundTrip[TimerEvent](t, readFile(t, f))
			if e.TriggerName == "" {
				t.Error("triggerName lost")
			}
			if _, err := e.Time(); err != nil {
				t.Errorf("Time: %v", err)
			}
		})
	}
}

func TestTimerPayload(t *testing.T) {
	cases := map[string]bool{"timer-default.json": true, "timer-empty-payload.json": false, "timer-nonjson-payload.json": false}
	for file, isJSON := range cases {
		var e TimerEvent
		if err := json.Unmarshal(readFile(t, filepath.Join("testdata", file)), &e); err != nil {
			t.Fatal(err)
		}
		if got := e.PayloadIsJSON(); got != isJSON {
			t.Errorf("%s: PayloadIsJSON = %v, want %v", file, got, isJSON)
		}
	}
	// The default timer's payload is a dry-run request the function accepts.
	var e TimerEvent
	_ = json.Unmarshal(readFile(t, "testdata/timer-default.json"), &e)
	if k, err := Detect([]byte(e.Payload)); err != nil || k != KindDirect {
		t.Errorf("Detect(payload) = %v, %v; want Direct", k, err)
	}
	if !strings.Contains(e.Payload, `"DryRun":true`) {
		t.Errorf("the sample timer payload should be a dry run: %s", e.Payload)
	}
}

func TestHTTPTriggerEventRoundTrip(t *testing.T) {
	for _, f := range testdataFiles(t, "http-[gp]*.json") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			e := roundTrip[HTTPTriggerEvent](t, readFile(t, f))
			if e.Version != "v1" || e.RequestContext.HTTP.Method == "" {
				t.Errorf("version/method lost: %+v", e)
			}
			if _, err := e.RequestContext.TimeEpoch.EpochTime(); err != nil {
				t.Errorf("timeEpoch: %v", err)
			}
		})
	}
}

func TestHTTPTriggerResponseRoundTrip(t *testing.T) {
	for _, f := range testdataFiles(t, "http-response-*.json") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := roundTrip[HTTPTriggerResponse](t, readFile(t, f))
			if r.StatusCode == 0 {
				t.Error("statusCode lost")
			}
		})
	}
}

func TestCloudEventRoundTrip(t *testing.T) {
	for _, f := range testdataFiles(t, "eventbridge-*.json") {
		if strings.Contains(f, "batch") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			e := roundTrip[CloudEvent](t, readFile(t, f))
			if e.SpecVersion != SpecVersion10 || e.ID == "" || e.AliyunRegionID != "cn-hangzhou" {
				t.Errorf("attributes lost: %+v", e)
			}
		})
	}
}

func TestCloudEventBatchRoundTrip(t *testing.T) {
	raw := readFile(t, "testdata/eventbridge-batch.json")
	b := roundTrip[CloudEventBatch](t, raw)
	if len(*b) != 2 {
		t.Fatalf("batch has %d events, want 2", len(*b))
	}
	parsed, err := ParseCloudEventBatch(raw)
	if err != nil || len(parsed) != 2 {
		t.Fatalf("ParseCloudEventBatch = %d events, %v", len(parsed), err)
	}
	kinds := []Kind{KindDirect, KindCloudMonitorAlarm}
	for i, e := range parsed {
		if k, err := Detect(e.DataJSON()); err != nil || k != kinds[i] {
			t.Errorf("event %d: Detect(data) = %v, %v; want %v", i, k, err, kinds[i])
		}
	}
	if !parsed[1].IsCloudMonitorAlarm() || parsed[0].IsCloudMonitorAlarm() {
		t.Error("IsCloudMonitorAlarm wrong")
	}
}

func TestCloudEventExtensions(t *testing.T) {
	raw := []byte(`{"id":"1","source":"s","specversion":"1.0","type":"t","data":{"a":1},"aliyunoriginalaccountid":"1","traceparent":"00-abc-01","x-custom":{"n":[1,2]}}`)
	e := roundTrip[CloudEvent](t, raw)
	if len(e.Extensions) != 2 || string(e.Extensions["traceparent"]) != `"00-abc-01"` {
		t.Errorf("Extensions = %v", e.Extensions)
	}
	if e.AliyunOriginalAccountID != "1" {
		t.Errorf("aliyunoriginalaccountid lost")
	}
	// An extension never overrides a named attribute.
	e.Extensions["id"] = json.RawMessage(`"evil"`)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back CloudEvent
	if err := json.Unmarshal(b, &back); err != nil || back.ID != "1" {
		t.Errorf("id after marshal = %q, %v", back.ID, err)
	}
	e.Extensions["bad"] = json.RawMessage(`{`)
	if _, err := json.Marshal(e); err == nil {
		t.Error("an invalid extension was marshalled")
	}
}

func TestCloudEventData(t *testing.T) {
	cases := []struct {
		data string
		want string
	}{
		{`{"RegionId":"cn-hangzhou"}`, `{"RegionId":"cn-hangzhou"}`},
		{`"{\"RegionId\":\"cn-hangzhou\"}"`, `{"RegionId":"cn-hangzhou"}`},
		{`null`, ``},
		{``, ``},
		{`"not json"`, `not json`},
	}
	for _, c := range cases {
		e := CloudEvent{ID: "x", Data: json.RawMessage(c.data)}
		if got := string(e.DataJSON()); got != c.want {
			t.Errorf("DataJSON(%s) = %q, want %q", c.data, got, c.want)
		}
	}
	var e CloudEvent
	if err := json.Unmarshal(readFile(t, "testdata/eventbridge-request.json"), &e); err != nil {
		t.Fatal(err)
	}
	var req struct {
		RegionId string
		DryRun   bool
	}
	if err := e.DecodeData(&req); err != nil || req.RegionId != "cn-hangzhou" || !req.DryRun {
		t.Errorf("DecodeData = %+v, %v", req, err)
	}
	if err := (&CloudEvent{ID: "empty"}).DecodeData(&req); err == nil {
		t.Error("DecodeData without data succeeded")
	}
}

// alarmSamples returns every CloudMonitor alarm in testdata: raw ones and
// the data of the EventBridge alarm events.
func alarmSamples(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range testdataFiles(t, "cloudmonitor-*.json") {
		out[filepath.Base(f)] = readFile(t, f)
	}
	for _, f := range testdataFiles(t, "eventbridge-alarm-*.json") {
		var e CloudEvent
		if err := json.Unmarshal(readFile(t, f), &e); err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)+"#data"] = e.DataJSON()
	}
	return out
}

func TestCloudMonitorAlarmRoundTrip(t *testing.T) {
	for name, raw := range alarmSamples(t) {
		t.Run(name, func(t *testing.T) {
			a := roundTrip[CloudMonitorAlarm](t, raw)
			if !a.AlertState.Known() {
				t.Errorf("alertState %q unknown", a.AlertState)
			}
			id, err := a.InstanceID()
			if err != nil || id != "i-bp1stopped0000000000" {
				t.Errorf("InstanceID = %q, %v", id, err)
			}
			if ts, err := a.Time(); err != nil || ts.Year() != 2026 {
				t.Errorf("Time = %v, %v", ts, err)
			}
		})
	}
}

func TestAlertStates(t *testing.T) {
	want := map[string]AlertState{
		"eventbridge-alarm-alert.json#data":             AlertStateAlert,
		"eventbridge-alarm-ok.json#data":                AlertStateOK,
		"eventbridge-alarm-insufficient-data.json#data": AlertStateInsufficientData,
		"eventbridge-alarm-json-dimensions.json#data":   AlertStateAlert,
		"cloudmonitor-alarm-raw.json":                   AlertStateAlert,
	}
	samples := alarmSamples(t)
	for name, state := range want {
		var a CloudMonitorAlarm
		if err := json.Unmarshal(samples[name], &a); err != nil {
			t.Fatal(name, err)
		}
		if a.AlertState != state {
			t.Errorf("%s: alertState %q, want %q", name, a.AlertState, state)
		}
		if a.AlertState.Firing() != (state == AlertStateAlert) {
			t.Errorf("%s: Firing = %v", name, a.AlertState.Firing())
		}
	}
	if !AlertStateAlarm.Firing() || AlertState("alert").Known() {
		t.Error("ALARM must fire; states are case-sensitive")
	}
}

func TestInstanceIDErrors(t *testing.T) {
	for dims, wantErr := range map[string]error{
		"{userId=1}":   ErrNoInstanceID,
		"":             ErrNoInstanceID,
		`{"userId":1}`: ErrNoInstanceID,
		"instanceId":   nil, // parse error, not ErrNoInstanceID
	} {
		a := CloudMonitorAlarm{Dimensions: dims}
		id, err := a.InstanceID()
		if err == nil || id != "" {
			t.Errorf("InstanceID(%q) = %q, %v; want an error", dims, id, err)
			continue
		}
		if wantErr != nil && !errors.Is(err, wantErr) {
			t.Errorf("InstanceID(%q) error %v, want %v", dims, err, wantErr)
		}
	}
	a := CloudMonitorAlarm{Dimensions: "{InstanceId=i-bp1running0000000000}"}
	if id, err := a.InstanceID(); err != nil || id != "i-bp1running0000000000" {
		t.Errorf("InstanceId spelling: %q, %v", id, err)
	}
}

func TestParseDimensions(t *testing.T) {
	cases := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{in: "{instanceId=i-bp1stopped0000000000, userId=1234567890123456}", want: map[string]string{"instanceId": "i-bp1stopped0000000000", "userId": "1234567890123456"}},
		{in: "  {instanceId = i-x ,userId=1,}  ", want: map[string]string{"instanceId": "i-x", "userId": "1"}},
		{in: "{device=/dev/vda1, instanceId=i-x}", want: map[string]string{"device": "/dev/vda1", "instanceId": "i-x"}},
		{in: "{tag=a=b}", want: map[string]string{"tag": "a=b"}},
		{in: "{k=}", want: map[string]string{"k": ""}},
		{in: `{"instanceId":"i-x","userId":1234567890123456}`, want: map[string]string{"instanceId": "i-x", "userId": "1234567890123456"}},
		{in: `[{"userId":"1","instanceId":"i-x"}]`, want: map[string]string{"instanceId": "i-x", "userId": "1"}},
		{in: `[{"userId":"1"},{"instanceId":"i-x","flag":true,"n":null}]`, want: map[string]string{"instanceId": "i-x", "userId": "1", "flag": "true"}},
		{in: `{"a":"\u0069-x"}`, want: map[string]string{"a": "i-x"}},
		{in: "", want: map[string]string{}},
		{in: "{}", want: map[string]string{}},
		{in: "[]", want: map[string]string{}},
		{in: "{ }", want: map[string]string{}},
		{in: "instanceId=i-x", wantErr: true},
		{in: "{instanceId}", wantErr: true},
		{in: "{=i-x}", wantErr: true},
		{in: "{a=1, a=2}", wantErr: true},
		{in: `{"instanceId":`, wantErr: true},
		{in: `{"instanceId":{"x":1}}`, wantErr: true},
		{in: `{"instanceId":[1]}`, wantErr: true},
		{in: `[{"a":"1"},{"a":"2"}]`, wantErr: true},
		{in: `["i-x"]`, wantErr: true},
		{in: `[`, wantErr: true},
		{in: "{", wantErr: true},
	}
	for _, c := range cases {
		got, err := ParseDimensions(c.in)
		if c.wantErr {
			if err == nil {
				t.Errorf("ParseDimensions(%q) = %v, want an error", c.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDimensions(%q): %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseDimensions(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

// TestMalformedJSON: each decoder reports malformed or mistyped JSON as an
// error, never a panic or a half-filled value passed off as success.
func TestMalformedJSON(t *testing.T) {
	inputs := map[string][]string{
		"TimerEvent":          {`{`, `{"triggerTime":1}`, `{"payload":{"RegionId":"cn-hangzhou"}}`, `[]`, `"x"`},
		"HTTPTriggerEvent":    {`{"version":`, `{"headers":["a"]}`, `{"isBase64Encoded":"yes"}`, `{"requestContext":{"http":{"method":1}}}`, `{"requestContext":{"timeEpoch":{}}}`, `7`},
		"HTTPTriggerResponse": {`{"statusCode":"200"}`, `{"headers":{"a":1}}`, `{"body":`},
		"CloudEvent":          {`{"id":`, `{"id":1}`, `{"specversion":true}`, `null`, `[]`, `{"data":}`},
		"CloudEventBatch":     {`[`, `[1]`, `{"id":"1"}`, `[{"id":2}]`},
		"CloudMonitorAlarm":   {`{"alertState":`, `{"alertState":1}`, `{"dimensions":{"instanceId":"i-x"}}`, `{"timestamp":{}}`, `{"curValue":[1]}`, `{"timestamp":nul}`},
	}
	decode := map[string]func([]byte) error{
		"TimerEvent":          func(b []byte) error { var v TimerEvent; return json.Unmarshal(b, &v) },
		"HTTPTriggerEvent":    func(b []byte) error { var v HTTPTriggerEvent; return json.Unmarshal(b, &v) },
		"HTTPTriggerResponse": func(b []byte) error { var v HTTPTriggerResponse; return json.Unmarshal(b, &v) },
		"CloudEvent":          func(b []byte) error { var v CloudEvent; return json.Unmarshal(b, &v) },
		"CloudEventBatch":     func(b []byte) error { _, err := ParseCloudEventBatch(b); return err },
		"CloudMonitorAlarm":   func(b []byte) error { var v CloudMonitorAlarm; return json.Unmarshal(b, &v) },
	}
	for typ, ins := range inputs {
		for _, in := range ins {
			if err := decode[typ]([]byte(in)); err == nil {
				t.Errorf("%s: %s decoded without error", typ, in)
			}
		}
	}
	if _, err := ParseCloudEventBatch([]byte("null")); err == nil {
		t.Error("a null batch decoded")
	}
}

func TestHTTPHelpers(t *testing.T) {
	var e HTTPTriggerEvent
	if err := json.Unmarshal(readFile(t, "testdata/http-post-dryrun-query.json"), &e); err != nil {
		t.Fatal(err)
	}
	if e.Method() != "POST" {
		t.Errorf("Method = %q", e.Method())
	}
	for _, name := range []string{"Content-Type", "content-type", "CONTENT-TYPE"} {
		if got := e.Header(name); got != "application/json" {
			t.Errorf("Header(%q) = %q", name, got)
		}
	}
	if got := e.Header("X-Absent"); got != "" {
		t.Errorf("absent header = %q", got)
	}
	if v, ok := e.Query("dryRun"); !ok || v != "true" {
		t.Errorf("Query(dryRun) = %q, %v", v, ok)
	}
	if _, ok := e.Query("dryrun"); ok {
		t.Error("query names must be case-sensitive")
	}
	// Names that differ only in case: exact match, else the smallest name.
	e.Headers = map[string]string{"x-a": "1", "X-A": "2", "X-a": "3"}
	if e.Header("x-a") != "1" || e.Header("X-A") != "2" || e.Header("x-A") != "2" {
		t.Errorf("Header tie-break wrong: %q %q %q", e.Header("x-a"), e.Header("X-A"), e.Header("x-A"))
	}
	e.Headers = nil
	if e.Header("a") != "" {
		t.Error("nil headers")
	}
	e.RequestContext.HTTP.Method = " post "
	if e.Method() != "POST" {
		t.Errorf("Method = %q", e.Method())
	}
}

func TestDecodedBody(t *testing.T) {
	var e HTTPTriggerEvent
	if err := json.Unmarshal(readFile(t, "testdata/http-post-base64.json"), &e); err != nil {
		t.Fatal(err)
	}
	body, err := e.DecodedBody(64 << 10)
	if err != nil || !strings.HasPrefix(string(body), `{"RegionId":"cn-hangzhou"`) {
		t.Fatalf("DecodedBody = %q, %v", body, err)
	}
	if k, err := Detect(body); err != nil || k != KindDirect {
		t.Errorf("Detect(body) = %v, %v", k, err)
	}
	if _, err := e.DecodedBody(len(body) - 1); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("limit below the size: %v", err)
	}
	if b, err := e.DecodedBody(len(body)); err != nil || len(b) != len(body) {
		t.Errorf("limit at the size: %v", err)
	}
	cases := []struct {
		body    string
		b64     bool
		limit   int
		want    string
		wantErr error
	}{
		{body: "abc", limit: 3, want: "abc"},
		{body: "abcd", limit: 3, wantErr: ErrBodyTooLarge},
		{body: "abcd", limit: 0, want: "abcd"},
		{body: "YWJj", b64: true, limit: 3, want: "abc"},
		{body: "YWI=", b64: true, limit: 2, want: "ab"},
		{body: "YWI", b64: true, limit: 2, want: "ab"},
		{body: " YWJj\n", b64: true, want: "abc"},
		{body: "YWJjZA==", b64: true, limit: 3, wantErr: ErrBodyTooLarge},
		{body: strings.Repeat("QUFB", 1000), b64: true, limit: 10, wantErr: ErrBodyTooLarge},
		{body: "!!!!", b64: true, wantErr: ErrBadBase64},
		{body: "YWJjZ", b64: true, wantErr: ErrBadBase64},
		{body: "", b64: true, want: ""},
	}
	for _, c := range cases {
		e := HTTPTriggerEvent{Body: c.body, IsBase64Encoded: c.b64}
		got, err := e.DecodedBody(c.limit)
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) {
				t.Errorf("DecodedBody(%q, b64=%v, %d) error = %v, want %v", c.body, c.b64, c.limit, err, c.wantErr)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("DecodedBody(%q, b64=%v, %d) = %q, %v; want %q", c.body, c.b64, c.limit, got, err, c.want)
		}
	}
}

func TestFlexString(t *testing.T) {
	cases := []struct {
		in      string
		want    FlexString
		wantErr bool
	}{
		{in: `"1795659881000"`, want: "1795659881000"},
		{in: `1795659881000`, want: "1795659881000"},
		{in: `97.39`, want: "97.39"},
		{in: `true`, want: "true"},
		{in: `null`, want: ""},
		{in: `{}`, wantErr: true},
		{in: `[1]`, wantErr: true},
		{in: ``, wantErr: true},
		{in: `nul`, wantErr: true},
		{in: `1x`, wantErr: true},
	}
	for _, c := range cases {
		var f FlexString
		err := f.UnmarshalJSON([]byte(c.in))
		if (err != nil) != c.wantErr || (!c.wantErr && f != c.want) {
			t.Errorf("FlexString(%s) = %q, %v", c.in, f, err)
		}
	}
	b, _ := json.Marshal(FlexString("12"))
	if string(b) != `"12"` {
		t.Errorf("marshal = %s", b)
	}
	for in, wantUnix := range map[FlexString]int64{"1795659881": 1795659881, "1795659881000": 1795659881} {
		ts, err := in.EpochTime()
		if err != nil || ts.Unix() != wantUnix {
			t.Errorf("EpochTime(%s) = %v, %v", in, ts, err)
		}
	}
	if _, err := FlexString("soon").EpochTime(); err == nil {
		t.Error("EpochTime(soon) succeeded")
	}
	if v, err := FlexString("97.39").Float64(); err != nil || v != 97.39 {
		t.Errorf("Float64 = %v, %v", v, err)
	}
}
