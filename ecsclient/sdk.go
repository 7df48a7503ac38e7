package ecsclient

// This is the only file in the project (outside the emulator) that imports
// alibaba-cloud-sdk-go. See doc.go for the traps it works around.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
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
	// checked validates cfg and parses its Endpoint override (nil if none)
	// once, on first use: both are fixed for the Connector's life, and were
	// redone on every invocation and call (bench/CHANGES.md, round 4).
	checked func() (*endpoint, error)
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
	return &Connector{cfg: cfg, transport: newSharedTransport(ct), quota: q, now: time.Now, checked: sync.OnceValues(cfg.checkOverride)}
}

// endpoint picks the endpoint for region: the override, parsed once, or
// the region's own (Config.resolveEndpoint).
func (c *Connector) endpoint(region string) (endpoint, error) {
	if o, err := c.checked(); err == nil && o != nil {
		return *o, nil
	}
	return c.cfg.resolveEndpoint(region)
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
	if _, err := c.checked(); err != nil {
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

	ep, err := c.conn.endpoint(region)
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
	return c.mapError(action, err, st, actx, req.GetStringToSign())
}

// errPanic is an SDK panic turned into an error. NewServerError panics on
// an error body whose Code (or RequestId, HostId, Message, Recommend) is
// not a JSON string; answers of 400 and above no longer reach it
// (errorAnswer), but any other panic in a call is contained the same way.
type errPanic struct{ v any }

func (e errPanic) Error() string { return fmt.Sprintf("SDK panic: %v", e.v) }

// sdkCall is one SDK call for a kept goroutine (runShallow). It holds
// the client's DoAction as a method value, not the *ecs.Client: a struct
// that goes into an interface makes the linker keep every exported method
// of the types its fields name, and *ecs.Client has one per ECS action
// (the binary grew from 12 to 27 MB, and each cold start by 1.7 ms).
type sdkCall struct {
	do   func(requests.AcsRequest, responses.AcsResponse) error
	req  requests.AcsRequest
	resp responses.AcsResponse
	done chan error
}

// run makes the call, containing a panic of the SDK's as an errPanic.
func (c *sdkCall) run() {
	var err error
	defer func() {
		if v := recover(); v != nil {
			err = errPanic{v}
		}
		c.done <- err
	}()
	err = c.do(c.req, c.resp)
}

// doActionShallow runs the SDK call on a shallow goroutine, kept between
// calls. Shallow: the SDK makes each request's SignatureNonce from the
// calling goroutine's id, which it reads by formatting that goroutine's
// whole stack (runtime.Stack), at about 1.3 µs a frame; from the depth of
// an FC handler that cost about 18 µs a call. Kept: an SDK call needs more
// stack than a new goroutine starts with, so a fresh goroutine per call
// copied its stack to grow it, on every call (bench/CHANGES.md, round 4).
func doActionShallow(cl *ecs.Client, req requests.AcsRequest, resp responses.AcsResponse) error {
	c := &sdkCall{do: cl.DoAction, req: req, resp: resp, done: make(chan error, 1)}
	runShallow(c)
	return <-c.done
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
func (c *Client) mapError(action string, err error, st *callState, actx context.Context, stringToSign string) error {
	var ans *errorAnswer
	var se *sdkerrors.ServerError
	switch {
	case errors.As(err, &ans):
		signatureRecommend(ans, stringToSign)
	case errors.As(err, &se):
		// An answer below 400 that is not a success: the SDK read it.
		ans = &errorAnswer{Status: se.HttpStatus(), Code: se.ErrorCode(), Message: se.Message(),
			RequestID: se.RequestId(), HostID: se.HostId(), Recommend: se.Recommend()}
	}
	if ans != nil {
		return c.apiError(ans)
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

// apiError is what ECS answered, as the function reports it: no message
// keeps a URL or a credential.
func (c *Client) apiError(ans *errorAnswer) *function.APIError {
	if ans.Unreadable != "" {
		return &function.APIError{Code: "InvalidResponse", HTTPStatus: ans.Status,
			Message: "ECS answered with an error body whose " + ans.Unreadable + " has the wrong type: " + truncate(c.redact(ans.Message))}
	}
	code := ans.Code
	if code == "" {
		// Not an ECS error body (e.g. a proxy's page): name it by status.
		code = "HTTP" + strconv.Itoa(ans.Status)
	}
	return &function.APIError{
		Code:       code,
		Message:    truncate(c.redact(ans.Message)),
		RequestID:  ans.RequestID,
		HostID:     ans.HostID,
		Recommend:  c.redact(ans.Recommend),
		HTTPStatus: ans.Status,
	}
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
