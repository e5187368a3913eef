package bamindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/edgenome/edgenome/plugins/internal/bgzf"
)

// Errors wrapped by this package.
var (
	// ErrFormat means the data is neither a BAI nor a CSI index.
	ErrFormat = errors.New("bamindex: not a BAI or CSI index")
	// ErrCorrupt means the index is malformed or truncated.
	ErrCorrupt = errors.New("bamindex: corrupt index")
)

// MaxIndexSize bounds the decompressed size of a CSI index.
const MaxIndexSize = 1 << 30

// Chunk is a range of virtual offsets [Beg, End).
type Chunk struct{ Beg, End uint64 }

type bin struct {
	loff   uint64
	chunks []Chunk
}

// Ref is the index of one reference sequence.
type Ref struct {
	bins   map[uint32]*bin
	linear []uint64
}

// Index is a parsed BAI or CSI index.
type Index struct {
	CSI      bool
	MinShift int
	Depth    int
	Refs     []Ref
	// NoCoor is the number of unplaced unmapped records (0 when absent).
	NoCoor uint64

	nBins uint32 // number of real bins; the pseudo-bin is nBins+1
}

// Read parses an index of either format from r.
func Read(r io.ReaderAt, size int64) (*Index, error) {
	if size < 4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrFormat, size)
	}
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if string(magic[:]) == "BAI\x01" {
		buf := make([]byte, size)
		if _, err := r.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return ParseBAI(buf)
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		data, err := inflateAll(r, size)
		if err != nil {
			return nil, err
		}
		return ParseCSI(data)
	}
	return nil, fmt.Errorf("%w: magic %q", ErrFormat, magic[:])
}

func inflateAll(r io.ReaderAt, size int64) ([]byte, error) {
	bg := bgzf.NewReader(r, size)
	var out, blk []byte
	for off := int64(0); off < size; {
		data, csize, err := bg.Block(off, blk)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		blk = data
		out = append(out, data...)
		if len(out) > MaxIndexSize {
			return nil, fmt.Errorf("%w: larger than %d bytes", ErrCorrupt, MaxIndexSize)
		}
		off += int64(csize)
	}
	return out, nil
}

type parser struct {
	b   []byte
	off int
	err error
}

func (p *parser) need(n int, what string) bool {
	if p.err != nil {
		return false
	}
	if n < 0 || len(p.b)-p.off < n {
		p.err = fmt.Errorf("%w: truncated at byte %d reading %s", ErrCorrupt, p.off, what)
		return false
	}
	return true
}

func (p *parser) u32(what string) uint32 {
	if !p.need(4, what) {
		return 0
	}
	v := binary.LittleEndian.Uint32(p.b[p.off:])
	p.off += 4
	return v
}

func (p *parser) u64(what string) uint64 {
	if !p.need(8, what) {
		return 0
	}
	v := binary.LittleEndian.Uint64(p.b[p.off:])
	p.off += 8
	return v
}

// count reads a non-negative int32 count of items of size sz each, checking
// that the data can hold them.
func (p *parser) count(what string, sz int) int {
	v := int32(p.u32(what))
	if p.err != nil {
		return 0
	}
	if v < 0 {
		p.err = fmt.Errorf("%w: negative %s %d at byte %d", ErrCorrupt, what, v, p.off-4)
		return 0
	}
	if int64(v)*int64(sz) > int64(len(p.b)-p.off) {
		p.err = fmt.Errorf("%w: %s %d exceeds the data at byte %d", ErrCorrupt, what, v, p.off-4)
		return 0
	}
	return int(v)
}

// ParseBAI parses an uncompressed BAI index.
func ParseBAI(b []byte) (*Index, error) {
	if len(b) < 4 || string(b[:4]) != "BAI\x01" {
		return nil, fmt.Errorf("%w: missing BAI\\1 magic", ErrFormat)
	}
	p := &parser{b: b, off: 4}
	x := &Index{MinShift: 14, Depth: 5}
	x.setBins()
	n := p.count("reference count", 8)
	if err := x.readCore(p, n); err != nil {
		return nil, err
	}
	return x, nil
}

// ParseCSI parses a decompressed CSI index.
func ParseCSI(b []byte) (*Index, error) {
	if len(b) < 4 || string(b[:4]) != "CSI\x01" {
		return nil, fmt.Errorf("%w: missing CSI\\1 magic", ErrFormat)
	}
	p := &parser{b: b, off: 4}
	minShift := int32(p.u32("min_shift"))
	depth := int32(p.u32("depth"))
	lAux := p.count("aux length", 1)
	if p.err == nil {
		p.off += lAux
	}
	if p.err != nil {
		return nil, p.err
	}
	if minShift < 0 || minShift > 32 || depth < 0 || depth > 10 || minShift+3*depth > 62 {
		return nil, fmt.Errorf("%w: invalid min_shift %d / depth %d", ErrCorrupt, minShift, depth)
	}
	x := &Index{CSI: true, MinShift: int(minShift), Depth: int(depth)}
	x.setBins()
	n := p.count("reference count", 4)
	if err := x.readCore(p, n); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *Index) setBins() {
	x.nBins = uint32((1<<(3*x.Depth+3) - 1) / 7)
}

