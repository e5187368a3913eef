package wgsim

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/edgenome/edgenome/plugins/internal/fai"
)

// sim holds the state of one run: the single random stream, the current
// interval's codes and mutations, and the output buffers.
type sim struct {
	ctx   context.Context
	cfg   Config
	ref   Reference
	rng   rng
	reads io.Writer
	muts  io.Writer
	stats Stats

	seq    seqCodes
	reader fai.Reader // streams each interval for the mutation pass
	mutsL  []mut      // the current interval's mutation list
	mx     mutIndex
	out    []byte
	mout   []byte
	tmp    [2][]byte // read codes built by the walks (size+2: reverse overflow)
	let    [2][]byte // read letters after sequencing errors
	hdr    []byte
	qual   []byte
	qualCh byte
}

func (s *sim) init() {
	n := max(s.cfg.Len1, s.cfg.Len2)
	s.tmp[0] = make([]byte, n+2)
	s.tmp[1] = make([]byte, n+2)
	s.let[0] = make([]byte, n)
	s.let[1] = make([]byte, n)
	s.out = make([]byte, 0, flushAt+4*n+1024)
	if s.cfg.ErrorRate == 0 {
		s.qualCh = 'I'
	} else {
		s.qualCh = byte(int(-10.0*math.Log(s.cfg.ErrorRate)/math.Log(10.0)+0.499) + 33)
	}
	s.qual = make([]byte, n)
	for i := range s.qual {
		s.qual[i] = s.qualCh
	}
}

// Retry budgets. wgsim retries a pair with too many N 1000 times, then
// drops it, but a pair whose reads run off the sequence (or overflow at a
// reverse-strand insertion) is retried with no limit and also restarts the
// 1000-retry budget. With high indel rates over N-rich sequence that never
// ends. We give up on a pair after maxPairTries attempts (ErrNoReads): at
// that point wgsim would have spent ~1 s on one pair and, in the cases we
// have seen, never finish.
const (
	maxAmbiguousRetries = 1000
	maxPairTries        = 1 << 20
	ctxEvery            = 1 << 14
)

