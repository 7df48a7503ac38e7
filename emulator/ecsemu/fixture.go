package ecsemu

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

//go:embed default-fleet.json
var defaultFleetJSON []byte

// Fixture is the emulator's whole state and also its JSON fixture format
// (field names in lowerCamelCase). Tests can build one in Go, e.g. 30 disks in
// a loop, or load a file with LoadFixture.
type Fixture struct {
	// Regions lists known region IDs in addition to those of the resources.
	Regions        []string        `json:"regions,omitempty"`
	Instances      []Instance      `json:"instances,omitempty"`
	Disks          []Disk          `json:"disks,omitempty"`
	Snapshots      []Snapshot      `json:"snapshots,omitempty"`
	SnapshotGroups []SnapshotGroup `json:"snapshotGroups,omitempty"`
	// Commands are Cloud Assistant commands registered (CreateCommand).
	Commands []Command `json:"commands,omitempty"`
	// Modes, when set, replace the server's modes on load (NewServer,
	// LoadState, POST /_emulator/state). State() leaves it nil.
	Modes *Modes `json:"modes,omitempty"`
}

// Instance is an ECS instance.
type Instance struct {
	InstanceID   string `json:"instanceId"`
	RegionID     string `json:"regionId"`
	ZoneID       string `json:"zoneId,omitempty"`
	InstanceName string `json:"instanceName,omitempty"`
	InstanceType string `json:"instanceType,omitempty"`
	// Status is Running, Stopped, Stopping or Starting.
	Status string `json:"status"`
	// StoppedMode is KeepCharging or StopCharging once stopped.
	StoppedMode string `json:"stoppedMode,omitempty"`
	// LockReason "security" refuses disk resets with InstanceLockedForSecurity;
	// "financial" with InstanceExpiredOrInArrears.
	LockReason string `json:"lockReason,omitempty"`
	// Expired refuses disk resets with InstanceExpiredOrInArrears.
	Expired      bool              `json:"expired,omitempty"`
	CreationTime time.Time         `json:"creationTime,omitzero"`
	Tags         map[string]string `json:"tags,omitempty"`
	// Network identity (DescribeInstances VpcAttributes, PublicIpAddress,
	// EipAddress, SecurityGroupIds).
	VpcID            string   `json:"vpcId,omitempty"`
	VSwitchID        string   `json:"vSwitchId,omitempty"`
	PrivateIPs       []string `json:"privateIps,omitempty"`
	PublicIPs        []string `json:"publicIps,omitempty"`
	EipAddress       string   `json:"eipAddress,omitempty"`
	SecurityGroupIDs []string `json:"securityGroupIds,omitempty"`
	// Script scripts the health APIs' answers (actions_health.go).
	Script *InstanceScript `json:"script,omitempty"`
	// Starts counts the StartInstance calls applied; Invocations the
	// Cloud Assistant invocations run (the script's indexes).
	Starts      int `json:"starts,omitempty"`
	Invocations int `json:"invocations,omitempty"`
}

