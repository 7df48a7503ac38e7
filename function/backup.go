package function

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Backup snapshot tags. The backup-of tag finds a rollback's backups
// (ListTagResources / DescribeSnapshots by tag); the key tag ties them to
// the request that made them without storing the key itself: 16 hex digits
// of its SHA-256, the form the guards' ecs-disk-rollback:key disk tag uses.
const (
	tagBackupOf       = "ecs-disk-rollback:backup-of"
	tagIdempotencyKey = "ecs-disk-rollback:key"
)

// codeBackupFailed reports a backup snapshot that ECS marked failed.
// TODO(lead): promote to ErrBackupFailed in errors.go and FunctionErrorTypes.
const codeBackupFailed = ErrBackupFailed

// backupName is the name of the snapshot taken of disk before a rollback:
// it starts with a letter and uses only letters, digits and hyphens, as ECS
// snapshot names must.
func backupName(diskID string, unix int64) string {
	return fmt.Sprintf("rollback-backup-%s-%d", diskID, unix)
}

// keyHash is how an idempotency key is tagged on backups: 16 hex digits of
// its SHA-256.
func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
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
		t := map[string]string{tagBackupOf: disk}
		if r.req.IdempotencyKey != "" {
			t[tagIdempotencyKey] = keyHash(r.req.IdempotencyKey)
		}
		return t
	}
	index := map[string]int{}
	for _, p := range pairs {
		if err := r.checkDeadline(ctx, "CreateSnapshot"); err != nil {
			return err
		}
		start := r.h.now()
		id, err := r.ecs.CreateSnapshot(ctx, CreateSnapshotInput{
			RegionID:     r.req.RegionId,
			DiskID:       p.DiskId,
			SnapshotName: backupName(p.DiskId, unix),
			Description:  fmt.Sprintf("ecs-disk-rollback: state of %s before its reset to %s", p.DiskId, p.SnapshotId),
			Tags:         tags(p.DiskId),
		})
		if err != nil {
			fe := r.failedStep("CreateSnapshot", p.DiskId, start, err)
			fe.Message = "backup of " + p.DiskId + " failed, nothing was reset: " + fe.Message
			return fe
		}
		r.step(Step{Name: "CreateSnapshot", Target: p.DiskId, Outcome: StatusSucceeded, Message: id, DurationMs: r.h.since(start)})
		index[id] = len(r.res.Backups)
		r.res.Backups = append(r.res.Backups, Backup{DiskId: p.DiskId, SnapshotId: id, Status: SnapshotStatusProgressing})
	}
	ids := make([]string, len(r.res.Backups))
	for i, b := range r.res.Backups {
		ids[i] = b.SnapshotId
	}
	if len(ids) == 0 {
		return nil
	}
	start := r.h.now()
	var failed []string
	pr := r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		snaps, err := r.ecs.DescribeSnapshots(ctx, r.req.RegionId, ids)
		if err != nil {
			return false, err
		}
		for _, s := range snaps {
			if i, ok := index[s.SnapshotId]; ok {
				r.res.Backups[i].Status = s.Status
			}
		}
		failed = failed[:0]
		done := true
		for _, b := range r.res.Backups {
			switch b.Status {
			case SnapshotStatusFailed:
				failed = append(failed, b.SnapshotId+" of "+b.DiskId)
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
		step.Outcome, step.Code = StatusFailed, codeBackupFailed
		step.Message = "backup snapshot failed, nothing was reset: " + strings.Join(failed, ", ")
		r.step(step)
		return &Error{Code: codeBackupFailed, Message: step.Message}
	case pr.done:
		step.Outcome, step.Message = StatusSucceeded, fmt.Sprintf("accomplished (%d DescribeSnapshots calls)", pr.polls)
		r.step(step)
		return nil
	case pr.err != nil:
		fe := FromECS("DescribeSnapshots", pr.err)
		step.Outcome, step.Code, step.RequestId = StatusFailed, fe.Code, fe.RequestID
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
