package bam

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// nt16 maps a 4-bit base code to its letter (SAMv1 SEQ encoding).
const nt16 = "=ACMGRSVTWYHKDBN"

// pair16 maps a packed byte of two bases to their two letters, first letter
// in the low byte, so four lookups assemble one 8-byte little-endian store.
// Under Wasm, where Go's per-byte loops are several times slower than
// native, this halves the cost of SEQ.
var pair16 = func() (t [256]uint16) {
	for i := range 256 {
		t[i] = uint16(nt16[i>>4]) | uint16(nt16[i&0xf])<<8
	}
	return t
}()

// AppendSAM appends rec as one SAM line (with its newline) formatted as
// htslib's sam_format1 does. It fails on references outside the header and
// on malformed tag data, where samtools fails too.
func AppendSAM(dst []byte, h *Header, rec *Record) ([]byte, error) {
	d := rec.Data
	nref := int32(len(h.Refs))
	if rec.RefID >= nref || rec.MateRefID >= nref || rec.RefID < -1 || rec.MateRefID < -1 {
		return dst, fmt.Errorf("%w: read %q refers to reference %d/%d, header has %d", ErrCorrupt, rec.Name(), rec.RefID, rec.MateRefID, nref)
	}
	start := len(dst)
	dst = append(dst, d[32:32+rec.nameLen]...)
	dst = append(dst, '\t')
	dst = appendUint(dst, uint64(rec.Flag))
	dst = append(dst, '\t')
	if rec.RefID >= 0 {
		dst = append(dst, h.Refs[rec.RefID].Name...)
		dst = append(dst, '\t')
	} else {
		dst = append(dst, '*', '\t')
	}
	if v := int64(rec.Pos) + 1; v < 0 {
		dst = append(dst, '-')
		dst = appendUint(dst, uint64(-v))
	} else {
		dst = appendUint(dst, uint64(v))
	}
	dst = append(dst, '\t')
	dst = appendUint(dst, uint64(rec.MapQ))
	dst = append(dst, '\t')
	if rec.NCigar > 0 {
		cig := d[rec.cigarOff:rec.seqOff]
		for i := 0; i+4 <= len(cig); i += 4 {
			c := binary.LittleEndian.Uint32(cig[i:])
			dst = appendUint(dst, uint64(c>>4))
			dst = append(dst, cigarChars[c&0xf])
		}
	} else {
		dst = append(dst, '*')
	}
	dst = append(dst, '\t')
	switch {
	case rec.MateRefID < 0:
		dst = append(dst, '*', '\t')
	case rec.MateRefID == rec.RefID:
		dst = append(dst, '=', '\t')
	default:
		dst = append(dst, h.Refs[rec.MateRefID].Name...)
		dst = append(dst, '\t')
	}
	if v := int64(rec.MatePos) + 1; v < 0 {
		dst = append(dst, '-')
		dst = appendUint(dst, uint64(-v))
	} else {
		dst = appendUint(dst, uint64(v))
	}
	dst = append(dst, '\t')
	if v := int64(rec.TLen); v < 0 {
		dst = append(dst, '-')
		dst = appendUint(dst, uint64(-v))
	} else {
		dst = appendUint(dst, uint64(v))
	}
	dst = append(dst, '\t')
	if n := rec.LSeq; n > 0 {
		seq := d[rec.seqOff : rec.seqOff+(n+1)/2]
		o := len(dst)
		dst = grow(dst, 2*n+2)
		out := dst[o : o+2*n+2]
		k := 0
		full := seq[:n/2]
		i := 0
		for ; i+4 <= len(full); i += 4 {
			v := uint64(pair16[full[i]]) | uint64(pair16[full[i+1]])<<16 |
				uint64(pair16[full[i+2]])<<32 | uint64(pair16[full[i+3]])<<48
			binary.LittleEndian.PutUint64(out[k:], v)
			k += 8
		}
		for ; i < len(full); i++ {
			binary.LittleEndian.PutUint16(out[k:], pair16[full[i]])
			k += 2
		}
		if n&1 != 0 {
			out[k] = nt16[seq[n/2]>>4]
			k++
		}
		out[k] = '\t'
		k++
		qual := d[rec.seqOff+(n+1)/2 : rec.seqOff+(n+1)/2+n]
		if qual[0] == 0xff {
			out[k] = '*'
			k++
		} else {
			// Eight at a time: qualities are below 0xdf, so adding 33 to
			// each byte of a word never carries into the next.
			q := out[k : k+n]
			qs := qual[:len(q)]
			i := 0
			if !anyHigh(qs) {
				for ; i+8 <= len(qs); i += 8 {
					binary.LittleEndian.PutUint64(q[i:], binary.LittleEndian.Uint64(qs[i:])+0x2121212121212121)
				}
			}
			for ; i < len(qs); i++ {
				q[i] = qs[i] + 33
			}
			k += n
		}
		dst = dst[:o+k]
	} else {
		dst = append(dst, '*', '\t', '*')
	}
	aux := d[rec.auxOff:]
	for len(aux) >= 4 {
		// The common scalar types are formatted inline: under Wasm a call
		// per tag costs more than the formatting itself.
		var iv int64
		t0, t1 := aux[0], aux[1]
		switch aux[2] {
		case 'C':
			iv = int64(aux[3])
			aux = aux[4:]
		case 'c':
			iv = int64(int8(aux[3]))
			aux = aux[4:]
		case 'S', 's':
			if len(aux) < 5 {
				return dst[:start], fmt.Errorf("%w: corrupted aux data for read %q", ErrCorrupt, rec.Name())
			}
			iv = int64(binary.LittleEndian.Uint16(aux[3:]))
			if aux[2] == 's' {
				iv = int64(int16(iv))
			}
			aux = aux[5:]
		case 'I', 'i':
			if len(aux) < 7 {
				return dst[:start], fmt.Errorf("%w: corrupted aux data for read %q", ErrCorrupt, rec.Name())
			}
			iv = int64(binary.LittleEndian.Uint32(aux[3:]))
			if aux[2] == 'i' {
				iv = int64(int32(iv))
			}
			aux = aux[7:]
		case 'A':
			dst = append(dst, '\t', t0, t1, ':', 'A', ':', aux[3])
			aux = aux[4:]
			continue
		default:
			var ok bool
			dst = append(dst, '\t')
			dst, aux, ok = appendAux(dst, aux)
			if !ok {
				return dst[:start], fmt.Errorf("%w: corrupted aux data for read %q", ErrCorrupt, rec.Name())
			}
			continue
		}
		dst = append(dst, '\t', t0, t1, ':', 'i', ':')
		if iv < 0 {
			dst = append(dst, '-')
			iv = -iv
		}
		dst = appendUint(dst, uint64(iv))
	}
	dst = append(dst, '\n')
	return dst, nil
}