// Disk is a block storage device (cloud disk or local disk).
type Disk struct {
	DiskID   string `json:"diskId"`
	RegionID string `json:"regionId"`
	ZoneID   string `json:"zoneId,omitempty"`
	DiskName string `json:"diskName,omitempty"`
	// InstanceID is empty for a detached disk, which skips the instance checks.
	InstanceID string `json:"instanceId,omitempty"`
	// Category: cloud_essd, cloud_ssd, cloud_efficiency, cloud, cloud_auto,
	// or a local one (local_ssd_pro, local_hdd_pro, ephemeral_ssd) that cannot be reset.
	Category string `json:"category"`
	// Type is system or data.
	Type string `json:"type"`
	// Status is In_use, Available, Attaching, Detaching, Creating or ReIniting.
	Status       string            `json:"status"`
	Size         int               `json:"size,omitempty"`
	Device       string            `json:"device,omitempty"`
	MultiAttach  bool              `json:"multiAttach,omitempty"`
	CreationTime time.Time         `json:"creationTime,omitzero"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// Snapshot is a disk snapshot.
type Snapshot struct {
	SnapshotID   string `json:"snapshotId"`
	RegionID     string `json:"regionId"`
	SnapshotName string `json:"snapshotName,omitempty"`
	Description  string `json:"description,omitempty"`
	SourceDiskID string `json:"sourceDiskId"`
	// SourceDiskType is system or data.
	SourceDiskType string `json:"sourceDiskType,omitempty"`
	SourceDiskSize int    `json:"sourceDiskSize,omitempty"`
	// Status is progressing, accomplished or failed. A progressing snapshot in
	// a fixture stays progressing; one made by CreateSnapshot completes after
	// Options.SnapshotDuration.
	Status string `json:"status"`
	// Progress is the percentage shown while progressing (0..100).
	Progress     int               `json:"progress,omitempty"`
	CreationTime time.Time         `json:"creationTime"`
	Tags         map[string]string `json:"tags,omitempty"`
	// RetentionDays is CreateSnapshot's RetentionDays (0: kept until deleted).
	RetentionDays int `json:"retentionDays,omitempty"`
}

// SnapshotGroup is an instance snapshot (ssg-...) bundling disk snapshots.
type SnapshotGroup struct {
	SnapshotGroupID string            `json:"snapshotGroupId"`
	RegionID        string            `json:"regionId"`
	InstanceID      string            `json:"instanceId"`
	Name            string            `json:"name,omitempty"`
	Description     string            `json:"description,omitempty"`
	Status          string            `json:"status"`
	CreationTime    time.Time         `json:"creationTime"`
	SnapshotIDs     []string          `json:"snapshotIds"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// DefaultFixture returns a fresh copy of the embedded default fleet
// (docs/default-fleet.md).
func DefaultFixture() *Fixture {
	f, err := ParseFixture(defaultFleetJSON)
	if err != nil {
		panic("ecsemu: embedded default-fleet.json: " + err.Error())
	}
	return f
}

// LoadFixture reads a JSON fixture file.
func LoadFixture(path string) (*Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseFixture(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ParseFixture decodes and validates a JSON fixture.
func ParseFixture(b []byte) (*Fixture, error) {
	var f Fixture
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate reports duplicate or dangling IDs, which would make the emulator
// answer differently from any real account.
func (f *Fixture) Validate() error {
	seen := map[string]bool{}
	dup := func(id string) error {
		if id == "" {
			return fmt.Errorf("fixture: empty id")
		}
		if seen[id] {
			return fmt.Errorf("fixture: duplicate id %q", id)
		}
		seen[id] = true
		return nil
	}
	for _, x := range f.Instances {
		if err := dup(x.InstanceID); err != nil {
			return err
		}
		if x.RegionID == "" {
			return fmt.Errorf("fixture: instance %s has no regionId", x.InstanceID)
		}
		if err := x.Script.validate(); err != nil {
			return fmt.Errorf("fixture: instance %s: %w", x.InstanceID, err)
		}
	}
	for _, x := range f.Disks {
		if err := dup(x.DiskID); err != nil {
			return err
		}
		if x.RegionID == "" {
			return fmt.Errorf("fixture: disk %s has no regionId", x.DiskID)
		}
		if x.InstanceID != "" && !seen[x.InstanceID] {
			return fmt.Errorf("fixture: disk %s: unknown instance %s", x.DiskID, x.InstanceID)
		}
	}
	for _, x := range f.Snapshots {
		if err := dup(x.SnapshotID); err != nil {
			return err
		}
		if x.RegionID == "" {
			return fmt.Errorf("fixture: snapshot %s has no regionId", x.SnapshotID)
		}
	}
	for _, x := range f.Commands {
		if err := dup(x.CommandID); err != nil {
			return err
		}
	}
	if f.Modes != nil {
		if _, err := f.Modes.normalize(); err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
	}
	for _, x := range f.SnapshotGroups {
		if err := dup(x.SnapshotGroupID); err != nil {
			return err
		}
		for _, s := range x.SnapshotIDs {
			if !seen[s] {
				return fmt.Errorf("fixture: snapshot group %s: unknown snapshot %s", x.SnapshotGroupID, s)
			}
		}
	}
	return nil
}

// Clone returns a deep copy, so callers can mutate it freely.
func (f *Fixture) Clone() *Fixture {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	var c Fixture
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return &c
}
