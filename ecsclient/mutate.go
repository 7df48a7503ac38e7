package ecsclient

// The calls that change something (or would: their dry-run forms).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

func boolean(b bool) requests.Boolean { return requests.NewBoolean(b) }

// ResetDisks rolls up to 10 disks back (Disk.N.DiskId / Disk.N.SnapshotId).
// It is not retried once sent: a repeated call repeats the rollback.
func (c *Client) ResetDisks(ctx context.Context, in function.ResetDisksInput) (*function.ResetDisksOutput, error) {
	resp, err := call(ctx, c, "ResetDisks", in.RegionID, kindOf(in.DryRun), func() (*ecs.ResetDisksRequest, *ecs.ResetDisksResponse) {
		r := ecs.CreateResetDisksRequest()
		r.RegionId = in.RegionID
		if in.DryRun {
			r.DryRun = boolean(true)
		}
		disks := make([]ecs.ResetDisksDisk, 0, len(in.Disks))
		for _, p := range in.Disks {
			disks = append(disks, ecs.ResetDisksDisk{DiskId: p.DiskID, SnapshotId: p.SnapshotID})
		}
		r.Disk = &disks
		return r, ecs.CreateResetDisksResponse()
	})
	if err != nil {
		return nil, err
	}
	out := &function.ResetDisksOutput{RequestID: resp.RequestId}
	for _, op := range resp.OperationProgressSet.OperationProgress {
		p := function.OperationProgress{ErrorMsg: op.ErrorMsg, ErrorCode: op.ErrorCode, OperationStatus: op.OperationStatus}
		for _, it := range op.RelatedItemSet.RelatedItem {
			p.RelatedItemSet.RelatedItem = append(p.RelatedItemSet.RelatedItem, function.RelatedItem{Name: it.Name, Value: it.Value})
		}
		out.OperationProgressSet.OperationProgress = append(out.OperationProgressSet.OperationProgress, p)
	}
	return out, nil
}

// ResetDisk rolls one disk back; it returns the RequestId.
func (c *Client) ResetDisk(ctx context.Context, in function.ResetDiskInput) (string, error) {
	resp, err := call(ctx, c, "ResetDisk", in.RegionID, kindOf(in.DryRun), func() (*ecs.ResetDiskRequest, *ecs.ResetDiskResponse) {
		r := ecs.CreateResetDiskRequest()
		r.RegionId, r.DiskId, r.SnapshotId = in.RegionID, in.DiskID, in.SnapshotID
		if in.DryRun {
			r.DryRun = boolean(true)
		}
		return r, ecs.CreateResetDiskResponse()
	})
	if err != nil {
		return "", err
	}
	return resp.RequestId, nil
}

// StopInstance stops an instance (StoppedMode, ForceStop, DryRun as given;
// an empty StoppedMode is left to ECS's default).
func (c *Client) StopInstance(ctx context.Context, in function.StopInstanceInput) error {
	_, err := call(ctx, c, "StopInstance", in.RegionID, kindOf(in.DryRun), func() (*ecs.StopInstanceRequest, *ecs.StopInstanceResponse) {
		r := ecs.CreateStopInstanceRequest()
		r.RegionId, r.InstanceId, r.StoppedMode = in.RegionID, in.InstanceID, in.StoppedMode
		r.ForceStop = boolean(in.ForceStop)
		if in.DryRun {
			r.DryRun = boolean(true)
		}
		return r, ecs.CreateStopInstanceResponse()
	})
	return err
}

// StartInstance starts an instance.
func (c *Client) StartInstance(ctx context.Context, regionID, instanceID string, dryRun bool) error {
	_, err := call(ctx, c, "StartInstance", regionID, kindOf(dryRun), func() (*ecs.StartInstanceRequest, *ecs.StartInstanceResponse) {
		r := ecs.CreateStartInstanceRequest()
		r.RegionId, r.InstanceId = regionID, instanceID
		if dryRun {
			r.DryRun = boolean(true)
		}
		return r, ecs.CreateStartInstanceResponse()
	})
	return err
}

// sortedTags returns the tag keys in order, so requests are deterministic.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// newClientToken returns a random idempotency token (CreateSnapshot takes
// one; it is the same for every attempt of one call).
func newClientToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "edr-" + hex.EncodeToString(b[:])
}

// CreateSnapshot snapshots a disk with the given tags and returns the new
// snapshot's ID. Every attempt of one call carries the same ClientToken
// (in.ClientToken, else a fresh one), so ECS treats a resent request as the
// same one.
func (c *Client) CreateSnapshot(ctx context.Context, in function.CreateSnapshotInput) (string, error) {
	token := in.ClientToken
	if token == "" {
		token = newClientToken()
	}
	resp, err := call(ctx, c, "CreateSnapshot", in.RegionID, mutating, func() (*ecs.CreateSnapshotRequest, *ecs.CreateSnapshotResponse) {
		r := ecs.CreateCreateSnapshotRequest()
		r.RegionId, r.DiskId, r.SnapshotName, r.Description, r.ClientToken = in.RegionID, in.DiskID, in.SnapshotName, in.Description, token
		if in.RetentionDays > 0 {
			r.RetentionDays = requests.NewInteger(in.RetentionDays)
		}
		if len(in.Tags) > 0 {
			tags := make([]ecs.CreateSnapshotTag, 0, len(in.Tags))
			for _, k := range sortedKeys(in.Tags) {
				tags = append(tags, ecs.CreateSnapshotTag{Key: k, Value: in.Tags[k]})
			}
			r.Tag = &tags
		}
		return r, ecs.CreateCreateSnapshotResponse()
	})
	if err != nil {
		return "", err
	}
	return resp.SnapshotId, nil
}

// TagResources adds tags to resources of one type ("disk", "snapshot",
// "instance", ...), 50 resources per call.
func (c *Client) TagResources(ctx context.Context, regionID, resourceType string, resourceIDs []string, tags map[string]string) error {
	keys := sortedKeys(tags)
	for _, ids := range chunks(resourceIDs, maxResourcesPerTag) {
		_, err := call(ctx, c, "TagResources", regionID, mutating, func() (*ecs.TagResourcesRequest, *ecs.TagResourcesResponse) {
			r := ecs.CreateTagResourcesRequest()
			r.RegionId, r.ResourceType = regionID, resourceType
			rid := append([]string(nil), ids...)
			r.ResourceId = &rid
			t := make([]ecs.TagResourcesTag, 0, len(keys))
			for _, k := range keys {
				t = append(t, ecs.TagResourcesTag{Key: k, Value: tags[k]})
			}
			r.Tag = &t
			return r, ecs.CreateTagResourcesResponse()
		})
		if err != nil {
			return err
		}
	}
	return nil
}
