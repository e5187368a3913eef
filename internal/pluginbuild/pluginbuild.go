// Package pluginbuild compiles a plugin's Go sources to Wasm and writes its
// registry entry (plugin.yaml with the fresh sha256 + <name>.wasm). The
// Makefile and the end-to-end tests both build plugins through it, so the
// registry entries they test are the ones users get.
//
// A plugin may link C helper modules (manifest key modules, see host/abi):
// each is compiled from the .c files in <plugin>/<module name>/ with
// Debian's clang-14 and wasi-libc. Without clang-14 the plugin is built
// with the Go build tag nohelpers and without its modules, so `make run`
// works on a machine without a C toolchain; the plugin must then have a
// Go path for what the helpers do. EDGENOME_REQUIRE_TOOLS=1 makes a missing
// clang-14 an error instead.
package pluginbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	// Extra adds Go files (name -> contents) to the package for this build
	// only, through go build -overlay; the benchmark uses it to move code
	// to other addresses.
	Extra map[string]string
}

// Name reads the plugin's name from its manifest.
func (s Source) Name() (string, error) {
	_, name, err := s.manifest()
	return name, err
}

// manifest reads the plugin's manifest and the name in it.
func (s Source) manifest() ([]byte, string, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "plugin.yaml"))
	if err != nil {
		return nil, "", err
	}
	m := nameLine.FindSubmatch(b)
	if m == nil {
		return nil, "", fmt.Errorf("%s/plugin.yaml: no name: line", s.Dir)
	}
	return b, string(m[1]), nil
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
	manifest, name, err := src.manifest()
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
	helpers := moduleNames(manifest)
	var tags []string
	if len(helpers) > 0 {
		if _, err := exec.LookPath(Clang); err != nil {
			if os.Getenv("EDGENOME_REQUIRE_TOOLS") == "1" {
				return "", fmt.Errorf("building %s: its modules need %s (apt-get install clang-14 lld-14 wasi-libc): %w", name, Clang, err)
			}
			fmt.Fprintf(os.Stderr, "pluginbuild: %s not found: %s is built without its C modules %v (slower; apt-get install clang-14 lld-14 wasi-libc)\n", Clang, name, helpers)
			manifest = dropModules(manifest)
			helpers = nil
			tags = []string{"-tags", "nohelpers"}
		}
	}
	var built []Helper
	for _, h := range helpers {
		w, err := BuildC(ctx, filepath.Join(src.Dir, h))
		if err != nil {
			return "", fmt.Errorf("building %s module %s: %w", name, h, err)
		}
		built = append(built, Helper{Name: h, Wasm: w})
	}
	args := append([]string{"build", "-buildmode=c-shared", "-trimpath"}, tags...)
	if len(src.Extra) > 0 {
		ov, err := overlay(pkg, src.Extra)
		if err != nil {
			return "", fmt.Errorf("building %s: %w", name, err)
		}
		defer os.RemoveAll(filepath.Dir(ov))
		args = append(args, "-overlay", ov)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "-o", tmp.Name(), ".")...)
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
	if err := Install(out, name, wasm, manifest, hex.EncodeToString(sum[:]), built...); err != nil {
		return "", err
	}
	return name, nil
}

// overlay writes files and the go build -overlay map that adds them to the
// package in pkg, and returns the map's path.
func overlay(pkg string, files map[string]string) (string, error) {
	dir, err := os.MkdirTemp("", "pluginbuild-overlay-")
	if err != nil {
		return "", err
	}
	repl := map[string]string{}
	for name, text := range files {
		if filepath.Base(name) != name || !strings.HasSuffix(name, ".go") {
			os.RemoveAll(dir)
			return "", fmt.Errorf("extra file %q: want a .go file name without a folder", name)
		}
		if _, err := os.Stat(filepath.Join(pkg, name)); err == nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("extra file %q: the package has one", name)
		}
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		repl[filepath.Join(pkg, name)] = f
	}
	b, err := json.Marshal(map[string]any{"Replace": repl})
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "overlay.json"), b, 0o644)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return filepath.Join(dir, "overlay.json"), nil
}

// Clang is the C compiler for helper modules.
const Clang = "clang-14"

// Helper is a built helper module.
type Helper struct {
	Name string
	Wasm []byte
}

