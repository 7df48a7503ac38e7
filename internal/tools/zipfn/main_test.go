package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteMakesExecutableEntry(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "main")
	if err := os.WriteFile(bin, []byte("\x7fELF fake"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "function.zip")
	if err := write(out, bin); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if got, want := len(zr.File), 1; got != want {
		t.Fatalf("entries = %d, want %d", got, want)
	}
	f := zr.File[0]
	if got, want := f.Name, "main"; got != want {
		t.Errorf("name = %q, want %q", got, want)
	}
	if got := f.Mode().Perm(); got&0o111 == 0 {
		t.Errorf("mode = %v, want executable", got)
	}
	rc, _ := f.Open()
	b, _ := io.ReadAll(rc)
	rc.Close()
	if got, want := string(b), "\x7fELF fake"; got != want {
		t.Errorf("content = %q, want %q", got, want)
	}
}

func TestRunWritesZipCopyAndChecksum(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "main")
	if err := os.WriteFile(bin, []byte("\x7fELF fake"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "ecs-disk-rollback-v1.2.3.zip")
	also := filepath.Join(dir, "function.zip")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // substrings of stdout
		wantSum  bool
	}{
		{"zip, checksum and copy", []string{"-sha256", "-also", also, "-o", out, bin}, 0,
			[]string{"wrote " + out + " (", "wrote " + out + ".sha256", "wrote " + also}, true},
		{"zip only", []string{"-o", out, bin}, 0, []string{"wrote " + out + " ("}, false},
		{"no binary argument", []string{"-o", out}, 2, nil, false},
		{"missing binary", []string{"-o", out, filepath.Join(dir, "nope")}, 1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(out + ".sha256")
			var stdout, stderr strings.Builder
			if got, want := run(tt.args, &stdout, &stderr), tt.wantCode; got != want {
				t.Fatalf("exit code %d, want %d; stderr %s", got, want, stderr.String())
			}
			for _, want := range tt.wantOut {
				if got := stdout.String(); !strings.Contains(got, want) {
					t.Errorf("stdout %q does not contain %q", got, want)
				}
			}
			sumFile, err := os.ReadFile(out + ".sha256")
			if got, want := err == nil, tt.wantSum; got != want {
				t.Fatalf(".sha256 written = %v, want %v", got, want)
			}
			if !tt.wantSum {
				return
			}
			zipBytes, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(zipBytes)
			if got, want := string(sumFile), hex.EncodeToString(sum[:])+"  ecs-disk-rollback-v1.2.3.zip\n"; got != want {
				t.Errorf(".sha256 = %q, want %q", got, want)
			}
			copyBytes, err := os.ReadFile(also)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(copyBytes), string(zipBytes); got != want {
				t.Error("the -also copy differs from the zip")
			}
		})
	}
}

// TestChecksumVerifiesWithSha256sum: the .sha256 file is what sha256sum -c reads.
func TestChecksumVerifiesWithSha256sum(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "main")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pkg.zip")
	if err := pack(out, "", true, bin, io.Discard); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sha256sum", "-c", "pkg.zip.sha256")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, b)
	}
}
