package ecsclient

import (
	"regexp"
	"testing"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// TestIsHostRegionIsTheRegexp: the hand-written check accepts exactly what
// the regexp it replaced accepted.
func TestIsHostRegionIsTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for _, s := range []string{"", "cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1", "us-east-1", "a", "1",
		"-", "cn-", "-cn", "cn--hangzhou", "CN-hangzhou", "cn_hangzhou", "cn.hangzhou", "cn-hangzhou/x", "cn hangzhou", "cn-hangzhou\n", "é", "ecs.evil.com#"} {
		if got, want := isHostRegion(s), re.MatchString(s); got != want {
			t.Errorf("isHostRegion(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}

func FuzzIsHostRegion(f *testing.F) {
	re := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	f.Add("cn-hangzhou")
	f.Add("cn--x")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isHostRegion(s), re.MatchString(s); got != want {
			t.Errorf("isHostRegion(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}

// TestConnectorEndpointIsConfigs: the Connector's once-parsed endpoint is
// what Config.resolveEndpoint picks, and Connect reports what
// Config.Validate reports.
func TestConnectorEndpointIsConfigs(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no override", Config{}},
		{"vpc", Config{Network: NetworkVPC}},
		{"http override", Config{Endpoint: "http://127.0.0.1:8090"}},
		{"https override", Config{Endpoint: "https://ecs.example.com"}},
		{"bad override", Config{Endpoint: "ftp://x"}},
		{"bad network", Config{Network: "moon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.cfg)
			for range 2 { // the first call parses, the second reuses
				for _, region := range []string{"cn-hangzhou", "Bad_Region"} {
					got, gotErr := c.endpoint(region)
					want, wantErr := tt.cfg.resolveEndpoint(region)
					if got != want || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
						t.Errorf("endpoint(%q) = %v, %v; Config says %v, %v", region, got, gotErr, want, wantErr)
					}
				}
				_, err := c.Connect(t.Context(), function.Credentials{AccessKeyID: "id", AccessKeySecret: "secret"})
				if want := tt.cfg.Validate(); (err == nil) != (want == nil) || (err != nil && err.Error() != want.Error()) {
					t.Errorf("Connect: %v; Validate says %v", err, want)
				}
			}
		})
	}
}
