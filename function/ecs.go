package function

import (
	"context"
	"time"
)

// ECS is the part of the ECS OpenAPI this function uses. The handler owns
// this interface; package ecsclient implements it with alibaba-cloud-sdk-go
// (the only place that imports the SDK) and tests use fakes. Every method
// takes the region explicitly because one request may name any region.
//
// Implementations must be safe for concurrent use: reset batches run
// several at a time.
//
// Errors returned are *APIError for an answer from ECS (carrying its code,
// HTTP status and request id) or *TransportError when no answer arrived;
// neither ever carries credentials.
type ECS interface {
	ResetDisks(ctx context.Context, in ResetDisksInput) (*ResetDisksOutput, error)
	ResetDisk(ctx context.Context, in ResetDiskInput) (requestID string, err error)
	DescribeDisks(ctx context.Context, regionID string, diskIDs []string) ([]Disk, error)
	DescribeInstances(ctx context.Context, regionID string, instanceIDs []string) ([]Instance, error)
	// DescribeInstancesByTag lists every instance of the region carrying the
	// tag key=value (DescribeInstances with Tag.1.Key/Value, all pages); the
	// fleet planning invocation resolves a selector with it.
	DescribeInstancesByTag(ctx context.Context, regionID, key, value string) ([]Instance, error)
	DescribeSnapshots(ctx context.Context, regionID string, snapshotIDs []string) ([]Snapshot, error)
	DescribeSnapshotGroups(ctx context.Context, in DescribeSnapshotGroupsInput) ([]SnapshotGroup, error)
	StopInstance(ctx context.Context, in StopInstanceInput) error
	StartInstance(ctx context.Context, regionID, instanceID string, dryRun bool) error
	CreateSnapshot(ctx context.Context, in CreateSnapshotInput) (snapshotID string, err error)
	TagResources(ctx context.Context, regionID, resourceType string, resourceIDs []string, tags map[string]string) error
	ListTagResources(ctx context.Context, regionID, resourceType string, resourceIDs []string) ([]ResourceTag, error)

	// The health gate and undo (health.go, undo.go; types in ecs_health.go).
	DescribeInstanceDisks(ctx context.Context, regionID, instanceID string) ([]Disk, error)
	DescribeInstancesFullStatus(ctx context.Context, regionID string, instanceIDs []string) ([]InstanceHealth, error)
	DescribeCloudAssistantStatus(ctx context.Context, regionID string, instanceIDs []string) ([]AgentStatus, error)
	InvokeCommand(ctx context.Context, in InvokeCommandInput) (invokeID string, err error)
	DescribeInvocationResults(ctx context.Context, regionID, invokeID string) ([]InvocationResult, error)
}

// Connector makes an ECS client for one invocation. The client is bound to
// ctx (its deadline and cancellation apply to every call) and to creds, so
// concurrent invocations never share mutable SDK state.
type Connector interface {
	Connect(ctx context.Context, creds Credentials) (ECS, error)
}

// ConnectorFunc adapts a function to Connector.
type ConnectorFunc func(ctx context.Context, creds Credentials) (ECS, error)

// Connect calls f.
func (f ConnectorFunc) Connect(ctx context.Context, creds Credentials) (ECS, error) {
	return f(ctx, creds)
}

// Credentials are an AccessKey pair with an optional STS token. String never
// prints the secret or the token.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Empty reports whether no key is set.
func (c Credentials) Empty() bool { return c.AccessKeyID == "" || c.AccessKeySecret == "" }

// String redacts everything but a short prefix of the key id.
func (c Credentials) String() string {
	id := c.AccessKeyID
	if len(id) > 4 {
		id = id[:4] + "****"
	}
	return "Credentials{AccessKeyID:" + id + "}"
}

// GoString keeps %#v from printing secrets too.
func (c Credentials) GoString() string { return c.String() }

// DiskPair is one disk and the snapshot to roll it back to, as the ECS
// ResetDisks API names them (Disk.N.DiskId, Disk.N.SnapshotId).
type DiskPair struct {
	DiskID     string `json:"DiskId" validate:"required,diskid"`
	SnapshotID string `json:"SnapshotId" validate:"required,snapshotid"`
}

// ResetDisksInput is one ResetDisks call: at most 10 pairs.
type ResetDisksInput struct {
	RegionID string
	DryRun   bool
	Disks    []DiskPair
}

// ResetDisksOutput is the ResetDisks answer, field for field.
type ResetDisksOutput struct {
	RequestID            string               `json:"RequestId"`
	OperationProgressSet OperationProgressSet `json:"OperationProgressSet"`
}

// OperationProgressSet is the per-disk result list of ResetDisks, with the
// API's JSON names so a result round-trips unchanged.
type OperationProgressSet struct {
	OperationProgress []OperationProgress `json:"OperationProgress"`
}

