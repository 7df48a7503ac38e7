package function

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeECS is an in-memory ECS for the rollback tests. Transitions advance
// by calls, not by time, so tests are exact with any clock: a reset disk
// stays ReIniting for resetPolls DescribeDisks calls that name it, a stopped
// instance stays Stopping for stopPolls DescribeInstances calls, a new
// snapshot stays progressing for snapPolls DescribeSnapshots calls (a
// negative count: forever). Every call is recorded, in order.
type fakeECS struct {
	mu        sync.Mutex
	disks     map[string]*Disk
	diskOrder []string
	instances map[string]*Instance
	snapshots map[string]*Snapshot
	groups    []SnapshotGroup
	tags      map[string]map[string]string

	resetPolls, stopPolls, startPolls, snapPolls int
	pending                                      map[string]int // resource → calls left in its transition
	resets                                       map[string][]string
	snapSeq                                      int
	reqSeq                                       int

	calls []fakeCall
	// hook, when set, runs first (without the lock) on every call; a non-nil
	// error is returned instead of serving the call.
	hook func(c fakeCall) error
	// dropAfter makes the named action apply, then answer with a
	// *TransportError{Sent: true} (the server acted, the client never heard).
	dropAfter map[string]bool
	// inFlight and maxInFlight count concurrent reset calls.
	inFlight, maxInFlight int
	// resetDelay, when set, is slept inside each reset call (by first disk).
	resetDelay func(firstDisk string) time.Duration
	// health scripts the gate's APIs (health_fake_test.go).
	health fakeHealth
}

var _ ECS = (*fakeECS)(nil)

// fakeCall is one recorded call.
type fakeCall struct {
	Op     string
	Target string // ids, comma separated
	DryRun bool
	Mode   string // StopInstance StoppedMode
	Name   string // CreateSnapshot name
	Tags   map[string]string
}

func (c fakeCall) String() string {
	s := c.Op + " " + c.Target
	if c.DryRun {
		s += " dry"
	}
	return s
}

const fakeRegion = "cn-hangzhou"

// newFakeECS makes a fake with one instance per entry of fleet: instance id
// → its status and disks; each disk d-X gets snapshot s-X.
func newFakeECS() *fakeECS {
	return &fakeECS{
		disks: map[string]*Disk{}, instances: map[string]*Instance{}, snapshots: map[string]*Snapshot{},
		tags: map[string]map[string]string{}, pending: map[string]int{}, resets: map[string][]string{},
		resetPolls: 1, stopPolls: 1, startPolls: 1, snapPolls: 1, dropAfter: map[string]bool{},
	}
}

// addInstance adds an instance with disks, each with an accomplished snapshot s-<disk suffix>.
func (f *fakeECS) addInstance(id, status string, disks ...string) *fakeECS {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != "" {
		f.instances[id] = &Instance{InstanceID: id, RegionID: fakeRegion, Status: status}
	}
	for _, d := range disks {
		st := DiskStatusInUse
		if id == "" {
			st = DiskStatusAvailable
		}
		f.disks[d] = &Disk{DiskID: d, RegionID: fakeRegion, InstanceID: id, Status: st, Category: "cloud_essd", Type: "data"}
		f.diskOrder = append(f.diskOrder, d)
		s := snapOf(d)
		f.snapshots[s] = &Snapshot{SnapshotID: s, SourceDiskID: d, Status: SnapshotStatusAccomplished, CreationTime: time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)}
	}
	return f
}

// addGroup adds an instance snapshot of instance over the snapshots of disks.
func (f *fakeECS) addGroup(id, instance, status string, created time.Time, disks ...string) *fakeECS {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := SnapshotGroup{SnapshotGroupID: id, InstanceID: instance, Status: status, CreationTime: created}
	for _, d := range disks {
		sid := "s-" + strings.TrimPrefix(id, "ssg-") + strings.TrimPrefix(d, "d-")
		f.snapshots[sid] = &Snapshot{SnapshotID: sid, SourceDiskID: d, Status: status, CreationTime: created}
		g.Snapshots = append(g.Snapshots, GroupSnapshot{SnapshotID: sid, SourceDiskID: d, SourceDiskType: "data", Available: status == SnapshotStatusAccomplished})
	}
	f.groups = append(f.groups, g)
	return f
}

