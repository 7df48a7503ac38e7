package ecsclient

// This is the only file in the project (outside the emulator) that imports
// alibaba-cloud-sdk-go. See doc.go for the traps it works around.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/retry"
)

var _ function.Connector = (*Connector)(nil)
var _ function.ECS = (*Client)(nil)

// Connector makes a Client per invocation. It is safe for concurrent use;
// make one per process so every invocation shares its connections.
type Connector struct {
	cfg       Config
	transport http.RoundTripper // shared; an *http.Transport unless a test swaps it
	quota     *retry.Quota
	now       func() time.Time
	// onRawError, set by tests only, sees every SDK error before mapping.
	onRawError func(error)
}

// endpointMapInitialised reports whether ecs.GetEndpointMap has run in
// this process (tests check that this package never triggers it).
func endpointMapInitialised() bool { return ecs.EndpointMap != nil }

// New returns a Connector. The config is validated by Connect.
func New(cfg Config) *Connector {
	ct := cfg.ConnectTimeout
	if ct <= 0 {
		ct = DefaultConnectTimeout
	}
	q := cfg.Retry.Quota
	if q == nil {
		q = retry.NewQuota(0)
	}
	return &Connector{cfg: cfg, transport: newSharedTransport(ct), quota: q, now: time.Now}
}

// Config returns the connector's configuration.
func (c *Connector) Config() Config { return c.cfg }

