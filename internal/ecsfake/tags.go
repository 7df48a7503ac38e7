package ecsfake

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// Tag limits (the emulator's, from the TagResources reference).
const (
	maxTagResourceIDs  = 50
	maxTagsPerCall     = 20
	maxTagsPerResource = 20
	maxTagLen          = 128
)

// checkTags applies the per-call tag rules.
func checkTags(tags map[string]string) string {
	if len(tags) > maxTagsPerCall {
		return ecsemu.CodeNumberExceedTags
	}
	for k, v := range tags {
		lk := strings.ToLower(k)
		if k == "" || len(k) > maxTagLen || strings.HasPrefix(lk, "aliyun") || strings.HasPrefix(lk, "acs:") || strings.Contains(lk, "://") {
			return ecsemu.CodeInvalidTagKeyMalformed
		}
		if len(v) > maxTagLen || strings.Contains(strings.ToLower(v), "://") {
			return ecsemu.CodeInvalidTagValueMalformed
		}
	}
	return ""
}

// tagsOf points at a resource's tags. Caller holds f.mu.
func (f *Fake) tagsOf(region, resourceType, id string, now time.Time) (*map[string]string, string) {
	switch resourceType {
	case "disk":
		if d := f.disk(region, id, now, false); d != nil {
			return &d.Tags, ""
		}
	case "snapshot":
		if s := f.snapshot(region, id, now, false); s != nil {
			return &s.Tags, ""
		}
	case "instance":
		if in := f.instance(region, id, now, false); in != nil {
			return &in.Tags, ""
		}
	default:
		return nil, ecsemu.CodeInvalidResourceTypeNotFound
	}
	return nil, ecsemu.CodeInvalidResourceIDNotFound
}

// TagResources adds or overwrites tags; a resource may hold 20 tags.
func (f *Fake) TagResources(_ context.Context, region, resourceType string, ids []string, tags map[string]string) error {
	return f.do(Call{Op: "TagResources", Region: region, IDs: slices.Clone(ids), Tags: maps.Clone(tags)}, func(now time.Time) error {
		switch {
		case len(ids) > maxTagResourceIDs:
			return f.apiErr(ecsemu.CodeNumberExceedResourceIDs)
		case len(tags) == 0:
			return f.apiErr(ecsemu.CodeMissingParameterTags)
		}
		if code := checkTags(tags); code != "" {
			return f.apiErr(code)
		}
		var targets []*map[string]string
		for _, id := range ids {
			m, code := f.tagsOf(region, resourceType, id, now)
			if code != "" {
				return f.apiErr(code)
			}
			n := len(*m)
			for k := range tags {
				if _, ok := (*m)[k]; !ok {
					n++
				}
			}
			if n > maxTagsPerResource {
				return f.apiErr(ecsemu.CodeTagQuotaExceed)
			}
			targets = append(targets, m)
		}
		for _, m := range targets {
			if *m == nil {
				*m = map[string]string{}
			}
			maps.Copy(*m, tags)
		}
		return nil
	})
}

// ListTagResources lists the tags of the named resources, keys sorted.
func (f *Fake) ListTagResources(_ context.Context, region, resourceType string, ids []string) ([]function.ResourceTag, error) {
	var out []function.ResourceTag
	err := f.do(Call{Op: "ListTagResources", Region: region, IDs: slices.Clone(ids)}, func(now time.Time) error {
		for _, id := range ids {
			m, code := f.tagsOf(region, resourceType, id, now)
			if code == ecsemu.CodeInvalidResourceTypeNotFound {
				return f.apiErr(code)
			}
			if m == nil {
				continue
			}
			for _, k := range slices.Sorted(maps.Keys(*m)) {
				out = append(out, function.ResourceTag{ResourceID: id, ResourceType: resourceType, TagKey: k, TagValue: (*m)[k]})
			}
		}
		return nil
	})
	return out, err
}
