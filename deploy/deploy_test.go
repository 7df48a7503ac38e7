package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/events"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

const root = ".." // the repository root, seen from deploy/

func loadYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// get walks a YAML document by keys (string: map key; int: list index).
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for i, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a map at %v", path[:i+1], path[:i])
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("%v: missing", path[:i+1])
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no such element", path[:i+1])
			}
			v = l[k]
		}
	}
	return v
}

func str(t *testing.T, v any, path ...any) string {
	t.Helper()
	s, ok := get(t, v, path...).(string)
	if !ok {
		t.Fatalf("%v is not a string", path)
	}
	return s
}

// TestServerlessDevs checks s.yaml: the function's settings and triggers.
func TestServerlessDevs(t *testing.T) {
	doc := loadYAML(t, "s.yaml")
	if v := fmt.Sprint(get(t, doc, "edition")); v != "3.0.0" {
		t.Errorf("edition = %s, want 3.0.0", v)
	}
	res := get(t, doc, "resources").(map[string]any)
	if len(res) != 1 {
		t.Fatalf("want one resource, got %d", len(res))
	}
	var fn any
	for _, r := range res {
		fn = r
	}
	if c := str(t, fn, "component"); c != "fc3" {
		t.Errorf("component = %q", c)
	}
	pre := get(t, fn, "actions", "pre-deploy").([]any)
	if len(pre) == 0 || !strings.Contains(str(t, pre[0], "run"), "make package") {
		t.Errorf("actions.pre-deploy must run make package (build, then zip the binary alone): %v", pre)
	}
	props := get(t, fn, "props")
	for key, want := range map[string]string{"runtime": "go1", "handler": "main", "code": "./target/function.zip"} {
		if got := str(t, props, key); got != want {
			t.Errorf("props.%s = %q, want %q", key, got, want)
		}
	}
	timeout, _ := get(t, props, "timeout").(int)
	if timeout < 300 || timeout > 86400 {
		t.Errorf("timeout = %d s: a stop/reset/wait/start rollback needs minutes", timeout)
	}
	mem, _ := get(t, props, "memorySize").(int)
	if mem < 128 || mem > 32768 || mem%64 != 0 {
		t.Errorf("memorySize = %d: FC takes 128..32768 in steps of 64", mem)
	}
	if role := str(t, props, "role"); !strings.HasPrefix(role, "acs:ram::") || !strings.Contains(role, ":role/") {
		t.Errorf("role = %q, want a RAM role ARN", role)
	}

	env := get(t, props, "environmentVariables").(map[string]any)
	wantEnv := map[string]string{
		"ECS_NETWORK": "public", "ALLOWED_DISK_TAG": "rollback=allowed", "ROLLBACK_COOLDOWN": "30m",
		"FAIL_ON_PARTIAL": "false", "ALARM_ROLLBACK": "false", "RESET_MODE": "auto", "LOG_LEVEL": "info",
		"BACKUP_RETENTION_DAYS": "7", "HEALTH_HTTP_ADDRESS": "private",
	}
	for k, want := range wantEnv {
		v, ok := env[k]
		if !ok {
			t.Errorf("environmentVariables.%s missing", k)
			continue
		}
		if s, isStr := v.(string); !isStr || s != want {
			t.Errorf("environmentVariables.%s = %#v, want the string %q (FC takes strings only)", k, v, want)
		}
	}
	for k := range env {
		if _, ok := wantEnv[k]; !ok && k != "ALARM_STOP_START" {
			t.Errorf("environmentVariables.%s: unknown to the function", k)
		}
	}
	// The values must be ones the function accepts.
	getenv := func(k string) string { s, _ := env[k].(string); return s }
	if _, err := function.ConfigFromEnv(getenv); err != nil {
		t.Errorf("the function rejects s.yaml's environment: %v", err)
	}

	triggers := get(t, props, "triggers").([]any)
	byType := map[string]any{}
	names := map[string]bool{}
	for i := range triggers {
		typ := str(t, triggers, i, "triggerType")
		if _, dup := byType[typ]; dup {
			t.Errorf("two %s triggers", typ)
		}
		byType[typ] = triggers[i]
		name := str(t, triggers, i, "triggerName")
		if names[name] {
			t.Errorf("trigger name %q used twice", name)
		}
		names[name] = true
	}
	for _, typ := range []string{"timer", "http", "eventbridge"} {
		if byType[typ] == nil {
			t.Fatalf("no %s trigger", typ)
		}
	}

	timer := get(t, byType["timer"], "triggerConfig")
	if enabled, ok := get(t, timer, "enable").(bool); !ok || enabled {
		t.Error("the timer trigger must be disabled (enable: false): operators enable it deliberately")
	}
	if cron := str(t, timer, "cronExpression"); len(strings.Fields(strings.TrimPrefix(cron, "CRON_TZ="))) < 6 && !strings.HasPrefix(cron, "@every") {
		t.Errorf("cronExpression %q: FC cron has six fields", cron)
	}
	payload := str(t, timer, "payload")
	if k, err := events.Detect([]byte(payload)); err != nil || k != events.KindDirect {
		t.Errorf("timer payload is not a rollback request: %v %v", k, err)
	}
	req, err := function.DecodeRequest([]byte(payload))
	if err != nil {
		t.Fatalf("timer payload: %v", err)
	}
	if !req.DryRun {
		t.Error("the sample timer payload must be a dry run")
	}

	http := get(t, byType["http"], "triggerConfig")
	if a := str(t, http, "authType"); a != "function" {
		t.Errorf("http authType = %q: must be function (never anonymous)", a)
	}
	methods := get(t, http, "methods").([]any)
	if len(methods) != 1 || methods[0] != "POST" {
		t.Errorf("http methods = %v, want [POST]", methods)
	}

	eb := get(t, byType["eventbridge"], "triggerConfig")
	var pattern map[string][]string
	if err := json.Unmarshal([]byte(str(t, eb, "eventRuleFilterPattern")), &pattern); err != nil {
		t.Fatalf("eventRuleFilterPattern is not JSON: %v", err)
	}
	if !slices.Equal(pattern["source"], []string{events.SourceCloudMonitor}) {
		t.Errorf("eventbridge filter source = %v, want [acs.cms] only", pattern["source"])
	}
	if !slices.Equal(pattern["type"], []string{events.TypeCloudMonitorAlertWebHook}) {
		t.Errorf("eventbridge filter type = %v, want the CloudMonitor alarm type", pattern["type"])
	}
	if s := str(t, eb, "eventSourceConfig", "eventSourceType"); s != "Default" {
		t.Errorf("eventSourceType = %q, want Default (the EventBridge system bus)", s)
	}
	if s := str(t, eb, "eventSinkConfig", "deliveryOption", "eventSchema"); s != "CloudEvents" && s != "RawData" {
		t.Errorf("eventSchema = %q", s)
	}
}

