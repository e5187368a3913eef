package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgenome/edgenome/host/app"
	"github.com/edgenome/edgenome/host/config"
	"github.com/edgenome/edgenome/internal/demoref"
	"github.com/edgenome/edgenome/internal/pluginbuild"
	"github.com/edgenome/edgenome/internal/testenv"
)

// built holds plugins compiled once per test binary, by source folder.
var (
	buildMu  sync.Mutex
	built    = map[string]string{} // source dir -> folder holding <name>/ entry
	cacheDir string
	demoDir  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "edgenome-tests-")
	if err != nil {
		panic(err)
	}
	cacheDir = filepath.Join(dir, "wazero-cache")
	demoDir = filepath.Join(dir, "demo")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildPlugin compiles the plugin in srcDir (relative to the repo root)
// once, and returns the folder holding its registry entry.
func buildPlugin(t testing.TB, srcDir string) (name, entry string) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	src := pluginbuild.Source{Dir: filepath.Join(testenv.RepoRoot(t), srcDir)}
	name, err := src.Name()
	if err != nil {
		t.Fatal(err)
	}
	if out, ok := built[srcDir]; ok {
		return name, filepath.Join(out, name)
	}
	out := filepath.Join(filepath.Dir(cacheDir), "built", strings.ReplaceAll(srcDir, "/", "_"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := pluginbuild.Build(ctx, src, out); err != nil {
		t.Fatal(err)
	}
	built[srcDir] = out
	return name, filepath.Join(out, name)
}

// install copies a built entry into a registry folder, under its own name
// or another one.
func install(t testing.TB, entry, registry, as string) {
	t.Helper()
	if err := pluginbuild.Copy(entry, filepath.Join(registry, as), as); err != nil {
		t.Fatal(err)
	}
}

// host is a running edgenome for one test.
type host struct {
	t        testing.TB
	app      *app.App
	base     string
	registry string
	client   *http.Client
}

// startHost builds the named plugin sources, writes cfgYAML (with the
// registry and cache folders filled in) and starts the host on a free
// loopback port. It stops when the test ends.
func startHost(t testing.TB, cfgYAML string, plugins ...string) *host {
	t.Helper()
	return startHostWith(t, cfgYAML, app.Options{}, nil, plugins...)
}

// startHostWith is startHost with app.Options (a fake resolver, a logger)
// and extra registry entries written by prepare before the host starts.
func startHostWith(t testing.TB, cfgYAML string, opt app.Options, prepare func(registry string), plugins ...string) *host {
	t.Helper()
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	os.MkdirAll(reg, 0o755)
	for _, p := range plugins {
		name, entry := buildPlugin(t, p)
		install(t, entry, reg, name)
	}
	if prepare != nil {
		prepare(reg)
	}
	buildMu.Lock()
	if _, err := os.Stat(filepath.Join(demoDir, "demo.fa")); err != nil {
		if err := demoref.Write(demoDir); err != nil {
			buildMu.Unlock()
			t.Fatal(err)
		}
	}
	buildMu.Unlock()
	full := fmt.Sprintf("registry: {dir: %q, cache_dir: %q}\n", reg, cacheDir) + cfgYAML
	if !strings.Contains(cfgYAML, "references:") {
		full += fmt.Sprintf("references:\n  - {name: demo, fasta: %q}\n", filepath.Join(demoDir, "demo.fa"))
	}
	cfg, err := config.Parse([]byte(full), dir)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opt.Listener = ln
	if opt.Logger == nil {
		level := slog.LevelWarn
		if testing.Verbose() {
			level = slog.LevelInfo
		}
		opt.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	}
	a, err := app.Start(context.Background(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	h := &host{t: t, app: a, base: "http://" + a.Addr(), registry: reg,
		client: &http.Client{Timeout: 60 * time.Second}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Close(ctx)
	})
	return h
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// get fetches a path and returns status, body and headers.
func (h *host) get(path string) (int, string, http.Header) {
	h.t.Helper()
	resp, err := h.client.Get(h.base + path)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func (h *host) post(path, contentType string, body io.Reader) (int, string, http.Header) {
	h.t.Helper()
	resp, err := h.client.Post(h.base+path, contentType, body)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("POST %s: reading body: %v", path, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// getStream fetches a path and returns status and body, with the error
// that cut the body short (an aborted stream) or prevented the request
// (status 0). It does not fail the test: fuzz targets call it, where h.t is
// the *testing.F.
func (h *host) getStream(path string) (int, []byte, error) {
	resp, err := h.client.Get(h.base + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// readAll drains a response, reporting a broken stream as an error.
func readAll(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// wantError checks a JSON error response.
func wantError(t testing.TB, status int, body string, hdr http.Header, wantStatus int, wantCode, wantMsg string) {
	t.Helper()
	short := body
	if len(short) > 300 {
		short = short[:300] + "..."
	}
	if status != wantStatus {
		t.Errorf("status = %d, want %d (body %s)", status, wantStatus, short)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want JSON", ct)
	}
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, short)
	}
	if e.Error.Code != wantCode {
		t.Errorf("code = %q, want %q (message %q)", e.Error.Code, wantCode, e.Error.Message)
	}
	if !strings.Contains(e.Error.Message, wantMsg) {
		t.Errorf("message = %q, want it to contain %q", e.Error.Message, wantMsg)
	}
}
