package function

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	// tagFailures makes the next tagFailures TagResources calls fail with
	// errGuardFakeTransient (then they succeed again).
	tagFailures int
	// beforeTag, when set, runs (without the lock) before each TagResources;
	// a non-nil error is returned instead of serving the call.
	beforeTag func(ids []string, tags map[string]string) error
	// beforeList, when set, runs (without the lock) before each
	// ListTagResources, with the call's number (from 1).
	beforeList func(n int)
}

var _ ECS = (*guardFakeECS)(nil)

var errGuardFakeTransient = &APIError{Code: "Throttling", Message: "slow down (fake)", HTTPStatus: 400}

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

func (f *guardFakeECS) setErrs(list, tag error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listErr, f.tagErr = list, tag
}

func (f *guardFakeECS) TagResources(ctx context.Context, regionID, resourceType string, resourceIDs []string, tags map[string]string) error {
	if f.beforeTag != nil {
		if err := f.beforeTag(resourceIDs, tags); err != nil {
			f.mu.Lock()
			f.calls["TagResources"]++
			f.mu.Unlock()
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["TagResources"]++
	if f.tagErr != nil {
		return f.tagErr
	}
	if f.tagFailures > 0 {
		f.tagFailures--
		return errGuardFakeTransient
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
		merged := maps.Clone(f.tags[id])
		maps.Copy(merged, tags)
		if len(merged) > tagsPerResource {
			return &APIError{Code: "InvalidTagCount.Exceed", Message: id, HTTPStatus: 400}
		}
	}
	for _, id := range resourceIDs {
		maps.Copy(f.tags[id], tags)
	}
	return nil
}

func (f *guardFakeECS) ListTagResources(ctx context.Context, regionID, resourceType string, resourceIDs []string) ([]ResourceTag, error) {
	if f.beforeList != nil {
		f.mu.Lock()
		n := f.calls["ListTagResources"] + 1
		f.mu.Unlock()
		f.beforeList(n)
	}
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
			out = append(out, ResourceTag{ResourceID: id, ResourceType: resourceType, TagKey: k, TagValue: f.tags[id][k]})
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
			out = append(out, Disk{DiskID: id, RegionID: regionID, Status: st, Tags: maps.Clone(f.tags[id])})
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
func (f *guardFakeECS) DescribeInstancesByTag(context.Context, string, string, string) ([]Instance, error) {
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

// guardHookClock is a fakeClock whose Sleep first runs onSleep (when set);
// a non-nil error from it is returned instead of sleeping.
type guardHookClock struct {
	*fakeClock
	onSleep func(ctx context.Context, d time.Duration) error
}

func (c *guardHookClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.onSleep != nil {
		if err := c.onSleep(ctx, d); err != nil {
			return err
		}
	}
	return c.fakeClock.Sleep(ctx, d)
}

var guardT0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const (
	guardSettle = time.Second
	guardStale  = 15 * time.Minute
)

func guardNewClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func guardSetClock(c *fakeClock, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// guardCtx carries the test's guard settings: the fake clock makes the
// settle delay instant; nonce "" keeps the random one.
func guardCtx(t *testing.T, nonce string) context.Context {
	t.Helper()
	s := guardSettings{Settle: guardSettle, StaleAfter: guardStale}
	if nonce != "" {
		s.Nonce = func() string { return nonce }
	}
	return withGuardSettings(t.Context(), s)
}

func guardHandler(cooldown time.Duration, clock Clock) *Handler {
	return &Handler{Config: Config{Cooldown: cooldown}, Clock: clock}
}

func guardPairs(disks ...string) []DiskPair {
	out := make([]DiskPair, len(disks))
	for i, d := range disks {
		out[i] = DiskPair{DiskID: d, SnapshotID: "s-" + strings.TrimPrefix(d, "d-")}
	}
	return out
}

// guardPlan is a plan of disks with the caller's key (origin "").
func guardPlan(key string, disks ...string) *Plan {
	return &Plan{RegionID: "cn-hangzhou", Pairs: guardPairs(disks...), IdempotencyKey: key}
}

// guardTriggerPlan is a plan of disks with a trigger's key.
func guardTriggerPlan(origin, key string, disks ...string) *Plan {
	p := guardPlan(key, disks...)
	p.keyOrigin = origin
	return p
}

func guardIDs(pairs []DiskPair) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.DiskID
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

// guardSets is what a claim hands out, by disk id.
type guardSets struct{ reset, dups, busy []string }

func guardSetsOf(c *claim) guardSets {
	if c == nil {
		return guardSets{}
	}
	return guardSets{guardIDs(c.toReset), guardIDs(c.duplicates), guardIDs(c.busy)}
}

func (s guardSets) check(t *testing.T, what string, reset, dups, busy []string) {
	t.Helper()
	if !slices.Equal(s.reset, reset) {
		t.Errorf("%s: toReset = %v, want %v", what, s.reset, reset)
	}
	if !slices.Equal(s.dups, dups) {
		t.Errorf("%s: duplicates = %v, want %v", what, s.dups, dups)
	}
	if !slices.Equal(s.busy, busy) {
		t.Errorf("%s: busy = %v, want %v", what, s.busy, busy)
	}
}

func guardUnix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// guardClaimValue is a 4-part claim value (until zero: the old 3-part form).
func guardClaimValue(keyHash, nonce string, at, until time.Time) string {
	v := keyHash + ":" + nonce + ":" + guardUnix(at)
	if !until.IsZero() {
		v += ":" + guardUnix(until)
	}
	return v
}

// guardPending is the tags of a pending claim.
func guardPending(keyHash string, at, until time.Time) map[string]string {
	return map[string]string{tagKey: keyHash, tagState: statePending, tagClaim: guardClaimValue(keyHash, "theirs", at, until)}
}

// caller-key hashes as guardKey forms them.
var (
	guardOurs  = guardHash("caller/evt-1")
	guardOther = guardHash("caller/evt-2")
)

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
			wantCode: ErrDiskNotAllowed, wantNames: []string{"d-b", "d-c", "rollback=allowed", "2 of 3"}, notNames: []string{"d-a"}, wantCalls: 1},
		{name: "empty value must match exactly", key: "rollback", val: "", disks: []string{"d-a", "d-b"},
			tags:     map[string]map[string]string{"d-a": {"rollback": ""}},
			wantCode: ErrDiskNotAllowed, wantNames: []string{"d-b"}, notNames: []string{"d-a,"}, wantCalls: 1},
		{name: "ListTagResources error keeps its code", key: "rollback", val: "allowed", disks: []string{"d-a"},
			listErr: &APIError{Code: "Forbidden.RAM", Message: "no", HTTPStatus: 403}, wantCode: "Forbidden.RAM", wantCalls: 1},
		{name: "guard tags do not count as the allow tag", key: tagKey, val: guardOurs, disks: []string{"d-a"},
			tags: map[string]map[string]string{"d-a": {tagKey: guardOurs}}, wantCalls: 1},
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
			if got := f.count("TagResources"); got != 0 {
				t.Errorf("checkAllowed wrote tags: %d TagResources calls, want 0", got)
			}
		})
	}
}

func TestParseDiskGuard(t *testing.T) {
	at, until := guardT0, guardT0.Add(10*time.Minute)
	tests := []struct {
		name                string
		tags                map[string]string
		wantClaimKey        string
		wantAt, wantUntil   time.Time
		wantResetAt         time.Time
		wantState, wantKeyH string
	}{
		{name: "no tags"},
		{name: "4-part claim", tags: map[string]string{tagKey: "k1", tagState: statePending, tagClaim: guardClaimValue("k1", "n", at, until)},
			wantClaimKey: "k1", wantAt: at, wantUntil: until, wantState: statePending, wantKeyH: "k1"},
		{name: "old 3-part claim has no until", tags: map[string]string{tagState: statePending, tagClaim: guardClaimValue("k1", "n", at, time.Time{})},
			wantClaimKey: "k1", wantAt: at, wantState: statePending},
		{name: "malformed claim", tags: map[string]string{tagState: statePending, tagClaim: "edited by hand"}, wantState: statePending},
		{name: "bad claim time", tags: map[string]string{tagClaim: "k1:n:soon:later"}},
		{name: "bad until keeps the claim time", tags: map[string]string{tagClaim: "k1:n:" + guardUnix(at) + ":never"},
			wantClaimKey: "k1", wantAt: at},
		{name: "reset time", tags: map[string]string{tagKey: "k1", tagState: stateDone, tagAt: guardUnix(at)},
			wantResetAt: at, wantState: stateDone, wantKeyH: "k1"},
		{name: "bad reset time", tags: map[string]string{tagAt: "yesterday"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := parseDiskGuard(tt.tags)
			if g.claimKey != tt.wantClaimKey || !g.claimAt.Equal(tt.wantAt) || !g.until.Equal(tt.wantUntil) || !g.at.Equal(tt.wantResetAt) ||
				g.state != tt.wantState || g.key != tt.wantKeyH {
				t.Errorf("parseDiskGuard = %+v, want claimKey %q claimAt %v until %v at %v state %q key %q",
					g, tt.wantClaimKey, tt.wantAt, tt.wantUntil, tt.wantResetAt, tt.wantState, tt.wantKeyH)
			}
		})
	}
}