// The RAM policy grants exactly these actions; see docs/triggers.md.
var (
	// mutating actions: each must be scoped to ECS resource ARNs.
	scopedActions = map[string][]string{
		"ecs:ResetDisks":     {"disk", "snapshot"},
		"ecs:ResetDisk":      {"disk", "snapshot"},
		"ecs:StopInstance":   {"instance"},
		"ecs:StartInstance":  {"instance"},
		"ecs:CreateSnapshot": {"disk", "snapshot"},
		"ecs:TagResources":   {"disk", "snapshot", "instance"}, // instance: the stopped-by tag
		// The health gate runs one registered command, never any other.
		"ecs:InvokeCommand": {"instance", "command"},
	}
	// read-only list/describe actions: ECS authorises them on all resources.
	readActions = []string{"ecs:DescribeDisks", "ecs:DescribeInstances", "ecs:DescribeSnapshots", "ecs:DescribeSnapshotGroups", "ecs:ListTagResources",
		"ecs:DescribeInstancesFullStatus", "ecs:DescribeCloudAssistantStatus", "ecs:DescribeInvocationResults"}
)

type policy struct {
	Version   string
	Statement []struct {
		Effect    string
		Action    stringList
		Resource  stringList
		Condition map[string]any
	}
}

// stringList is a RAM policy element: a string or a list of strings.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// loadPolicy reads a RAM policy document and checks its version.
func loadPolicy(t *testing.T, file string) policy {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != "1" {
		t.Errorf("%s: Version = %q, want 1", file, p.Version)
	}
	return p
}

