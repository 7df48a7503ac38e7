package ecstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// Codes the contract names.
const (
	codeDryRun            = "DryRunOperation"
	codeDiskNotFound      = "InvalidDiskId.NotFound"
	codeResetInProgress   = "InvalidOperation.DiskResetInProgress"
	codeIncorrectDisk     = "IncorrectDiskStatus"
	codeIncorrectInstance = "IncorrectInstanceStatus"
	codeMismatch          = "InvalidParameter.Mismatch"
	codeTagQuota          = "OperationDenied.QuotaExceed"
	resourceTypeDisk      = "disk"
	tagPrefix             = "ecstest-"
	maxTagsPerResource    = 20
)

// need skips the check unless ok.
func need(t TB, ok bool, what string) {
	t.Helper()
	if !ok {
		t.Skipf("the harness names no %s", what)
	}
}

// codeOf is the ECS code of err, "" if err is not an *APIError.
func codeOf(err error) string {
	var ae *function.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// wantCode fails unless err is an *APIError with one of codes.
func wantCode(t TB, op string, err error, codes ...string) {
	t.Helper()
	var ae *function.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: got error %v, want *function.APIError %v", op, err, codes)
		return
	}
	if !slices.Contains(codes, ae.Code) {
		t.Errorf("%s: got code %s (HTTP %d), want %s", op, ae.Code, ae.HTTPStatus, strings.Join(codes, " or "))
		return
	}
	if ae.HTTPStatus < 400 || ae.RequestID == "" {
		t.Errorf("%s: got %s with HTTP %d, RequestId %q, want a 4xx/5xx status and a RequestId", op, ae.Code, ae.HTTPStatus, ae.RequestID)
	}
	t.Logf("%s: %s (HTTP %d)", op, ae.Code, ae.HTTPStatus)
}

func ctxOf(t TB) context.Context { return t.Context() }

func sleep(ctx context.Context, e Env, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// waitFor polls step until it reports done, logging each new state, and
// fails the check after Caps.Timeout worth of polls.
func waitFor(t TB, h Harness, e Env, what string, step func() (done bool, state string)) {
	t.Helper()
	start, last := time.Now(), ""
	for range h.Caps.polls() {
		done, state := step()
		if state != last {
			t.Logf("%s: +%dms %s", what, time.Since(start).Milliseconds(), state)
			last = state
		}
		if done {
			return
		}
		if err := sleep(ctxOf(t), e, h.Caps.poll()); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	t.Fatalf("%s: still %s after %v", what, last, h.Caps.Timeout)
}

func diskIDs(pairs []function.DiskPair) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.DiskID
	}
	return out
}

// waitResetDone waits until no disk of pairs shows ReIniting and a dry-run
// ResetDisks of pairs no longer answers that a reset is running.
func waitResetDone(t TB, h Harness, e Env, pairs []function.DiskPair) {
	t.Helper()
	waitFor(t, h, e, "reset of "+strings.Join(diskIDs(pairs), ","), func() (bool, string) {
		disks, err := e.ECS.DescribeDisks(ctxOf(t), e.IDs.Region, diskIDs(pairs))
		if err != nil {
			t.Fatalf("DescribeDisks: %v", err)
		}
		var st []string
		reiniting := false
		for _, d := range disks {
			st = append(st, d.DiskID+"="+d.Status)
			reiniting = reiniting || d.Status == function.DiskStatusReIniting
		}
		_, err = e.ECS.ResetDisks(ctxOf(t), function.ResetDisksInput{RegionID: e.IDs.Region, DryRun: true, Disks: pairs})
		code := codeOf(err)
		switch code {
		case codeDryRun, codeResetInProgress, codeIncorrectDisk:
		default:
			t.Fatalf("dry-run ResetDisks while waiting: got %v, want %s, %s or %s", err, codeDryRun, codeResetInProgress, codeIncorrectDisk)
		}
		return !reiniting && code == codeDryRun, fmt.Sprintf("disks %s, dry-run probe %s", strings.Join(st, " "), code)
	})
}

