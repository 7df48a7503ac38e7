package ecsemu

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// endpointMapOnce initialises ecs.GetEndpointMap before any client exists:
// its lazy initialisation is a data race when clients are made concurrently
// (upstream issue #523).
var endpointMapOnce sync.Once

// sharedTransport wraps the server's *http.Transport. The SDK rewrites a
// client's *http.Transport on every call (upstream issue #538) and would
// apply HTTP_PROXY to it; a wrapper type is left alone, so clients in many
// goroutines can share one connection pool race-free and never use a proxy.
type sharedTransport struct{ t *http.Transport }

func (st sharedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return st.t.RoundTrip(r)
}

func (s *Server) roundTripper() http.RoundTripper {
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	if s.transport == nil {
		s.transport = &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     30 * time.Second,
		}
	}
	return sharedTransport{s.transport}
}

// NewClient returns a real *ecs.Client for regionID that signs with the
// server's credentials and talks plain HTTP to it. Use one client per
// goroutine: a single ecs.Client is not safe for concurrent use.
func (s *Server) NewClient(regionID string) (*ecs.Client, error) {
	return s.NewClientWithCredentials(regionID, s.opts.AccessKeyID, s.opts.AccessKeySecret, s.opts.SecurityToken)
}

// NewClientWithCredentials is NewClient with explicit credentials, to test
// what a wrong key, secret or token does. An empty token makes an
// AccessKey client, a non-empty one an STS client.
func (s *Server) NewClientWithCredentials(regionID, accessKeyID, accessKeySecret, securityToken string) (*ecs.Client, error) {
	endpointMapOnce.Do(func() { ecs.GetEndpointMap() })
	cfg := sdk.NewConfig().WithScheme("HTTP").WithTimeout(30 * time.Second)
	cfg.Transport = s.roundTripper()
	var cred interface{}
	if securityToken == "" {
		cred = credentials.NewAccessKeyCredential(accessKeyID, accessKeySecret)
	} else {
		cred = credentials.NewStsTokenCredential(accessKeyID, accessKeySecret, securityToken)
	}
	c, err := ecs.NewClientWithOptions(regionID, cfg, cred)
	if err != nil {
		return nil, err
	}
	// client.Domain outranks the endpoint map and the regional endpoint
	// rules, so every region goes to this server.
	c.Domain = s.Addr()
	return c, nil
}
