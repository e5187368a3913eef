package bam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/edgenome/edgenome/plugins/internal/bgzf"
)

// Errors wrapped by this package's failures.
var (
	// ErrNotBAM means the data does not start with the BAM magic.
	ErrNotBAM = errors.New("bam: not a BAM file")
	// ErrCorrupt means a header or record is inconsistent.
	ErrCorrupt = errors.New("bam: corrupt data")
	// ErrTruncated means the data ends inside a header or record.
	ErrTruncated = errors.New("bam: truncated file")
)

// Limits that keep a hostile header from causing huge allocations. htslib
// trusts the stated sizes; we refuse them before allocating.
const (
	MaxHeaderText = 256 << 20
	MaxRefs       = 1 << 24
	maxRecord     = 1 << 28
)

// segment maps a stretch of the decode buffer to the BGZF block it came from.
type segment struct {
	start int   // index in buf of the first byte of this block's data
	end   int   // index in buf one past the block's data
	uoff  int   // offset within the block of buf[start]
	coff  int64 // file offset of the block
	csize int   // compressed size of the block
}

// Reader reads BAM records from BGZF blocks, tracking virtual offsets the way
// htslib's bgzf_tell does so that index chunk boundaries are honoured.
type Reader struct {
	bg    *bgzf.Reader
	buf   []byte
	pos   int
	segs  []segment
	next  int64 // file offset of the next block to load
	block []byte
	eof   bool

	// Header is the file's header, read by NewReader.
	Header *Header
}

// NewReader reads the BAM header from the start of r. inflate, if not nil,
// replaces the built-in deflate decoder (see bgzf.Inflater).
func NewReader(r io.ReaderAt, size int64, inflate bgzf.Inflater) (*Reader, error) {
	br := &Reader{bg: bgzf.NewReader(r, size)}
	br.bg.SetInflater(inflate)
	h, err := br.readHeader()
	if err != nil {
		return nil, err
	}
	br.Header = h
	return br, nil
}

// BGZF returns the underlying block reader.
func (r *Reader) BGZF() *bgzf.Reader { return r.bg }

// fill makes at least n unread bytes available in buf, loading blocks. It
// returns false at a clean end of file.
func (r *Reader) fill(n int) (bool, error) {
	for len(r.buf)-r.pos < n {
		if r.eof {
			return false, nil
		}
		if r.pos > 0 && r.pos >= len(r.buf)/2 {
			r.compact()
		}
		data, csize, err := r.bg.Block(r.next, r.block)
		if err == io.EOF {
			r.eof = true
			return false, nil
		}
		if err != nil {
			return false, err
		}
		r.block = data
		if len(data) > 0 {
			start := len(r.buf)
			r.buf = append(r.buf, data...)
			r.segs = append(r.segs, segment{start: start, end: len(r.buf), coff: r.next, csize: csize})
		}
		r.next += int64(csize)
	}
	return true, nil
}

// compact drops consumed bytes and the segments that held them.
func (r *Reader) compact() {
	shift := r.pos
	copy(r.buf, r.buf[shift:])
	r.buf = r.buf[:len(r.buf)-shift]
	r.pos = 0
	k := 0
	for _, s := range r.segs {
		if s.end <= shift {
			continue
		}
		if s.start < shift {
			s.uoff += shift - s.start
			s.start = shift
		}
		s.start -= shift
		s.end -= shift
		r.segs[k] = s
		k++
	}
	r.segs = r.segs[:k]
}

// Tell returns the virtual offset of the next unread byte, normalised as
// htslib does: the end of a block is the start of the next one.
func (r *Reader) Tell() uint64 {
	for _, s := range r.segs {
		if r.pos >= s.start && r.pos < s.end {
			return uint64(s.coff)<<16 | uint64(s.uoff+r.pos-s.start)
		}
	}
	return uint64(r.next) << 16
}

// SetReadahead bounds read-ahead to file offsets below end (see
// bgzf.Reader.SetReadahead); end <= 0 removes the bound.
func (r *Reader) SetReadahead(end int64) { r.bg.SetReadahead(end) }

// Seek positions the reader at a virtual offset.
func (r *Reader) Seek(voff uint64) error {
	coff := int64(voff >> 16)
	uoff := int(voff & 0xffff)
	r.buf = r.buf[:0]
	r.pos = 0
	r.segs = r.segs[:0]
	r.eof = false
	r.next = coff
	data, csize, err := r.bg.Block(coff, r.block)
	if err == io.EOF {
		if uoff != 0 {
			return fmt.Errorf("%w: virtual offset %d points past the end of the file", ErrCorrupt, voff)
		}
		r.eof = true
		return nil
	}
	if err != nil {
		return err
	}
	r.block = data
	if uoff > len(data) {
		return fmt.Errorf("%w: virtual offset %d points beyond block size %d", ErrCorrupt, voff, len(data))
	}
	r.buf = append(r.buf, data[uoff:]...)
	if len(r.buf) > 0 {
		r.segs = append(r.segs, segment{start: 0, end: len(r.buf), uoff: uoff, coff: coff, csize: csize})
	}
	r.next = coff + int64(csize)
	return nil
}

