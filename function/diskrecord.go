package function

// The records the function keeps in ECS tags. A reset cannot be undone and
// alarms, EventBridge and FC retries may deliver the same request twice, so
// the record of "this key reset this disk" lives where every function
// instance sees it and a cold start does not lose it: on the disk itself.
// docs/idempotency.md describes the protocol and its remaining race window.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tag keys. Keys must not start with "aliyun" or "acs:"; values are at most
// 128 characters (ours are under 60).
const (
	tagPrefix = "ecs-disk-rollback:"
	// tagKey (disk, backup snapshot): hash of the idempotency key of the
	// last request that claimed the disk, or that took the backup.
	tagKey = tagPrefix + "key"
	// tagClaim (disk): "<key hash>:<nonce>:<claimed at>:<until>" of the last
	// claim, unix seconds; until is the claiming invocation's deadline.
	tagClaim = tagPrefix + "claim"
	// tagState (disk): pending (claimed, outcome not yet recorded), done
	// (reset accepted by ECS), failed (not reset; the key may try again) or
	// unknown (maybe reset; the key's retry resends).
	tagState = tagPrefix + "state"
	// tagAt (disk): unix seconds of the last reset that may have happened
	// (the cooldown's clock).
	tagAt = tagPrefix + "at"
	// tagBackupOf (backup snapshot): the disk it is a backup of.
	tagBackupOf = tagPrefix + "backup-of"
	// tagStoppedBy (instance): the key hash of the rollback that stopped
	// the instance and owes it a start; empty once it is running again or
	// was left stopped on purpose.
	tagStoppedBy = tagPrefix + "stopped-by"

	statePending = "pending"
	stateDone    = "done"
	stateFailed  = "failed"
	stateUnknown = "unknown"

	resourceDisk     = "disk"
	resourceInstance = "instance"
	// tagMaxIDs is the most ResourceId.N one TagResources or
	// ListTagResources call takes.
	tagMaxIDs = 50
	// tagsPerResource is the most tags ECS keeps on one resource.
	tagsPerResource = 20

	// codeOutcomeUnknown is the per-disk ErrorCode of a reset that may or
	// may not have happened.
	codeOutcomeUnknown = ErrOutcomeUnknown
)

// guardTagKeys are the tags the claim writes on every disk it touches.
var guardTagKeys = []string{tagKey, tagClaim, tagState, tagAt}

// guardHash is the form an idempotency key is stored in: 16 hex digits of
// its SHA-256 (tag values are limited, and keys may hold anything).
func guardHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func randomNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// guardKey is the idempotency key of a plan, namespaced by where it came
// from, so a caller cannot send the key a trigger derives for an event
// (eb:<event id>) and make that event a duplicate: the request's key, else
// FC's request id (an FC async retry keeps it), else none ("").
func guardKey(inv Invocation, plan *Plan) string {
	if plan.IdempotencyKey != "" {
		return firstNonEmpty(plan.keyOrigin, keyOriginCaller) + "/" + plan.IdempotencyKey
	}
	if inv.RequestID != "" {
		return "fc/" + inv.RequestID
	}
	return ""
}

// keyOriginCaller namespaces keys the caller chose (the request's
// IdempotencyKey or the HTTP Idempotency-Key header).
const keyOriginCaller = "caller"

// diskGuard is what the tags of one disk say.
type diskGuard struct {
	key, state, claim string
	claimKey          string    // the key hash inside claim
	claimAt           time.Time // zero when claim is absent or malformed
	until             time.Time // the claiming invocation's deadline; zero in old records
	at                time.Time // zero when never reset
}

func parseDiskGuard(tags map[string]string) diskGuard {
	g := diskGuard{key: tags[tagKey], state: tags[tagState], claim: tags[tagClaim]}
	parts := strings.Split(g.claim, ":")
	if len(parts) == 3 || len(parts) == 4 {
		if sec, err := strconv.ParseInt(parts[2], 10, 64); err == nil {
			g.claimKey, g.claimAt = parts[0], time.Unix(sec, 0)
		}
		if len(parts) == 4 {
			if sec, err := strconv.ParseInt(parts[3], 10, 64); err == nil {
				g.until = time.Unix(sec, 0)
			}
		}
	}
	g.at = unixTag(tags[tagAt])
	return g
}

func unixTag(v string) time.Time {
	if sec, err := strconv.ParseInt(v, 10, 64); err == nil && v != "" {
		return time.Unix(sec, 0)
	}
	return time.Time{}
}

// claimState says where a pending claim stands at now.
type claimState int

const (
	claimNone    claimState = iota // not pending
	claimLive                      // its invocation may still be running
	claimLost                      // its invocation is over and recorded nothing
	claimExpired                   // older than staleAfter: ignored
)

func (g diskGuard) pendingState(now time.Time, staleAfter time.Duration) claimState {
	switch {
	case g.state != statePending || g.claimAt.IsZero():
		return claimNone
	case now.Sub(g.claimAt) >= staleAfter:
		return claimExpired
	case g.until.IsZero() || now.Before(g.until):
		return claimLive
	}
	return claimLost
}

// readTags lists the tags of resources ids, by id, in calls of at most
// tagMaxIDs ids (the adapter follows NextToken).
func readTags(ctx context.Context, ecs ECS, region, resourceType string, ids []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for chunk := range slices.Chunk(ids, tagMaxIDs) {
		tags, err := ecs.ListTagResources(ctx, region, resourceType, chunk)
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			if out[t.ResourceID] == nil {
				out[t.ResourceID] = map[string]string{}
			}
			out[t.ResourceID][t.TagKey] = t.TagValue
		}
	}
	return out, nil
}

// writeTags sets tags on resources ids, in calls of at most tagMaxIDs.
func writeTags(ctx context.Context, ecs ECS, region, resourceType string, ids []string, tags map[string]string) error {
	for chunk := range slices.Chunk(ids, tagMaxIDs) {
		if err := ecs.TagResources(ctx, region, resourceType, chunk, tags); err != nil {
			return err
		}
	}
	return nil
}

func readDiskTags(ctx context.Context, ecs ECS, region string, ids []string) (map[string]map[string]string, error) {
	return readTags(ctx, ecs, region, resourceDisk, ids)
}

func writeDiskTags(ctx context.Context, ecs ECS, region string, ids []string, tags map[string]string) error {
	return writeTags(ctx, ecs, region, resourceDisk, ids, tags)
}

// tagRoom reports the disks that cannot take the guard tags they lack
// without passing ECS's tags-per-resource limit.
func tagRoom(ids []string, tags map[string]map[string]string) []string {
	var full []string
	for _, id := range ids {
		need := 0
		for _, k := range guardTagKeys {
			if _, ok := tags[id][k]; !ok {
				need++
			}
		}
		if have := len(tags[id]); have+need > tagsPerResource {
			full = append(full, id+" ("+strconv.Itoa(have)+" tags)")
		}
	}
	return full
}

// guardDiskIDs lists the disk ids of pairs once each, in order.
func guardDiskIDs(pairs []DiskPair) []string {
	ids := make([]string, 0, len(pairs))
	seen := make(map[string]bool, len(pairs))
	for _, p := range pairs {
		if !seen[p.DiskID] {
			seen[p.DiskID] = true
			ids = append(ids, p.DiskID)
		}
	}
	return ids
}

// pairsIn returns the pairs whose disk is in set, in order (nil set: none).
func pairsIn(pairs []DiskPair, set map[string]bool) []DiskPair {
	var out []DiskPair
	for _, p := range pairs {
		if set[p.DiskID] {
			out = append(out, p)
		}
	}
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