// pairs is wgsim's per-pair loop for one record, draw for draw.
func (s *sim) pairs(rec *record) error {
	l := rec.l
	s.mx.build(s.mutsL, rec.l)
	muts := &s.mx
	r := &s.rng
	std, dist := float64(s.cfg.StdDev), float64(s.cfg.Distance)
	maxSize := max(s.cfg.Len1, s.cfg.Len2)
	errT, ambig := threshold(s.cfg.ErrorRate), s.cfg.AmbiguousMax
	name, shift := rec.label(s.cfg.Coords)
	want1, want2 := s.reads != nil && s.cfg.Output != Read2, s.reads != nil && s.cfg.Output != Read1
	whole := s.seq.whole
	t0, t1 := s.tmp[0], s.tmp[1]

	retries := maxAmbiguousRetries
	tries := 0 // attempts at the current pair
	for ii := uint64(0); ii < rec.nPairs; {
		tries++
		if tries&(ctxEvery-1) == 0 || tries >= s.cfg.Limits.maxPairTries {
			if err := s.ctx.Err(); err != nil {
				return err
			}
			if tries >= s.cfg.Limits.maxPairTries {
				return fmt.Errorf("%w: %s: pair %d not produced after %d attempts (reads keep running off the sequence or exceed ambiguous_max=%g); wgsim would not finish",
					ErrNoReads, rec.name, ii, tries, ambig)
			}
		}
		// Fragment length and position.
		var d, pos int
		for tries := 0; ; tries++ {
			ran := float64(r.normal()*std) + dist
			d = int(ran + 0.5)
			if d < maxSize {
				d = maxSize
			}
			pos = int(float64(l-d+1) * r.next())
			if pos >= 0 && pos < l && pos+d-1 < l {
				break
			}
			if tries > s.cfg.Limits.maxPairTries {
				return fmt.Errorf("%w: %s: no fragment fits after %d tries", ErrNoReads, rec.name, tries)
			}
		}
		s0, s1, flip := s.cfg.Len1, s.cfg.Len2, false
		if r.next() >= 0.5 {
			s0, s1, flip = s.cfg.Len2, s.cfg.Len1, true
		}
		hap := 0
		if r.next() >= 0.5 {
			hap = 1
		}

		// The two reads, walked over the haplotype. src0 holds read 0's codes
		// in order; src1 read 1's codes, in walk order (rightmost base first)
		// or, when desc1, as the plain reference span to read backwards.
		var src0, src1 []byte
		var desc1 bool
		var ext0, sub0, ind0, ext1, sub1, ind1 int
		if whole != nil {
			// The unmutated cases, by far the commonest, without a call.
			if end, mi := pos+s0, muts.search(pos); end <= l && (mi == len(muts.muts) || int(muts.muts[mi].pos) >= end) {
				src0, ext0, sub0, ind0 = whole[pos:end], pos, 0, 0
			} else {
				src0, ext0, sub0, ind0, _ = walkFwd(whole, 0, l, muts, hap, pos, s0, t0)
			}
			last := pos + d - 1
			if first, mi := last-s1+1, muts.search(last+1)-1; first >= 0 && (mi < 0 || int(muts.muts[mi].pos) < first) {
				src1, desc1, ext1, sub1, ind1 = whole[first:last+1], true, last, 0, 0
			} else {
				src1, desc1, ext1, sub1, ind1, _ = walkRev(whole, 0, muts, hap, last, s1, t1)
			}
		} else {
			var err error
			if src0, ext0, sub0, ind0, err = s.fwdCached(l, muts, hap, pos, s0, t0); err != nil {
				return err
			}
			if src1, desc1, ext1, sub1, ind1, err = s.revCached(muts, hap, pos+d-1, s1, t1); err != nil {
				return err
			}
		}
		if ext0 < 0 || ext1 < 0 {
			retries = maxAmbiguousRetries
			continue
		}

		// Sequencing errors, fused with complementing read 1 and turning
		// codes into letters; a read with too many N rejects the pair.
		var err0, err1, nN int
		r.x, err0, nN = errLetters(s.let[0][:s0], src0, false, &plainTab, r.x, errT)
		ok := !(float64(nN)/float64(s0) > ambig)
		if ok {
			r.x, err1, nN = errLetters(s.let[1][:s1], src1, desc1, &compTab, r.x, errT)
			ok = !(float64(nN)/float64(s1) > ambig)
		}
		if !ok {
			if retries > 0 {
				retries--
				continue
			}
			s.stats.Dropped++
			ii++
			retries, tries = maxAmbiguousRetries, 0
			continue
		}
		r0, r1 := s.let[0][:s0], s.let[1][:s1]

		if want1 || want2 {
			h := append(s.hdr[:0], '@')
			h = append(h, name...)
			h = append(h, '_')
			h = appendUint(h, uint64(int64(ext0)+1+shift))
			h = append(h, '_')
			h = appendUint(h, uint64(int64(ext1)+1+shift))
			h = append(h, '_')
			h = appendCount(h, err0)
			h = append(h, ':')
			h = appendCount(h, sub0)
			h = append(h, ':')
			h = appendCount(h, ind0)
			h = append(h, '_')
			h = appendCount(h, err1)
			h = append(h, ':')
			h = appendCount(h, sub1)
			h = append(h, ':')
			h = appendCount(h, ind1)
			h = append(h, '_')
			h = appendHex(h, ii)
			h = append(h, '/')
			s.hdr = h
			// Read 0 goes to file 1 unless flipped; read 1 to the other.
			f0 := byte('1')
			if flip {
				f0 = '2'
			}
			if f0 == '1' && want1 || f0 == '2' && want2 {
				s.out = s.appendRecord(s.out, h, f0, r0)
			}
			if f0 == '2' && want1 || f0 == '1' && want2 {
				s.out = s.appendRecord(s.out, h, '1'+'2'-f0, r1)
			}
			if len(s.out) >= flushAt {
				if err := s.flush(false); err != nil {
					return err
				}
			}
		}
		s.stats.Pairs++
		ii++
		retries, tries = maxAmbiguousRetries, 0
	}
	return nil
}