func (x *Index) metaBin() uint32 { return x.nBins + 1 }

func (x *Index) readCore(p *parser, n int) error {
	if p.err != nil {
		return p.err
	}
	x.Refs = make([]Ref, n)
	for i := range x.Refs {
		ref := &x.Refs[i]
		nb := p.count("bin count", 8)
		ref.bins = make(map[uint32]*bin, nb)
		for j := 0; j < nb && p.err == nil; j++ {
			id := p.u32("bin number")
			bn := &bin{}
			if x.CSI {
				bn.loff = p.u64("bin offset")
			}
			nc := p.count("chunk count", 16)
			if p.err != nil {
				break
			}
			if _, dup := ref.bins[id]; dup {
				return fmt.Errorf("%w: duplicate bin %d in reference %d", ErrCorrupt, id, i)
			}
			bn.chunks = make([]Chunk, nc)
			for k := range bn.chunks {
				bn.chunks[k] = Chunk{p.u64("chunk"), p.u64("chunk")}
			}
			ref.bins[id] = bn
		}
		if !x.CSI && p.err == nil {
			ni := p.count("interval count", 8)
			ref.linear = make([]uint64, ni)
			for k := range ref.linear {
				ref.linear[k] = p.u64("interval")
			}
			x.fillLinear(ref)
		}
		if p.err != nil {
			return fmt.Errorf("reference %d: %w", i, p.err)
		}
	}
	// The unplaced-unmapped count is optional.
	if len(p.b)-p.off >= 8 {
		x.NoCoor = p.u64("n_no_coor")
	}
	return nil
}

// fillLinear repairs gaps in a BAI linear index and derives each bin's
// minimum offset from it, as htslib does after loading.
func (x *Index) fillLinear(ref *Ref) {
	l := ref.linear
	k := 0
	for k < len(l) && l[k] == 0 {
		k++
	}
	for j := len(l) - 1; j > k; j-- {
		if l[j-1] == 0 {
			l[j-1] = l[j]
		}
	}
	for id, bn := range ref.bins {
		if id < x.nBins {
			bot := binBot(int(id), x.Depth)
			if bot < len(l) {
				bn.loff = l[bot]
			} else {
				bn.loff = 0
			}
		} else {
			bn.loff = 0
		}
	}
}

func binFirst(l int) int { return ((1 << (3 * l)) - 1) / 7 }

func binParent(b int) int { return (b - 1) >> 3 }

func binBot(b, depth int) int {
	l := 0
	for c := b; c != 0; c = binParent(c) {
		l++
	}
	return (b - binFirst(l)) << ((depth - l) * 3)
}

// Stats returns the mapped and unmapped record counts of reference tid from
// the pseudo-bin; ok is false when the index has none for it.
func (x *Index) Stats(tid int) (mapped, unmapped uint64, ok bool) {
	if tid < 0 || tid >= len(x.Refs) {
		return 0, 0, false
	}
	bn := x.Refs[tid].bins[x.metaBin()]
	if bn == nil || len(bn.chunks) < 2 {
		return 0, 0, false
	}
	return bn.chunks[1].Beg, bn.chunks[1].End, true
}

// NoCoorOffset returns where unplaced unmapped records start: the largest end
// offset of any reference's records (htslib's hts_itr_off for
// HTS_IDX_NOCOOR). ok is false when neither mapped nor unplaced records exist.
func (x *Index) NoCoorOffset() (uint64, bool) {
	found := false
	var off uint64
	for i := range x.Refs {
		bn := x.Refs[i].bins[x.metaBin()]
		if bn == nil || len(bn.chunks) < 1 {
			continue
		}
		if !found || off < bn.chunks[0].End {
			off = bn.chunks[0].End
			found = true
		}
	}
	if !found && x.NoCoor > 0 {
		return 0, true
	}
	return off, found
}