// grow extends dst by n bytes (contents undefined).
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), 2*cap(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	return dst[:len(dst)+n]
}

// appendAux formats one tag (key, type, value) of the types AppendSAM does
// not format inline (f d Z H B, and any other, which fails) and returns the
// rest.
func appendAux(dst, b []byte) ([]byte, []byte, bool) {
	dst = append(dst, b[0], b[1], ':')
	typ := b[2]
	s := b[3:]
	switch typ {
	case 'f':
		if len(s) < 4 {
			return dst, nil, false
		}
		dst = append(dst, 'f', ':')
		return appendFloat(dst, float64(math.Float32frombits(binary.LittleEndian.Uint32(s)))), s[4:], true
	case 'd':
		if len(s) < 8 {
			return dst, nil, false
		}
		dst = append(dst, 'd', ':')
		return appendG(dst, math.Float64frombits(binary.LittleEndian.Uint64(s))), s[8:], true
	case 'Z', 'H':
		dst = append(dst, typ, ':')
		i := bytes.IndexByte(s, 0)
		if i < 0 {
			return dst, nil, false
		}
		return append(dst, s[:i]...), s[i+1:], true
	case 'B':
		sub := s[0]
		var sz int
		switch sub {
		case 'c', 'C':
			sz = 1
		case 's', 'S':
			sz = 2
		case 'i', 'I', 'f':
			sz = 4
		default:
			return dst, nil, false
		}
		s = s[1:]
		if len(s) < 4 {
			return dst, nil, false
		}
		n := uint64(binary.LittleEndian.Uint32(s))
		s = s[4:]
		if uint64(len(s))/uint64(sz) < n {
			return dst, nil, false
		}
		dst = append(dst, 'B', ':', sub)
		v := s[:int(n)*sz]
		for i := 0; i < len(v); i += sz {
			dst = append(dst, ',')
			switch sub {
			case 'c':
				dst = appendInt(dst, int64(int8(v[i])))
			case 'C':
				dst = appendUint(dst, uint64(v[i]))
			case 's':
				dst = appendInt(dst, int64(int16(binary.LittleEndian.Uint16(v[i:]))))
			case 'S':
				dst = appendUint(dst, uint64(binary.LittleEndian.Uint16(v[i:])))
			case 'i':
				dst = appendInt(dst, int64(int32(binary.LittleEndian.Uint32(v[i:]))))
			case 'I':
				dst = appendUint(dst, uint64(binary.LittleEndian.Uint32(v[i:])))
			case 'f':
				dst = appendFloat(dst, float64(math.Float32frombits(binary.LittleEndian.Uint32(v[i:]))))
			}
		}
		return dst, s[len(v):], true
	}
	return dst, nil, false
}

