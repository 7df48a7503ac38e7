package function

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// guardFakeECS is an in-memory ECS that keeps tags and disk statuses behind
// one mutex, so each call is atomic (linearizable), like the real tag store
// is assumed to be. Calls other than the tag ones and DescribeDisks fail.
type guardFakeECS struct {
	mu       sync.Mutex
	tags     map[string]map[string]string // disk id → tags
	statuses map[string]string            // disk id → status
	calls    map[string]int
	listErr  error
	tagErr   error
	descErr  error
	// beforeTag, when set, runs (without the lock) before each TagResources.
	beforeTag func(ids []string, tags map[string]string)
}

var _ ECS = (*guardFakeECS)(nil)

func newGuardFake(disks ...string) *guardFakeECS {
	f := &guardFakeECS{tags: map[string]map[string]string{}, statuses: map[string]string{}, calls: map[string]int{}}
	for _, d := range disks {
		f.tags[d] = map[string]string{}
		f.statuses[d] = DiskStatusInUse
	}
	return f
}

func (f *guardFakeECS) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *guardFakeECS) totalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

func (f *guardFakeECS) setTags(disk string, kv map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	maps.Copy(f.tags[disk], kv)
}

func (f *guardFakeECS) tagsOf(disk string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.tags[disk])
}

func (f *guardFakeECS) TagResources(ctx context.Context, regionID, resourceType string, resourceIDs []string, tags map[string]string) error {
	if f.beforeTag != nil {
		f.beforeTag(resourceIDs, tags)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["TagResources"]++
	if f.tagErr != nil {
		return f.tagErr
	}
	if resourceType != "disk" || len(resourceIDs) == 0 || len(resourceIDs) > 50 || len(tags) == 0 || len(tags) > 20 {
		return &APIError{Code: "InvalidParameter", Message: "bad TagResources", HTTPStatus: 400}
	}
	for _, id := range resourceIDs {
		if _, ok := f.tags[id]; !ok {
			return &APIError{Code: "InvalidResourceId.NotFound", Message: id, HTTPStatus: 404}
		}
	}
	for k, v := range tags {
		if strings.HasPrefix(k, "aliyun") || strings.HasPrefix(k, "acs:") || len(k) > 128 || len(v) > 128 {
			return &APIError{Code: "InvalidTagKey.Malformed", Message: k, HTTPStatus: 400}
		}
	}
	for _, id := range resourceIDs {
		maps.Copy(f.tags[id], tags)
	}
	return nil
}

func (f *guardFakeECS) ListTagResources(ctx context.Context, regionID, resourceType string, resourceIDs []string) ([]ResourceTag, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["ListTagResources"]++
	if f.listErr != nil {
		return nil, f.listErr
	}
	if len(resourceIDs) > 50 {
		return nil, &APIError{Code: "InvalidParameter", Message: "too many ResourceId", HTTPStatus: 400}
	}
	var out []ResourceTag
	for _, id := range resourceIDs {
		for _, k := range slices.Sorted(maps.Keys(f.tags[id])) {
			out = append(out, ResourceTag{ResourceId: id, ResourceType: resourceType, TagKey: k, TagValue: f.tags[id][k]})
		}
	}
	return out, nil
}

func (f *guardFakeECS) DescribeDisks(ctx context.Context, regionID string, diskIDs []string) ([]Disk, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["DescribeDisks"]++
	if f.descErr != nil {
		return nil, f.descErr
	}
	var out []Disk
	for _, id := range diskIDs {
		if st, ok := f.statuses[id]; ok {
			out = append(out, Disk{DiskId: id, RegionId: regionID, Status: st, Tags: maps.Clone(f.tags[id])})
		}
	}
	return out, nil
}

var errGuardFakeUnsupported = errors.New("guardFakeECS: not supported")

func (f *guardFakeECS) ResetDisks(context.Context, ResetDisksInput) (*ResetDisksOutput, error) {
	return nil, errGuardFakeUnsupported
}
func (f *guardFakeECS) ResetDisk(context.Context, ResetDiskInput) (string, error) {
	return "", errGuardFakeUnsupported
}
func (f *guardFakeECS) DescribeInstances(context.Context, string, []string) ([]Instance, error) {
	return nil, errGuardFakeUnsupported
}
func (f *guardFakeECS) DescribeSnapshots(context.Context, string, []string) ([]Snapshot, error) {
	return nil, errGuardFakeUnsupported
}
func (f *guardFakeECS) DescribeSnapshotGroups(context.Context, DescribeSnapshotGroupsInput) ([]SnapshotGroup, error) {
	return nil, errGuardFakeUnsupported
}
func (f *guardFakeECS) StopInstance(context.Context, StopInstanceInput) error {
	return errGuardFakeUnsupported
}
func (f *guardFakeECS) StartInstance(context.Context, string, string, bool) error {
	return errGuardFakeUnsupported
}
func (f *guardFakeECS) CreateSnapshot(context.Context, CreateSnapshotInput) (string, error) {
	return "", errGuardFakeUnsupported
}

var guardT0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// guardCtx makes claims fast: a tiny settle delay, or none (no sleep at all).
func guardCtx(t *testing.T, settle time.Duration) context.Context {
	t.Helper()
	return withGuardSettings(t.Context(), guardSettings{Settle: settle})
}

// guardNoSleepCtx skips the settle wait but keeps a generous gap limit: for
// sequential tests where no concurrent claim exists.
func guardNoSleepCtx(t *testing.T) context.Context {
	t.Helper()
	return withGuardSettings(t.Context(), guardSettings{Settle: time.Minute, Sleep: func(context.Context, time.Duration) error { return nil }})
}

func guardHandler(cooldown time.Duration, now time.Time) *Handler {
	return &Handler{Config: Config{Cooldown: cooldown}, Now: func() time.Time { return now }}
}

func guardPairs(disks ...string) []DiskPair {
	out := make([]DiskPair, len(disks))
	for i, d := range disks {
		out[i] = DiskPair{DiskId: d, SnapshotId: "s-" + strings.TrimPrefix(d, "d-")}
	}
	return out
}

func guardPlan(key string, disks ...string) *Plan {
	return &Plan{RegionId: "cn-hangzhou", Pairs: guardPairs(disks...), IdempotencyKey: key}
}

func guardIDs(pairs []DiskPair) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.DiskId
	}
	return out
}

