package deploy

// Checks that the deployment files use the platform's fields as its public
// references define them (the deployment must match the platform). Each
// check names the page it rests on; docs/triggers.md cites the same pages.

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/ecsclient"
)

// functionProps returns props of s.yaml's one fc3 resource.
func functionProps(t *testing.T) map[string]any {
	t.Helper()
	doc := loadYAML(t, "s.yaml")
	for _, r := range get(t, doc, "resources").(map[string]any) {
		p, ok := get(t, r, "props").(map[string]any)
		if !ok {
			t.Fatal("props is not a map")
		}
		return p
	}
	t.Fatal("s.yaml has no resource")
	return nil
}

// checkNetwork is the rule for ECS_NETWORK: the VPC endpoint
// (ecs-vpc.<region>.aliyuncs.com) is reachable only from a VPC, and FC's
// default network reaches public endpoints only ("Configure network
// settings", FC 3.0). So ECS_NETWORK=vpc needs vpcConfig with the three
// fields fc3 requires (vpcId, vSwitchIds, securityGroupId: IVpcConfig in
// devsapp/fc3 src/schema.json; VPCConfig of the FC 2023-03-30 API).
func checkNetwork(props map[string]any) error {
	env, _ := props["environmentVariables"].(map[string]any)
	network, _ := env["ECS_NETWORK"].(string)
	switch strings.ToLower(strings.TrimSpace(network)) {
	case "", ecsclient.NetworkPublic:
		return nil
	case ecsclient.NetworkVPC:
	default:
		return fmt.Errorf("ECS_NETWORK=%q: want public or vpc", network)
	}
	vc, ok := props["vpcConfig"].(map[string]any)
	if !ok {
		return fmt.Errorf("ECS_NETWORK=vpc without vpcConfig: FC's default network cannot reach ecs-vpc.<region>.aliyuncs.com")
	}
	for _, k := range []string{"vpcId", "securityGroupId"} {
		if s, _ := vc[k].(string); s == "" {
			return fmt.Errorf("vpcConfig.%s missing", k)
		}
	}
	if l, _ := vc["vSwitchIds"].([]any); len(l) == 0 {
		return fmt.Errorf("vpcConfig.vSwitchIds missing")
	}
	return nil
}

