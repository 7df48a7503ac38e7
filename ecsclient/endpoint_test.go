package ecsclient

import (
	"regexp"
	"testing"
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