func guardErrCode(err error) string {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	if err != nil {
		return "non-*Error: " + err.Error()
	}
	return ""
}

func TestCheckAllowed(t *testing.T) {
	tests := []struct {
		name      string
		key, val  string
		tags      map[string]map[string]string
		listErr   error
		disks     []string
		wantCode  string
		wantNames []string // in the message
		notNames  []string // must not be in the message
		wantCalls int
	}{
		{name: "no allow-list makes no call", disks: []string{"d-a"}, wantCalls: 0},
		{name: "all tagged", key: "rollback", val: "allowed", disks: []string{"d-a", "d-b"},
			tags: map[string]map[string]string{"d-a": {"rollback": "allowed"}, "d-b": {"rollback": "allowed", "x": "y"}}, wantCalls: 1},
		{name: "untagged and wrong value refused by name", key: "rollback", val: "allowed", disks: []string{"d-a", "d-b", "d-c"},
			tags:     map[string]map[string]string{"d-a": {"rollback": "allowed"}, "d-b": {"rollback": "no"}},
			wantCode: ErrDiskNotAllowed, wantNames: []string{"d-b", "d-c", "rollback=allowed"}, notNames: []string{"d-a"}, wantCalls: 1},
		{name: "empty value must match exactly", key: "rollback", val: "", disks: []string{"d-a", "d-b"},
			tags:     map[string]map[string]string{"d-a": {"rollback": ""}},
			wantCode: ErrDiskNotAllowed, wantNames: []string{"d-b"}, notNames: []string{"d-a,"}, wantCalls: 1},
		{name: "ListTagResources error keeps its code", key: "rollback", val: "allowed", disks: []string{"d-a"},
			listErr: &APIError{Code: "Forbidden.RAM", Message: "no", HTTPStatus: 403}, wantCode: "Forbidden.RAM", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake(tt.disks...)
			for d, kv := range tt.tags {
				f.setTags(d, kv)
			}
			f.listErr = tt.listErr
			h := &Handler{Config: Config{AllowedDiskTagKey: tt.key, AllowedDiskTagValue: tt.val}}
			err := h.checkAllowed(t.Context(), f, guardPlan("k", tt.disks...))
			if got := guardErrCode(err); got != tt.wantCode {
				t.Fatalf("checkAllowed code = %q (%v), want %q", got, err, tt.wantCode)
			}
			for _, n := range tt.wantNames {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("message %q does not name %q", err, n)
				}
			}
			for _, n := range tt.notNames {
				if strings.Contains(err.Error(), n) {
					t.Errorf("message %q names allowed %q", err, n)
				}
			}
			if got := f.totalCalls(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestClaimDecisions(t *testing.T) {
	const cooldown = 30 * time.Minute
	now := guardT0
	ours, other := guardHash("evt-1"), guardHash("evt-2")
	unix := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	tests := []struct {
		name      string
		cooldown  time.Duration
		tags      map[string]map[string]string
		wantReset []string
		wantDup   []string
		wantCode  string
		wantMsg   []string
	}{
		{name: "fresh disks are claimed", cooldown: cooldown, wantReset: []string{"d-a", "d-b"}},
		{name: "done for our key is a duplicate", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": {guardTagKey: ours, guardTagState: guardStateDone, guardTagAt: unix(now.Add(-time.Minute))}},
			wantReset: []string{"d-b"}, wantDup: []string{"d-a"}},
		{name: "failed for our key is retried", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": {guardTagKey: ours, guardTagState: guardStateFailed}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "cooldown refuses the whole request", cooldown: cooldown,
			tags:     map[string]map[string]string{"d-b": {guardTagKey: other, guardTagState: guardStateDone, guardTagAt: unix(now.Add(-10 * time.Minute))}},
			wantCode: ErrCooldownActive, wantMsg: []string{"d-b", "20m0s left", "30m0s"}},
		{name: "cooldown passed", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-b": {guardTagKey: other, guardTagState: guardStateDone, guardTagAt: unix(now.Add(-31 * time.Minute))}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "no cooldown configured", cooldown: 0,
			tags:      map[string]map[string]string{"d-b": {guardTagKey: other, guardTagState: guardStateDone, guardTagAt: unix(now.Add(-time.Second))}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "fresh pending claim of our key is an in-flight duplicate", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": {guardTagKey: ours, guardTagState: guardStatePending, guardTagClaim: ours + ":n0:" + unix(now.Add(-5*time.Second))}},
			wantReset: []string{"d-b"}, wantDup: []string{"d-a"}},
		{name: "fresh pending claim of another key refuses", cooldown: 0,
			tags:     map[string]map[string]string{"d-a": {guardTagKey: other, guardTagState: guardStatePending, guardTagClaim: other + ":n0:" + unix(now.Add(-5*time.Second))}},
			wantCode: ErrCooldownActive, wantMsg: []string{"d-a", "another request"}},
		{name: "stale pending claim is taken over", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": {guardTagKey: other, guardTagState: guardStatePending, guardTagClaim: other + ":n0:" + unix(now.Add(-time.Hour))}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "malformed claim counts as stale", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": {guardTagState: guardStatePending, guardTagClaim: "edited by hand"}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "all done for our key: all duplicates", cooldown: cooldown,
			tags: map[string]map[string]string{
				"d-a": {guardTagKey: ours, guardTagState: guardStateDone, guardTagAt: unix(now)},
				"d-b": {guardTagKey: ours, guardTagState: guardStateDone, guardTagAt: unix(now)},
			},
			wantDup: []string{"d-a", "d-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a", "d-b")
			for d, kv := range tt.tags {
				f.setTags(d, kv)
			}
			before := map[string]map[string]string{"d-a": f.tagsOf("d-a"), "d-b": f.tagsOf("d-b")}
			h := guardHandler(tt.cooldown, now)
			toReset, dups, err := h.claim(guardNoSleepCtx(t), f, Invocation{RequestID: "fc-1"}, guardPlan("evt-1", "d-a", "d-b"))
			if got := guardErrCode(err); got != tt.wantCode {
				t.Fatalf("claim code = %q (%v), want %q", got, err, tt.wantCode)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q lacks %q", err, m)
				}
			}
			if got := guardIDs(toReset); !slices.Equal(got, tt.wantReset) {
				t.Errorf("toReset = %v, want %v", got, tt.wantReset)
			}
			if got := guardIDs(dups); !slices.Equal(got, tt.wantDup) {
				t.Errorf("duplicates = %v, want %v", got, tt.wantDup)
			}
			if tt.wantCode != "" {
				for _, d := range []string{"d-a", "d-b"} {
					if got := f.tagsOf(d); !maps.Equal(got, before[d]) {
						t.Errorf("refused claim changed %s tags: %v, want %v", d, got, before[d])
					}
				}
			}
			for _, d := range tt.wantReset {
				g := parseDiskGuard(f.tagsOf(d))
				if g.state != guardStatePending || g.key != ours || g.claimKey != ours || !g.claimAt.Equal(now) {
					t.Errorf("%s guard after claim = %+v, want pending claim of %s at %v", d, g, ours, now)
				}
			}
		})
	}
}

// TestClaimReleaseLifecycle runs deliveries one after another through
// claim and release: the duplicate delivery, a retry after a failure, the
// FC retry keyed by the request id, and the cooldown for another key.
func TestClaimReleaseLifecycle(t *testing.T) {
	now := guardT0
	clock := &now
	h := &Handler{Config: Config{Cooldown: 30 * time.Minute}, Now: func() time.Time { return *clock }}
	f := newGuardFake("d-a", "d-b")
	ctx := guardNoSleepCtx(t)
	inv := Invocation{RequestID: "fc-1"}

	step := func(name string, inv Invocation, key string, accept map[string]bool, wantReset, wantDup []string, wantCode string) {
		t.Helper()
		plan := guardPlan(key, "d-a", "d-b")
		toReset, dups, err := h.claim(ctx, f, inv, plan)
		if got := guardErrCode(err); got != wantCode {
			t.Fatalf("%s: claim code = %q (%v), want %q", name, got, err, wantCode)
		}
		if got := guardIDs(toReset); !slices.Equal(got, wantReset) {
			t.Fatalf("%s: toReset = %v, want %v", name, got, wantReset)
		}
		if got := guardIDs(dups); !slices.Equal(got, wantDup) {
			t.Fatalf("%s: duplicates = %v, want %v", name, got, wantDup)
		}
		if len(toReset) > 0 {
			h.release(ctx, f, inv, plan, accept)
		}
	}

	// The first delivery resets d-a; d-b's reset is refused by ECS.
	step("first", inv, "evt-1", map[string]bool{"d-a": true, "d-b": false}, []string{"d-a", "d-b"}, nil, "")
	if got := parseDiskGuard(f.tagsOf("d-a")); got.state != guardStateDone || !got.at.Equal(now) {
		t.Fatalf("d-a after release = %+v, want done at %v", got, now)
	}
	if got := parseDiskGuard(f.tagsOf("d-b")); got.state != guardStateFailed || !got.at.IsZero() {
		t.Fatalf("d-b after release = %+v, want failed, never reset", got)
	}
	// The same event delivered again: d-a is a duplicate, d-b is retried.
	*clock = now.Add(time.Minute)
	step("duplicate delivery", Invocation{RequestID: "fc-2"}, "evt-1", map[string]bool{"d-b": true}, []string{"d-b"}, []string{"d-a"}, "")
	// And again: everything is a duplicate, nothing is written.
	tagCalls := f.count("TagResources")
	step("third delivery", Invocation{RequestID: "fc-3"}, "evt-1", nil, nil, []string{"d-a", "d-b"}, "")
	if got := f.count("TagResources"); got != tagCalls {
		t.Errorf("a pure duplicate wrote tags: TagResources %d → %d", tagCalls, got)
	}
	// Another event within the cooldown is refused ...
	*clock = now.Add(10 * time.Minute)
	step("other key in cooldown", Invocation{RequestID: "fc-4"}, "evt-2", nil, nil, nil, ErrCooldownActive)
	// ... and allowed once it passed.
	*clock = now.Add(45 * time.Minute)
	step("other key after cooldown", Invocation{RequestID: "fc-5"}, "evt-2", map[string]bool{"d-a": true, "d-b": true}, []string{"d-a", "d-b"}, nil, "")
	// Without a request key the FC request id is the key: an FC retry of a
	// call that succeeded is a duplicate ...
	*clock = now.Add(2 * time.Hour)
	step("keyless", Invocation{RequestID: "fc-6"}, "", map[string]bool{"d-a": true, "d-b": true}, []string{"d-a", "d-b"}, nil, "")
	step("FC retry", Invocation{RequestID: "fc-6", RetryCount: 1}, "", nil, nil, []string{"d-a", "d-b"}, "")
	// ... and a new keyless call is a new request (in cooldown here).
	step("new keyless call", Invocation{RequestID: "fc-7"}, "", nil, nil, nil, ErrCooldownActive)
}

func TestClaimWithoutAnyKey(t *testing.T) {
	f := newGuardFake("d-a")
	h := guardHandler(0, guardT0)
	ctx := guardNoSleepCtx(t)
	for i := range 2 {
		plan := guardPlan("", "d-a")
		toReset, dups, err := h.claim(ctx, f, Invocation{}, plan)
		if err != nil || len(toReset) != 1 || len(dups) != 0 {
			t.Fatalf("claim %d = %v, %v, %v; want d-a to reset", i, toReset, dups, err)
		}
		h.release(ctx, f, Invocation{}, plan, map[string]bool{"d-a": i == 0})
		want := []string{guardStateDone, guardStateFailed}[i]
		if got := f.tagsOf("d-a")[guardTagState]; got != want {
			t.Fatalf("state after release %d = %q, want %q", i, got, want)
		}
	}
}

// TestClaimConcurrentSameKey: duplicate deliveries claiming at the same time
// reset each disk exactly once.
func TestClaimConcurrentSameKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		claimants int
		disks     []string
	}{
		{"two on one disk", 2, []string{"d-a"}},
		{"four on three disks", 4, []string{"d-a", "d-b", "d-c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for iter := range 25 {
				f := newGuardFake(tc.disks...)
				h := guardHandler(30*time.Minute, guardT0)
				ctx := guardCtx(t, 20*time.Millisecond)
				resets := make([][]string, tc.claimants)
				dups := make([][]string, tc.claimants)
				errs := make([]error, tc.claimants)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range tc.claimants {
					wg.Go(func() {
						<-start
						r, d, err := h.claim(ctx, f, Invocation{RequestID: fmt.Sprintf("fc-%d", i)}, guardPlan("evt-1", tc.disks...))
						resets[i], dups[i], errs[i] = guardIDs(r), guardIDs(d), err
					})
				}
				close(start)
				wg.Wait()
				count := map[string]int{}
				for i := range tc.claimants {
					if errs[i] != nil {
						t.Fatalf("iteration %d: claimant %d: %v", iter, i, errs[i])
					}
					for _, d := range resets[i] {
						count[d]++
					}
					if got := len(resets[i]) + len(dups[i]); got != len(tc.disks) {
						t.Fatalf("iteration %d: claimant %d: toReset %v + duplicates %v do not cover %v", iter, i, resets[i], dups[i], tc.disks)
					}
				}
				for _, d := range tc.disks {
					if count[d] != 1 {
						t.Fatalf("iteration %d: disk %s handed to %d claimants (resets %v), want exactly 1", iter, d, count[d], resets)
					}
				}
			}
		})
	}
}

