package tests

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultyOrigin serves objects that misbehave on command: the fault applies
// until cleared, after which the same URL serves correctly.
type faultyOrigin struct {
	mu       sync.Mutex
	fault    string
	version  atomic.Int64 // bumps on every request while fault == "changing"
	requests atomic.Int64
}

func (o *faultyOrigin) set(f string) {
	o.mu.Lock()
	o.fault = f
	o.mu.Unlock()
}

func (o *faultyOrigin) get() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fault
}

// object is the content of a path at a version: deterministic bytes whose
// size is the number after the last '-' (in KiB).
func object(path string, version int64) []byte {
	kib, _ := strconv.Atoi(path[strings.LastIndexByte(path, '-')+1:])
	b := make([]byte, kib<<10)
	for i := range b {
		b[i] = byte('a' + (i/1024+int(version))%26)
	}
	return b
}

func (o *faultyOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	v := int64(1)
	fault := o.get()
	switch fault {
	case "changing":
		v = o.version.Add(1)
	case "replaced":
		v = 7
	}
	data := object(r.URL.Path, v)
	wait := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
	switch fault {
	case "slow-first-byte":
		wait(3 * time.Second)
	case "stall":
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		wait(3 * time.Second)
		return
	case "reset":
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/3])
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case "500", "503", "403", "404":
		code, _ := strconv.Atoi(fault)
		http.Error(w, "fault "+fault, code)
		return
	case "416":
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return
	case "ignore-range":
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data)
		return
	case "wrong-content-range":
		w.Header().Set("Content-Range", fmt.Sprintf("bytes 1-%d/%d", min(len(data), 4096), len(data)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(data[1 : min(len(data), 4096)+1])
		return
	case "redirect-loop":
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
		return
	}
	w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, v))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// TestFaultyOrigins reads objects through a plugin from an origin that
// misbehaves in each way rangefetch knows; each gets a bounded wait and a
// clear error, and once the origin recovers the same URL gives the right
// bytes (nothing partial or stale was cached).
func TestFaultyOrigins(t *testing.T) {
	o := &faultyOrigin{}
	srv := newOriginHandler(t, o)
	host := strings.TrimPrefix(srv.URL, "http://")
	const fetchTimeout = 500 * time.Millisecond
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q], timeout: %v}\ncache: {block_size: 64KiB}\nlimits: {plugins: {testkit: {timeout: 10s}}}\n",
		host, fetchTimeout), testkit)
	cases := []struct {
		fault  string
		kib    int
		status int // -1: the stream is aborted after output began
		code   string
		msg    string
	}{
		{"slow-first-byte", 16, 504, "origin_timeout", ""},
		{"stall", 48, 504, "origin_timeout", ""},
		{"reset", 48, 502, "origin_error", ""},
		{"500", 16, 502, "origin_error", "500"},
		{"503", 16, 502, "origin_error", "503"},
		{"403", 16, 403, "source_forbidden", ""},
		{"404", 16, 404, "source_not_found", ""},
		{"416", 16, 502, "origin_error", "416"},
		{"ignore-range", 1024, 502, "origin_error", ""},
		{"wrong-content-range", 16, 502, "origin_error", ""},
		{"redirect-loop", 16, 502, "origin_error", "redirect"},
		// The object changes under every request: the second block read in
		// one call sees another version.
		{"changing", 256, 409, "source_changed", ""},
	}
	for _, c := range cases {
		t.Run(c.fault, func(t *testing.T) {
			path := fmt.Sprintf("/%s-%d", c.fault, c.kib)
			// Reads of 16 KiB over 64 KiB blocks: several origin requests per
			// call. Objects stay below the 64 KiB the host holds back, except
			// the big ones, whose first read fails before output.
			url := h.base + "/plugin/testkit/fetch?n=16384&url=" + srv.URL + path
			o.set(c.fault)
			start := time.Now()
			resp, err := h.client.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			took := time.Since(start)
			if took > 3*(fetchTimeout+500*time.Millisecond) {
				t.Errorf("took %v; the wait must be bounded by fetch.timeout (%v) and the retries", took, fetchTimeout)
			}
			if resp.StatusCode == 200 && rerr != nil {
				t.Logf("stream aborted after %d bytes (%v)", len(b), rerr)
				if c.status != -1 && c.kib*1024 <= 64<<10 {
					t.Errorf("a failure before 64 KiB of output must be a JSON error, not an aborted stream")
				}
			} else {
				wantJSONError(t, resp.StatusCode, string(b), resp.Header, c.status, c.code, c.msg)
			}
			t.Logf("%s: %d %s after %v", c.fault, resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 160)])), took)

			o.set("")
			st, body, _ := h.get("/plugin/testkit/fetch?n=16384&url=" + srv.URL + path)
			if st != 200 {
				t.Fatalf("after the origin recovered: %d %.200s", st, body)
			}
			if want := object(path, 1); body != string(want) {
				t.Errorf("after the origin recovered: %d bytes, want %d; first difference at %d (stale or partial data cached)",
					len(body), len(want), firstDifference(body, string(want)))
			}
			// The object is then replaced for good: the next call must see
			// the new version, not cached blocks of the old one.
			o.set("replaced")
			st, body, _ = h.get("/plugin/testkit/fetch?n=16384&url=" + srv.URL + path)
			if want := object(path, 7); st != 200 || body != string(want) {
				t.Errorf("after the object was replaced: %d, %d bytes; first difference at %d (stale data served)",
					st, len(body), firstDifference(body, string(want)))
			}
		})
	}
}

func firstDifference(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