func TestRAMPolicy(t *testing.T) {
	p := loadPolicy(t, "ram-policy.json")
	granted := map[string]bool{}
	for i, st := range p.Statement {
		if st.Effect != "Allow" {
			t.Errorf("statement %d: Effect %q (the policy only allows)", i, st.Effect)
		}
		for _, a := range st.Action {
			if strings.Contains(a, "*") {
				t.Errorf("statement %d: wildcard action %q", i, a)
			}
			granted[a] = true
			if kinds, ok := scopedActions[a]; ok {
				for _, r := range st.Resource {
					kind, ok := ecsARNKind(r)
					if !ok || !slices.Contains(kinds, kind) {
						t.Errorf("statement %d: %s on %q; want ECS %v ARNs (acs:ecs:<region>:<account>:<type>/<id>)", i, a, r, kinds)
					}
				}
				for _, kind := range kinds {
					if !slices.ContainsFunc(st.Resource, func(r string) bool { k, _ := ecsARNKind(r); return k == kind }) {
						t.Errorf("statement %d: %s lacks its %s resource", i, a, kind)
					}
				}
			} else if slices.Contains(readActions, a) {
				for _, r := range st.Resource {
					if r != "*" {
						if _, ok := ecsARNKind(r); !ok {
							t.Errorf("statement %d: %s on %q", i, a, r)
						}
					}
				}
			} else {
				t.Errorf("statement %d: action %q is not one the function needs", i, a)
			}
			if a == "ecs:InvokeCommand" {
				for _, r := range st.Resource {
					if k, _ := ecsARNKind(r); k == "command" && strings.HasSuffix(r, "/*") {
						t.Errorf("statement %d: InvokeCommand on every command (%s): grant the one HEALTH_COMMAND_ID names", i, r)
					}
				}
			}
			// A statement mixing a read action with "*" must not also hold a mutating one.
			if slices.Contains(st.Resource, "*") && scopedActions[a] != nil {
				t.Errorf("statement %d: %s on every resource", i, a)
			}
		}
	}
	var want []string
	for a := range scopedActions {
		want = append(want, a)
	}
	want = append(want, readActions...)
	for _, a := range want {
		if !granted[a] {
			t.Errorf("the policy does not grant %s, which the function calls", a)
		}
	}
}

// ecsARNKind returns the resource type of an ECS ARN such as
// acs:ecs:*:*:disk/*.
func ecsARNKind(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) != 5 || parts[0] != "acs" || parts[1] != "ecs" {
		return "", false
	}
	kind, _, ok := strings.Cut(parts[4], "/")
	return kind, ok && kind != "" && kind != "*"
}

// allowedErrorNames are the names a flow may match in Retry/Catch Errors:
//   - the function's own errorTypes (function.FunctionErrorTypes);
//   - the ECS throttling codes the function passes through (function.ThrottlingCodes);
//   - ECS error codes documented for ResetDisks (the seed API page's error
//     table) that the function reports as the errorType unchanged;
//   - CloudFlow's catch-all FnF.ALL and FC's own invocation errors (FC.*),
//     documented by CloudFlow's FC integration.
func allowedErrorNames() map[string]bool {
	m := map[string]bool{"FnF.ALL": true, "FC.ResourceThrottled": true, "FC.ResourceExhausted": true, "FC.InternalServerError": true}
	for _, n := range function.FunctionErrorTypes() {
		m[n] = true
	}
	for _, n := range function.ThrottlingCodes {
		m[n] = true
	}
	for _, n := range []string{
		"Operation.Conflict", "IncorrectDiskStatus", "IncorrectDiskStatus.HasUnfinishedSnapshot",
		"IncorrectInstanceStatus", "InvalidSnapshotId.NotReady", "InternalError",
		"InvalidDiskId.NotFound", "InvalidSnapshotId.NotFound", "InvalidInstanceId.NotFound",
	} {
		m[n] = true
	}
	return m
}

