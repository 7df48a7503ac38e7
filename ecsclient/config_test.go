package ecsclient

import (
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	good := []struct {
		m              map[string]string
		scheme, host   string
		region, wantEP string
	}{
		{nil, "", "", "cn-hangzhou", "https://ecs.cn-hangzhou.aliyuncs.com"},
		{map[string]string{"ECS_NETWORK": "public"}, "", "", "cn-shanghai", "https://ecs.cn-shanghai.aliyuncs.com"},
		{map[string]string{"ECS_NETWORK": "VPC"}, "", "", "cn-hangzhou", "https://ecs-vpc.cn-hangzhou.aliyuncs.com"},
		{map[string]string{"ECS_ENDPOINT": "http://127.0.0.1:8090"}, "http", "127.0.0.1:8090", "cn-hangzhou", "http://127.0.0.1:8090"},
		{map[string]string{"ECS_ENDPOINT": "https://ecs.example.com/", "ECS_NETWORK": "vpc"}, "https", "ecs.example.com", "any-region", "https://ecs.example.com"},
		{map[string]string{"ECS_ENDPOINT": "HTTP://[::1]:80"}, "http", "[::1]:80", "x", "http://[::1]:80"},
	}
	for _, g := range good {
		c, err := ConfigFromEnv(env(g.m))
		if err != nil {
			t.Errorf("%v: %v", g.m, err)
			continue
		}
		ep, err := c.EndpointURL(g.region)
		if err != nil || ep != g.wantEP {
			t.Errorf("%v: endpoint %q, %v; want %q", g.m, ep, err, g.wantEP)
		}
	}
	bad := []map[string]string{
		{"ECS_NETWORK": "intranet"},
		{"ECS_ENDPOINT": "127.0.0.1:8090"},
		{"ECS_ENDPOINT": "ftp://host"},
		{"ECS_ENDPOINT": "http://"},
		{"ECS_ENDPOINT": "http://user:pw@host"},
		{"ECS_ENDPOINT": "http://host/path"},
		{"ECS_ENDPOINT": "http://host?x=1"},
		{"ECS_ENDPOINT": "http://host#frag"},
		{"ECS_ENDPOINT": "/relative"},
		{"ECS_ENDPOINT": "http://host:port"},
	}
	for _, m := range bad {
		if _, err := ConfigFromEnv(env(m)); err == nil {
			t.Errorf("%v: no error", m)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error leaks userinfo: %v", err)
		}
	}
}

func TestResolveEndpointRegion(t *testing.T) {
	c := Config{}
	for _, r := range []string{"CN_HANGZHOU!", "", "cn-hangzhou.evil.com/x", "cn-hangzhou/", "-x"} {
		if _, err := c.resolveEndpoint(r); err == nil {
			t.Errorf("region %q accepted", r)
		}
	}
	// With an override the server judges the region.
	c.Endpoint = "http://127.0.0.1:1"
	if _, err := c.resolveEndpoint("CN_HANGZHOU!"); err != nil {
		t.Errorf("override: %v", err)
	}
}

func TestSDKDebugEnabled(t *testing.T) {
	for v, want := range map[string]bool{"": false, "sdk": true, "tea,sdk": true, "sdk,": true, " sdk": false, "SDK": false, "sdkx": false, "signer": false} {
		if got := SDKDebugEnabled(func(string) string { return v }); got != want {
			t.Errorf("DEBUG=%q: %v, want %v", v, got, want)
		}
	}
	got := EnvWithoutSDKDebug([]string{"A=1", "DEBUG=sdk", "B=2"})
	if strings.Join(got, " ") != "A=1 B=2" {
		t.Errorf("got %v", got)
	}
	got = EnvWithoutSDKDebug([]string{"DEBUG=tea,sdk,x"})
	if strings.Join(got, " ") != "DEBUG=tea,x" {
		t.Errorf("got %v", got)
	}
}