// appendUint appends the decimal digits of v.
func appendUint(dst []byte, v uint64) []byte {
	if v < 10 {
		return append(dst, byte('0'+v))
	}
	var b [20]byte
	i := len(b)
	for v >= 10 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	b[i] = byte('0' + v)
	return append(dst, b[i:]...)
}

func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		return appendUint(dst, uint64(-v))
	}
	return appendUint(dst, uint64(v))
}

// appendFloat formats d as htslib's kputd does: C's %g for tiny, huge and
// non-finite values, and otherwise six significant digits computed from
// d*1e10 truncated to an integer plus a rounding term, trailing zeros cut.
func appendFloat(dst []byte, d float64) []byte {
	if d == 0 {
		if math.Signbit(d) {
			return append(dst, '-', '0')
		}
		return append(dst, '0')
	}
	if d < 0 {
		dst = append(dst, '-')
		d = -d
	}
	if !(d >= 0.0001 && d <= 999999) {
		return appendG(dst, d)
	}
	i := uint64(d * 1e10)
	switch {
	case d < 0.001:
		i += 5
	case d < 0.01:
		i += 50
	case d < 0.1:
		i += 500
	case d < 1:
		i += 5000
	case d < 10:
		i += 50000
	case d < 100:
		i += 500000
	case d < 1000:
		i += 5000000
	case d < 10000:
		i += 50000000
	case d < 100000:
		i += 500000000
	default:
		i += 5000000000
	}
	var digits [20]byte
	n := 0
	for v := i; ; {
		digits[19-n] = byte('0' + v%10)
		n++
		v /= 10
		if v == 0 {
			break
		}
	}
	ds := digits[20-n:]
	var out [24]byte
	var s []byte
	if n <= 10 {
		// Below one: "0." then 10-n zeros, then the first six digits.
		s = append(out[:0], '0', '.')
		for range 10 - n {
			s = append(s, '0')
		}
		s = append(s, ds[:min(6, n)]...)
	} else {
		ip := n - 10 // digits before the point
		s = append(out[:0], ds[:ip]...)
		if ip < 6 {
			s = append(s, '.')
			s = append(s, ds[ip:6]...)
		} else {
			s = s[:6]
		}
	}
	// Cut trailing zeros after a point, then a bare point.
	hasPoint := false
	for _, c := range s {
		if c == '.' {
			hasPoint = true
		}
	}
	if hasPoint {
		for s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		if s[len(s)-1] == '.' {
			s = s[:len(s)-1]
		}
	}
	return append(dst, s...)
}

// appendG formats d like C's printf("%g", d) in glibc.
func appendG(dst []byte, d float64) []byte {
	switch {
	case math.IsNaN(d):
		if math.Signbit(d) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	case math.IsInf(d, 1):
		return append(dst, "inf"...)
	case math.IsInf(d, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, d, 'g', 6, 64)
}

// anyHigh reports whether a quality is 0xdf or more, where adding 33 in a
// word would carry (never the case for real data, which stays below 94).
func anyHigh(q []byte) bool {
	for i := 0; i+8 <= len(q); i += 8 {
		if binary.LittleEndian.Uint64(q[i:])&0x8080808080808080 != 0 {
			return true
		}
	}
	return false
}
