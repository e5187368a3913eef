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
	pos := 8
	dataStart, dataEnd, countStart, countEnd := -1, -1, -1, -1
	for pos < len(wasm) {
		id := wasm[pos]
		size, n := uvarint(wasm[pos+1:])
		if n <= 0 {
			return nil, errDataLayout
		}
		body := pos + 1 + n
		end := body + int(size)
		if end > len(wasm) || end < body {
			return nil, errDataLayout
		}
		switch id {
		case 11:
			dataStart, dataEnd = pos, end
		case 12:
			countStart, countEnd = pos, end
		}
		pos = end
	}
	if dataStart < 0 {
		return nil, errDataLayout
	}
	_, n := uvarint(wasm[dataStart+1:])
	p := wasm[dataStart+1+n : dataEnd]
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
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].off < segs[j].off })
	var merged []segment
	for _, s := range segs {
		if len(merged) > 0 {
			last := &merged[len(merged)-1]
			end := uint64(last.off) + uint64(len(last.data))
			if uint64(s.off) < end {
				return nil, errDataLayout // overlap: order matters, keep as is
			}
			if gap := uint64(s.off) - end; gap <= mergeGap {
				last.data = append(last.data, make([]byte, gap)...)
				last.data = append(last.data, s.data...)
				continue
			}
		}
		merged = append(merged, segment{off: s.off, data: append([]byte(nil), s.data...)})
	}
	var sec []byte
	sec = binary.AppendUvarint(sec, uint64(len(merged)))
	for _, s := range merged {
		sec = append(sec, 0, 0x41)
		sec = appendSvarint32(sec, int32(s.off))
		sec = append(sec, 0x0b)
		sec = binary.AppendUvarint(sec, uint64(len(s.data)))
		sec = append(sec, s.data...)
	}
	out := make([]byte, 0, len(wasm))
	out = append(out, wasm[:dataStart]...)
	out = append(out, 11)
	out = binary.AppendUvarint(out, uint64(len(sec)))
	out = append(out, sec...)
	out = append(out, wasm[dataEnd:]...)
	if countStart >= 0 {
		// The data count section precedes the code section, so before data.
		var c []byte
		c = binary.AppendUvarint(c, uint64(len(merged)))
		fixed := make([]byte, 0, len(out))
		fixed = append(fixed, out[:countStart]...)
		fixed = append(fixed, 12)
		fixed = binary.AppendUvarint(fixed, uint64(len(c)))
		fixed = append(fixed, c...)
		fixed = append(fixed, out[countEnd:]...)
		out = fixed
	}
	return out, nil
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
