package function

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Undo. A rollback with BackupBeforeReset snapshots each disk first; those
// backups are what an undo resets the disks to:
//
//   - OnUnhealthy Undo: when the health gate finds an instance unhealthy,
//     the undo phase stops it again (KeepCharging), resets its disks to this
//     rollback's backups, starts it, and gates it once more;
//   - UndoRollback {InstanceId}: a later invocation finds, on the disks of
//     the instance, the tag ecs-disk-rollback:backup (the backup taken
//     before the disk's last reset, written with the claim's outcome) and
//     ecs-disk-rollback:key (the rollback it belongs to), checks each
//     backup still exists (BACKUP_RETENTION_DAYS) and is that disk's, and
//     rolls the disks back to them like any rollback: allow-list, claim,
//     cooldown, dry run and the rest apply unchanged.
//
// A reset without a backup clears the disk's backup tag, so an undo never
// goes back further than the last rollback; so does a successful undo.

// tagBackup (disk): the backup snapshot taken before the disk's last reset.
const tagBackup = tagPrefix + "backup"

// undoState is the undo phase's outcome.
type undoState struct {
	instances []string
	pairs     []DiskPair
	err       *Error // the step that failed, if any
	reset     bool   // every disk was reset to its backup
}

// unhealthy lists the instances found unhealthy in a gate round.
func (r *run) unhealthy(round int) []string {
	var out []string
	for _, h := range r.res.Health {
		if h.Round == round && h.Status == HealthUnhealthy {
			out = append(out, h.InstanceID)
		}
	}
	return out
}

func (r *run) undoWanted() bool {
	return r.req.OnUnhealthy == "Undo" && len(r.unhealthy(1)) > 0
}

// undoPhase stops the unhealthy instances, resets their disks to the
// backups, starts them and gates them again. A failure leaves the restart
// compensation to start them.
func (r *run) undoPhase(ctx context.Context) error {
	ids := r.unhealthy(1)
	u := &undoState{instances: ids}
	r.undo = u
	reset := r.resetIDs()
	for _, b := range r.res.Backups {
		if slices.Contains(ids, r.diskInstance[b.DiskID]) && slices.Contains(reset, b.DiskID) {
			u.pairs = append(u.pairs, DiskPair{DiskID: b.DiskID, SnapshotID: b.SnapshotID})
		}
	}
	if len(u.pairs) == 0 {
		u.err = Errorf(ErrUndoFailed, "no backup of a reset disk of %s to go back to", strings.Join(ids, ", "))
		return nil
	}
	if ctx.Err() != nil {
		u.err = &Error{Code: ErrDeadlineExceeded, Message: "the invocation deadline came before the undo started: nothing was stopped or reset again", cause: errDeadline}
		return nil
	}
	wctx, cancel := withStartReserve(ctx)
	defer cancel()
	if fe := r.stopAgain(wctx, ids); fe != nil {
		u.err = fe
		return nil
	}
	diskIDs := pairDiskIDs(u.pairs)
	reiniting := make([]DiskOutcome, len(diskIDs))
	for i, id := range diskIDs {
		reiniting[i] = DiskOutcome{DiskID: id, Status: DiskStatusReIniting}
	}
	r.res.Disks = mergeDiskOutcomes(r.res.Disks, reiniting)
	rr := r.resetPairs(wctx, u.pairs, false)
	for i, p := range rr.progress {
		if p.OperationStatus != OperationStatusSuccess {
			u.err = Errorf(firstNonEmpty(p.ErrorCode, ErrUndoFailed), "reset of %s to its backup %s: %s", u.pairs[i].DiskID, u.pairs[i].SnapshotID, firstNonEmpty(p.ErrorMsg, p.OperationStatus))
			break
		}
	}
	if u.err == nil && len(rr.progress) < len(u.pairs) {
		u.err = Errorf(ErrDeadlineExceeded, "the deadline came before every disk was reset to its backup")
	}
	outcomes, pending, err := r.waitDisks(wctx, diskIDs)
	r.res.Disks = mergeDiskOutcomes(r.res.Disks, outcomes)
	if u.err != nil {
		return nil
	}
	if err != nil || len(pending) > 0 {
		u.err = Errorf(ErrDeadlineExceeded, "the disks reset to their backups were not seen leaving ReIniting: %s", strings.Join(pending, ", "))
		return nil
	}
	u.reset = true
	r.startAndConfirm(ctx, ids)
	var running []string
	for _, id := range ids {
		if r.started[id] {
			running = append(running, id)
		}
	}
	r.gateRound(ctx, running, 2)
	return nil
}

