package function

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The HTTP gate sends GET http://<address>:<Port><Path> from the function
// to the rolled-back instance's own address: its first private IP, or with
// HEALTH_HTTP_ADDRESS=public its EIP or public IP, as DescribeInstances
// tells after the start. The caller names only the port and the path
// (validated), never a host. No proxy, no redirect followed, no body kept,
// a short timeout per attempt; attempts repeat on the common schedule
// until the status is ExpectStatus or the gate's bound ends.

// httpAttemptTimeout bounds one GET.
const httpAttemptTimeout = 3 * time.Second

// httpBodyDrain is the most of a body read (and dropped) to reuse nothing:
// the body is never returned.
const httpBodyDrain = 4 << 10

// healthHTTPClient never follows redirects, uses no proxy, and keeps no
// connection between attempts.
var healthHTTPClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: httpAttemptTimeout}).DialContext,
		DisableKeepAlives:     true,
		ResponseHeaderTimeout: httpAttemptTimeout,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       httpAttemptTimeout,
}

// healthAddress is the address the HTTP gate connects to ("" if none).
func (r *run) healthAddress(id string) string {
	n := r.netAfter[id]
	if r.h.Config.HealthHTTPAddress == "public" {
		if n.EipAddress != "" {
			return n.EipAddress
		}
		if len(n.PublicIps) > 0 {
			return n.PublicIps[0]
		}
		return ""
	}
	if len(n.PrivateIps) > 0 {
		return n.PrivateIps[0]
	}
	return ""
}

func (g *gate) http(ctx context.Context) {
	r := g.r
	hc := r.req.HealthCheck
	want := hc.ExpectStatus
	if want == 0 {
		want = http.StatusOK
	}
	path := hc.Path
	if path == "" {
		path = "/"
	}
	if r.netAfter == nil {
		r.readIdentityAfter(ctx)
	}
	urls := map[string]string{}
	for _, id := range g.ids {
		addr := r.healthAddress(id)
		if net.ParseIP(addr) == nil {
			g.out[id].Status, g.out[id].Detail = HealthCheckFailed, "the instance has no "+r.h.Config.HealthHTTPAddress+" IP address to check (HEALTH_HTTP_ADDRESS)"
			continue
		}
		u := url.URL{Scheme: "http", Host: net.JoinHostPort(addr, strconv.Itoa(hc.Port)), Path: path}
		urls[id] = u.String()
	}
	attempts := 0
	r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		attempts++
		for _, id := range g.open() {
			o := g.out[id]
			status, err := httpGet(ctx, urls[id])
			switch {
			case err != nil:
				o.Detail = fmt.Sprintf("GET %s: %v (%d attempts)", urls[id], err, attempts)
			case status == want:
				o.Status, o.HTTPStatus = HealthHealthy, status
				o.Detail = fmt.Sprintf("GET %s answered %d", urls[id], status)
			default:
				o.HTTPStatus = status
				o.Detail = fmt.Sprintf("GET %s answered %d, want %d (%d attempts)", urls[id], status, want, attempts)
			}
		}
		return len(g.open()) == 0, nil
	})
}

// httpGet makes one GET and returns the status; the body is drained a
// little and dropped.
func httpGet(ctx context.Context, u string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, httpAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "ecs-disk-rollback-health-check")
	resp, err := healthHTTPClient.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			return 0, ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, httpBodyDrain))
	return resp.StatusCode, nil
}