// TestClaimConcurrentDifferentKeys: different requests for the same disk at
// the same time; at most one proceeds, the others get CooldownActive. With
// one disk, or with the claims written in one call, exactly one proceeds.
func TestClaimConcurrentDifferentKeys(t *testing.T) {
	t.Parallel()
	for _, cooldown := range []time.Duration{0, 30 * time.Minute} {
		t.Run("cooldown "+cooldown.String(), func(t *testing.T) {
			for iter := range 25 {
				disks := []string{"d-a", "d-b"}
				f := newGuardFake(disks...)
				h := guardHandler(cooldown, guardT0)
				ctx := guardCtx(t, 20*time.Millisecond)
				const n = 3
				resets := make([][]string, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						<-start
						r, _, err := h.claim(ctx, f, Invocation{RequestID: fmt.Sprintf("fc-%d", i)}, guardPlan(fmt.Sprintf("evt-%d", i), disks...))
						resets[i], errs[i] = guardIDs(r), err
					})
				}
				close(start)
				wg.Wait()
				winners := 0
				for i := range n {
					switch {
					case errs[i] == nil && slices.Equal(resets[i], disks):
						winners++
					case guardErrCode(errs[i]) == ErrCooldownActive && len(resets[i]) == 0:
					default:
						t.Fatalf("iteration %d: claimant %d got %v, %v; want all disks or CooldownActive", iter, i, resets[i], errs[i])
					}
				}
				if winners != 1 {
					t.Fatalf("iteration %d: %d claimants proceeded, want exactly 1 (errors %v)", iter, winners, errs)
				}
			}
		})
	}
}

