package kmer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
)

const (
	// flushSize: output leaves in chunks this large; the context is
	// checked at every flush.
	flushSize = 64 << 10

	// MaxTop bounds WriteTop's N (the heap takes 16 bytes per entry).
	// Use WriteDump for more.
	MaxTop = 100000

	// maxFullBuckets bounds the lines of a histogram with Full set.
	maxFullBuckets = 1 << 24
)

// out buffers output and checks the context at each flush.
type out struct {
	ctx context.Context
	w   io.Writer
	buf []byte
}

func newOut(ctx context.Context, w io.Writer) *out {
	return &out{ctx: ctx, w: w, buf: make([]byte, 0, flushSize+256)}
}

func (o *out) flush() error {
	if err := o.ctx.Err(); err != nil {
		return err
	}
	if len(o.buf) == 0 {
		return nil
	}
	_, err := o.w.Write(o.buf)
	o.buf = o.buf[:0]
	return err
}

// appendCount is strconv.AppendUint with the common one-digit case inline.
func appendCount(b []byte, n uint64) []byte {
	if n < 10 {
		return append(b, byte('0'+n))
	}
	return strconv.AppendUint(b, n, 10)
}

func (c *Counter) readyForOutput(what string) error {
	if c.err != nil {
		return c.err
	}
	if c.restricted {
		return fmt.Errorf("%w: %s on a query-only counter", ErrState, what)
	}
	return nil
}

// HistoOptions are jellyfish histo's -l, -h, -i and -f.
type HistoOptions struct {
	Low       uint64 // -l, at least 1
	High      uint64 // -h, at least Low
	Increment uint64 // -i, at least 1
	Full      bool   // -f: also print empty buckets
}

// DefaultHistoOptions returns jellyfish histo's defaults: -l 1 -h 10000 -i 1.
func DefaultHistoOptions() HistoOptions {
	return HistoOptions{Low: 1, High: 10000, Increment: 1}
}

// Validate checks the options the way jellyfish histo does, plus bounds
// that keep the arithmetic and a Full output finite.
func (h HistoOptions) Validate() error {
	switch {
	case h.Low < 1:
		return fmt.Errorf("%w: histo low %d, must be >= 1", ErrBadParam, h.Low)
	case h.High < h.Low:
		return fmt.Errorf("%w: histo high %d, must be >= low %d", ErrBadParam, h.High, h.Low)
	case h.Increment < 1:
		return fmt.Errorf("%w: histo increment %d, must be >= 1", ErrBadParam, h.Increment)
	case h.High > 1<<62 || h.Increment > 1<<62:
		return fmt.Errorf("%w: histo high %d or increment %d too large", ErrBadParam, h.High, h.Increment)
	}
	if _, _, nb := h.buckets(); h.Full && nb > maxFullBuckets {
		return fmt.Errorf("%w: a full histogram would print %d lines (at most %d)", ErrBadParam, nb, maxFullBuckets)
	}
	return nil
}

// buckets reproduces jellyfish 2.3.0 histo_main: bucket i is labelled
// base+i*inc; counts below base land in the first bucket and counts above
// ceil in the last, which therefore catches everything >= its label.
func (h HistoOptions) buckets() (base, ceil, nb uint64) {
	if h.Increment < h.Low {
		base = h.Low - h.Increment
	}
	ceil = h.High + h.Increment
	nb = (ceil + h.Increment - base) / h.Increment
	return base, ceil, nb
}

