package ecsemu

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// The instance health and Cloud Assistant APIs (CONFORMANCE.md, "health"):
// DescribeInstancesFullStatus, DescribeCloudAssistantStatus, CreateCommand,
// InvokeCommand, DescribeInvocationResults. What each instance answers is
// scripted by its InstanceScript (fixture "script", SetInstanceScript,
// POST /_emulator/instances/{id}/script).

// InstanceScript scripts one instance's health answers.
type InstanceScript struct {
	// Health is HealthStatus.Name while Running after the 1st, 2nd, …
	// start (the last one repeats; before any start the first): Ok,
	// Impaired, Warning, Maintaining, Initializing, InsufficientData.
	// Default Ok.
	Health []string `json:"health,omitempty"`
	// ExitCodes and Outputs are the 1st, 2nd, … invocation's exit code and
	// output (the last repeats). Default 0 and "ok".
	ExitCodes []int    `json:"exitCodes,omitempty"`
	Outputs   []string `json:"outputs,omitempty"`
	// Agent: running (default), stopped (installed, not running) or missing.
	Agent string `json:"agent,omitempty"`
	// NoStockStarts: the next N StartInstance calls are refused with
	// OperationDenied.NoStock; -1 refuses every one.
	NoStockStarts int `json:"noStockStarts,omitempty"`
	// PublicIPsAfterStart replaces the instance's public IPs on its next
	// start (a public IP that is not an EIP is not kept, for instance).
	PublicIPsAfterStart []string `json:"publicIpsAfterStart,omitempty"`
}

// Agent states of InstanceScript.Agent.
const (
	AgentRunning = "running"
	AgentStopped = "stopped"
	AgentMissing = "missing"
)

func (sc *InstanceScript) validate() error {
	if sc == nil {
		return nil
	}
	if sc.Agent != "" && sc.Agent != AgentRunning && sc.Agent != AgentStopped && sc.Agent != AgentMissing {
		return fmt.Errorf("script: agent must be running, stopped or missing")
	}
	for _, h := range sc.Health {
		if !slices.Contains(healthNames, h) {
			return fmt.Errorf("script: unknown health %q", h)
		}
	}
	return nil
}

// healthNames are HealthStatus names ([DIFS] HealthStatus values).
var healthNames = []string{"Ok", "Impaired", "Warning", "Maintaining", "Initializing", "InsufficientData", "NotApplicable"}

// healthCodes: HealthStatus.Code by name (unconfirmed; see CONFORMANCE.md).
var healthCodes = map[string]int{"Ok": 0, "Impaired": 64, "Warning": 32, "Maintaining": 48, "Initializing": 16, "InsufficientData": 128, "NotApplicable": 80}

// lifecycleCodes: Status.Code by name (unconfirmed; see CONFORMANCE.md).
var lifecycleCodes = map[string]int{"Pending": 0, "Running": 1, "Starting": 2, "Stopping": 64, "Stopped": 80}