func (s *sim) appendRecord(out, hdr []byte, file byte, letters []byte) []byte {
	out = append(out, hdr...)
	out = append(out, file, '\n')
	out = append(out, letters...)
	out = append(out, '\n', '+', '\n')
	out = append(out, s.qual[:len(letters)]...)
	return append(out, '\n')
}

// Code tables for errLetters: codes 4 and 5 (N, '-') both become N (4).
var (
	plainTab = [8]byte{0, 1, 2, 3, 4, 4, 4, 4}
	compTab  = [8]byte{3, 2, 1, 0, 4, 4, 4, 4}
	letters  = [8]byte{'A', 'C', 'G', 'T', 'N', 'N', 'N', 'N'}
)

// errLetters applies wgsim's sequencing errors to one read and writes its
// letters to dst: N costs no draw, any other base one draw, and a draw
// below the error rate shifts it by one (A->C->G->T->A). src is read in
// order, or backwards when desc; tab complements (read 1) or not. x is the
// generator state, returned advanced.
//
// The loop body is branch-free and unrolled: Go's Wasm backend turns every
// taken branch, loop back-edges included, into a jump through a br_table,
// which costs more than the arithmetic.
func errLetters(dst, src []byte, desc bool, tab *[8]byte, x, errT uint64) (uint64, int, int) {
	n := len(dst)
	if desc {
		src = src[len(src)-n:]
	} else {
		src = src[:n]
	}
	// Most reads hold no N: then every base draws, and four states can be
	// computed from x at once (independent multiplies, a quarter of the
	// dependency chain). Scanning for N first is cheap by comparison.
	if !hasN(src) {
		var nerr uint64
		k := 0
		if desc {
			for ; k+4 <= n; k += 4 {
				d, s := dst[k:k+4:k+4], src[n-4-k:n-k:n-k]
				x0 := (x*lcgA1 + lcgB1) & mask48
				x1 := (x*lcgA2 + lcgB2) & mask48
				x2 := (x*lcgA3 + lcgB3) & mask48
				x = (x*lcgA4 + lcgB4) & mask48
				e0, e1, e2, e3 := (x0-errT)>>63, (x1-errT)>>63, (x2-errT)>>63, (x-errT)>>63
				d[0] = letters[(uint64(tab[s[3]&7])+e0)&3]
				d[1] = letters[(uint64(tab[s[2]&7])+e1)&3]
				d[2] = letters[(uint64(tab[s[1]&7])+e2)&3]
				d[3] = letters[(uint64(tab[s[0]&7])+e3)&3]
				nerr += e0 + e1 + e2 + e3
			}
			for ; k < n; k++ {
				x = (x*lcgA1 + lcgB1) & mask48
				e := (x - errT) >> 63
				dst[k] = letters[(uint64(tab[src[n-1-k]&7])+e)&3]
				nerr += e
			}
			return x, int(nerr), 0
		}
		for ; k+4 <= n; k += 4 {
			d, s := dst[k:k+4:k+4], src[k:k+4:k+4]
			x0 := (x*lcgA1 + lcgB1) & mask48
			x1 := (x*lcgA2 + lcgB2) & mask48
			x2 := (x*lcgA3 + lcgB3) & mask48
			x = (x*lcgA4 + lcgB4) & mask48
			e0, e1, e2, e3 := (x0-errT)>>63, (x1-errT)>>63, (x2-errT)>>63, (x-errT)>>63
			d[0] = letters[(uint64(tab[s[0]&7])+e0)&3]
			d[1] = letters[(uint64(tab[s[1]&7])+e1)&3]
			d[2] = letters[(uint64(tab[s[2]&7])+e2)&3]
			d[3] = letters[(uint64(tab[s[3]&7])+e3)&3]
			nerr += e0 + e1 + e2 + e3
		}
		for ; k < n; k++ {
			x = (x*lcgA1 + lcgB1) & mask48
			e := (x - errT) >> 63
			dst[k] = letters[(uint64(tab[src[k]&7])+e)&3]
			nerr += e
		}
		return x, int(nerr), 0
	}
	var nerr, nN uint64
	k := 0
	if desc {
		for ; k+4 <= n; k += 4 {
			d, s := dst[k:k+4:k+4], src[n-4-k:n-k:n-k]
			var c uint64
			x, c, nerr, nN = errStep(x, uint64(tab[s[3]&7]), errT, nerr, nN)
			d[0] = letters[c&7]
			x, c, nerr, nN = errStep(x, uint64(tab[s[2]&7]), errT, nerr, nN)
			d[1] = letters[c&7]
			x, c, nerr, nN = errStep(x, uint64(tab[s[1]&7]), errT, nerr, nN)
			d[2] = letters[c&7]
			x, c, nerr, nN = errStep(x, uint64(tab[s[0]&7]), errT, nerr, nN)
			d[3] = letters[c&7]
		}
		for ; k < n; k++ {
			var c uint64
			x, c, nerr, nN = errStep(x, uint64(tab[src[n-1-k]&7]), errT, nerr, nN)
			dst[k] = letters[c&7]
		}
		return x, int(nerr), int(nN)
	}
	for ; k+4 <= n; k += 4 {
		d, s := dst[k:k+4:k+4], src[k:k+4:k+4]
		var c uint64
		x, c, nerr, nN = errStep(x, uint64(tab[s[0]&7]), errT, nerr, nN)
		d[0] = letters[c&7]
		x, c, nerr, nN = errStep(x, uint64(tab[s[1]&7]), errT, nerr, nN)
		d[1] = letters[c&7]
		x, c, nerr, nN = errStep(x, uint64(tab[s[2]&7]), errT, nerr, nN)
		d[2] = letters[c&7]
		x, c, nerr, nN = errStep(x, uint64(tab[s[3]&7]), errT, nerr, nN)
		d[3] = letters[c&7]
	}
	for ; k < n; k++ {
		var c uint64
		x, c, nerr, nN = errStep(x, uint64(tab[src[k]&7]), errT, nerr, nN)
		dst[k] = letters[c&7]
	}
	return x, int(nerr), int(nN)
}

