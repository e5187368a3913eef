package bgzf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/edgenome/edgenome/internal/bgzfblock"
	"github.com/klauspost/compress/flate"
)

// Errors wrapped by *Error. They classify a failure for the caller.
var (
	// ErrNotBGZF means the bytes at a block start are not a BGZF header.
	ErrNotBGZF = errors.New("bgzf: not BGZF data")
	// ErrCorrupt means a block is damaged: bad deflate data, CRC32 or size.
	ErrCorrupt = errors.New("bgzf: corrupt block")
	// ErrTruncated means the file ends inside a block.
	ErrTruncated = errors.New("bgzf: truncated file")
)

// Error reports a failure at a block's file offset.
type Error struct {
	Offset int64  // file offset of the block
	Kind   error  // ErrNotBGZF, ErrCorrupt or ErrTruncated
	Detail string // what exactly was wrong
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v at offset %d: %s", e.Kind, e.Offset, e.Detail)
}

func (e *Error) Unwrap() error { return e.Kind }

const (
	// MaxBlockSize is the largest compressed or uncompressed block size.
	MaxBlockSize = 65536
	headerLen    = 18 // gzip header with exactly the BC subfield
	trailerLen   = 8  // CRC32 + ISIZE
	minWindow    = 64 << 10
	maxWindow    = 1 << 20
)

// EOFMarker is the empty block that ends a well-formed BGZF file.
var EOFMarker = bgzfblock.EOF

// HasEOFMarker reports whether the file ends with the BGZF EOF block.
func HasEOFMarker(r io.ReaderAt, size int64) (bool, error) {
	if size < int64(len(EOFMarker)) {
		return false, nil
	}
	var b [28]byte
	if _, err := r.ReadAt(b[:], size-28); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return bytes.Equal(b[:], EOFMarker), nil
}

// Reader inflates BGZF blocks from an io.ReaderAt. It is not safe for
// concurrent use.
type Reader struct {
	r    io.ReaderAt
	size int64

	win    []byte // read-ahead window
	winOff int64  // file offset of win[0]
	want   int    // next window size

	src   bytes.Reader
	inf   io.ReadCloser
	read  int64 // bytes requested from r, for measurements
	limit int64 // read-ahead stops here (soft: a needed block is always read)
	ext   Inflater
}

// Inflater decodes the block that starts at file offset off (its raw
// deflate data is src) into dst, which is exactly as long as the block's
// ISIZE, and checks that the result has the CRC32 crc. It must fail unless
// the block holds exactly len(dst) bytes with that checksum. Under
// WebAssembly the host's inflated view of the file (see host/abi) does this
// several times faster than Go code compiled to Wasm; it needs only off.
type Inflater func(off int64, src, dst []byte, crc uint32) error

// SetInflater replaces the built-in decoder and CRC check; nil restores them.
func (r *Reader) SetInflater(f Inflater) { r.ext = f }

// SetReadahead bounds read-ahead to file offsets below end, for callers
// that know where their data stops (an index chunk); end <= 0 removes the
// bound. Blocks that are asked for are always read whole.
func (r *Reader) SetReadahead(end int64) {
	if end <= 0 || end > r.size {
		end = r.size
	}
	r.limit = end
}

// NewReader returns a Reader over the first size bytes of r.
func NewReader(r io.ReaderAt, size int64) *Reader {
	return &Reader{r: r, size: size, want: minWindow, limit: size}
}

// Size returns the file size given to NewReader.
func (r *Reader) Size() int64 { return r.size }

// BytesRead returns how many bytes were requested from the underlying reader.
func (r *Reader) BytesRead() int64 { return r.read }

// fetch makes [off, off+n) available in the window, reading at least n bytes
// and more when the access looks sequential. It returns the available bytes
// from off (possibly fewer than n at the end of the file).
func (r *Reader) fetch(off int64, n int) ([]byte, error) {
	if off >= r.winOff && off+int64(n) <= r.winOff+int64(len(r.win)) {
		return r.win[off-r.winOff:], nil
	}
	if len(r.win) > 0 && off >= r.winOff && off <= r.winOff+int64(len(r.win)) {
		// Continuing past the window: sequential, so read bigger chunks.
		if r.want < maxWindow {
			r.want *= 2
		}
	} else {
		r.want = minWindow
	}
	m := r.want
	if lim := r.limit - off; int64(m) > lim {
		m = int(max(lim, 0))
	}
	m = max(m, n)
	if rest := r.size - off; int64(m) > rest {
		m = int(max(rest, 0))
	}
	if cap(r.win) < m {
		r.win = make([]byte, m, max(m, maxWindow))
	}
	r.win = r.win[:m]
	k, err := r.r.ReadAt(r.win, off)
	r.read += int64(k)
	if err != nil && !(errors.Is(err, io.EOF) && k == m) {
		r.win = r.win[:0]
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &Error{Offset: off, Kind: ErrTruncated, Detail: "file shorter than its stated size"}
		}
		return nil, fmt.Errorf("bgzf: read at offset %d: %w", off, err)
	}
	r.winOff = off
	return r.win, nil
}

