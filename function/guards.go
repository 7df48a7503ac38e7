package function

// Guards: the allow-list (ALLOWED_DISK_TAG), the per-disk cooldown
// (ROLLBACK_COOLDOWN) and idempotency (Request.IdempotencyKey). A reset
// cannot be undone and alarms, EventBridge and FC retries may deliver the same
// request twice, so the record of "this key reset this disk" lives where every
// function instance sees it and a cold start does not lose it: on the disk
// itself, as tags. docs/idempotency.md describes the protocol and its
// remaining race window.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/retry"
)

// The tags the guards keep on each disk. Keys must not start with "aliyun"
// or "acs:"; values are at most 128 characters (ours are under 50).
const (
	guardTagPrefix = "ecs-disk-rollback:"
	// guardTagKey: hash of the idempotency key of the last request that claimed the disk.
	guardTagKey = guardTagPrefix + "key"
	// guardTagClaim: "<key hash>:<nonce>:<unix seconds>" of the last claim.
	guardTagClaim = guardTagPrefix + "claim"
	// guardTagState: pending (claimed, reset not yet recorded), done (reset
	// accepted by ECS) or failed (not reset; the key may try again).
	guardTagState = guardTagPrefix + "state"
	// guardTagAt: unix seconds of the last reset ECS accepted (the cooldown's clock).
	guardTagAt = guardTagPrefix + "at"

	guardStatePending = "pending"
	guardStateDone    = "done"
	guardStateFailed  = "failed"

	guardResourceType = "disk"
	// guardMaxIDs is the most ResourceId.N one TagResources or
	// ListTagResources call takes.
	guardMaxIDs = 50

	// codeOutcomeUnknown is the per-disk ErrorCode of a reset whose call got
	// no answer and whose disk does not show that it was reset.
	codeOutcomeUnknown = "OutcomeUnknown"
)

// Defaults of guardSettings.
const (
	// defaultGuardSettle is how long claim waits between writing its claims
	// and reading them back. It is also the longest claim may take from its
	// first read to the end of its write: longer, and a concurrent claim can
	// no longer be ruled out (docs/idempotency.md), so nothing is reset.
	defaultGuardSettle = time.Second
	// defaultGuardStaleAfter: a pending claim older than this belongs to an
	// invocation that died (it must exceed the function timeout, 600 s).
	defaultGuardStaleAfter = 15 * time.Minute
)

// guardSettings are the knobs tests turn; production uses the defaults.
// They travel in the context (withGuardSettings) so tests running in
// parallel never share them.
type guardSettings struct {
	Settle     time.Duration
	StaleAfter time.Duration
	Nonce      func() string
	Sleep      func(ctx context.Context, d time.Duration) error
}

type guardSettingsKey struct{}

// withGuardSettings returns ctx carrying s; zero fields keep their defaults.
func withGuardSettings(ctx context.Context, s guardSettings) context.Context {
	return context.WithValue(ctx, guardSettingsKey{}, s)
}

func guardSettingsFrom(ctx context.Context) guardSettings {
	s, _ := ctx.Value(guardSettingsKey{}).(guardSettings)
	if s.Settle <= 0 {
		s.Settle = defaultGuardSettle
	}
	if s.StaleAfter <= 0 {
		s.StaleAfter = defaultGuardStaleAfter
	}
	if s.Nonce == nil {
		s.Nonce = randomNonce
	}
	if s.Sleep == nil {
		s.Sleep = retry.SleepContext
	}
	return s
}

func randomNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// guardHash is the form an idempotency key is stored in: 16 hex digits of
// its SHA-256 (tag values are limited, and keys may hold anything).
func guardHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// guardKey is the idempotency key of a plan: the request's, else FC's
// request id (an FC async retry keeps it), else none ("").
func guardKey(inv Invocation, plan *Plan) string {
	if plan.IdempotencyKey != "" {
		return plan.IdempotencyKey
	}
	if inv.RequestID != "" {
		return "fc:" + inv.RequestID
	}
	return ""
}

// guardClaims remembers, from claim to release, what one plan claimed, so
// release checks claims exactly (by nonce) and touches only its own disks.
// Keyed by the *Plan; release removes the entry.
var guardClaims sync.Map // *Plan → guardClaimRecord