// OperationProgress is one disk's outcome: OperationStatus "Success", or an
// ErrorCode and ErrorMsg.
type OperationProgress struct {
	ErrorMsg        string         `json:"ErrorMsg"`
	ErrorCode       string         `json:"ErrorCode"`
	OperationStatus string         `json:"OperationStatus"`
	RelatedItemSet  RelatedItemSet `json:"RelatedItemSet"`
}

// RelatedItemSet names the resources an OperationProgress is about.
type RelatedItemSet struct {
	RelatedItem []RelatedItem `json:"RelatedItem"`
}

// RelatedItem is one Name/Value pair such as {"Name":"SnapshotId","Value":"s-…"}.
type RelatedItem struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// OperationStatusSuccess is the OperationStatus of a disk that was reset.
const OperationStatusSuccess = "Success"

// Item returns the value of the related item called name, or "".
func (p OperationProgress) Item(name string) string {
	for _, it := range p.RelatedItemSet.RelatedItem {
		if it.Name == name {
			return it.Value
		}
	}
	return ""
}

// ResetDiskInput is one ResetDisk call.
type ResetDiskInput struct {
	RegionID   string
	DiskID     string
	SnapshotID string
	DryRun     bool
}

// Disk is what DescribeDisks tells about a disk.
type Disk struct {
	DiskID      string
	RegionID    string
	InstanceID  string
	Status      string // In_use, Available, Attaching, Detaching, Creating, ReIniting
	Category    string
	Type        string // system or data
	MultiAttach string
	Tags        map[string]string
}

// Disk statuses from DescribeDisks.
const (
	DiskStatusInUse     = "In_use"
	DiskStatusAvailable = "Available"
	DiskStatusReIniting = "ReIniting"
)

// Instance is what DescribeInstances tells about an instance.
type Instance struct {
	InstanceID  string
	RegionID    string
	Status      string // Running, Stopped, Starting, Stopping, Pending
	LockReasons []string
	ExpiredTime string
	// Network is the instance's addresses and network placement (identity.go).
	Network Network
}

// Instance statuses from DescribeInstances.
const (
	InstanceStatusRunning  = "Running"
	InstanceStatusStopped  = "Stopped"
	InstanceStatusStarting = "Starting"
	InstanceStatusStopping = "Stopping"
)

// Snapshot is what DescribeSnapshots tells about a snapshot.
type Snapshot struct {
	SnapshotID   string
	SourceDiskID string
	Status       string // progressing, accomplished, failed
	Progress     string
	CreationTime time.Time
	Tags         map[string]string
}

// Snapshot and snapshot group statuses.
const (
	SnapshotStatusProgressing  = "progressing"
	SnapshotStatusAccomplished = "accomplished"
	SnapshotStatusFailed       = "failed"
)

// DescribeSnapshotGroupsInput filters instance snapshots (snapshot groups).
type DescribeSnapshotGroupsInput struct {
	RegionID         string
	InstanceID       string
	SnapshotGroupIDs []string
	Statuses         []string
}

// SnapshotGroup is an instance snapshot: one snapshot per disk taken together.
type SnapshotGroup struct {
	SnapshotGroupID string
	InstanceID      string
	Name            string
	Status          string
	CreationTime    time.Time
	Snapshots       []GroupSnapshot
}

// GroupSnapshot is one disk's snapshot inside a snapshot group.
type GroupSnapshot struct {
	SnapshotID     string
	SourceDiskID   string
	SourceDiskType string
	// There is no per-snapshot Status: DescribeSnapshotGroups tells a
	// snapshot's readiness by Available (the group has Status).
	Progress string
	// Available: the snapshot can be used to create or roll back a disk.
	Available bool
	// InstantAccess: the snapshot has instant access (ESSD default).
	InstantAccess bool
}

// StopInstanceInput is one StopInstance call.
type StopInstanceInput struct {
	RegionID    string
	InstanceID  string
	StoppedMode string // KeepCharging or StopCharging
	ForceStop   bool
	DryRun      bool
}

// StoppedModeKeepCharging keeps the instance's resources: after economical
// mode (StopCharging) an instance may fail to start again after a rollback.
const StoppedModeKeepCharging = "KeepCharging"

// CreateSnapshotInput is one CreateSnapshot call.
type CreateSnapshotInput struct {
	RegionID     string
	DiskID       string
	SnapshotName string
	Description  string
	Tags         map[string]string
	// ClientToken makes a resent CreateSnapshot the same request (same
	// snapshot ID, one snapshot): at most 64 ASCII characters. Empty: the
	// adapter makes one per call.
	ClientToken string
	// RetentionDays (1 to 65536) has ECS release the snapshot after that
	// many days; 0 keeps it until deleted.
	RetentionDays int
}

// ResourceTag is one tag of one resource, as ListTagResources lists them.
type ResourceTag struct {
	ResourceID   string
	ResourceType string
	TagKey       string
	TagValue     string
}
