package rangefetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rangeOf parses the request's "bytes=a-b" (our client only sends that form).
func rangeOf(r *http.Request) (start, end int64) {
	fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &start, &end)
	return start, end
}

// partial writes a 206 for the asked range with the given header tweaks and
// body.
func partial(w http.ResponseWriter, r *http.Request, data []byte, cr string, body []byte) {
	w.Header().Set("ETag", `"v1"`)
	if cr != "" {
		w.Header().Set("Content-Range", cr)
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusPartialContent)
	w.Write(body)
}

func askedRange(r *http.Request, data []byte) (start, end int64, cr string, body []byte) {
	start, end = rangeOf(r)
	end = min(end, int64(len(data))-1)
	return start, end, fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)), data[start : end+1]
}

// resetAfter hijacks the connection, sends headers and n body bytes of a
// correct 206, then resets the connection.
func resetAfter(w http.ResponseWriter, r *http.Request, data []byte, n int) {
	start, end, cr, body := askedRange(r, data)
	_ = start
	_ = end
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	fmt.Fprintf(buf, "HTTP/1.1 206 Partial Content\r\nETag: \"v1\"\r\nContent-Range: %s\r\nContent-Length: %d\r\n\r\n", cr, len(body))
	buf.Write(body[:min(n, len(body))])
	buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST instead of FIN
	}
	conn.Close()
}

