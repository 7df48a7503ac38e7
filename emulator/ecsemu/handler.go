package ecsemu

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// LoggedRequest is one ECS call as the emulator saw it. Params never hold the
// Signature, AccessKeyId or SecurityToken, so logs are safe to print.
type LoggedRequest struct {
	Time       time.Time         `json:"time"`
	Method     string            `json:"method"`
	Action     string            `json:"action"`
	RegionID   string            `json:"regionId,omitempty"`
	Params     map[string]string `json:"params"`
	RequestID  string            `json:"requestId"`
	HTTPStatus int               `json:"httpStatus"` // 0 when the connection was dropped
	Code       string            `json:"code,omitempty"`
	Fault      FaultKind         `json:"fault,omitempty"`
	SignedWith string            `json:"signedWith,omitempty"` // "v1" or "acs3"
}

// secretParams are left out of the request log.
var secretParams = map[string]bool{"Signature": true, "AccessKeyId": true, "SecurityToken": true, "BearerToken": true}

var regionRE = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)

// call is one parsed ECS request.
type call struct {
	action string
	region string
	p      map[string]string
	now    time.Time
}

type actionFunc func(s *Server, c *call) (map[string]any, *apiError)

// region says where an action's region comes from.
type region int

const (
	// regionParam: the API has RegionId; absent gives MissingRegionId.
	regionParam region = iota
	// regionOwn: the API has RegionId and the action reports its absence
	// itself (the tag APIs document MissingParameter.RegionId, 404).
	regionOwn
	// regionFromDisk / regionFromInstance: the API has no RegionId (ResetDisk,
	// CreateSnapshot, StopInstance, StartInstance: see their request models in
	// alibabacloud-go/ecs-20140526 v7, which carry no RegionId and so send
	// none); the region is the one of the DiskId / InstanceId named, as the
	// service finds it. A RegionId sent anyway (the v1 SDK sends it) must match.
	regionFromDisk
	regionFromInstance
)

type action struct {
	fn     actionFunc
	region region
}

var actions map[string]action

func init() {
	actions = map[string]action{
		"ResetDisks":             {(*Server).resetDisks, regionParam},
		"ResetDisk":              {(*Server).resetDisk, regionFromDisk},
		"DescribeDisks":          {(*Server).describeDisks, regionParam},
		"DescribeSnapshots":      {(*Server).describeSnapshots, regionParam},
		"DescribeSnapshotGroups": {(*Server).describeSnapshotGroups, regionParam},
		"DescribeInstances":      {(*Server).describeInstances, regionParam},
		"StopInstance":           {(*Server).stopInstance, regionFromInstance},
		"StartInstance":          {(*Server).startInstance, regionFromInstance},
		"CreateSnapshot":         {(*Server).createSnapshot, regionFromDisk},
		"TagResources":           {(*Server).tagResources, regionOwn},
		"ListTagResources":       {(*Server).listTagResources, regionOwn},

		"DescribeInstancesFullStatus":  {(*Server).describeInstancesFullStatus, regionParam},
		"DescribeCloudAssistantStatus": {(*Server).describeCloudAssistantStatus, regionParam},
		"CreateCommand":                {(*Server).createCommand, regionParam},
		"InvokeCommand":                {(*Server).invokeCommand, regionParam},
		"DescribeInvocationResults":    {(*Server).describeInvocationResults, regionParam},
	}
}

// Actions lists the ECS actions the emulator serves.
func Actions() []string { return slices.Sorted(maps.Keys(actions)) }

// readParams merges the query and a form body, first value wins, as the
// gateway reads RPC parameters.
func readParams(r *http.Request) (map[string]string, map[string]string, []byte, error) {
	q := r.URL.Query()
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return nil, nil, nil, err
		}
	}
	qm := make(map[string]string, len(q))
	p := make(map[string]string, len(q)+8)
	for k, v := range q {
		p[k] = v[0]
		qm[k] = v[0]
	}
	if len(body) > 0 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f, err := url.ParseQuery(string(body))
		if err == nil {
			for k, v := range f {
				if _, ok := p[k]; !ok {
					p[k] = v[0]
				}
			}
		}
	}
	return p, qm, body, nil
}