func TestCheckNetwork(t *testing.T) {
	full := map[string]any{"vpcId": "vpc-1", "vSwitchIds": []any{"vsw-1"}, "securityGroupId": "sg-1"}
	for _, tc := range []struct {
		name    string
		network string
		vpc     map[string]any
		wantErr bool
	}{
		{"unset", "", nil, false},
		{"public", "public", nil, false},
		{"vpc without vpcConfig", "vpc", nil, true},
		{"vpc with vpcConfig", "vpc", full, false},
		{"vpc without vSwitchIds", "vpc", map[string]any{"vpcId": "vpc-1", "securityGroupId": "sg-1"}, true},
		{"vpc without securityGroupId", "vpc", map[string]any{"vpcId": "vpc-1", "vSwitchIds": []any{"vsw-1"}}, true},
		{"unknown network", "intranet", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]any{"environmentVariables": map[string]any{}}
			if tc.network != "" {
				props["environmentVariables"].(map[string]any)["ECS_NETWORK"] = tc.network
			}
			if tc.vpc != nil {
				props["vpcConfig"] = tc.vpc
			}
			err := checkNetwork(props)
			if got := err != nil; got != tc.wantErr {
				t.Errorf("checkNetwork error = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// TestNetwork checks s.yaml's network: the public HTTPS endpoint by default,
// the same one the function picks (ecsclient), and the VPC option documented
// in a comment with vpcConfig and the role permissions FC needs for it.
func TestNetwork(t *testing.T) {
	props := functionProps(t)
	if err := checkNetwork(props); err != nil {
		t.Errorf("s.yaml: %v", err)
	}
	env := props["environmentVariables"].(map[string]any)
	getenv := func(k string) string { s, _ := env[k].(string); return s }
	cfg, err := ecsclient.ConfigFromEnv(getenv)
	if err != nil {
		t.Fatalf("ecsclient rejects s.yaml's environment: %v", err)
	}
	got, err := cfg.EndpointURL("cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://ecs.cn-hangzhou.aliyuncs.com"; got != want {
		t.Errorf("s.yaml's ECS endpoint = %s, want %s (the public HTTPS endpoint)", got, want)
	}
	// Without vpcConfig, the function's own default is the same endpoint.
	def, _ := ecsclient.Config{}.EndpointURL("cn-hangzhou")
	if def != got {
		t.Errorf("ecsclient's default endpoint %s differs from s.yaml's %s", def, got)
	}

	raw, err := os.ReadFile(filepath.Join(root, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var comments strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "#") {
			comments.WriteString(line + "\n")
		}
	}
	for _, want := range []string{"# vpcConfig:", "vpcId:", "vSwitchIds:", "securityGroupId:", "ECS_NETWORK: vpc", "deploy/ram-policy-vpc.json", "AliyunServiceRoleForFC"} {
		if !strings.Contains(comments.String(), want) {
			t.Errorf("s.yaml's comments lack %q: the VPC endpoint must stay a documented option", want)
		}
	}
}

// TestVPCPolicy checks deploy/ram-policy-vpc.json: the actions of FC's
// service-linked role policy AliyunServiceRolePolicyForFC that attach a
// function to a VPC ("Service-linked role of Function Compute", FC 3.0), and
// nothing else.
func TestVPCPolicy(t *testing.T) {
	p := loadPolicy(t, "ram-policy-vpc.json")
	var got []string
	for i, st := range p.Statement {
		if st.Effect != "Allow" {
			t.Errorf("statement %d: Effect %q", i, st.Effect)
		}
		got = append(got, st.Action...)
	}
	want := []string{
		"ecs:CreateNetworkInterface", "ecs:CreateNetworkInterfacePermission",
		"ecs:DeleteNetworkInterface", "ecs:DeleteNetworkInterfacePermission",
		"ecs:DescribeNetworkInterfacePermissions", "ecs:DescribeNetworkInterfaces",
		"vpc:DescribeVSwitchAttributes", "vpc:DescribeVpcAttribute",
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("actions = %v, want %v", got, want)
	}
}

// makeRecipe returns the recipe lines of a Makefile target.
func makeRecipe(t *testing.T, target string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, target+":"):
			in = true
		case in && strings.HasPrefix(line, "\t"):
			lines = append(lines, strings.TrimSpace(line))
		case in:
			return lines
		}
	}
	return lines
}

// TestCodeIsBinaryAlone checks that s.yaml uploads the binary alone: code
// is the zip `make package` writes, and that zip holds the handler's binary
// and nothing else. fc3 uploads a code path ending in .zip as it is and
// zips a directory whole (devsapp/fc3 src/subCommands/deploy/impl/function.ts,
// _assertNeedZip), so `code: ./target` would upload every build output.
func TestCodeIsBinaryAlone(t *testing.T) {
	props := functionProps(t)
	code := str(t, props, "code")
	handler := str(t, props, "handler")
	if !strings.HasSuffix(code, ".zip") {
		t.Fatalf("code = %q: want the zip holding the binary alone, not a directory", code)
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^BIN := (\S+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no BIN := line")
	}
	bin := string(m[1])
	if got := path.Base(bin); got != handler {
		t.Errorf("Makefile builds %s; its base name %q must be the handler %q", bin, got, handler)
	}
	recipe := makeRecipe(t, "package")
	zipPath := strings.TrimPrefix(code, "./")
	// One zipfn run of $(BIN) alone that writes code's zip (as -o, or as the
	// -also copy of the versioned zip).
	zipOf := regexp.MustCompile(`^@?\$\(GO\) run \./internal/tools/zipfn( -sha256)?( -also (\S+))? -o (\S+) \$\(BIN\)$`)
	if len(recipe) != 1 || zipOf.FindStringSubmatch(recipe[0]) == nil {
		t.Fatalf("package recipe = %q, want one zipfn run over $(BIN) alone", recipe)
	}
	if m := zipOf.FindStringSubmatch(recipe[0]); m[3] != zipPath && m[4] != zipPath {
		t.Errorf("package recipe %q does not write %s (s.yaml code)", recipe[0], zipPath)
	}
	if testing.Short() {
		return
	}
	// Run zipfn as the recipe does and look inside the zip.
	dir := t.TempDir()
	fake := filepath.Join(dir, handler)
	if err := os.WriteFile(fake, []byte("\x7fELF not really"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, path.Base(zipPath))
	cmd := exec.Command("go", "run", "./internal/tools/zipfn", "-o", out, fake)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zipfn: %v\n%s", err, b)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s: mode %v, want executable", f.Name, f.Mode())
		}
	}
	if want := []string{handler}; !slices.Equal(names, want) {
		t.Errorf("zip entries = %v, want %v (the binary alone)", names, want)
	}
}

// TestEventBridgeTrigger checks the eventbridge trigger against FC 3.0's
// EventBridgeTriggerConfig, EventSinkConfig, DeliveryOption and RunOptions
// (FC 2023-03-30 API reference): no FC 2.0-only fields such as
// deliveryOption.mode, asynchronous invocation, and FC's async retry
// settings within fc3's ranges (IAsyncInvokeConfig in devsapp/fc3
// src/schema.json).
func TestEventBridgeTrigger(t *testing.T) {
	props := functionProps(t)
	var eb map[string]any
	for _, tr := range props["triggers"].([]any) {
		if str(t, tr, "triggerType") == "eventbridge" {
			eb, _ = get(t, tr, "triggerConfig").(map[string]any)
		}
	}
	if eb == nil {
		t.Fatal("no eventbridge trigger")
	}
	allowed := map[string][]string{
		"triggerConfig":   {"asyncInvocationType", "eventRuleFilterPattern", "eventSinkConfig", "eventSourceConfig", "runOptions", "triggerEnable"},
		"eventSinkConfig": {"deliveryOption"},
		"deliveryOption":  {"concurrency", "eventSchema"},
		"runOptions":      {"batchWindow", "deadLetterQueue", "errorsTolerance", "mode", "retryStrategy"},
	}
	sink, _ := eb["eventSinkConfig"].(map[string]any)
	delivery, _ := sink["deliveryOption"].(map[string]any)
	run, _ := eb["runOptions"].(map[string]any)
	for _, tc := range []struct {
		name string
		m    map[string]any
	}{
		{"triggerConfig", eb}, {"eventSinkConfig", sink}, {"deliveryOption", delivery}, {"runOptions", run},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k := range tc.m {
				if !slices.Contains(allowed[tc.name], k) {
					t.Errorf("%s.%s is not an FC 3.0 field (allowed: %v)", tc.name, k, allowed[tc.name])
				}
			}
		})
	}
	if _, ok := delivery["mode"]; ok {
		t.Error("eventSinkConfig.deliveryOption.mode is FC 2.0 only; FC 3.0 has runOptions.mode")
	}
	if s, _ := delivery["eventSchema"].(string); s != "CloudEvents" && s != "RawData" {
		t.Errorf("deliveryOption.eventSchema = %q, want CloudEvents or RawData", s)
	}
	if mode, ok := run["mode"]; ok && mode != "event-driven" {
		t.Errorf("runOptions.mode = %v: the Default (system bus) source is event-driven", mode)
	}
	if got, ok := eb["asyncInvocationType"].(bool); !ok || !got {
		t.Errorf("asyncInvocationType = %v, want true: a rollback runs for minutes; async lets FC queue and retry it", eb["asyncInvocationType"])
	}
	aic, ok := props["asyncInvokeConfig"].(map[string]any)
	if !ok {
		t.Fatal("asyncInvokeConfig missing: state the async retries and event age")
	}
	for _, tc := range []struct {
		key      string
		min, max int
	}{
		{"maxAsyncRetryAttempts", 0, 8},
		{"maxAsyncEventAgeInSeconds", 1, 2592000},
	} {
		t.Run(tc.key, func(t *testing.T) {
			got, ok := aic[tc.key].(int)
			if !ok || got < tc.min || got > tc.max {
				t.Errorf("asyncInvokeConfig.%s = %v, want an integer in [%d, %d]", tc.key, aic[tc.key], tc.min, tc.max)
			}
		})
	}
	if got, _ := aic["maxAsyncRetryAttempts"].(int); got == 0 {
		t.Error("maxAsyncRetryAttempts = 0: the idempotency key makes retries safe; keep them")
	}
}

