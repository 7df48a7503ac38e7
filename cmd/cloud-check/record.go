package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// Answer is one call and what ECS answered, for the report.
type Answer struct {
	Check  string `json:"check"`
	AtMS   int64  `json:"atMs"`
	TookMS int64  `json:"tookMs"`
	Op     string `json:"op"`
	Input  any    `json:"input,omitempty"`
	Output any    `json:"output,omitempty"`
	// Code, HTTPStatus and RequestID of an *APIError; Transport the
	// message of a *TransportError.
	Code       string `json:"code,omitempty"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	RequestID  string `json:"requestId,omitempty"`
	Transport  string `json:"transport,omitempty"`
}

// recorder wraps an ECS and keeps every call and its answer.
type recorder struct {
	next  function.ECS
	start time.Time

	mu      sync.Mutex
	check   string
	answers []Answer
}

func newRecorder(next function.ECS) *recorder { return &recorder{next: next, start: time.Now()} }

var _ function.ECS = (*recorder)(nil)

func (r *recorder) setCheck(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.check = name
}

func (r *recorder) Answers() []Answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Answer(nil), r.answers...)
}

// rec runs call and records it.
func rec[T any](r *recorder, op string, in any, call func() (T, error)) (T, error) {
	t0 := time.Now()
	out, err := call()
	a := Answer{Op: op, Input: in, AtMS: t0.Sub(r.start).Milliseconds(), TookMS: time.Since(t0).Milliseconds()}
	var ae *function.APIError
	var te *function.TransportError
	switch {
	case errors.As(err, &ae):
		a.Code, a.HTTPStatus, a.RequestID = ae.Code, ae.HTTPStatus, ae.RequestID
	case errors.As(err, &te):
		a.Transport = te.Error()
	case err != nil:
		a.Transport = err.Error()
	default:
		a.Output = out
	}
	r.mu.Lock()
	a.Check = r.check
	r.answers = append(r.answers, a)
	r.mu.Unlock()
	return out, err
}

type ids struct {
	Region string   `json:"region"`
	IDs    []string `json:"ids"`
}

func (r *recorder) ResetDisks(ctx context.Context, in function.ResetDisksInput) (*function.ResetDisksOutput, error) {
	return rec(r, "ResetDisks", in, func() (*function.ResetDisksOutput, error) { return r.next.ResetDisks(ctx, in) })
}

func (r *recorder) ResetDisk(ctx context.Context, in function.ResetDiskInput) (string, error) {
	return rec(r, "ResetDisk", in, func() (string, error) { return r.next.ResetDisk(ctx, in) })
}

func (r *recorder) DescribeDisks(ctx context.Context, region string, in []string) ([]function.Disk, error) {
	return rec(r, "DescribeDisks", ids{region, in}, func() ([]function.Disk, error) { return r.next.DescribeDisks(ctx, region, in) })
}

func (r *recorder) DescribeInstances(ctx context.Context, region string, in []string) ([]function.Instance, error) {
	return rec(r, "DescribeInstances", ids{region, in}, func() ([]function.Instance, error) { return r.next.DescribeInstances(ctx, region, in) })
}

func (r *recorder) DescribeInstancesByTag(ctx context.Context, region, key, value string) ([]function.Instance, error) {
	return rec(r, "DescribeInstancesByTag", map[string]string{"region": region, "key": key, "value": value}, func() ([]function.Instance, error) {
		return r.next.DescribeInstancesByTag(ctx, region, key, value)
	})
}

func (r *recorder) DescribeInstanceDisks(ctx context.Context, region, instanceID string) ([]function.Disk, error) {
	return rec(r, "DescribeInstanceDisks", map[string]string{"region": region, "instance": instanceID}, func() ([]function.Disk, error) {
		return r.next.DescribeInstanceDisks(ctx, region, instanceID)
	})
}

func (r *recorder) DescribeInstancesFullStatus(ctx context.Context, region string, in []string) ([]function.InstanceHealth, error) {
	return rec(r, "DescribeInstancesFullStatus", ids{region, in}, func() ([]function.InstanceHealth, error) { return r.next.DescribeInstancesFullStatus(ctx, region, in) })
}

func (r *recorder) DescribeCloudAssistantStatus(ctx context.Context, region string, in []string) ([]function.AgentStatus, error) {
	return rec(r, "DescribeCloudAssistantStatus", ids{region, in}, func() ([]function.AgentStatus, error) { return r.next.DescribeCloudAssistantStatus(ctx, region, in) })
}

func (r *recorder) InvokeCommand(ctx context.Context, in function.InvokeCommandInput) (string, error) {
	return rec(r, "InvokeCommand", in, func() (string, error) { return r.next.InvokeCommand(ctx, in) })
}

func (r *recorder) DescribeInvocationResults(ctx context.Context, region, invokeID string) ([]function.InvocationResult, error) {
	return rec(r, "DescribeInvocationResults", map[string]string{"region": region, "invokeId": invokeID}, func() ([]function.InvocationResult, error) {
		return r.next.DescribeInvocationResults(ctx, region, invokeID)
	})
}

func (r *recorder) DescribeSnapshots(ctx context.Context, region string, in []string) ([]function.Snapshot, error) {
	return rec(r, "DescribeSnapshots", ids{region, in}, func() ([]function.Snapshot, error) { return r.next.DescribeSnapshots(ctx, region, in) })
}

func (r *recorder) DescribeSnapshotGroups(ctx context.Context, in function.DescribeSnapshotGroupsInput) ([]function.SnapshotGroup, error) {
	return rec(r, "DescribeSnapshotGroups", in, func() ([]function.SnapshotGroup, error) { return r.next.DescribeSnapshotGroups(ctx, in) })
}

func (r *recorder) StopInstance(ctx context.Context, in function.StopInstanceInput) error {
	_, err := rec(r, "StopInstance", in, func() (any, error) { return nil, r.next.StopInstance(ctx, in) })
	return err
}

func (r *recorder) StartInstance(ctx context.Context, region, id string, dryRun bool) error {
	in := map[string]any{"region": region, "instanceId": id, "dryRun": dryRun}
	_, err := rec(r, "StartInstance", in, func() (any, error) { return nil, r.next.StartInstance(ctx, region, id, dryRun) })
	return err
}

func (r *recorder) CreateSnapshot(ctx context.Context, in function.CreateSnapshotInput) (string, error) {
	return rec(r, "CreateSnapshot", in, func() (string, error) { return r.next.CreateSnapshot(ctx, in) })
}

func (r *recorder) TagResources(ctx context.Context, region, rt string, in []string, tags map[string]string) error {
	args := map[string]any{"region": region, "resourceType": rt, "ids": in, "tags": tags}
	_, err := rec(r, "TagResources", args, func() (any, error) { return nil, r.next.TagResources(ctx, region, rt, in, tags) })
	return err
}

func (r *recorder) ListTagResources(ctx context.Context, region, rt string, in []string) ([]function.ResourceTag, error) {
	args := map[string]any{"region": region, "resourceType": rt, "ids": in}
	return rec(r, "ListTagResources", args, func() ([]function.ResourceTag, error) { return r.next.ListTagResources(ctx, region, rt, in) })
}
