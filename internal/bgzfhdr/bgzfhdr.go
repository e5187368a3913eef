// Package bgzfhdr reads the one field of a BGZF block header that both the
// host (which inflates blocks for plugins) and the plugins' own BGZF reader
// need: the block's size, kept in the BC subfield of the gzip extra field.
package bgzfhdr

import "encoding/binary"

// BlockSize returns the total size of the block whose gzip extra field
// (the XLEN bytes after the 12-byte fixed header) is extra, or -1 if no
// well-formed BC subfield is there. The subfields are scanned as SAM/BAM
// §4.1 allows: BC need not be first.
func BlockSize(extra []byte) int {
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