// hasN reports whether any code is N (4) or '-' (5), i.e. has bit 2 set.
// Eight codes per step: in Wasm each loop iteration costs a dispatch.
func hasN(src []byte) bool {
	var acc uint64
	k := 0
	for ; k+8 <= len(src); k += 8 {
		acc |= binary.LittleEndian.Uint64(src[k : k+8 : k+8])
	}
	for ; k < len(src); k++ {
		acc |= uint64(src[k])
	}
	return acc&0x0404040404040404 != 0
}

// Jump-ahead constants: x_{n+k} = (lcgAk*x_n + lcgBk) mod 2^48.
const (
	lcgA1 = 0x5DEECE66D
	lcgB1 = 0xB
	lcgA2 = lcgA1 * lcgA1 & mask48
	lcgB2 = (lcgB1*lcgA1 + lcgB1) & mask48
	lcgA3 = lcgA2 * lcgA1 & mask48
	lcgB3 = (lcgB2*lcgA1 + lcgB1) & mask48
	lcgA4 = lcgA3 * lcgA1 & mask48
	lcgB4 = (lcgB3*lcgA1 + lcgB1) & mask48
)

// errStep is one base of errLetters (inlined): c is 0-3 or 4 for N.
func errStep(x, c, errT, nerr, nN uint64) (uint64, uint64, uint64, uint64) {
	isN := c >> 2   // 1 for N, else 0
	keep := isN - 1 // all ones unless N
	xn := (x*0x5DEECE66D + 0xB) & mask48
	x ^= (x ^ xn) & keep         // draw only for a real base
	e := (x - errT) >> 63 & keep // x < errT, both < 2^63
	c = (c+e)&3 | isN<<2
	return x, c, nerr + e, nN + isN
}