// TestClaimSlowWriteFailsClosed reproduces the race window: B reads, then
// its write is delayed until A has claimed and is resetting. B's claim took
// longer than the settle delay, so B refuses instead of resetting too.
func TestClaimSlowWriteFailsClosed(t *testing.T) {
	f := newGuardFake("d-a")
	h := guardHandler(0, guardT0)
	ctx := guardCtx(t, 20*time.Millisecond)
	planA, planB := guardPlan("evt-1", "d-a"), guardPlan("evt-1", "d-a")

	bWriting, aDone := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.beforeTag = func(ids []string, tags map[string]string) {
		if tags[guardTagState] == guardStatePending && strings.Contains(tags[guardTagClaim], ":nonce-b:") {
			once.Do(func() { close(bWriting); <-aDone })
		}
	}
	ctxB := withGuardSettings(t.Context(), guardSettings{Settle: 20 * time.Millisecond, Nonce: func() string { return "nonce-b" }})
	var bReset []DiskPair
	var bErr error
	var wg sync.WaitGroup
	wg.Go(func() { bReset, _, bErr = h.claim(ctxB, f, Invocation{RequestID: "fc-b"}, planB) })
	<-bWriting // B has read (no claim yet) and is about to write
	aReset, _, aErr := h.claim(ctx, f, Invocation{RequestID: "fc-a"}, planA)
	close(aDone)
	wg.Wait()
	if aErr != nil || len(aReset) != 1 {
		t.Fatalf("A: %v, %v; want d-a to reset", aReset, aErr)
	}
	if got := guardErrCode(bErr); got != ErrCooldownActive || len(bReset) != 0 {
		t.Fatalf("B: %v, %v; want CooldownActive and nothing to reset", bReset, bErr)
	}
	if !strings.Contains(bErr.Error(), "settle") {
		t.Errorf("B's message %q does not explain the slow claim", bErr)
	}
	// A finishes; the disk records A's reset.
	h.release(ctx, f, Invocation{RequestID: "fc-a"}, planA, map[string]bool{"d-a": true})
	if got := f.tagsOf("d-a")[guardTagState]; got != guardStateDone {
		t.Errorf("state after A's release = %q, want done", got)
	}
}

func TestClaimErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(f *guardFakeECS)
		ctx      func(t *testing.T) context.Context
		wantCode string
		// wantState is d-a's state afterwards ("" = untouched).
		wantState string
	}{
		{name: "ListTagResources refused", setup: func(f *guardFakeECS) {
			f.listErr = &APIError{Code: "Throttling", Message: "slow down", HTTPStatus: 400}
		}, wantCode: "Throttling"},
		{name: "TagResources unreachable", setup: func(f *guardFakeECS) {
			f.tagErr = &TransportError{Op: "TagResources", Sent: true, Message: "reset by peer"}
		}, wantCode: ErrECSUnreachable},
		{name: "deadline during settle withdraws the claim", ctx: func(t *testing.T) context.Context {
			return withGuardSettings(t.Context(), guardSettings{Settle: time.Minute, Sleep: func(context.Context, time.Duration) error { return context.DeadlineExceeded }})
		}, wantCode: ErrDeadlineExceeded, wantState: guardStateFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a")
			if tt.setup != nil {
				tt.setup(f)
			}
			ctx := guardNoSleepCtx(t)
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			toReset, _, err := guardHandler(0, guardT0).claim(ctx, f, Invocation{RequestID: "fc-1"}, guardPlan("evt-1", "d-a"))
			if got := guardErrCode(err); got != tt.wantCode || toReset != nil {
				t.Fatalf("claim = %v, %q (%v); want nothing, %q", toReset, got, err, tt.wantCode)
			}
			f.listErr, f.tagErr = nil, nil
			if got := f.tagsOf("d-a")[guardTagState]; got != tt.wantState {
				t.Errorf("state = %q, want %q", got, tt.wantState)
			}
		})
	}
}

