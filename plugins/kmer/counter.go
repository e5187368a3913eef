package kmer

import (
	"fmt"
	"runtime"
	"slices"
)

// MaxK is the largest supported k: a k-mer and its reverse complement fit
// in one 64-bit word, as in jellyfish's single-word mer_dna.
const MaxK = 31

// DefaultMaxBytes is the table budget used when Config.MaxBytes is 0. It
// leaves room for the Go runtime, I/O buffers and GC headroom inside a
// 128 MiB Wasm memory: counting random bases until this limit stops them
// (8.7 M distinct 21-mers) takes 98 MiB of Wasm memory in all.
const DefaultMaxBytes = 80 << 20

const (
	// Segment growth: a segment grows by 5/4 when it is 4/5 full. Small
	// steps keep the mean load near 0.7 (about 11 bytes per distinct
	// k-mer); the rehash they cost stays cheap because a segment is small
	// enough to sit in cache. When the budget forbids growing, a segment
	// may fill up to 15/16 before the count fails (linear probing still
	// terminates, just slower).
	loadNum, loadDen = 4, 5
	hardNum, hardDen = 15, 16

	// presize: with ExpectedBases, a segment starts with this share of
	// the mean distinct k-mers per segment (segments are skewed by prefix,
	// so sizing every one for the mean wastes memory).
	presizeNum, presizeDen = 1, 2
	minSegSlots            = 8

	// hashMul is the 64-bit golden-ratio constant: multiplicative hashing
	// spreads consecutive suffixes over the segment.
	hashMul = 0x9E3779B97F4A7C15

	// overflowEntryBytes is what one count above the packed field costs
	// in the side map (a Go map entry with its share of growth), counted
	// against the budget.
	overflowEntryBytes = 48

	// gcGarbage: grow collects the segments it dropped once they add up
	// to this much. The Wasm memory never shrinks, so garbage left to the
	// pacer (which waits for the heap to double) would count against the
	// 128 MiB as surely as live tables.
	gcGarbage = 4 << 20

	// minBudget: the smallest MaxBytes accepted.
	minBudget = 1 << 20
	// maxBudget keeps every segment below 2^32 slots, which the 32-bit
	// multiply-shift position mapping needs.
	maxBudget = 16 << 30
)

// baseCode maps a byte to its 2-bit code plus one; 0 means "not a base".
// Like jellyfish's mer_dna codes, A/C/G/T in either case are bases and
// every other byte (N, IUPAC codes, '-', spaces) ends the current k-mer.
var baseCode = [256]uint8{
	'A': 1, 'C': 2, 'G': 3, 'T': 4,
	'a': 1, 'c': 2, 'g': 3, 't': 4,
}

// Config sets up a Counter.
type Config struct {
	// K is the k-mer length, 1 to 31.
	K int
	// Canonical counts a k-mer and its reverse complement together under
	// the lexicographically smaller of the two (jellyfish count -C). The
	// HTTP endpoints default it to true.
	Canonical bool
	// MaxBytes bounds the memory of the count tables, including the
	// transient copy of a segment while it grows. 0 means DefaultMaxBytes.
	MaxBytes int64
	// ExpectedBases, when known (a reference region, a plain FASTA's
	// size), pre-sizes the segments to half the expected need, which saves
	// part of the rehashing for about 3% more memory. 0 means unknown.
	// Leave it 0 for reads: a FASTQ's size overstates its distinct k-mers
	// many times over, and the excess is memory taken (within MaxBytes).
	ExpectedBases int64
}

