package pluginbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const manifest = `name: p
version: 1.0.0
abi: 1
# helpers
modules:
  - name: fast
    wasm: fast.wasm
  - name: other
    wasm: other.wasm
exports:
  - name: run
`

func TestModules(t *testing.T) {
	if got := moduleNames([]byte(manifest)); !slices.Equal(got, []string{"fast", "other"}) {
		t.Errorf("moduleNames = %v", got)
	}
	if got := moduleNames([]byte("name: p\nexports:\n  - name: run\n")); got != nil {
		t.Errorf("no modules: %v", got)
	}
	dropped := string(dropModules([]byte(manifest)))
	if strings.Contains(dropped, "modules:") || strings.Contains(dropped, "fast") || !strings.Contains(dropped, "exports:\n  - name: run") {
		t.Errorf("dropModules:\n%s", dropped)
	}
}

func TestInstallHelpers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p") // Copy takes the name from the folder
	os.Mkdir(dir, 0o755)
	helpers := []Helper{{Name: "fast", Wasm: []byte("f")}, {Name: "other", Wasm: []byte("o")}}
	if err := Install(dir, "p", []byte("main"), []byte(manifest), "abc", helpers...); err != nil {
		t.Fatal(err)
	}
	m, _ := os.ReadFile(filepath.Join(dir, "plugin.yaml"))
	for _, h := range helpers {
		sum := sha256.Sum256(h.Wasm)
		want := "    wasm: " + h.Name + ".wasm\n    sha256: " + hex.EncodeToString(sum[:]) + "\n"
		if !strings.Contains(string(m), want) {
			t.Errorf("no sha256 line for %s:\n%s", h.Name, m)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, h.Name+".wasm")); string(b) != string(h.Wasm) {
			t.Errorf("%s.wasm = %q", h.Name, b)
		}
	}
	if !strings.HasSuffix(string(m), "sha256: abc\n") {
		t.Errorf("no plugin sha256:\n%s", m)
	}
	// Installing the installed manifest again replaces the lines.
	out := t.TempDir()
	if err := Copy(dir, out, "q"); err != nil {
		t.Fatal(err)
	}
	m2, _ := os.ReadFile(filepath.Join(out, "plugin.yaml"))
	if strings.Count(string(m2), "sha256:") != 3 || !strings.HasPrefix(string(m2), "name: q\n") {
		t.Errorf("copied manifest:\n%s", m2)
	}
	if err := Install(dir, "p", []byte("main"), []byte("name: p\n"), "abc", helpers[0]); err == nil {
		t.Error("a helper missing from the manifest was installed")
	}
}

func TestOverlay(t *testing.T) {
	pkg := t.TempDir()
	os.WriteFile(filepath.Join(pkg, "main.go"), []byte("package main\n"), 0o644)
	for _, tc := range []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"adds a file", map[string]string{"pad.go": "package main\n"}, ""},
		{"not Go", map[string]string{"pad.txt": "x"}, "want a .go file"},
		{"in a folder", map[string]string{"sub/pad.go": "package main\n"}, "without a folder"},
		{"replaces a file", map[string]string{"main.go": "package main\n"}, "the package has one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ov, err := overlay(pkg, tc.files)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("overlay: %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(filepath.Dir(ov))
			var m struct{ Replace map[string]string }
			b, _ := os.ReadFile(ov)
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for name, text := range tc.files {
				f, ok := m.Replace[filepath.Join(pkg, name)]
				if got, _ := os.ReadFile(f); !ok || string(got) != text {
					t.Errorf("%s: overlay maps to %q holding %q", name, f, got)
				}
			}
		})
	}
}
