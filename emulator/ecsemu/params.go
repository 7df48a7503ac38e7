package ecsemu

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

func boolParam(p map[string]string, name string) bool {
	return strings.EqualFold(p[name], "true")
}

// indexes returns the sorted N of every "prefix.N..." parameter.
func indexes(p map[string]string, prefix string) []int {
	seen := map[int]bool{}
	pre := prefix + "."
	for k := range p {
		rest, ok := strings.CutPrefix(k, pre)
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(num); err == nil && n > 0 {
			seen[n] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// repeated reads "prefix.N" values in N order.
func repeated(p map[string]string, prefix string) []string {
	var out []string
	for _, n := range indexes(p, prefix) {
		if v := p[prefix+"."+strconv.Itoa(n)]; v != "" {
			out = append(out, v)
		}
	}
	return out
}

type kv struct{ Key, Value string }

// tagParams reads Tag.N.Key / Tag.N.Value.
func tagParams(p map[string]string, prefix string) []kv {
	var out []kv
	for _, n := range indexes(p, prefix) {
		base := prefix + "." + strconv.Itoa(n) + "."
		out = append(out, kv{p[base+"Key"], p[base+"Value"]})
	}
	return out
}

// matchTags: every filter key must be present, with the value when one is given.
func matchTags(tags map[string]string, filters []kv) bool {
	for _, f := range filters {
		if f.Key == "" {
			continue
		}
		v, ok := tags[f.Key]
		if !ok || (f.Value != "" && v != f.Value) {
			return false
		}
	}
	return true
}

// jsonIDs parses a JSON array parameter such as DiskIds=["d-1","d-2"].
func jsonIDs(p map[string]string, name, code string) ([]string, bool, *apiError) {
	raw, ok := p[name]
	if !ok || raw == "" {
		return nil, false, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(raw), &ids); err != nil || len(ids) > 100 {
		return nil, true, newError(code)
	}
	return ids, true, nil
}

// page is the outcome of paging a listing.
type page struct {
	start, end int
	number     int
	size       int
	nextToken  string
	tokenMode  bool
}

// clampResults, when set, clamps MaxResults into [min, max] instead of
// refusing it, as DescribeDisks (10..500) and DescribeInstances (10..100)
// document: "a value less than 10 -> 10; greater than the maximum -> the
// maximum" (MaxResults in their request models, alibabacloud-go/ecs-20140526 v7).
type clampResults struct{ min, max int }

// paginate supports both PageNumber/PageSize and NextToken/MaxResults,
// like DescribeDisks/DescribeSnapshots/DescribeInstances.
func paginate(p map[string]string, total, defSize, maxSize, maxResults int, tokenOnly bool, clamp ...clampResults) (page, *apiError) {
	pg := page{number: 1, size: defSize}
	if tokenOnly || p["NextToken"] != "" || p["MaxResults"] != "" {
		pg.tokenMode = true
		if v := p["MaxResults"]; v != "" {
			n, err := strconv.Atoi(v)
			if err == nil && len(clamp) > 0 {
				n = min(max(n, clamp[0].min), clamp[0].max)
			}
			if err != nil || n < 1 || n > maxResults {
				return pg, invalidParam("MaxResults", "must be 1.."+strconv.Itoa(maxResults))
			}
			pg.size = n
		}
		if t := p["NextToken"]; t != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(t, "emu-"))
			if err != nil || n < 0 || !strings.HasPrefix(t, "emu-") {
				return pg, invalidParam("NextToken", "unknown token")
			}
			pg.start = n
		}
	} else {
		if v := p["PageNumber"]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return pg, invalidParam("PageNumber", "must be a positive integer")
			}
			pg.number = n
		}
		if v := p["PageSize"]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxSize {
				return pg, invalidParam("PageSize", "must be 1.."+strconv.Itoa(maxSize))
			}
			pg.size = n
		}
		pg.start = (pg.number - 1) * pg.size
	}
	pg.start = min(pg.start, total)
	pg.end = min(pg.start+pg.size, total)
	if pg.tokenMode && pg.end < total {
		pg.nextToken = "emu-" + strconv.Itoa(pg.end)
	}
	return pg, nil
}

func (pg page) fields(out map[string]any, total int) {
	out["TotalCount"] = total
	out["NextToken"] = pg.nextToken
	if !pg.tokenMode {
		out["PageNumber"] = pg.number
		out["PageSize"] = pg.size
	} else {
		out["PageSize"] = pg.size
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timestampLayout)
}

type tagOut struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

func tagsOut(tags map[string]string) map[string]any {
	list := make([]tagOut, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		list = append(list, tagOut{k, tags[k]})
	}
	return map[string]any{"Tag": list}
}

const idChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID makes an ID like the real ones: prefix plus 20 lowercase letters and digits.
func newID(prefix string) string {
	b := make([]byte, 20)
	copy(b, "emu")
	for i := 3; i < len(b); i++ {
		b[i] = idChars[rand.IntN(len(idChars))]
	}
	return prefix + string(b)
}
