package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// goTool is the go command the harness builds with ($GO, else go on PATH).
func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// buildStatic builds each package (pkg → output path) the way `make build`
// builds the function: static linux/amd64, CGO off, -trimpath, symbols and
// DWARF stripped; then it rewrites each binary front to back
// (rewriteAsUnpacked).
func buildStatic(root string, outs map[string]string) error {
	err := buildEach(root, outs, func(pkg, out string) *exec.Cmd {
		return exec.Command(goTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	})
	if err != nil {
		return err
	}
	for _, out := range outs {
		if err := rewriteAsUnpacked(out); err != nil {
			return err
		}
	}
	return nil
}

// rewriteAsUnpacked replaces the file at path with a copy written front to
// back, as FC's unpacking of function.zip writes the deployed binary. The
// Go linker writes its output through a memory map, and such a file, byte
// for byte the same, cost 8–17% more CPU at cold start on this machine,
// by a margin that changed from one link to the next (four links of the
// same code: 0 to +1.6 ms; bench/CHANGES.md, round 5). Every contender
// gets the same treatment.
func rewriteAsUnpacked(path string) error {
	tmp := path + ".unpacked"
	if err := copyFile(path, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// buildEach runs one go build per package (pkg → output path) at once, for
// linux/amd64 without cgo: the builds are independent and mostly linking,
// so the harness waits for the slowest, not the sum.
func buildEach(root string, outs map[string]string, command func(pkg, out string) *exec.Cmd) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(outs))
	for pkg, out := range outs {
		wg.Go(func() {
			cmd := command(pkg, out)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			if err := cmd.Run(); err != nil {
				errs <- fmt.Errorf("go build %s: %v\n%s", pkg, err, stderr.String())
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// zipFunction packages bin the way `make package` does (internal/tools/zipfn);
// if that tool cannot run, the same layout is written with archive/zip.
func zipFunction(root, bin, out string) (how string, err error) {
	cmd := exec.Command(goTool(), "run", "./internal/tools/zipfn", "-o", out, bin)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err == nil {
		return "internal/tools/zipfn", nil
	}
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	zw := zip.NewWriter(f)
	hdr := &zip.FileHeader{Name: filepath.Base(bin), Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return "", err
	}
	in, err := os.Open(bin)
	if err != nil {
		return "", err
	}
	defer func() { _ = in.Close() }()
	if _, err := io.Copy(w, in); err != nil {
		return "", err
	}
	return "archive/zip (zipfn failed: " + strings.TrimSpace(stderr.String()) + ")", zw.Close()
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// peerNode is the installed Node.js peer.
type peerNode struct {
	Dir         string // holds bootstrap.js, handler.js and node_modules
	Node        string // the node executable
	NodeVersion string
	SDKVersion  string // installed @alicloud/ecs20140526
	CoreVersion string // installed @alicloud/openapi-core
	Installed   string // "cached" or how long npm took
}

// installPeerNode copies bench/peer-node into a cache directory keyed by
// its package.json and installs the pinned SDK there with npm (once; later
// runs reuse it). Nothing is written into the source tree.
func installPeerNode(root, cacheRoot string, logf func(string, ...any)) (*peerNode, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node not found on PATH")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, fmt.Errorf("npm not found on PATH")
	}
	src := filepath.Join(root, "bench", "peer-node")
	pkg, err := os.ReadFile(filepath.Join(src, "package.json"))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pkg)
	dir := filepath.Join(cacheRoot, "peer-node-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, name := range []string{"package.json", "bootstrap.js", "handler.js"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	p := &peerNode{Dir: dir, Installed: "cached"}
	marker := filepath.Join(dir, "node_modules", ".bench-installed")
	if _, err := os.Stat(marker); err != nil {
		logf("installing the Node peer's SDK with npm into %s", dir)
		start := time.Now()
		// --ignore-scripts: @alicloud/openapi-core's postinstall only picks
		// TypeScript typings for Node 10/12; nothing at run time needs it.
		cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--ignore-scripts", "--omit=dev", "--loglevel=error", "--fetch-retries=1", "--fetch-timeout=30000")
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				return nil, fmt.Errorf("npm install: %v\n%s", err, out.String())
			}
		case <-time.After(3 * time.Minute):
			_ = cmd.Process.Kill()
			if err := <-done; err != nil {
				return nil, fmt.Errorf("npm install took more than 3 minutes (killed: %v)", err)
			}
			return nil, fmt.Errorf("npm install took more than 3 minutes")
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return nil, err
		}
		p.Installed = fmt.Sprintf("npm install took %s", time.Since(start).Round(100*time.Millisecond))
	}
	p.SDKVersion = npmVersion(dir, "@alicloud/ecs20140526")
	p.CoreVersion = npmVersion(dir, "@alicloud/openapi-core")
	v, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %v", err)
	}
	p.NodeVersion = strings.TrimSpace(string(v))
	p.Node = node
	return p, nil
}

func npmVersion(dir, pkg string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
	if err != nil {
		return "?"
	}
	const key = `"version"`
	s := string(b)
	i := strings.Index(s, key)
	if i < 0 {
		return "?"
	}
	rest := s[i+len(key):]
	rest = strings.TrimLeft(rest, " :\t")
	rest = strings.TrimPrefix(rest, `"`)
	v, _, _ := strings.Cut(rest, `"`)
	return v
}