func TestGuardPendingState(t *testing.T) {
	claimed, until := guardT0, guardT0.Add(5*time.Minute)
	tests := []struct {
		name  string
		tags  map[string]string
		after time.Duration
		want  claimState
	}{
		{name: "not pending", tags: map[string]string{tagState: stateDone, tagClaim: guardClaimValue("k", "n", claimed, until)}, want: claimNone},
		{name: "malformed claim", tags: map[string]string{tagState: statePending, tagClaim: "x"}, want: claimNone},
		{name: "before until", tags: guardPending("k", claimed, until), after: time.Minute, want: claimLive},
		{name: "at until", tags: guardPending("k", claimed, until), after: 5 * time.Minute, want: claimLost},
		{name: "after until", tags: guardPending("k", claimed, until), after: 14 * time.Minute, want: claimLost},
		{name: "at stale-after", tags: guardPending("k", claimed, until), after: guardStale, want: claimExpired},
		{name: "old form within stale-after", tags: guardPending("k", claimed, time.Time{}), after: 14 * time.Minute, want: claimLive},
		{name: "old form after stale-after", tags: guardPending("k", claimed, time.Time{}), after: guardStale, want: claimExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseDiskGuard(tt.tags).pendingState(claimed.Add(tt.after), guardStale); got != tt.want {
				t.Errorf("pendingState = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestGuardKeyNamespaces(t *testing.T) {
	tests := []struct {
		name string
		inv  Invocation
		plan *Plan
		want string
	}{
		{name: "caller key", inv: Invocation{RequestID: "r1"}, plan: guardPlan("k"), want: "caller/k"},
		{name: "trigger key", inv: Invocation{RequestID: "r1"}, plan: guardTriggerPlan("eb", "eb:x"), want: "eb/eb:x"},
		{name: "timer key", plan: guardTriggerPlan("timer", "timer:t@1"), want: "timer/timer:t@1"},
		{name: "FC request id", inv: Invocation{RequestID: "r1"}, plan: guardPlan(""), want: "fc/r1"},
		{name: "origin without key falls back to the request id", inv: Invocation{RequestID: "r1"}, plan: guardTriggerPlan("eb", ""), want: "fc/r1"},
		{name: "nothing", plan: guardPlan(""), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := guardKey(tt.inv, tt.plan); got != tt.want {
				t.Errorf("guardKey = %q, want %q", got, tt.want)
			}
		})
	}
	// The same text in different namespaces never collides.
	keys := map[string]bool{}
	for _, k := range []string{
		guardKey(Invocation{}, guardPlan("eb:x")),
		guardKey(Invocation{}, guardTriggerPlan("eb", "eb:x")),
		guardKey(Invocation{RequestID: "eb:x"}, guardPlan("")),
		guardKey(Invocation{}, guardTriggerPlan("cms", "eb:x")),
	} {
		if keys[k] {
			t.Errorf("guardKey %q produced twice for different origins", k)
		}
		keys[k] = true
	}
}

// TestClaimNamespaceNeverMatches: a disk reset under one namespace's key is
// no duplicate for the same text in another namespace.
func TestClaimNamespaceNeverMatches(t *testing.T) {
	type who struct {
		inv  Invocation
		plan func(disks ...string) *Plan
	}
	caller := func(key string) who {
		return who{plan: func(d ...string) *Plan { return guardPlan(key, d...) }}
	}
	trigger := func(origin, key string) who {
		return who{plan: func(d ...string) *Plan { return guardTriggerPlan(origin, key, d...) }}
	}
	fc := func(id string) who {
		return who{inv: Invocation{RequestID: id}, plan: func(d ...string) *Plan { return guardPlan("", d...) }}
	}
	tests := []struct {
		name        string
		first, then who
		wantDup     bool
	}{
		{name: "caller key eb:x after trigger eb:x", first: trigger("eb", "eb:x"), then: caller("eb:x")},
		{name: "trigger eb:x after caller key eb:x", first: caller("eb:x"), then: trigger("eb", "eb:x")},
		{name: "trigger cms after trigger eb, same text", first: trigger("eb", "eb:x"), then: trigger("cms", "eb:x")},
		{name: "FC request id after caller key of the same text", first: caller("r1"), then: fc("r1")},
		{name: "caller key fc/r1 after FC request r1", first: fc("r1"), then: caller("fc/r1")},
		{name: "same trigger key is a duplicate", first: trigger("eb", "eb:x"), then: trigger("eb", "eb:x"), wantDup: true},
		{name: "same caller key is a duplicate", first: caller("eb:x"), then: caller("eb:x"), wantDup: true},
	}
	for _, tt := range tests {
		for _, cooldown := range []time.Duration{0, time.Hour} {
			t.Run(fmt.Sprintf("%s/cooldown %s", tt.name, cooldown), func(t *testing.T) {
				clock := guardNewClock(guardT0)
				h := guardHandler(cooldown, clock)
				f := newGuardFake("d-a")
				ctx := guardCtx(t, "")
				c, err := h.claim(ctx, f, tt.first.inv, tt.first.plan("d-a"), time.Time{})
				if err != nil || len(c.toReset) != 1 {
					t.Fatalf("first claim = %+v, %v; want d-a to reset", guardSetsOf(c), err)
				}
				if err := c.record(ctx, map[string]string{"d-a": stateDone}, clock.Now()); err != nil {
					t.Fatalf("first record: %v", err)
				}
				guardSetClock(clock, guardT0.Add(time.Minute))
				c, err = h.claim(ctx, f, tt.then.inv, tt.then.plan("d-a"), time.Time{})
				switch {
				case tt.wantDup:
					if err != nil {
						t.Fatalf("second claim: %v, want a duplicate", err)
					}
					guardSetsOf(c).check(t, "second claim", nil, []string{"d-a"}, nil)
				case cooldown > 0:
					if got := guardErrCode(err); got != ErrCooldownActive {
						t.Fatalf("second claim code = %q (%v), want %q: another key within the cooldown", got, err, ErrCooldownActive)
					}
				default:
					if err != nil {
						t.Fatalf("second claim: %v, want d-a to reset", err)
					}
					guardSetsOf(c).check(t, "second claim", []string{"d-a"}, nil, nil)
				}
			})
		}
	}
}

func TestClaimDecisions(t *testing.T) {
	const cooldown = 30 * time.Minute
	now := guardT0
	ours, other := guardOurs, guardOther
	until := now.Add(10 * time.Minute) // the claiming invocation's deadline
	recent, lostAt := now.Add(-5*time.Second), now.Add(-5*time.Minute)
	tests := []struct {
		name      string
		cooldown  time.Duration
		tags      map[string]map[string]string
		wantReset []string
		wantDup   []string
		wantBusy  []string
		wantCode  string
		wantMsg   []string
	}{
		{name: "fresh disks are claimed", cooldown: cooldown, wantReset: []string{"d-a", "d-b"}},
		{name: "done for our key is a duplicate", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": {tagKey: ours, tagState: stateDone, tagAt: guardUnix(now.Add(-time.Minute))}},
			wantReset: []string{"d-b"}, wantDup: []string{"d-a"}},
		{name: "failed for our key is retried", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": {tagKey: ours, tagState: stateFailed}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "unknown for our key is a candidate again despite the cooldown", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": {tagKey: ours, tagState: stateUnknown, tagAt: guardUnix(now.Add(-time.Minute))}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "live pending claim of our key is busy", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": guardPending(ours, recent, now.Add(time.Minute))},
			wantReset: []string{"d-b"}, wantBusy: []string{"d-a"}},
		{name: "lost pending claim of our key is a candidate again", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": guardPending(ours, lostAt, now.Add(-time.Minute))},
			wantReset: []string{"d-a", "d-b"}},
		{name: "expired pending claim of our key is a candidate again", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": guardPending(ours, now.Add(-time.Hour), now.Add(-50*time.Minute))},
			wantReset: []string{"d-a", "d-b"}},
		{name: "live pending claim of another key refuses, even without cooldown", cooldown: 0,
			tags:     map[string]map[string]string{"d-a": guardPending(other, recent, now.Add(time.Minute))},
			wantCode: ErrRollbackInProgress, wantMsg: []string{"d-a", "5s ago", now.Add(time.Minute).Format(time.RFC3339), "nothing was reset"}},
		{name: "old 3-part pending claim of another key is live until stale", cooldown: 0,
			tags:     map[string]map[string]string{"d-a": guardPending(other, now.Add(-14*time.Minute), time.Time{})},
			wantCode: ErrRollbackInProgress, wantMsg: []string{"d-a", "14m0s ago"}},
		{name: "lost pending claim of another key refuses", cooldown: 0,
			tags:     map[string]map[string]string{"d-a": guardPending(other, lostAt, now.Add(-time.Minute))},
			wantCode: ErrGuardRecordLost, wantMsg: []string{"d-a", lostAt.Format(time.RFC3339), now.Add(-time.Minute).Format(time.RFC3339),
				lostAt.Add(guardStale).Format(time.RFC3339), "retry with that request's key"}},
		{name: "expired pending claim of another key is taken over", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": guardPending(other, now.Add(-guardStale), now.Add(-guardStale+time.Minute))},
			wantReset: []string{"d-a", "d-b"}},
		{name: "old 3-part stale claim is taken over", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": guardPending(other, now.Add(-time.Hour), time.Time{})},
			wantReset: []string{"d-a", "d-b"}},
		{name: "malformed claim counts as none", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-a": {tagState: statePending, tagClaim: "edited by hand"}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "cooldown refuses the whole request", cooldown: cooldown,
			tags:     map[string]map[string]string{"d-b": {tagKey: other, tagState: stateDone, tagAt: guardUnix(now.Add(-10 * time.Minute))}},
			wantCode: ErrCooldownActive, wantMsg: []string{"d-b", "20m0s left", "30m0s"}},
		{name: "unknown outcome of another key starts the cooldown too", cooldown: cooldown,
			tags:     map[string]map[string]string{"d-b": {tagKey: other, tagState: stateUnknown, tagAt: guardUnix(now.Add(-10 * time.Minute))}},
			wantCode: ErrCooldownActive, wantMsg: []string{"d-b", "20m0s left"}},
		{name: "cooldown passed", cooldown: cooldown,
			tags:      map[string]map[string]string{"d-b": {tagKey: other, tagState: stateDone, tagAt: guardUnix(now.Add(-31 * time.Minute))}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "no cooldown configured", cooldown: 0,
			tags:      map[string]map[string]string{"d-b": {tagKey: other, tagState: stateDone, tagAt: guardUnix(now.Add(-time.Second))}},
			wantReset: []string{"d-a", "d-b"}},
		{name: "live claim outranks the cooldown and both are named", cooldown: cooldown,
			tags: map[string]map[string]string{
				"d-a": guardPending(other, recent, now.Add(time.Minute)),
				"d-b": {tagKey: guardHash("caller/evt-3"), tagState: stateDone, tagAt: guardUnix(now.Add(-10 * time.Minute))},
			},
			wantCode: ErrRollbackInProgress, wantMsg: []string{"d-a", "d-b", "20m0s left", "right now"}},
		{name: "lost record outranks the cooldown", cooldown: cooldown,
			tags: map[string]map[string]string{
				"d-a": {tagKey: guardHash("caller/evt-3"), tagState: stateDone, tagAt: guardUnix(now.Add(-10 * time.Minute))},
				"d-b": guardPending(other, lostAt, now.Add(-time.Minute)),
			},
			wantCode: ErrGuardRecordLost, wantMsg: []string{"d-a", "d-b"}},
		{name: "all done for our key: all duplicates", cooldown: cooldown,
			tags: map[string]map[string]string{
				"d-a": {tagKey: ours, tagState: stateDone, tagAt: guardUnix(now)},
				"d-b": {tagKey: ours, tagState: stateDone, tagAt: guardUnix(now)},
			},
			wantDup: []string{"d-a", "d-b"}},
		{name: "duplicate and busy, nothing to claim", cooldown: cooldown,
			tags: map[string]map[string]string{
				"d-a": {tagKey: ours, tagState: stateDone, tagAt: guardUnix(now)},
				"d-b": guardPending(ours, recent, now.Add(time.Minute)),
			},
			wantDup: []string{"d-a"}, wantBusy: []string{"d-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a", "d-b")
			for d, kv := range tt.tags {
				f.setTags(d, kv)
			}
			before := map[string]map[string]string{"d-a": f.tagsOf("d-a"), "d-b": f.tagsOf("d-b")}
			h := guardHandler(tt.cooldown, guardNewClock(now))
			c, err := h.claim(guardCtx(t, "n0"), f, Invocation{RequestID: "fc-1"}, guardPlan("evt-1", "d-a", "d-b"), until)
			if got := guardErrCode(err); got != tt.wantCode {
				t.Fatalf("claim code = %q (%v), want %q", got, err, tt.wantCode)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q lacks %q", err, m)
				}
			}
			if (c == nil) != (err != nil) {
				t.Errorf("claim = %v, %v; want a claim exactly when there is no error", c, err)
			}
			guardSetsOf(c).check(t, "claim", tt.wantReset, tt.wantDup, tt.wantBusy)
			if tt.wantCode != "" || len(tt.wantReset) == 0 {
				if got := f.count("TagResources"); got != 0 {
					t.Errorf("TagResources calls = %d, want 0 (nothing to claim)", got)
				}
			}
			wantValue := guardClaimValue(ours, "n0", now, until)
			for _, d := range []string{"d-a", "d-b"} {
				got := f.tagsOf(d)
				if slices.Contains(tt.wantReset, d) {
					want := maps.Clone(before[d])
					maps.Copy(want, map[string]string{tagKey: ours, tagState: statePending, tagClaim: wantValue})
					if !maps.Equal(got, want) {
						t.Errorf("%s tags after claim = %v, want %v", d, got, want)
					}
					if !c.won[d] {
						t.Errorf("%s is to reset but not won (won %v)", d, c.won)
					}
					continue
				}
				if !maps.Equal(got, before[d]) {
					t.Errorf("%s tags changed although not claimed: %v, want %v", d, got, before[d])
				}
			}
			if c != nil && len(tt.wantReset) > 0 && c.value != wantValue {
				t.Errorf("claim value = %q, want %q", c.value, wantValue)
			}
		})
	}
}

// TestClaimUntil: a pending claim of another key blocks until its
// invocation's deadline (RollbackInProgress), then reads as a lost record
// (GuardRecordLost) until stale-after, then is taken over; the same key is
// busy, then a candidate again.
func TestClaimUntil(t *testing.T) {
	claimed := guardT0
	until := claimed.Add(5 * time.Minute)
	tests := []struct {
		name      string
		key       string // the request's key
		after     time.Duration
		wantCode  string
		wantReset []string
		wantBusy  []string
	}{
		{name: "other key before until", key: "evt-1", after: time.Minute, wantCode: ErrRollbackInProgress},
		{name: "other key just before until", key: "evt-1", after: 5*time.Minute - time.Second, wantCode: ErrRollbackInProgress},
		{name: "other key at until", key: "evt-1", after: 5 * time.Minute, wantCode: ErrGuardRecordLost},
		{name: "other key after until", key: "evt-1", after: guardStale - time.Second, wantCode: ErrGuardRecordLost},
		{name: "other key after stale-after", key: "evt-1", after: guardStale, wantReset: []string{"d-a"}},
		{name: "same key before until", key: "evt-2", after: time.Minute, wantBusy: []string{"d-a"}},
		{name: "same key after until", key: "evt-2", after: 5 * time.Minute, wantReset: []string{"d-a"}},
		{name: "same key after stale-after", key: "evt-2", after: guardStale, wantReset: []string{"d-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a")
			f.setTags("d-a", guardPending(guardOther, claimed, until)) // evt-2's claim
			h := guardHandler(time.Hour, guardNewClock(claimed.Add(tt.after)))
			c, err := h.claim(guardCtx(t, ""), f, Invocation{}, guardPlan(tt.key, "d-a"), time.Time{})
			if got := guardErrCode(err); got != tt.wantCode {
				t.Fatalf("claim code = %q (%v), want %q", got, err, tt.wantCode)
			}
			if err != nil && !strings.Contains(err.Error(), "d-a") {
				t.Errorf("message %q does not name d-a", err)
			}
			guardSetsOf(c).check(t, "claim", tt.wantReset, nil, tt.wantBusy)
		})
	}
}

// TestClaimWritesUntil: the claim records the invocation's deadline, or
// now + stale-after when there is none or it already passed.
func TestClaimWritesUntil(t *testing.T) {
	now := guardT0
	tests := []struct {
		name  string
		until time.Time
		want  time.Time
	}{
		{name: "deadline", until: now.Add(10 * time.Minute), want: now.Add(10 * time.Minute)},
		{name: "no deadline", want: now.Add(guardStale)},
		{name: "deadline passed", until: now.Add(-time.Second), want: now.Add(guardStale)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a")
			h := guardHandler(0, guardNewClock(now))
			c, err := h.claim(guardCtx(t, "n0"), f, Invocation{}, guardPlan("evt-1", "d-a"), tt.until)
			if err != nil {
				t.Fatal(err)
			}
			g := parseDiskGuard(f.tagsOf("d-a"))
			if !g.until.Equal(tt.want) || !g.claimAt.Equal(now) || g.claim != c.value {
				t.Errorf("claim on d-a = %q (until %v, at %v), want until %v at %v, value %q", g.claim, g.until, g.claimAt, tt.want, now, c.value)
			}
		})
	}
}

