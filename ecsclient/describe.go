package ecsclient

// The calls that only read: describes and tag listings, paged.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// chunks splits ids into slices of at most n, dropping duplicates.
func chunks(ids []string, n int) [][]string {
	seen := make(map[string]bool, len(ids))
	var out [][]string
	var cur []string
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		cur = append(cur, id)
		if len(cur) == n {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func jsonIDs(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// pages calls one page at a time until NextToken is empty; each page is
// retried on its own.
func pages(action string, next func(token string) (string, error)) error {
	token := ""
	seen := map[string]bool{}
	for i := 0; i < maxPages; i++ {
		nt, err := next(token)
		if err != nil {
			return err
		}
		if nt == "" {
			return nil
		}
		if seen[nt] {
			return &function.TransportError{Op: action, Sent: true, Message: "ECS repeated a NextToken; paging stopped"}
		}
		seen[nt] = true
		token = nt
	}
	return &function.TransportError{Op: action, Sent: true, Message: fmt.Sprintf("more than %d pages; paging stopped", maxPages)}
}

func tagMap(tags []ecs.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v := t.TagKey, t.TagValue
		if k == "" {
			k, v = t.Key, t.Value
		}
		if k != "" {
			m[k] = v
		}
	}
	return m
}

// timeLayouts are the forms ECS uses for CreationTime ("2017-12-10T04:04Z"
// in several APIs, with seconds in others).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// parseTime parses an ECS time; an empty or unreadable one gives zero.
func parseTime(s string) time.Time {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// DescribeDisks describes the given disks (DiskIds, a JSON array of at most
// 100, paged with NextToken). No IDs: no call, no disks (an empty filter
// would list every disk of the region). Missing disks are simply absent.
func (c *Client) DescribeDisks(ctx context.Context, regionID string, diskIDs []string) ([]function.Disk, error) {
	var out []function.Disk
	for _, ids := range chunks(diskIDs, maxIDsPerDescribe) {
		disks, err := c.describeDisks(ctx, regionID, func(r *ecs.DescribeDisksRequest) { r.DiskIds = jsonIDs(ids) })
		out = append(out, disks...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DescribeInstances describes the given instances (InstanceIds, at most
// 100 per call, paged). No IDs: no call.
func (c *Client) DescribeInstances(ctx context.Context, regionID string, instanceIDs []string) ([]function.Instance, error) {
	var out []function.Instance
	for _, ids := range chunks(instanceIDs, maxIDsPerDescribe) {
		err := pages("DescribeInstances", func(token string) (string, error) {
			resp, err := call(ctx, c, "DescribeInstances", regionID, read, func() (*ecs.DescribeInstancesRequest, *ecs.DescribeInstancesResponse) {
				r := ecs.CreateDescribeInstancesRequest()
				r.RegionId, r.InstanceIds, r.NextToken = regionID, jsonIDs(ids), token
				r.MaxResults = requests.NewInteger(pageSize)
				return r, ecs.CreateDescribeInstancesResponse()
			})
			if err != nil {
				return "", err
			}
			for _, in := range resp.Instances.Instance {
				var locks []string
				for _, l := range in.OperationLocks.LockReason {
					locks = append(locks, l.LockReason)
				}
				out = append(out, function.Instance{InstanceID: in.InstanceId, RegionID: in.RegionId, Status: in.Status,
					LockReasons: locks, ExpiredTime: in.ExpiredTime, Network: network(in)})
			}
			return resp.NextToken, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DescribeInstancesByTag lists the instances of the region carrying the tag
// key=value (DescribeInstances Tag.1.Key/Tag.1.Value, every page).
func (c *Client) DescribeInstancesByTag(ctx context.Context, regionID, key, value string) ([]function.Instance, error) {
	var out []function.Instance
	err := pages("DescribeInstances", func(token string) (string, error) {
		resp, err := call(ctx, c, "DescribeInstances", regionID, read, func() (*ecs.DescribeInstancesRequest, *ecs.DescribeInstancesResponse) {
			r := ecs.CreateDescribeInstancesRequest()
			r.RegionId, r.NextToken = regionID, token
			r.Tag = &[]ecs.DescribeInstancesTag{{Key: key, Value: value}}
			r.MaxResults = requests.NewInteger(pageSize)
			return r, ecs.CreateDescribeInstancesResponse()
		})
		if err != nil {
			return "", err
		}
		for _, in := range resp.Instances.Instance {
			out = append(out, function.Instance{InstanceID: in.InstanceId, RegionID: in.RegionId, Status: in.Status, ExpiredTime: in.ExpiredTime})
		}
		return resp.NextToken, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DescribeSnapshots describes the given snapshots (SnapshotIds, at most 100
// per call, paged). No IDs: no call.
func (c *Client) DescribeSnapshots(ctx context.Context, regionID string, snapshotIDs []string) ([]function.Snapshot, error) {
	var out []function.Snapshot
	for _, ids := range chunks(snapshotIDs, maxIDsPerDescribe) {
		err := pages("DescribeSnapshots", func(token string) (string, error) {
			resp, err := call(ctx, c, "DescribeSnapshots", regionID, read, func() (*ecs.DescribeSnapshotsRequest, *ecs.DescribeSnapshotsResponse) {
				r := ecs.CreateDescribeSnapshotsRequest()
				r.RegionId, r.SnapshotIds, r.NextToken = regionID, jsonIDs(ids), token
				r.MaxResults = requests.NewInteger(pageSize)
				return r, ecs.CreateDescribeSnapshotsResponse()
			})
			if err != nil {
				return "", err
			}
			for _, s := range resp.Snapshots.Snapshot {
				out = append(out, function.Snapshot{SnapshotID: s.SnapshotId, SourceDiskID: s.SourceDiskId, Status: s.Status,
					Progress: s.Progress, CreationTime: parseTime(s.CreationTime), Tags: tagMap(s.Tags.Tag)})
			}
			return resp.NextToken, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DescribeSnapshotGroups lists instance snapshots by InstanceId,
// SnapshotGroupId.N and Status.N, following NextToken.
func (c *Client) DescribeSnapshotGroups(ctx context.Context, in function.DescribeSnapshotGroupsInput) ([]function.SnapshotGroup, error) {
	var out []function.SnapshotGroup
	err := pages("DescribeSnapshotGroups", func(token string) (string, error) {
		resp, err := call(ctx, c, "DescribeSnapshotGroups", in.RegionID, read, func() (*ecs.DescribeSnapshotGroupsRequest, *ecs.DescribeSnapshotGroupsResponse) {
			r := ecs.CreateDescribeSnapshotGroupsRequest()
			r.RegionId, r.InstanceId, r.NextToken = in.RegionID, in.InstanceID, token
			r.MaxResults = requests.NewInteger(pageSize)
			if len(in.SnapshotGroupIDs) > 0 {
				ids := append([]string(nil), in.SnapshotGroupIDs...)
				r.SnapshotGroupId = &ids
			}
			if len(in.Statuses) > 0 {
				st := append([]string(nil), in.Statuses...)
				r.Status = &st
			}
			return r, ecs.CreateDescribeSnapshotGroupsResponse()
		})
		if err != nil {
			return "", err
		}
		for _, g := range resp.SnapshotGroups.SnapshotGroup {
			sg := function.SnapshotGroup{SnapshotGroupID: g.SnapshotGroupId, InstanceID: g.InstanceId, Name: g.Name,
				Status: g.Status, CreationTime: parseTime(g.CreationTime)}
			for _, s := range g.Snapshots.Snapshot {
				// DescribeSnapshotGroups sends no per-snapshot Status (response
				// model of alibabacloud-go/ecs-20140526 v7): readiness is
				// Available (and the group's Status).
				sg.Snapshots = append(sg.Snapshots, function.GroupSnapshot{SnapshotID: s.SnapshotId, SourceDiskID: s.SourceDiskId,
					SourceDiskType: s.SourceDiskType, Progress: s.Progress, Available: s.Available, InstantAccess: s.InstantAccess})
			}
			out = append(out, sg)
		}
		return resp.NextToken, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTagResources lists the tags of resources of one type, 50 resources
// per call, following NextToken. No IDs: no call.
func (c *Client) ListTagResources(ctx context.Context, regionID, resourceType string, resourceIDs []string) ([]function.ResourceTag, error) {
	var out []function.ResourceTag
	for _, ids := range chunks(resourceIDs, maxResourcesPerTag) {
		err := pages("ListTagResources", func(token string) (string, error) {
			resp, err := call(ctx, c, "ListTagResources", regionID, read, func() (*ecs.ListTagResourcesRequest, *ecs.ListTagResourcesResponse) {
				r := ecs.CreateListTagResourcesRequest()
				r.RegionId, r.ResourceType, r.NextToken = regionID, resourceType, token
				rid := append([]string(nil), ids...)
				r.ResourceId = &rid
				return r, ecs.CreateListTagResourcesResponse()
			})
			if err != nil {
				return "", err
			}
			for _, t := range resp.TagResources.TagResource {
				out = append(out, function.ResourceTag{ResourceID: t.ResourceId, ResourceType: t.ResourceType, TagKey: t.TagKey, TagValue: t.TagValue})
			}
			return resp.NextToken, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// describeDisks lists the disks a DescribeDisks filter (set by filter)
// selects, every page.
func (c *Client) describeDisks(ctx context.Context, regionID string, filter func(*ecs.DescribeDisksRequest)) ([]function.Disk, error) {
	var out []function.Disk
	err := pages("DescribeDisks", func(token string) (string, error) {
		resp, err := call(ctx, c, "DescribeDisks", regionID, read, func() (*ecs.DescribeDisksRequest, *ecs.DescribeDisksResponse) {
			r := ecs.CreateDescribeDisksRequest()
			r.RegionId, r.NextToken = regionID, token
			r.MaxResults = requests.NewInteger(pageSize)
			filter(r)
			return r, ecs.CreateDescribeDisksResponse()
		})
		if err != nil {
			return "", err
		}
		for _, d := range resp.Disks.Disk {
			out = append(out, function.Disk{DiskID: d.DiskId, RegionID: d.RegionId, InstanceID: d.InstanceId, Status: d.Status,
				Category: d.Category, Type: d.Type, MultiAttach: d.MultiAttach, Tags: tagMap(d.Tags.Tag)})
		}
		return resp.NextToken, nil
	})
	return out, err
}
