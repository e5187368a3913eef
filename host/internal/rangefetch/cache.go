package rangefetch

import (
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// entryOverhead is charged per cached block on top of its bytes (map entry,
// list element, key string header), so that many small blocks (tiny objects)
// cannot push real memory far past MaxBytes.
const entryOverhead = 160

// blockKey names one block of one version of one object.
type blockKey struct {
	ver string // see version.key
	idx int64
}

// flight is a block being fetched; waiters block on done.
type flight struct {
	done chan struct{}
	data []byte
	err  error
}

// cache is the byte-bounded LRU plus the table of blocks in flight. The LRU
// core is not thread-safe; mu guards both.
type cache struct {
	mu        sync.Mutex
	lru       *simplelru.LRU[blockKey, []byte]
	bytes     int64
	max       int64
	evictions int64
	inflight  map[blockKey]*flight
	waiters   int64 // readers that joined a flight; tests watch it
}

func newCache(maxBytes int64) *cache {
	c := &cache{max: maxBytes, inflight: make(map[blockKey]*flight)}
	// The count bound is never the binding one: bytes are.
	c.lru, _ = simplelru.NewLRU[blockKey, []byte](math.MaxInt32, func(_ blockKey, v []byte) {
		c.bytes -= int64(len(v)) + entryOverhead
	})
	return c
}

// slot is one block of a read: filled from the cache, or waiting on (or
// owning) a flight.
type slot struct {
	idx  int64
	data []byte
	fl   *flight
	own  bool
}

// lookup fills every empty slot it can from the cache and, for the rest,
// joins the flight in progress or starts one (own). It returns the number of
// hits.
func (c *cache) lookup(ver string, slots []slot) (hits int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range slots {
		s := &slots[i]
		if s.data != nil {
			continue
		}
		k := blockKey{ver, s.idx}
		if d, ok := c.lru.Get(k); ok {
			s.data, s.fl, s.own = d, nil, false
			hits++
			continue
		}
		if fl, ok := c.inflight[k]; ok {
			s.fl, s.own = fl, false
			c.waiters++
			continue
		}
		fl := &flight{done: make(chan struct{})}
		c.inflight[k] = fl
		s.fl, s.own = fl, true
	}
	return hits
}

// claim starts a flight for every slot whose block is neither cached nor in
// flight and returns those slots, all owned (read-ahead: it never waits).
func (c *cache) claim(ver string, slots []slot) []slot {
	c.mu.Lock()
	defer c.mu.Unlock()
	owned := slots[:0]
	for _, s := range slots {
		k := blockKey{ver, s.idx}
		if c.lru.Contains(k) || c.inflight[k] != nil {
			continue
		}
		s.fl, s.own = &flight{done: make(chan struct{})}, true
		c.inflight[k] = s.fl
		owned = append(owned, s)
	}
	return owned
}

// finish completes an owned flight: on success the block is cached.
func (c *cache) finish(ver string, s *slot, data []byte, err error) {
	k := blockKey{ver, s.idx}
	c.mu.Lock()
	if err == nil {
		c.addLocked(k, data)
	}
	delete(c.inflight, k)
	c.mu.Unlock()
	s.fl.data, s.fl.err = data, err
	close(s.fl.done)
	s.own = false
	if err == nil {
		s.data = data
	}
}

func (c *cache) add(k blockKey, data []byte) {
	c.mu.Lock()
	c.addLocked(k, data)
	c.mu.Unlock()
}

func (c *cache) addLocked(k blockKey, data []byte) {
	if c.lru.Contains(k) {
		return
	}
	c.lru.Add(k, data)
	c.bytes += int64(len(data)) + entryOverhead
	for c.bytes > c.max {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
		c.evictions++
	}
}

// remove drops blocks [0, n) of a version (session-scoped versions at
// Session.Close).
func (c *cache) remove(ver string, n int64) {
	c.mu.Lock()
	for i := int64(0); i < n; i++ {
		c.lru.Remove(blockKey{ver, i})
	}
	c.mu.Unlock()
}

func (c *cache) purge() {
	c.mu.Lock()
	c.lru.Purge()
	c.mu.Unlock()
}

func (c *cache) stats() (bytes, blocks, evictions, waiters int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, int64(c.lru.Len()), c.evictions, c.waiters
}