func TestClaimManyDisksChunksCalls(t *testing.T) {
	var disks []string
	for i := range MaxDisks {
		disks = append(disks, fmt.Sprintf("d-%03d", i))
	}
	f := newGuardFake(disks...)
	h := guardHandler(0, guardT0)
	plan := guardPlan("evt-1", disks...)
	toReset, _, err := h.claim(guardNoSleepCtx(t), f, Invocation{}, plan)
	if err != nil || len(toReset) != MaxDisks {
		t.Fatalf("claim = %d pairs, %v; want %d", len(toReset), err, MaxDisks)
	}
	if got, want := f.count("TagResources"), 2; got != want {
		t.Errorf("TagResources calls = %d, want %d", got, want)
	}
	if got, want := f.count("ListTagResources"), 4; got != want {
		t.Errorf("ListTagResources calls = %d, want %d", got, want)
	}
}

func TestRelease(t *testing.T) {
	t.Run("only the plan's own claims", func(t *testing.T) {
		f := newGuardFake("d-a", "d-b", "d-c")
		h := guardHandler(0, guardT0)
		ctx := guardNoSleepCtx(t)
		plan := guardPlan("evt-1", "d-a", "d-b", "d-c")
		// d-c is a concurrent duplicate's claim: not ours to touch.
		f.setTags("d-c", map[string]string{guardTagKey: guardHash("evt-1"), guardTagState: guardStatePending,
			guardTagClaim: guardHash("evt-1") + ":other:" + strconv.FormatInt(guardT0.Unix(), 10)})
		toReset, dups, err := h.claim(ctx, f, Invocation{}, plan)
		if err != nil || len(toReset) != 2 || len(dups) != 1 {
			t.Fatalf("claim = %v, %v, %v", toReset, dups, err)
		}
		before := f.tagsOf("d-c")
		h.release(ctx, f, Invocation{}, plan, map[string]bool{"d-a": true, "d-b": false, "d-c": false})
		if got := f.tagsOf("d-c"); !maps.Equal(got, before) {
			t.Errorf("release touched another claim: %v, want %v", got, before)
		}
		if got := f.tagsOf("d-b")[guardTagState]; got != guardStateFailed {
			t.Errorf("d-b state = %q, want failed", got)
		}
		if _, ok := guardClaims.Load(plan); ok {
			t.Errorf("release left the plan's claim record behind")
		}
	})
	t.Run("errors are logged, not returned", func(t *testing.T) {
		f := newGuardFake("d-a")
		h := guardHandler(0, guardT0)
		ctx := guardNoSleepCtx(t)
		plan := guardPlan("evt-1", "d-a")
		if _, _, err := h.claim(ctx, f, Invocation{}, plan); err != nil {
			t.Fatal(err)
		}
		f.tagErr = &TransportError{Op: "TagResources", Message: "refused"}
		h.release(ctx, f, Invocation{}, plan, map[string]bool{"d-a": true}) // must not panic
		if got := f.tagsOf("d-a")[guardTagState]; got != guardStatePending {
			t.Errorf("state = %q, want pending (the write failed)", got)
		}
	})
}

