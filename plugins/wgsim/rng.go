package wgsim

import "math"

// rng is POSIX drand48 (48-bit LCG, x' = 0x5DEECE66D*x + 0xB mod 2^48) plus
// wgsim's ran_normal, whose one-value cache lives for the whole run.
type rng struct {
	x        uint64
	hasGauss bool
	gauss    float64
}

const mask48 = 1<<48 - 1

// newRNG mirrors srand48(seed): the low 32 bits of seed above 0x330E.
func newRNG(seed int64) rng { return rng{x: uint64(uint32(seed))<<16 | 0x330E} }

// next is drand48: x / 2^48, exact in a float64. Small enough to inline.
func (r *rng) next() float64 {
	r.x = (r.x*0x5DEECE66D + 0xB) & mask48
	return float64(r.x) * 0x1p-48
}

// normal is the Marsaglia polar method exactly as wgsim's ran_normal: it
// returns v2*f and keeps v1*f for the next call.
func (r *rng) normal() float64 {
	if r.hasGauss {
		r.hasGauss = false
		return r.gauss
	}
	var v1, v2, rsq float64
	for {
		v1 = float64(2.0*r.next()) - 1.0
		v2 = float64(2.0*r.next()) - 1.0
		rsq = float64(v1*v1) + float64(v2*v2)
		if rsq < 1.0 && rsq != 0.0 {
			break
		}
	}
	fac := math.Sqrt(-2.0 * math.Log(rsq) / rsq)
	r.gauss = v1 * fac
	r.hasGauss = true
	return v2 * fac
}