// threshold turns a probability p into T with drand48() < p exactly when
// the generator state x < T (x/2^48 and p*2^48 are exact in a float64).
func threshold(p float64) uint64 {
	if !(p > 0) {
		return 0
	}
	if p >= 1 {
		return 1 << 48
	}
	v := p * 0x1p48
	t := uint64(v)
	if float64(t) < v {
		t++
	}
	return t
}

func (s *sim) flush(final bool) error {
	if s.reads == nil || len(s.out) == 0 {
		return nil
	}
	if _, err := s.reads.Write(s.out); err != nil {
		return err
	}
	s.out = s.out[:0]
	if final {
		return nil
	}
	return s.ctx.Err()
}

func (s *sim) flushMuts(final bool) error {
	if s.muts == nil || len(s.mout) == 0 || !final && len(s.mout) < flushAt {
		return nil
	}
	if _, err := s.muts.Write(s.mout); err != nil {
		return err
	}
	s.mout = s.mout[:0]
	return nil
}

// mutIndex maps each 1 Kbp bucket of the interval to the index of its
// first mutation, so finding the mutations under a read costs a lookup and
// rarely a step, not a branchy binary search (branches are dear in Wasm).
type mutIndex struct {
	muts  []mut
	start []int32 // start[b]: first mutation with pos >= b<<mutBucketBits
}

const mutBucketBits = 10

func (ix *mutIndex) build(muts []mut, l int) {
	ix.muts = muts
	nb := l>>mutBucketBits + 2
	if cap(ix.start) < nb {
		ix.start = make([]int32, nb)
	}
	ix.start = ix.start[:nb]
	m := 0
	for b := range ix.start {
		for m < len(muts) && int(muts[m].pos)>>mutBucketBits < b {
			m++
		}
		ix.start[b] = int32(m)
	}
}