type guardClaimRecord struct {
	keyHash, claim string
	won            map[string]bool
}

// diskGuard is what the tags of one disk say.
type diskGuard struct {
	key, state, claim string
	claimKey          string    // the key hash inside claim
	claimAt           time.Time // zero when claim is absent or malformed
	at                time.Time // zero when never reset
}

func parseDiskGuard(tags map[string]string) diskGuard {
	g := diskGuard{key: tags[guardTagKey], state: tags[guardTagState], claim: tags[guardTagClaim]}
	if parts := strings.Split(g.claim, ":"); len(parts) == 3 {
		if sec, err := strconv.ParseInt(parts[2], 10, 64); err == nil {
			g.claimKey, g.claimAt = parts[0], time.Unix(sec, 0)
		}
	}
	if v := tags[guardTagAt]; v != "" {
		if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
			g.at = time.Unix(sec, 0)
		}
	}
	return g
}

// freshPending reports a pending claim that may belong to a live invocation.
func (g diskGuard) freshPending(now time.Time, staleAfter time.Duration) bool {
	return g.state == guardStatePending && !g.claimAt.IsZero() && now.Sub(g.claimAt) < staleAfter
}

// checkAllowed refuses (ErrDiskNotAllowed, listing the disks) when
// Config.AllowedDiskTagKey is set and any disk of plan.Pairs lacks the tag
// key=value. It runs after planning and before anything mutating, for dry
// runs too; without an allow-list it makes no call.
func (h *Handler) checkAllowed(ctx context.Context, ecs ECS, plan *Plan) error {
	key, want := h.Config.AllowedDiskTagKey, h.Config.AllowedDiskTagValue
	if key == "" || len(plan.Pairs) == 0 {
		return nil
	}
	ids := guardDiskIDs(plan.Pairs)
	tags, err := readDiskTags(ctx, ecs, plan.RegionId, ids)
	if err != nil {
		return FromECS("ListTagResources", err)
	}
	var refused []string
	for _, id := range ids {
		if v, ok := tags[id][key]; !ok || v != want {
			refused = append(refused, id)
		}
	}
	if len(refused) > 0 {
		h.guardLog(ctx, slog.LevelWarn, "disks refused by the allow-list", slog.String("regionId", plan.RegionId),
			slog.String("tag", key+"="+want), slog.Any("diskIds", refused))
		return Errorf(ErrDiskNotAllowed, "%d of %d disks lack the tag %s=%s that ALLOWED_DISK_TAG requires: %s; nothing was reset",
			len(refused), len(ids), key, want, strings.Join(refused, ", "))
	}
	h.guardLog(ctx, slog.LevelDebug, "disks allowed", slog.String("regionId", plan.RegionId), slog.Int("disks", len(ids)))
	return nil
}

