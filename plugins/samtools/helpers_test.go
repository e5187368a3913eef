package samtools

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// bgzfWriter returns a function that writes data as one BGZF block to w.
func bgzfWriter(w io.Writer) func([]byte) {
	return func(data []byte) {
		var c bytes.Buffer
		fw, _ := flate.NewWriter(&c, flate.DefaultCompression)
		fw.Write(data)
		fw.Close()
		hdr := []byte{0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 'B', 'C', 2, 0, 0, 0}
		binary.LittleEndian.PutUint16(hdr[16:], uint16(len(hdr)+c.Len()+8-1))
		w.Write(hdr)
		w.Write(c.Bytes())
		var tr [8]byte
		binary.LittleEndian.PutUint32(tr[:], crc32.ChecksumIEEE(data))
		binary.LittleEndian.PutUint32(tr[4:], uint32(len(data)))
		w.Write(tr[:])
	}
}