// state is one FDL state, with the fields the checks read.
type state struct {
	Type       string         `yaml:"Type"`
	Name       string         `yaml:"Name"`
	Next       string         `yaml:"Next"`
	End        bool           `yaml:"End"`
	Action     string         `yaml:"Action"`
	TaskMode   string         `yaml:"TaskMode"`
	Default    string         `yaml:"Default"`
	Parameters map[string]any `yaml:"Parameters"`
	// OutputConstructor of a Pass or Task.
	OutputConstructor map[string]any `yaml:"OutputConstructor"`
	Retry             []rule         `yaml:"Retry"`
	Catch             []rule         `yaml:"Catch"`
	Branches          []branch       `yaml:"Branches"`
	ItemsPath         string         `yaml:"ItemsPath"`
	MaxConcurrency    int            `yaml:"MaxConcurrency"`
	MaxConcuccency    int            `yaml:"MaxConcuccency"` // the spelling of CloudFlow's reference page
	Processor         *scope         `yaml:"Processor"`
	ProcessorConfig   map[string]any `yaml:"ProcessorConfig"` // distributed mode
	ItemReader        map[string]any `yaml:"ItemReader"`      // distributed mode
	// inSubWorkflow: a task of a distributed Map's Processor.
	inSubWorkflow bool
	Seconds       int    `yaml:"Seconds"` // Wait
	Code          string `yaml:"Code"`    // Fail (optional)
	Detail        string `yaml:"Detail"`  // Fail (required)
	Error         string `yaml:"Error"`   // the AWS spelling: CloudFlow rejects it
	Cause         string `yaml:"Cause"`   // the AWS spelling: CloudFlow rejects it
}

type branch struct {
	Condition string `yaml:"Condition"`
	Next      string `yaml:"Next"`
}

type rule struct {
	Errors            []string       `yaml:"Errors"`
	ErrorEquals       []string       `yaml:"ErrorEquals"` // the AWS spelling: CloudFlow would ignore it
	Description       string         `yaml:"Description"`
	MaxAttempts       int            `yaml:"MaxAttempts"`
	IntervalSeconds   int            `yaml:"IntervalSeconds"`
	BackoffRate       float64        `yaml:"BackoffRate"`
	MaxBackoffSeconds int            `yaml:"MaxBackoffSeconds"`
	Next              string         `yaml:"Next"`
	OutputConstructor map[string]any `yaml:"OutputConstructor"` // Catch
}

type scope struct {
	StartAt string  `yaml:"StartAt"`
	States  []state `yaml:"States"`
}

type flow struct {
	Type        string `yaml:"Type"`
	Name        string `yaml:"Name"`
	SpecVersion string `yaml:"SpecVersion"`
	scope       `yaml:",inline"`
}

func loadFlow(t *testing.T, path string) flow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	var f flow
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// checkScope checks one scope (the flow, or a Map's Processor) and returns
// its Task states, recursively.
func checkScope(t *testing.T, where string, s scope) []state {
	t.Helper()
	names := map[string]bool{}
	for _, st := range s.States {
		if st.Name == "" || st.Type == "" {
			t.Errorf("%s: a state without Name or Type", where)
		}
		if names[st.Name] {
			t.Errorf("%s: state %q defined twice", where, st.Name)
		}
		names[st.Name] = true
	}
	if !names[s.StartAt] {
		t.Errorf("%s: StartAt %q is no state", where, s.StartAt)
	}
	target := func(from, to string) {
		if to != "" && !names[to] {
			t.Errorf("%s: %s goes to %q, which is no state of its scope", where, from, to)
		}
	}
	var tasks []state
	allowed := allowedErrorNames()
	for _, st := range s.States {
		at := where + "/" + st.Name
		target(st.Name, st.Next)
		target(st.Name, st.Default)
		switch st.Type {
		case "Choice", "Fail", "Succeed":
		default:
			if st.End == (st.Next != "") {
				t.Errorf("%s: needs exactly one of Next and End", at)
			}
		}
		for _, b := range st.Branches {
			target(st.Name, b.Next)
			if b.Condition == "" {
				t.Errorf("%s: a branch without Condition", at)
			}
		}
		for i, r := range append(append([]rule{}, st.Retry...), st.Catch...) {
			if len(r.ErrorEquals) > 0 {
				t.Errorf("%s: rule %d uses ErrorEquals; CloudFlow's field is Errors", at, i)
			}
			if len(r.Errors) == 0 || r.Description == "" {
				t.Errorf("%s: rule %d needs Errors and Description", at, i)
			}
			for _, e := range r.Errors {
				if !allowed[e] {
					t.Errorf("%s: error name %q is not one the function (or FC, or CloudFlow) emits", at, e)
				}
			}
		}
		for i, r := range st.Retry {
			if r.MaxAttempts < 1 || r.IntervalSeconds < 1 || r.BackoffRate < 1 {
				t.Errorf("%s: Retry %d needs MaxAttempts, IntervalSeconds and a BackoffRate >= 1 (back off)", at, i)
			}
			if slices.Contains(r.Errors, "FnF.ALL") {
				t.Errorf("%s: Retry %d retries everything; a refused rollback must not be retried", at, i)
			}
		}
		for _, c := range st.Catch {
			target(st.Name, c.Next)
		}
		switch st.Type {
		case "Task":
			tasks = append(tasks, st)
		case "Map":
			checkMapItems(t, at, st)
			sub := checkScope(t, at, *st.Processor)
			for i := range sub {
				sub[i].inSubWorkflow = sub[i].inSubWorkflow || st.ProcessorConfig != nil
			}
			tasks = append(tasks, sub...)
		}
	}
	return tasks
}

