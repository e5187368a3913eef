package fastqc

import (
	"context"
	"fmt"
	"io"

	"github.com/edgenome/edgenome/plugins/internal/seqio"
)

// MaxQual is the highest quality value ('~' - 33); seqio rejects higher ones.
const MaxQual = 93

// DefaultMaxReadLength bounds the per-position counters (1 KiB a position).
const DefaultMaxReadLength = 1 << 16

// maxReadLengthCap keeps per-read base counts inside the 32-bit halves of the
// packed sum in add (and memory sane).
const maxReadLengthCap = 1 << 30

// Options tune Compute. The zero value counts every read.
type Options struct {
	// Sample, if > 0, stops after the first Sample reads.
	Sample int64
	// MaxReadLength limits read length (seqio.ErrTooLong beyond, see
	// IsTooLarge); 0 means DefaultMaxReadLength.
	MaxReadLength int
}

// Offsets inside one position's counters: quality values at [0, 94), bases
// (A, C, G, T, N) at [baseAt, baseAt+5). One fixed-size array per position
// keeps the inner loop free of bounds checks and of multiplications.
const baseAt = 96

type posStat [128]int64

// nt maps a sequence byte to 0..4 (A, C, G, T, other), as seqtk does.
var nt = func() (t [256]uint8) {
	for i := range t {
		t[i] = 4
	}
	for i, c := range "ACGT" {
		t[c] = uint8(i)
		t[c+'a'-'A'] = uint8(i)
	}
	return t
}()

// weight adds 1 for each of A, C, G, T and 1<<32 for each G or C, so one sum
// per read yields both counts (reads are far shorter than 1<<32).
var weight = func() (t [256]uint64) {
	for _, c := range "ACGTacgt" {
		t[c] = 1
	}
	for _, c := range "CGcg" {
		t[c] |= 1 << 32
	}
	return t
}()

type counter struct {
	pos     []posStat
	lengths []int64 // reads by length
	gc      [101]int64
	gcUndef int64
	reads   int64
	bases   int64
	maxLen  int
	limit   int
}

// Compute reads FASTQ from in and returns its raw counts with the derived
// fields filled in.
func Compute(ctx context.Context, in io.Reader, opts Options) (*Result, error) {
	if opts.Sample < 0 {
		return nil, fmt.Errorf("%w: sample must be >= 0, got %d", ErrParams, opts.Sample)
	}
	c := &counter{limit: opts.MaxReadLength}
	if c.limit <= 0 {
		c.limit = DefaultMaxReadLength
	}
	c.limit = min(c.limit, maxReadLengthCap)
	r, err := seqio.NewReader(in, seqio.Options{Want: seqio.FASTQ, MaxRecordBytes: c.limit})
	if err != nil {
		return nil, err
	}
	for opts.Sample == 0 || c.reads < opts.Sample {
		if c.reads&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err // *seqio.Error; seqio.ErrTooLong beyond c.limit
		}
		c.add(rec.Seq, rec.Qual)
	}
	return c.result(), nil
}

// add counts one read. seqio guarantees len(qual) == len(seq) and quality
// bytes in '!'..'~'.
func (c *counter) add(seq, qual []byte) {
	n := len(seq)
	c.reads++
	c.bases += int64(n)
	if n >= len(c.lengths) {
		c.lengths = append(c.lengths, make([]int64, n+1-len(c.lengths))...)
	}
	c.lengths[n]++
	if n > c.maxLen {
		c.maxLen = n
		if n > len(c.pos) {
			// Grow geometrically but never past the limit.
			size := max(n, min(2*len(c.pos), c.limit))
			c.pos = append(c.pos, make([]posStat, size-len(c.pos))...)
		}
	}
	if n == 0 {
		c.gcUndef++
		return
	}
	ps := c.pos[:n]
	seq = seq[:len(ps)]
	qual = qual[:len(ps)]
	var w uint64
	for i := range ps {
		ch := seq[i]
		p := &ps[i]
		p[(qual[i]-33)&127]++
		p[baseAt+nt[ch]&7]++
		w += weight[ch] // a register sum, not a store per base
	}
	acgt, gc := int64(w&0xffffffff), int64(w>>32)
	if acgt == 0 {
		c.gcUndef++
		return
	}
	c.gc[(200*gc+acgt)/(2*acgt)]++
}

func (c *counter) result() *Result {
	res := &Result{
		Version: Version,
		Reads:   c.reads,
		Bases:   c.bases,
	}
	for n, k := range c.lengths {
		if k > 0 {
			res.Length.Histogram = append(res.Length.Histogram, [2]int64{int64(n), k})
		}
	}
	res.GC.Histogram = c.gc[:]
	res.GC.Undefined = c.gcUndef
	res.Positions = make([]Position, c.maxLen)
	for i := range res.Positions {
		p := &c.pos[i]
		copy(res.Positions[i].Bases[:], p[baseAt:baseAt+5])
		res.Positions[i].Quality = p[:MaxQual+1]
	}
	res.finish()
	return res
}
