package preempt

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCache(t *testing.T) {
	dir := t.TempDir()
	orig := readTestdata(t, "features.wasm")
	want := mustInstrument(t, orig, Options{Mode: ModeCounter, Interval: 500})

	c, err := NewCache(dir, Options{Mode: ModeCounter, Interval: 500}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 { // concurrent first requests share one rewrite
		wg.Go(func() {
			if got, err := c.Instrument(orig); err != nil || !bytes.Equal(got, want) {
				t.Errorf("Instrument: err %v, equal %v", err, bytes.Equal(got, want))
			}
		})
	}
	wg.Wait()
	if s := c.Stats(); s.Rewrites != 1 {
		t.Errorf("after 8 concurrent requests: %+v, want 1 rewrite", s)
	}
	if _, err := c.Instrument(orig); err != nil || c.Stats().MemoryHits == 0 {
		t.Errorf("no memory hit: %v %+v", err, c.Stats())
	}

	// A restart reads the file back.
	c2, err := NewCache(dir, Options{Mode: ModeCounter, Interval: 500}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c2.Instrument(orig); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after restart: err %v, equal %v", err, bytes.Equal(got, want))
	}
	if diff := cmp.Diff(CacheStats{DiskHits: 1}, c2.Stats()); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}

	// A file cut short is detected and rewritten.
	files, _ := filepath.Glob(filepath.Join(dir, "*.wasm"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	if err := os.WriteFile(files[0], want[:len(want)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	c3, _ := NewCache(dir, Options{Mode: ModeCounter, Interval: 500}, 0)
	if got, err := c3.Instrument(orig); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after truncation: err %v, equal %v", err, bytes.Equal(got, want))
	}
	if diff := cmp.Diff(CacheStats{Rewrites: 1, DiskErrors: 1}, c3.Stats()); diff != "" {
		t.Errorf("after truncation (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(files[0]); !bytes.Equal(b, want) {
		t.Error("the truncated file was not replaced")
	}

	// Another interval is another file.
	c4, _ := NewCache(dir, Options{Mode: ModeCounter, Interval: 600}, 0)
	if _, err := c4.Instrument(orig); err != nil || c4.Stats().Rewrites != 1 {
		t.Errorf("other interval: err %v, stats %+v", err, c4.Stats())
	}
	// And another mode.
	c5, _ := NewCache(dir, Options{Mode: ModeEpoch, Interval: 500}, 0)
	if got, err := c5.Instrument(orig); err != nil || c5.Stats().Rewrites != 1 || bytes.Equal(got, want) {
		t.Errorf("other mode: err %v, stats %+v", err, c5.Stats())
	}

	// Errors are returned and not cached.
	bad := append(append([]byte{}, orig[:8]...), 0x01, 0x7f)
	for range 2 {
		if _, err := c4.Instrument(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("malformed input: %v", err)
		}
	}
}

func TestCacheMemoryOnly(t *testing.T) {
	c, err := NewCache("", Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, b := readTestdata(t, "features.wasm"), readTestdata(t, "tailcall.wasm")
	for _, m := range [][]byte{a, b, a} { // one entry: a is evicted by b
		if _, err := c.Instrument(m); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Rewrites != 3 {
		t.Errorf("%+v, want 3 rewrites", s)
	}
	if _, err := NewCache("", Options{Interval: 1 << 30}, 0); err == nil {
		t.Error("bad interval accepted")
	}
}
