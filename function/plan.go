package function

import (
	"context"
	"fmt"
	"strings"
)

// Reset APIs a plan can use (Plan.ResetAPI).
const (
	apiResetDisks = "ResetDisks"
	apiResetDisk  = "ResetDisk"
)

// resolve turns the request into a plan: the pairs (explicit, or from an
// instance snapshot), their ResetDisks batches, the instances to stop and
// start, the disks to back up and the reset API. It only reads from ECS.
func (r *run) resolve(ctx context.Context) (*Plan, error) {
	req := r.req
	p := &Plan{RegionID: req.RegionID, IdempotencyKey: req.IdempotencyKey, keyOrigin: req.keyOrigin, ResetAPI: apiResetDisks}
	if r.resetMode() == "always" {
		p.ResetAPI = apiResetDisk
	}
	r.plan = p
	// The request is valid (Rollback validated it): the rules between its
	// fields hold; what is left here needs ECS.
	switch {
	case req.UndoRollback != nil:
		if err := r.resolveUndo(ctx, p); err != nil {
			return p, err
		}
	case len(req.Disk) > 0:
		p.Pairs = req.Disk
	default:
		if err := r.resolveGroup(ctx, p); err != nil {
			return p, err
		}
	}
	p.Batches = planBatches(p.Pairs)
	if req.StopInstance || req.StartInstance {
		if err := r.planInstances(ctx, p); err != nil {
			return p, err
		}
	}
	if req.BackupBeforeReset {
		p.Backups = pairDiskIDs(p.Pairs)
	}
	return p, nil
}

// planBatches lists the disk ids of each ResetDisks call, when there is
// more than one.
func planBatches(pairs []DiskPair) [][]string {
	if len(pairs) <= ResetDisksBatchSize {
		return nil
	}
	var out [][]string
	for _, b := range batches(pairs, ResetDisksBatchSize) {
		out = append(out, pairDiskIDs(b))
	}
	return out
}

// resolveGroup picks the instance snapshot (by id, or the newest
// accomplished one of the instance) and turns it into pairs.
func (r *run) resolveGroup(ctx context.Context, p *Plan) error {
	req := r.req
	in := DescribeSnapshotGroupsInput{RegionID: req.RegionID, InstanceID: req.InstanceID}
	if req.SnapshotGroupID != "" {
		// By id only: a group of another instance is reported as such below.
		in.InstanceID, in.SnapshotGroupIDs = "", []string{req.SnapshotGroupID}
	}
	start := r.h.now()
	groups, err := r.ecs.DescribeSnapshotGroups(ctx, in)
	step := Step{Name: "DescribeSnapshotGroups", Target: firstNonEmpty(req.SnapshotGroupID, req.InstanceID), DurationMs: r.h.since(start)}
	if err != nil {
		fe := FromECS("DescribeSnapshotGroups", err)
		step.Outcome, step.Code, step.Message, step.RequestID = StatusFailed, fe.Code, fe.Message, fe.RequestID
		r.step(step)
		return fe
	}
	step.Outcome = StatusSucceeded
	step.Message = fmt.Sprintf("%d instance snapshots", len(groups))
	r.step(step)

	var g *SnapshotGroup
	if req.SnapshotGroupID != "" {
		for i := range groups {
			if groups[i].SnapshotGroupID == req.SnapshotGroupID {
				g = &groups[i]
			}
		}
		if g == nil {
			return &Error{Code: ErrSnapshotGroupNotReady, Message: fmt.Sprintf("instance snapshot %s not found in %s", req.SnapshotGroupID, req.RegionID)}
		}
		if req.InstanceID != "" && g.InstanceID != req.InstanceID {
			return ValidationError([]Violation{{Field: "SnapshotGroupId", Rule: "instance", Message: fmt.Sprintf("instance snapshot %s belongs to %s, not to %s", g.SnapshotGroupID, g.InstanceID, req.InstanceID)}})
		}
		if g.Status != SnapshotStatusAccomplished {
			return Errorf(ErrSnapshotGroupNotReady, "instance snapshot %s is %s, not accomplished", g.SnapshotGroupID, g.Status)
		}
	} else {
		g = newestAccomplished(groups, req.InstanceID)
		if g == nil {
			return Errorf(ErrSnapshotGroupNotReady, "instance %s has no accomplished instance snapshot (%d found)", req.InstanceID, len(groups))
		}
	}
	p.SnapshotGroupID = g.SnapshotGroupID
	pairs, err := groupPairs(g, req.DiskIDs)
	if err != nil {
		return err
	}
	p.Pairs = pairs
	return nil
}

// newestAccomplished is the accomplished group of instanceID created last.
func newestAccomplished(groups []SnapshotGroup, instanceID string) *SnapshotGroup {
	var best *SnapshotGroup
	for i := range groups {
		g := &groups[i]
		if g.Status != SnapshotStatusAccomplished || (instanceID != "" && g.InstanceID != instanceID) {
			continue
		}
		if best == nil || g.CreationTime.After(best.CreationTime) {
			best = g
		}
	}
	return best
}

// groupPairs lists the group's disks and snapshots, in the group's order, or
// in the order of filter when one is given; every filtered disk must be in
// the group, and every chosen snapshot accomplished.
func groupPairs(g *SnapshotGroup, filter []string) ([]DiskPair, error) {
	byDisk := make(map[string]GroupSnapshot, len(g.Snapshots))
	for _, s := range g.Snapshots {
		byDisk[s.SourceDiskID] = s
	}
	var chosen []GroupSnapshot
	if len(filter) == 0 {
		chosen = g.Snapshots
	} else {
		var vs []Violation
		seen := map[string]bool{}
		for i, id := range filter {
			s, ok := byDisk[id]
			switch {
			case seen[id]:
				vs = append(vs, Violation{Field: fmt.Sprintf("DiskIds[%d]", i), Rule: "uniquedisks", Message: "lists disk " + id + " more than once"})
			case !ok:
				vs = append(vs, Violation{Field: fmt.Sprintf("DiskIds[%d]", i), Rule: "ingroup", Message: fmt.Sprintf("disk %s is not in instance snapshot %s (its disks: %s)", id, g.SnapshotGroupID, strings.Join(groupDiskIDs(g), ", "))})
			default:
				chosen = append(chosen, s)
			}
			seen[id] = true
		}
		if len(vs) > 0 {
			return nil, ValidationError(vs)
		}
	}
	if len(chosen) == 0 {
		return nil, Errorf(ErrSnapshotGroupNotReady, "instance snapshot %s holds no disk snapshots", g.SnapshotGroupID)
	}
	pairs := make([]DiskPair, 0, len(chosen))
	for _, s := range chosen {
		// DescribeSnapshotGroups has no per-snapshot status: Available says
		// whether the snapshot can be used to roll a disk back.
		if !s.Available {
			return nil, Errorf(ErrSnapshotGroupNotReady, "snapshot %s of disk %s in instance snapshot %s is not available yet (progress %s)", s.SnapshotID, s.SourceDiskID, g.SnapshotGroupID, firstNonEmpty(s.Progress, "unknown"))
		}
		pairs = append(pairs, DiskPair{DiskID: s.SourceDiskID, SnapshotID: s.SnapshotID})
	}
	return pairs, nil
}

func groupDiskIDs(g *SnapshotGroup) []string {
	ids := make([]string, len(g.Snapshots))
	for i, s := range g.Snapshots {
		ids[i] = s.SourceDiskID
	}
	return ids
}

func pairDiskIDs(pairs []DiskPair) []string {
	ids := make([]string, len(pairs))
	for i, p := range pairs {
		ids[i] = p.DiskID
	}
	return ids
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
