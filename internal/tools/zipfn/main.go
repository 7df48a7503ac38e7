// Command zipfn packages the function binary the way FC expects it: a zip
// whose root holds an executable named after the handler ("main"). It
// exists so `make package` needs nothing but Go. With -sha256 it writes the
// zip's SHA-256 beside it (OUT.sha256, in sha256sum format, so
// `sha256sum -c` checks it); -also writes the same zip to another path too.
// It prints every file it wrote.
package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zipfn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "target/function.zip", "zip file to write")
	also := fs.String("also", "", "write the same zip here too (e.g. target/function.zip)")
	sum := fs.Bool("sha256", false, "write OUT.sha256 (sha256sum format) beside the zip")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: zipfn [-sha256] [-also COPY.zip] -o OUT.zip BINARY")
		return 2
	}
	if err := pack(*out, *also, *sum, fs.Arg(0), stdout); err != nil {
		fmt.Fprintln(stderr, "zipfn:", err)
		return 1
	}
	return 0
}

// pack writes the zip, its copy and its checksum, and says so on w.
func pack(out, also string, withSum bool, bin string, w io.Writer) error {
	if err := write(out, bin); err != nil {
		return err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(b)
	hexSum := hex.EncodeToString(digest[:])
	fmt.Fprintf(w, "wrote %s (%d bytes, sha256 %s)\n", out, len(b), hexSum)
	if withSum {
		sumFile := out + ".sha256"
		if err := os.WriteFile(sumFile, []byte(sumLine(hexSum, out)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote %s (check: cd %s && sha256sum -c %s)\n", sumFile, filepath.Dir(out), filepath.Base(sumFile))
	}
	if also != "" {
		if err := os.WriteFile(also, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote %s (the same zip)\n", also)
	}
	return nil
}

// sumLine is one sha256sum line: the digest, two spaces (text mode) and the
// file's base name, so the check works from the file's directory.
func sumLine(hexSum, file string) string {
	return hexSum + "  " + filepath.Base(file) + "\n"
}

// write stores bin as an executable entry named after its base name, with a
// fixed time so the same binary always gives the same zip.
func write(out, bin string) error {
	src, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	hdr := &zip.FileHeader{Name: filepath.Base(bin), Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = io.Copy(w, src)
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
