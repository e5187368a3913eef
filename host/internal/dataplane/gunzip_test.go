package dataplane

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

func gz(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&b)
		w.Write([]byte(p))
		w.Close()
	}
	return b.Bytes()
}

func TestGunzip(t *testing.T) {
	big := strings.Repeat("@r\nACGT\n+\nIIII\n", 100000)
	full := gz(big)
	tests := []struct {
		name string
		in   []byte
		want string
		err  error
	}{
		{"plain passes through", []byte(">s\nACGT\n"), ">s\nACGT\n", nil},
		{"empty", nil, "", nil},
		{"gzip", full, big, nil},
		{"multi-member", gz("@a\nA\n+\nI\n", "@b\nC\n+\nI\n"), "@a\nA\n+\nI\n@b\nC\n+\nI\n", nil},
		{"truncated", full[:len(full)/2], "", ErrBadBody},
		{"bad header", []byte{0x1f, 0x8b, 0, 0}, "", ErrBadBody},
	}
	for _, tt := range tests {
		r, stop := Gunzip(bytes.NewReader(tt.in))
		got, err := io.ReadAll(r)
		stop()
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %d bytes, err %v", tt.name, len(got), err)
		}
	}
}

// A call that stops reading (plugin failed, client left) must not leave
// the decoding goroutine behind.
func TestGunzipStopEndsGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		r, stop := Gunzip(bytes.NewReader(gz(strings.Repeat("ACGT", 1<<20))))
		r.Read(make([]byte, 10))
		stop()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after", before, n)
	}
}