func TestResolveUnknown(t *testing.T) {
	tests := []struct {
		name     string
		statuses map[string]string
		descErr  error
		want     map[string]string // disk → OperationStatus/ErrorCode
	}{
		{name: "ReIniting confirmed, others unknown",
			statuses: map[string]string{"d-a": DiskStatusReIniting, "d-b": DiskStatusInUse},
			want:     map[string]string{"d-a": "Success/", "d-b": "Failed/OutcomeUnknown", "d-c": "Failed/OutcomeUnknown"}},
		{name: "DescribeDisks fails: all unknown",
			statuses: map[string]string{"d-a": DiskStatusReIniting},
			descErr:  &TransportError{Op: "DescribeDisks", Message: "timeout"},
			want:     map[string]string{"d-a": "Failed/OutcomeUnknown", "d-b": "Failed/OutcomeUnknown", "d-c": "Failed/OutcomeUnknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake()
			f.statuses = tt.statuses
			f.descErr = tt.descErr
			batch := guardPairs("d-a", "d-b", "d-c")
			got := (&Handler{}).resolveUnknown(t.Context(), f, "cn-hangzhou", batch)
			if len(got) != len(batch) {
				t.Fatalf("got %d progresses, want %d", len(got), len(batch))
			}
			for i, p := range got {
				if p.Item("DiskId") != batch[i].DiskId || p.Item("SnapshotId") != batch[i].SnapshotId {
					t.Errorf("progress %d names %s/%s, want %s/%s", i, p.Item("DiskId"), p.Item("SnapshotId"), batch[i].DiskId, batch[i].SnapshotId)
				}
				if got, want := p.OperationStatus+"/"+p.ErrorCode, tt.want[batch[i].DiskId]; got != want {
					t.Errorf("%s: %s, want %s", batch[i].DiskId, got, want)
				}
				if p.ErrorCode == codeOutcomeUnknown && (!strings.Contains(p.ErrorMsg, batch[i].DiskId) || !strings.Contains(p.ErrorMsg, "check")) {
					t.Errorf("%s: message %q should name the disk and say to check it", batch[i].DiskId, p.ErrorMsg)
				}
			}
			if got := f.count("DescribeDisks"); got != 1 {
				t.Errorf("DescribeDisks calls = %d, want 1 (and nothing resent)", got)
			}
		})
	}
}

