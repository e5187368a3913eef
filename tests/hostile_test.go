package tests

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgenome/edgenome/host/app"
	"github.com/edgenome/edgenome/internal/pluginbuild"
	"github.com/edgenome/edgenome/internal/testenv"
)

const hostilePlugin = "tests/plugins/hostile"

// quietLogger logs only errors: hostile tests make the host warn a lot.
func quietLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
}

// installRaw writes a registry entry from bytes and a manifest, with its
// helper modules.
func installRaw(t testing.TB, registry, name string, wasm []byte, manifest string, helpers ...pluginbuild.Helper) {
	t.Helper()
	dir := filepath.Join(registry, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(wasm)
	if err := pluginbuild.Install(dir, name, wasm, []byte(manifest), hex.EncodeToString(sum[:]), helpers...); err != nil {
		t.Fatal(err)
	}
}

// buildC compiles tests/plugins/hostilec with clang-14 (skipped locally
// when clang-14 is missing, like the preempt tests).
func buildC(t testing.TB, defines ...string) []byte {
	t.Helper()
	clang := testenv.Tool(t, pluginbuild.Clang)
	out := filepath.Join(t.TempDir(), "hostilec.wasm")
	args := append([]string{"--target=wasm32-wasi", "-O2", "-nostdlib", "-Wl,--no-entry", "-o", out}, defines...)
	args = append(args, filepath.Join(testenv.RepoRoot(t), "tests/plugins/hostilec/hostile.c"))
	if b, err := exec.Command(clang, args...).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cManifest(t testing.TB, name string) string {
	t.Helper()
	m, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "tests/plugins/hostilec/plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(string(m), "name: hostilec", "name: "+name, 1)
}

// metric returns the value of the first /metrics sample whose line starts
// with series (name plus labels as Prometheus prints them), or 0.
func (h *host) metric(series string) float64 {
	h.t.Helper()
	_, body, _ := h.get("/metrics")
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(line[len(series):]), 64)
			if err == nil {
				return v
			}
		}
	}
	return 0
}

func requestsSeries(plugin, export string, status int, code string) string {
	return fmt.Sprintf(`edgenome_requests_total{code=%q,export=%q,plugin=%q,status="%d"}`, code, export, plugin, status)
}

// acceptCounter is a loopback listener that counts connections: the proof
// that a refused address was never dialled.
type acceptCounter struct {
	net.Listener
	n atomic.Int64
}

func newAcceptCounter(t testing.TB) *acceptCounter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &acceptCounter{Listener: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			a.n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return a
}

func (a *acceptCounter) port() string {
	_, p, _ := net.SplitHostPort(a.Addr().String())
	return p
}