// BuildC compiles the .c files of dir into one Wasm module for wasm32-wasi
// with wasi-libc, exporting what the sources mark with export_name. It is a
// reactor (a command would wrap each export in a function of another name,
// and Extism links helpers by function name), but nothing calls its
// _initialize: the code must not rely on constructors (wasi-libc's malloc,
// string and printf functions do not).
func BuildC(ctx context.Context, dir string) ([]byte, error) {
	srcs, err := filepath.Glob(filepath.Join(dir, "*.c"))
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("no .c files in %s", dir)
	}
	tmp, err := os.MkdirTemp("", "pluginbuild-c-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "module.wasm")
	// -mbulk-memory makes memcpy one memory.copy (the largest single gain
	// measured for plugins/samtools/samfmt); wazero runs SIMD and bulk memory.
	args := []string{"--target=wasm32-wasi", "-mexec-model=reactor", "--sysroot=/usr", "-isystem", "/usr/include/wasm32-wasi",
		"-L/usr/lib/wasm32-wasi", "-O3", "-msimd128", "-mbulk-memory", "-Wall", "-Werror",
		"-Wl,-z,stack-size=262144", "-o", out}
	cmd := exec.CommandContext(ctx, Clang, append(args, srcs...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", Clang, err, b)
	}
	return os.ReadFile(out)
}

var (
	modulesBlock = regexp.MustCompile(`(?m)^modules:\s*\n((?:[ \t]+.*\n?)*)`)
	moduleName   = regexp.MustCompile(`(?m)^[ \t]+-[ \t]+name:[ \t]*([a-z][a-z0-9_]*)[ \t]*$`)
)

// moduleNames lists the helper modules a source manifest declares, written
// as a block list of name/wasm mappings:
//
//	modules:
//	  - name: samfmt
//	    wasm: samfmt.wasm
func moduleNames(manifest []byte) []string {
	b := modulesBlock.FindSubmatch(manifest)
	if b == nil {
		return nil
	}
	var names []string
	for _, m := range moduleName.FindAllSubmatch(b[1], -1) {
		names = append(names, string(m[1]))
	}
	return names
}

func dropModules(manifest []byte) []byte { return modulesBlock.ReplaceAll(manifest, nil) }

var shaLine = regexp.MustCompile(`(?m)^sha256:.*\n?`)

var moduleSHA = regexp.MustCompile(`(?m)^[ \t]+sha256:.*\n?`)

// Install writes a registry entry from wasm bytes and a manifest source,
// setting its sha256 line, and those of its helper modules (each written as
// <module>.wasm). The manifest is written last: a watching host loads the
// entry only once every file matches it.
func Install(dir, name string, wasm, manifest []byte, sha string, helpers ...Helper) error {
	m := shaLine.ReplaceAll(manifest, nil)
	m = moduleSHA.ReplaceAll(m, nil)
	for _, h := range helpers {
		sum := sha256.Sum256(h.Wasm)
		wasmLine := regexp.MustCompile(`(?m)^([ \t]+)wasm:[ \t]*` + regexp.QuoteMeta(h.Name+".wasm") + `[ \t]*\n`)
		if !wasmLine.Match(m) {
			return fmt.Errorf("plugin.yaml of %s: module %s needs a line \"wasm: %s.wasm\"", name, h.Name, h.Name)
		}
		m = wasmLine.ReplaceAll(m, []byte("${0}${1}sha256: "+hex.EncodeToString(sum[:])+"\n"))
		if err := writeAtomic(filepath.Join(dir, h.Name+".wasm"), h.Wasm); err != nil {
			return err
		}
	}
	if !bytes.HasSuffix(m, []byte("\n")) {
		m = append(m, '\n')
	}
	m = append(m, "sha256: "+sha+"\n"...)
	if err := writeAtomic(filepath.Join(dir, name+".wasm"), wasm); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "plugin.yaml"), m)
}

// Copy installs the built entry in entryDir into dir under the name as,
// with its helper modules.
func Copy(entryDir, dir, as string) error {
	name := filepath.Base(entryDir)
	manifest, err := os.ReadFile(filepath.Join(entryDir, "plugin.yaml"))
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(filepath.Join(entryDir, name+".wasm"))
	if err != nil {
		return err
	}
	var helpers []Helper
	for _, h := range moduleNames(manifest) {
		w, err := os.ReadFile(filepath.Join(entryDir, h+".wasm"))
		if err != nil {
			return err
		}
		helpers = append(helpers, Helper{Name: h, Wasm: w})
	}
	if as != name {
		manifest = nameLine.ReplaceAll(manifest, []byte("name: "+as))
	}
	sum := sha256.Sum256(wasm)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return Install(dir, as, wasm, manifest, hex.EncodeToString(sum[:]), helpers...)
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
