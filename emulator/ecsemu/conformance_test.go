package ecsemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// raw sends a v1-signed call with p (RegionId cn-hangzhou unless p says "-")
// and returns the status, the error code and the decoded body.
func raw(t *testing.T, s *Server, p map[string]string) (int, string, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, signedURL(s, p), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("raw call: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	code, _ := m["Code"].(string)
	return resp.StatusCode, code, m
}

func TestRegionFoundFromResource(t *testing.T) {
	tests := []struct {
		name   string
		p      map[string]string
		status int
		code   string
	}{
		{"ResetDisk", map[string]string{"Action": "ResetDisk", "RegionId": "-", "DiskId": "d-bp1stoppedsys0000000", "SnapshotId": "s-bp1stoppedsys0000000"}, 200, ""},
		{"ResetDisk unknown disk", map[string]string{"Action": "ResetDisk", "RegionId": "-", "DiskId": "d-bp1nosuchdisk0000000", "SnapshotId": "s-bp1stoppedsys0000000"}, 404, CodeInvalidDiskIDNotFound},
		{"ResetDisk no DiskId", map[string]string{"Action": "ResetDisk", "RegionId": "-", "SnapshotId": "s-bp1stoppedsys0000000"}, 400, "MissingDiskId"},
		{"ResetDisk wrong region", map[string]string{"Action": "ResetDisk", "RegionId": "cn-shanghai", "DiskId": "d-bp1stoppedsys0000000", "SnapshotId": "s-bp1stoppedsys0000000"}, 404, CodeInvalidDiskIDNotFound},
		{"StopInstance", map[string]string{"Action": "StopInstance", "RegionId": "-", "InstanceId": "i-bp1running0000000000"}, 200, ""},
		{"StartInstance", map[string]string{"Action": "StartInstance", "RegionId": "-", "InstanceId": "i-bp1stopped0000000000"}, 200, ""},
		{"StartInstance unknown", map[string]string{"Action": "StartInstance", "RegionId": "-", "InstanceId": "i-bp1nosuchinstance000"}, 404, CodeInvalidInstanceIDNotFound},
		{"CreateSnapshot", map[string]string{"Action": "CreateSnapshot", "RegionId": "-", "DiskId": "d-bp1runningdata000000"}, 200, ""},
		{"ResetDisks needs RegionId", map[string]string{"Action": "ResetDisks", "RegionId": "-", "Disk.1.DiskId": "d-bp1stoppedsys0000000", "Disk.1.SnapshotId": "s-bp1stoppedsys0000000"}, 400, "MissingRegionId"},
		{"DescribeDisks needs RegionId", map[string]string{"Action": "DescribeDisks", "RegionId": "-"}, 400, "MissingRegionId"},
		{"TagResources own code", map[string]string{"Action": "TagResources", "RegionId": "-", "ResourceType": "disk", "ResourceId.1": "d-bp1untagged000000000", "Tag.1.Key": "k"}, 404, CodeMissingParameterRegionID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, fast())
			status, code, _ := raw(t, s, tt.p)
			if status != tt.status || code != tt.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
			if status == 200 {
				if got := s.Requests()[0].RegionID; got != hz {
					t.Errorf("got logged region %q, want %q found from the resource", got, hz)
				}
			}
		})
	}
}

