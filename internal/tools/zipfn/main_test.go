package main

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
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