// claim applies the cooldown and idempotency before a reset. It returns the
// pairs to reset and those already reset, or being reset right now, for the
// same idempotency key (duplicates), both in plan order. It refuses the whole
// request with ErrCooldownActive when a disk was reset less than
// Config.Cooldown ago, is being rolled back by another request, or when the
// claim could not be made safely; then nothing is to be reset. Not called
// for dry runs. Every disk of toReset must be passed to release afterwards.
//
// Protocol (docs/idempotency.md): read the guard tags of all disks; decide
// per disk; write key/claim/state=pending on the candidates; wait the settle
// delay; read again and keep only the disks whose claim is still ours.
func (h *Handler) claim(ctx context.Context, ecs ECS, inv Invocation, plan *Plan) (toReset, duplicates []DiskPair, err error) {
	if _, set := ctx.Value(guardSettingsKey{}).(guardSettings); !set && h.Config.ClaimSettle > 0 {
		ctx = withGuardSettings(ctx, guardSettings{Settle: h.Config.ClaimSettle})
	}
	gs := guardSettingsFrom(ctx)
	ids := guardDiskIDs(plan.Pairs)
	if len(ids) == 0 {
		return nil, nil, nil
	}
	region := plan.RegionId
	key := guardKey(inv, plan)
	nonce := gs.Nonce()
	if key == "" {
		key = "anon:" + nonce // no key at all: nothing can be a duplicate of this request
	}
	keyHash := guardHash(key)
	log := []any{slog.String("regionId", region), slog.String("idempotencyKeyHash", keyHash), slog.String("fcRequestId", inv.RequestID)}

	started := time.Now() // monotonic: the read-to-write gap must stay under the settle delay
	tags, err := readDiskTags(ctx, ecs, region, ids)
	if err != nil {
		return nil, nil, FromECS("ListTagResources", err)
	}
	now := h.now()
	claimVal := keyHash + ":" + nonce + ":" + strconv.FormatInt(now.Unix(), 10)

	const (
		verdictCandidate = iota
		verdictDuplicate
	)
	verdict := map[string]int{}
	var cooling, busy []string
	for _, id := range ids {
		g := parseDiskGuard(tags[id])
		switch {
		case g.key == keyHash && g.state == guardStateDone:
			verdict[id] = verdictDuplicate
			h.guardLog(ctx, slog.LevelInfo, "duplicate: disk already reset for this key", append(log, slog.String("diskId", id))...)
		case g.freshPending(now, gs.StaleAfter) && g.claimKey == keyHash:
			verdict[id] = verdictDuplicate
			h.guardLog(ctx, slog.LevelInfo, "duplicate: disk being reset for this key by another invocation", append(log, slog.String("diskId", id), slog.Time("claimedAt", g.claimAt))...)
		case g.freshPending(now, gs.StaleAfter):
			busy = append(busy, fmt.Sprintf("%s (claimed %s ago)", id, roundDur(now.Sub(g.claimAt))))
		case h.Config.Cooldown > 0 && !g.at.IsZero() && g.key != keyHash && now.Sub(g.at) < h.Config.Cooldown:
			left := h.Config.Cooldown - now.Sub(g.at)
			cooling = append(cooling, fmt.Sprintf("%s (reset at %s, %s left)", id, g.at.UTC().Format(time.RFC3339), roundDur(left)))
		default:
			verdict[id] = verdictCandidate
			if g.state == guardStatePending {
				h.guardLog(ctx, slog.LevelWarn, "taking over a stale claim: an earlier attempt died; check whether it reset the disk",
					append(log, slog.String("diskId", id), slog.String("claim", g.claim))...)
			}
		}
	}
	if len(cooling) > 0 || len(busy) > 0 {
		var parts []string
		if len(cooling) > 0 {
			parts = append(parts, fmt.Sprintf("ROLLBACK_COOLDOWN is %s and these disks were reset less than that ago: %s", h.Config.Cooldown, strings.Join(cooling, ", ")))
		}
		if len(busy) > 0 {
			parts = append(parts, "another request is rolling back these disks right now: "+strings.Join(busy, ", "))
		}
		h.guardLog(ctx, slog.LevelWarn, "claim refused", append(log, slog.Any("cooling", cooling), slog.Any("busy", busy))...)
		return nil, nil, Errorf(ErrCooldownActive, "%s; nothing was reset", strings.Join(parts, "; "))
	}

	var cands []string
	for _, id := range ids {
		if verdict[id] == verdictCandidate {
			cands = append(cands, id)
		}
	}
	dupSet := map[string]bool{}
	for _, id := range ids {
		if verdict[id] == verdictDuplicate {
			dupSet[id] = true
		}
	}
	if len(cands) == 0 {
		return nil, pairsIn(plan.Pairs, dupSet), nil
	}

	claimTags := map[string]string{guardTagKey: keyHash, guardTagClaim: claimVal, guardTagState: guardStatePending}
	err = writeDiskTags(ctx, ecs, region, cands, claimTags)
	var missing map[string]bool
	if isResourceNotFound(err) {
		// Some disks do not exist: claim the others and leave the missing
		// ones to the reset call, whose per-disk InvalidDiskId.NotFound is
		// the answer the operator needs (nothing can reset them anyway).
		if cands, missing, err = splitExisting(ctx, ecs, region, cands); err == nil && len(cands) > 0 {
			err = writeDiskTags(ctx, ecs, region, cands, claimTags)
		}
	}
	if err != nil {
		h.abandon(ctx, ecs, region, cands, claimVal, keyHash)
		return nil, nil, FromECS("TagResources", err)
	}
	if len(cands) == 0 { // every candidate is missing
		return pairsIn(plan.Pairs, missing), pairsIn(plan.Pairs, dupSet), nil
	}
	if gap := time.Since(started); gap >= gs.Settle {
		// A concurrent claim may have read before our write and re-read
		// before it landed; it would now be resetting. Refuse (fail closed).
		h.guardLog(ctx, slog.LevelWarn, "claim too slow to be safe", append(log, slog.Duration("gap", gap), slog.Duration("settle", gs.Settle))...)
		h.abandon(ctx, ecs, region, cands, claimVal, keyHash)
		return nil, nil, Errorf(ErrCooldownActive, "claiming the disks took %s, not less than the %s settle delay (ECS slow or throttled), so a concurrent rollback of them cannot be ruled out; nothing was reset; try again", roundDur(gap), gs.Settle)
	}
	if err := gs.Sleep(ctx, gs.Settle); err != nil {
		h.abandon(ctx, ecs, region, cands, claimVal, keyHash)
		return nil, nil, FromECS("claim", fmt.Errorf("%w: %v", errDeadline, err))
	}
	after, err := readDiskTags(ctx, ecs, region, cands)
	if err != nil {
		h.abandon(ctx, ecs, region, cands, claimVal, keyHash)
		return nil, nil, FromECS("ListTagResources", err)
	}
	won := map[string]bool{}
	var lost []string
	for _, id := range cands {
		g := parseDiskGuard(after[id])
		switch {
		case g.claim == claimVal:
			won[id] = true
		case g.claimKey == keyHash:
			dupSet[id] = true // a concurrent duplicate delivery claimed it last
			h.guardLog(ctx, slog.LevelInfo, "duplicate: a concurrent invocation with this key won the claim", append(log, slog.String("diskId", id))...)
		default:
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		h.guardLog(ctx, slog.LevelWarn, "claim lost to another request", append(log, slog.Any("diskIds", lost))...)
		h.abandon(ctx, ecs, region, setKeys(won), claimVal, keyHash)
		return nil, nil, Errorf(ErrCooldownActive, "another request claimed these disks at the same time: %s; nothing was reset", strings.Join(lost, ", "))
	}
	if len(won) > 0 {
		guardClaims.Store(plan, guardClaimRecord{keyHash: keyHash, claim: claimVal, won: won})
	}
	for id := range missing {
		won[id] = true // reset unclaimed: ECS will refuse it per disk
	}
	toReset, duplicates = pairsIn(plan.Pairs, won), pairsIn(plan.Pairs, dupSet)
	h.guardLog(ctx, slog.LevelInfo, "disks claimed", append(log, slog.Int("toReset", len(toReset)), slog.Int("duplicates", len(duplicates)))...)
	return toReset, duplicates, nil
}

// isResourceNotFound reports whether a tag call was refused because a
// resource does not exist.
func isResourceNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == "InvalidResourceId.NotFound" || ae.Code == "InvalidDiskId.NotFound")
}

