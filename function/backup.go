package function

import (
	"context"
	"fmt"
	"strings"
)

// backupName is the name of the snapshot taken of disk before a rollback:
// it starts with a letter and uses only letters, digits and hyphens, as ECS
// snapshot names must.
func backupName(diskID string, unix int64) string {
	return fmt.Sprintf("rollback-backup-%s-%d", diskID, unix)
}

// backup snapshots each disk's current state (CreateSnapshot, one call per
// disk, in order) and waits (DescribeSnapshots, one call per poll for all
// of them) until every snapshot is accomplished: ECS refuses to reset a disk
// while one of its snapshots is unfinished, and a backup is only worth
// something once it is complete. Any failure ends the rollback before a
// reset; the snapshots already made are reported in Result.Backups.
func (r *run) backup(ctx context.Context, pairs []DiskPair) error {
	unix := r.h.now().Unix()
	tags := func(disk string) map[string]string {
		return map[string]string{tagBackupOf: disk, tagKey: r.claim.keyHash}
	}
	index := map[string]int{}
	for _, p := range pairs {
		if ctx.Err() != nil {
			return r.deadlineBefore("CreateSnapshot of " + p.DiskID)
		}
		start := r.h.now()
		in := CreateSnapshotInput{
			RegionID:     r.req.RegionID,
			DiskID:       p.DiskID,
			SnapshotName: backupName(p.DiskID, unix),
			Description:  fmt.Sprintf("ecs-disk-rollback: state of %s before its reset to %s", p.DiskID, p.SnapshotID),
			Tags:         tags(p.DiskID),
			// The same rollback (idempotency key) and disk give the same
			// token, so a retried invocation gets its first backup back
			// instead of a second snapshot (CreateSnapshot ClientToken).
			ClientToken:   "rb-" + guardHash(r.claim.keyHash+"/"+p.DiskID),
			RetentionDays: r.h.Config.BackupRetentionDays,
		}
		id, err := r.ecs.CreateSnapshot(ctx, in)
		if err != nil && actedMaybe(err) && ctx.Err() == nil {
			// ECS may have made it: the same ClientToken gets that snapshot
			// back rather than a second one.
			id, err = r.ecs.CreateSnapshot(ctx, in)
		}
		if fe := r.timed("CreateSnapshot", p.DiskID, start, err, id); fe != nil {
			fe.Message = "backup of " + p.DiskID + " failed, nothing was reset: " + fe.Message
			return fe
		}
		index[id] = len(r.res.Backups)
		r.res.Backups = append(r.res.Backups, Backup{DiskID: p.DiskID, SnapshotID: id, Status: SnapshotStatusProgressing})
	}
	ids := make([]string, len(r.res.Backups))
	for i, b := range r.res.Backups {
		ids[i] = b.SnapshotID
	}
	if len(ids) == 0 {
		return nil
	}
	start := r.h.now()
	var failed []string
	pr := r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		snaps, err := r.ecs.DescribeSnapshots(ctx, r.req.RegionID, ids)
		if err != nil {
			return false, err
		}
		for _, s := range snaps {
			if i, ok := index[s.SnapshotID]; ok {
				r.res.Backups[i].Status = s.Status
			}
		}
		failed = failed[:0]
		done := true
		for _, b := range r.res.Backups {
			switch b.Status {
			case SnapshotStatusFailed:
				failed = append(failed, b.SnapshotID+" of "+b.DiskID)
			case SnapshotStatusAccomplished:
			default:
				done = false
			}
		}
		return done || len(failed) > 0, nil
	})
	step := Step{Name: "WaitSnapshots", Target: strings.Join(ids, ","), DurationMs: r.h.since(start)}
	switch {
	case len(failed) > 0:
		step.Outcome, step.Code = StatusFailed, ErrBackupFailed
		step.Message = "backup snapshot failed, nothing was reset: " + strings.Join(failed, ", ")
		r.step(step)
		return &Error{Code: ErrBackupFailed, Message: step.Message}
	case pr.done:
		step.Outcome, step.Message = StatusSucceeded, fmt.Sprintf("accomplished (%d DescribeSnapshots calls)", pr.polls)
		r.step(step)
		return nil
	case pr.err != nil:
		fe := FromECS("DescribeSnapshots", pr.err)
		step.Outcome, step.Code, step.RequestID = StatusFailed, fe.Code, fe.RequestID
		step.Message = "could not follow the backup snapshots, nothing was reset: " + fe.Message
		r.step(step)
		fe.Message = step.Message
		return fe
	}
	step.Outcome, step.Code = StatusFailed, ErrDeadlineExceeded
	step.Message = fmt.Sprintf("backup snapshots not accomplished before the deadline (%d DescribeSnapshots calls), nothing was reset", pr.polls)
	r.step(step)
	return &Error{Code: ErrDeadlineExceeded, Message: step.Message, cause: errDeadline}
}
