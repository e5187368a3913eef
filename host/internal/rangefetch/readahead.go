package rangefetch

import "sync"

// Read-ahead: small blocks keep random reads (index lookups, region queries,
// the probe of a file's header or EOF marker) cheap in origin bytes, but a
// scan in small blocks would pay one round trip per block. So an object that
// is read front to back fetches ahead of the reader, in the background, in
// runs that double from raMinBytes up to raMaxBytes; one read elsewhere ends
// it. It starts only once 512 KiB past the first block have been read in
// order (the ninth 64 KiB block), so that a region query, which reads a few
// neighbouring blocks, fetches nothing it does not read. It stays within an
// eighth of the cache (none in a cache too small for that), so that blocks
// fetched ahead are not evicted before they are read.
const (
	raStartBytes = 512 << 10 // read in order before the first fetch ahead
	raMinBytes   = 256 << 10
	raMaxBytes   = 4 << 20
)

// readahead is one object's sequential-read detector.
type readahead struct {
	mu     sync.Mutex
	last   int64 // last block of the previous read
	streak int   // reads in a row that moved to the next block
	window int64 // blocks to keep ahead of the reader; 0 before the first read
	ahead  int64 // last block already asked for ahead of the reader
}

// advise records a read of blocks [first, last] and returns the blocks to
// fetch ahead, if any (from > to when none).
func (r *readahead) advise(first, last, nblocks, bs, cacheBytes int64) (from, to int64) {
	maxWin := min(raMaxBytes, cacheBytes/8) / bs
	if maxWin < 1 {
		return 0, -1
	}
	minWin := min(max(1, raMinBytes/bs), maxWin)
	start := max(1, int(raStartBytes/bs))
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.window != 0 && last <= r.last && first >= r.last-r.window:
		// More of the same block, or a second reader trailing the first
		// (the BGZF view's inflater runs a few blocks ahead of the
		// plugin's own reads of block headers): not a new position.
		return 0, -1
	case r.window != 0 && (first == r.last || first == r.last+1):
		r.streak++
	default:
		r.streak, r.window, r.ahead = 0, minWin, -1
	}
	r.last = last
	if r.streak < start || r.ahead-last >= r.window/2 {
		return 0, -1
	}
	if r.ahead >= 0 {
		r.window = min(2*r.window, maxWin) // each refill asks for more
	}
	from, to = max(r.ahead+1, last+1), min(last+r.window, nblocks-1)
	if from > to {
		return 0, -1
	}
	r.ahead = to
	return from, to
}

// readAhead fetches blocks [from, to] of o in the background: those neither
// cached nor in flight, in one request per run. It keeps half of the
// session's remaining fetch budget for the reader's own reads. Its failures
// are nobody's until a reader needs the block: a reader waiting on a failed
// run gets its error as if it had made the request itself, or, when the run
// was stopped by the budget or the end of the call, fetches the block again.
func (o *Object) readAhead(from, to int64) {
	s, f, bs := o.s, o.s.f, o.s.f.cfg.BlockSize
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.max > 0 {
		// Runs still in flight have not reserved their bytes yet.
		spare := (s.max - s.fetched.Load() - s.aheadBytes) / 2
		to = min(to, from+spare/bs-1)
		if to < from {
			return
		}
	}
	n := (to - from + 1) * bs
	s.aheadBytes += n
	s.bg.Add(1)
	f.readAheads.Add(1)
	go func() {
		defer func() {
			s.mu.Lock()
			s.aheadBytes -= n
			s.mu.Unlock()
			s.bg.Done()
		}()
		slots := make([]slot, 0, to-from+1)
		for i := from; i <= to; i++ {
			slots = append(slots, slot{idx: i})
		}
		slots = f.cache.claim(o.v.key, slots)
		o.fetchOwned(s.bgCtx, slots)
	}()
}
