package function

import (
	"context"
	"fmt"
	"strings"
)

// fakeHealth scripts the health gate's APIs of fakeECS, by instance.
type fakeHealth struct {
	status    map[string][]string // HealthStatus names per start: the i-th start shows status[min(i, len-1)]
	exitCodes map[string][]int64  // command exit code per invocation
	agentDown map[string]bool
	noStock   map[string]int // StartInstance refusals (OperationDenied.NoStock) left; -1 forever
	starts    map[string]int
	invokes   map[string]int
	invoked   map[string][]string // invoke id → instances
}

func (h *fakeHealth) init() {
	if h.starts == nil {
		h.starts, h.invokes, h.invoked = map[string]int{}, map[string]int{}, map[string][]string{}
	}
}

func pick[T any](list []T, i int, def T) T {
	if len(list) == 0 {
		return def
	}
	return list[min(i, len(list)-1)]
}

func (f *fakeECS) DescribeInstanceDisks(_ context.Context, regionID, instanceID string) ([]Disk, error) {
	if err := f.record(fakeCall{Op: "DescribeInstanceDisks", Target: instanceID}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Disk
	for _, id := range f.diskOrder {
		if d := f.disks[id]; d.InstanceID == instanceID {
			c := *d
			c.Tags = map[string]string{}
			for k, v := range f.tags[id] {
				c.Tags[k] = v
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeECS) DescribeInstancesFullStatus(_ context.Context, regionID string, ids []string) ([]InstanceHealth, error) {
	if err := f.record(fakeCall{Op: "DescribeInstancesFullStatus", Target: strings.Join(ids, ",")}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.health.init()
	var out []InstanceHealth
	for _, id := range ids {
		st := ""
		if in, ok := f.instances[id]; ok {
			st = in.Status
		}
		h := "NotApplicable"
		if st == InstanceStatusRunning {
			h = pick(f.health.status[id], f.health.starts[id]-1, healthOk)
		}
		out = append(out, InstanceHealth{InstanceID: id, Status: st, Health: h})
	}
	return out, nil
}

func (f *fakeECS) DescribeCloudAssistantStatus(_ context.Context, regionID string, ids []string) ([]AgentStatus, error) {
	if err := f.record(fakeCall{Op: "DescribeCloudAssistantStatus", Target: strings.Join(ids, ",")}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []AgentStatus
	for _, id := range ids {
		out = append(out, AgentStatus{InstanceID: id, Running: !f.health.agentDown[id]})
	}
	return out, nil
}

func (f *fakeECS) InvokeCommand(_ context.Context, in InvokeCommandInput) (string, error) {
	if err := f.record(fakeCall{Op: "InvokeCommand", Target: strings.Join(in.InstanceIDs, ",")}); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.health.init()
	id := fmt.Sprintf("t-fake%04d", len(f.health.invoked)+1)
	f.health.invoked[id] = in.InstanceIDs
	return id, nil
}

func (f *fakeECS) DescribeInvocationResults(_ context.Context, regionID, invokeID string) ([]InvocationResult, error) {
	if err := f.record(fakeCall{Op: "DescribeInvocationResults", Target: invokeID}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []InvocationResult
	for _, id := range f.health.invoked[invokeID] {
		code := pick(f.health.exitCodes[id], f.health.invokes[id], 0)
		x := InvocationResult{InstanceID: id, InvocationStatus: "Success", ExitCode: code, Output: fmt.Sprintf("exit %d", code)}
		if code != 0 {
			x.InvocationStatus, x.ErrorCode = "Failed", "ExitCodeNonzero"
		}
		out = append(out, x)
	}
	for _, id := range f.health.invoked[invokeID] {
		f.health.invokes[id]++
	}
	return out, nil
}

// The gate is not used by the claim's and the benchmark's fakes.

func (f *guardFakeECS) DescribeInstanceDisks(context.Context, string, string) ([]Disk, error) {
	return nil, nil
}
func (f *guardFakeECS) DescribeInstancesFullStatus(context.Context, string, []string) ([]InstanceHealth, error) {
	return nil, nil
}
func (f *guardFakeECS) DescribeCloudAssistantStatus(context.Context, string, []string) ([]AgentStatus, error) {
	return nil, nil
}
func (f *guardFakeECS) InvokeCommand(context.Context, InvokeCommandInput) (string, error) {
	return "", nil
}
func (f *guardFakeECS) DescribeInvocationResults(context.Context, string, string) ([]InvocationResult, error) {
	return nil, nil
}

func (benchECS) DescribeInstanceDisks(context.Context, string, string) ([]Disk, error) {
	return nil, errBenchUnused
}
func (benchECS) DescribeInstancesFullStatus(context.Context, string, []string) ([]InstanceHealth, error) {
	return nil, errBenchUnused
}
func (benchECS) DescribeCloudAssistantStatus(context.Context, string, []string) ([]AgentStatus, error) {
	return nil, errBenchUnused
}
func (benchECS) InvokeCommand(context.Context, InvokeCommandInput) (string, error) {
	return "", errBenchUnused
}
func (benchECS) DescribeInvocationResults(context.Context, string, string) ([]InvocationResult, error) {
	return nil, errBenchUnused
}

func (f refusingECS) DescribeInstanceDisks(context.Context, string, string) ([]Disk, error) {
	return nil, f.refuse()
}
func (f refusingECS) DescribeInstancesFullStatus(context.Context, string, []string) ([]InstanceHealth, error) {
	return nil, f.refuse()
}
func (f refusingECS) DescribeCloudAssistantStatus(context.Context, string, []string) ([]AgentStatus, error) {
	return nil, f.refuse()
}
func (f refusingECS) InvokeCommand(context.Context, InvokeCommandInput) (string, error) {
	return "", f.refuse()
}
func (f refusingECS) DescribeInvocationResults(context.Context, string, string) ([]InvocationResult, error) {
	return nil, f.refuse()
}