// checkTask checks an FC:InvokeFunction task: retried on throttling, with
// the catch-all caught.
func checkTask(t *testing.T, where string, st state) {
	t.Helper()
	at := where + "/" + st.Name
	if st.Action != "FC:InvokeFunction" || st.TaskMode != "RequestComplete" {
		t.Errorf("%s: Action %q TaskMode %q", at, st.Action, st.TaskMode)
	}
	arn, _ := st.Parameters["resourceArn"].(string)
	if !strings.HasPrefix(arn, "acs:fc:") || !strings.Contains(arn, ":functions/ecs-disk-rollback") {
		t.Errorf("%s: resourceArn %q does not name the function", at, arn)
	}
	if st.Parameters["invocationType"] != "Sync" {
		t.Errorf("%s: invocationType must be Sync (the flow needs the result)", at)
	}
	retried := map[string]bool{}
	for _, r := range st.Retry {
		for _, e := range r.Errors {
			retried[e] = true
		}
	}
	for _, e := range append(slices.Clone(function.ThrottlingCodes), function.ErrECSUnreachable, "FC.ResourceThrottled") {
		if !retried[e] {
			t.Errorf("%s: %s is not retried", at, e)
		}
	}
	catchesAll := len(st.Catch) > 0 && slices.Contains(st.Catch[len(st.Catch)-1].Errors, "FnF.ALL")
	switch {
	case st.inSubWorkflow && catchesAll:
		t.Errorf("%s: a distributed Map's task must fail its sub-workflow, which the tolerance counts and ResultWriter records: no catch-all", at)
	case !st.inSubWorkflow && !catchesAll:
		t.Errorf("%s: the last Catch must be the catch-all FnF.ALL (custom error names may not match)", at)
	}
}

func TestFlows(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "flows", "*.yaml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("flows: %v %v", files, err)
	}
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			f := loadFlow(t, rel)
			if f.Type != "StateMachine" || f.SpecVersion != "v1" || f.Name == "" {
				t.Errorf("Type %q SpecVersion %q Name %q", f.Type, f.SpecVersion, f.Name)
			}
			tasks := checkScope(t, f.Name, f.scope)
			if len(tasks) == 0 {
				t.Fatal("no Task invokes the function")
			}
			for _, st := range tasks {
				checkTask(t, f.Name, st)
			}
		})
	}
}

