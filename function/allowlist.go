package function

import (
	"context"
	"log/slog"
	"strings"
)

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
	tags, err := readDiskTags(ctx, ecs, plan.RegionID, ids)
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
		h.guardLog(ctx, slog.LevelWarn, "disks refused by the allow-list", slog.String("regionId", plan.RegionID),
			slog.String("tag", key+"="+want), slog.Any("diskIds", refused))
		return Errorf(ErrDiskNotAllowed, "%d of %d disks lack the tag %s=%s that ALLOWED_DISK_TAG requires: %s; nothing was reset",
			len(refused), len(ids), key, want, strings.Join(refused, ", "))
	}
	h.guardLog(ctx, slog.LevelDebug, "disks allowed", slog.String("regionId", plan.RegionID), slog.Int("disks", len(ids)))
	return nil
}