// WriteHisto writes `jellyfish histo` output: "<bucket> <distinct k-mers>\n"
// in ascending bucket order, empty buckets omitted unless Full.
func (c *Counter) WriteHisto(ctx context.Context, w io.Writer, h HistoOptions) error {
	if err := c.readyForOutput("histo"); err != nil {
		return err
	}
	if err := h.Validate(); err != nil {
		return err
	}
	values, freqs := c.distribution()
	base, ceil, nb := h.buckets()
	o := newOut(ctx, w)
	line := func(b, n uint64) error {
		o.buf = strconv.AppendUint(o.buf, base+b*h.Increment, 10)
		o.buf = append(o.buf, ' ')
		o.buf = strconv.AppendUint(o.buf, n, 10)
		o.buf = append(o.buf, '\n')
		if len(o.buf) >= flushSize {
			return o.flush()
		}
		return nil
	}
	bucket := func(v uint64) uint64 {
		switch {
		case v < base:
			return 0
		case v > ceil:
			return nb - 1
		}
		return (v - base) / h.Increment
	}
	next := uint64(0) // first bucket not printed yet (Full only)
	for i := 0; i < len(values); {
		// values ascend and the bucket of a value never decreases, so a
		// bucket's values are consecutive.
		b, n := bucket(values[i]), uint64(0)
		for ; i < len(values) && bucket(values[i]) == b; i++ {
			n += freqs[i]
		}
		if h.Full {
			for ; next < b; next++ {
				if err := line(next, 0); err != nil {
					return err
				}
			}
			next = b + 1
		}
		if err := line(b, n); err != nil {
			return err
		}
	}
	if h.Full {
		for ; next < nb; next++ {
			if err := line(next, 0); err != nil {
				return err
			}
		}
	}
	return o.flush()
}

// distribution returns the distinct count values in ascending order and
// how many k-mers have each.
func (c *Counter) distribution() (values, freqs []uint64) {
	const denseMax = 1 << 12
	dense := make([]uint64, denseMax)
	var big map[uint64]uint64
	cbits, cmax, sufBits := c.cbits, c.cmax, c.sufBits
	for si, seg := range c.segs {
		for _, s := range seg {
			if s == 0 {
				continue
			}
			n := s & cmax
			if n == cmax {
				n = c.slotCount(s, uint64(si)<<sufBits|s>>cbits)
			}
			if n < denseMax {
				dense[n]++
				continue
			}
			if big == nil {
				big = make(map[uint64]uint64)
			}
			big[n]++
		}
	}
	for v, f := range dense {
		if f != 0 {
			values = append(values, uint64(v))
			freqs = append(freqs, f)
		}
	}
	bigValues := make([]uint64, 0, len(big))
	for v := range big {
		bigValues = append(bigValues, v)
	}
	slices.Sort(bigValues)
	for _, v := range bigValues {
		values = append(values, v)
		freqs = append(freqs, big[v])
	}
	return values, freqs
}

// DumpFormat selects jellyfish dump's output layout.
type DumpFormat int

const (
	DumpColumn DumpFormat = iota // "ACGT 12\n" (dump -c)
	DumpTab                      // "ACGT\t12\n" (dump -c -t)
	DumpFASTA                    // ">12\nACGT\n" (dump without -c)
)

// DumpOptions are jellyfish dump's -L, -U and format flags.
type DumpOptions struct {
	Lower  uint64 // print k-mers with count >= Lower (-L)
	Upper  uint64 // and count <= Upper (-U); 0 means no upper bound
	Format DumpFormat
}

// WriteDump writes every k-mer with a count in [Lower, Upper] with its
// count. The set of lines equals `jellyfish dump` output; the order differs:
// jellyfish prints in hash order, we print in ascending k-mer order
// (lexicographic, A<C<G<T). Sorting happens in place, segment by segment,
// so it needs no extra memory but leaves the counter unable to take more
// sequence (Add then returns ErrState); queries and other outputs still work.
func (c *Counter) WriteDump(ctx context.Context, w io.Writer, d DumpOptions) error {
	if err := c.readyForOutput("dump"); err != nil {
		return err
	}
	if d.Format < DumpColumn || d.Format > DumpFASTA {
		return fmt.Errorf("%w: dump format %d", ErrBadParam, d.Format)
	}
	upper := d.Upper
	if upper == 0 {
		upper = ^uint64(0)
	}
	sep := byte(' ')
	if d.Format == DumpTab {
		sep = '\t'
	}
	fasta := d.Format == DumpFASTA
	k := c.k
	cbits, cmax, sufBits := c.cbits, c.cmax, c.sufBits
	o := newOut(ctx, w)
	for si, seg := range c.segs {
		if si >= c.sortedSegs {
			slices.Sort(seg)
			c.sortedSegs = si + 1
		}
		for _, s := range seg {
			if s == 0 {
				continue
			}
			key := uint64(si)<<sufBits | s>>cbits
			n := s & cmax
			if n == cmax {
				n = c.slotCount(s, key)
			}
			if n < d.Lower || n > upper {
				continue
			}
			b := o.buf
			if fasta {
				b = append(b, '>')
				b = appendCount(b, n)
				b = append(b, '\n')
			}
			for sh := 2 * (k - 1); sh >= 0; sh -= 2 {
				b = append(b, letters[(key>>uint(sh))&3])
			}
			if fasta {
				b = append(b, '\n')
			} else {
				b = append(b, sep)
				b = appendCount(b, n)
				b = append(b, '\n')
			}
			o.buf = b
			if len(b) >= flushSize {
				if err := o.flush(); err != nil {
					return err
				}
			}
		}
	}
	return o.flush()
}