// TestFleetFlow checks the fleet flow's shape: Plan and Tally invoke the
// function with the execution's input and name (the fleet invocation,
// function/fleet.go); the Map sends each item itself as the event, all of
// a wave at once (MaxConcurrency at least the function's wave cap, 10);
// waves are paced (a Wait of at least 60 s, ResetDisk's quota window); a
// failed canary or a halt ends in a Fail state after Report.
func TestFleetFlow(t *testing.T) {
	f := loadFlow(t, "flows/fleet-rollback.yaml")
	byName := map[string]state{}
	for _, st := range f.States {
		byName[st.Name] = st
	}
	plan, tally, wave := byName[f.StartAt], byName["Tally"], byName["RunWave"]
	for _, task := range []state{plan, tally} {
		body, _ := task.Parameters["body"].(map[string]any)
		if task.Type != "Task" || body["Fleet.$"] != "$Context.Execution.Input" || body["Key.$"] != "$Context.Execution.Name" {
			t.Errorf("%s must invoke the function with Fleet = the execution input and Key = its name: %v", task.Name, task.Parameters)
		}
	}
	if wave.Type != "Map" || wave.ItemsPath != "$Input.Next" || wave.Processor == nil {
		t.Fatalf("RunWave must map over $Input.Next: %+v", wave)
	}
	if conc := max(wave.MaxConcurrency, wave.MaxConcuccency); conc < 10 {
		t.Errorf("RunWave MaxConcurrency %d: a wave (at most 10) must start all at once", conc)
	}
	task := wave.Processor.States[0]
	if task.Parameters["body.$"] != "$Input" {
		t.Errorf("each iteration must send the item itself as the event: %v", task.Parameters)
	}
	catchNext := task.Catch[len(task.Catch)-1].Next
	for _, st := range wave.Processor.States {
		if st.Name == catchNext && !st.End {
			t.Errorf("%s must end the iteration", catchNext)
		}
	}
	if p := byName["PaceWaves"]; p.Type != "Wait" || p.Seconds < 60 || p.Next != wave.Name {
		t.Errorf("PaceWaves must wait at least 60 s before a wave: %+v", p)
	}
	codes := map[string]bool{}
	for _, st := range f.States {
		if st.Type == "Fail" {
			codes[st.Code] = true
		}
	}
	for _, c := range []string{"CanaryFailed", "FleetHalted", "FleetPlanFailed"} {
		if !codes[c] {
			t.Errorf("no Fail state with Code %s", c)
		}
	}
	// The actions the Route state branches on are the function's.
	route := byName["Route"]
	for _, want := range []string{function.FleetRunWave, function.FleetPauseThenRunWave} {
		if !slices.ContainsFunc(route.Branches, func(b branch) bool { return strings.Contains(b.Condition, `"`+want+`"`) }) {
			t.Errorf("Route has no branch for %s", want)
		}
	}
}

func TestGuardedFlow(t *testing.T) {
	f := loadFlow(t, "flows/guarded-rollback.yaml")
	byName := map[string]state{}
	for _, st := range f.States {
		byName[st.Name] = st
	}
	var order []string
	for name := f.StartAt; name != ""; {
		st := byName[name]
		order = append(order, st.Type)
		if len(order) > 10 {
			t.Fatal("loop")
		}
		switch {
		case st.Next != "":
			name = st.Next
		case len(st.Branches) > 0:
			name = st.Branches[0].Next
		default:
			name = ""
		}
	}
	if !slices.Equal(order, []string{"Pass", "Task", "Choice", "Wait", "Task"}) {
		t.Errorf("happy path = %v, want prepare, dry run, check, wait, real run", order)
	}
	// The request goes whole, merged with the fields each run sets: the
	// function refuses null fields, which field-by-field copying would send
	// for every field the request leaves out.
	dry, real := byName["DryRun"], byName["RealRun"]
	for _, tc := range []struct {
		st     state
		fields string
	}{{dry, "DryRunFields"}, {real, "RealRunFields"}} {
		if got, want := tc.st.Parameters["body.$"], "jsonMerge($Context.Execution.Input.Request, $Input."+tc.fields+")"; got != want {
			t.Errorf("%s body.$ = %v, want %s", tc.st.Name, got, want)
		}
	}
	oc, _ := byName[f.StartAt].OutputConstructor["DryRunFields"].(map[string]any)
	rc, _ := byName[f.StartAt].OutputConstructor["RealRunFields"].(map[string]any)
	if oc["DryRun"] != true || rc["DryRun"] != false {
		t.Errorf("DryRun: first %v, then %v; want true, then false", oc["DryRun"], rc["DryRun"])
	}
	if rc["IdempotencyKey.$"] == nil {
		t.Error("the real run needs an IdempotencyKey: its retries must not reset twice")
	}
	// Every field a run adds is a request field the function accepts.
	fields := map[string]bool{}
	for _, k := range events.RequestKeys {
		fields[k] = true
	}
	for _, m := range []map[string]any{oc, rc} {
		for k := range m {
			if k := strings.TrimSuffix(k, ".$"); !fields[k] {
				t.Errorf("field %q is not a request field", k)
			}
		}
	}
}