// Counter counts the k-mers of the sequences fed to it, the way
// `jellyfish count -m K [-C]` does. It is not safe for concurrent use.
//
// Storage: the k-mers are split by their first p = min(4, k/2) bases into
// 4^p segments; each segment is an open-addressing (linear probing) table
// of uint64 slots holding the rest of the k-mer in the high bits and its
// count in the low 64-2(k-p) bits (at least 10 bits: 1023 at k=31). A count that
// fills its field continues in a side map. Segments grow one at a time (by
// 5/4 at 4/5 load), so a resize needs old+new memory of one segment only,
// and keeping segments by prefix lets a dump sort each one in place into
// k-mer order.
type Counter struct {
	k         int
	canonical bool
	maxBytes  int64

	mask    uint64 // the low 2k bits
	rcShift uint   // where the complement of a new base enters rc
	sufBits uint   // bits of a k-mer stored in its slot (2(k-p))
	sufMask uint64
	cbits   uint   // count field width, 64-sufBits
	cmax    uint64 // count field mask and saturation value
	segCap  uint64 // distinct suffixes one segment can ever hold

	segs  [][]uint64
	used  []uint32 // occupied slots per segment
	limit []uint32 // a segment grows when used exceeds this

	overflow map[uint64]uint64 // counts beyond cmax, by whole k-mer

	bytes   int64 // segments + overflow estimate
	peak    int64
	garbage int64 // bytes of dropped segments since the last GC

	fw, rc uint64 // rolling forward and reverse-complement words
	filled int    // valid bases since the last break

	total uint64 // k-mer occurrences counted
	bases uint64 // bytes fed (bases and breaks)

	restricted bool // query-only: absent k-mers are not inserted, counts are stored +1
	sortedSegs int  // leading segments sorted by a dump: searched, not probed
	started    bool
	err        error // sticky: once counting failed the counter stays failed
}