func TestFaultyOrigins(t *testing.T) {
	const size = 6 * testBlock
	data := testData(size, 20)
	later := func(fn func(w http.ResponseWriter, r *http.Request, data []byte)) func(http.ResponseWriter, *http.Request, []byte) bool {
		return func(w http.ResponseWriter, r *http.Request, data []byte) bool {
			if s, _ := rangeOf(r); s == 0 {
				return false // the open succeeds; later reads misbehave
			}
			fn(w, r, data)
			return true
		}
	}
	always := func(fn func(w http.ResponseWriter, r *http.Request, data []byte)) func(http.ResponseWriter, *http.Request, []byte) bool {
		return func(w http.ResponseWriter, r *http.Request, data []byte) bool {
			fn(w, r, data)
			return true
		}
	}
	status := func(code int, hdr ...string) func(w http.ResponseWriter, r *http.Request, data []byte) {
		return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Set(hdr[i], hdr[i+1])
			}
			w.WriteHeader(code)
		}
	}
	tests := []struct {
		name     string
		fault    func(http.ResponseWriter, *http.Request, []byte) bool
		atOpen   bool // the error comes from Open, not from a later ReadAt
		want     error
		attempts int64 // origin requests for the failing operation; 0: don't check
	}{
		{"200 ignoring Range at open", always(func(w http.ResponseWriter, _ *http.Request, data []byte) {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.Write(data)
		}), true, ErrRangeIgnored, 1},
		{"200 ignoring Range, chunked", always(func(w http.ResponseWriter, _ *http.Request, data []byte) {
			w.Write(data)
		}), true, ErrRangeIgnored, 1},
		{"200 ignoring Range later", later(func(w http.ResponseWriter, _ *http.Request, data []byte) {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.Write(data)
		}), false, ErrRangeIgnored, 1},
		{"Content-Range shifted", later(func(w http.ResponseWriter, r *http.Request, data []byte) {
			s, e, _, _ := askedRange(r, data)
			partial(w, r, data, fmt.Sprintf("bytes %d-%d/%d", s+1, e+1, len(data)), data[s+1:e+2])
		}), false, ErrBadContentRange, 1},
		{"Content-Range shifted at open", always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			partial(w, r, data, fmt.Sprintf("bytes 1-%d/%d", testBlock, len(data)), data[1:testBlock+1])
		}), true, ErrBadContentRange, 1},
		{"Content-Range malformed", later(func(w http.ResponseWriter, r *http.Request, data []byte) {
			_, _, _, body := askedRange(r, data)
			partial(w, r, data, "bytes abc", body)
		}), false, ErrBadContentRange, 1},
		{"Content-Range missing", later(func(w http.ResponseWriter, r *http.Request, data []byte) {
			_, _, _, body := askedRange(r, data)
			partial(w, r, data, "", body)
		}), false, ErrBadContentRange, 1},
		{"Content-Range self-contradictory", always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			partial(w, r, data, fmt.Sprintf("bytes 0-%d/50", testBlock-1), data[:testBlock])
		}), true, ErrBadContentRange, 1},
		{"Content-Length longer than the range", later(func(w http.ResponseWriter, r *http.Request, data []byte) {
			s, e, cr, _ := askedRange(r, data)
			partial(w, r, data, cr, data[s:e+11])
		}), false, ErrBadContentRange, 1},
		{"chunked body longer than the range", later(func(w http.ResponseWriter, r *http.Request, data []byte) {
			s, e, cr, body := askedRange(r, data)
			w.Header().Set("Content-Range", cr)
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body)
			w.(http.Flusher).Flush()
			w.Write(data[e+1 : e+11])
			_ = s
		}), false, ErrBadContentRange, 1},
		{"body shorter than promised", later(func(w http.ResponseWriter, r *http.Request, data []byte) {
			_, _, cr, body := askedRange(r, data)
			w.Header().Set("Content-Range", cr)
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[:len(body)/2])
		}), false, ErrTruncated, 3},
		{"reset mid-body", later(func(w http.ResponseWriter, r *http.Request, data []byte) {
			resetAfter(w, r, data, 1000)
		}), false, ErrTruncated, 3},
		{"reset before the response", always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}), true, ErrOriginStatus, 3},
		{"Content-Encoding gzip", later(func(w http.ResponseWriter, r *http.Request, data []byte) {
			_, _, cr, body := askedRange(r, data)
			w.Header().Set("Content-Encoding", "gzip")
			partial(w, r, data, cr, body)
		}), false, ErrBadContentRange, 1},
		{"multipart/byteranges", always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			_, _, cr, body := askedRange(r, data)
			w.Header().Set("Content-Type", "multipart/byteranges; boundary=x")
			partial(w, r, data, cr, body)
		}), true, ErrBadContentRange, 1},
		{"416 with another size", later(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			w.Header().Set("Content-Range", "bytes */10")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		}), false, ErrChanged, 1},
		{"416 without Content-Range", later(status(http.StatusRequestedRangeNotSatisfiable)), false, ErrBadContentRange, 1},
		{"416 at open for a non-empty object", always(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			w.Header().Set("Content-Range", "bytes */100")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		}), true, ErrBadContentRange, 1},
		{"403", always(status(http.StatusForbidden)), true, ErrForbidden, 1},
		{"401 later", later(status(http.StatusUnauthorized)), false, ErrForbidden, 1},
		{"404", always(status(http.StatusNotFound)), true, ErrNotFound, 1},
		{"410 later", later(status(http.StatusGone)), false, ErrNotFound, 1},
		{"500", always(status(http.StatusInternalServerError)), true, ErrOriginStatus, 3},
		{"502 later", later(status(http.StatusBadGateway)), false, ErrOriginStatus, 3},
		{"503 with a long Retry-After", always(status(http.StatusServiceUnavailable, "Retry-After", "3600")), true, ErrOriginStatus, 1},
		{"429 with a short Retry-After", later(status(http.StatusTooManyRequests, "Retry-After", "0")), false, ErrOriginStatus, 3},
		{"418", always(status(http.StatusTeapot)), true, ErrOriginStatus, 1},
		{"412 later", later(status(http.StatusPreconditionFailed)), false, ErrChanged, 1},
		{"redirect loop", always(func(w http.ResponseWriter, r *http.Request, _ []byte) {
			http.Redirect(w, r, "/loop", http.StatusFound)
		}), true, ErrTooManyRedirects, 1 + DefaultMaxRedirects},
		{"redirect loop later", later(func(w http.ResponseWriter, r *http.Request, _ []byte) {
			http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
		}), false, ErrTooManyRedirects, 1 + DefaultMaxRedirects},
		{"slow first byte", always(func(_ http.ResponseWriter, r *http.Request, _ []byte) {
			<-r.Context().Done()
		}), true, ErrTimeout, 1},
		{"slow first byte later", later(func(_ http.ResponseWriter, r *http.Request, _ []byte) {
			<-r.Context().Done()
		}), false, ErrTimeout, 1},
		{"stall mid-body", later(func(w http.ResponseWriter, r *http.Request, data []byte) {
			_, _, cr, body := askedRange(r, data)
			w.Header().Set("Content-Range", cr)
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[:100])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}), false, ErrTimeout, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, data)
			f := newTestFetcher(t, Config{Timeout: 200 * time.Millisecond}, o)
			o.setFault(tc.fault)
			s := f.NewSession(context.Background(), 0)
			defer s.Close()
			start := time.Now()
			var err error
			obj, oerr := s.Open(context.Background(), o.url("/x"), false)
			before := f.Stats()
			reqs := o.requests.Load()
			if tc.atOpen {
				err = oerr
				reqs = 0
			} else {
				if oerr != nil {
					t.Fatalf("Open: %v", oerr)
				}
				_, err = obj.ReadAt(make([]byte, 2*testBlock), 2*testBlock)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), o.url("/")) {
				t.Errorf("error %q does not name the URL", err)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if tc.attempts != 0 {
				if n := o.requests.Load() - reqs; n != tc.attempts {
					t.Errorf("origin saw %d requests, want %d", n, tc.attempts)
				}
			}
			if got := f.Stats().CachedBlocks; got != before.CachedBlocks {
				t.Errorf("the failure cached %d blocks", got-before.CachedBlocks)
			}
			// Once the origin behaves, every byte served is right: nothing
			// bad was left in the cache.
			o.setFault(nil)
			s2 := f.NewSession(context.Background(), 0)
			defer s2.Close()
			obj2, err := s2.Open(context.Background(), o.url("/x"), false)
			if err != nil {
				t.Fatalf("open after recovery: %v", err)
			}
			if got := readAll(t, obj2, 1000); !bytes.Equal(got, data) {
				t.Fatal("wrong bytes after recovery")
			}
		})
	}
}

