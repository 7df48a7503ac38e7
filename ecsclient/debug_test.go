package ecsclient

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// TestSDKDebugChild is run by TestSDKDebugTrap in a child process.
func TestSDKDebugChild(t *testing.T) {
	if os.Getenv("ECSCLIENT_DEBUG_CHILD") != "1" {
		t.Skip("run by TestSDKDebugTrap")
	}
	// Too late: the SDK read DEBUG during package initialisation.
	os.Unsetenv("DEBUG")
	c := newTestConnector("http://" + testutil.RefusedAddr)
	c.cfg.Retry.MaxAttempts = 1
	_, _ = connect(t, c).ResetDisk(context.Background(), function.ResetDiskInput{RegionID: "cn-hangzhou", DiskID: "d", SnapshotID: "s"})
}

// TestSDKDebugTrap shows that DEBUG=sdk makes the SDK print the signed URL
// (AccessKeyId, SecurityToken) to stdout even if the process unsets DEBUG
// after start, and that re-executing with EnvWithoutSDKDebug stops it.
func TestSDKDebugTrap(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	run := func(env []string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSDKDebugChild$", "-test.v")
		cmd.Env = append(env, "ECSCLIENT_DEBUG_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return string(out)
	}
	base := os.Environ()
	leaky := run(append(append([]string(nil), base...), "DEBUG=sdk"))
	if !strings.Contains(leaky, "AccessKeyId="+testKeyID) || !SDKDebugEnabled(func(string) string { return "sdk" }) {
		t.Errorf("expected the SDK to print the signed URL with DEBUG=sdk; got:\n%.500s", leaky)
	}
	clean := run(EnvWithoutSDKDebug(append(append([]string(nil), base...), "DEBUG=sdk")))
	if strings.Contains(clean, testKeyID) || strings.Contains(clean, "Signature=") {
		t.Errorf("leak without DEBUG:\n%s", clean)
	}
}