// CloseIdleConnections closes the shared transport's idle connections.
func (c *Connector) CloseIdleConnections() {
	if t, ok := c.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// Connect returns an ECS client bound to ctx (its deadline and cancellation
// apply to every call, together with each call's own ctx) and to creds. No
// network traffic happens here.
func (c *Connector) Connect(ctx context.Context, creds function.Credentials) (function.ECS, error) {
	if err := c.cfg.Validate(); err != nil {
		return nil, err
	}
	if creds.Empty() {
		return nil, errors.New("ecsclient: no credentials (AccessKeyID and AccessKeySecret are required)")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return &Client{conn: c, ctx: ctx, creds: creds}, nil
}

// Client implements function.ECS for one invocation. It is safe for
// concurrent use: every call attempt builds its own ecs.Client.
type Client struct {
	conn  *Connector
	ctx   context.Context
	creds function.Credentials
}

// Max IDs per call, from the API references.
const (
	maxIDsPerDescribe  = 100 // DiskIds, InstanceIds, SnapshotIds
	maxResourcesPerTag = 50  // TagResources/ListTagResources ResourceId.N
	pageSize           = 100
	maxPages           = 1000 // a guard against a server that never ends paging
)

// sdkClient builds a fresh ecs.Client for one attempt. &ecs.Client{} +
// InitWithOptions (not ecs.NewClientWith*) keeps ecs.GetEndpointMap() from
// running (upstream #523); the region is passed per request, so the SDK's
// client-side region check never rejects a call the server should judge.
func (c *Client) sdkClient(ep endpoint, rt http.RoundTripper, timeout time.Duration) (*ecs.Client, error) {
	cfg := sdk.NewConfig()
	cfg.AutoRetry = false
	cfg.MaxRetryTime = 0
	cfg.Scheme = strings.ToUpper(ep.Scheme)
	cfg.Transport = rt
	cfg.Timeout = timeout
	cfg.UserAgent = c.conn.cfg.UserAgent
	var cred auth.Credential
	if c.creds.SecurityToken != "" {
		cred = &credentials.StsTokenCredential{AccessKeyId: c.creds.AccessKeyID, AccessKeySecret: c.creds.AccessKeySecret, AccessKeyStsToken: c.creds.SecurityToken}
	} else {
		cred = &credentials.AccessKeyCredential{AccessKeyId: c.creds.AccessKeyID, AccessKeySecret: c.creds.AccessKeySecret}
	}
	cl := &ecs.Client{}
	if err := cl.InitWithOptions("", cfg, cred); err != nil {
		return nil, err
	}
	cl.Domain = ep.Host
	return cl, nil
}

// call runs one API action with retries. mk builds a fresh request and
// response for each attempt (a signed SDK request is not reused).
func call[Req requests.AcsRequest, Resp responses.AcsResponse](ctx context.Context, c *Client, action, region string, kind callKind, mk func() (Req, Resp)) (Resp, error) {
	var zero Resp
	ctx, cancel := mergeContext(ctx, c.ctx)
	defer cancel()

	ep, err := c.conn.cfg.resolveEndpoint(region)
	if err != nil {
		var br errBadRegion
		if errors.As(err, &br) {
			// What ECS answers for such a region; checked here because the
			// region goes into the host name. Nothing was sent.
			return zero, &function.APIError{Code: "InvalidRegionId.MalFormed", HTTPStatus: http.StatusBadRequest,
				Message: "The specified RegionId is malformed (checked locally, not sent): " + Redact(err.Error())}
		}
		return zero, &function.TransportError{Op: action, Message: Redact(err.Error())}
	}

	p := c.conn.cfg.Retry
	p.Retryable = classifier(kind)
	if p.Quota == nil {
		p.Quota = c.conn.quota
	}
	var out Resp
	err = retry.Do(ctx, p, func(ctx context.Context, attempt int) error {
		req, resp := mk()
		if err := c.attempt(ctx, action, ep, req, resp); err != nil {
			return err
		}
		out = resp
		return nil
	})
	if err == nil {
		return out, nil
	}
	return zero, finalError(action, err)
}

// finalError returns the last attempt's *APIError or *TransportError
// itself (callers match them with errors.As), noting the attempts made in
// a TransportError's message.
func finalError(action string, err error) error {
	var ae *function.APIError
	if errors.As(err, &ae) {
		return ae
	}
	var te *function.TransportError
	if errors.As(err, &te) {
		if n := retry.Attempts(err); n > 1 {
			cp := *te
			cp.Message = fmt.Sprintf("%s (after %d attempts)", te.Message, n)
			return &cp
		}
		return te
	}
	// ctx was done before the first attempt (retry.Do returned ctx.Err()).
	return &function.TransportError{Op: action, Sent: false, Timeout: errors.Is(err, context.DeadlineExceeded),
		Message: "not sent: " + Redact(err.Error())}
}

// attempt makes one HTTP exchange through a fresh ecs.Client.
func (c *Client) attempt(ctx context.Context, action string, ep endpoint, req requests.AcsRequest, resp responses.AcsResponse) error {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &callState{}
	rt := &boundTransport{base: c.conn.transport, ctx: actx, state: st}
	def := c.conn.cfg.ReadTimeout
	if def <= 0 {
		def = DefaultReadTimeout
	}
	timeout := readTimeout(actx, c.conn.now(), def)
	cl, err := c.sdkClient(ep, rt, timeout)
	if err != nil {
		return &function.TransportError{Op: action, Message: c.redact(err.Error())}
	}
	req.SetDomain(ep.Host)
	req.SetScheme(strings.ToUpper(ep.Scheme))
	req.SetReadTimeout(timeout)
	ct := c.conn.cfg.ConnectTimeout
	if ct <= 0 {
		ct = DefaultConnectTimeout
	}
	req.SetConnectTimeout(min(ct, timeout))
	err = doActionShallow(cl, req, resp)
	if err == nil {
		return nil
	}
	if c.conn.onRawError != nil {
		c.conn.onRawError(err)
	}
	return c.mapError(action, err, st, actx)
}

// errPanic is an SDK panic turned into an error: NewServerError panics on
// an error body whose Code (or RequestId, HostId, Message, Recommend) is
// not a JSON string.
type errPanic struct{ v any }

func (e errPanic) Error() string { return fmt.Sprintf("SDK panic: %v", e.v) }

func doAction(cl *ecs.Client, req requests.AcsRequest, resp responses.AcsResponse) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = errPanic{v}
		}
	}()
	return cl.DoAction(req, resp)
}

// doActionShallow runs the SDK call on a fresh goroutine. The SDK makes
// each request's SignatureNonce from the calling goroutine's id, which it
// reads by formatting that goroutine's stack (runtime.Stack): from the depth
// of an FC handler that costs about 18 µs a call; from a new goroutine it is
// a few hundred nanoseconds, more than the goroutine itself costs.
func doActionShallow(cl *ecs.Client, req requests.AcsRequest, resp responses.AcsResponse) error {
	done := make(chan error, 1)
	go func() { done <- doAction(cl, req, resp) }()
	return <-done
}