// splitExisting asks DescribeDisks which of ids exist.
func splitExisting(ctx context.Context, ecs ECS, region string, ids []string) (existing []string, missing map[string]bool, err error) {
	disks, err := ecs.DescribeDisks(ctx, region, ids)
	if err != nil {
		return ids, nil, err
	}
	found := make(map[string]bool, len(disks))
	for _, d := range disks {
		found[d.DiskId] = true
	}
	missing = map[string]bool{}
	for _, id := range ids {
		if found[id] {
			existing = append(existing, id)
		} else {
			missing[id] = true
		}
	}
	return existing, missing, nil
}

// abandon marks our still-standing claims failed (best effort), so a retry
// with the same key is not taken for an in-flight duplicate.
func (h *Handler) abandon(ctx context.Context, ecs ECS, region string, ids []string, claimVal, keyHash string) {
	if len(ids) == 0 {
		return
	}
	tags, err := readDiskTags(ctx, ecs, region, ids)
	if err != nil {
		h.guardLog(ctx, slog.LevelWarn, "could not withdraw claims; they expire on their own", slog.String("regionId", region), slog.Any("diskIds", ids), slog.String("error", err.Error()))
		return
	}
	var mine []string
	for _, id := range ids {
		if tags[id][guardTagClaim] == claimVal {
			mine = append(mine, id)
		}
	}
	if len(mine) == 0 {
		return
	}
	if err := writeDiskTags(ctx, ecs, region, mine, map[string]string{guardTagKey: keyHash, guardTagState: guardStateFailed}); err != nil {
		h.guardLog(ctx, slog.LevelWarn, "could not withdraw claims; they expire on their own", slog.String("regionId", region), slog.Any("diskIds", mine), slog.String("error", err.Error()))
		return
	}
	h.guardLog(ctx, slog.LevelInfo, "claims withdrawn", slog.String("regionId", region), slog.Any("diskIds", mine))
}