// Query returns the chunks that may hold records of reference tid
// overlapping [beg, end), in file order, merged as htslib merges them.
func (x *Index) Query(tid int, beg, end int64) []Chunk {
	if tid < 0 || tid >= len(x.Refs) {
		return nil
	}
	if beg < 0 {
		beg = 0
	}
	if end < beg {
		return nil
	}
	ref := &x.Refs[tid]
	if len(ref.bins) == 0 {
		return nil
	}
	unmapped := uint64(1)
	if mb := ref.bins[x.metaBin()]; mb != nil && len(mb.chunks) >= 2 {
		unmapped = mb.chunks[1].End
	}
	relOff := beg >> x.MinShift
	// Minimum offset: the bin of the region start, or the nearest existing
	// bin to its left or above.
	b := binFirst(x.Depth) + int(min(relOff, int64(1)<<30))
	var kb *bin
	for {
		kb = ref.bins[uint32(b)]
		if kb != nil {
			break
		}
		first := (binParent(b) << 3) + 1
		if b > first {
			b--
		} else {
			b = binParent(b)
		}
		if b == 0 {
			kb = ref.bins[0]
			break
		}
	}
	var minOff uint64
	if kb != nil {
		minOff = kb.loff
	}
	if len(ref.linear) > 0 && relOff < int64(len(ref.linear)) {
		if minOff < ref.linear[relOff] {
			minOff = ref.linear[relOff]
		}
		if unmapped != 0 {
			t := relOff - 1
			for ; t >= 0; t-- {
				if ref.linear[t] < minOff {
					minOff = ref.linear[t]
					break
				}
			}
			if kb != nil && (minOff < kb.loff || t < 0) {
				minOff = kb.loff
			}
		}
	} else if unmapped != 0 && kb != nil && x.CSI {
		minOff = kb.loff
	}
	// Maximum offset: the first chunk of an existing bin right of the end.
	maxOff := ^uint64(0)
	s := x.MinShift + 3*x.Depth
	endc := end
	if endc > int64(1)<<s {
		endc = int64(1) << s
	}
	b = binFirst(x.Depth) + int((endc-1)>>x.MinShift) + 1
	if endc <= 0 {
		b = binFirst(x.Depth) + 1
	}
	if b >= int(x.nBins) {
		b = 0
	}
	for {
		for b%8 == 1 {
			b = binParent(b)
		}
		if b == 0 {
			break
		}
		if bn := ref.bins[uint32(b)]; bn != nil && len(bn.chunks) > 0 {
			maxOff = bn.chunks[0].Beg
			break
		}
		b++
	}
	// Collect chunks of all bins overlapping the region.
	var off []Chunk
	take := func(bn *bin) {
		for _, c := range bn.chunks {
			if c.End > minOff && c.Beg < maxOff {
				off = append(off, Chunk{max(c.Beg, minOff), min(c.End, maxOff)})
			}
		}
	}
	if beg < endc {
		// The bin ranges overlapping [beg, end) at each level.
		var lo, hi [16]int
		e := endc - 1
		sh := s
		t := 0
		span := 0
		for l := 0; l <= x.Depth; l++ {
			lo[l] = t + int(beg>>sh)
			hi[l] = t + int(e>>sh)
			span += hi[l] - lo[l] + 1
			sh -= 3
			t += 1 << (3 * l)
		}
		if span <= 4*len(ref.bins) {
			for l := 0; l <= x.Depth; l++ {
				for i := lo[l]; i <= hi[l]; i++ {
					if bn := ref.bins[uint32(i)]; bn != nil {
						take(bn)
					}
				}
			}
		} else {
			// A wide region over a sparse index: visit the bins that exist
			// rather than every bin number in range.
			for id, bn := range ref.bins {
				for l := 0; l <= x.Depth; l++ {
					if int(id) >= lo[l] && int(id) <= hi[l] {
						take(bn)
						break
					}
				}
			}
		}
	}
	if len(off) == 0 {
		return nil
	}
	slices.SortFunc(off, func(a, b Chunk) int {
		if a.Beg != b.Beg {
			if a.Beg < b.Beg {
				return -1
			}
			return 1
		}
		if a.End < b.End {
			return -1
		} else if a.End > b.End {
			return 1
		}
		return 0
	})
	// Drop chunks contained in the previous one.
	l := 0
	for i := 1; i < len(off); i++ {
		if off[l].End < off[i].End {
			l++
			off[l] = off[i]
		}
	}
	off = off[:l+1]
	// Resolve overlaps between neighbours.
	for i := 1; i < len(off); i++ {
		if off[i-1].End >= off[i].Beg {
			off[i-1].End = off[i].Beg
		}
	}
	// Merge chunks that meet in the same BGZF block.
	l = 0
	for i := 1; i < len(off); i++ {
		if off[l].End>>16 == off[i].Beg>>16 {
			off[l].End = off[i].End
		} else {
			l++
			off[l] = off[i]
		}
	}
	return off[:l+1]
}

// StartOffset returns the smallest start offset recorded in any reference's
// pseudo-bin (htslib's HTS_IDX_START); ok is false when there is none.
func (x *Index) StartOffset() (uint64, bool) {
	found := false
	var off uint64
	for i := range x.Refs {
		bn := x.Refs[i].bins[x.metaBin()]
		if bn == nil || len(bn.chunks) < 1 {
			continue
		}
		if !found || bn.chunks[0].Beg < off {
			off = bn.chunks[0].Beg
			found = true
		}
	}
	return off, found
}
