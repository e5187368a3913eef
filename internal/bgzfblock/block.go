// Package bgzfblock owns the framing of one BGZF block (SAM/BAM spec §4.1):
// the block size in the gzip header, which both the host (inflating blocks
// for plugins) and the plugins' own BGZF reader need, the EOF block, and a
// writer of blocks for tests and fixtures.
package bgzfblock

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"

	"github.com/klauspost/compress/flate"
)

// Size returns the total size of the block whose gzip extra field (the
// XLEN bytes after the 12-byte fixed header) is extra, or -1 if no
// well-formed BC subfield is there. BC need not be the first subfield.
func Size(extra []byte) int {
	for x := extra; len(x) >= 4; {
		sl := int(binary.LittleEndian.Uint16(x[2:]))
		if x[0] == 'B' && x[1] == 'C' && sl == 2 && len(x) >= 6 {
			return int(binary.LittleEndian.Uint16(x[4:])) + 1
		}
		if 4+sl > len(x) {
			break
		}
		x = x[4+sl:]
	}
	return -1
}

// EOF is the empty block that ends a well-formed BGZF file.
var EOF = []byte{
	0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00,
	0x42, 0x43, 0x02, 0x00, 0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
}

// Append appends data compressed as one BGZF block at the given flate
// level. data must compress to a block of at most 64 KiB (an uncompressed
// 64 KiB always does at level 1 or above).
func Append(dst, data []byte, level int) []byte {
	var c bytes.Buffer
	fw, _ := flate.NewWriter(&c, level)
	fw.Write(data)
	fw.Close()
	hdr := []byte{0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 'B', 'C', 2, 0, 0, 0}
	binary.LittleEndian.PutUint16(hdr[16:], uint16(len(hdr)+c.Len()+8-1))
	dst = append(dst, hdr...)
	dst = append(dst, c.Bytes()...)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(data))
	return binary.LittleEndian.AppendUint32(dst, uint32(len(data)))
}

// File compresses data as a whole BGZF file: blocks of 0xff00 bytes (as
// htslib writes them) and the EOF block.
func File(data []byte, level int) []byte {
	var f []byte
	for off := 0; off < len(data); off += 0xff00 {
		f = Append(f, data[off:min(off+0xff00, len(data))], level)
	}
	return append(f, EOF...)
}