// stopAgain stops (KeepCharging) and waits until Stopped instances this
// rollback started: they are owned again, so the restart compensation
// starts them whatever happens next.
func (r *run) stopAgain(ctx context.Context, ids []string) *Error {
	start := r.h.now()
	err := writeTags(ctx, r.ecs, r.req.RegionID, resourceInstance, ids, map[string]string{tagStoppedBy: r.claim.keyHash})
	if fe := r.timed("TagResources", strings.Join(ids, ","), start, err, tagStoppedBy+": the undo owes these instances a start"); fe != nil {
		return fe
	}
	for _, id := range ids {
		r.owned = appendNew(r.owned, id)
		r.started[id] = false
		start = r.h.now()
		err := r.ecs.StopInstance(ctx, StopInstanceInput{RegionID: r.req.RegionID, InstanceID: id, StoppedMode: StoppedModeKeepCharging})
		if fe := r.timed("StopInstance", id, start, err, "StoppedMode KeepCharging, to undo the rollback"); fe != nil {
			return fe
		}
	}
	status, pr := r.waitInstances(ctx, ids, InstanceStatusStopped)
	step := Step{Name: "WaitInstancesStopped", Target: strings.Join(ids, ","), DurationMs: pr.spent.Milliseconds(), Outcome: StatusSucceeded,
		Message: fmt.Sprintf("Stopped (%d DescribeInstances calls)", pr.polls)}
	if !pr.done {
		step.Outcome, step.Code = StatusFailed, ErrDeadlineExceeded
		step.Message = "not Stopped in time: " + describeStatuses(ids, status, InstanceStatusStopped)
	}
	r.step(step)
	if !pr.done {
		return &Error{Code: ErrDeadlineExceeded, Message: step.Message}
	}
	return nil
}

// answerHealth classifies the gate's verdicts and the undo, once the
// rollback itself succeeded; nil when every gated instance is healthy.
func (r *run) answerHealth() *Error {
	res := r.res
	if u := r.undo; u != nil {
		out := &UndoOutcome{Instances: u.instances, Snapshots: []Backup{}}
		for _, p := range u.pairs {
			out.Snapshots = append(out.Snapshots, Backup{DiskID: p.DiskID, SnapshotID: p.SnapshotID, Status: SnapshotStatusAccomplished})
		}
		res.Undo = out
		snaps := joinSnapshots(u.pairs)
		again := r.verdicts(2)
		var fe *Error
		switch {
		case u.err != nil:
			out.Status = StatusFailed
			fe = &Error{Code: ErrUndoFailed, Message: fmt.Sprintf("the health gate found %s unhealthy and the undo to the backups (%s) failed: %s", strings.Join(u.instances, ", "), snaps, u.err.Error())}
		case len(again[HealthHealthy]) == len(u.instances):
			out.Status = "Undone"
			fe = &Error{Code: ErrUndoneAfterUnhealthy, Message: fmt.Sprintf("the health gate found %s unhealthy after the rollback; the disks were reset to the backups it took (%s) and the instances are healthy again", strings.Join(u.instances, ", "), snaps)}
		default:
			out.Status = "Undone"
			fe = &Error{Code: ErrUndoFailed, Message: fmt.Sprintf("the health gate found %s unhealthy; the disks were reset to the backups (%s) but the gate failed again: %s", strings.Join(u.instances, ", "), snaps, r.healthDetails(2))}
		}
		out.Message = fe.Message
		res.Summary.Status = fe.Code
		return fe
	}
	v := r.verdicts(1)
	var fe *Error
	switch {
	case len(v[HealthUnhealthy]) > 0:
		fe = &Error{Code: ErrUnhealthy, Message: "the rollback was done and the health gate found unhealthy: " + r.healthDetails(1)}
		if r.req.OnUnhealthy == "Undo" {
			fe.Message += "; the undo did not run"
		}
	case len(v[HealthAgentUnavailable])+len(v[HealthCheckFailed]) > 0:
		fe = &Error{Code: ErrHealthCheckUnavailable, Message: "the rollback was done but the health gate could not check: " + r.healthDetails(1)}
	case len(v[HealthPending]) > 0:
		fe = &Error{Code: ErrHealthCheckPending, Message: "the rollback was done but the health gate had not concluded at the deadline (not assumed healthy): " + r.healthDetails(1)}
	default:
		return nil
	}
	res.Summary.Status = fe.Code
	return fe
}

// verdicts groups a round's instances by verdict.
func (r *run) verdicts(round int) map[string][]string {
	m := map[string][]string{}
	for _, h := range r.res.Health {
		if h.Round == round {
			m[h.Status] = append(m[h.Status], h.InstanceID)
		}
	}
	return m
}