// release records each claimed disk's outcome after the reset calls:
// accepted[diskId] true (ECS accepted its reset, or the outcome is unknown
// and must count as reset) → state=done and at=now, which makes the key's
// later deliveries duplicates and starts the cooldown; false → state=failed,
// so a retry with the same key may try again. Disks claim did not hand to
// this plan are left alone. Best effort: failures are logged.
func (h *Handler) release(ctx context.Context, ecs ECS, inv Invocation, plan *Plan, accepted map[string]bool) {
	if len(accepted) == 0 {
		return
	}
	region := plan.RegionId
	var rec guardClaimRecord
	if v, ok := guardClaims.LoadAndDelete(plan); ok {
		rec = v.(guardClaimRecord)
	} else if key := guardKey(inv, plan); key != "" {
		rec.keyHash = guardHash(key) // a copied plan: match claims by key
	} else {
		h.guardLog(ctx, slog.LevelWarn, "release without a claim: nothing recorded", slog.String("regionId", region))
		return
	}
	var done, notDone []string
	for _, id := range guardDiskIDs(plan.Pairs) {
		ok, present := accepted[id]
		if !present || (rec.won != nil && !rec.won[id]) {
			continue
		}
		if ok {
			done = append(done, id)
		} else {
			notDone = append(notDone, id)
		}
	}
	log := []any{slog.String("regionId", region), slog.String("idempotencyKeyHash", rec.keyHash), slog.String("fcRequestId", inv.RequestID)}
	if len(done) > 0 {
		at := strconv.FormatInt(h.now().Unix(), 10)
		if err := writeDiskTags(ctx, ecs, region, done, map[string]string{guardTagKey: rec.keyHash, guardTagState: guardStateDone, guardTagAt: at}); err != nil {
			h.guardLog(ctx, slog.LevelError, "could not record resets: the claims stay pending until they go stale", append(log, slog.Any("diskIds", done), slog.String("error", err.Error()))...)
		} else {
			h.guardLog(ctx, slog.LevelInfo, "resets recorded", append(log, slog.Any("diskIds", done))...)
		}
	}
	if len(notDone) == 0 {
		return
	}
	// Only withdraw claims that are still ours: never clear another's.
	tags, err := readDiskTags(ctx, ecs, region, notDone)
	if err != nil {
		h.guardLog(ctx, slog.LevelWarn, "could not withdraw claims; they expire on their own", append(log, slog.Any("diskIds", notDone), slog.String("error", err.Error()))...)
		return
	}
	var mine []string
	for _, id := range notDone {
		g := parseDiskGuard(tags[id])
		if (rec.claim != "" && g.claim == rec.claim) || (rec.claim == "" && g.claimKey == rec.keyHash && g.state == guardStatePending) {
			mine = append(mine, id)
		}
	}
	if len(mine) == 0 {
		return
	}
	if err := writeDiskTags(ctx, ecs, region, mine, map[string]string{guardTagKey: rec.keyHash, guardTagState: guardStateFailed}); err != nil {
		h.guardLog(ctx, slog.LevelWarn, "could not withdraw claims; they expire on their own", append(log, slog.Any("diskIds", mine), slog.String("error", err.Error()))...)
		return
	}
	h.guardLog(ctx, slog.LevelInfo, "failed resets recorded; the key may retry", append(log, slog.Any("diskIds", mine))...)
}