// TestClaimRecordLifecycle runs deliveries one after another through claim
// and record: the duplicate delivery, a retry after a failure, a retry after
// an unknown outcome, the FC retry keyed by the request id, and the
// cooldown for another key.
func TestClaimRecordLifecycle(t *testing.T) {
	t0 := guardT0
	clock := guardNewClock(t0)
	var logs bytes.Buffer
	h := guardHandler(30*time.Minute, clock)
	h.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newGuardFake("d-a", "d-b")
	ctx := guardCtx(t, "")

	step := func(name string, at time.Duration, inv Invocation, key string, outcome map[string]string, wantReset, wantDup []string, wantCode string) {
		t.Helper()
		guardSetClock(clock, t0.Add(at))
		c, err := h.claim(ctx, f, inv, guardPlan(key, "d-a", "d-b"), t0.Add(at+10*time.Minute))
		if got := guardErrCode(err); got != wantCode {
			t.Fatalf("%s: claim code = %q (%v), want %q", name, got, err, wantCode)
		}
		guardSetsOf(c).check(t, name, wantReset, wantDup, nil)
		if c != nil {
			if err := c.record(ctx, outcome, clock.Now()); err != nil {
				t.Fatalf("%s: record: %v", name, err)
			}
		}
	}
	state := func(disk string) diskGuard { t.Helper(); return parseDiskGuard(f.tagsOf(disk)) }

	// The first delivery resets d-a; d-b's reset is refused by ECS.
	step("first", 0, Invocation{RequestID: "fc-1"}, "evt-1", map[string]string{"d-a": stateDone, "d-b": stateFailed}, []string{"d-a", "d-b"}, nil, "")
	afterFirst := t0.Add(guardSettle) // the settle sleep advanced the clock
	if got := state("d-a"); got.state != stateDone || !got.at.Equal(afterFirst) || got.key != guardOurs {
		t.Fatalf("d-a after record = %+v, want done for %s at %v", got, guardOurs, afterFirst)
	}
	if got := state("d-b"); got.state != stateFailed || !got.at.IsZero() {
		t.Fatalf("d-b after record = %+v, want failed, never reset", got)
	}
	// The same event delivered again: d-a is a duplicate, d-b is retried;
	// this time its outcome is unknown.
	step("duplicate delivery", time.Minute, Invocation{RequestID: "fc-2"}, "evt-1", map[string]string{"d-b": stateUnknown}, []string{"d-b"}, []string{"d-a"}, "")
	if got := state("d-b"); got.state != stateUnknown || got.at.IsZero() {
		t.Fatalf("d-b after record = %+v, want unknown with a reset time", got)
	}
	// And again: d-b of unknown outcome is re-resolved by resending.
	logs.Reset()
	step("retry after unknown", 2*time.Minute, Invocation{RequestID: "fc-3"}, "evt-1", map[string]string{"d-b": stateDone}, []string{"d-b"}, []string{"d-a"}, "")
	if !strings.Contains(logs.String(), "re-resolving") || !strings.Contains(logs.String(), "diskId=d-b") {
		t.Errorf("no warning about re-resolving d-b in logs:\n%s", logs.String())
	}
	// And again: everything is a duplicate, nothing is written.
	tagCalls := f.count("TagResources")
	step("pure duplicate", 3*time.Minute, Invocation{RequestID: "fc-4"}, "evt-1", nil, nil, []string{"d-a", "d-b"}, "")
	if got := f.count("TagResources"); got != tagCalls {
		t.Errorf("a pure duplicate wrote tags: TagResources %d → %d", tagCalls, got)
	}
	// Another event within the cooldown (from d-b's reset at 2m) is refused ...
	step("other key in cooldown", 10*time.Minute, Invocation{RequestID: "fc-5"}, "evt-2", nil, nil, nil, ErrCooldownActive)
	// ... and allowed once it passed.
	step("other key after cooldown", 45*time.Minute, Invocation{RequestID: "fc-6"}, "evt-2", map[string]string{"d-a": stateDone, "d-b": stateDone}, []string{"d-a", "d-b"}, nil, "")
	// Without a request key the FC request id is the key: an FC retry of a
	// call that succeeded is a duplicate ...
	step("keyless", 2*time.Hour, Invocation{RequestID: "fc-7"}, "", map[string]string{"d-a": stateDone, "d-b": stateDone}, []string{"d-a", "d-b"}, nil, "")
	if got, want := state("d-a").key, guardHash("fc/fc-7"); got != want {
		t.Errorf("keyless claim recorded key %q, want %q (fc/<request id>)", got, want)
	}
	step("FC retry", 2*time.Hour+time.Minute, Invocation{RequestID: "fc-7", RetryCount: 1}, "", nil, nil, []string{"d-a", "d-b"}, "")
	// ... and a new keyless call is a new request (in cooldown here).
	step("new keyless call", 2*time.Hour+2*time.Minute, Invocation{RequestID: "fc-8"}, "", nil, nil, nil, ErrCooldownActive)
}