// healthDetails describes a round's verdicts other than healthy.
func (r *run) healthDetails(round int) string {
	var out []string
	for _, h := range r.res.Health {
		if h.Round == round && h.Status != HealthHealthy {
			out = append(out, h.InstanceID+" "+h.Status+" ("+h.Detail+")")
		}
	}
	return strings.Join(out, "; ")
}

func joinSnapshots(pairs []DiskPair) string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.DiskID + "→" + p.SnapshotID
	}
	return strings.Join(out, ", ")
}

// resolveUndo turns UndoRollback into pairs: each disk of the instance
// whose tags name a backup of its last rollback, and that backup.
func (r *run) resolveUndo(ctx context.Context, p *Plan) error {
	id := r.req.UndoRollback.InstanceID
	start := r.h.now()
	disks, err := r.ecs.DescribeInstanceDisks(ctx, r.req.RegionID, id)
	if fe := r.timed("DescribeDisks", id, start, err, "the disks of the instance and their backup tags"); fe != nil {
		return fe
	}
	// The last rollback is the newest reset recorded (tag at) with a backup.
	var key string
	var newest int64 = -1
	for _, d := range disks {
		at, _ := strconv.ParseInt(d.Tags[tagAt], 10, 64)
		if d.Tags[tagBackup] != "" && at > newest {
			newest, key = at, d.Tags[tagKey]
		}
	}
	if newest < 0 {
		return &Error{Code: ErrNothingToUndo, Message: fmt.Sprintf("no backup is recorded on the %d disks of %s: its last rollback took none (BackupBeforeReset) or was undone already", len(disks), id)}
	}
	var snaps []string
	for _, d := range disks {
		if d.Tags[tagBackup] != "" && d.Tags[tagKey] == key {
			p.Pairs = append(p.Pairs, DiskPair{DiskID: d.DiskID, SnapshotID: d.Tags[tagBackup]})
			snaps = append(snaps, d.Tags[tagBackup])
		}
	}
	start = r.h.now()
	found, err := r.ecs.DescribeSnapshots(ctx, r.req.RegionID, snaps)
	if fe := r.timed("DescribeSnapshots", strings.Join(snaps, ","), start, err, "the backups still exist"); fe != nil {
		return fe
	}
	byID := map[string]Snapshot{}
	for _, s := range found {
		byID[s.SnapshotID] = s
	}
	var bad []string
	for _, pr := range p.Pairs {
		s, ok := byID[pr.SnapshotID]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("backup %s of %s no longer exists (released after its retention, or deleted)", pr.SnapshotID, pr.DiskID))
		case s.Status != SnapshotStatusAccomplished:
			bad = append(bad, fmt.Sprintf("backup %s of %s is %s", pr.SnapshotID, pr.DiskID, s.Status))
		case s.SourceDiskID != pr.DiskID || s.Tags[tagBackupOf] != pr.DiskID:
			bad = append(bad, fmt.Sprintf("snapshot %s is not a backup of %s", pr.SnapshotID, pr.DiskID))
		}
	}
	if len(bad) > 0 {
		return &Error{Code: ErrNothingToUndo, Message: "the last rollback of " + id + " cannot be undone: " + strings.Join(bad, "; ")}
	}
	p.UndoOf = key
	return nil
}

// recordBackups writes, on each disk reset now, the backup taken before
// this reset (or clears it: no backup, or the undo already used it).
func (r *run) recordBackups(ctx context.Context, done []string) {
	byValue := map[string][]string{}
	for _, d := range done {
		v := ""
		if i := slices.IndexFunc(r.res.Backups, func(b Backup) bool { return b.DiskID == d }); i >= 0 && (r.undo == nil || !r.undo.reset) {
			v = r.res.Backups[i].SnapshotID
		}
		if v == "" && !r.claim.backupTagged[d] {
			continue // no backup named: nothing to clear
		}
		byValue[v] = append(byValue[v], d)
	}
	for _, v := range slices.Sorted(maps.Keys(byValue)) {
		ids := byValue[v]
		start := r.h.now()
		err := writeDiskTags(ctx, r.ecs, r.req.RegionID, ids, map[string]string{tagBackup: v})
		msg := tagBackup + " cleared: nothing for UndoRollback to go back to"
		if v != "" {
			msg = tagBackup + "=" + v + ": UndoRollback goes back to it"
		}
		_ = r.timed("RecordBackup", strings.Join(ids, ","), start, err, msg)
	}
}