// FDL fields per state type, from the CloudFlow reference pages ("Task",
// "Pass", "Wait", "Choice", "Fail state", "Succeed", "Map state: inline
// mode", "Distributed mode", "Error handling", "Flow definition").
// MaxConcurrency: the pages spell it MaxConcuccency (unconfirmed which one
// the engine reads; see flows/fleet-rollback.yaml). The distributed-mode
// fields are the page's field table; their sub-fields (distributedFields)
// and ToleratedFailurePercentage.$ are unconfirmed (the stored page ends
// before their sections; flows/fleet-rollback-distributed.yaml says why
// each was chosen).
var (
	commonFields = []string{"Type", "Name", "Description", "InputConstructor", "OutputConstructor"}
	flowFields   = map[string][]string{
		"Task":    {"Next", "End", "Action", "TaskMode", "Parameters", "Retry", "Catch"},
		"Pass":    {"Next", "End"},
		"Wait":    {"Next", "End", "Seconds"},
		"Choice":  {"Branches", "Default"},
		"Fail":    {"Code", "Detail"},
		"Succeed": {},
		"Map": {"Next", "End", "ItemsPath", "Processor", "Retry", "Catch", "MaxConcurrency", "MaxConcuccency",
			"ProcessorConfig", "ItemConstructor", "ItemReader", "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailurePercentage.$"},
	}
	// distributedFields are the sub-fields of the distributed mode's
	// objects ("Distributed mode"; unconfirmed but ExecutionMode).
	distributedFields = map[string][]string{
		"ProcessorConfig":             {"ExecutionMode"},
		"ItemReader":                  {"SourceType", "SourceParameters"},
		"ItemReader.SourceParameters": {"Bucket", "Bucket.$", "ObjectName", "ObjectName.$"},
		"ResultWriter":                {"Parameters"},
		"ResultWriter.Parameters":     {"Bucket", "Bucket.$", "Prefix", "Prefix.$"},
	}
	topFields   = []string{"Type", "Name", "SpecVersion", "Description", "StartAt", "States"}
	scopeFields = []string{"StartAt", "States"}
	retryFields = []string{"Errors", "Description", "MaxAttempts", "IntervalSeconds", "BackoffRate", "MaxBackoffSeconds"}
	catchFields = []string{"Errors", "Description", "OutputConstructor", "Next"}
	branchField = []string{"Condition", "Next"}
)

