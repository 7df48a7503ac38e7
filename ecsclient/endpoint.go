package ecsclient

import (
	"fmt"
	"strings"
)

// endpoint is where one call goes.
type endpoint struct {
	Scheme string // "https" or "http"
	Host   string // host[:port]
}

// URL returns scheme://host.
func (e endpoint) URL() string { return e.Scheme + "://" + e.Host }

// isHostRegion reports whether a region id may go into a host name: ECS
// regions are lowercase letters, digits and dashes (cn-hangzhou,
// ap-southeast-1), i.e. ^[a-z0-9]+(-[a-z0-9]+)*$: one or more parts of
// lowercase letters and digits joined by single dashes. Checked by hand: a
// regexp compiled at package init costs every cold start (bench/CHANGES.md).
func isHostRegion(region string) bool {
	for part := range strings.SplitSeq(region, "-") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if c := part[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// errBadRegion: the region cannot be put into a host name.
type errBadRegion struct{ region string }

func (e errBadRegion) Error() string {
	return fmt.Sprintf("region %q is malformed (want e.g. cn-hangzhou)", e.region)
}

// resolveEndpoint picks the endpoint for a region. The override wins and
// takes any region (the server judges it); otherwise the region must be
// well-formed and the host is ecs[-vpc].<region>.aliyuncs.com over HTTPS.
// The SDK's endpoint map (which sends some regions to legacy hosts) is
// never used.
func (c Config) resolveEndpoint(region string) (endpoint, error) {
	if c.Endpoint != "" {
		scheme, host, err := parseEndpoint(c.Endpoint)
		if err != nil {
			return endpoint{}, err
		}
		return endpoint{Scheme: scheme, Host: host}, nil
	}
	if !isHostRegion(region) {
		return endpoint{}, errBadRegion{region}
	}
	prefix := "ecs"
	if c.Network == NetworkVPC {
		prefix = "ecs-vpc"
	}
	return endpoint{Scheme: "https", Host: prefix + "." + region + ".aliyuncs.com"}, nil
}

// checkOverride validates c and returns its Endpoint override parsed, or
// nil when there is none.
func (c Config) checkOverride() (*endpoint, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Endpoint == "" {
		return nil, nil
	}
	ep, err := c.resolveEndpoint("")
	if err != nil {
		return nil, err
	}
	return &ep, nil
}

// EndpointURL returns the URL calls for region go to, e.g.
// https://ecs.cn-hangzhou.aliyuncs.com, for logs and diagnostics.
func (c Config) EndpointURL(region string) (string, error) {
	e, err := c.resolveEndpoint(region)
	if err != nil {
		return "", err
	}
	return e.URL(), nil
}
