package e2e

import (
	"os"
	"testing"
)

// maxBinaryBytes is issue #15's limit on the function's binary (make bench
// reports the exact figure for make build's -trimpath build).
const maxBinaryBytes = 12 << 20

// TestBinaryStaysSmall catches a change that makes the linker keep far
// more code, which no other test notices: a struct naming *ecs.Client that
// went into an interface once kept every exported method of the ECS
// package's client, 27 MB instead of 12, and 1.7 ms more every cold start
// (bench/CHANGES.md, round 6).
func TestBinaryStaysSmall(t *testing.T) {
	st, err := os.Stat(functionBinary)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > maxBinaryBytes {
		t.Errorf("the stripped function binary is %.1f MB, more than the %d MB allowed", float64(st.Size())/(1<<20), maxBinaryBytes>>20)
	}
	t.Logf("binary: %.2f MB", float64(st.Size())/(1<<20))
}
