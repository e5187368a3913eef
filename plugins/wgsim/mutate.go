package wgsim

import (
	"fmt"
	"io"
)

// Haplotype words as wgsim stores them: low 4 bits the base code, bits 4-11
// up to four inserted bases (2 bits each, last drawn lowest), top 4 bits the
// type (0 unchanged, 1-4 insertion length, 0xE substitution, 0xF deleted).
const (
	typeMask   = 0xF000
	typeSubst  = 0xE000
	typeDelete = 0xF000
)

// mut is one position where at least one haplotype differs from the
// reference: the sparse replacement for wgsim's two full haplotype arrays.
type mut struct {
	pos uint32    // 0-based within the interval
	w   [2]uint16 // haplotype words (the reference code where unchanged)
	ref uint8     // reference base code
}

// mutate is wgsim_mut_diref streamed: one forward pass over the interval,
// drawing exactly as wgsim does and keeping only the changed positions. It
// also decodes the interval into s.seq.whole when that is resident.
func (s *sim) mutate(rec *record) error {
	rd := &s.reader
	if err := rd.Reset(s.ref.FASTA, rec.entry, rec.beg, rec.end, 1<<20); err != nil {
		return err
	}
	muts := s.mutsL[:0]
	whole := s.seq.whole
	r := &s.rng
	mutRate, indelFrac, extend := s.cfg.MutRate, s.cfg.IndelFrac, s.cfg.IndelExtend
	hap := s.cfg.Haplotype
	mutT, extendT := threshold(mutRate), threshold(extend)
	deleting := 0
	p := 0
	maxMuts := s.cfg.Limits.MaxMutations
	for {
		chunk, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if whole != nil {
			dst := whole[p : p+len(chunk)]
			for t, b := range chunk {
				dst[t] = nt4[b]
			}
		}
		x := r.x // the common path keeps the generator in a local
		for t, b := range chunk {
			c := int(nt4[b])
			i := uint32(p + t)
			if deleting != 0 {
				x = (x*0x5DEECE66D + 0xB) & mask48
				if x < extendT {
					m := mut{pos: i, w: [2]uint16{uint16(c), uint16(c)}, ref: uint8(c)}
					if deleting&1 != 0 {
						m.w[0] |= typeDelete
					}
					if deleting&2 != 0 {
						m.w[1] |= typeDelete
					}
					muts = append(muts, m)
					continue
				}
				deleting = 0
			}
			if c >= 4 {
				continue
			}
			x = (x*0x5DEECE66D + 0xB) & mask48
			if x >= mutT {
				continue
			}
			// A mutation: rare, so clarity over speed from here on.
			r.x = x
			m := mut{pos: i, w: [2]uint16{uint16(c), uint16(c)}, ref: uint8(c)}
			if r.next() >= indelFrac { // substitution
				nc := (c + int(float64(r.next()*3.0)+1)) & 3
				zygote(&m, r, hap, uint16(typeSubst|nc))
			} else if r.next() < 0.5 { // deletion
				if hap || r.next() < 0.333333 {
					m.w = [2]uint16{typeDelete, typeDelete}
					deleting = 3
				} else if r.next() < 0.5 {
					deleting = 1
					m.w[0] = typeDelete
				} else {
					deleting = 2
					m.w[1] = typeDelete
				}
			} else { // insertion of 1-4 bases after the reference base
				n, ins := 0, 0
				for {
					n++
					ins = ins<<2 | int(r.next()*4.0)
					if n >= 4 || r.next() >= extend {
						break
					}
				}
				zygote(&m, r, hap, uint16(n<<12|ins<<4|c))
			}
			muts = append(muts, m)
			x = r.x
		}
		r.x = x
		p += len(chunk)
		if len(muts) > maxMuts {
			return fmt.Errorf("%w: %s has more than %d mutations (mutation_rate=%g)", ErrTooLarge, rec.name, maxMuts, mutRate)
		}
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	s.mutsL = muts
	s.stats.Mutations += int64(len(muts))
	return nil
}

// zygote places word w on both haplotypes (homozygous: always with -h, else
// with probability 0.333333) or on one chosen at random.
func zygote(m *mut, r *rng, hap bool, w uint16) {
	switch {
	case hap || r.next() < 0.333333:
		m.w = [2]uint16{w, w}
	case r.next() < 0.5:
		m.w[0] = w
	default:
		m.w[1] = w
	}
}

const iupac = "XACMGRSVTWYHKDBN"

// appendMutations formats the mutation list as wgsim_print_mutref does,
// quirks included: a deletion run is printed once from its first base and
// merges with an abutting run of the same zygosity; heterozygous deletions
// are marked '-'; bases inside a deletion that are N print as N.
func appendMutations(out []byte, name string, shift int64, muts []mut) []byte {
	end := 0 // wgsim's j: the position after the last printed deletion run
	for x := 0; x < len(muts); x++ {
		m := muts[x]
		i := int(m.pos)
		if m.ref >= 4 {
			continue
		}
		c1, c2 := m.w[0], m.w[1]
		t1, t2 := c1&typeMask, c2&typeMask
		line := func(ref, alt string, zyg byte) []byte {
			out = append(out, name...)
			out = append(out, '\t')
			out = appendUint(out, uint64(int64(i)+1+shift))
			out = append(out, '\t')
			out = append(out, ref...)
			out = append(out, '\t')
			out = append(out, alt...)
			out = append(out, '\t', zyg, '\n')
			return out
		}
		// run returns the deleted reference bases from x on while cond holds
		// at consecutive positions, and moves end past them.
		run := func(cond func(mut) bool) string {
			var b []byte
			j := i
			for y := x; y < len(muts) && int(muts[y].pos) == j && cond(muts[y]); y++ {
				b = append(b, acgtn[muts[y].ref])
				j++
			}
			end = j
			return string(b)
		}
		if c1 == c2 { // homozygous
			switch {
			case t1 == typeSubst:
				out = line(string(acgtn[m.ref]), string(acgtn[c1&0xf]), '-')
			case t1 == typeDelete:
				if i >= end {
					out = line(run(func(m mut) bool { return m.w[0] == m.w[1] && m.w[0]&typeMask == typeDelete }), "-", '-')
				}
			default:
				out = line("-", insBases(c1), '-')
			}
			continue
		}
		switch { // heterozygous
		case t1 == typeSubst || t2 == typeSubst:
			out = line(string(acgtn[m.ref]), string(iupac[1<<(c1&3)|1<<(c2&3)]), '+')
		case t1 == typeDelete:
			if i >= end {
				out = line(run(func(m mut) bool { return m.w[0] != m.w[1] && m.w[0]&typeMask == typeDelete }), "-", '-')
			}
		case t2 == typeDelete:
			if i >= end {
				out = line(run(func(m mut) bool { return m.w[0] != m.w[1] && m.w[1]&typeMask == typeDelete }), "-", '-')
			}
		case t1>>12 >= 1 && t1>>12 <= 4:
			out = line("-", insBases(c1), '+')
		default:
			out = line("-", insBases(c2), '+')
		}
	}
	return out
}

// insBases lists an insertion's bases lowest 2 bits (last drawn) first.
func insBases(w uint16) string {
	n := int(w&typeMask) >> 12
	ins := int(w) >> 4
	b := make([]byte, n)
	for k := range b {
		b[k] = acgtn[ins&3]
		ins >>= 2
	}
	return string(b)
}