// instanceStatus is the status DescribeInstances shows for id.
func instanceStatus(t TB, e Env, id string) string {
	t.Helper()
	ins, err := e.ECS.DescribeInstances(ctxOf(t), e.IDs.Region, []string{id})
	if err != nil || len(ins) != 1 {
		t.Fatalf("DescribeInstances(%s): got %d instances, %v; want 1", id, len(ins), err)
	}
	return ins[0].Status
}

// within reports whether a read that returned just now must have seen the
// transition started by a call sent at sent: the call was applied after
// sent and the read answered before now (Caps.Transition).
func within(h Harness, sent time.Time) bool {
	return h.Caps.Transition > 0 && time.Since(sent) < h.Caps.Transition
}

// waitInstance waits for an instance to reach want, passing only through
// via; a read within Caps.Transition of sending the call must show via.
func waitInstance(t TB, h Harness, e Env, id string, sent time.Time, via, want string) {
	t.Helper()
	first := true
	waitFor(t, h, e, "instance "+id, func() (bool, string) {
		st := instanceStatus(t, e, id)
		must := within(h, sent)
		if first && must && st != via {
			t.Errorf("instance %s right after the call: got %s, want %s", id, st, via)
		}
		first = false
		if st != via && st != want {
			t.Fatalf("instance %s: got status %s, want %s then %s", id, st, via, want)
		}
		return st == want, st
	})
}

// waitSnapshots waits until every snapshot is accomplished.
func waitSnapshots(t TB, h Harness, e Env, ids []string) {
	t.Helper()
	waitFor(t, h, e, "snapshots "+strings.Join(ids, ","), func() (bool, string) {
		snaps, err := e.ECS.DescribeSnapshots(ctxOf(t), e.IDs.Region, ids)
		if err != nil || len(snaps) != len(ids) {
			t.Fatalf("DescribeSnapshots: got %d snapshots, %v; want %d", len(snaps), err, len(ids))
		}
		var st []string
		done := true
		for _, s := range snaps {
			if s.Status == function.SnapshotStatusFailed {
				t.Fatalf("snapshot %s failed", s.SnapshotID)
			}
			done = done && s.Status == function.SnapshotStatusAccomplished
			st = append(st, s.SnapshotID+"="+s.Status+" "+s.Progress)
		}
		return done, strings.Join(st, " ")
	})
}

// tagsOf lists the tags ListTagResources gives a disk.
func tagsOf(t TB, e Env, disk string) map[string]string {
	t.Helper()
	list, err := e.ECS.ListTagResources(ctxOf(t), e.IDs.Region, resourceTypeDisk, []string{disk})
	if err != nil {
		t.Fatalf("ListTagResources(%s): %v", disk, err)
	}
	out := map[string]string{}
	for _, r := range list {
		if r.ResourceID != disk || r.ResourceType != resourceTypeDisk {
			t.Errorf("ListTagResources(%s): got entry %+v, want ResourceId %s, ResourceType %s", disk, r, disk, resourceTypeDisk)
		}
		out[r.TagKey] = r.TagValue
	}
	return out
}

// someDisk is a disk of the fixture, and its instance.
func someDisk(ids IDs) (disk string, in Instance) {
	for _, in := range []Instance{ids.Stopped, ids.Running} {
		if len(in.Disks) > 0 {
			return in.Disks[0], in
		}
	}
	return "", Instance{}
}

// sameSet fails unless got and want hold the same strings.
func sameSet(t TB, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %d %v, want %d %v", what, len(g), g, len(w), w)
	}
}

// runToken is a token unique to this run (CreateSnapshot ClientToken,
// snapshot names).
func runToken() string { return fmt.Sprintf("%s%d", tagPrefix, time.Now().UnixNano()) }