func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	reqID := newRequestID()
	entry := LoggedRequest{Time: now, Method: r.Method, RequestID: reqID}
	var c *call
	finish := func(status int, code string) {
		entry.HTTPStatus, entry.Code = status, code
		if c != nil {
			entry.RegionID = c.region
		}
		s.record(entry)
	}

	p, query, body, err := readParams(r)
	if err != nil {
		s.writeError(w, reqID, "", newError(CodeInternalError))
		finish(http.StatusInternalServerError, CodeInternalError)
		return
	}
	entry.Params = make(map[string]string, len(p))
	for k, v := range p {
		if !secretParams[k] {
			entry.Params[k] = v
		}
	}
	c = &call{p: p, now: now}

	// Authenticate: V3 when an ACS3 Authorization header is present, else v1.
	var aerr *apiError
	if strings.HasPrefix(r.Header.Get("Authorization"), acs3Algorithm) {
		entry.SignedWith = "acs3"
		c.action = r.Header.Get("x-acs-action")
		aerr = s.verifyACS3(r, query, body)
		if aerr == nil && r.Header.Get("x-acs-version") != "" {
			p["Version"] = r.Header.Get("x-acs-version")
		}
	} else {
		entry.SignedWith = "v1"
		c.action = p["Action"]
		if r.URL.Path != "/" || c.action == "" {
			aerr = newError(CodeInvalidActionNotFound)
		} else {
			aerr = s.verifyV1(r, p)
		}
	}
	entry.Action = c.action
	c.region = p["RegionId"]
	if aerr == nil {
		aerr = checkCommon(p)
	}
	act, known := actions[c.action]
	if aerr == nil && !known {
		aerr = newError(CodeInvalidActionNotFound)
	}
	if aerr != nil {
		s.writeError(w, reqID, c.region, aerr)
		finish(aerr.Status, aerr.Code)
		return
	}

	d := s.decide(c.action)
	entry.Fault = d.kind
	if d.latency > 0 || d.kind == FaultLatency {
		if s.sleep(r.Context(), d.latency) != nil {
			finish(0, "")
			return
		}
	}
	switch d.kind {
	case FaultThrottle, FaultInternal, FaultUnavailable, FaultError:
		e := d.apiError()
		s.writeError(w, reqID, c.region, e)
		finish(e.Status, e.Code)
		return
	case FaultDropBefore:
		finish(0, "")
		drop(w)
		return
	}

	out, aerr := s.dispatch(act, c)
	if d.kind == FaultActThenError && aerr == nil {
		// The action was applied; the client hears an error anyway.
		aerr = d.apiError()
	}
	if d.kind == FaultDropAfter {
		code := ""
		if aerr != nil {
			code = aerr.Code
		}
		finish(0, code)
		drop(w)
		return
	}
	if aerr != nil {
		s.writeError(w, reqID, c.region, aerr)
		finish(aerr.Status, aerr.Code)
		return
	}
	if out == nil {
		out = map[string]any{}
	}
	out["RequestId"] = reqID
	writeJSON(w, http.StatusOK, out)
	finish(http.StatusOK, "")
}

// dispatch validates the region, or finds it from the resource for the APIs
// that have none, then runs the action.
func (s *Server) dispatch(a action, c *call) (map[string]any, *apiError) {
	if c.region == "" {
		switch a.region {
		case regionParam:
			return nil, missing("RegionId")
		case regionOwn:
			return a.fn(s, c)
		case regionFromDisk, regionFromInstance:
			// Unknown resource: the action answers its own NotFound (or
			// Missing<Param>) since no region matches "".
			c.region = s.resourceRegion(a.region, c.p)
			if c.region == "" {
				return a.fn(s, c)
			}
		}
	}
	if !regionRE.MatchString(c.region) {
		return nil, newError(CodeInvalidRegionIDMalFormed)
	}
	s.mu.Lock()
	known := s.st.regions[c.region]
	s.mu.Unlock()
	if !known {
		return nil, newError(CodeInvalidRegionIDNotFound)
	}
	return a.fn(s, c)
}

// resourceRegion is the region of the disk or instance a call names, or "".
func (s *Server) resourceRegion(r region, p map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r == regionFromDisk {
		if d := s.st.disks[p["DiskId"]]; d != nil {
			return d.RegionID
		}
		return ""
	}
	if in := s.st.instances[p["InstanceId"]]; in != nil {
		return in.RegionID
	}
	return ""
}

func checkCommon(p map[string]string) *apiError {
	if p["Version"] == "" {
		return missingCommon("Version")
	}
	if p["Version"] != APIVersion {
		return newError(CodeInvalidVersion)
	}
	return nil
}

// drop closes the client connection without a response.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// Not hijackable (HTTP/2, a recorder): abort the response instead.
	panic(http.ErrAbortHandler)
}

func (s *Server) record(e LoggedRequest) {
	s.opts.Logger.Info("ecs call", "action", e.Action, "region", e.RegionID, "status", e.HTTPStatus,
		"code", e.Code, "fault", string(e.Fault), "requestId", e.RequestID)
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if len(s.log) >= s.opts.MaxLoggedRequests {
		n := copy(s.log, s.log[len(s.log)/2:])
		s.log = s.log[:n]
	}
	s.log = append(s.log, e)
}

// Requests returns the logged calls, oldest first.
func (s *Server) Requests() []LoggedRequest {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := make([]LoggedRequest, len(s.log))
	copy(out, s.log)
	return out
}

// ClearRequests empties the request log.
func (s *Server) ClearRequests() {
	s.logMu.Lock()
	s.log = nil
	s.logMu.Unlock()
}

// errorBody is exactly the real error body: all strings, so the SDK's
// ServerError fills every field.
type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

func hostID(region string) string {
	if region == "" || !regionRE.MatchString(region) {
		return "ecs.aliyuncs.com"
	}
	return "ecs." + region + ".aliyuncs.com"
}

func (s *Server) writeError(w http.ResponseWriter, reqID, region string, e *apiError) {
	writeJSON(w, e.Status, errorBody{
		RequestID: reqID,
		HostID:    hostID(region),
		Code:      e.Code,
		Message:   e.Message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(e.Code) + "&product=Ecs&requestId=" + reqID,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the real service writes "&" in Recommend URLs as is
	var b []byte
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"Code":"InternalError","Message":"encoding failed"}`)
	} else {
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