// unknownKeys reports the keys of m not in allowed, prefixed with where.
func unknownKeys(where string, m map[string]any, allowed ...[]string) []string {
	var bad []string
	for k := range m {
		if !slices.ContainsFunc(allowed, func(a []string) bool { return slices.Contains(a, k) }) {
			bad = append(bad, where+"."+k)
		}
	}
	sort.Strings(bad)
	return bad
}

// checkRawScope walks a scope as plain YAML and reports every field the
// CloudFlow reference does not define for where it is used.
func checkRawScope(where string, sc map[string]any) []string {
	var bad []string
	states, _ := sc["States"].([]any)
	for i, raw := range states {
		st, _ := raw.(map[string]any)
		typ, _ := st["Type"].(string)
		name, _ := st["Name"].(string)
		at := fmt.Sprintf("%s/%s", where, name)
		own, ok := flowFields[typ]
		if !ok {
			bad = append(bad, fmt.Sprintf("%s/States[%d]: unknown Type %q", where, i, typ))
			continue
		}
		bad = append(bad, unknownKeys(at, st, commonFields, own)...)
		for _, list := range []struct {
			key    string
			fields []string
		}{{"Retry", retryFields}, {"Catch", catchFields}, {"Branches", branchField}} {
			rules, _ := st[list.key].([]any)
			for j, r := range rules {
				rm, _ := r.(map[string]any)
				bad = append(bad, unknownKeys(fmt.Sprintf("%s.%s[%d]", at, list.key, j), rm, list.fields)...)
			}
		}
		for path, fields := range distributedFields {
			if sub, ok := dig(st, strings.Split(path, ".")...); ok {
				bad = append(bad, unknownKeys(at+"."+path, sub, fields)...)
			}
		}
		if p, ok := st["Processor"].(map[string]any); ok {
			bad = append(bad, unknownKeys(at+".Processor", p, scopeFields)...)
			bad = append(bad, checkRawScope(at, p)...)
		}
	}
	return bad
}

