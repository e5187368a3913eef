package rangefetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testOrigin is an origin that serves one object through http.ServeContent
// (real Range, If-Match, If-None-Match and 416 handling) and misbehaves on
// command through fault.
type testOrigin struct {
	srv *httptest.Server

	mu    sync.Mutex
	data  []byte
	etag  string    // "" for none
	mod   time.Time // zero for no Last-Modified
	fault func(w http.ResponseWriter, r *http.Request, data []byte) bool
	gate  chan struct{} // when set, requests wait for it to close

	requests atomic.Int64
	sent     atomic.Int64 // body bytes written
	accepts  atomic.Int64 // TCP connections accepted
	rmu      sync.Mutex
	ranges   []string
}

func newOrigin(t testing.TB, data []byte) *testOrigin {
	t.Helper()
	o := &testOrigin{data: data, etag: `"v1"`, mod: time.Unix(1_700_000_000, 0).UTC()}
	o.srv = httptest.NewUnstartedServer(o)
	o.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			o.accepts.Add(1)
		}
	}
	o.srv.Start()
	t.Cleanup(o.srv.Close)
	return o
}

func (o *testOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	o.rmu.Lock()
	o.ranges = append(o.ranges, r.Header.Get("Range"))
	o.rmu.Unlock()
	o.mu.Lock()
	data, etag, mod, fault, gate := o.data, o.etag, o.mod, o.fault, o.gate
	o.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	cw := &countingWriter{ResponseWriter: w, n: &o.sent}
	if fault != nil && fault(cw, r, data) {
		return
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	http.ServeContent(cw, r, "", mod, bytes.NewReader(data))
}

func (o *testOrigin) set(data []byte, etag string, mod time.Time) {
	o.mu.Lock()
	o.data, o.etag, o.mod = data, etag, mod
	o.mu.Unlock()
}

func (o *testOrigin) setFault(fn func(w http.ResponseWriter, r *http.Request, data []byte) bool) {
	o.mu.Lock()
	o.fault = fn
	o.mu.Unlock()
}

func (o *testOrigin) setGate(g chan struct{}) {
	o.mu.Lock()
	o.gate = g
	o.mu.Unlock()
}

func (o *testOrigin) takeRanges() []string {
	o.rmu.Lock()
	defer o.rmu.Unlock()
	r := o.ranges
	o.ranges = nil
	return r
}

func (o *testOrigin) url(path string) string { return o.srv.URL + path }

func (o *testOrigin) hostport() string {
	u, _ := url.Parse(o.srv.URL)
	return u.Host
}

func (o *testOrigin) port() string {
	u, _ := url.Parse(o.srv.URL)
	return u.Port()
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingWriter) Flush() { c.ResponseWriter.(http.Flusher).Flush() }

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// testData returns n reproducible pseudo-random bytes.
func testData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

const testBlock = 4096

// newTestFetcher allows the given origins explicitly, uses small blocks and
// short waits, and resolves *.localtest to loopback.
func newTestFetcher(t testing.TB, cfg Config, origins ...*testOrigin) *Fetcher {
	t.Helper()
	if cfg.BlockSize == 0 {
		cfg.BlockSize = testBlock
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 1 << 20
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = time.Millisecond
	}
	if cfg.LookupNetIP == nil {
		cfg.LookupNetIP = localtestResolver
	}
	for _, o := range origins {
		cfg.AllowedHosts = append(cfg.AllowedHosts, o.hostport())
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func localtestResolver(_ context.Context, host string) ([]netip.Addr, error) {
	switch {
	case host == "localtest" || len(host) > 10 && host[len(host)-10:] == ".localtest":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	case host == "mixed.example":
		return []netip.Addr{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// readAll reads a whole object through ReadAt in chunks of n.
func readAll(t testing.TB, o *Object, n int) []byte {
	t.Helper()
	out := make([]byte, 0, o.Size())
	buf := make([]byte, n)
	for off := int64(0); off < o.Size(); off += int64(n) {
		k, err := o.ReadAt(buf, off)
		if err != nil && !(errors.Is(err, io.EOF) && off+int64(k) == o.Size()) {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
		out = append(out, buf[:k]...)
	}
	return out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