// TestClaimSameKeyLostOrUnknown: a same-key delivery after a lost claim or
// an unknown outcome claims the disk again (its reset is resent), while
// another key meets GuardRecordLost or the cooldown.
func TestClaimSameKeyLostOrUnknown(t *testing.T) {
	now := guardT0
	tests := []struct {
		name         string
		tags         map[string]string
		wantOther    string // code for another key
		wantCooldown bool
	}{
		{name: "lost claim", tags: guardPending(guardOurs, now.Add(-5*time.Minute), now.Add(-time.Minute)), wantOther: ErrGuardRecordLost},
		{name: "unknown outcome", tags: map[string]string{tagKey: guardOurs, tagState: stateUnknown, tagAt: guardUnix(now.Add(-time.Minute)),
			tagClaim: guardClaimValue(guardOurs, "old", now.Add(-2*time.Minute), now.Add(time.Minute))}, wantOther: ErrCooldownActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a")
			f.setTags("d-a", tt.tags)
			h := guardHandler(time.Hour, guardNewClock(now))
			_, err := h.claim(guardCtx(t, "x"), f, Invocation{}, guardPlan("evt-2", "d-a"), time.Time{})
			if got := guardErrCode(err); got != tt.wantOther {
				t.Fatalf("other key: claim code = %q (%v), want %q", got, err, tt.wantOther)
			}
			c, err := h.claim(guardCtx(t, "again"), f, Invocation{}, guardPlan("evt-1", "d-a"), time.Time{})
			if err != nil {
				t.Fatalf("same key: claim: %v, want d-a to reset", err)
			}
			guardSetsOf(c).check(t, "same key", []string{"d-a"}, nil, nil)
			if got := parseDiskGuard(f.tagsOf("d-a")); got.state != statePending || got.claim != c.value {
				t.Errorf("d-a after the same key's claim = %+v, want pending claim %q", got, c.value)
			}
		})
	}
}

