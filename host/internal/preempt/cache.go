package preempt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// DefaultCacheEntries bounds the in-memory part of a Cache (entries, not bytes: instrumented modules are
// about as big as their originals, 2-8 MB for Go plugins).
const DefaultCacheEntries = 32

// Cache remembers instrumented modules by the sha256 of the original, in memory and, when it has a
// directory, on disk, so a restart does not rewrite again. It is safe for concurrent use; concurrent
// requests for the same module share one rewrite.
type Cache struct {
	dir   string
	opt   Options
	mem   *lru.Cache[[32]byte, []byte]
	group singleflight.Group
	stats struct{ memHits, diskHits, rewrites, diskErrors atomic.Int64 }
}

// CacheStats counts how Cache.Instrument requests were served.
type CacheStats struct {
	MemoryHits int64 // served from memory
	DiskHits   int64 // read back from the directory
	Rewrites   int64 // instrumented afresh
	DiskErrors int64 // failed reads or writes of the directory (the result was still returned)
}

// NewCache returns a cache of modules instrumented with opt. dir may be empty (memory only); otherwise
// it is created if missing. entries bounds the in-memory part; 0 means DefaultCacheEntries.
func NewCache(dir string, opt Options, entries int) (*Cache, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if entries <= 0 {
		entries = DefaultCacheEntries
	}
	mem, err := lru.New[[32]byte, []byte](entries)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("preempt: cache dir: %w", err)
		}
	}
	return &Cache{dir: dir, opt: opt, mem: mem}, nil
}

// Instrument returns Instrument(wasm, opt) from the cache or computes and stores it. The returned slice
// is shared: do not modify it. Errors are Instrument's and are not cached. A failure to read or write
// the directory is not an error (it is counted in Stats): the module is rewritten in memory instead.
func (c *Cache) Instrument(wasm []byte) ([]byte, error) {
	sum := sha256.Sum256(wasm)
	if out, ok := c.mem.Get(sum); ok {
		c.stats.memHits.Add(1)
		return out, nil
	}
	v, err, _ := c.group.Do(string(sum[:]), func() (any, error) {
		if out, ok := c.mem.Get(sum); ok {
			c.stats.memHits.Add(1)
			return out, nil
		}
		if out := c.load(sum); out != nil {
			c.stats.diskHits.Add(1)
			c.mem.Add(sum, out)
			return out, nil
		}
		out, err := Instrument(wasm, c.opt)
		if err != nil {
			return nil, err
		}
		c.stats.rewrites.Add(1)
		c.store(sum, out)
		c.mem.Add(sum, out)
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// Stats reports counters since NewCache.
func (c *Cache) Stats() CacheStats {
	return CacheStats{
		MemoryHits: c.stats.memHits.Load(),
		DiskHits:   c.stats.diskHits.Load(),
		Rewrites:   c.stats.rewrites.Load(),
		DiskErrors: c.stats.diskErrors.Load(),
	}
}

// path names a cache file by the original's hash, the format version, the mode and the interval, so a
// change of any never serves a stale rewrite.
func (c *Cache) path(sum [32]byte) string {
	return filepath.Join(c.dir, fmt.Sprintf("%s.v%d.%s.i%d.wasm", hex.EncodeToString(sum[:]), FormatVersion, c.opt.Mode, c.opt.Interval))
}

// load returns the cached file if it ends with our marker for this original, mode and interval; a
// file cut short (crash, full disk) or foreign fails that test and is rewritten.
func (c *Cache) load(sum [32]byte) []byte {
	if c.dir == "" {
		return nil
	}
	b, err := os.ReadFile(c.path(sum))
	if err != nil {
		if !os.IsNotExist(err) {
			c.stats.diskErrors.Add(1)
		}
		return nil
	}
	if s, mode, interval, ok := marker(b); !ok || s != sum || mode != c.opt.Mode || interval != c.opt.Interval {
		c.stats.diskErrors.Add(1)
		return nil
	}
	return b
}

func (c *Cache) store(sum [32]byte, out []byte) {
	if c.dir == "" {
		return
	}
	f, err := os.CreateTemp(c.dir, ".tmp-*.wasm")
	if err != nil {
		c.stats.diskErrors.Add(1)
		return
	}
	_, err = f.Write(out)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.path(sum))
	}
	if err != nil {
		os.Remove(f.Name())
		c.stats.diskErrors.Add(1)
	}
}

// marker finds the MarkerSection, which Instrument writes as the last section, and decodes it.
func marker(wasm []byte) (sum [32]byte, mode Mode, interval uint32, ok bool) {
	r := &reader{b: wasm, p: len(wasmHeader)}
	if len(wasm) < len(wasmHeader) {
		return sum, 0, 0, false
	}
	var last []byte
	var lastID byte
	for !r.eof() && r.err == nil {
		lastID = r.byte()
		last = r.bytes(r.u32())
	}
	if r.err != nil || lastID != secCustom {
		return sum, 0, 0, false
	}
	s := &reader{b: last}
	if string(s.name()) != MarkerSection || s.byte() != FormatVersion {
		return sum, 0, 0, false
	}
	mode = Mode(s.byte())
	interval = s.u32()
	if copy(sum[:], s.bytes(32)) != 32 || s.err != nil || !s.eof() {
		return sum, 0, 0, false
	}
	return sum, mode, interval, true
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
