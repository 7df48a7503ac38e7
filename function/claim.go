package function

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of guardSettings.
const (
	// defaultGuardSettle is how long claim waits between writing its claims
	// and reading them back. It is also the longest claim may take from its
	// first read to the end of its write: longer, and a concurrent claim can
	// no longer be ruled out (docs/idempotency.md), so nothing is reset.
	defaultGuardSettle = time.Second
	// defaultGuardStaleAfter: a pending claim older than this is ignored
	// (it must exceed the function timeout, 600 s).
	defaultGuardStaleAfter = 15 * time.Minute
)

// guardSettings are the knobs tests turn; production uses the defaults.
// They travel in the context so tests running in parallel never share them.
type guardSettings struct {
	Settle     time.Duration
	StaleAfter time.Duration
	Nonce      func() string
}

type guardSettingsKey struct{}

// withGuardSettings returns ctx carrying s; zero fields keep their defaults.
func withGuardSettings(ctx context.Context, s guardSettings) context.Context {
	return context.WithValue(ctx, guardSettingsKey{}, s)
}

func (h *Handler) guardSettings(ctx context.Context) guardSettings {
	s, _ := ctx.Value(guardSettingsKey{}).(guardSettings)
	if s.Settle <= 0 {
		s.Settle = h.Config.ClaimSettle
	}
	if s.Settle <= 0 {
		s.Settle = defaultGuardSettle
	}
	if s.StaleAfter <= 0 {
		s.StaleAfter = defaultGuardStaleAfter
	}
	if s.Nonce == nil {
		s.Nonce = randomNonce
	}
	return s
}

// claim is the disks one rollback holds, and the way to let them go: record
// writes each disk's outcome once the reset is over, abandon withdraws the
// claims of a rollback that reset nothing. Either touches only the disks
// whose claim is still this one's.
type claim struct {
	h       *Handler
	ecs     ECS
	region  string
	keyHash string
	value   string          // this claim's tagClaim value
	won     map[string]bool // disks claimed by this value

	toReset    []DiskPair // to reset now (won, or missing: ECS will refuse them)
	duplicates []DiskPair // already reset for this key
	busy       []DiskPair // being reset by a live invocation with this key
	log        []any
	// backupTagged: disks whose tags named a backup when claimed (undo.go).
	backupTagged map[string]bool
}