func TestClaimWithoutAnyKey(t *testing.T) {
	f := newGuardFake("d-a")
	clock := guardNewClock(guardT0)
	h := guardHandler(0, clock)
	ctx := guardCtx(t, "")
	var hashes []string
	for i, outcome := range []string{stateDone, stateFailed} {
		c, err := h.claim(ctx, f, Invocation{}, guardPlan("", "d-a"), time.Time{})
		if err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
		guardSetsOf(c).check(t, fmt.Sprintf("claim %d", i), []string{"d-a"}, nil, nil)
		if err := c.record(ctx, map[string]string{"d-a": outcome}, clock.Now()); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if got := f.tagsOf("d-a")[tagState]; got != outcome {
			t.Fatalf("state after record %d = %q, want %q", i, got, outcome)
		}
		hashes = append(hashes, c.keyHash)
	}
	if hashes[0] == hashes[1] {
		t.Errorf("two keyless requests share the key hash %q; want a fresh one each", hashes[0])
	}
}

// TestClaimConcurrentSameKey: duplicate deliveries claiming at the same time
// (real clock) reset each disk exactly once; the others see it busy.
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
			t.Parallel()
			for iter := range 20 {
				f := newGuardFake(tc.disks...)
				h := &Handler{Config: Config{Cooldown: 30 * time.Minute}} // the wall clock
				ctx := withGuardSettings(t.Context(), guardSettings{Settle: 50 * time.Millisecond})
				sets := make([]guardSets, tc.claimants)
				errs := make([]error, tc.claimants)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range tc.claimants {
					wg.Go(func() {
						<-start
						c, err := h.claim(ctx, f, Invocation{RequestID: fmt.Sprintf("fc-%d", i)}, guardPlan("evt-1", tc.disks...), time.Time{})
						sets[i], errs[i] = guardSetsOf(c), err
					})
				}
				close(start)
				wg.Wait()
				count := map[string]int{}
				slow := false
				for i := range tc.claimants {
					if guardErrCode(errs[i]) == ErrClaimTimedOut {
						slow = true // the machine is too loaded for the settle delay: fail closed is right
						continue
					}
					if errs[i] != nil {
						t.Fatalf("iteration %d: claimant %d: %v", iter, i, errs[i])
					}
					for _, d := range sets[i].reset {
						count[d]++
					}
					if got := len(sets[i].reset) + len(sets[i].dups) + len(sets[i].busy); got != len(tc.disks) {
						t.Fatalf("iteration %d: claimant %d: %+v does not cover %v", iter, i, sets[i], tc.disks)
					}
				}
				for _, d := range tc.disks {
					if count[d] > 1 || (count[d] != 1 && !slow) {
						t.Fatalf("iteration %d: disk %s handed to %d claimants (%+v), want exactly 1", iter, d, count[d], sets)
					}
				}
			}
		})
	}
}

// TestClaimConcurrentDifferentKeys: different requests for the same disks
// at the same time (real clock): exactly one proceeds, the others get
// RollbackInProgress, with or without a cooldown.
func TestClaimConcurrentDifferentKeys(t *testing.T) {
	t.Parallel()
	for _, cooldown := range []time.Duration{0, 30 * time.Minute} {
		t.Run("cooldown "+cooldown.String(), func(t *testing.T) {
			t.Parallel()
			for iter := range 20 {
				disks := []string{"d-a", "d-b"}
				f := newGuardFake(disks...)
				h := &Handler{Config: Config{Cooldown: cooldown}}
				ctx := withGuardSettings(t.Context(), guardSettings{Settle: 50 * time.Millisecond})
				const n = 3
				sets := make([]guardSets, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						<-start
						c, err := h.claim(ctx, f, Invocation{RequestID: fmt.Sprintf("fc-%d", i)}, guardPlan(fmt.Sprintf("evt-%d", i), disks...), time.Time{})
						sets[i], errs[i] = guardSetsOf(c), err
					})
				}
				close(start)
				wg.Wait()
				winners, slow := 0, false
				for i := range n {
					switch code := guardErrCode(errs[i]); {
					case errs[i] == nil && slices.Equal(sets[i].reset, disks):
						winners++
					case code == ErrRollbackInProgress && len(sets[i].reset) == 0:
					case code == ErrClaimTimedOut:
						slow = true
					default:
						t.Fatalf("iteration %d: claimant %d got %+v, %v; want all disks or RollbackInProgress", iter, i, sets[i], errs[i])
					}
				}
				if winners > 1 || (winners != 1 && !slow) {
					t.Fatalf("iteration %d: %d claimants proceeded, want exactly 1 (errors %v)", iter, winners, errs)
				}
			}
		})
	}
}

// TestClaimSlowWriteFailsClosed reproduces the race window, deterministically
// on the fake clock: B reads, then its write is delayed until A has claimed
// the disk (A's settle delay passes meanwhile). B's claim took longer than
// the settle delay, so B refuses with ClaimTimedOut instead of resetting too.
func TestClaimSlowWriteFailsClosed(t *testing.T) {
	for _, sameKey := range []bool{true, false} {
		t.Run(fmt.Sprintf("same key %v", sameKey), func(t *testing.T) {
			f := newGuardFake("d-a")
			clock := guardNewClock(guardT0)
			h := guardHandler(0, clock)
			keyB := "evt-1"
			if !sameKey {
				keyB = "evt-2"
			}
			ctxA, ctxB := guardCtx(t, "nonce-a"), guardCtx(t, "nonce-b")
			var a *claim
			var aErr error
			f.beforeTag = func(ids []string, tags map[string]string) error {
				if a == nil && aErr == nil && tags[tagState] == statePending && strings.Contains(tags[tagClaim], ":nonce-b:") {
					a, aErr = h.claim(ctxA, f, Invocation{RequestID: "fc-a"}, guardPlan("evt-1", "d-a"), time.Time{})
				}
				return nil
			}
			b, bErr := h.claim(ctxB, f, Invocation{RequestID: "fc-b"}, guardPlan(keyB, "d-a"), time.Time{})
			if aErr != nil || a == nil {
				t.Fatalf("A: %v, %v; want d-a to reset", a, aErr)
			}
			guardSetsOf(a).check(t, "A", []string{"d-a"}, nil, nil)
			if got := guardErrCode(bErr); got != ErrClaimTimedOut || b != nil {
				t.Fatalf("B: %+v, code %q (%v); want %q and nothing to reset", guardSetsOf(b), got, bErr, ErrClaimTimedOut)
			}
			if !strings.Contains(bErr.Error(), "settle") {
				t.Errorf("B's message %q does not explain the slow claim", bErr)
			}
			// A finishes; the disk records A's reset.
			if err := a.record(ctxA, map[string]string{"d-a": stateDone}, clock.Now()); err != nil {
				t.Fatalf("A's record: %v", err)
			}
			if got := parseDiskGuard(f.tagsOf("d-a")); got.state != stateDone || got.key != guardOurs {
				t.Errorf("d-a after A's record = %+v, want done for A's key", got)
			}
		})
	}
}

// TestClaimTimedOut: the clock passing the settle delay between the first
// read and the end of the write refuses with ClaimTimedOut and withdraws
// the claim; a gap just under it claims.
func TestClaimTimedOut(t *testing.T) {
	tests := []struct {
		name      string
		readTakes time.Duration // advanced during the first ListTagResources
		tagTakes  time.Duration // advanced during each pending write
		wantCode  string
		wantState string
	}{
		{name: "fast", wantState: statePending},
		{name: "write just under the settle delay", tagTakes: guardSettle - time.Nanosecond, wantState: statePending},
		{name: "write takes the settle delay", tagTakes: guardSettle, wantCode: ErrClaimTimedOut, wantState: stateFailed},
		{name: "write takes longer", tagTakes: time.Minute, wantCode: ErrClaimTimedOut, wantState: stateFailed},
		{name: "read and write add up", readTakes: guardSettle / 2, tagTakes: guardSettle / 2, wantCode: ErrClaimTimedOut, wantState: stateFailed},
		{name: "slow read", readTakes: 2 * guardSettle, wantCode: ErrClaimTimedOut, wantState: stateFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a", "d-b")
			clock := guardNewClock(guardT0)
			f.beforeList = func(n int) {
				if n == 1 {
					guardSetClock(clock, clock.Now().Add(tt.readTakes))
				}
			}
			f.beforeTag = func(_ []string, tags map[string]string) error {
				if tags[tagState] == statePending {
					guardSetClock(clock, clock.Now().Add(tt.tagTakes))
				}
				return nil
			}
			c, err := guardHandler(0, clock).claim(guardCtx(t, ""), f, Invocation{}, guardPlan("evt-1", "d-a", "d-b"), time.Time{})
			if got := guardErrCode(err); got != tt.wantCode {
				t.Fatalf("claim code = %q (%v), want %q", got, err, tt.wantCode)
			}
			if err != nil {
				if c != nil || !strings.Contains(err.Error(), "settle") || !strings.Contains(err.Error(), "nothing was reset") {
					t.Errorf("claim = %v, %q; want no claim and a message about the settle delay", c, err)
				}
			} else {
				guardSetsOf(c).check(t, "claim", []string{"d-a", "d-b"}, nil, nil)
			}
			for _, d := range []string{"d-a", "d-b"} {
				if got := f.tagsOf(d)[tagState]; got != tt.wantState {
					t.Errorf("%s state = %q, want %q", d, got, tt.wantState)
				}
			}
		})
	}
}

func TestClaimErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(f *guardFakeECS, clock *guardHookClock)
		disks    []string
		wantCode string
		// wantState is d-a's state afterwards ("" = untouched).
		wantState string
	}{
		{name: "ListTagResources refused", setup: func(f *guardFakeECS, _ *guardHookClock) {
			f.listErr = &APIError{Code: "Throttling", Message: "slow down", HTTPStatus: 400}
		}, wantCode: "Throttling"},
		{name: "TagResources unreachable", setup: func(f *guardFakeECS, _ *guardHookClock) {
			f.tagErr = &TransportError{Op: "TagResources", Sent: true, Message: "reset by peer"}
		}, wantCode: ErrECSUnreachable},
		{name: "deadline during settle withdraws the claim", setup: func(_ *guardFakeECS, c *guardHookClock) {
			c.onSleep = func(context.Context, time.Duration) error { return context.DeadlineExceeded }
		}, wantCode: ErrDeadlineExceeded, wantState: stateFailed},
		{name: "re-read refused leaves the claim to go stale", setup: func(f *guardFakeECS, c *guardHookClock) {
			c.onSleep = func(context.Context, time.Duration) error {
				f.setErrs(&APIError{Code: "Throttling", Message: "slow down", HTTPStatus: 400}, nil)
				return nil
			}
		}, wantCode: "Throttling", wantState: statePending},
		{name: "missing disk and DescribeDisks refused", disks: []string{"d-a", "d-x"}, setup: func(f *guardFakeECS, _ *guardHookClock) {
			f.descErr = &APIError{Code: "Forbidden.RAM", Message: "no", HTTPStatus: 403}
		}, wantCode: "Forbidden.RAM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a")
			clock := &guardHookClock{fakeClock: guardNewClock(guardT0)}
			tt.setup(f, clock)
			disks := tt.disks
			if disks == nil {
				disks = []string{"d-a"}
			}
			c, err := guardHandler(0, clock).claim(guardCtx(t, ""), f, Invocation{RequestID: "fc-1"}, guardPlan("evt-1", disks...), time.Time{})
			if got := guardErrCode(err); got != tt.wantCode || c != nil {
				t.Fatalf("claim = %+v, %q (%v); want nothing, %q", guardSetsOf(c), got, err, tt.wantCode)
			}
			f.setErrs(nil, nil)
			if got := f.tagsOf("d-a")[tagState]; got != tt.wantState {
				t.Errorf("state = %q, want %q", got, tt.wantState)
			}
		})
	}
}

