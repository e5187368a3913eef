// Package pluginbuild compiles a plugin's Go sources to Wasm and writes its
// registry entry (plugin.yaml with the fresh sha256 + <name>.wasm). The
// Makefile and the end-to-end tests both build plugins through it, so the
// registry entries they test are the ones users get.
package pluginbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

var nameLine = regexp.MustCompile(`(?m)^name:\s*([a-z][a-z0-9_]*)\s*$`)

// Source describes a plugin's source folder: plugin.yaml beside the Go
// package to compile (the folder itself, or its wasm/ subfolder).
type Source struct {
	Dir string // folder holding plugin.yaml
}

// Name reads the plugin's name from its manifest.
func (s Source) Name() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "plugin.yaml"))
	if err != nil {
		return "", err
	}
	m := nameLine.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s/plugin.yaml: no name: line", s.Dir)
	}
	return string(m[1]), nil
}

func (s Source) pkg() string {
	if st, err := os.Stat(filepath.Join(s.Dir, "wasm")); err == nil && st.IsDir() {
		return filepath.Join(s.Dir, "wasm")
	}
	return s.Dir
}

// Build compiles the plugin into registryDir/<name>/ and returns the name.
// The wasm and manifest are written under temporary names and renamed, so a
// watching host never loads a half-written entry.
func Build(ctx context.Context, src Source, registryDir string) (string, error) {
	name, err := src.Name()
	if err != nil {
		return "", err
	}
	// go build runs in the package's folder: every path it gets must be
	// absolute.
	registryDir, err = filepath.Abs(registryDir)
	if err != nil {
		return "", err
	}
	out := filepath.Join(registryDir, name)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(out, ".build-*.wasm")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	pkg, err := filepath.Abs(src.pkg())
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-trimpath", "-o", tmp.Name(), ".")
	cmd.Dir = pkg
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", name, err, b)
	}
	wasm, err := os.ReadFile(tmp.Name())
	if err != nil {
		return "", err
	}
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return "", fmt.Errorf("building %s: go build wrote no Wasm module to %s", name, tmp.Name())
	}
	sum := sha256.Sum256(wasm)
	manifest, err := os.ReadFile(filepath.Join(src.Dir, "plugin.yaml"))
	if err != nil {
		return "", err
	}
	if err := Install(out, name, wasm, manifest, hex.EncodeToString(sum[:])); err != nil {
		return "", err
	}
	return name, nil
}

var shaLine = regexp.MustCompile(`(?m)^sha256:.*\n?`)

// Install writes a registry entry from wasm bytes and a manifest source,
// setting its sha256 line.
func Install(dir, name string, wasm, manifest []byte, sha string) error {
	m := shaLine.ReplaceAll(manifest, nil)
	if !bytes.HasSuffix(m, []byte("\n")) {
		m = append(m, '\n')
	}
	m = append(m, "sha256: "+sha+"\n"...)
	if err := writeAtomic(filepath.Join(dir, name+".wasm"), wasm); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "plugin.yaml"), m)
}

func writeAtomic(path string, b []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Sources lists plugin source folders under root (each with plugin.yaml).
func Sources(root string) ([]Source, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []Source
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "plugin.yaml")); err == nil && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, Source{Dir: dir})
		}
	}
	return out, nil
}