// dig walks nested objects by keys.
func dig(m map[string]any, keys ...string) (map[string]any, bool) {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}

// allStates returns every state of a scope, nested Processors included.
func allStates(s scope) []state {
	var out []state
	for _, st := range s.States {
		out = append(out, st)
		if st.Processor != nil {
			out = append(out, allStates(*st.Processor)...)
		}
	}
	return out
}

// TestFlowsMatchCloudFlow checks each flow against the CloudFlow reference:
// only documented fields; Fail states with Detail (Code optional), never
// the AWS Step Functions Error/Cause; Catch handlers reading the error from
// $Context.Current.Error, never $Output ("Data passing"); Retry intervals
// within 86400 s ("Error handling"); Wait within 1-300 s, the Standard-mode
// range ("Wait"); and a Description, which CreateFlow requires.
func TestFlowsMatchCloudFlow(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "flows", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("flows: %v %v", files, err)
	}
	for _, file := range files {
		rel, _ := filepath.Rel(root, file)
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw := loadYAML(t, rel)
			if bad := append(unknownKeys("flow", raw, topFields), checkRawScope("flow", raw)...); len(bad) > 0 {
				t.Errorf("fields CloudFlow does not define: %v", bad)
			}
			if d, _ := raw["Description"].(string); strings.TrimSpace(d) == "" {
				t.Error("Description missing: CreateFlow requires one")
			}
			f := loadFlow(t, rel)
			var fails int
			for _, st := range allStates(f.scope) {
				at := st.Name
				if st.Type == "Fail" {
					fails++
					if strings.TrimSpace(st.Detail) == "" {
						t.Errorf("%s: a Fail state needs Detail", at)
					}
					if st.Error != "" || st.Cause != "" {
						t.Errorf("%s: Error/Cause are AWS Step Functions fields; CloudFlow's are Code and Detail", at)
					}
				}
				if st.Type == "Wait" && (st.Seconds < 1 || st.Seconds > 300) {
					t.Errorf("%s: Seconds %d; a Standard-mode Wait takes 1-300", at, st.Seconds)
				}
				for i, r := range st.Retry {
					if r.IntervalSeconds > 86400 || r.MaxBackoffSeconds > 86400 {
						t.Errorf("%s: Retry %d interval over 86400 s", at, i)
					}
				}
				for i, c := range st.Catch {
					refs := constructorRefs(c.OutputConstructor)
					if !slices.ContainsFunc(refs, func(r string) bool { return strings.HasPrefix(r, "$Context.Current.Error") }) {
						t.Errorf("%s: Catch %d does not record $Context.Current.Error: %v", at, i, refs)
					}
					for _, r := range refs {
						if strings.HasPrefix(r, "$Output") {
							t.Errorf("%s: Catch %d reads %s; a failed state has no output, the error is $Context.Current.Error", at, i, r)
						}
					}
				}
			}
			if f.Name == "ecs-disk-rollback-guarded" && fails == 0 {
				t.Error("the guarded flow ends refused rollbacks in Fail states; none found")
			}
		})
	}
}