func (r *Reader) readHeader() (*Header, error) {
	ok, err := r.fill(4)
	if err != nil {
		if errors.Is(err, bgzf.ErrNotBGZF) {
			return nil, fmt.Errorf("%w: %w", ErrNotBAM, err)
		}
		return nil, err
	}
	if !ok || string(r.buf[r.pos:r.pos+4]) != "BAM\x01" {
		return nil, fmt.Errorf("%w: missing BAM\\1 magic", ErrNotBAM)
	}
	r.pos += 4
	lText, err := r.u32("header text length")
	if err != nil {
		return nil, err
	}
	if lText > MaxHeaderText {
		return nil, fmt.Errorf("%w: header text length %d exceeds limit %d", ErrCorrupt, lText, MaxHeaderText)
	}
	h := &Header{}
	// Grow with the data actually present, not with the stated length.
	for rem := int(lText); rem > 0; {
		ok, err := r.fill(1)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: file ends inside the header text", ErrTruncated)
		}
		n := min(rem, len(r.buf)-r.pos)
		h.Text = append(h.Text, r.buf[r.pos:r.pos+n]...)
		r.pos += n
		rem -= n
	}
	if h.Text == nil {
		h.Text = []byte{}
	}
	nRef, err := r.u32("reference count")
	if err != nil {
		return nil, err
	}
	if int32(nRef) < 0 || nRef > MaxRefs {
		return nil, fmt.Errorf("%w: invalid reference count %d", ErrCorrupt, int32(nRef))
	}
	for i := 0; i < int(nRef); i++ {
		lName, err := r.u32("reference name length")
		if err != nil {
			return nil, err
		}
		if int32(lName) <= 0 || lName > 1<<20 {
			return nil, fmt.Errorf("%w: reference %d has invalid name length %d", ErrCorrupt, i, int32(lName))
		}
		ok, err := r.fill(int(lName) + 4)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: file ends inside reference %d", ErrTruncated, i)
		}
		name := r.buf[r.pos : r.pos+int(lName)]
		// htslib keeps the name up to its first NUL (or all of it if none).
		for j, c := range name {
			if c == 0 {
				name = name[:j]
				break
			}
		}
		ln := binary.LittleEndian.Uint32(r.buf[r.pos+int(lName):])
		h.Refs = append(h.Refs, Ref{Name: string(name), Len: ln})
		r.pos += int(lName) + 4
	}
	h.index()
	return h, nil
}

func (r *Reader) u32(what string) (uint32, error) {
	ok, err := r.fill(4)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%w: file ends before the %s", ErrTruncated, what)
	}
	v := binary.LittleEndian.Uint32(r.buf[r.pos:])
	r.pos += 4
	return v, nil
}

// Read decodes the next record into rec. rec's Data aliases the reader's
// buffer and is valid until the next call. It returns io.EOF at the end of
// the data. rec.VOffset is the record's virtual offset.
func (r *Reader) Read(rec *Record) error {
	voff := r.Tell()
	ok, err := r.fill(4)
	if err != nil {
		return fmt.Errorf("record at virtual offset %d: %w", voff, err)
	}
	if !ok {
		if len(r.buf) > r.pos {
			return fmt.Errorf("%w: %d stray bytes at the end of the data (virtual offset %d)", ErrTruncated, len(r.buf)-r.pos, voff)
		}
		return io.EOF
	}
	bs := int32(binary.LittleEndian.Uint32(r.buf[r.pos:]))
	if bs < 32 || bs > maxRecord {
		return fmt.Errorf("%w: record at virtual offset %d has invalid block size %d", ErrCorrupt, voff, bs)
	}
	ok, err = r.fill(4 + int(bs))
	if err != nil {
		return fmt.Errorf("record at virtual offset %d: %w", voff, err)
	}
	if !ok {
		return fmt.Errorf("%w: file ends inside the record at virtual offset %d", ErrTruncated, voff)
	}
	data := r.buf[r.pos+4 : r.pos+4+int(bs)]
	r.pos += 4 + int(bs)
	rec.VOffset = voff
	if err := rec.decode(data); err != nil {
		return fmt.Errorf("record at virtual offset %d: %w", voff, err)
	}
	return nil
}