func TestDescribeSnapshotGroupsShape(t *testing.T) {
	s := newTestServer(t, fast())
	if err := s.Mutate(func(f *Fixture) {
		f.SnapshotGroups[0].Tags = map[string]string{"env": "prod"}
		for i := range f.Snapshots {
			if f.Snapshots[i].SnapshotID == "s-bp1stoppedsys0000000" {
				f.Snapshots[i].Tags = map[string]string{"rollback": "allowed"}
			}
		}
	}); err != nil {
		t.Fatalf("Mutate: %v", err)
	}
	status, _, body := raw(t, s, map[string]string{"Action": "DescribeSnapshotGroups", "SnapshotGroupId.1": "ssg-bp1stopped0000000000"})
	if status != 200 {
		t.Fatalf("got %d %v", status, body)
	}
	g := body["SnapshotGroups"].(map[string]any)["SnapshotGroup"].([]any)[0].(map[string]any)
	gotGroupKeys := slices.Sorted(mapKeys(g))
	wantGroupKeys := []string{"CreationTime", "Description", "InstanceId", "Name", "ProgressStatus", "ResourceGroupId",
		"SnapshotGroupId", "Snapshots", "Status", "Tags"}
	if diff := cmp.Diff(wantGroupKeys, gotGroupKeys); diff != "" {
		t.Errorf("group keys (-want +got):\n%s", diff)
	}
	if got := g["Tags"]; !cmp.Equal(got, map[string]any{"Tag": []any{map[string]any{"Key": "env", "Value": "prod"}}}) {
		t.Errorf("got group tags %v, want Key/Value", got)
	}
	sn := g["Snapshots"].(map[string]any)["Snapshot"].([]any)[0].(map[string]any)
	gotKeys := slices.Sorted(mapKeys(sn))
	wantKeys := []string{"Available", "InstantAccess", "InstantAccessRetentionDays", "Progress", "SnapshotId",
		"SourceDiskId", "SourceDiskType", "Tags"}
	if diff := cmp.Diff(wantKeys, gotKeys); diff != "" {
		t.Errorf("snapshot keys (-want +got), no per-snapshot Status:\n%s", diff)
	}
	want := map[string]any{"SnapshotId": "s-bp1stoppedsys0000000", "SourceDiskId": "d-bp1stoppedsys0000000",
		"SourceDiskType": "system", "Progress": "100%", "Available": true, "InstantAccess": true,
		"InstantAccessRetentionDays": float64(1),
		"Tags":                       map[string]any{"Tag": []any{map[string]any{"Key": "rollback", "Value": "allowed"}}}}
	if diff := cmp.Diff(want, sn); diff != "" {
		t.Errorf("group snapshot (-want +got):\n%s", diff)
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func tagCallParams(n int, keyf func(i int) string) map[string]string {
	p := map[string]string{"Action": "TagResources", "ResourceType": "disk", "ResourceId.1": "d-bp1untagged000000000"}
	for i := 1; i <= n; i++ {
		p["Tag."+strconv.Itoa(i)+".Key"] = keyf(i)
		p["Tag."+strconv.Itoa(i)+".Value"] = "v"
	}
	return p
}

func TestTagLimits(t *testing.T) {
	key := func(i int) string { return fmt.Sprintf("k%d", i) }
	with := func(p map[string]string, kv ...string) map[string]string {
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	manyIDs := tagCallParams(1, key)
	for i := 1; i <= 51; i++ {
		manyIDs["ResourceId."+strconv.Itoa(i)] = "d-bp1untagged000000000"
	}
	tests := []struct {
		name     string
		existing int // tags already on d-bp1untagged000000000
		p        map[string]string
		status   int
		code     string
	}{
		{"20 tags", 0, tagCallParams(20, key), 200, ""},
		{"21 tags in a call", 0, tagCallParams(21, key), 400, CodeNumberExceedTags},
		{"51 resources", 0, manyIDs, 400, CodeNumberExceedResourceIDs},
		{"quota: 18 + 3 new", 18, tagCallParams(3, func(i int) string { return fmt.Sprintf("new%d", i) }), 400, CodeTagQuotaExceed},
		{"quota: 19 + 1 new", 19, tagCallParams(1, func(int) string { return "new" }), 200, ""},
		{"quota: 20 + overwrite", 20, tagCallParams(1, func(int) string { return "pre1" }), 200, ""},
		{"quota: 20 + 1 new", 20, tagCallParams(1, func(int) string { return "new" }), 400, CodeTagQuotaExceed},
		{"aliyun prefix", 0, tagCallParams(1, func(int) string { return "aliyun-x" }), 400, CodeInvalidTagKeyMalformed},
		{"acs: prefix", 0, tagCallParams(1, func(int) string { return "acs:owner" }), 400, CodeInvalidTagKeyMalformed},
		{"url in key", 0, tagCallParams(1, func(int) string { return "see http://x" }), 400, CodeInvalidTagKeyMalformed},
		{"long key", 0, tagCallParams(1, func(int) string { return strings.Repeat("k", 129) }), 400, CodeInvalidTagKeyMalformed},
		{"128-char key", 0, tagCallParams(1, func(int) string { return strings.Repeat("k", 128) }), 200, ""},
		{"empty key", 0, tagCallParams(1, func(int) string { return "" }), 400, CodeInvalidTagKeyMalformed},
		{"long value", 0, with(tagCallParams(1, key), "Tag.1.Value", strings.Repeat("v", 129)), 400, CodeInvalidTagValueMalformed},
		{"empty value", 0, with(tagCallParams(1, key), "Tag.1.Value", ""), 200, ""},
		{"duplicate key", 0, tagCallParams(2, func(int) string { return "same" }), 400, CodeDuplicateTagKey},
		{"no tags", 0, tagCallParams(0, key), 404, CodeMissingParameterTags},
		{"no type", 0, with(tagCallParams(1, key), "ResourceType", "-"), 404, CodeMissingParameterResourceType},
		{"no ids", 0, with(tagCallParams(1, key), "ResourceId.1", "-"), 400, "MissingResourceId"},
		{"list: neither ids nor tags", 0, map[string]string{"Action": "ListTagResources", "ResourceType": "disk"}, 404, CodeMissingParameterTags},
		{"list: by tag", 0, map[string]string{"Action": "ListTagResources", "ResourceType": "disk", "Tag.1.Key": "rollback"}, 200, ""},
		{"list: 21 tags", 0, with(tagCallParams(21, key), "Action", "ListTagResources", "ResourceId.1", "-"), 400, CodeNumberExceedTags},
		{"list: 51 ids", 0, with(manyIDs, "Action", "ListTagResources", "Tag.1.Key", "-", "Tag.1.Value", "-"), 400, CodeNumberExceedResourceIDs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := DefaultFixture()
			for i := range fx.Disks {
				if fx.Disks[i].DiskID == "d-bp1untagged000000000" && tt.existing > 0 {
					fx.Disks[i].Tags = map[string]string{}
					for j := 1; j <= tt.existing; j++ {
						fx.Disks[i].Tags[fmt.Sprintf("pre%d", j)] = "x"
					}
				}
			}
			o := fast()
			o.Fixture = fx
			s := newTestServer(t, o)
			status, code, _ := raw(t, s, tt.p)
			if status != tt.status || code != tt.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
			d, _ := s.Disk(hz, "d-bp1untagged000000000")
			if len(d.Tags) > maxTagsPerResource {
				t.Errorf("got %d tags on the disk, want at most %d", len(d.Tags), maxTagsPerResource)
			}
		})
	}
}

func TestCreateSnapshotRules(t *testing.T) {
	create := func(kv ...string) map[string]string {
		p := map[string]string{"Action": "CreateSnapshot", "DiskId": "d-bp1runningdata000000"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	tests := []struct {
		name   string
		p      map[string]string
		status int
		code   string
	}{
		{"plain", create(), 200, ""},
		{"name ok", create("SnapshotName", "rollback-backup_1.0:x"), 200, ""},
		{"name too short", create("SnapshotName", "r"), 400, CodeInvalidSnapshotNameMalformed},
		{"name too long", create("SnapshotName", "r"+strings.Repeat("x", 128)), 400, CodeInvalidSnapshotNameMalformed},
		{"name starts with digit", create("SnapshotName", "1backup"), 400, CodeInvalidSnapshotNameMalformed},
		{"name starts with auto", create("SnapshotName", "auto-backup"), 400, CodeInvalidSnapshotNameMalformed},
		{"name is a url", create("SnapshotName", "http://x"), 400, CodeInvalidSnapshotNameMalformed},
		{"name with space", create("SnapshotName", "my backup"), 400, CodeInvalidSnapshotNameMalformed},
		{"token too long", create("ClientToken", strings.Repeat("t", 65)), 400, CodeInvalidParameter},
		{"reserved tag", create("Tag.1.Key", "acs:x", "Tag.1.Value", "v"), 400, CodeInvalidTagKeyMalformed},
		{"local disk", create("DiskId", "d-bp1localdisk00000000"), 400, CodeDiskCategoryNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, fast())
			status, code, _ := raw(t, s, tt.p)
			if status != tt.status || code != tt.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
		})
	}
}

func TestCreateSnapshotClientToken(t *testing.T) {
	o := fast()
	o.SnapshotDuration = time.Hour // the first snapshot stays progressing
	s := newTestServer(t, o)
	p := map[string]string{"Action": "CreateSnapshot", "DiskId": "d-bp1runningdata000000", "ClientToken": "retry-1"}
	_, _, first := raw(t, s, p)
	_, _, again := raw(t, s, p)
	if first["SnapshotId"] == nil || first["SnapshotId"] != again["SnapshotId"] {
		t.Fatalf("got %v then %v, want one snapshot id for one ClientToken", first["SnapshotId"], again["SnapshotId"])
	}
	count := 0
	for _, sn := range s.State().Snapshots {
		if sn.SourceDiskID == "d-bp1runningdata000000" && sn.Status == SnapshotProgressing {
			count++
		}
	}
	if count != 1 {
		t.Errorf("got %d new snapshots, want 1", count)
	}
	// Another token while the first snapshot is still being created.
	status, code, _ := raw(t, s, map[string]string{"Action": "CreateSnapshot", "DiskId": "d-bp1runningdata000000", "ClientToken": "retry-2"})
	if status != 403 || code != CodeCreatingSnapshot {
		t.Errorf("got %d %q, want 403 %s", status, code, CodeCreatingSnapshot)
	}
	// The same token for another disk.
	status, code, _ = raw(t, s, map[string]string{"Action": "CreateSnapshot", "DiskId": "d-bp1untagged000000000", "ClientToken": "retry-1"})
	if status != 400 || code != CodeIdempotentParameterMismatch {
		t.Errorf("got %d %q, want 400 %s", status, code, CodeIdempotentParameterMismatch)
	}
}

func TestDocumentedStatusesAsFaults(t *testing.T) {
	tests := []struct {
		name   string
		rule   FaultRule
		status int
		code   string
	}{
		{"Forbidden.RAM", FaultRule{Action: "ResetDisks", Kind: FaultError, Code: CodeForbiddenRAM}, 403, CodeForbiddenRAM},
		{"Throttling", FaultRule{Action: "ResetDisks", Kind: FaultError, Code: CodeThrottling}, 403, CodeThrottling},
		{"InvalidApi.NotFound", FaultRule{Action: "ResetDisks", Kind: FaultError, Code: CodeInvalidAPINotFound}, 404, CodeInvalidAPINotFound},
		{"InternalError 500", FaultRule{Action: "ResetDisks", Kind: FaultInternal}, 500, CodeInternalError},
		{"InternalError as 400", FaultRule{Action: "ResetDisks", Kind: FaultError, Code: CodeInternalError, Status: 400}, 400, CodeInternalError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fast()
			o.Faults = []FaultRule{tt.rule}
			s := newTestServer(t, o)
			status, code, _ := raw(t, s, map[string]string{"Action": "ResetDisks",
				"Disk.1.DiskId": "d-bp1stoppedsys0000000", "Disk.1.SnapshotId": "s-bp1stoppedsys0000000"})
			if status != tt.status || code != tt.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
			if n := s.ResetCount("d-bp1stoppedsys0000000"); n != 0 {
				t.Errorf("got %d resets, want 0: an error fault does not act", n)
			}
		})
	}
}

func TestMaxResultsClamped(t *testing.T) {
	tests := []struct {
		name, action, max string
		status            int
		wantPage          int
	}{
		{"disks below 10", "DescribeDisks", "1", 200, 10},
		{"disks above 500", "DescribeDisks", "501", 200, 500},
		{"instances below 10", "DescribeInstances", "2", 200, 10},
		{"instances above 100", "DescribeInstances", "1000", 200, 100},
		{"snapshots above 100", "DescribeSnapshots", "101", 400, 0},
		{"groups above 100", "DescribeSnapshotGroups", "101", 400, 0},
		{"disks not a number", "DescribeDisks", "ten", 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, fast())
			status, _, body := raw(t, s, map[string]string{"Action": tt.action, "MaxResults": tt.max})
			if status != tt.status {
				t.Fatalf("got %d %v, want %d", status, body, tt.status)
			}
			if tt.wantPage > 0 {
				if got := int(body["PageSize"].(float64)); got != tt.wantPage {
					t.Errorf("got PageSize %d, want %d", got, tt.wantPage)
				}
			}
		})
	}
}

func TestTimestampOnlyDocumentedFormat(t *testing.T) {
	now := time.Now().UTC()
	tests := []struct {
		name, ts string
		status   int
		code     string
	}{
		{"documented", now.Format(timestampLayout), 200, ""},
		{"fraction", now.Format("2006-01-02T15:04:05.000Z"), 400, CodeInvalidTimeStampFormat},
		{"offset", now.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339), 400, CodeInvalidTimeStampFormat},
		{"no zone", now.Format("2006-01-02T15:04:05"), 400, CodeInvalidTimeStampFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, fast())
			status, code, _ := raw(t, s, map[string]string{"Action": "DescribeDisks", "Timestamp": tt.ts})
			if status != tt.status || code != tt.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
		})
	}
}