// claim applies the cooldown and idempotency before a reset. It refuses the
// whole request when a disk was reset less than Config.Cooldown ago
// (CooldownActive), is held by a live invocation with another key
// (RollbackInProgress), by one that ended without recording its outcome
// (GuardRecordLost), or when ECS was too slow to claim safely
// (ClaimTimedOut); then nothing is to be reset.
//
// Protocol (docs/idempotency.md): read the guard tags of all disks; decide
// per disk; write key/claim/state=pending on the candidates; wait the settle
// delay; read again and keep only the disks whose claim is still ours.
func (h *Handler) claim(ctx context.Context, ecs ECS, inv Invocation, plan *Plan, until time.Time) (*claim, error) {
	gs := h.guardSettings(ctx)
	clock := h.clock()
	c := &claim{h: h, ecs: ecs, region: plan.RegionID}
	ids := guardDiskIDs(plan.Pairs)
	if len(ids) == 0 {
		return c, nil
	}
	key := guardKey(inv, plan)
	nonce := gs.Nonce()
	if key == "" {
		key = "anon/" + nonce // no key at all: nothing can be a duplicate of this request
	}
	c.keyHash = guardHash(key)
	c.log = []any{slog.String("regionId", c.region), slog.String("idempotencyKeyHash", c.keyHash), slog.String("fcRequestId", inv.RequestID)}

	started := clock.Now() // the read-to-write gap must stay under the settle delay
	tags, err := readDiskTags(ctx, ecs, c.region, ids)
	if err != nil {
		return nil, FromECS("ListTagResources", err)
	}
	now := clock.Now()
	if until.IsZero() || until.Before(now) {
		until = now.Add(gs.StaleAfter)
	}
	c.value = fmt.Sprintf("%s:%s:%d:%d", c.keyHash, nonce, now.Unix(), until.Unix())
	c.backupTagged = map[string]bool{}
	for id, t := range tags {
		if t[tagBackup] != "" {
			c.backupTagged[id] = true
		}
	}

	var cands []string
	dup, busy := map[string]bool{}, map[string]bool{}
	var refusals refusalList
	for _, id := range ids {
		g := parseDiskGuard(tags[id])
		ps := g.pendingState(now, gs.StaleAfter)
		mine := g.key == c.keyHash || (ps != claimNone && g.claimKey == c.keyHash)
		switch {
		case mine && g.state == stateDone:
			dup[id] = true
		case mine && ps == claimLive:
			busy[id] = true
		case ps == claimLive:
			refusals.add(ErrRollbackInProgress, fmt.Sprintf("%s (claimed %s ago by an invocation that may run until %s)", id, roundDur(now.Sub(g.claimAt)), liveUntil(g, gs.StaleAfter)))
		case ps == claimLost && !mine:
			refusals.add(ErrGuardRecordLost, fmt.Sprintf("%s (claimed at %s; that invocation ended by %s without recording whether it reset the disk; refused to other keys until %s, or retry with that request's key)",
				id, g.claimAt.UTC().Format(time.RFC3339), g.until.UTC().Format(time.RFC3339), g.claimAt.Add(gs.StaleAfter).UTC().Format(time.RFC3339)))
		case h.Config.Cooldown > 0 && !g.at.IsZero() && !mine && now.Sub(g.at) < h.Config.Cooldown:
			refusals.add(ErrCooldownActive, fmt.Sprintf("%s (reset at %s, %s left)", id, g.at.UTC().Format(time.RFC3339), roundDur(h.Config.Cooldown-now.Sub(g.at))))
		default:
			cands = append(cands, id)
			if mine && (g.state == stateUnknown || ps == claimLost) {
				h.guardLog(ctx, slog.LevelWarn, "re-resolving a reset of unknown outcome for this key: it is sent again", append(c.log, slog.String("diskId", id))...)
			}
		}
	}
	if fe := refusals.err(h.Config.Cooldown); fe != nil {
		h.guardLog(ctx, slog.LevelWarn, "claim refused", append(c.log, slog.String("code", fe.Code), slog.String("reason", fe.Message))...)
		return nil, fe
	}
	if full := tagRoom(cands, tags); len(full) > 0 {
		return nil, Errorf(ErrPlanRefused, "these disks cannot take the %d guard tags (%s…) within ECS's %d tags per resource: %s; remove some tags; nothing was reset",
			len(guardTagKeys), tagPrefix, tagsPerResource, strings.Join(full, ", "))
	}
	c.duplicates, c.busy = pairsIn(plan.Pairs, dup), pairsIn(plan.Pairs, busy)
	if len(cands) == 0 {
		return c, nil
	}

	claimTags := map[string]string{tagKey: c.keyHash, tagClaim: c.value, tagState: statePending}
	err = writeDiskTags(ctx, ecs, c.region, cands, claimTags)
	var missing map[string]bool
	if isResourceNotFound(err) {
		// Some disks do not exist: claim the others and leave the missing
		// ones to the reset call, whose per-disk InvalidDiskId.NotFound is
		// the answer the operator needs (nothing can reset them anyway).
		var derr error
		if cands, missing, derr = splitExisting(ctx, ecs, c.region, cands); derr != nil {
			return nil, FromECS("DescribeDisks", derr)
		}
		if len(cands) > 0 {
			err = writeDiskTags(ctx, ecs, c.region, cands, claimTags)
		} else {
			err = nil
		}
	}
	if err != nil {
		c.withdraw(ctx, cands)
		return nil, FromECS("TagResources", err)
	}
	if gap := clock.Now().Sub(started); len(cands) > 0 && gap >= gs.Settle {
		// A concurrent claim may have read before our write and re-read
		// before it landed; it would now be resetting. Refuse (fail closed).
		h.guardLog(ctx, slog.LevelWarn, "claim too slow to be safe", append(c.log, slog.Duration("gap", gap), slog.Duration("settle", gs.Settle))...)
		c.withdraw(ctx, cands)
		return nil, Errorf(ErrClaimTimedOut, "claiming the disks took %s, not less than the %s settle delay (ECS slow or throttled), so a concurrent rollback of them cannot be ruled out; nothing was reset; try again", roundDur(gap), gs.Settle)
	}
	c.won = map[string]bool{}
	if len(cands) > 0 {
		if err := clock.Sleep(ctx, gs.Settle); err != nil {
			c.withdraw(ctx, cands)
			return nil, FromECS("claim", fmt.Errorf("%w: %v", errDeadline, err))
		}
		after, err := readDiskTags(ctx, ecs, c.region, cands)
		if err != nil {
			c.withdraw(ctx, cands)
			return nil, FromECS("ListTagResources", err)
		}
		var lost []string
		for _, id := range cands {
			g := parseDiskGuard(after[id])
			switch {
			case g.claim == c.value:
				c.won[id] = true
			case g.claimKey == c.keyHash:
				busy[id] = true // a concurrent delivery with this key won the claim
			default:
				lost = append(lost, id)
			}
		}
		if len(lost) > 0 {
			h.guardLog(ctx, slog.LevelWarn, "claim lost to another request", append(c.log, slog.Any("diskIds", lost))...)
			c.withdraw(ctx, cands)
			return nil, Errorf(ErrRollbackInProgress, "another request claimed these disks at the same time: %s; nothing was reset", strings.Join(lost, ", "))
		}
	}
	reset := map[string]bool{}
	for id := range c.won {
		reset[id] = true
	}
	for id := range missing {
		reset[id] = true // reset unclaimed: ECS will refuse it per disk
	}
	c.toReset, c.busy = pairsIn(plan.Pairs, reset), pairsIn(plan.Pairs, busy)
	h.guardLog(ctx, slog.LevelInfo, "disks claimed", append(c.log, slog.Int("toReset", len(c.toReset)), slog.Int("duplicates", len(c.duplicates)), slog.Int("busy", len(c.busy)))...)
	return c, nil
}

