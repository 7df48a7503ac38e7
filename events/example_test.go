package events_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/events"
)

func ExampleDetect() {
	for _, file := range []string{"direct-reset.json", "timer-default.json", "http-post.json",
		"eventbridge-alarm-alert.json", "eventbridge-batch.json", "cloudmonitor-alarm-raw.json"} {
		raw, err := os.ReadFile("testdata/" + file)
		if err != nil {
			panic(err)
		}
		kind, err := events.Detect(raw)
		fmt.Println(file, kind, err)
	}
	_, err := events.Detect([]byte(`{"hello":"world"}`))
	fmt.Println(err != nil)
	// Output:
	// direct-reset.json Direct <nil>
	// timer-default.json Timer <nil>
	// http-post.json HTTP <nil>
	// eventbridge-alarm-alert.json CloudEvent <nil>
	// eventbridge-batch.json CloudEventBatch <nil>
	// cloudmonitor-alarm-raw.json CloudMonitorAlarm <nil>
	// true
}

func ExampleParseDimensions() {
	for _, dims := range []string{
		"{instanceId=i-bp1stopped0000000000, userId=1234567890123456}",
		`[{"userId":"1234567890123456","instanceId":"i-bp1stopped0000000000"}]`,
	} {
		m, err := events.ParseDimensions(dims)
		fmt.Println(m["instanceId"], m["userId"], err)
	}
	// Output:
	// i-bp1stopped0000000000 1234567890123456 <nil>
	// i-bp1stopped0000000000 1234567890123456 <nil>
}

func ExampleCloudMonitorAlarm_InstanceID() {
	raw, _ := os.ReadFile("testdata/eventbridge-alarm-alert.json")
	var ce events.CloudEvent
	if err := json.Unmarshal(raw, &ce); err != nil {
		panic(err)
	}
	var alarm events.CloudMonitorAlarm
	if err := ce.DecodeData(&alarm); err != nil {
		panic(err)
	}
	id, err := alarm.InstanceID()
	fmt.Println(ce.IsCloudMonitorAlarm(), alarm.AlertState, alarm.AlertState.Firing(), id, err)
	// Output: true ALERT true i-bp1stopped0000000000 <nil>
}

func ExampleHTTPTriggerEvent_DecodedBody() {
	raw, _ := os.ReadFile("testdata/http-post-base64.json")
	var req events.HTTPTriggerEvent
	if err := json.Unmarshal(raw, &req); err != nil {
		panic(err)
	}
	body, err := req.DecodedBody(64 << 10)
	fmt.Println(req.Method(), req.Header("content-type"), err)
	fmt.Println(string(body[:26]))
	_, err = req.DecodedBody(16)
	fmt.Println(err)
	// Output:
	// POST application/json <nil>
	// {"RegionId":"cn-hangzhou",
	// events: HTTP body too large: about 198 bytes, at most 16
}

func ExampleTimerEvent() {
	raw, _ := os.ReadFile("testdata/timer-default.json")
	var te events.TimerEvent
	if err := json.Unmarshal(raw, &te); err != nil {
		panic(err)
	}
	kind, _ := events.Detect([]byte(te.Payload))
	fmt.Println(te.TriggerName, te.PayloadIsJSON(), kind)
	// Output: nightly-dryrun true Direct
}

func ExampleHTTPTriggerResponse() {
	resp := events.HTTPTriggerResponse{
		StatusCode: 405,
		Headers:    map[string]string{"Allow": "POST"},
		Body:       `{"Code":"MethodNotAllowed","Message":"POST the rollback request as JSON"}`,
	}
	b, _ := json.Marshal(resp)
	fmt.Println(string(b))
	// Output: {"statusCode":405,"headers":{"Allow":"POST"},"isBase64Encoded":false,"body":"{\"Code\":\"MethodNotAllowed\",\"Message\":\"POST the rollback request as JSON\"}"}
}