// noopLatency makes n sequential noop calls and returns their median.
func noopLatency(t testing.TB, h *host, n int) time.Duration {
	t.Helper()
	lat := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		st, _, _ := h.get("/plugin/testkit/noop")
		if st != 200 {
			t.Errorf("noop: status %d", st)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat[len(lat)/2]
}

// busyGoroutines counts goroutines other than connections between requests
// (client-side read/write loops, server-side connections not running a
// handler), by what they run: those belong to connection pools bounded by
// the transports, while a leaked call shows up as anything else.
func busyGoroutines() map[string]int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	m := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "persistConn).readLoop") || strings.Contains(g, "persistConn).writeLoop") ||
			strings.Contains(g, "net/http.(*conn).serve") && !strings.Contains(g, "labstack/echo") && !strings.Contains(g, "github.com/edgenome/") {
			continue // a connection between requests, not a call
		}
		// What it runs and who started it.
		lines := strings.Split(g, "\n")
		sig := ""
		for i, l := range lines {
			if i == 1 || strings.HasPrefix(l, "created by ") {
				if j := strings.LastIndexByte(l, '('); j > 0 && !strings.HasPrefix(l, "created by ") {
					l = l[:j]
				}
				if j := strings.Index(l, " in goroutine"); j > 0 {
					l = l[:j]
				}
				sig += l + "; "
			}
		}
		m[sig]++
	}
	return m
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// settle waits until goroutines and live instances are back to their
// baseline (idle connections closed on both sides first).
func settle(t testing.TB, h *host, base map[string]int, instances float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var g map[string]int
	var inst float64
	for time.Now().Before(deadline) {
		h.client.CloseIdleConnections()
		inst = h.metric("edgenome_instances_live")
		h.client.CloseIdleConnections()
		g = busyGoroutines()
		if total(g) <= total(base) && inst <= instances {
			t.Logf("settled: %d goroutines (baseline %d), %v live instances (baseline %v)", total(g), total(base), inst, instances)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	var extra []string
	for sig, n := range g {
		if n > base[sig] {
			extra = append(extra, fmt.Sprintf("%d x %s", n-base[sig], sig))
		}
	}
	t.Errorf("not back to baseline after 10 s: %d busy goroutines (baseline %d), %v live instances (baseline %v); more than at the start: %v",
		total(g), total(base), inst, instances, extra)
}

// TestHostilePlugins runs every hostile plugin behaviour against one host
// while a well-behaved plugin is measured next to it. Each gets its
// documented status and code, is counted in /metrics, and leaves no
// goroutine or instance behind.
func TestHostilePlugins(t *testing.T) {
	victim := newAcceptCounter(t) // loopback service nobody may reach
	allowed := newOriginHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	allowedHost := strings.TrimPrefix(allowed.URL, "http://")
	// Every name resolves to an address the guard must refuse.
	fakeDNS := map[string]netip.Addr{
		"loopback.test": netip.MustParseAddr("127.0.0.1"),
		"private.test":  netip.MustParseAddr("10.1.2.3"),
		"metadata.test": netip.MustParseAddr("169.254.169.254"),
		"v6.test":       netip.MustParseAddr("::1"),
	}
	opt := withResolver(func(ctx context.Context, host string) ([]netip.Addr, error) {
		if a, ok := fakeDNS[host]; ok {
			return []netip.Addr{a}, nil
		}
		return nil, fmt.Errorf("no such host %s", host)
	})
	haveC := true
	var cWasm, cBad, cMain, cSpinner []byte
	if _, err := exec.LookPath("clang-14"); err != nil && os.Getenv("EDGENOME_REQUIRE_TOOLS") != "1" {
		haveC = false
		t.Log("clang-14 missing: the C plugin cases are skipped")
	} else {
		cWasm, cBad = buildC(t), buildC(t, "-DBADIMPORT")
		cMain, cSpinner = buildC(t, "-DHELPER"), buildC(t, "-DSPINNER")
	}
	// A big object behind an allowed origin, for the fetch flood.
	big := newOrigin(t, []byte(strings.Repeat("x", 4<<20)))
	cfg := fmt.Sprintf(`fetch: {allowed_hosts: ["*:*", %q, %q], timeout: 2s}
limits: {plugins: {testkit: {timeout: 1500ms, memory: 48MiB, max_output: 1MiB, max_fetch: 1MiB}, hostilec: {timeout: 1s}, hostileh: {timeout: 1s}}}
`, allowedHost, strings.TrimPrefix(big.URL, "http://"))
	opt.Logger = quietLogger(t)
	h := startHostWith(t, cfg, opt, func(reg string) {
		installRaw(t, reg, "notwasm", []byte("#!/bin/sh\nrm -rf /\n"), cManifest(t, "notwasm"))
		installRaw(t, reg, "truncated", cWasmOr(cWasm)[:20], cManifest(t, "truncated"))
		if haveC {
			installRaw(t, reg, "hostilec", cWasm, cManifest(t, "hostilec"))
			installRaw(t, reg, "badimport", cBad, cManifest(t, "badimport"))
			// A drop-in whose spin is in a helper module: the helper is
			// rewritten for preemption like any main module.
			m := cManifest(t, "hostileh") + "  - name: helper_spin\n    content_type: text/plain\nmodules:\n  - name: spinner\n    wasm: spinner.wasm\n"
			installRaw(t, reg, "hostileh", cMain, m, pluginbuild.Helper{Name: "spinner", Wasm: cSpinner})
		}
	}, testkit, hostilePlugin)

	// Warm up, then take the baselines.
	noopLatency(t, h, 10)
	before := noopLatency(t, h, 30)
	h.client.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
	baseG := busyGoroutines()
	baseInst := h.metric("edgenome_instances_live")
	t.Logf("baseline: noop p50 %v, %d goroutines, %v live instances", before, total(baseG), baseInst)

	type call struct {
		name   string
		path   string
		status int
		code   string
		msg    string
		plugin string
		export string
		needC  bool
	}
	victimURL := func(host string) string { return "http://" + host + ":" + victim.port() + "/secret" }
	redirect := func(to string) string { return allowed.URL + "/r?to=" + to }
	ssrf := func(name, target, msg string) call {
		return call{name: "ssrf/" + name, path: "/plugin/hostile/open?target=" + urlQueryEscape(target),
			status: 403, code: "source_denied", msg: msg, plugin: "hostile", export: "open"}
	}
	calls := []call{
		{name: "spin", path: "/plugin/testkit/spin", status: 504, code: "timeout", msg: "time limit", plugin: "testkit", export: "spin"},
		{name: "memhog", path: "/plugin/testkit/memhog", status: 422, code: "memory_limit", msg: "48MiB", plugin: "testkit", export: "memhog"},
		{name: "trap", path: "/plugin/testkit/trap", status: 500, code: "plugin_crashed", plugin: "testkit", export: "trap"},
		{name: "exit", path: "/plugin/testkit/exit", status: 500, code: "plugin_crashed", msg: "exit code 3", plugin: "testkit", export: "exit"},
		// Output and fetch floods past the hold are aborted streams (status -1 here).
		{name: "flood", path: "/plugin/testkit/flood", status: -1, code: "output_limit", plugin: "testkit", export: "flood"},
		{name: "fetch-flood", path: "/plugin/testkit/fetch?url=" + big.URL + "/big", status: -1, code: "fetch_limit", plugin: "testkit", export: "fetch"},
		ssrf("loopback", victimURL("127.0.0.1"), "private or reserved"),
		ssrf("loopback-v6", "http://[::1]:"+victim.port()+"/", "private or reserved"),
		ssrf("private-10", "http://10.0.0.1/", "private or reserved"),
		ssrf("private-192", "http://192.168.1.1/", "private or reserved"),
		ssrf("private-172", "http://172.16.0.1/", "private or reserved"),
		ssrf("link-local", "http://169.254.1.1/", "private or reserved"),
		ssrf("metadata", "http://169.254.169.254/latest/meta-data/", "private or reserved"),
		ssrf("cgnat", "http://100.100.100.200/", "private or reserved"),
		ssrf("unspecified", "http://0.0.0.0:"+victim.port()+"/", "private or reserved"),
		ssrf("numeric-host", "http://2130706433:"+victim.port()+"/", "numeric host"),
		ssrf("mapped-v6", "http://[::ffff:127.0.0.1]:"+victim.port()+"/", "private or reserved"),
		ssrf("dns-loopback", victimURL("loopback.test"), "resolves to 127.0.0.1"),
		ssrf("dns-private", "http://private.test/", "resolves to 10.1.2.3"),
		ssrf("dns-metadata", "http://metadata.test/latest/", "resolves to 169.254.169.254"),
		ssrf("dns-v6-loopback", victimURL("v6.test"), "resolves to ::1"),
		ssrf("redirect-loopback", redirect(victimURL("127.0.0.1")), "private or reserved"),
		ssrf("redirect-dns", redirect(victimURL("loopback.test")), "resolves to 127.0.0.1"),
		ssrf("redirect-metadata", redirect("http://169.254.169.254/latest/meta-data/"), "private or reserved"),
		ssrf("file-scheme", "file:///etc/passwd", "local paths are only allowed for configured references"),
		{name: "c-spin", path: "/plugin/hostilec/spin", status: 504, code: "timeout", msg: "time limit", plugin: "hostilec", export: "spin", needC: true},
		{name: "c-helper-spin", path: "/plugin/hostileh/helper_spin", status: 504, code: "timeout", msg: "time limit", plugin: "hostileh", export: "helper_spin", needC: true},
		{name: "c-exit", path: "/plugin/hostilec/exit", status: 500, code: "plugin_crashed", msg: "exit code 7", plugin: "hostilec", export: "exit", needC: true},
		// Registry entries that never load: the caller gets 404, /plugins
		// says why, edgenome_registry_errors counts them.
		{name: "not-wasm", path: "/plugin/notwasm", status: 404, code: "no_such_plugin"},
		{name: "truncated-wasm", path: "/plugin/truncated", status: 404, code: "no_such_plugin"},
		{name: "missing-import", path: "/plugin/badimport", status: 404, code: "no_such_plugin", needC: true},
	}

	// The hostile calls run in parallel (spins included) while noop is
	// measured.
	type result struct {
		status int
		body   string
		hdr    http.Header
		err    error
	}
	results := make([]result, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		if c.needC && !haveC {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := h.client.Get(h.base + c.path)
			if err != nil {
				results[i] = result{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			results[i] = result{status: resp.StatusCode, body: string(b), hdr: resp.Header, err: err}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	during := noopLatency(t, h, 30)
	wg.Wait()
	t.Logf("noop p50: %v before, %v while the hostile plugins run", before, during)
	if during > 5*before+50*time.Millisecond {
		t.Errorf("noop p50 %v while hostile plugins run, %v before: neighbours are harmed", during, before)
	}

	for i, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if c.needC && !haveC {
				t.Skip("clang-14 missing")
			}
			r := results[i]
			if c.status == -1 {
				if r.err == nil {
					t.Errorf("stream ended cleanly (status %d, %d bytes); it must be aborted", r.status, len(r.body))
				}
			} else {
				if r.err != nil {
					t.Fatalf("request failed: %v", r.err)
				}
				wantJSONError(t, r.status, r.body, r.hdr, c.status, c.code, c.msg)
			}
			if c.plugin != "" {
				st := c.status
				if st == -1 {
					st = map[string]int{"output_limit": 413, "fetch_limit": 413}[c.code]
				}
				if got := h.metric(requestsSeries(c.plugin, c.export, st, c.code)); got < 1 {
					t.Errorf("/metrics does not count it: %s = %v", requestsSeries(c.plugin, c.export, st, c.code), got)
				}
			}
		})
	}
	if n := victim.n.Load(); n != 0 {
		t.Errorf("the loopback victim accepted %d connections; the address guard must refuse before dialling", n)
	}
	_, body, _ := h.get("/plugins")
	for _, want := range []string{`"notwasm":`, `"truncated":`} {
		if !strings.Contains(body, want) {
			t.Errorf("/plugins errors lack %s", want)
		}
	}
	if haveC && !strings.Contains(body, `"badimport":`) || haveC && !strings.Contains(body, "no_such_function") {
		t.Errorf("/plugins errors do not explain the missing import: %s", body)
	}
	wantErrs := 2.0
	if haveC {
		wantErrs = 3
	}
	if got := h.metric("edgenome_registry_errors"); got != wantErrs {
		t.Errorf("edgenome_registry_errors = %v, want %v", got, wantErrs)
	}
	// The host is still whole: every plugin serves again.
	for _, p := range []string{"/plugin/testkit/echo?msg=ok", "/plugin/hostile/open?target=" + urlQueryEscape(big.URL+"/x")} {
		if st, _, _ := h.get(p); st != 200 {
			t.Errorf("after the hostile calls %s: %d", p, st)
		}
	}
	if haveC {
		if st, _, _ := h.get("/plugin/hostilec/noop"); st != 200 {
			t.Errorf("C plugin noop after its spin and exit: %d", st)
		}
		if st, _, _ := h.get("/plugin/hostileh/noop"); st != 200 {
			t.Errorf("C plugin noop after its helper's spin: %d", st)
		}
	}
	settle(t, h, baseG, baseInst)
}

// withResolver returns app.Options whose Fetch hook sets the range
// fetcher's LookupNetIP (and any other fields named in more). tests/ may
// not import host/internal/rangefetch, so the hook is built by reflection
// on app.Options.Fetch's own type.
func withResolver(lookup func(ctx context.Context, host string) ([]netip.Addr, error), more ...any) app.Options {
	var opt app.Options
	fv := reflect.ValueOf(&opt).Elem().FieldByName("Fetch")
	fv.Set(reflect.MakeFunc(fv.Type(), func(args []reflect.Value) []reflect.Value {
		cfg := args[0].Elem()
		cfg.FieldByName("LookupNetIP").Set(reflect.ValueOf(lookup))
		for i := 0; i+1 < len(more); i += 2 {
			cfg.FieldByName(more[i].(string)).Set(reflect.ValueOf(more[i+1]))
		}
		return nil
	}))
	return opt
}

// TestHangingDNS: a resolver that never answers costs a call the DNS
// timeout, not the plugin's whole time limit, and holds nothing after.
func TestHangingDNS(t *testing.T) {
	var lookups atomic.Int64
	opt := withResolver(func(ctx context.Context, host string) ([]netip.Addr, error) {
		lookups.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	}, "DNSTimeout", 300*time.Millisecond, "Retries", 0)
	opt.Logger = quietLogger(t)
	h := startHostWith(t, "fetch: {allowed_hosts: [\"*.test\"]}\n", opt, nil, hostilePlugin)
	start := time.Now()
	st, body, hdr := h.get("/plugin/hostile/open?target=" + url.QueryEscape("http://hang.test/x"))
	took := time.Since(start)
	if st != 502 && st != 504 {
		t.Errorf("hanging DNS: %d %s; want a 502/504 origin error", st, body)
	} else {
		var e apiError
		if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("not a JSON error: %s", body)
		}
		t.Logf("hanging DNS: %d %s after %v (%d lookups)", st, strings.TrimSpace(body), took, lookups.Load())
	}
	if took > 2*time.Second {
		t.Errorf("a hanging resolver held the call %v; DNS timeout is 300ms", took)
	}
}

func cWasmOr(b []byte) []byte {
	if len(b) >= 20 {
		return b
	}
	// Without clang: a valid Wasm header followed by a cut-off section.
	return []byte("\x00asm\x01\x00\x00\x00\x01\x7f\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// rawExchange writes req on a new connection and returns what the server
// sends back until it closes the connection or wait passes.
func rawExchange(t testing.TB, addr, req string, wait time.Duration) (string, time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	b, _ := io.ReadAll(c)
	return string(b), time.Since(start)
}

// TestServerLimits: the HTTP server's own defences, each against a client
// that misbehaves on purpose.
func TestServerLimits(t *testing.T) {
	h := startHost(t, "server: {read_header_timeout: 300ms, idle_timeout: 300ms, max_header_bytes: 16KiB, max_body: 1MiB}\n", testkit, "plugins/kmer", "plugins/fastqc")
	addr := strings.TrimPrefix(h.base, "http://")

	t.Run("slow-headers", func(t *testing.T) {
		// Slowloris: headers that never end are cut at read_header_timeout.
		got, took := rawExchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n", 3*time.Second)
		if took > 1500*time.Millisecond {
			t.Errorf("connection with unfinished headers still open after %v (read_header_timeout 300ms)", took)
		}
		if strings.Contains(got, "200 OK") {
			t.Errorf("unfinished request answered: %q", got)
		}
	})
	t.Run("idle", func(t *testing.T) {
		got, took := rawExchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 3*time.Second)
		if !strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Fatalf("healthz: %q", got)
		}
		if took > 1500*time.Millisecond {
			t.Errorf("idle keep-alive connection still open after %v (idle_timeout 300ms)", took)
		}
	})
	t.Run("header-size", func(t *testing.T) {
		// max_header_bytes is enforced by the host (JSON 431); net/http's
		// own plain-text 431 only starts at 1 MiB.
		ok, _ := rawExchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "+strings.Repeat("a", 15<<10)+"\r\n\r\n", 3*time.Second)
		if !strings.HasPrefix(ok, "HTTP/1.1 200") {
			t.Errorf("15 KiB header under a 16 KiB limit: %.80q", ok)
		}
		big, _ := rawExchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 21<<10)+"\r\n\r\n", 3*time.Second)
		if !strings.HasPrefix(big, "HTTP/1.1 431") || !strings.Contains(big, `"code":"header_limit"`) {
			t.Errorf("21 KiB header over a 16 KiB limit: %.200q, want a JSON 431", big)
		}
	})
	t.Run("body-declared", func(t *testing.T) {
		st, body, hdr := h.post("/plugin/kmer/histo?k=5", "text/plain", bytes.NewReader(bytes.Repeat([]byte("A"), 2<<20)))
		wantJSONError(t, st, body, hdr, 413, "input_limit", "1MiB")
	})
	t.Run("body-chunked", func(t *testing.T) {
		// No Content-Length: the body is cut at max_body while it streams.
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte(">x\n"))
			for range 64 {
				if _, err := pw.Write(bytes.Repeat([]byte("ACGT"), 8<<10)); err != nil {
					return
				}
			}
			pw.Close()
		}()
		resp, err := h.client.Post(h.base+"/plugin/kmer/histo?k=5", "text/plain", pr)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantJSONError(t, resp.StatusCode, string(body), resp.Header, 413, "input_limit", "1MiB")
		// The rest of the body stays unread and the connection is closed:
		// the answer must say so ("Connection: close", which net/http's
		// client turns into resp.Close), or the next request on it fails.
		if !resp.Close {
			t.Error("413 to an unfinished body does not close the connection")
		}
	})
	t.Run("chunked-body-streamed-back", func(t *testing.T) {
		// Output starts while the chunked body is still arriving: no byte of
		// the body may be lost to net/http's discarding of unread bodies.
		want := strings.Repeat("ACGT", 900<<8) // 900 KiB
		pr, pw := io.Pipe()
		go func() {
			for i := 0; i < len(want); i += 32 << 10 {
				pw.Write([]byte(want[i:min(i+32<<10, len(want))]))
			}
			pw.Close()
		}()
		st, body, _ := h.post("/plugin/testkit/echo", "application/octet-stream", pr)
		if st != 200 || body != want {
			t.Errorf("echo of a chunked body: %d, %d bytes back of %d", st, len(body), len(want))
		}
	})
	t.Run("chunked-truncated-gzip", func(t *testing.T) {
		small := gzipBomb(t, 64<<10)
		for range 5 {
			pr, pw := io.Pipe()
			go func() { pw.Write(small[:len(small)-12]); pw.Close() }()
			st, body, hdr := h.post("/plugin/fastqc", "application/gzip", pr)
			wantJSONError(t, st, body, hdr, 400, "bad_input", "gzip")
		}
	})
	t.Run("chunked-gzip-rejected-early", func(t *testing.T) {
		// The plugin rejects the first record while the client still sends.
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		for i := range 20000 {
			fmt.Fprintf(zw, ">not fastq %d\n%s\n", i, strings.Repeat("ACGT", 25))
		}
		zw.Close()
		for range 5 {
			pr, pw := io.Pipe()
			go func() {
				data := zb.Bytes()
				for i := 0; i < len(data); i += 4096 {
					if _, err := pw.Write(data[i:min(i+4096, len(data))]); err != nil {
						return
					}
					time.Sleep(time.Millisecond)
				}
				pw.Close()
			}()
			st, body, hdr := h.post("/plugin/fastqc", "application/gzip", pr)
			wantJSONError(t, st, body, hdr, 400, "bad_input", "")
			pr.Close()
		}
	})
	if st, _, _ := h.get("/healthz"); st != 200 {
		t.Errorf("host after the hostile clients: %d", st)
	}
}