// TestClaimOvertakenDuringSettle: another claim lands on a disk between our
// write and our re-read.
func TestClaimOvertakenDuringSettle(t *testing.T) {
	tests := []struct {
		name      string
		otherKey  string
		wantCode  string
		wantReset []string
		wantDup   []string
		// wantState is the state of d-a (ours in every case) afterwards.
		wantState string
	}{
		{name: "by a duplicate of our key", otherKey: "evt-1", wantReset: []string{"d-a"}, wantDup: []string{"d-b"}, wantState: guardStatePending},
		{name: "by another key", otherKey: "evt-2", wantCode: ErrCooldownActive, wantState: guardStateFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a", "d-b")
			other := map[string]string{guardTagKey: guardHash(tt.otherKey), guardTagState: guardStatePending,
				guardTagClaim: guardHash(tt.otherKey) + ":theirs:" + strconv.FormatInt(guardT0.Unix(), 10)}
			ctx := withGuardSettings(t.Context(), guardSettings{Settle: time.Minute, Sleep: func(context.Context, time.Duration) error {
				f.setTags("d-b", other) // the other claim lands while we wait
				return nil
			}})
			h := guardHandler(0, guardT0)
			h.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
			toReset, dups, err := h.claim(ctx, f, Invocation{RequestID: "fc-1"}, guardPlan("evt-1", "d-a", "d-b"))
			if got := guardErrCode(err); got != tt.wantCode {
				t.Fatalf("claim code = %q (%v), want %q", got, err, tt.wantCode)
			}
			if tt.wantCode != "" && !strings.Contains(err.Error(), "d-b") {
				t.Errorf("message %q does not name d-b", err)
			}
			if got := guardIDs(toReset); !slices.Equal(got, tt.wantReset) {
				t.Errorf("toReset = %v, want %v", got, tt.wantReset)
			}
			if got := guardIDs(dups); !slices.Equal(got, tt.wantDup) {
				t.Errorf("duplicates = %v, want %v", got, tt.wantDup)
			}
			if got := f.tagsOf("d-a")[guardTagState]; got != tt.wantState {
				t.Errorf("d-a state = %q, want %q", got, tt.wantState)
			}
			if got := f.tagsOf("d-b"); !maps.Equal(got, other) {
				t.Errorf("d-b tags = %v, want the other claim untouched %v", got, other)
			}
		})
	}
}
