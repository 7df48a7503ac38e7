package ecsemu

import (
	"maps"
	"slices"
	"strings"
)

// tagsOf returns a pointer to a resource's tag map. Caller holds s.mu.
func (s *Server) tagsOf(resType, id, region string) (*map[string]string, bool) {
	switch resType {
	case "disk":
		if d := s.st.disks[id]; d != nil && d.RegionID == region {
			return &d.Tags, true
		}
	case "snapshot":
		if sn := s.st.snapshots[id]; sn != nil && sn.RegionID == region {
			return &sn.Tags, true
		}
	case "instance":
		if in := s.st.instances[id]; in != nil && in.RegionID == region {
			return &in.Tags, true
		}
	}
	return nil, false
}

// Tag limits of TagResources and ListTagResources (ECS API reference pages
// "TagResources" and "ListTagResources", request parameters and error
// tables; alibabacloud-go/ecs-20140526 v7 client/tag_resources_request_model.go).
const (
	maxTagResourceIDs  = 50  // ResourceId.N, N = 1..50 -> NumberExceed.ResourceIds (400)
	maxTagsPerCall     = 20  // Tag.N, N = 1..20 -> NumberExceed.Tags (400)
	maxTagsPerResource = 20  // tags bound to one resource -> OperationDenied.QuotaExceed (400)
	maxTagKeyLen       = 128 // -> InvalidTagKey.Malformed (400)
	maxTagValueLen     = 128 // -> InvalidTagValue.Malformed (400)
)

// validTagKey: not empty, at most 128 characters, not starting with aliyun
// or acs:, not containing http:// or https://.
func validTagKey(k string) bool {
	lk := strings.ToLower(k)
	return k != "" && len([]rune(k)) <= maxTagKeyLen &&
		!strings.HasPrefix(lk, "aliyun") && !strings.HasPrefix(lk, "acs:") &&
		!strings.Contains(lk, "http://") && !strings.Contains(lk, "https://")
}

// validTagValue: may be empty, at most 128 characters, no http:// or https://.
func validTagValue(v string) bool {
	lv := strings.ToLower(v)
	return len([]rune(v)) <= maxTagValueLen && !strings.Contains(lv, "http://") && !strings.Contains(lv, "https://")
}

// checkTags applies the per-call tag rules shared by TagResources and
// CreateSnapshot (whose error table lists the same codes).
func checkTags(tags []kv) *apiError {
	if len(tags) > maxTagsPerCall {
		return newError(CodeNumberExceedTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if !validTagKey(t.Key) {
			return newError(CodeInvalidTagKeyMalformed)
		}
		if !validTagValue(t.Value) {
			return newError(CodeInvalidTagValueMalformed)
		}
		if seen[t.Key] {
			return newError(CodeDuplicateTagKey)
		}
		seen[t.Key] = true
	}
	return nil
}

// tagCall reads RegionId and ResourceType of a tag action. The tag pages
// document their own codes for missing parameters: MissingParameter.RegionId
// and MissingParameter.ResourceType, both 404.
func tagCall(c *call) (string, *apiError) {
	if c.region == "" {
		return "", newError(CodeMissingParameterRegionID)
	}
	rt := strings.ToLower(c.p["ResourceType"])
	switch rt {
	case "":
		return "", newError(CodeMissingParameterResourceType)
	case "disk", "snapshot", "instance":
		return rt, nil
	}
	return "", newError(CodeInvalidResourceTypeNotFound)
}

func (s *Server) tagResources(c *call) (map[string]any, *apiError) {
	rt, err := tagCall(c)
	if err != nil {
		return nil, err
	}
	ids := repeated(c.p, "ResourceId")
	if len(ids) == 0 {
		return nil, missing("ResourceId")
	}
	if len(ids) > maxTagResourceIDs {
		return nil, newError(CodeNumberExceedResourceIDs)
	}
	tags := tagParams(c.p, "Tag")
	if len(tags) == 0 {
		return nil, newError(CodeMissingParameterTags)
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var targets []*map[string]string
	for _, id := range ids {
		m, ok := s.tagsOf(rt, id, c.region)
		if !ok {
			return nil, newError(CodeInvalidResourceIDNotFound)
		}
		// "Before you add tags to a resource, Alibaba Cloud checks the number
		// of existing tags of the resource" (TagResources, description): a
		// key already there is overwritten and does not count twice.
		n := len(*m)
		for _, t := range tags {
			if _, ok := (*m)[t.Key]; !ok {
				n++
			}
		}
		if n > maxTagsPerResource {
			return nil, newError(CodeTagQuotaExceed)
		}
		targets = append(targets, m)
	}
	for _, m := range targets {
		if *m == nil {
			*m = map[string]string{}
		}
		for _, t := range tags {
			(*m)[t.Key] = t.Value
		}
	}
	return map[string]any{}, nil
}

func (s *Server) listTagResources(c *call) (map[string]any, *apiError) {
	rt, err := tagCall(c)
	if err != nil {
		return nil, err
	}
	ids := repeated(c.p, "ResourceId")
	tagf := tagParams(c.p, "Tag")
	// Neither ResourceId.N nor Tag.N: the emulator answers the page's
	// MissingParameter.Tags (404); whether the real service lists every
	// tagged resource instead is unconfirmed.
	if len(ids) == 0 && len(tagf) == 0 {
		return nil, newError(CodeMissingParameterTags)
	}
	if len(ids) > maxTagResourceIDs {
		return nil, newError(CodeNumberExceedResourceIDs)
	}
	if len(tagf) > maxTagsPerCall {
		return nil, newError(CodeNumberExceedTags)
	}
	s.mu.Lock()
	var order []string
	switch rt {
	case "disk":
		order = s.st.diskOrder
	case "snapshot":
		order = s.st.snapOrder
	case "instance":
		order = s.st.instOrder
	}
	var list []map[string]any
	for _, id := range order {
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		m, ok := s.tagsOf(rt, id, c.region)
		if !ok || !matchTags(*m, tagf) {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(*m)) {
			list = append(list, map[string]any{"ResourceId": id, "ResourceType": rt, "TagKey": k, "TagValue": (*m)[k]})
		}
	}
	s.mu.Unlock()
	pg, err := paginate(c.p, len(list), 50, 50, 50, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"NextToken":    pg.nextToken,
		"TagResources": map[string]any{"TagResource": nonNil(list[pg.start:pg.end])},
	}, nil
}
