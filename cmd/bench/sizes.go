package main

// What the function's binary carries, in bytes: per package over
// floor-libs (which links the same two libraries and uses neither), and
// per ECS action, from `go tool nm -size` of unstripped builds.

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// byteCosts is the size accounting of one run.
type byteCosts struct {
	// Packages: bytes of symbols per package in the function and in
	// floor-libs, largest difference first.
	Packages []pkgBytes
	// Actions: bytes of the ECS package's symbols named after each action
	// the function calls (request, response and nested types, their
	// constructors, equality and type descriptors).
	Actions []actionBytes
	// SymFunction and SymLibs are the totals of counted symbols; the
	// stripped binaries differ by more (pclntab, headers), StrippedDelta.
	SymFunction, SymLibs, StrippedDelta int64
}

type pkgBytes struct {
	Pkg            string
	Function, Libs int64
}

func (p pkgBytes) Delta() int64 { return p.Function - p.Libs }

type actionBytes struct {
	Action string
	Bytes  int64
}

// measureBytes builds the function and floor-libs without -s -w (symbols
// kept, otherwise as make build) and sums their symbols.
func measureBytes(root, fnPkg, dir string) (*byteCosts, error) {
	fnSym, libsSym := filepath.Join(dir, "fn.sym"), filepath.Join(dir, "floor-libs.sym")
	unstripped := func(pkg, out string) *exec.Cmd { return exec.Command(goTool(), "build", "-trimpath", "-o", out, pkg) }
	if err := buildEach(root, map[string]string{fnPkg: fnSym, "./bench/floor-libs": libsSym}, unstripped); err != nil {
		return nil, err
	}
	fnSyms, err := nmSymbols(fnSym)
	if err != nil {
		return nil, err
	}
	libsSyms, err := nmSymbols(libsSym)
	if err != nil {
		return nil, err
	}
	bc := &byteCosts{}
	fnPkgs, libsPkgs := map[string]int64{}, map[string]int64{}
	for _, s := range fnSyms {
		fnPkgs[symbolPackage(s.name)] += s.size
		bc.SymFunction += s.size
	}
	for _, s := range libsSyms {
		libsPkgs[symbolPackage(s.name)] += s.size
		bc.SymLibs += s.size
	}
	for p, n := range fnPkgs {
		bc.Packages = append(bc.Packages, pkgBytes{Pkg: p, Function: n, Libs: libsPkgs[p]})
	}
	for p, n := range libsPkgs {
		if _, ok := fnPkgs[p]; !ok {
			bc.Packages = append(bc.Packages, pkgBytes{Pkg: p, Libs: n})
		}
	}
	sort.Slice(bc.Packages, func(i, j int) bool { return bc.Packages[i].Delta() > bc.Packages[j].Delta() })
	bc.Actions = actionCosts(root, fnSyms)
	return bc, nil
}

type symbol struct {
	name string
	size int64
}

// nmSymbols lists the symbols that take room in the file, as `go tool nm
// -size` lists them but read with debug/elf so that symbols in sections
// with no file contents (.bss, .noptrbss: e.g. the FIPS DRBG's 32 MB
// buffer, which nm shows as D) are left out.
func nmSymbols(bin string) ([]symbol, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	all, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", bin, err)
	}
	var syms []symbol
	for _, s := range all {
		i := int(s.Section)
		if s.Size == 0 || i <= 0 || i >= len(f.Sections) || f.Sections[i].Type == elf.SHT_NOBITS {
			continue
		}
		syms = append(syms, symbol{name: s.Name, size: int64(s.Size)})
	}
	return syms, nil
}

// symbolPackage is the import path a symbol belongs to: runtime.mallocgc →
// runtime; type:*github.com/a/b.T → github.com/a/b; go:itab.*x/y.T,io.Reader
// → x/y; anything else (go:string.*, go:func.*, unnamed data) → "(other)".
func symbolPackage(name string) string {
	n := name
	for _, p := range []string{"type:", ".eq.", "go:itab.", "go:info.", "*", "[]", "map["} {
		n = strings.TrimPrefix(n, p)
	}
	n = strings.TrimPrefix(n, "*")
	if strings.HasPrefix(n, "go:") || n == "" {
		return "(other)"
	}
	end := len(n)
	if i := strings.IndexAny(n, "([,"); i >= 0 {
		end = i
	}
	slash := strings.LastIndex(n[:end], "/")
	dot := strings.Index(n[slash+1:], ".")
	if dot < 0 {
		return "(other)"
	}
	return n[:slash+1+dot]
}

var ecsCreateRE = regexp.MustCompile(`ecs\.Create([A-Za-z]+)Request\b`)

const ecsPkg = "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

// actionCosts attributes the ECS package's symbols to the actions ecsclient
// calls (found in its source), each to the longest action name it contains
// (ResetDisksDisk → ResetDisks, not ResetDisk); the rest is shared.
func actionCosts(root string, syms []symbol) []actionBytes {
	seen := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(root, "ecsclient", "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, m := range ecsCreateRE.FindAllSubmatch(b, -1) {
			seen[string(m[1])] = true
		}
	}
	var actions []string
	for a := range seen {
		actions = append(actions, a)
	}
	sort.Slice(actions, func(i, j int) bool { return len(actions[i]) > len(actions[j]) })
	total := map[string]int64{}
	for _, s := range syms {
		if symbolPackage(s.name) != ecsPkg {
			continue
		}
		rest := s.name[strings.Index(s.name, ecsPkg)+len(ecsPkg):]
		owner := "(shared: the client and common types)"
		for _, a := range actions {
			if strings.Contains(rest, a) {
				owner = a
				break
			}
		}
		total[owner] += s.size
	}
	var out []actionBytes
	for a, n := range total {
		out = append(out, actionBytes{Action: a, Bytes: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bytes > out[j].Bytes })
	return out
}