// TestRateLimit: the per-client limit is keyed on the connection's address,
// so a forged X-Forwarded-For does not buy a fresh bucket; behind a trusted
// proxy, the address the proxy appended is the key.
func TestRateLimit(t *testing.T) {
	h := startHost(t, "server: {rate_limit: {requests_per_second: 0.5, burst: 3}}\n", testkit)
	do := func(h *host, xff string) (int, string, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, h.base+"/plugin/testkit/noop", nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
			req.Header.Set("X-Real-IP", strings.Split(xff, ",")[0])
		}
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b), resp.Header
	}
	for i := range 3 {
		if st, body, _ := do(h, ""); st != 200 {
			t.Fatalf("call %d within the burst: %d %s", i+1, st, body)
		}
	}
	st, body, hdr := do(h, "")
	wantJSONError(t, st, body, hdr, 429, "rate_limited", "requests per second")
	if ra, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Errorf("Retry-After = %q, want 1..2 s (one token per 2 s)", hdr.Get("Retry-After"))
	}
	for i := range 5 {
		st, body, hdr := do(h, fmt.Sprintf("203.0.113.%d", i+1))
		wantJSONError(t, st, body, hdr, 429, "rate_limited", "127.0.0.1")
	}
	if st, _, _ := h.get("/healthz"); st != 200 {
		t.Errorf("/healthz is exempt from the rate limit; got %d", st)
	}
	if got := h.metric("edgenome_rate_limited_total"); got != 6 {
		t.Errorf("edgenome_rate_limited_total = %v, want 6", got)
	}

	// Behind a trusted proxy (loopback here), each client has its bucket,
	// and only the address the proxy appended counts.
	p := startHost(t, "server: {rate_limit: {requests_per_second: 0.5, burst: 2}, trusted_proxies: [127.0.0.1]}\n", testkit)
	for i := range 5 {
		if st, body, _ := do(p, fmt.Sprintf("203.0.113.%d", i+1)); st != 200 {
			t.Errorf("client %d behind the proxy: %d %s", i+1, st, body)
		}
	}
	var codes []int
	for i := range 3 {
		// The client forges the left part; the proxy appended 198.51.100.8.
		st, _, _ := do(p, fmt.Sprintf("10.0.0.%d, 198.51.100.8", i+1))
		codes = append(codes, st)
	}
	if !slices.Equal(codes, []int{200, 200, 429}) {
		t.Errorf("one client forging X-Forwarded-For prefixes: statuses %v, want [200 200 429]", codes)
	}
}

