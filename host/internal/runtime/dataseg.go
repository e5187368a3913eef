package runtime

import (
	"encoding/binary"
	"errors"
	"sort"
)

// mergeGap is the largest run of zeros merged into a data segment.
const mergeGap = 256

var errDataLayout = errors.New("data section not in the simple layout")

// mergeDataSegments rewrites a module so that active data segments of
// memory 0 separated by at most mergeGap bytes become one segment (the gap
// filled with zeros, which a fresh memory holds anyway). Go's linker splits
// its data at every run of zeros: a plugin carries ~45,000 segments, and
// wazero evaluates each one's offset whenever an instance is created, which
// made up a third of the cost of a fresh instance. Modules in any other
// layout (passive or overlapping segments, non-constant offsets) are
// returned unchanged.
func mergeDataSegments(wasm []byte) []byte {
	out, err := mergeData(wasm)
	if err != nil {
		return wasm
	}
	return out
}

type segment struct {
	off  uint32
	data []byte
}

func mergeData(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, errDataLayout
	}
	var data []byte // the data section's contents
	dataStart, dataEnd, countStart, countEnd := -1, -1, -1, -1
	for p := wasm[8:]; len(p) > 0; {
		body, rest, ok := vec(p[1:])
		if !ok {
			return nil, errDataLayout
		}
		start, end := len(wasm)-len(p), len(wasm)-len(rest)
		switch p[0] {
		case 11:
			data, dataStart, dataEnd = body, start, end
		case 12:
			countStart, countEnd = start, end
		}
		p = rest
	}
	if dataStart < 0 {
		return nil, errDataLayout
	}
	p := data
	count, n := uvarint(p)
	if n <= 0 || count > uint64(len(p)) {
		return nil, errDataLayout
	}
	p = p[n:]
	segs := make([]segment, 0, count)
	for i := uint64(0); i < count; i++ {
		// Only flag 0 (active, memory 0) with an i32.const offset.
		if len(p) < 1 || p[0] != 0 || len(p) < 2 || p[1] != 0x41 {
			return nil, errDataLayout
		}
		off, n := svarint32(p[2:])
		if n <= 0 || 2+n >= len(p) || p[2+n] != 0x0b || off < 0 {
			return nil, errDataLayout
		}
		p = p[3+n:]
		size, n := uvarint(p)
		if n <= 0 || uint64(len(p)-n) < size {
			return nil, errDataLayout
		}
		segs = append(segs, segment{off: uint32(off), data: p[n : n+int(size)]})
		p = p[n+int(size):]
	}
	if len(p) != 0 {
		return nil, errDataLayout
	}
	if countStart > dataStart {
		return nil, errDataLayout // the data count section comes before code, so before data
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].off < segs[j].off })
	// Runs of segments with gaps of at most mergeGap, each written as one
	// segment straight from the input's bytes.
	var sec []byte
	nruns := 0
	for i := 0; i < len(segs); {
		j, end := i+1, uint64(segs[i].off)+uint64(len(segs[i].data))
		for ; j < len(segs); j++ {
			if uint64(segs[j].off) < end {
				return nil, errDataLayout // overlap: order matters, keep as is
			}
			if uint64(segs[j].off)-end > mergeGap {
				break
			}
			end = uint64(segs[j].off) + uint64(len(segs[j].data))
		}
		sec = appendSegment(sec, segs[i:j])
		nruns++
		i = j
	}
	runs := binary.AppendUvarint(nil, uint64(nruns))
	out := make([]byte, 0, len(wasm))
	if countStart >= 0 {
		out = append(out, wasm[:countStart]...)
		out = appendSection(out, 12, runs)
		out = append(out, wasm[countEnd:dataStart]...)
	} else {
		out = append(out, wasm[:dataStart]...)
	}
	out = appendSection(out, 11, append(runs, sec...))
	return append(out, wasm[dataEnd:]...), nil
}

// appendSegment appends one active data segment of memory 0 holding segs
// (sorted, not overlapping) at their offsets, the gaps between them zeros.
func appendSegment(dst []byte, segs []segment) []byte {
	var zeros [mergeGap]byte
	last := segs[len(segs)-1]
	dst = append(dst, 0, 0x41)
	dst = appendSvarint32(dst, int32(segs[0].off))
	dst = append(dst, 0x0b)
	dst = binary.AppendUvarint(dst, uint64(last.off)+uint64(len(last.data))-uint64(segs[0].off))
	at := segs[0].off
	for _, s := range segs {
		dst = append(dst, zeros[:s.off-at]...)
		dst = append(dst, s.data...)
		at = s.off + uint32(len(s.data))
	}
	return dst
}

func appendSection(dst []byte, id byte, body []byte) []byte {
	dst = append(dst, id)
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...)
}

func uvarint(b []byte) (uint64, int) {
	v, n := binary.Uvarint(b)
	if n > 5 {
		return 0, -1
	}
	return v, n
}

// svarint32 decodes a signed LEB128 i32 (Wasm's i32.const immediate).
func svarint32(b []byte) (int32, int) {
	var result int64
	var shift uint
	for i := 0; i < 5 && i < len(b); i++ {
		c := b[i]
		result |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				result |= -1 << shift
			}
			if result < -1<<31 || result > 1<<31-1 {
				return 0, -1
			}
			return int32(result), i + 1
		}
	}
	return 0, -1
}

func appendSvarint32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