// Block inflates the block that starts at file offset off, appending its data
// to dst[:0]. It returns the data and the block's compressed size. At the end
// of the file it returns io.EOF.
func (r *Reader) Block(off int64, dst []byte) (data []byte, csize int, err error) {
	if off >= r.size {
		return dst[:0], 0, io.EOF
	}
	b, err := r.fetch(off, headerLen)
	if err != nil {
		return dst[:0], 0, err
	}
	if len(b) < headerLen {
		if len(b) >= 4 && !isGzip(b) {
			return dst[:0], 0, &Error{Offset: off, Kind: ErrNotBGZF, Detail: "no gzip magic"}
		}
		return dst[:0], 0, &Error{Offset: off, Kind: ErrTruncated, Detail: fmt.Sprintf("only %d bytes left for a block header", len(b))}
	}
	if !isGzip(b) {
		return dst[:0], 0, &Error{Offset: off, Kind: ErrNotBGZF, Detail: "no gzip magic"}
	}
	if b[3]&4 == 0 {
		return dst[:0], 0, &Error{Offset: off, Kind: ErrNotBGZF, Detail: "gzip member without extra field (plain gzip, not BGZF)"}
	}
	xlen := int(binary.LittleEndian.Uint16(b[10:]))
	bsize := -1
	if xlen == 6 && b[12] == 'B' && b[13] == 'C' && b[14] == 2 && b[15] == 0 {
		bsize = int(binary.LittleEndian.Uint16(b[16:])) + 1
	} else {
		// General case: scan the extra subfields for BC.
		hb, err := r.fetch(off, 12+xlen)
		if err != nil {
			return dst[:0], 0, err
		}
		if len(hb) < 12+xlen {
			return dst[:0], 0, &Error{Offset: off, Kind: ErrTruncated, Detail: "file ends inside a block header"}
		}
		bsize = bgzfblock.Size(hb[12 : 12+xlen])
		if bsize < 0 {
			return dst[:0], 0, &Error{Offset: off, Kind: ErrNotBGZF, Detail: "no BC subfield (plain gzip, not BGZF)"}
		}
	}
	hdr := 12 + xlen
	if bsize < hdr+trailerLen {
		return dst[:0], 0, &Error{Offset: off, Kind: ErrCorrupt, Detail: fmt.Sprintf("invalid block length %d", bsize)}
	}
	b, err = r.fetch(off, bsize)
	if err != nil {
		return dst[:0], 0, err
	}
	if len(b) < bsize {
		return dst[:0], 0, &Error{Offset: off, Kind: ErrTruncated, Detail: fmt.Sprintf("block needs %d bytes, file has %d", bsize, len(b))}
	}
	b = b[:bsize]
	crc := binary.LittleEndian.Uint32(b[bsize-8:])
	isize := int(binary.LittleEndian.Uint32(b[bsize-4:]))
	if isize > MaxBlockSize {
		return dst[:0], 0, &Error{Offset: off, Kind: ErrCorrupt, Detail: fmt.Sprintf("uncompressed size %d exceeds %d", isize, MaxBlockSize)}
	}
	if cap(dst) < isize {
		dst = make([]byte, isize, MaxBlockSize)
	}
	dst = dst[:isize]
	if r.ext != nil {
		if err := r.ext(off, b[hdr:bsize-8], dst, crc); err != nil {
			return dst[:0], 0, &Error{Offset: off, Kind: ErrCorrupt, Detail: err.Error()}
		}
		return dst, bsize, nil
	}
	if err := r.inflate(b[hdr:bsize-8], dst); err != nil {
		return dst[:0], 0, &Error{Offset: off, Kind: ErrCorrupt, Detail: err.Error()}
	}
	if got := crc32.ChecksumIEEE(dst); got != crc {
		return dst[:0], 0, &Error{Offset: off, Kind: ErrCorrupt, Detail: fmt.Sprintf("CRC32 mismatch: stored %08x, computed %08x", crc, got)}
	}
	return dst, bsize, nil
}

func isGzip(b []byte) bool { return b[0] == 0x1f && b[1] == 0x8b && b[2] == 8 }

func (r *Reader) inflate(src, dst []byte) error {
	r.src.Reset(src)
	if r.inf == nil {
		r.inf = flate.NewReader(&r.src)
	} else if err := r.inf.(flate.Resetter).Reset(&r.src, nil); err != nil {
		return err
	}
	n, err := io.ReadFull(r.inf, dst)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("deflate data holds %d bytes, ISIZE says %d", n, len(dst))
		}
		return fmt.Errorf("inflate failed: %v", err)
	}
	var one [1]byte
	if k, err := r.inf.Read(one[:]); k != 0 || (err != nil && !errors.Is(err, io.EOF)) {
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("inflate failed: %v", err)
		}
		return fmt.Errorf("deflate data longer than ISIZE %d", len(dst))
	}
	return nil
}