// resolveUnknown decides, from ECS state and without resending anything,
// which disks of a reset call that got no answer (a *TransportError with
// Sent) were reset: a disk now ReIniting was (Success); any other gets
// OperationStatus Failed with ErrorCode OutcomeUnknown, telling the operator
// to check it. One OperationProgress per pair, in batch order.
func (h *Handler) resolveUnknown(ctx context.Context, ecs ECS, regionID string, batch []DiskPair) []OperationProgress {
	out := make([]OperationProgress, len(batch))
	if len(batch) == 0 {
		return out
	}
	disks, err := ecs.DescribeDisks(ctx, regionID, guardDiskIDs(batch))
	status := map[string]string{}
	for _, d := range disks {
		status[d.DiskId] = d.Status
	}
	for i, p := range batch {
		st, found := status[p.DiskId]
		switch {
		case err == nil && st == DiskStatusReIniting:
			out[i] = progressFor(p, OperationStatusSuccess, "", "")
			h.guardLog(ctx, slog.LevelInfo, "unanswered reset confirmed: the disk is ReIniting", slog.String("diskId", p.DiskId))
			continue
		case err != nil:
			out[i] = progressFor(p, StatusFailed, codeOutcomeUnknown, fmt.Sprintf(
				"the reset call got no answer after it was sent and DescribeDisks failed too (%s): whether disk %s was reset to %s is unknown; check the disk's status and events before retrying",
				FromECS("DescribeDisks", err).Message, p.DiskId, p.SnapshotId))
		case !found:
			out[i] = progressFor(p, StatusFailed, codeOutcomeUnknown, fmt.Sprintf(
				"the reset call got no answer after it was sent and DescribeDisks does not list disk %s: whether it was reset to %s is unknown; check the disk before retrying", p.DiskId, p.SnapshotId))
		default:
			out[i] = progressFor(p, StatusFailed, codeOutcomeUnknown, fmt.Sprintf(
				"the reset call got no answer after it was sent and disk %s is %s, not ReIniting: whether it was reset to %s is unknown (it may not have been, or the reset already finished); check the disk's status and events before retrying",
				p.DiskId, st, p.SnapshotId))
		}
		h.guardLog(ctx, slog.LevelWarn, "unanswered reset: outcome unknown", slog.String("diskId", p.DiskId), slog.String("status", st))
	}
	return out
}

// readDiskTags lists the tags of the disks ids, by disk, in calls of at most
// guardMaxIDs ids (the adapter follows NextToken).
func readDiskTags(ctx context.Context, ecs ECS, region string, ids []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for chunk := range slices.Chunk(ids, guardMaxIDs) {
		tags, err := ecs.ListTagResources(ctx, region, guardResourceType, chunk)
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			if out[t.ResourceId] == nil {
				out[t.ResourceId] = map[string]string{}
			}
			out[t.ResourceId][t.TagKey] = t.TagValue
		}
	}
	return out, nil
}

// writeDiskTags sets tags on the disks ids, in calls of at most guardMaxIDs.
func writeDiskTags(ctx context.Context, ecs ECS, region string, ids []string, tags map[string]string) error {
	for chunk := range slices.Chunk(ids, guardMaxIDs) {
		if err := ecs.TagResources(ctx, region, guardResourceType, chunk, tags); err != nil {
			return err
		}
	}
	return nil
}

// guardDiskIDs lists the disk ids of pairs once each, in order.
func guardDiskIDs(pairs []DiskPair) []string {
	ids := make([]string, 0, len(pairs))
	seen := make(map[string]bool, len(pairs))
	for _, p := range pairs {
		if !seen[p.DiskId] {
			seen[p.DiskId] = true
			ids = append(ids, p.DiskId)
		}
	}
	return ids
}

// pairsIn returns the pairs whose disk is in set, in order (nil set: none).
func pairsIn(pairs []DiskPair, set map[string]bool) []DiskPair {
	var out []DiskPair
	for _, p := range pairs {
		if set[p.DiskId] {
			out = append(out, p)
		}
	}
	return out
}

func setKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func roundDur(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

func (h *Handler) guardLog(ctx context.Context, level slog.Level, msg string, attrs ...any) {
	if h.Logger == nil {
		return
	}
	h.Logger.Log(ctx, level, "guards: "+msg, attrs...)
}