func (c *Client) redact(s string) string {
	return redactValues(s, c.creds.AccessKeyID, c.creds.AccessKeySecret, c.creds.SecurityToken)
}

// maxMessage bounds a message taken from a response body (a gateway may
// answer with an HTML page).
const maxMessage = 1024

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage] + "…"
}

// mapError turns an SDK error into *function.APIError (ECS answered) or
// *function.TransportError (no usable answer); no message keeps a URL or a
// credential.
func (c *Client) mapError(action string, err error, st *callState, actx context.Context) error {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		if code == "" {
			// Not an ECS error body (e.g. a proxy's page): name it by status.
			code = "HTTP" + strconv.Itoa(se.HttpStatus())
		}
		return &function.APIError{
			Code:       code,
			Message:    truncate(c.redact(se.Message())),
			RequestID:  se.RequestId(),
			HostID:     se.HostId(),
			Recommend:  c.redact(se.Recommend()),
			HTTPStatus: se.HttpStatus(),
		}
	}
	var pe errPanic
	if errors.As(err, &pe) && st.Status() != 0 {
		return &function.APIError{Code: "InvalidResponse", HTTPStatus: st.Status(),
			Message: "ECS answered with an error body the SDK could not read: " + truncate(c.redact(pe.Error()))}
	}
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.Is(actx.Err(), context.DeadlineExceeded)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		timeout = true
	}
	return &function.TransportError{Op: action, Sent: st.Sent(), Timeout: timeout, Message: c.redact(transportMessage(err))}
}

// transportMessage describes a transport failure without its URL.
func transportMessage(err error) string {
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		msg := ce.ErrorCode() + ": " + ce.Message()
		if oe := ce.OriginError(); oe != nil {
			msg += ": " + transportMessage(oe)
		}
		return msg
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		host := ""
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
		return fmt.Sprintf("%s %s: %v", ue.Op, host, ue.Err)
	}
	return err.Error()
}

// ---- the calls ----

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
			disks = append(disks, ecs.ResetDisksDisk{DiskId: p.DiskId, SnapshotId: p.SnapshotId})
		}
		r.Disk = &disks
		return r, ecs.CreateResetDisksResponse()
	})
	if err != nil {
		return nil, err
	}
	out := &function.ResetDisksOutput{RequestId: resp.RequestId}
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
		err := pages("DescribeDisks", func(token string) (string, error) {
			resp, err := call(ctx, c, "DescribeDisks", regionID, read, func() (*ecs.DescribeDisksRequest, *ecs.DescribeDisksResponse) {
				r := ecs.CreateDescribeDisksRequest()
				r.RegionId, r.DiskIds, r.NextToken = regionID, jsonIDs(ids), token
				r.MaxResults = requests.NewInteger(pageSize)
				return r, ecs.CreateDescribeDisksResponse()
			})
			if err != nil {
				return "", err
			}
			for _, d := range resp.Disks.Disk {
				out = append(out, function.Disk{DiskId: d.DiskId, RegionId: d.RegionId, InstanceId: d.InstanceId, Status: d.Status,
					Category: d.Category, Type: d.Type, MultiAttach: d.MultiAttach, Tags: tagMap(d.Tags.Tag)})
			}
			return resp.NextToken, nil
		})
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
				out = append(out, function.Instance{InstanceId: in.InstanceId, RegionId: in.RegionId, Status: in.Status,
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
				out = append(out, function.Snapshot{SnapshotId: s.SnapshotId, SourceDiskId: s.SourceDiskId, Status: s.Status,
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
			sg := function.SnapshotGroup{SnapshotGroupId: g.SnapshotGroupId, InstanceId: g.InstanceId, Name: g.Name,
				Status: g.Status, CreationTime: parseTime(g.CreationTime)}
			for _, s := range g.Snapshots.Snapshot {
				// DescribeSnapshotGroups sends no per-snapshot Status (response
				// model of alibabacloud-go/ecs-20140526 v7): readiness is
				// Available (and the group's Status).
				sg.Snapshots = append(sg.Snapshots, function.GroupSnapshot{SnapshotId: s.SnapshotId, SourceDiskId: s.SourceDiskId,
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
				out = append(out, function.ResourceTag{ResourceId: t.ResourceId, ResourceType: t.ResourceType, TagKey: t.TagKey, TagValue: t.TagValue})
			}
			return resp.NextToken, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
