package ecsfake

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// The health gate's calls, answered from each instance's
// ecsemu.InstanceScript (health per start, exit codes and outputs per
// invocation, the agent) the way the emulator reads it, with every
// invocation finished at once.

// DescribeInstanceDisks lists the disks attached to an instance.
func (f *Fake) DescribeInstanceDisks(_ context.Context, region, instanceID string) ([]function.Disk, error) {
	var out []function.Disk
	err := f.do(Call{Op: "DescribeInstanceDisks", Region: region, IDs: []string{instanceID}}, func(now time.Time) error {
		for _, id := range f.diskOrder {
			if d := f.disk(region, id, now, true); d != nil && d.InstanceID == instanceID {
				out = append(out, function.Disk{DiskID: d.DiskID, RegionID: d.RegionID, InstanceID: d.InstanceID, Status: d.Status, Category: d.Category, Type: d.Type})
			}
		}
		return nil
	})
	return out, err
}

// DescribeInstancesFullStatus: NotApplicable unless Running, else the
// script's first health (default Ok).
func (f *Fake) DescribeInstancesFullStatus(_ context.Context, region string, ids []string) ([]function.InstanceHealth, error) {
	var out []function.InstanceHealth
	err := f.do(Call{Op: "DescribeInstancesFullStatus", Region: region, IDs: slices.Clone(ids)}, func(now time.Time) error {
		for _, id := range ids {
			in := f.instance(region, id, now, true)
			if in == nil {
				continue
			}
			h := "NotApplicable"
			if in.Status == function.InstanceStatusRunning {
				h = "Ok"
				if in.Script != nil && len(in.Script.Health) > 0 {
					h = in.Script.Health[0]
				}
			}
			out = append(out, function.InstanceHealth{InstanceID: id, Status: in.Status, Health: h})
		}
		return nil
	})
	return out, err
}

// DescribeCloudAssistantStatus: the agent runs unless the script says it
// is stopped or missing (a missing agent is not listed).
func (f *Fake) DescribeCloudAssistantStatus(_ context.Context, region string, ids []string) ([]function.AgentStatus, error) {
	var out []function.AgentStatus
	err := f.do(Call{Op: "DescribeCloudAssistantStatus", Region: region, IDs: slices.Clone(ids)}, func(now time.Time) error {
		for _, id := range ids {
			in := f.instance(region, id, now, true)
			if in == nil || (in.Script != nil && in.Script.Agent == ecsemu.AgentMissing) {
				continue
			}
			running := in.Script == nil || in.Script.Agent == "" || in.Script.Agent == ecsemu.AgentRunning
			out = append(out, function.AgentStatus{InstanceID: id, Running: running, Version: "2.2.0.0"})
		}
		return nil
	})
	return out, err
}

// InvokeCommand records an invocation; its results are the scripts' first
// exit code and output (default 0, "ok").
func (f *Fake) InvokeCommand(_ context.Context, in function.InvokeCommandInput) (string, error) {
	var id string
	err := f.do(Call{Op: "InvokeCommand", Region: in.RegionID, IDs: slices.Clone(in.InstanceIDs)}, func(time.Time) error {
		f.seq++
		id = fmt.Sprintf("t-fake%08d", f.seq)
		return nil
	})
	return id, err
}

// DescribeInvocationResults answers every instance of an invocation as
// finished, from its script.
func (f *Fake) DescribeInvocationResults(_ context.Context, region, invokeID string) ([]function.InvocationResult, error) {
	var out []function.InvocationResult
	err := f.do(Call{Op: "DescribeInvocationResults", Region: region, IDs: []string{invokeID}}, func(now time.Time) error {
		var targets []string
		for _, c := range slices.Backward(f.calls) {
			if c.Op == "InvokeCommand" {
				targets = c.IDs
				break
			}
		}
		for _, id := range targets {
			code, output := int64(0), "ok"
			if in := f.instance(region, id, now, true); in != nil && in.Script != nil {
				if len(in.Script.ExitCodes) > 0 {
					code = int64(in.Script.ExitCodes[0])
				}
				if len(in.Script.Outputs) > 0 {
					output = in.Script.Outputs[0]
				}
			}
			status := "Success"
			if code != 0 {
				status = "Failed"
			}
			out = append(out, function.InvocationResult{InstanceID: id, InvocationStatus: status, ExitCode: code, Output: output})
		}
		return nil
	})
	return out, err
}