// TestClaimMissingDisk: a disk that does not exist is handed to the reset
// unclaimed (ECS refuses it per disk); the others are claimed.
func TestClaimMissingDisk(t *testing.T) {
	for _, tc := range []struct {
		name      string
		disks     []string
		wantWon   []string
		wantReset []string
	}{
		{name: "one missing", disks: []string{"d-a", "d-x", "d-b"}, wantWon: []string{"d-a", "d-b"}, wantReset: []string{"d-a", "d-x", "d-b"}},
		{name: "all missing", disks: []string{"d-x", "d-y"}, wantReset: []string{"d-x", "d-y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGuardFake("d-a", "d-b")
			clock := guardNewClock(guardT0)
			ctx := guardCtx(t, "")
			c, err := guardHandler(0, clock).claim(ctx, f, Invocation{}, guardPlan("evt-1", tc.disks...), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			guardSetsOf(c).check(t, "claim", tc.wantReset, nil, nil)
			if got := sortedKeys(c.won); !slices.Equal(got, tc.wantWon) && len(got)+len(tc.wantWon) > 0 {
				t.Errorf("won = %v, want %v", got, tc.wantWon)
			}
			if got := f.count("DescribeDisks"); got != 1 {
				t.Errorf("DescribeDisks calls = %d, want 1", got)
			}
			outcome := map[string]string{}
			for _, d := range tc.disks {
				outcome[d] = stateFailed
			}
			if err := c.record(ctx, outcome, clock.Now()); err != nil {
				t.Errorf("record: %v, want no error (missing disks are not recorded)", err)
			}
			for _, d := range tc.wantWon {
				if got := f.tagsOf(d)[tagState]; got != stateFailed {
					t.Errorf("%s state = %q, want failed", d, got)
				}
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
	clock := guardNewClock(guardT0)
	ctx := guardCtx(t, "")
	c, err := guardHandler(0, clock).claim(ctx, f, Invocation{}, guardPlan("evt-1", disks...), time.Time{})
	if err != nil || len(c.toReset) != MaxDisks || len(c.won) != MaxDisks {
		t.Fatalf("claim = %+v, %v; want %d to reset", guardSetsOf(c), err, MaxDisks)
	}
	if got, want := f.count("TagResources"), 2; got != want {
		t.Errorf("TagResources calls = %d, want %d", got, want)
	}
	if got, want := f.count("ListTagResources"), 4; got != want {
		t.Errorf("ListTagResources calls = %d, want %d", got, want)
	}
	outcome := map[string]string{}
	for i, d := range disks {
		outcome[d] = []string{stateDone, stateFailed}[i%2]
	}
	if err := c.record(ctx, outcome, clock.Now()); err != nil {
		t.Fatal(err)
	}
	// done: 50 disks, one write; failed: 50 disks, one write (after reading
	// back its own claims).
	if got, want := f.count("TagResources"), 2+2; got != want {
		t.Errorf("TagResources calls after record = %d, want %d", got, want)
	}
	for i, d := range disks {
		if got, want := f.tagsOf(d)[tagState], outcome[d]; got != want {
			t.Fatalf("disk %d state = %q, want %q", i, got, want)
		}
	}
}

func TestTagRoom(t *testing.T) {
	foreign := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("team:%02d", i)] = "x"
		}
		return m
	}
	withGuard := func(n int, guard ...string) map[string]string {
		m := foreign(n)
		for _, k := range guard {
			m[k] = "v"
		}
		return m
	}
	tests := []struct {
		name string
		tags map[string]map[string]string
		want []string
	}{
		{name: "no tags", want: nil},
		{name: "16 foreign tags leave room for 4", tags: map[string]map[string]string{"d-a": foreign(16)}},
		{name: "17 foreign tags do not", tags: map[string]map[string]string{"d-a": foreign(17)}, want: []string{"d-a (17 tags)"}},
		{name: "some guard tags there", tags: map[string]map[string]string{"d-a": withGuard(16, tagKey, tagState, tagClaim)}},
		{name: "some guard tags there, one too many", tags: map[string]map[string]string{"d-a": withGuard(17, tagKey, tagState, tagClaim)},
			want: []string{"d-a (20 tags)"}},
		{name: "20 tags with all guard tags", tags: map[string]map[string]string{"d-a": withGuard(16, guardTagKeys...)}},
		{name: "only the full disks, in order", tags: map[string]map[string]string{"d-a": foreign(20), "d-b": foreign(3), "d-c": foreign(19)},
			want: []string{"d-a (20 tags)", "d-c (19 tags)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tagRoom([]string{"d-a", "d-b", "d-c"}, tt.tags); !slices.Equal(got, tt.want) {
				t.Errorf("tagRoom = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestClaimTagRoomRefusal: a disk that cannot take the guard tags refuses
// the whole plan with PlanRefused, naming it, and nothing is written.
func TestClaimTagRoomRefusal(t *testing.T) {
	f := newGuardFake("d-a", "d-b", "d-c")
	for i := range 17 {
		f.setTags("d-b", map[string]string{fmt.Sprintf("team:%02d", i): "x"})
	}
	for i := range 16 {
		f.setTags("d-a", map[string]string{fmt.Sprintf("team:%02d", i): "x"})
	}
	// d-c is full too but a duplicate: it needs no new tag.
	for i := range 17 {
		f.setTags("d-c", map[string]string{fmt.Sprintf("team:%02d", i): "x"})
	}
	f.setTags("d-c", map[string]string{tagKey: guardOurs, tagState: stateDone, tagAt: guardUnix(guardT0.Add(-time.Hour))})
	before := map[string]map[string]string{"d-a": f.tagsOf("d-a"), "d-b": f.tagsOf("d-b"), "d-c": f.tagsOf("d-c")}
	c, err := guardHandler(0, guardNewClock(guardT0)).claim(guardCtx(t, ""), f, Invocation{}, guardPlan("evt-1", "d-a", "d-b", "d-c"), time.Time{})
	if got := guardErrCode(err); got != ErrPlanRefused || c != nil {
		t.Fatalf("claim = %+v, %q (%v); want nothing, %q", guardSetsOf(c), got, err, ErrPlanRefused)
	}
	for _, want := range []string{"d-b (17 tags)", "20", "nothing was reset"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	for _, notWant := range []string{"d-a", "d-c"} {
		if strings.Contains(err.Error(), notWant) {
			t.Errorf("message %q names %s, which has room", err, notWant)
		}
	}
	if got := f.count("TagResources"); got != 0 {
		t.Errorf("TagResources calls = %d, want 0", got)
	}
	for d, want := range before {
		if got := f.tagsOf(d); !maps.Equal(got, want) {
			t.Errorf("%s tags changed: %v, want %v", d, got, want)
		}
	}
}

func TestClaimRecord(t *testing.T) {
	// claimed claims d-a and d-b for evt-1 (d-c is busy: a live claim of
	// the same key by another invocation).
	claimed := func(t *testing.T) (*guardFakeECS, *fakeClock, *claim) {
		t.Helper()
		f := newGuardFake("d-a", "d-b", "d-c")
		f.setTags("d-c", guardPending(guardOurs, guardT0, guardT0.Add(10*time.Minute)))
		clock := guardNewClock(guardT0)
		c, err := guardHandler(0, clock).claim(guardCtx(t, "mine"), f, Invocation{}, guardPlan("evt-1", "d-a", "d-b", "d-c"), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		guardSetsOf(c).check(t, "claim", []string{"d-a", "d-b"}, nil, []string{"d-c"})
		return f, clock, c
	}
	// theirs is another key's claim that took over a disk of ours.
	theirs := guardPending(guardOther, guardT0, guardT0.Add(10*time.Minute))

	t.Run("writes each outcome, only on its own claims", func(t *testing.T) {
		f, clock, c := claimed(t)
		at := clock.Now()
		busyBefore := f.tagsOf("d-c")
		err := c.record(t.Context(), map[string]string{"d-a": stateDone, "d-b": stateUnknown, "d-c": stateFailed}, at)
		if err != nil {
			t.Fatalf("record: %v", err)
		}
		if got := parseDiskGuard(f.tagsOf("d-a")); got.state != stateDone || !got.at.Equal(at) || got.key != guardOurs {
			t.Errorf("d-a = %+v, want done at %v", got, at)
		}
		if got := parseDiskGuard(f.tagsOf("d-b")); got.state != stateUnknown || !got.at.Equal(at) {
			t.Errorf("d-b = %+v, want unknown at %v (starts the cooldown)", got, at)
		}
		if got := f.tagsOf("d-c"); !maps.Equal(got, busyBefore) {
			t.Errorf("record touched another invocation's claim: %v, want %v", got, busyBefore)
		}
	})
	t.Run("never marks another claim's disk failed", func(t *testing.T) {
		f, clock, c := claimed(t)
		f.setTags("d-b", theirs)
		if err := c.record(t.Context(), map[string]string{"d-a": stateFailed, "d-b": stateFailed}, clock.Now()); err != nil {
			t.Fatalf("record: %v", err)
		}
		if got := f.tagsOf("d-a")[tagState]; got != stateFailed {
			t.Errorf("d-a state = %q, want failed", got)
		}
		if got := f.tagsOf("d-b"); !maps.Equal(got, theirs) {
			t.Errorf("d-b tags = %v, want the other claim untouched %v", got, theirs)
		}
	})
	t.Run("disks without an outcome are left pending", func(t *testing.T) {
		f, clock, c := claimed(t)
		if err := c.record(t.Context(), map[string]string{"d-a": stateDone}, clock.Now()); err != nil {
			t.Fatalf("record: %v", err)
		}
		if got := f.tagsOf("d-b")[tagState]; got != statePending {
			t.Errorf("d-b state = %q, want pending", got)
		}
	})
	t.Run("retries a failing write", func(t *testing.T) {
		f, clock, c := claimed(t)
		calls := f.count("TagResources")
		f.mu.Lock()
		f.tagFailures = recordAttempts - 1
		f.mu.Unlock()
		if err := c.record(t.Context(), map[string]string{"d-a": stateDone, "d-b": stateDone}, clock.Now()); err != nil {
			t.Fatalf("record: %v, want success on the last attempt", err)
		}
		if got, want := f.count("TagResources")-calls, recordAttempts; got != want {
			t.Errorf("TagResources calls = %d, want %d", got, want)
		}
		if got := f.tagsOf("d-a")[tagState]; got != stateDone {
			t.Errorf("d-a state = %q, want done", got)
		}
	})
	t.Run("returns the error after the last attempt", func(t *testing.T) {
		f, clock, c := claimed(t)
		calls := f.count("TagResources")
		f.setErrs(nil, &TransportError{Op: "TagResources", Message: "refused"})
		err := c.record(t.Context(), map[string]string{"d-a": stateDone, "d-b": stateDone}, clock.Now())
		if got := guardErrCode(FromECS("TagResources", err)); err == nil || got != ErrECSUnreachable {
			t.Fatalf("record error = %v (code %q), want the TagResources failure (%s)", err, got, ErrECSUnreachable)
		}
		if got, want := f.count("TagResources")-calls, recordAttempts; got != want {
			t.Errorf("TagResources calls = %d, want %d", got, want)
		}
		f.setErrs(nil, nil)
		if got := f.tagsOf("d-a")[tagState]; got != statePending {
			t.Errorf("state = %q, want pending (the write failed)", got)
		}
	})
	t.Run("one state failing does not stop the others", func(t *testing.T) {
		f, clock, c := claimed(t)
		f.beforeTag = func(_ []string, tags map[string]string) error {
			if tags[tagState] == stateDone {
				return errGuardFakeTransient
			}
			return nil
		}
		err := c.record(t.Context(), map[string]string{"d-a": stateDone, "d-b": stateFailed}, clock.Now())
		if !errors.Is(err, errGuardFakeTransient) {
			t.Errorf("record error = %v, want %v", err, errGuardFakeTransient)
		}
		if got := f.tagsOf("d-a")[tagState]; got != statePending {
			t.Errorf("d-a state = %q, want pending", got)
		}
		if got := f.tagsOf("d-b")[tagState]; got != stateFailed {
			t.Errorf("d-b state = %q, want failed", got)
		}
	})
	t.Run("a done context stops retrying", func(t *testing.T) {
		f, clock, c := claimed(t)
		calls := f.count("TagResources")
		f.setErrs(nil, errGuardFakeTransient)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := c.record(ctx, map[string]string{"d-a": stateDone}, clock.Now()); err == nil {
			t.Errorf("record = nil, want the write's error")
		}
		if got := f.count("TagResources") - calls; got != 1 {
			t.Errorf("TagResources calls = %d, want 1", got)
		}
	})
	t.Run("a failed read-back writes no failed state", func(t *testing.T) {
		f, clock, c := claimed(t)
		f.setTags("d-b", theirs)
		f.setErrs(&APIError{Code: "Throttling", Message: "slow down", HTTPStatus: 400}, nil)
		_ = c.record(t.Context(), map[string]string{"d-b": stateFailed}, clock.Now())
		f.setErrs(nil, nil)
		if got := f.tagsOf("d-b"); !maps.Equal(got, theirs) {
			t.Errorf("d-b tags = %v, want the other claim untouched %v", got, theirs)
		}
	})
}

func TestClaimWithdraw(t *testing.T) {
	for _, tc := range []struct {
		name     string
		listErr  error
		wantA    string
		wantCall int // TagResources calls by withdraw
	}{
		{name: "own claims marked failed", wantA: stateFailed, wantCall: 1},
		{name: "read-back refused: nothing written", listErr: errGuardFakeTransient, wantA: statePending, wantCall: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGuardFake("d-a", "d-b")
			c, err := guardHandler(0, guardNewClock(guardT0)).claim(guardCtx(t, ""), f, Invocation{}, guardPlan("evt-1", "d-a", "d-b"), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			theirs := guardPending(guardOther, guardT0, guardT0.Add(time.Minute))
			f.setTags("d-b", theirs)
			f.setErrs(tc.listErr, nil)
			calls := f.count("TagResources")
			c.withdraw(t.Context(), []string{"d-a", "d-b"})
			f.setErrs(nil, nil)
			if got := f.count("TagResources") - calls; got != tc.wantCall {
				t.Errorf("TagResources calls = %d, want %d", got, tc.wantCall)
			}
			if got := f.tagsOf("d-a")[tagState]; got != tc.wantA {
				t.Errorf("d-a state = %q, want %q", got, tc.wantA)
			}
			if got := f.tagsOf("d-b"); !maps.Equal(got, theirs) {
				t.Errorf("withdraw touched another claim: %v, want %v", got, theirs)
			}
		})
	}
	t.Run("no disks, no call", func(t *testing.T) {
		f := newGuardFake("d-a")
		(&claim{h: &Handler{}, ecs: f}).withdraw(t.Context(), nil)
		if got := f.totalCalls(); got != 0 {
			t.Errorf("calls = %d, want 0", got)
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
			want:     map[string]string{"d-a": "Success/", "d-b": "Unknown/OutcomeUnknown", "d-c": "Unknown/OutcomeUnknown"}},
		{name: "DescribeDisks fails: all unknown",
			statuses: map[string]string{"d-a": DiskStatusReIniting},
			descErr:  &TransportError{Op: "DescribeDisks", Message: "timeout"},
			want:     map[string]string{"d-a": "Unknown/OutcomeUnknown", "d-b": "Unknown/OutcomeUnknown", "d-c": "Unknown/OutcomeUnknown"}},
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
				if p.Item("DiskId") != batch[i].DiskID || p.Item("SnapshotId") != batch[i].SnapshotID {
					t.Errorf("progress %d names %s/%s, want %s/%s", i, p.Item("DiskId"), p.Item("SnapshotId"), batch[i].DiskID, batch[i].SnapshotID)
				}
				if got, want := p.OperationStatus+"/"+p.ErrorCode, tt.want[batch[i].DiskID]; got != want {
					t.Errorf("%s: %s, want %s", batch[i].DiskID, got, want)
				}
				if p.ErrorCode == codeOutcomeUnknown && (!strings.Contains(p.ErrorMsg, batch[i].DiskID) || !strings.Contains(p.ErrorMsg, "check")) {
					t.Errorf("%s: message %q should name the disk and say to check it", batch[i].DiskID, p.ErrorMsg)
				}
			}
			if got := f.count("DescribeDisks"); got != 1 {
				t.Errorf("DescribeDisks calls = %d, want 1", got)
			}
			if got := f.totalCalls(); got != 1 {
				t.Errorf("calls = %d, want 1 (nothing resent, nothing written)", got)
			}
		})
	}
	t.Run("empty batch makes no call", func(t *testing.T) {
		f := newGuardFake()
		if got := (&Handler{}).resolveUnknown(t.Context(), f, "cn-hangzhou", nil); len(got) != 0 || f.totalCalls() != 0 {
			t.Errorf("resolveUnknown(nil) = %v after %d calls, want nothing and no call", got, f.totalCalls())
		}
	})
}

// TestClaimOvertakenDuringSettle: another claim lands on a disk between our
// write and our re-read.
func TestClaimOvertakenDuringSettle(t *testing.T) {
	tests := []struct {
		name      string
		otherKey  string
		wantCode  string
		wantReset []string
		wantBusy  []string
		// wantState is the state of d-a (ours in every case) afterwards.
		wantState string
	}{
		{name: "by a duplicate of our key", otherKey: "caller/evt-1", wantReset: []string{"d-a"}, wantBusy: []string{"d-b"}, wantState: statePending},
		{name: "by another key", otherKey: "caller/evt-2", wantCode: ErrRollbackInProgress, wantState: stateFailed},
		{name: "by the same text from a trigger", otherKey: "eb/evt-1", wantCode: ErrRollbackInProgress, wantState: stateFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGuardFake("d-a", "d-b")
			other := guardPending(guardHash(tt.otherKey), guardT0, guardT0.Add(10*time.Minute))
			clock := &guardHookClock{fakeClock: guardNewClock(guardT0), onSleep: func(context.Context, time.Duration) error {
				f.setTags("d-b", other) // the other claim lands while we wait
				return nil
			}}
			c, err := guardHandler(0, clock).claim(guardCtx(t, ""), f, Invocation{RequestID: "fc-1"}, guardPlan("evt-1", "d-a", "d-b"), time.Time{})
			if got := guardErrCode(err); got != tt.wantCode {
				t.Fatalf("claim code = %q (%v), want %q", got, err, tt.wantCode)
			}
			if tt.wantCode != "" && !strings.Contains(err.Error(), "d-b") {
				t.Errorf("message %q does not name d-b", err)
			}
			guardSetsOf(c).check(t, "claim", tt.wantReset, nil, tt.wantBusy)
			if got := f.tagsOf("d-a")[tagState]; got != tt.wantState {
				t.Errorf("d-a state = %q, want %q", got, tt.wantState)
			}
			if got := f.tagsOf("d-b"); !maps.Equal(got, other) {
				t.Errorf("d-b tags = %v, want the other claim untouched %v", got, other)
			}
		})
	}
}

// TestClaimOldFormRefusalMessage: a live claim in the old 3-part form has no
// deadline; the refusal must not print the zero time as one.
func TestClaimOldFormRefusalMessage(t *testing.T) {
	f := newGuardFake("d-a")
	f.setTags("d-a", guardPending(guardOther, guardT0.Add(-time.Minute), time.Time{}))
	_, err := guardHandler(0, guardNewClock(guardT0)).claim(guardCtx(t, ""), f, Invocation{}, guardPlan("evt-1", "d-a"), time.Time{})
	if got := guardErrCode(err); got != ErrRollbackInProgress {
		t.Fatalf("claim code = %q (%v), want %q", got, err, ErrRollbackInProgress)
	}
	if strings.Contains(err.Error(), "0001-01-01") {
		t.Errorf("message %q gives the zero time as the claim's deadline", err)
	}
}

// TestClaimSlowWriteWithdrawKeepsWinnerHeld: after B's slow claim (see
// TestClaimSlowWriteFailsClosed) overwrote A's winning claim, B's withdraw
// must not leave the disk looking free while A is resetting it.
func TestClaimSlowWriteWithdrawKeepsWinnerHeld(t *testing.T) {
	t.Skip("KNOWN LIMITATION (docs/idempotency.md, 'Withdraw after a slow claim'): after ClaimTimedOut, withdraw marks failed a disk whose claim value is B's only because B's late write overwrote A's winning claim; until A records, any key (not only B's retry; no cooldown since tagAt is unset) claims and resets the disk A is resetting")
	f := newGuardFake("d-a")
	clock := guardNewClock(guardT0)
	h := guardHandler(time.Hour, clock)
	var a *claim
	var aErr error
	f.beforeTag = func(ids []string, tags map[string]string) error {
		if a == nil && aErr == nil && tags[tagState] == statePending && strings.Contains(tags[tagClaim], ":nonce-b:") {
			a, aErr = h.claim(guardCtx(t, "nonce-a"), f, Invocation{}, guardPlan("evt-1", "d-a"), time.Time{})
		}
		return nil
	}
	_, bErr := h.claim(guardCtx(t, "nonce-b"), f, Invocation{}, guardPlan("evt-2", "d-a"), time.Time{})
	if aErr != nil || a == nil || guardErrCode(bErr) != ErrClaimTimedOut {
		t.Fatalf("A = %v, %v; B = %v; want A to win and B to time out", a, aErr, bErr)
	}
	f.beforeTag = nil
	// A is resetting d-a and has not recorded yet: a third key must be refused.
	c, err := h.claim(guardCtx(t, "nonce-c"), f, Invocation{}, guardPlan("evt-3", "d-a"), time.Time{})
	if err == nil {
		t.Errorf("third key claimed %+v while A holds d-a (tags %v); want a refusal", guardSetsOf(c), f.tagsOf("d-a"))
	}
}