func snapOf(disk string) string { return "s-" + strings.TrimPrefix(disk, "d-") }

// pairsOf pairs each disk with its snapshot s-<suffix>.
func pairsOf(disks ...string) []DiskPair {
	out := make([]DiskPair, len(disks))
	for i, d := range disks {
		out[i] = DiskPair{DiskID: d, SnapshotID: snapOf(d)}
	}
	return out
}

// record logs c and runs the hook.
func (f *fakeECS) record(c fakeCall) error {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		return hook(c)
	}
	return nil
}

// ops lists the recorded calls as "Op target [dry]", without the guards' tag calls.
func (f *fakeECS) ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if c.Op == "ListTagResources" || c.Op == "TagResources" {
			continue
		}
		out = append(out, c.String())
	}
	return out
}

// opNames lists the recorded calls' names, without the tag calls, with
// consecutive repeats collapsed ("DescribeDisks*" for a poll loop).
func (f *fakeECS) opNames() []string {
	var out []string
	for _, o := range f.ops() {
		name, _, _ := strings.Cut(o, " ")
		if strings.HasSuffix(o, " dry") {
			name += " dry"
		}
		switch n := len(out); {
		case n > 0 && (out[n-1] == name || out[n-1] == name+"*"):
			out[n-1] = name + "*"
		default:
			out = append(out, name)
		}
	}
	return out
}

// count is the number of real (not dry-run) calls of op: every real run
// makes the dry-run form of its mutating calls first (the preflight).
func (f *fakeECS) count(op string) int { return len(f.callsOf(op)) }

// callsOf lists the real (not dry-run) calls of op.
func (f *fakeECS) callsOf(op string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Op == op && !c.DryRun {
			out = append(out, c)
		}
	}
	return out
}

// lastCall is the last call of op, dry run or not, and whether there was one.
func (f *fakeECS) lastCall(op string) (fakeCall, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.calls) - 1; i >= 0; i-- {
		if f.calls[i].Op == op {
			return f.calls[i], true
		}
	}
	return fakeCall{}, false
}

// countDry is the number of dry-run calls of op.
func (f *fakeECS) countDry(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Op == op && c.DryRun {
			n++
		}
	}
	return n
}

// mutatingNonDry lists the calls that would have changed something: the
// non-dry mutating calls (the guards' tag writes included).
func (f *fakeECS) mutatingNonDry() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		switch c.Op {
		case "ResetDisks", "ResetDisk", "StopInstance", "StartInstance":
			if !c.DryRun {
				out = append(out, c.String())
			}
		case "CreateSnapshot", "TagResources":
			out = append(out, c.String())
		}
	}
	return out
}

func (f *fakeECS) nextRequestID() string {
	f.reqSeq++
	return fmt.Sprintf("REQ-%03d", f.reqSeq)
}

func dryRunOK(id string) error {
	return &APIError{Code: codeDryRunOperation, HTTPStatus: 400, RequestID: id, Message: "Request validation has been passed with DryRun flag set."}
}

func apiErr(code string, status int) *APIError {
	return &APIError{Code: code, HTTPStatus: status, RequestID: "ERR-" + code, Message: code + " (fake)"}
}

// checkReset applies ECS's per-disk checks; f.mu is held.
func (f *fakeECS) checkReset(p DiskPair) *APIError {
	d, ok := f.disks[p.DiskID]
	if !ok {
		return apiErr("InvalidDiskId.NotFound", 404)
	}
	s, ok := f.snapshots[p.SnapshotID]
	if !ok {
		return apiErr("InvalidSnapshotId.NotFound", 404)
	}
	if s.SourceDiskID != p.DiskID {
		return apiErr("InvalidParameter.Mismatch", 403)
	}
	if d.InstanceID != "" && f.instances[d.InstanceID].Status != InstanceStatusStopped {
		return apiErr(codeIncorrectInstanceStatus, 403)
	}
	if d.Status != DiskStatusInUse && d.Status != DiskStatusAvailable {
		return apiErr("IncorrectDiskStatus", 403)
	}
	for _, o := range f.snapshots {
		if o.SourceDiskID == p.DiskID && o.Status == SnapshotStatusProgressing && o.SnapshotID != p.SnapshotID && strings.HasPrefix(o.SnapshotID, "s-backup") {
			return apiErr("IncorrectDiskStatus.HasUnfinishedSnapshot", 403)
		}
	}
	if s.Status != SnapshotStatusAccomplished {
		return apiErr("InvalidSnapshotId.NotReady", 403)
	}
	return nil
}