// liveUntil is when a live claim stops counting as live: its invocation's
// deadline, or (a claim written before deadlines were recorded) its
// expiry.
func liveUntil(g diskGuard, staleAfter time.Duration) string {
	if g.until.IsZero() {
		return g.claimAt.Add(staleAfter).UTC().Format(time.RFC3339)
	}
	return g.until.UTC().Format(time.RFC3339)
}

// refusalList gathers the reasons to refuse a claim, by code.
type refusalList struct {
	codes []string
	by    map[string][]string
}

func (l *refusalList) add(code, what string) {
	if l.by == nil {
		l.by = map[string][]string{}
	}
	if _, ok := l.by[code]; !ok {
		l.codes = append(l.codes, code)
	}
	l.by[code] = append(l.by[code], what)
}

// err is the refusal, coded by its most pressing reason (a live claim, a
// lost record, a cooldown); the message lists them all.
func (l *refusalList) err(cooldown time.Duration) *Error {
	if len(l.codes) == 0 {
		return nil
	}
	intro := map[string]string{
		ErrRollbackInProgress: "another request is rolling back these disks right now",
		ErrGuardRecordLost:    "an earlier rollback of these disks did not record its outcome",
		ErrCooldownActive:     fmt.Sprintf("ROLLBACK_COOLDOWN is %s and these disks were reset less than that ago", cooldown),
	}
	var parts []string
	code := ""
	for _, c := range []string{ErrRollbackInProgress, ErrGuardRecordLost, ErrCooldownActive} {
		if items, ok := l.by[c]; ok {
			code = firstNonEmpty(code, c)
			parts = append(parts, intro[c]+": "+strings.Join(items, ", "))
		}
	}
	return Errorf(code, "%s; nothing was reset", strings.Join(parts, "; "))
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
		found[d.DiskID] = true
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

// mine keeps the disks of ids whose claim is still this one.
func (c *claim) mine(ctx context.Context, ids []string) ([]string, error) {
	tags, err := readDiskTags(ctx, c.ecs, c.region, ids)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		if tags[id][tagClaim] == c.value {
			out = append(out, id)
		}
	}
	return out, nil
}

// withdraw marks this claim's still-standing claims failed (best effort),
// so a retry with the same key is not taken for an in-flight duplicate.
func (c *claim) withdraw(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	mine, err := c.mine(ctx, ids)
	if err == nil && len(mine) > 0 {
		err = writeDiskTags(ctx, c.ecs, c.region, mine, map[string]string{tagKey: c.keyHash, tagState: stateFailed})
	}
	if err != nil {
		c.h.guardLog(ctx, slog.LevelWarn, "could not withdraw claims; they expire on their own", append(c.log, slog.Any("diskIds", ids), slog.String("error", err.Error()))...)
	}
}

// recordAttempts is how often record tries to write an outcome: a lost
// record blocks other keys (GuardRecordLost) until it goes stale.
const recordAttempts = 3

// record writes each won disk's outcome: done (ECS accepted the reset),
// unknown (it may have happened: the key's retry resends) or failed (not
// reset: the key may try again). done and unknown also start the cooldown.
// It returns the error of the last attempt when the record could not be
// written; the claims then stay pending until their invocation's deadline,
// then read as a lost record.
func (c *claim) record(ctx context.Context, outcome map[string]string, at time.Time) error {
	byState := map[string][]string{}
	for _, id := range sortedKeys(c.won) {
		if st, ok := outcome[id]; ok {
			byState[st] = append(byState[st], id)
		}
	}
	var lastErr error
	for _, st := range []string{stateDone, stateUnknown, stateFailed} {
		ids := byState[st]
		if len(ids) == 0 {
			continue
		}
		tags := map[string]string{tagKey: c.keyHash, tagState: st}
		if st != stateFailed {
			tags[tagAt] = strconv.FormatInt(at.Unix(), 10)
		} else {
			mine, err := c.mine(ctx, ids)
			if err != nil {
				// Never mark another claim's disk failed: unsure, leave
				// the claims pending (they read as lost after until).
				lastErr = err
				continue
			}
			ids = mine
			if len(ids) == 0 {
				continue
			}
		}
		var err error
		for range recordAttempts {
			if err = writeDiskTags(ctx, c.ecs, c.region, ids, tags); err == nil || ctx.Err() != nil {
				break
			}
		}
		if err != nil {
			lastErr = err
			c.h.guardLog(ctx, slog.LevelError, "could not record outcomes: other keys get GuardRecordLost for these disks until the claims go stale",
				append(c.log, slog.String("state", st), slog.Any("diskIds", ids), slog.String("error", err.Error()))...)
			continue
		}
		c.h.guardLog(ctx, slog.LevelInfo, "outcomes recorded", append(c.log, slog.String("state", st), slog.Any("diskIds", ids))...)
	}
	return lastErr
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
