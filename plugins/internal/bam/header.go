package bam

import "bytes"

// Ref is one reference sequence from the binary header.
type Ref struct {
	Name string
	Len  uint32
}

// Header is a BAM header: the stored SAM header text and the reference list.
type Header struct {
	Text []byte
	Refs []Ref

	ids map[string]int
}

func (h *Header) index() {
	h.ids = make(map[string]int, len(h.Refs))
	for i, r := range h.Refs {
		// htslib warns on duplicates and keeps the first.
		if _, dup := h.ids[r.Name]; !dup {
			h.ids[r.Name] = i
		}
	}
}

// RefID returns the index of the named reference.
func (h *Header) RefID(name string) (int, bool) {
	if h.ids == nil {
		h.index()
	}
	id, ok := h.ids[name]
	return id, ok
}

// RefLen is a lookup for the region package: the length of a named reference.
func (h *Header) RefLen(name string) (int64, bool) {
	id, ok := h.RefID(name)
	if !ok {
		return 0, false
	}
	return int64(h.Refs[id].Len), true
}

// AppendSAM appends the header as `samtools view -h --no-PG` prints it: the
// stored text byte for byte, followed by @SQ lines built from the binary
// reference list when the text has no @SQ line of its own (htslib looks for
// "@SQ\t" at a line start, stopping at the first NUL as C string functions do).
func (h *Header) AppendSAM(dst []byte) []byte {
	dst = append(dst, h.Text...)
	text := h.Text
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	if hasSQ(text) {
		return dst
	}
	for _, r := range h.Refs {
		dst = append(dst, "@SQ\tSN:"...)
		dst = append(dst, r.Name...)
		dst = append(dst, "\tLN:"...)
		dst = appendInt(dst, int64(int32(r.Len)))
		dst = append(dst, '\n')
	}
	return dst
}

func hasSQ(text []byte) bool {
	for off := 0; ; {
		i := bytes.Index(text[off:], []byte("@SQ\t"))
		if i < 0 {
			return false
		}
		i += off
		if i == 0 || text[i-1] == '\n' {
			return true
		}
		off = i + 4
	}
}
