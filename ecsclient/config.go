package ecsclient

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/retry"
)

// Networks for Config.Network.
const (
	NetworkPublic = "public"
	NetworkVPC    = "vpc"
)

// Defaults.
const (
	DefaultConnectTimeout = 5 * time.Second
	// DefaultReadTimeout bounds one HTTP exchange when ctx has no deadline.
	DefaultReadTimeout = 10 * time.Second
)

// Config configures a Connector. The zero value talks HTTPS to the public
// regional endpoint with the default retry policy.
type Config struct {
	// Endpoint overrides the ECS endpoint for every region: an absolute
	// http or https URL with a host and nothing else, e.g.
	// http://127.0.0.1:8090. It is the only way plain HTTP is ever used.
	Endpoint string
	// Network picks the regional endpoint: "" or "public" →
	// ecs.<region>.aliyuncs.com, "vpc" → ecs-vpc.<region>.aliyuncs.com.
	Network string
	// Retry is the policy for every call; Retryable is replaced per call
	// kind (reads vs mutating calls), everything else is kept. A nil Quota
	// gets one bucket per Connector.
	Retry retry.Policy
	// ConnectTimeout bounds a TCP dial and a TLS handshake; 0 means
	// DefaultConnectTimeout. The ctx deadline cuts it shorter.
	ConnectTimeout time.Duration
	// ReadTimeout bounds one HTTP exchange when the ctx has no deadline;
	// 0 means DefaultReadTimeout.
	ReadTimeout time.Duration
	// UserAgent is appended to the SDK's User-Agent, if set.
	UserAgent string
}

// Environment variables read by ConfigFromEnv.
const (
	EnvEndpoint = "ECS_ENDPOINT"
	EnvNetwork  = "ECS_NETWORK"
)

// ConfigFromEnv reads ECS_ENDPOINT and ECS_NETWORK through getenv (e.g.
// os.Getenv) and validates them.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Endpoint: strings.TrimSpace(getenv(EnvEndpoint)),
		Network:  strings.ToLower(strings.TrimSpace(getenv(EnvNetwork))),
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks Endpoint and Network.
func (c Config) Validate() error {
	switch c.Network {
	case "", NetworkPublic, NetworkVPC:
	default:
		return fmt.Errorf("%s=%q: want %q or %q", EnvNetwork, c.Network, NetworkPublic, NetworkVPC)
	}
	if c.Endpoint != "" {
		if _, _, err := parseEndpoint(c.Endpoint); err != nil {
			return err
		}
	}
	if c.ConnectTimeout < 0 || c.ReadTimeout < 0 {
		return fmt.Errorf("ecsclient: negative timeout")
	}
	return nil
}

// parseEndpoint validates an override URL and returns its scheme ("http" or
// "https") and host[:port].
func parseEndpoint(raw string) (scheme, host string, err error) {
	shown := raw
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("%s=%q: %s (want e.g. https://ecs.example.com or http://127.0.0.1:8090)", EnvEndpoint, shown, why)
	}
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		// Never echo a password.
		cp := *u
		cp.User = url.User("REDACTED")
		shown = cp.String()
	} else if err != nil {
		shown = Redact(raw)
		if strings.Contains(shown, "@") {
			shown = "(unparseable URL)"
		}
	}
	if err != nil {
		return bad("not a URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return bad("no scheme")
	default:
		return bad("scheme must be http or https")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return bad("no host")
	}
	if u.User != nil {
		return bad("userinfo is not allowed")
	}
	if u.Path != "" && u.Path != "/" || u.RawPath != "" {
		return bad("a path is not allowed")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return bad("a query or fragment is not allowed")
	}
	if p := u.Port(); p != "" {
		for _, r := range p {
			if r < '0' || r > '9' {
				return bad("bad port")
			}
		}
	}
	return strings.ToLower(u.Scheme), u.Host, nil
}
