package preempt

import "fmt"

// reader decodes the primitives of the Wasm binary format. The first error sticks: later reads return
// zero values, so callers check r.err once per construct rather than after every read.
type reader struct {
	b   []byte
	p   int
	err error
}

func (r *reader) fail(kind error, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format+" at offset %d", append([]any{kind}, append(args, r.p)...)...)
	}
	r.p = len(r.b)
}

func (r *reader) eof() bool { return r.p >= len(r.b) }

func (r *reader) byte() byte {
	if r.p >= len(r.b) {
		r.fail(errLength, "unexpected end")
		return 0
	}
	c := r.b[r.p]
	r.p++
	return c
}

// leb reads a LEB128 of at most 10 bytes: its value bits, how many there were (7 per byte) and the
// last byte, whose bit 6 is the sign of a signed one.
func (r *reader) leb() (v uint64, bits uint, last byte) {
	for ; bits < 70; bits += 7 {
		if r.p >= len(r.b) {
			r.fail(errLength, "truncated LEB128")
			return 0, 0, 0
		}
		c := r.b[r.p]
		r.p++
		v |= uint64(c&0x7f) << bits
		if c < 0x80 {
			return v, bits + 7, c
		}
	}
	r.fail(ErrMalformed, "LEB128 too long")
	return 0, 0, 0
}

// u64 reads an unsigned LEB128 of at most 10 bytes.
func (r *reader) u64() uint64 {
	v, _, _ := r.leb()
	return v
}

// u32 reads an unsigned LEB128 that must fit 32 bits (indices, counts, sizes).
func (r *reader) u32() uint32 {
	v := r.u64()
	if v > 0xffffffff {
		r.fail(ErrMalformed, "LEB128 %d overflows u32", v)
		return 0
	}
	return uint32(v)
}

// skipLEB skips one LEB128 (signed or unsigned) without decoding it.
func (r *reader) skipLEB() {
	for n := 0; n < 10; n++ {
		if r.p >= len(r.b) {
			r.fail(errLength, "truncated LEB128")
			return
		}
		c := r.b[r.p]
		r.p++
		if c < 0x80 {
			return
		}
	}
	r.fail(ErrMalformed, "LEB128 too long")
}

func (r *reader) bytes(n uint32) []byte {
	if uint64(n) > uint64(len(r.b)-r.p) {
		r.fail(errLength, "length %d past end", n)
		return nil
	}
	s := r.b[r.p : r.p+int(n)]
	r.p += int(n)
	return s
}

func (r *reader) skip(n int) {
	if n > len(r.b)-r.p {
		r.fail(errLength, "length %d past end", n)
		return
	}
	r.p += n
}

// name reads a length-prefixed byte string.
func (r *reader) name() []byte { return r.bytes(r.u32()) }

func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

// s64 reads a signed LEB128 of at most 10 bytes (constants).
func (r *reader) s64() int64 {
	v, bits, last := r.leb()
	if bits < 64 && last&0x40 != 0 {
		v |= ^uint64(0) << bits
	}
	return int64(v)
}

// count reads the length of a vector whose elements take at least one byte each, and fails if fewer
// bytes are left: wazero 1.12's decoder allocates vectors by their count before it reads them, so a
// 5-byte section claiming 2^31 exports would make it allocate tens of gigabytes.
func (r *reader) count() uint32 {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)-r.p) {
		r.fail(errLength, "count %d with %d bytes left", n, len(r.b)-r.p)
		return 0
	}
	return n
}