// New validates cfg and allocates the (initially small) tables.
func New(cfg Config) (*Counter, error) {
	if cfg.K < 1 || cfg.K > MaxK {
		return nil, fmt.Errorf("%w: k=%d, want 1 to %d", ErrBadParam, cfg.K, MaxK)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxBytes < minBudget || cfg.MaxBytes > maxBudget {
		return nil, fmt.Errorf("%w: memory budget %d bytes, want %d to %d", ErrBadParam, cfg.MaxBytes, minBudget, int64(maxBudget))
	}
	if cfg.ExpectedBases < 0 {
		return nil, fmt.Errorf("%w: expected bases %d is negative", ErrBadParam, cfg.ExpectedBases)
	}
	k := cfg.K
	p := min(4, k/2)
	c := &Counter{
		k:         k,
		canonical: cfg.Canonical,
		maxBytes:  cfg.MaxBytes,
		mask:      1<<(2*uint(k)) - 1,
		rcShift:   2*uint(k) - 2,
		sufBits:   2 * uint(k-p),
	}
	c.sufMask = 1<<c.sufBits - 1
	c.cbits = 64 - c.sufBits
	c.cmax = 1<<c.cbits - 1
	c.segCap = 1 << c.sufBits
	nseg := 1 << (2 * uint(p))

	slots := uint64(minSegSlots)
	if cfg.ExpectedBases > 0 {
		// Most k-mers of a genome are distinct, so the bases bound the
		// distinct k-mers.
		per := uint64(cfg.ExpectedBases)/uint64(nseg) + 1
		slots = max(slots, per*presizeNum/presizeDen)
	}
	slots = min(slots, c.segCap+1)
	if fit := uint64(c.maxBytes/2) / 8 / uint64(nseg); slots > fit {
		slots = max(minSegSlots, fit)
	}
	if int64(slots)*8*int64(nseg) > c.maxBytes {
		return nil, fmt.Errorf("%w: memory budget %d bytes is below the %d bytes of the empty tables for k=%d",
			ErrBadParam, c.maxBytes, int64(slots)*8*int64(nseg), k)
	}
	c.segs = make([][]uint64, nseg)
	c.used = make([]uint32, nseg)
	c.limit = make([]uint32, nseg)
	for i := range c.segs {
		c.segs[i] = newSegment(slots)
		c.limit[i] = c.growLimit(uint64(len(c.segs[i])))
		c.bytes += int64(len(c.segs[i])) * 8
	}
	c.peak = c.bytes
	return c, nil
}

// newSegment allocates at least n zeroed slots and uses the whole block
// the allocator hands out (it rounds up to a size class or page).
func newSegment(n uint64) []uint64 {
	s := slices.Grow([]uint64(nil), int(n))
	return s[:cap(s)]
}

// growLimit is the occupancy at which a segment of n slots grows. A segment
// larger than every suffix it can hold never needs to.
func (c *Counter) growLimit(n uint64) uint32 {
	if n > c.segCap {
		return uint32(n) // unreachable occupancy: at most segCap < n entries
	}
	return uint32(n * loadNum / loadDen)
}

// K returns the k-mer length.
func (c *Counter) K() int { return c.k }

// Canonical reports whether k-mers are counted canonically.
func (c *Counter) Canonical() bool { return c.canonical }

// Distinct returns the number of distinct k-mers stored (in a query-only
// counter, the number of distinct queried k-mers).
func (c *Counter) Distinct() uint64 {
	var d uint64
	for _, u := range c.used {
		d += uint64(u)
	}
	return d
}

// Total returns the number of k-mer occurrences counted (jellyfish stats'
// Total for a full counter).
func (c *Counter) Total() uint64 { return c.total }

// Bases returns the number of sequence bytes fed so far.
func (c *Counter) Bases() uint64 { return c.bases }

// Bytes returns the memory the tables take now; PeakBytes the most they
// took at once, including a growing segment's old and new copies.
func (c *Counter) Bytes() int64     { return c.bytes }
func (c *Counter) PeakBytes() int64 { return c.peak }

// Err returns the sticky error that stopped counting, if any.
func (c *Counter) Err() error { return c.err }

// AddSequence counts the k-mers of one whole record. K-mers never span two
// records, as in jellyfish.
func (c *Counter) AddSequence(seq []byte) error {
	err := c.Add(seq)
	c.EndRecord()
	return err
}

// EndRecord ends the current record: the next Add starts a new k-mer.
func (c *Counter) EndRecord() { c.filled = 0 }

// Add counts the k-mers of the next piece of the current record; k-mers
// span consecutive Add calls until EndRecord. seq holds sequence bytes only
// (no newlines): any byte other than ACGTacgt breaks the k-mer. A failed
// Add leaves the counter failed: every later call returns the same error.
func (c *Counter) Add(seq []byte) error {
	if c.err != nil {
		return c.err
	}
	if c.sortedSegs > 0 {
		return fmt.Errorf("%w: Add after WriteDump", ErrState)
	}
	c.started = true

	// Everything the loop touches lives in locals: no calls, no field
	// loads per base. Only a segment growth or a count overflow leaves
	// the loop body, and both are rare.
	k := c.k
	fw, rc, filled := c.fw, c.rc, c.filled
	mask, rcShift := c.mask, c.rcShift
	sufBits, sufMask, cbits, cmax := c.sufBits, c.sufMask, c.cbits, c.cmax
	canonical, frozen := c.canonical, c.restricted
	segs, used, limit := c.segs, c.used, c.limit
	var total uint64

	for i := 0; i < len(seq); i++ {
		code := uint64(baseCode[seq[i]])
		if code == 0 {
			filled = 0
			continue
		}
		code--
		fw = (fw<<2 | code) & mask
		rc = rc>>2 | (3-code)<<rcShift
		filled++
		if filled < k {
			continue
		}
		key := fw
		if canonical && rc < fw {
			key = rc
		}
		total++
		si := key >> sufBits
		rem := key & sufMask
		seg := segs[si]
		n := uint64(len(seg))
		pos := ((rem * hashMul) >> 32) * n >> 32
		for {
			s := seg[pos]
			if s == 0 {
				if frozen {
					break
				}
				seg[pos] = rem<<cbits | 1
				used[si]++
				if used[si] > limit[si] {
					if err := c.grow(int(si), c.bases+uint64(i)); err != nil {
						c.total += total
						c.err = err
						return err
					}
				}
				break
			}
			if s>>cbits == rem {
				if s&cmax != cmax {
					seg[pos] = s + 1
				} else if err := c.addOverflow(key, c.bases+uint64(i)); err != nil {
					c.total += total
					c.err = err
					return err
				}
				break
			}
			pos++
			if pos == n {
				pos = 0
			}
		}
	}
	c.fw, c.rc, c.filled = fw, rc, filled
	c.total += total
	c.bases += uint64(len(seq))
	return nil
}

// grow replaces segment si by a larger one, or, when the budget forbids
// it, lets the segment fill further; it fails when neither is possible.
func (c *Counter) grow(si int, bases uint64) error {
	old := c.segs[si]
	n := uint64(len(old))
	newN := n + n/4
	if newN < n+minSegSlots {
		newN = n + minSegSlots
	}
	newN = min(newN, c.segCap+1)
	// The allocator rounds a block up by at most 8 KiB (size class or
	// page): keep that margin so the budget holds after rounding.
	if avail := (c.maxBytes - c.bytes - 8<<10) / 8; int64(newN) > avail {
		// Take what is left if that still buys room; otherwise crowd
		// the segment up to the hard load.
		if uint64(max(avail, 0)) >= n+n/8+minSegSlots {
			newN = uint64(avail)
		} else {
			// At least one slot stays empty, so probing always ends.
			hard := uint32(min(n*hardNum/hardDen, n-2))
			if c.used[si] < hard {
				c.limit[si] = hard
				return nil
			}
			return c.limitError(bases)
		}
	}
	// Collect dropped segments before allocating when they add up, so
	// the Wasm memory (which never shrinks) holds live tables, not garbage.
	if c.garbage >= gcGarbage {
		runtime.GC()
		c.garbage = 0
	}
	seg := newSegment(newN)
	newN = uint64(len(seg))
	cbits := c.cbits
	for _, s := range old {
		if s == 0 {
			continue
		}
		rem := s >> cbits
		pos := ((rem * hashMul) >> 32) * newN >> 32
		for seg[pos] != 0 {
			pos++
			if pos == newN {
				pos = 0
			}
		}
		seg[pos] = s
	}
	c.bytes += int64(newN) * 8
	c.peak = max(c.peak, c.bytes)
	c.bytes -= int64(n) * 8
	c.garbage += int64(n) * 8
	c.segs[si] = seg
	c.limit[si] = c.growLimit(newN)
	return nil
}

func (c *Counter) addOverflow(key uint64, bases uint64) error {
	if c.overflow == nil {
		c.overflow = make(map[uint64]uint64)
	}
	if v, ok := c.overflow[key]; ok {
		c.overflow[key] = v + 1
		return nil
	}
	if c.bytes+overflowEntryBytes > c.maxBytes {
		return c.limitError(bases)
	}
	c.bytes += overflowEntryBytes
	c.peak = max(c.peak, c.bytes)
	c.overflow[key] = 1
	return nil
}

func (c *Counter) limitError(bases uint64) error {
	return &LimitError{Limit: c.maxBytes, K: c.k, Distinct: c.Distinct(), Bases: bases}
}

// slotCount returns the true count held by slot s of the k-mer key.
func (c *Counter) slotCount(s, key uint64) uint64 {
	n := s & c.cmax
	if n == c.cmax && c.overflow != nil {
		n += c.overflow[key]
	}
	if c.restricted {
		n--
	}
	return n
}

// Count returns the count of k-mer key (already canonical when the
// counter is canonical); 0 when absent.
func (c *Counter) Count(key uint64) uint64 {
	si := key >> c.sufBits
	rem := key & c.sufMask
	seg := c.segs[si]
	if int(si) < c.sortedSegs {
		lo, hi := 0, len(seg)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if s := seg[m]; s == 0 || s>>c.cbits < rem {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo < len(seg) && seg[lo] != 0 && seg[lo]>>c.cbits == rem {
			return c.slotCount(seg[lo], key)
		}
		return 0
	}
	n := uint64(len(seg))
	pos := ((rem * hashMul) >> 32) * n >> 32
	for {
		s := seg[pos]
		if s == 0 {
			return 0
		}
		if s>>c.cbits == rem {
			return c.slotCount(s, key)
		}
		pos++
		if pos == n {
			pos = 0
		}
	}
}

// Restrict turns c into a query-only counter for the given k-mers (parsed
// like jellyfish query, see ParseKmer): only they are counted, so a query
// over a large input needs memory for the queried k-mers alone. It must be
// called before the first Add. WriteQuery is then the only output.
func (c *Counter) Restrict(kmers []string) error {
	if c.started || c.restricted {
		return fmt.Errorf("%w: Restrict after Add or twice", ErrState)
	}
	keys, err := c.queryKeys(kmers)
	if err != nil {
		return err
	}
	// Stored counts start at 1 so that a queried k-mer is present even
	// before it is seen (slot 0 means empty); slotCount subtracts it.
	for _, key := range keys {
		if c.Count(key) != 0 {
			continue
		}
		if err := c.insertOne(key); err != nil {
			return err
		}
	}
	c.restricted = true
	return nil
}

// insertOne inserts key with count 1; the slow path of Add for Restrict.
func (c *Counter) insertOne(key uint64) error {
	si := key >> c.sufBits
	rem := key & c.sufMask
	seg := c.segs[si]
	n := uint64(len(seg))
	pos := ((rem * hashMul) >> 32) * n >> 32
	for seg[pos] != 0 {
		pos++
		if pos == n {
			pos = 0
		}
	}
	seg[pos] = rem<<c.cbits | 1
	c.used[si]++
	if c.used[si] > c.limit[si] {
		if err := c.grow(int(si), 0); err != nil {
			c.err = err
			return err
		}
	}
	return nil
}
