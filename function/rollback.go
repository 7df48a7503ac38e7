package function

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// codeDryRunOperation is ECS's answer to a dry run that would succeed.
const codeDryRunOperation = "DryRunOperation"

// Rollback carries out a validated request with one invocation's ECS client.
// The plain request (pairs, no options) is one ResetDisks call per batch of
// ten; the result's OperationProgressSet lists every disk in input order.
func (h *Handler) Rollback(ctx context.Context, ecs ECS, inv Invocation, req *Request) (*Result, error) {
	plan := h.plan(req)
	res := &Result{Plan: plan}
	for _, batch := range batches(plan.Pairs, ResetDisksBatchSize) {
		start := h.now()
		out, err := ecs.ResetDisks(ctx, ResetDisksInput{RegionID: req.RegionId, DryRun: req.DryRun, Disks: batch})
		step := Step{Name: "ResetDisks", Target: joinDiskIDs(batch), DurationMs: h.since(start)}
		if err != nil {
			var ae *APIError
			if req.DryRun && errors.As(err, &ae) && ae.Code == codeDryRunOperation {
				step.Outcome, step.RequestId = StatusDryRunPassed, ae.RequestID
				res.Steps = append(res.Steps, step)
				res.RequestIds = append(res.RequestIds, ae.RequestID)
				res.OperationProgressSet.OperationProgress = append(res.OperationProgressSet.OperationProgress, dryRunProgress(batch)...)
				continue
			}
			fe := FromECS("ResetDisks", err)
			step.Outcome, step.Code, step.Message, step.RequestId = StatusFailed, fe.Code, fe.Message, fe.RequestID
			res.Steps = append(res.Steps, step)
			if len(res.OperationProgressSet.OperationProgress) == 0 {
				return nil, fe // nothing happened: report the ECS rejection itself
			}
			res.OperationProgressSet.OperationProgress = append(res.OperationProgressSet.OperationProgress, failedProgress(batch, fe)...)
			continue
		}
		step.Outcome, step.RequestId = StatusSucceeded, out.RequestId
		res.Steps = append(res.Steps, step)
		res.RequestIds = append(res.RequestIds, out.RequestId)
		res.OperationProgressSet.OperationProgress = append(res.OperationProgressSet.OperationProgress, out.OperationProgressSet.OperationProgress...)
	}
	if len(res.RequestIds) > 0 {
		res.RequestId = res.RequestIds[0]
	}
	if len(res.RequestIds) < 2 {
		res.RequestIds = nil
	}
	res.Summary = summarise(res.OperationProgressSet, req.DryRun)
	return h.finish(req, res)
}

// finish turns a partial failure into an error when the request or the
// configuration asks for that; the result travels inside the error.
func (h *Handler) finish(req *Request, res *Result) (*Result, error) {
	failOnPartial := h.Config.FailOnPartial
	if req.FailOnPartial != nil {
		failOnPartial = *req.FailOnPartial
	}
	if failOnPartial && res.Summary.Failed > 0 && res.Summary.Succeeded > 0 {
		return nil, &Error{Code: ErrPartialFailure, Message: fmt.Sprintf("%d of %d disks were not reset", res.Summary.Failed, res.Summary.Total), RequestID: res.RequestId, Result: res}
	}
	return res, nil
}

// plan resolves the request into concrete work.
func (h *Handler) plan(req *Request) *Plan {
	p := &Plan{RegionId: req.RegionId, Pairs: req.Disk, ResetAPI: "ResetDisks", IdempotencyKey: req.IdempotencyKey}
	if len(req.Disk) > ResetDisksBatchSize {
		for _, b := range batches(req.Disk, ResetDisksBatchSize) {
			ids := make([]string, len(b))
			for i, pr := range b {
				ids[i] = pr.DiskId
			}
			p.Batches = append(p.Batches, ids)
		}
	}
	return p
}

// batches splits pairs into runs of at most n, keeping their order.
func batches(pairs []DiskPair, n int) [][]DiskPair {
	var out [][]DiskPair
	for len(pairs) > n {
		out = append(out, pairs[:n:n])
		pairs = pairs[n:]
	}
	if len(pairs) > 0 {
		out = append(out, pairs)
	}
	return out
}

func progressFor(p DiskPair, status, code, msg string) OperationProgress {
	return OperationProgress{OperationStatus: status, ErrorCode: code, ErrorMsg: msg, RelatedItemSet: RelatedItemSet{RelatedItem: []RelatedItem{{Name: "DiskId", Value: p.DiskId}, {Name: "SnapshotId", Value: p.SnapshotId}}}}
}

// dryRunProgress reports each disk of a passed dry run as a success.
func dryRunProgress(batch []DiskPair) []OperationProgress {
	out := make([]OperationProgress, len(batch))
	for i, p := range batch {
		out[i] = progressFor(p, OperationStatusSuccess, "", "")
	}
	return out
}

// failedProgress reports each disk of a refused call with the call's error.
func failedProgress(batch []DiskPair, fe *Error) []OperationProgress {
	out := make([]OperationProgress, len(batch))
	for i, p := range batch {
		out[i] = progressFor(p, StatusFailed, fe.Code, fe.Message)
	}
	return out
}

func joinDiskIDs(pairs []DiskPair) string {
	s := ""
	for i, p := range pairs {
		if i > 0 {
			s += ","
		}
		s += p.DiskId
	}
	return s
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) since(t time.Time) int64 { return h.now().Sub(t).Milliseconds() }