// Command is a Cloud Assistant command (CreateCommand).
type Command struct {
	CommandID      string `json:"commandId"`
	RegionID       string `json:"regionId"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	CommandContent string `json:"commandContent,omitempty"` // Base64, as sent
}

// invocation is one InvokeCommand, with its per-instance results fixed at
// invocation time and shown once it has run CommandDuration.
type invocation struct {
	id, commandID, region string
	start, end            time.Time
	results               []invocationResult
}

type invocationResult struct {
	instanceID, status, errorCode, errorInfo, output string
	exitCode                                         int
}

// SetInstanceScript replaces an instance's script (nil clears it).
func (s *Server) SetInstanceScript(id string, sc *InstanceScript) error {
	if err := sc.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.st.instances[id]
	if in == nil {
		return fmt.Errorf("no instance %s", id)
	}
	in.Script = sc
	return nil
}

func pickAt[T any](list []T, i int, def T) T {
	if len(list) == 0 {
		return def
	}
	return list[max(0, min(i, len(list)-1))]
}

// scriptedStart refuses StartInstance for lack of stock as scripted (a
// dry run is not refused: whether stock exists is known at the start).
func (s *Server) scriptedStart(c *call) *apiError {
	if boolParam(c.p, "DryRun") {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.st.instance(c.p["InstanceId"], c.now)
	if in == nil || in.Script == nil || in.Script.NoStockStarts == 0 || in.Status != InstanceStopped {
		return nil
	}
	if in.Script.NoStockStarts > 0 {
		in.Script.NoStockStarts--
	}
	return newError(CodeOperationDeniedNoStock)
}

func instanceIDParams(c *call) []string { return repeated(c.p, "InstanceId") }

func (s *Server) describeInstancesFullStatus(c *call) (map[string]any, *apiError) {
	ids := instanceIDParams(c)
	if len(ids) > 100 {
		return nil, invalidParam("InstanceId", "at most 100")
	}
	s.mu.Lock()
	var list []map[string]any
	for _, in := range s.regionInstances(c, ids) {
		id := in.InstanceID
		health := "NotApplicable"
		if in.Status == InstanceRunning {
			health = "Ok"
			if in.Script != nil {
				health = pickAt(in.Script.Health, in.Starts-1, "Ok")
			}
		}
		if c.p["HealthStatus"] != "" && c.p["HealthStatus"] != health {
			continue
		}
		list = append(list, map[string]any{
			"InstanceId":              id,
			"Status":                  map[string]any{"Name": in.Status, "Code": lifecycleCodes[in.Status]},
			"HealthStatus":            map[string]any{"Name": health, "Code": healthCodes[health]},
			"ScheduledSystemEventSet": map[string]any{"ScheduledSystemEventType": []any{}},
		})
	}
	s.mu.Unlock()
	pg, err := paginate(c.p, len(list), 10, 100, 100, false)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"InstanceFullStatusSet": map[string]any{"InstanceFullStatusType": nonNil(list[pg.start:pg.end])}}
	pg.fields(out, len(list))
	return out, nil
}

func agentOf(in *instState) string {
	if in.Script == nil || in.Script.Agent == "" {
		return AgentRunning
	}
	return in.Script.Agent
}

func (s *Server) describeCloudAssistantStatus(c *call) (map[string]any, *apiError) {
	ids := instanceIDParams(c)
	s.mu.Lock()
	var list []map[string]any
	for _, in := range s.regionInstances(c, ids) {
		id := in.InstanceID
		agent := agentOf(in)
		running := agent == AgentRunning && in.Status == InstanceRunning
		version := "2.2.3.398"
		if agent == AgentMissing {
			version = ""
		}
		list = append(list, map[string]any{
			"InstanceId": id, "CloudAssistantStatus": fmt.Sprint(running), "CloudAssistantVersion": version,
			"OSType": "Linux", "ActiveTaskCount": 0, "InvocationCount": in.Invocations, "LastInvokedTime": "",
			"LastHeartbeatTime": fmtTime(c.now), "SupportSessionManager": false,
		})
	}
	s.mu.Unlock()
	return pagedList(c, list, "InstanceCloudAssistantStatusSet", "InstanceCloudAssistantStatus")
}

var commandTypes = []string{"RunShellScript", "RunBatScript", "RunPowerShellScript"}

func (s *Server) createCommand(c *call) (map[string]any, *apiError) {
	switch {
	case c.p["Name"] == "":
		return nil, missing("Name")
	case c.p["Type"] == "":
		return nil, missing("Type")
	case c.p["CommandContent"] == "":
		return nil, missing("CommandContent")
	case !slices.Contains(commandTypes, c.p["Type"]):
		return nil, invalidParam("Type", "RunShellScript, RunBatScript or RunPowerShellScript")
	}
	cmd := &Command{CommandID: newID("c-"), RegionID: c.region, Name: c.p["Name"], Type: c.p["Type"], CommandContent: c.p["CommandContent"]}
	s.mu.Lock()
	s.st.commands[cmd.CommandID] = cmd
	s.st.cmdOrder = append(s.st.cmdOrder, cmd.CommandID)
	s.mu.Unlock()
	return map[string]any{"CommandId": cmd.CommandID}, nil
}

func (s *Server) invokeCommand(c *call) (map[string]any, *apiError) {
	cmdID := c.p["CommandId"]
	ids := instanceIDParams(c)
	switch {
	case cmdID == "":
		return nil, missing("CommandId")
	case len(ids) == 0:
		return nil, missing("InstanceId")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok := c.p["ClientToken"]; tok != "" {
		if id, ok := s.st.invokeTokens[tok]; ok {
			return map[string]any{"InvokeId": id}, nil
		}
	}
	if cmd := s.st.commands[cmdID]; cmd == nil || cmd.RegionID != c.region {
		return nil, newError(CodeInvalidCmdIDNotFound)
	}
	for _, id := range ids {
		if in := s.st.instance(id, c.now); in == nil || in.RegionID != c.region {
			return nil, newError(CodeInvalidInstanceNotFound)
		}
	}
	inv := &invocation{id: newID("t-"), commandID: cmdID, region: c.region, start: c.now, end: c.now.Add(max(s.opts.CommandDuration, 0))}
	for _, id := range ids {
		in := s.st.instance(id, c.now)
		r := invocationResult{instanceID: id}
		switch {
		case in.Status != InstanceRunning:
			r.status, r.errorCode, r.errorInfo = "Aborted", "InstanceNotRunning", "the instance is not running when create task"
		case agentOf(in) != AgentRunning:
			r.status, r.errorCode, r.errorInfo = "Failed", "ClientNotRunning", "the aliyun service is not running on the instance"
		default:
			var sc InstanceScript
			if in.Script != nil {
				sc = *in.Script
			}
			r.exitCode = pickAt(sc.ExitCodes, in.Invocations, 0)
			r.output = pickAt(sc.Outputs, in.Invocations, "ok\n")
			r.status = "Success"
			if r.exitCode != 0 {
				r.status, r.errorCode, r.errorInfo = "Failed", "ExitCodeNonzero", "the command execution exit code is not zero"
			}
			in.Invocations++
		}
		inv.results = append(inv.results, r)
	}
	s.st.invocations[inv.id] = inv
	if tok := c.p["ClientToken"]; tok != "" {
		s.st.invokeTokens[tok] = inv.id
	}
	return map[string]any{"InvokeId": inv.id}, nil
}

func (s *Server) describeInvocationResults(c *call) (map[string]any, *apiError) {
	enc := c.p["ContentEncoding"]
	if enc != "" && enc != "PlainText" && enc != "Base64" {
		return nil, invalidParam("ContentEncoding", "PlainText or Base64")
	}
	s.mu.Lock()
	var list []map[string]any
	var invs []*invocation
	if id := c.p["InvokeId"]; id != "" {
		if inv := s.st.invocations[id]; inv != nil && inv.region == c.region {
			invs = append(invs, inv)
		}
	} else {
		for _, inv := range s.st.invocations {
			if inv.region == c.region {
				invs = append(invs, inv)
			}
		}
	}
	for _, inv := range invs {
		done := !c.now.Before(inv.end)
		for _, r := range inv.results {
			if c.p["InstanceId"] != "" && c.p["InstanceId"] != r.instanceID {
				continue
			}
			status, exit, output, code, info, finished, record := r.status, r.exitCode, r.output, r.errorCode, r.errorInfo, fmtTime(inv.end), "Finished"
			if !done && r.status != "Aborted" {
				status, exit, output, code, info, finished, record = "Running", 0, "", "", "", "", "Running"
			}
			if enc != "PlainText" {
				output = base64.StdEncoding.EncodeToString([]byte(output))
			}
			list = append(list, map[string]any{
				"InvokeId": inv.id, "CommandId": inv.commandID, "InstanceId": r.instanceID,
				"InvocationStatus": status, "InvokeRecordStatus": record,
				"ExitCode": exit, "Output": output, "ErrorCode": code, "ErrorInfo": info, "Dropped": 0, "Repeats": 1,
				"StartTime": fmtTime(inv.start), "FinishedTime": finished, "StopTime": "", "Username": "root",
				"TerminationMode": "Process", "ContainerId": "", "ContainerName": "", "Launcher": "",
				"Tags": map[string]any{"Tag": []any{}},
			})
		}
	}
	s.mu.Unlock()
	inv, err := pagedList(c, list, "InvocationResults", "InvocationResult")
	if err != nil {
		return nil, err
	}
	return map[string]any{"Invocation": inv}, nil
}

// regionInstances are the settled instances of the call's region, in
// fixture order, limited to ids when any are given. Caller holds s.mu.
func (s *Server) regionInstances(c *call, ids []string) []*instState {
	var out []*instState
	for _, id := range s.st.instOrder {
		in := s.st.instance(id, c.now)
		if in.RegionID == c.region && (len(ids) == 0 || slices.Contains(ids, id)) {
			out = append(out, in)
		}
	}
	return out
}

// pagedList is one page of list as {set: {item: [...]}} with the paging
// fields, for the Cloud Assistant reads (MaxResults 1..50, default 10).
func pagedList(c *call, list []map[string]any, set, item string) (map[string]any, *apiError) {
	pg, err := paginate(c.p, len(list), 10, 50, 50, false, clampResults{1, 50})
	if err != nil {
		return nil, err
	}
	out := map[string]any{set: map[string]any{item: nonNil(list[pg.start:pg.end])}}
	pg.fields(out, len(list))
	return out, nil
}

// Codes of the health APIs and of a start refused for lack of stock.
const (
	// CodeOperationDeniedNoStock: StartInstance found no capacity. [SI] error table, 403.
	CodeOperationDeniedNoStock = "OperationDenied.NoStock"
	// CodeInvalidCmdIDNotFound: InvokeCommand of an unknown CommandId. [IC] error table, 404.
	CodeInvalidCmdIDNotFound = "InvalidCmdId.NotFound"
	// CodeInvalidInstanceNotFound: InvokeCommand on an unknown instance. [IC] error table, 404.
	CodeInvalidInstanceNotFound = "InvalidInstance.NotFound"
)

func init() {
	codeTable[CodeOperationDeniedNoStock] = codeInfo{http.StatusForbidden, "The requested resource is sold out in the specified zone; try other types of resources or other regions and zones."}
	codeTable[CodeInvalidCmdIDNotFound] = codeInfo{http.StatusNotFound, "The specified command ID does not exist."}
	codeTable[CodeInvalidInstanceNotFound] = codeInfo{http.StatusNotFound, "The specified instance does not exist."}
}

func nonNilStrings(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