// One transient failure is retried and the read succeeds.
func TestTransientFailureRetried(t *testing.T) {
	data := testData(4*testBlock, 21)
	for _, tc := range []struct {
		name    string
		fault   func(w http.ResponseWriter, r *http.Request, data []byte)
		partial int64
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(500) }, 0},
		{"reset mid-body", func(w http.ResponseWriter, r *http.Request, data []byte) { resetAfter(w, r, data, 10) }, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, data)
			f := newTestFetcher(t, Config{}, o)
			var once atomic.Bool
			o.setFault(func(w http.ResponseWriter, r *http.Request, data []byte) bool {
				if s, _ := rangeOf(r); s == 0 || once.Swap(true) {
					return false
				}
				tc.fault(w, r, data)
				return true
			})
			s := f.NewSession(context.Background(), 0)
			defer s.Close()
			obj, err := s.Open(context.Background(), o.url("/x"), false)
			if err != nil {
				t.Fatal(err)
			}
			reqs := o.requests.Load()
			p := make([]byte, testBlock)
			if _, err := obj.ReadAt(p, 2*testBlock); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p, data[2*testBlock:3*testBlock]) {
				t.Fatal("wrong bytes")
			}
			if n := o.requests.Load() - reqs; n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
			// The open's block, this block, and whatever the failed
			// attempt really received (a reset may drop unread bytes).
			if got := s.Fetched(); got < 2*testBlock || got > 2*testBlock+tc.partial {
				t.Errorf("Fetched = %d, want %d..%d", got, 2*testBlock, 2*testBlock+tc.partial)
			}
		})
	}
}