// applyReset resets a disk; f.mu is held.
func (f *fakeECS) applyReset(p DiskPair) {
	f.disks[p.DiskID].Status = DiskStatusReIniting
	f.pending[p.DiskID] = f.resetPolls
	f.resets[p.DiskID] = append(f.resets[p.DiskID], p.SnapshotID)
}

func (f *fakeECS) enterReset(first string) {
	f.mu.Lock()
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	delay := f.resetDelay
	f.mu.Unlock()
	if delay != nil {
		time.Sleep(delay(first))
	}
}

func (f *fakeECS) leaveReset() {
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
}

func (f *fakeECS) ResetDisks(_ context.Context, in ResetDisksInput) (*ResetDisksOutput, error) {
	if err := f.record(fakeCall{Op: "ResetDisks", Target: joinDiskIDs(in.Disks), DryRun: in.DryRun}); err != nil {
		return nil, err
	}
	f.enterReset(in.Disks[0].DiskID)
	defer f.leaveReset()
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.DryRun {
		for _, p := range in.Disks {
			if e := f.checkReset(p); e != nil {
				return nil, e
			}
		}
		return nil, dryRunOK(f.nextRequestID())
	}
	out := &ResetDisksOutput{RequestID: f.nextRequestID()}
	var codes []string
	for _, p := range in.Disks {
		if e := f.checkReset(p); e != nil {
			out.OperationProgressSet.OperationProgress = append(out.OperationProgressSet.OperationProgress, progressFor(p, StatusFailed, e.Code, e.Message))
			codes = append(codes, e.Code)
			continue
		}
		f.applyReset(p)
		out.OperationProgressSet.OperationProgress = append(out.OperationProgressSet.OperationProgress, progressFor(p, OperationStatusSuccess, "", ""))
	}
	if len(codes) == len(in.Disks) && len(slices.Compact(slices.Clone(codes))) == 1 {
		return nil, apiErr(codes[0], 403) // every disk failed alike: the call fails
	}
	if f.dropAfter["ResetDisks"] {
		return nil, &TransportError{Op: "ResetDisks", Sent: true, Message: "connection reset by peer"}
	}
	return out, nil
}

func (f *fakeECS) ResetDisk(_ context.Context, in ResetDiskInput) (string, error) {
	if err := f.record(fakeCall{Op: "ResetDisk", Target: in.DiskID, DryRun: in.DryRun}); err != nil {
		return "", err
	}
	f.enterReset(in.DiskID)
	defer f.leaveReset()
	f.mu.Lock()
	defer f.mu.Unlock()
	p := DiskPair{DiskID: in.DiskID, SnapshotID: in.SnapshotID}
	if e := f.checkReset(p); e != nil {
		return "", e
	}
	if in.DryRun {
		return "", dryRunOK(f.nextRequestID())
	}
	f.applyReset(p)
	if f.dropAfter["ResetDisk"] {
		return "", &TransportError{Op: "ResetDisk", Sent: true, Message: "connection reset by peer"}
	}
	return f.nextRequestID(), nil
}

// advance moves a resource one poll further through its transition; f.mu is held.
func (f *fakeECS) advance(id string, finish func()) {
	n, ok := f.pending[id]
	if !ok || n < 0 {
		return
	}
	if n <= 1 {
		delete(f.pending, id)
		finish()
		return
	}
	f.pending[id] = n - 1
}