type topEntry struct{ count, key uint64 }

// worse orders entries from least to most frequent, a larger k-mer being
// worse among equal counts: the heap root is the entry to drop first.
func worse(a, b topEntry) bool {
	return a.count < b.count || (a.count == b.count && a.key > b.key)
}

// WriteTop writes the n most frequent k-mers as "KMER\tCOUNT\n", by count
// descending, ties by k-mer ascending (A<C<G<T); fewer lines when fewer
// k-mers were counted. 1 <= n <= MaxTop.
func (c *Counter) WriteTop(ctx context.Context, w io.Writer, n int) error {
	if err := c.readyForOutput("top"); err != nil {
		return err
	}
	if n < 1 || n > MaxTop {
		return fmt.Errorf("%w: top n=%d, want 1 to %d", ErrBadParam, n, MaxTop)
	}
	h := make([]topEntry, 0, min(uint64(n), c.Distinct()))
	cbits, cmax, sufBits := c.cbits, c.cmax, c.sufBits
	for si, seg := range c.segs {
		for _, s := range seg {
			if s == 0 {
				continue
			}
			e := topEntry{key: uint64(si)<<sufBits | s>>cbits, count: s & cmax}
			if e.count == cmax {
				e.count = c.slotCount(s, e.key)
			}
			if len(h) < n {
				h = append(h, e)
				heapUp(h, len(h)-1)
			} else if worse(h[0], e) {
				h[0] = e
				heapDown(h, 0)
			}
		}
	}
	slices.SortFunc(h, func(a, b topEntry) int {
		switch {
		case worse(b, a):
			return -1
		case worse(a, b):
			return 1
		}
		return 0
	})
	o := newOut(ctx, w)
	for _, e := range h {
		o.buf = AppendKmer(o.buf, e.key, c.k)
		o.buf = append(o.buf, '\t')
		o.buf = appendCount(o.buf, e.count)
		o.buf = append(o.buf, '\n')
		if len(o.buf) >= flushSize {
			if err := o.flush(); err != nil {
				return err
			}
		}
	}
	return o.flush()
}

func heapUp(h []topEntry, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !worse(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func heapDown(h []topEntry, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && worse(h[r], h[l]) {
			m = r
		}
		if !worse(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// WriteQuery writes `jellyfish query` output for the given k-mers, in the
// given order: "KMER COUNT\n", the k-mer as parsed by ParseKmer and, on a
// canonical counter, canonicalized (jellyfish prints the canonical form
// on a -C database). Unlike jellyfish, which skips a k-mer shorter than k
// with a warning, any such k-mer fails the whole call with ErrBadKmer
// before anything is written.
func (c *Counter) WriteQuery(ctx context.Context, w io.Writer, kmers []string) error {
	if c.err != nil {
		return c.err
	}
	keys, err := c.queryKeys(kmers)
	if err != nil {
		return err
	}
	o := newOut(ctx, w)
	for _, key := range keys {
		o.buf = AppendKmer(o.buf, key, c.k)
		o.buf = append(o.buf, ' ')
		o.buf = appendCount(o.buf, c.Count(key))
		o.buf = append(o.buf, '\n')
		if len(o.buf) >= flushSize {
			if err := o.flush(); err != nil {
				return err
			}
		}
	}
	return o.flush()
}
