// Package testenv locates the real test data and the native reference tools
// that conformance tests compare against.
//
// Locally a missing tool or data set skips the test that needs it. With
// EDGENOME_REQUIRE_TOOLS=1 (set by .ci/run) it fails the test instead, so CI
// can never pass by skipping the comparisons it exists to make.
package testenv

import (
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Required reports whether missing tools and data are failures rather than skips.
func Required() bool { return os.Getenv("EDGENOME_REQUIRE_TOOLS") == "1" }

var (
	rootOnce sync.Once
	root     string
)

// RepoRoot returns the module root (the folder holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				root = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return
			}
			dir = parent
		}
	})
	if root == "" {
		t.Fatal("testenv: cannot find go.mod above the working directory")
	}
	return root
}

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// Tool returns the path of a native tool, or skips (fails in CI) when absent.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "native tool %q not installed (apt-get install it, or run .ci/run)", name)
	}
	return p
}

// DataDir returns the extracted contents of a Debian test-data package,
// fetched by scripts/fetch-testdata.sh, or skips (fails in CI) when absent.
func DataDir(t testing.TB, pkg string) string {
	t.Helper()
	base := os.Getenv("EDGENOME_TESTDATA")
	if base == "" {
		base = filepath.Join(RepoRoot(t), ".cache", "testdata")
	}
	dir := filepath.Join(base, pkg)
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		missing(t, "test data %q not fetched (run scripts/fetch-testdata.sh)", pkg)
	}
	return dir
}

// File returns a path inside a test-data package, failing if the package is
// present but the file is not (a changed package layout must not skip silently).
func File(t testing.TB, pkg string, rel string) string {
	t.Helper()
	p := filepath.Join(DataDir(t, pkg), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test data file missing: %v", err)
	}
	return p
}

// Gunzip returns the decompressed contents of a gzip file (a test-data
// fixture), writing them to dst too when dst is not "".
func Gunzip(t testing.TB, src, dst string) []byte {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if dst != "" {
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return data
}
