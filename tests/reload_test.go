package tests

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgenome/edgenome/internal/pluginbuild"
)

// waitFor polls until cond holds or the deadline passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v", what, within)
	return 0
}

func TestHotReload(t *testing.T) {
	h := startHost(t, "", testkit)
	_, entry := buildPlugin(t, testkit)

	// Requests keep running on the old version through every change below.
	stop := make(chan struct{})
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := h.client.Get(h.base + "/plugin/testkit/stream?n=2&sleep_ms=20")
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || string(b) != "line\nline\n" {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, resp.Status+" "+string(b))
					continue
				}
				ok.Add(1)
			}
		}()
	}

	// Drop-in: a new folder is served within 2 s.
	install(t, entry, h.registry, "dropped")
	d := waitFor(t, 2*time.Second, "dropped-in plugin served", func() bool {
		st, _, _ := h.get("/plugin/dropped/echo?msg=hi")
		return st == 200
	})
	t.Logf("drop-in served after %v", d)

	// Replace: a new version (different manifest) of testkit itself.
	manifest, _ := os.ReadFile(filepath.Join(h.registry, "testkit", "plugin.yaml"))
	newManifest := strings.Replace(string(manifest), "version: 0.0.1", "version: 0.0.2", 1)
	os.WriteFile(filepath.Join(h.registry, "testkit", ".plugin.yaml.tmp"), []byte(newManifest), 0o644)
	os.Rename(filepath.Join(h.registry, "testkit", ".plugin.yaml.tmp"), filepath.Join(h.registry, "testkit", "plugin.yaml"))
	waitFor(t, 2*time.Second, "replaced version served", func() bool {
		_, body, _ := h.get("/plugins/testkit")
		return strings.Contains(body, `"version":"0.0.2"`)
	})

	// A broken update (wrong sha256) keeps the previous version serving
	// and is reported.
	os.WriteFile(filepath.Join(h.registry, "testkit", "testkit.wasm"), []byte("not wasm"), 0o644)
	waitFor(t, 2*time.Second, "broken update reported", func() bool {
		_, body, _ := h.get("/plugins")
		return strings.Contains(body, "sha256 is")
	})
	if st, _, _ := h.get("/plugin/testkit/echo?msg=still"); st != 200 {
		t.Errorf("previous version stopped serving after a broken update: %d", st)
	}

	// Remove: the folder goes, the plugin goes.
	os.RemoveAll(filepath.Join(h.registry, "dropped"))
	waitFor(t, 2*time.Second, "removed plugin gone", func() bool {
		st, _, _ := h.get("/plugin/dropped/echo")
		return st == 404
	})

	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed during reloads; first: %v", failed.Load(), failed.Load()+ok.Load(), firstErr.Load())
	}
	if ok.Load() < 10 {
		t.Errorf("only %d requests completed during the reloads", ok.Load())
	}
}

func TestBrokenEntriesAreSkipped(t *testing.T) {
	h := startHost(t, "limits: {plugins: {bombwazero: {preempt: wazero}}}\n", testkit)
	_, entry := buildPlugin(t, testkit)
	// wasmAs replaces an entry's module with b (and its sha256).
	wasmAs := func(b []byte) func(dir string) {
		return func(dir string) {
			m, _ := os.ReadFile(filepath.Join(dir, "plugin.yaml"))
			if err := pluginbuild.Install(dir, filepath.Base(dir), b, m, fmt.Sprintf("%x", sha256.Sum256(b))); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 15 bytes whose data section claims 2.4 billion segments: wazero 1.12 allocates for all of them
	// before reading one, and the host would run out of memory under either preemption mode.
	bomb := []byte("\x00asm\x01\x00\x00\x00\x0b\x05\xba\xee\x80\x87\x09")
	bad := map[string]func(dir string){
		"bomb":       wasmAs(bomb),
		"bombwazero": wasmAs(bomb),
		"badyaml":    func(dir string) { os.WriteFile(filepath.Join(dir, "plugin.yaml"), []byte("name: [oops"), 0o644) },
		"badabi": func(dir string) {
			m, _ := os.ReadFile(filepath.Join(dir, "plugin.yaml"))
			os.WriteFile(filepath.Join(dir, "plugin.yaml"), []byte(strings.Replace(string(m), "abi: 1", "abi: 99", 1)), 0o644)
		},
		"notwasm": wasmAs([]byte("hello")), // a correct sha256 of bytes that are not Wasm
	}
	for name, breakIt := range bad {
		install(t, entry, h.registry, name)
		breakIt(filepath.Join(h.registry, name))
	}
	h.app.Registry().Reload(t.Context())
	_, body, _ := h.get("/plugins")
	for _, want := range []string{`"badyaml":"plugin.yaml:`, `"badabi":"plugin.yaml: abi: plugin is built for ABI 99`, `"notwasm":"compile notwasm`,
		`"bomb":"compile bomb: preemption rewrite: section 11: preempt: malformed wasm module: count or length past the end`,
		`"bombwazero":"compile bombwazero: section 11: preempt: malformed wasm module: count or length past the end`} {
		if !strings.Contains(body, want) {
			t.Errorf("/plugins errors lack %s:\n%s", want, body)
		}
	}
	if st, _, _ := h.get("/plugin/testkit/noop"); st != 200 {
		t.Errorf("good plugin not served beside broken ones: %d", st)
	}
}
