package wgsim

import (
	"io"

	"github.com/edgenome/edgenome/plugins/internal/fai"
)

// nt4 is wgsim's base coding: A/C/G/T in either case 0-3, '-' 5, else 4.
var nt4 = func() (t [256]uint8) {
	for i := range t {
		t[i] = 4
	}
	for i, c := range "ACGT" {
		t[c] = uint8(i)
		t[c+'a'-'A'] = uint8(i)
	}
	t['-'] = 5
	return t
}()

// acgtn maps codes to output letters; code 5 prints as NUL, as wgsim's
// "ACGTN"[5] reads the string's terminator (only reachable in the mutation
// list, for a deletion extended over a '-').
var acgtn = [8]byte{'A', 'C', 'G', 'T', 'N', 0, 'N', 'N'}

const (
	blockBits = 10
	blockSize = 1 << blockBits
)

// seqCodes serves the base codes of one interval: resident (decoded once
// during the mutation pass) when short enough, else through a direct-mapped
// cache of 1 KiB blocks, each filled by one ranged read of the FASTA.
type seqCodes struct {
	r        io.ReaderAt
	e        fai.Entry
	beg      int64 // interval start on the sequence
	l        int
	whole    []byte // resident codes, or nil
	resident []byte // reusable backing store for whole
	tags     []int32
	data     []byte
	scratch  []byte
	raw      []byte
	rawBuf   []byte
}

// reset prepares for a new interval; resident says whether to keep it whole.
func (s *seqCodes) reset(r io.ReaderAt, e fai.Entry, beg int64, l int, resident bool, cacheBytes int64) {
	s.r, s.e, s.beg, s.l = r, e, beg, l
	s.whole = nil
	if resident {
		if cap(s.resident) < l {
			s.resident = make([]byte, l)
		}
		s.whole = s.resident[:l]
		return
	}
	if s.tags == nil {
		n := int(max(cacheBytes/blockSize, 16))
		s.tags = make([]int32, n)
		s.data = make([]byte, n*blockSize)
	}
	for i := range s.tags {
		s.tags[i] = -1
	}
}

// window returns the codes of [a, b), 0 <= a <= b <= l, valid until the
// next call. Only used when the interval is not resident.
func (s *seqCodes) window(a, b int) ([]byte, error) {
	first, last := a>>blockBits, (b-1)>>blockBits
	if b <= a {
		return nil, nil
	}
	if first == last {
		blk, err := s.block(first)
		if err != nil {
			return nil, err
		}
		off := first << blockBits
		return blk[a-off : b-off], nil
	}
	if cap(s.scratch) < b-a {
		s.scratch = make([]byte, 0, 2*(b-a))
	}
	out := s.scratch[:0]
	for bi := first; bi <= last; bi++ {
		blk, err := s.block(bi)
		if err != nil {
			return nil, err
		}
		off := bi << blockBits
		lo, hi := max(a, off)-off, min(b, off+len(blk))-off
		out = append(out, blk[lo:hi]...)
	}
	s.scratch = out
	return out, nil
}

func (s *seqCodes) block(bi int) ([]byte, error) {
	slot := bi % len(s.tags)
	start := bi << blockBits
	n := min(blockSize, s.l-start)
	dst := s.data[slot*blockSize : slot*blockSize+n]
	if s.tags[slot] == int32(bi) {
		return dst, nil
	}
	var err error
	s.raw, s.rawBuf, err = s.e.Append(s.raw[:0], s.r, s.beg+int64(start), s.beg+int64(start+n), s.rawBuf)
	if err != nil {
		s.tags[slot] = -1
		return nil, err
	}
	for i, c := range s.raw {
		dst[i] = nt4[c]
	}
	s.tags[slot] = int32(bi)
	return dst, nil
}