func (f *fakeECS) DescribeDisks(_ context.Context, regionID string, diskIDs []string) ([]Disk, error) {
	if err := f.record(fakeCall{Op: "DescribeDisks", Target: strings.Join(diskIDs, ",")}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Disk
	for _, id := range f.diskOrder {
		if !slices.Contains(diskIDs, id) {
			continue
		}
		d := f.disks[id]
		out = append(out, *d)
		if d.Status == DiskStatusReIniting {
			f.advance(id, func() {
				d.Status = DiskStatusInUse
				if d.InstanceID == "" {
					d.Status = DiskStatusAvailable
				}
			})
		}
	}
	return out, nil
}

func (f *fakeECS) DescribeInstances(_ context.Context, regionID string, ids []string) ([]Instance, error) {
	if err := f.record(fakeCall{Op: "DescribeInstances", Target: strings.Join(ids, ",")}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Instance
	for _, id := range ids {
		in, ok := f.instances[id]
		if !ok {
			continue
		}
		out = append(out, *in)
		switch in.Status {
		case InstanceStatusStopping:
			f.advance(id, func() { in.Status = InstanceStatusStopped })
		case InstanceStatusStarting:
			f.advance(id, func() { in.Status = InstanceStatusRunning })
		}
	}
	return out, nil
}

// DescribeInstancesByTag lists the instances whose tags (f.tags, by
// instance id) hold key=value, in id order.
func (f *fakeECS) DescribeInstancesByTag(_ context.Context, regionID, key, value string) ([]Instance, error) {
	if err := f.record(fakeCall{Op: "DescribeInstancesByTag", Target: key + "=" + value}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Instance
	for _, id := range slices.Sorted(maps.Keys(f.instances)) {
		if v, ok := f.tags[id][key]; ok && v == value && f.instances[id].RegionID == regionID {
			out = append(out, *f.instances[id])
		}
	}
	return out, nil
}

func (f *fakeECS) DescribeSnapshots(_ context.Context, regionID string, ids []string) ([]Snapshot, error) {
	if err := f.record(fakeCall{Op: "DescribeSnapshots", Target: strings.Join(ids, ",")}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Snapshot
	for _, id := range ids {
		s, ok := f.snapshots[id]
		if !ok {
			continue
		}
		out = append(out, *s)
		if s.Status == SnapshotStatusProgressing {
			f.advance(id, func() { s.Status = SnapshotStatusAccomplished })
		}
	}
	return out, nil
}

func (f *fakeECS) DescribeSnapshotGroups(_ context.Context, in DescribeSnapshotGroupsInput) ([]SnapshotGroup, error) {
	if err := f.record(fakeCall{Op: "DescribeSnapshotGroups", Target: firstNonEmpty(strings.Join(in.SnapshotGroupIDs, ","), in.InstanceID)}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []SnapshotGroup
	for _, g := range f.groups {
		if in.InstanceID != "" && g.InstanceID != in.InstanceID {
			continue
		}
		if len(in.SnapshotGroupIDs) > 0 && !slices.Contains(in.SnapshotGroupIDs, g.SnapshotGroupID) {
			continue
		}
		if len(in.Statuses) > 0 && !slices.Contains(in.Statuses, g.Status) {
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

func (f *fakeECS) StopInstance(_ context.Context, in StopInstanceInput) error {
	if err := f.record(fakeCall{Op: "StopInstance", Target: in.InstanceID, DryRun: in.DryRun, Mode: in.StoppedMode}); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	inst, ok := f.instances[in.InstanceID]
	switch {
	case !ok:
		return apiErr("InvalidInstanceId.NotFound", 404)
	case inst.Status != InstanceStatusRunning:
		return apiErr(codeIncorrectInstanceStatus, 403)
	case in.DryRun:
		return dryRunOK(f.nextRequestID())
	}
	inst.Status = InstanceStatusStopping
	f.pending[in.InstanceID] = f.stopPolls
	if f.dropAfter["StopInstance"] {
		return &TransportError{Op: "StopInstance", Sent: true, Message: "connection reset after the request was sent"}
	}
	return nil
}

func (f *fakeECS) StartInstance(_ context.Context, regionID, instanceID string, dryRun bool) error {
	if err := f.record(fakeCall{Op: "StartInstance", Target: instanceID, DryRun: dryRun}); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	inst, ok := f.instances[instanceID]
	switch {
	case !ok:
		return apiErr("InvalidInstanceId.NotFound", 404)
	case inst.Status != InstanceStatusStopped:
		return apiErr(codeIncorrectInstanceStatus, 403)
	case dryRun:
		return dryRunOK(f.nextRequestID())
	case f.health.noStock[instanceID] != 0:
		if f.health.noStock[instanceID] > 0 {
			f.health.noStock[instanceID]--
		}
		return apiErr("OperationDenied.NoStock", 403)
	}
	f.health.init()
	f.health.starts[instanceID]++
	for _, d := range f.disks {
		if d.InstanceID == instanceID && d.Status == DiskStatusReIniting {
			return apiErr("IncorrectInstanceStatus.DiskReIniting", 403) // the fake's own: a start too early
		}
	}
	inst.Status = InstanceStatusStarting
	f.pending[instanceID] = f.startPolls
	return nil
}

func (f *fakeECS) CreateSnapshot(_ context.Context, in CreateSnapshotInput) (string, error) {
	if err := f.record(fakeCall{Op: "CreateSnapshot", Target: in.DiskID, Name: in.SnapshotName, Tags: in.Tags}); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.disks[in.DiskID]; !ok {
		return "", apiErr("InvalidDiskId.NotFound", 404)
	}
	f.snapSeq++
	id := fmt.Sprintf("s-backup%04d", f.snapSeq)
	f.snapshots[id] = &Snapshot{SnapshotID: id, SourceDiskID: in.DiskID, Status: SnapshotStatusProgressing, Tags: in.Tags}
	f.pending[id] = f.snapPolls
	return id, nil
}

func (f *fakeECS) TagResources(_ context.Context, regionID, resourceType string, ids []string, tags map[string]string) error {
	if err := f.record(fakeCall{Op: "TagResources", Target: strings.Join(ids, ","), Tags: tags}); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if f.tags[id] == nil {
			f.tags[id] = map[string]string{}
		}
		for k, v := range tags {
			f.tags[id][k] = v
		}
	}
	return nil
}

func (f *fakeECS) ListTagResources(_ context.Context, regionID, resourceType string, ids []string) ([]ResourceTag, error) {
	if err := f.record(fakeCall{Op: "ListTagResources", Target: strings.Join(ids, ",")}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ResourceTag
	for _, id := range ids {
		for k, v := range f.tags[id] {
			out = append(out, ResourceTag{ResourceID: id, ResourceType: resourceType, TagKey: k, TagValue: v})
		}
	}
	return out, nil
}

func (f *fakeECS) instanceStatus(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.instances[id].Status
}

// fakeClock is the waiter's clock in tests: sleeping advances it at once.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) now() time.Time { return c.Now() }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	return nil
}

var _ Clock = (*fakeClock)(nil)

// rollbackCtx is a test context; the claim's settle delay is a millisecond
// of the fake clock (tests are sequential per fake, and fake deadlines stay
// meaningful).
func rollbackCtx(t *testing.T, _ *fakeClock) context.Context {
	t.Helper()
	return withGuardSettings(t.Context(), guardSettings{Settle: time.Millisecond})
}

// rollbackHandler is a handler whose one clock is clock.
func rollbackHandler(clock *fakeClock) *Handler {
	return &Handler{Config: Config{ResetMode: "auto"}, Clock: clock}
}

// runRollback runs req against f with a fresh fake clock.
func runRollback(t *testing.T, f *fakeECS, req *Request) (*Result, error) {
	t.Helper()
	clock := newFakeClock()
	return rollbackHandler(clock).Rollback(rollbackCtx(t, clock), f, Invocation{RequestID: "fc-req-1"}, req)
}

// addFleet adds n running instances i-fleetNNNN, each with two disks
// (d-fleetNNNNa, d-fleetNNNNb) tagged rollback=allowed, the instance
// tagged tag, and one accomplished instance snapshot ssg-fleetNNNN.
func (f *fakeECS) addFleet(n int, tag map[string]string) *fakeECS {
	for i := range n {
		id := fmt.Sprintf("i-fleet%04d", i)
		a, b := fmt.Sprintf("d-fleet%04da", i), fmt.Sprintf("d-fleet%04db", i)
		f.addInstance(id, InstanceStatusRunning, a, b)
		f.addGroup(fmt.Sprintf("ssg-fleet%04d", i), id, SnapshotStatusAccomplished, time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC), a, b)
		f.mu.Lock()
		f.tags[id] = maps.Clone(tag)
		f.tags[a] = map[string]string{"rollback": "allowed"}
		f.tags[b] = map[string]string{"rollback": "allowed"}
		f.mu.Unlock()
	}
	return f
}