// constructorRefs returns the expressions of a constructor's `.$` keys.
func constructorRefs(m map[string]any) []string {
	var out []string
	for k, v := range m {
		switch v := v.(type) {
		case string:
			if strings.HasSuffix(k, ".$") {
				out = append(out, v)
			}
		case map[string]any:
			out = append(out, constructorRefs(v)...)
		}
	}
	sort.Strings(out)
	return out
}

// TestDocsCreateFlow checks docs/triggers.md's CloudFlow commands: CreateFlow
// requires Description (CreateFlow API reference), the flows need the
// Standard execution mode (a rollback outlasts Express's 5 minutes; the
// guarded flow's Wait is 300 s), and the Name passed must be the
// definition's Name.
func TestDocsCreateFlow(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "triggers.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Join continued shell lines, then take each CreateFlow command.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var cmds []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "aliyun fnf CreateFlow") {
			cmds = append(cmds, line)
		}
	}
	names := map[string]string{} // flow name -> file
	files, _ := filepath.Glob(filepath.Join(root, "flows", "*.yaml"))
	for _, file := range files {
		rel, _ := filepath.Rel(root, file)
		names[loadFlow(t, rel).Name] = filepath.ToSlash(rel)
	}
	if len(cmds) < len(names) {
		t.Fatalf("docs/triggers.md has %d CreateFlow commands, want one per flow (%d)", len(cmds), len(names))
	}
	nameRE := regexp.MustCompile(`--Name (\S+)`)
	for i, cmd := range cmds {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			for _, want := range []string{"--Description ", "--Type FDL", "--ExecutionMode Standard", "--Definition "} {
				if !strings.Contains(cmd, want) {
					t.Errorf("CreateFlow command lacks %s: %s", strings.TrimSpace(want), cmd)
				}
			}
			m := nameRE.FindStringSubmatch(cmd)
			if m == nil {
				t.Fatalf("CreateFlow without --Name: %s", cmd)
			}
			file, ok := names[m[1]]
			if !ok {
				t.Fatalf("--Name %s is no flow's Name (%v)", m[1], names)
			}
			if !strings.Contains(cmd, file) {
				t.Errorf("--Name %s must come with --Definition from %s: %s", m[1], file, cmd)
			}
		})
	}
}

// TestDocsEventBridge checks that docs/triggers.md shows the trigger as
// s.yaml has it and says why it is asynchronous.
func TestDocsEventBridge(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "triggers.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "## EventBridge")
	if start < 0 {
		t.Fatal("docs/triggers.md has no EventBridge section")
	}
	sec := doc[start:]
	if end := strings.Index(sec[3:], "\n## "); end >= 0 {
		sec = sec[:end+3]
	}
	// The YAML sample in the section must parse and match s.yaml's trigger.
	re := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	m := re.FindStringSubmatch(sec)
	if m == nil {
		t.Fatal("no yaml sample in the EventBridge section")
	}
	var sample []map[string]any
	if err := yaml.Unmarshal([]byte(m[1]), &sample); err != nil || len(sample) != 1 {
		t.Fatalf("yaml sample: %v (%d items)", err, len(sample))
	}
	var want any
	for _, tr := range functionProps(t)["triggers"].([]any) {
		if str(t, tr, "triggerType") == "eventbridge" {
			want = get(t, tr, "triggerConfig")
		}
	}
	gotJSON, _ := json.Marshal(sample[0]["triggerConfig"])
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("docs triggerConfig = %s, want s.yaml's %s", gotJSON, wantJSON)
	}
	for _, want := range []string{"asyncInvocationType", "idempoten", "retr", "deliveryOption.mode", "unconfirmed"} {
		if !strings.Contains(strings.ToLower(sec), strings.ToLower(want)) {
			t.Errorf("the EventBridge section does not mention %q", want)
		}
	}
}
