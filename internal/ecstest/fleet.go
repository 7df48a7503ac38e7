package ecstest

import (
	"fmt"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
)

// PagingSize is how many of each resource Fleet adds for the paging
// checks: more than one page and one call's 100 IDs (50 for tags).
const PagingSize = 101

// DefaultIDs are the contract's IDs in the emulator's default fleet
// (docs/default-fleet.md, ecsemu.DefaultFixture), without Paging.
func DefaultIDs() IDs {
	return IDs{
		Region: "cn-hangzhou",
		Stopped: Instance{ID: "i-bp1stopped0000000000", Disks: []string{"d-bp1stoppedsys0000000", "d-bp1stoppeddata000000"},
			Snapshots: []string{"s-bp1stoppedsys0000000", "s-bp1stoppeddata000000"}},
		Running: Instance{ID: "i-bp1running0000000000", Disks: []string{"d-bp1runningsys0000000", "d-bp1runningdata000000"},
			Snapshots: []string{"s-bp1runningsys0000000", "s-bp1runningdata000000"}},
		MissingDisk:      "d-bp1doesnotexist00000",
		ForeignSnapshot:  "s-bp1runningsys0000000",
		InstanceSnapshot: "ssg-bp1stopped0000000000",
	}
}

// PagingFleet returns the default fleet plus PagingSize stopped instances
// in cn-hangzhou, each with a disk carrying two tags and a snapshot, the
// first with PagingSize snapshot groups; and DefaultIDs with Paging naming
// them. Load it into ecsemu or ecsfake.
func PagingFleet() (*ecsemu.Fixture, IDs) {
	fx := ecsemu.DefaultFixture()
	const region = "cn-hangzhou"
	p := &Paging{Groups: PagingSize}
	created := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	for i := range PagingSize {
		in, d, s := fmt.Sprintf("i-bp1page%013d", i), fmt.Sprintf("d-bp1page%012d", i), fmt.Sprintf("s-bp1page%012d", i)
		fx.Instances = append(fx.Instances, ecsemu.Instance{InstanceID: in, RegionID: region, Status: ecsemu.InstanceStopped})
		fx.Disks = append(fx.Disks, ecsemu.Disk{DiskID: d, RegionID: region, InstanceID: in, Category: "cloud_essd", Type: "system",
			Status: ecsemu.DiskInUse, Tags: map[string]string{"page": fmt.Sprint(i), "fleet": "paging"}})
		fx.Snapshots = append(fx.Snapshots, ecsemu.Snapshot{SnapshotID: s, RegionID: region, SourceDiskID: d, SourceDiskType: "system",
			Status: ecsemu.SnapshotAccomplished, CreationTime: created.Add(time.Duration(i) * time.Minute)})
		p.Instances, p.Disks, p.Snapshots = append(p.Instances, in), append(p.Disks, d), append(p.Snapshots, s)
	}
	p.GroupInstance = p.Instances[0]
	for i := range PagingSize {
		fx.SnapshotGroups = append(fx.SnapshotGroups, ecsemu.SnapshotGroup{SnapshotGroupID: fmt.Sprintf("ssg-bp1page%013d", i), RegionID: region,
			InstanceID: p.GroupInstance, Status: ecsemu.SnapshotAccomplished, CreationTime: created.Add(time.Duration(i) * time.Hour),
			SnapshotIDs: []string{p.Snapshots[0]}})
	}
	ids := DefaultIDs()
	ids.Paging = p
	return fx, ids
}