// search returns the index of the first mutation at or after pos, for
// 0 <= pos <= l.
func (ix *mutIndex) search(pos int) int {
	b := pos >> mutBucketBits
	lo, hi := int(ix.start[b]), int(ix.start[b+1])
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int(ix.muts[m].pos) < pos {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// walkFwd builds the forward read from start rightwards over haplotype hap:
// positions before the first unchanged or substituted one are skipped
// uncounted; deleted positions and insertions count as indels; an insertion
// emits its anchor base then the inserted bases, last drawn first. win holds
// the codes of positions wb.. ; more reports that it ended too early.
func walkFwd(win []byte, wb, l int, mx *mutIndex, hap, start, size int, out []byte) (src []byte, ext, nsub, nindel int, more bool) {
	muts := mx.muts
	mi := mx.search(start)
	// Fast path, most reads: no mutation under the read, bases verbatim.
	if end := start + size; end <= l && end-wb <= len(win) && (mi == len(muts) || int(muts[mi].pos) >= end) {
		return win[start-wb : end-wb], start, 0, 0, false
	}
	k := 0
	ext = -10
	for i := start; i < l && k < size; i++ {
		var c int
		if mi < len(muts) && int(muts[mi].pos) == i {
			c = int(muts[mi].w[hap])
			mi++
		} else {
			j := i - wb
			if j >= len(win) {
				return nil, -10, 0, 0, true
			}
			c = int(win[j])
		}
		t := c & typeMask
		if ext < 0 {
			if t != 0 && t != typeSubst {
				continue
			}
			ext = i
		}
		switch t {
		case typeDelete:
			nindel++
		case 0:
			out[k] = byte(c)
			k++
		case typeSubst:
			out[k] = byte(c & 0xf)
			k++
			nsub++
		default:
			nindel++
			out[k] = byte(c & 0xf)
			k++
			ins := c >> 4
			for n := t >> 12; n > 0 && k < size; n-- {
				out[k] = byte(ins & 3)
				k++
				ins >>= 2
			}
		}
	}
	if k != size {
		ext = -10
	}
	return out[:k], ext, nsub, nindel, false
}

// walkRev builds the reverse read from start leftwards (not yet
// complemented). An insertion emits its inserted bases first drawn first,
// then always its anchor, which can overflow the read by one and so fail it
// (samtools wgsim's behaviour). out needs size+1 bytes.
func walkRev(win []byte, wb int, mx *mutIndex, hap, start, size int, out []byte) (src []byte, desc bool, ext, nsub, nindel int, more bool) {
	muts := mx.muts
	mi := mx.search(start+1) - 1
	// Fast path: the unmutated span, to be read backwards.
	if first := start - size + 1; first >= wb && (mi < 0 || int(muts[mi].pos) < first) {
		return win[first-wb : start-wb+1], true, start, 0, 0, false
	}
	k := 0
	ext = -10
	for i := start; i >= 0 && k < size; i-- {
		var c int
		if mi >= 0 && int(muts[mi].pos) == i {
			c = int(muts[mi].w[hap])
			mi--
		} else {
			j := i - wb
			if j < 0 {
				return nil, false, -10, 0, 0, true
			}
			c = int(win[j])
		}
		t := c & typeMask
		if ext < 0 {
			if t != 0 && t != typeSubst {
				continue
			}
			ext = i
		}
		switch t {
		case typeDelete:
			nindel++
		case 0:
			out[k] = byte(c)
			k++
		case typeSubst:
			out[k] = byte(c & 0xf)
			k++
			nsub++
		default:
			nindel++
			ins := c >> 4
			for n := t >> 12; n > 0 && k < size; {
				n--
				out[k] = byte((ins >> (2 * n)) & 3)
				k++
			}
			out[k] = byte(c & 0xf)
			k++
		}
	}
	if k != size {
		ext = -10
	}
	return out[:k], false, ext, nsub, nindel, false
}

// fwdCached and revCached run the walks over windows of the block cache,
// widening the window when deletions make the walk run past it.
func (s *sim) fwdCached(l int, muts *mutIndex, hap, start, size int, out []byte) (src []byte, ext, nsub, nindel int, err error) {
	for pad := 32; ; pad *= 4 {
		hi := min(l, start+size+pad)
		win, err := s.seq.window(start, hi)
		if err != nil {
			return nil, 0, 0, 0, err
		}
		var more bool
		src, ext, nsub, nindel, more = walkFwd(win, start, l, muts, hap, start, size, out)
		if !more {
			// The window is reused by the reverse read: keep a copy.
			return append(out[:0], src...), ext, nsub, nindel, nil
		}
	}
}

func (s *sim) revCached(muts *mutIndex, hap, start, size int, out []byte) (src []byte, desc bool, ext, nsub, nindel int, err error) {
	for pad := 32; ; pad *= 4 {
		lo := max(0, start+1-size-pad)
		win, err := s.seq.window(lo, start+1)
		if err != nil {
			return nil, false, 0, 0, 0, err
		}
		var more bool
		src, desc, ext, nsub, nindel, more = walkRev(win, lo, muts, hap, start, size, out)
		if !more {
			return src, desc, ext, nsub, nindel, nil
		}
	}
}

// appendCount appends a small count, almost always one digit (inlined).
func appendCount(b []byte, v int) []byte {
	if uint(v) < 10 {
		return append(b, byte('0'+v))
	}
	return appendUint(b, uint64(v))
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendUint formats v in decimal, two digits per step and in 32-bit
// arithmetic when it fits (Wasm has no 64x64->128 multiply, so 64-bit
// division by a constant is slow there).
func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v >= 1<<32 {
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		tmp[i], tmp[i+1] = digitPairs[r], digitPairs[r+1]
		v = q
	}
	w := uint32(v)
	for w >= 100 {
		q := w / 100
		r := (w - q*100) * 2
		i -= 2
		tmp[i], tmp[i+1] = digitPairs[r], digitPairs[r+1]
		w = q
	}
	if w >= 10 {
		i -= 2
		tmp[i], tmp[i+1] = digitPairs[w*2], digitPairs[w*2+1]
	} else {
		i--
		tmp[i] = byte('0' + w)
	}
	return append(b, tmp[i:]...)
}

func appendHex(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	var tmp [16]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = digits[v&15]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}