// TestSIGTERM runs the real binary: on SIGTERM it stops accepting, lets a
// short streaming call finish, cuts a long one at shutdown_grace, and exits.
func TestSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "edgenome")
	build := exec.Command("go", "build", "-o", bin, "./host/cmd/edgenome")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	reg := filepath.Join(dir, "registry")
	_, entry := buildPlugin(t, testkit)
	install(t, entry, reg, "testkit")
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`server: {addr: "127.0.0.1:0", shutdown_grace: 1s}
registry: {dir: %q, cache_dir: %q, watch: false}
limits: {plugins: {testkit: {timeout: 30s}}}
`, reg, cacheDir)), 0o644)
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The log names the address it listens on.
	addrCh := make(chan string, 1)
	var logMu sync.Mutex
	var logBuf strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			logBuf.WriteString(line + "\n")
			logMu.Unlock()
			if i := strings.Index(line, "addr="); i >= 0 && strings.Contains(line, "edgenome serving") {
				addrCh <- strings.Fields(line[i+len("addr="):])[0]
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case <-time.After(20 * time.Second):
		t.Fatal("the binary did not report its address")
	}
	base := "http://" + addr
	type result struct {
		body string
		err  error
	}
	call := func(q string) chan result {
		ch := make(chan result, 1)
		go func() {
			resp, err := http.Get(base + "/plugin/testkit/stream?" + q)
			if err != nil {
				ch <- result{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			ch <- result{string(b), err}
		}()
		return ch
	}
	short := call("n=3&sleep_ms=200")  // 0.6 s: finishes inside the grace
	long := call("n=100&sleep_ms=100") // 10 s: cut at the grace
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// It stops accepting at once.
	refused := false
	for time.Since(start) < 500*time.Millisecond {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if !refused {
		t.Errorf("still accepting connections 500 ms after SIGTERM")
	}
	if r := <-short; r.err != nil || r.body != "line\nline\nline\n" {
		t.Errorf("call running at SIGTERM, inside the grace: %q, %v", r.body, r.err)
	}
	r := <-long
	cut := time.Since(start)
	if r.err == nil {
		t.Errorf("call outlasting the grace ended cleanly with %d lines; it must be cut", strings.Count(r.body, "\n"))
	}
	if cut > 2500*time.Millisecond {
		t.Errorf("long call cut %v after SIGTERM; shutdown_grace is 1s", cut)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Logf("exited %v after SIGTERM (%v); long call got %d lines then %v", time.Since(start), err, strings.Count(r.body, "\n"), r.err)
	case <-time.After(5 * time.Second):
		logMu.Lock()
		t.Fatalf("still running 5 s after SIGTERM (grace 1s)\n%s", logBuf.String())
	}
}

// TestClientsThatLeave: callers that hang up at any moment (before the
// call, during it, while output streams, while a source is read) are
// counted as client_closed, never as a host or origin failure.
func TestClientsThatLeave(t *testing.T) {
	o := newOrigin(t, bytes.Repeat([]byte("ACGT"), 1<<20))
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.URL, "http://")), testkit)
	paths := []string{
		"/plugin/testkit/noop",
		"/plugin/testkit/stream?n=5&sleep_ms=5",
		"/plugin/testkit/fetch?n=4096&url=" + o.URL + "/obj",
		"/plugin/testkit/rangeread?n=3000000&url=" + o.URL + "/obj",
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%20)*500*time.Microsecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.base+paths[i%len(paths)], nil)
			if resp, err := h.client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		if i%8 == 7 {
			wg.Wait()
		}
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	_, body, _ := h.get("/metrics")
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "edgenome_requests_total{") && !strings.Contains(line, `status="200"`) {
			t.Log(line)
			if !strings.Contains(line, `code="client_closed"`) {
				t.Errorf("a caller hanging up was counted as %s", line)
			}
		}
	}
}
