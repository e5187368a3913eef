package seqio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Format is the kind of records in a stream.
type Format uint8

const (
	FormatUnknown Format = iota
	FASTA
	FASTQ
)

func (f Format) String() string {
	switch f {
	case FASTA:
		return "FASTA"
	case FASTQ:
		return "FASTQ"
	}
	return "unknown"
}

// DefaultMaxRecordBytes bounds a record's sequence, and its header, when
// Options.MaxRecordBytes is zero. The reader's buffer holds one whole FASTQ
// record, so memory stays below about 3x this limit plus 64 KiB.
const DefaultMaxRecordBytes = 64 << 20

const bufSize = 64 << 10

// Options tune a Reader. The zero value is ready to use.
type Options struct {
	// Want, if not FormatUnknown, makes any other detected format ErrFormat.
	Want Format
	// MaxRecordBytes limits the length of a record's sequence and of its
	// header; longer records fail with ErrTooLong. 0 means
	// DefaultMaxRecordBytes. With FASTAChunk set it limits headers only.
	MaxRecordBytes int
	// FASTAChunk, if > 0, makes Next return FASTA sequences in pieces of
	// about this many bases (a piece ends at a line end once it holds at
	// least FASTAChunk bases), so a chromosome never has to fit in memory.
	// Record.Continued marks every piece after a record's first.
	FASTAChunk int

	bufSize int // initial buffer size; tests make it tiny to force refills
}

// Record is one sequence (or, with Options.FASTAChunk, a piece of one). Its
// slices point into the Reader's buffers and are valid only until the next
// call to Next.
type Record struct {
	Header []byte // header line without the leading '@' or '>'
	Seq    []byte
	Qual   []byte // nil for FASTA
	Num    int64  // 1-based record number
	Line   int64  // 1-based line number of the header
	// Continued reports that Seq continues the previous Record's sequence
	// (FASTAChunk mode only); Header, Num and Line repeat that record's.
	Continued bool
}

// Name returns the header up to the first space or tab.
func (r *Record) Name() []byte {
	if i := bytes.IndexAny(r.Header, " \t"); i >= 0 {
		return r.Header[:i]
	}
	return r.Header
}

// Reader streams records. It is not safe for concurrent use.
type Reader struct {
	in     io.Reader // decompressed text
	src    *srcReader
	gz     bool
	format Format
	max    int
	chunk  int

	buf  []byte // text in buf[r:w]
	r, w int
	eof  bool
	rerr error // a read error held back until the buffered text is used

	line int64 // lines consumed so far
	num  int64 // records returned so far
	hdr  []byte
	seq  []byte
	qual []byte
	err  error // sticky

	// FASTA state
	inRec   bool  // a FASTA record is open (its header is in hdr)
	recLn   int64 // its header's line
	cont    bool  // its next piece is a continuation
	midLine bool  // FASTAChunk: the buffer ended inside a sequence line
	col     int   // bytes of that line already returned
}

// srcReader remembers the last error of the caller's reader so that a
// failure of the source is not mistaken for corrupt gzip data.
type srcReader struct {
	r   io.Reader
	err error
}

func (s *srcReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// NewReader detects compression and format and positions the reader at the
// first record. It fails with an *Error of kind ErrEmpty, ErrFormat or
// ErrGzip, or with an error of r.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	rd := &Reader{src: &srcReader{r: r}, max: opts.MaxRecordBytes, chunk: opts.FASTAChunk}
	if rd.max <= 0 {
		rd.max = DefaultMaxRecordBytes
	}
	raw := bufio.NewReaderSize(rd.src, 32<<10)
	magic, err := raw.Peek(2)
	if err != nil && err != io.EOF {
		return nil, rd.ioErr(err)
	}
	rd.in = raw
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		rd.gz = true
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, rd.ioErr(err)
		}
		rd.in = zr
	}
	if opts.bufSize <= 0 {
		opts.bufSize = bufSize
	}
	rd.buf = make([]byte, opts.bufSize)
	// Skip leading white space, counting lines, to find the format byte.
	for {
		if rd.r == rd.w {
			if rd.eof {
				return nil, &Error{Kind: ErrEmpty}
			}
			if err := rd.fill(); err != nil {
				return nil, err
			}
			continue
		}
		c := rd.buf[rd.r]
		switch c {
		case '\n':
			rd.line++
			rd.r++
			continue
		case ' ', '\t', '\r':
			rd.r++
			continue
		case '@':
			rd.format = FASTQ
		case '>':
			rd.format = FASTA
		default:
			return nil, &Error{Kind: ErrFormat, Line: rd.line + 1,
				Detail: fmt.Sprintf("first byte is %s, want '@' (FASTQ) or '>' (FASTA)", quoteByte(c))}
		}
		if opts.Want != FormatUnknown && opts.Want != rd.format {
			return nil, &Error{Kind: ErrFormat, Line: rd.line + 1,
				Detail: fmt.Sprintf("input is %v, want %v", rd.format, opts.Want)}
		}
		return rd, nil
	}
}

// Format reports the detected format.
func (r *Reader) Format() Format { return r.format }

// Gzip reports whether the input was gzip compressed.
func (r *Reader) Gzip() bool { return r.gz }

// Records reports how many records Next has started (pieces not counted).
func (r *Reader) Records() int64 { return r.num }

// Next returns the next record, or io.EOF after the last one. After any
// other error the Reader keeps returning that error.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	var rec Record
	var err error
	if r.format == FASTQ {
		rec, err = r.nextFASTQ()
	} else {
		rec, err = r.nextFASTA()
	}
	if err != nil {
		r.err = err
	}
	return rec, err
}

// ioErr classifies an error from the decompressor or the source.
func (r *Reader) ioErr(err error) error {
	if r.src.err != nil && errors.Is(err, r.src.err) {
		return fmt.Errorf("seqio: reading input: %w", err)
	}
	if r.gz {
		return &Error{Kind: ErrGzip, Record: r.num + 1, Line: r.line + 1, Err: err}
	}
	return fmt.Errorf("seqio: reading input: %w", err)
}

// fill moves the unread text to the front of the buffer, grows the buffer
// if it is full, and reads until it is full again or the input ends.
// Reading until full (rather than once) keeps re-parsing of a record that
// straddles the buffer end rare.
func (r *Reader) fill() error {
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == len(r.buf) {
		// The caller checks record limits, so growth is bounded by them.
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	if r.rerr != nil {
		return r.rerr
	}
	start := r.w
	for r.w < len(r.buf) && !r.eof {
		n, err := r.in.Read(r.buf[r.w:])
		r.w += n
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			r.rerr = r.ioErr(err)
			if r.w == start {
				return r.rerr
			}
			break
		}
	}
	return nil
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// badByte returns the index of the first byte outside '!'..'~', or -1.
func badByte(b []byte) int {
	if i := firstOutside(b); i < len(b) {
		return i
	}
	return -1
}

// firstOutside returns the index of the first byte outside '!'..'~', or
// len(b).
// It tests eight bytes per step: a word has a byte below '!' iff
// (x - ones*'!') &^ x & highs != 0, and a byte above '~' iff
// ((x + ones*(127-'~')) | x) & highs != 0 (exact for these constants).
func firstOutside(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if ((x-ones*'!')&^x|(x+ones*(127-'~'))|x)&highs != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i]-'!' > '~'-'!' {
			return i
		}
	}
	return i
}

func quoteByte(c byte) string {
	if c >= ' ' && c <= '~' {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (r *Reader) recErr(kind error, hdr []byte, line int64, format string, args ...any) *Error {
	e := &Error{Kind: kind, Record: r.num + 1, Line: line, Detail: fmt.Sprintf(format, args...)}
	if len(hdr) > 0 {
		e.Name = string((&Record{Header: hdr}).Name())
		if len(e.Name) > 200 {
			e.Name = e.Name[:200] + "..."
		}
	}
	return e
}

// errMore asks the caller to fill the buffer and parse again.
var errMore = errors.New("need more input")

// nextFASTQ parses one record straight out of the buffer. Single-line
// sequence and quality are returned without copying; if the record is not
// wholly in the buffer, it is parsed again after a fill.
func (r *Reader) nextFASTQ() (Record, error) {
	for {
		rec, err := r.parseFASTQ()
		if err != errMore {
			return rec, err
		}
		if r.w-r.r > 3*r.max+4096 {
			return Record{}, r.recErr(ErrTooLong, nil, r.line+1, "record longer than %d bytes", 3*r.max)
		}
		if err := r.fill(); err != nil {
			return Record{}, err
		}
	}
}

func (r *Reader) parseFASTQ() (Record, error) {
	buf := r.buf[:r.w]
	p := r.r
	line := r.line
	eof := r.eof
	more := errMore
	if eof {
		more = nil
	}

	// Header, after blank lines.
	var hdr []byte
	for {
		l, q, ok, _ := nextLine(buf, p, eof, false)
		if !ok {
			if eof {
				r.r, r.line = p, line
				return Record{}, io.EOF
			}
			if len(buf)-p > r.max+2 {
				return Record{}, r.recErr(ErrTooLong, nil, line+1, "header longer than %d bytes", r.max)
			}
			return Record{}, errMore
		}
		line++
		p = q
		if len(l) == 0 || len(bytes.TrimSpace(l)) == 0 {
			r.r, r.line = p, line // blank lines are consumed for good
			continue
		}
		if l[0] != '@' {
			return Record{}, r.recErr(ErrMalformed, nil, line, "expected a header line starting with '@', got %s", quoteByte(l[0]))
		}
		if len(l) > r.max+1 {
			return Record{}, r.recErr(ErrTooLong, nil, line, "header longer than %d bytes", r.max)
		}
		hdr = l[1:]
		break
	}
	hline := line

	// Sequence lines up to '+'.
	var seq []byte
	nseq := 0
	for {
		l, q, ok, clean := nextLine(buf, p, eof, true)
		if !ok {
			if err := more; err != nil {
				if len(buf)-p > r.max+2 {
					return Record{}, r.recErr(ErrTooLong, hdr, line+1, "sequence longer than %d bytes", r.max)
				}
				return Record{}, err
			}
			return Record{}, r.recErr(ErrTruncated, hdr, line, "input ends before the '+' line")
		}
		line++
		p = q
		if len(l) > 0 {
			switch l[0] {
			case '+':
				goto qual
			case '@', '>':
				return Record{}, r.recErr(ErrMalformed, hdr, line, "missing '+' line before the next header")
			}
		}
		if !clean {
			if i := badByte(l); i >= 0 {
				return Record{}, r.recErr(ErrSequence, hdr, line, "%s at column %d", quoteByte(l[i]), i+1)
			}
		}
		if len(seq)+len(l) > r.max {
			return Record{}, r.recErr(ErrTooLong, hdr, line, "sequence longer than %d bytes", r.max)
		}
		switch nseq {
		case 0:
			seq = l
		case 1:
			r.seq = append(append(r.seq[:0], seq...), l...)
			seq = r.seq
		default:
			r.seq = append(r.seq, l...)
			seq = r.seq
		}
		nseq++
	}
qual:
	// Quality lines until as long as the sequence.
	// Like kseq, read at least one line even for an empty sequence: its
	// (empty) quality line may be omitted only at the end of the input.
	qual := buf[p:p]
	nq := 0
	for first := true; first || len(qual) < len(seq); first = false {
		l, q, ok, clean := nextLine(buf, p, eof, true)
		if !ok {
			if err := more; err != nil {
				return Record{}, err
			}
			if len(seq) == 0 {
				break
			}
			return Record{}, r.recErr(ErrTruncated, hdr, line, "input ends after %d of %d quality characters", len(qual), len(seq))
		}
		line++
		p = q
		if !clean {
			if i := badByte(l); i >= 0 {
				return Record{}, r.recErr(ErrQuality, hdr, line, "%s at column %d", quoteByte(l[i]), i+1)
			}
		}
		if len(qual)+len(l) > len(seq) {
			return Record{}, r.recErr(ErrLengthMismatch, hdr, line, "sequence has %d bases, quality has %d characters", len(seq), len(qual)+len(l))
		}
		switch {
		case len(l) == 0:
		case nq == 0:
			qual = l
			nq++
		case nq == 1:
			r.qual = append(append(r.qual[:0], qual...), l...)
			qual = r.qual
			nq++
		default:
			r.qual = append(r.qual, l...)
			qual = r.qual
		}
	}
	r.r, r.line = p, line
	r.num++
	if seq == nil {
		seq = buf[p:p]
	}
	return Record{Header: hdr, Seq: seq, Qual: qual, Num: r.num, Line: hline}, nil
}

// nextLine finds the line starting at buf[p]: it returns the line without
// "\n" and a final "\r" and the start of the next line. ok is false if the
// line is incomplete (more input may follow) or p is at the end of the input.
// With inRange, the line is scanned eight bytes at a time for the first byte
// outside '!'..'~', which is normally its "\n" or "\r\n": one pass both
// finds the end and validates the content (clean). Otherwise, or when some
// other byte stops the scan, bytes.IndexByte finds the end and clean is false.
func nextLine(buf []byte, p int, eof, inRange bool) (l []byte, next int, ok, clean bool) {
	i := p
	if inRange {
		i += firstOutside(buf[p:])
		switch {
		case i == len(buf):
			if !eof || p == len(buf) {
				return nil, p, false, false
			}
			return buf[p:], len(buf), true, true
		case buf[i] == '\n':
			return buf[p:i], i + 1, true, true
		case buf[i] == '\r':
			switch {
			case i+1 < len(buf) && buf[i+1] == '\n':
				return buf[p:i], i + 2, true, true
			case i+1 == len(buf) && eof:
				return buf[p:i], len(buf), true, true
			case i+1 == len(buf):
				return nil, p, false, false
			}
		}
	}
	j := bytes.IndexByte(buf[i:], '\n')
	if j < 0 {
		if !eof || p == len(buf) {
			return nil, p, false, false
		}
		next = len(buf)
		l = buf[p:]
	} else {
		next = i + j + 1
		l = buf[p : i+j]
	}
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	return l, next, true, false
}

// readLine returns the next line without "\n" and a final "\r", valid until
// the next call; io.EOF at the end of input.
func (r *Reader) readLine() ([]byte, error) {
	for {
		i := bytes.IndexByte(r.buf[r.r:r.w], '\n')
		if i >= 0 || (r.eof && r.r < r.w) {
			end := r.w
			next := r.w
			if i >= 0 {
				end = r.r + i
				next = end + 1
			}
			l := r.buf[r.r:end]
			r.r = next
			r.line++
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
			}
			return l, nil
		}
		if r.eof {
			return nil, io.EOF
		}
		if r.w-r.r > r.max+2 {
			return nil, r.recErr(ErrTooLong, r.hdr, r.line+1, "line longer than %d bytes", r.max)
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// seqBytes validates FASTA sequence bytes and appends them to r.seq.
func (r *Reader) seqBytes(b []byte) error {
	if i := badByte(b); i >= 0 {
		return &Error{Kind: ErrSequence, Record: r.num, Line: r.line + 1, Name: r.name(),
			Detail: fmt.Sprintf("%s at column %d", quoteByte(b[i]), r.col+i+1)}
	}
	if r.chunk <= 0 && len(r.seq)+len(b) > r.max {
		return &Error{Kind: ErrTooLong, Record: r.num, Line: r.line + 1, Name: r.name(),
			Detail: fmt.Sprintf("sequence longer than %d bytes", r.max)}
	}
	r.seq = append(r.seq, b...)
	return nil
}

func (r *Reader) name() string {
	n := string((&Record{Header: r.hdr}).Name())
	if len(n) > 200 {
		n = n[:200] + "..."
	}
	return n
}

// peek returns the next byte without consuming it; ok is false at the end.
func (r *Reader) peek() (byte, bool, error) {
	for r.r == r.w {
		if r.eof {
			return 0, false, nil
		}
		if err := r.fill(); err != nil {
			return 0, false, err
		}
	}
	return r.buf[r.r], true, nil
}

func (r *Reader) nextFASTA() (Record, error) {
	if !r.inRec {
		// Find the next header, skipping blank lines.
		for {
			l, err := r.readLine()
			if err != nil {
				return Record{}, err // io.EOF: clean end
			}
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			if l[0] != '>' {
				return Record{}, r.recErr(ErrMalformed, nil, r.line, "expected a header line starting with '>', got %s", quoteByte(l[0]))
			}
			if len(l) > r.max+1 {
				return Record{}, r.recErr(ErrTooLong, nil, r.line, "header longer than %d bytes", r.max)
			}
			r.hdr = append(r.hdr[:0], l[1:]...)
			r.inRec, r.recLn, r.cont = true, r.line, false
			r.num++
			break
		}
	}
	r.seq = r.seq[:0]
	for {
		if !r.midLine {
			c, ok, err := r.peek()
			if err != nil {
				return Record{}, err
			}
			if !ok || c == '>' {
				r.inRec = false
				break
			}
		}
		if r.chunk > 0 && !r.eof && bytes.IndexByte(r.buf[r.r:r.w], '\n') < 0 {
			// No line end buffered: take what there is, so that a long
			// unwrapped sequence line streams too. A final '\r' waits, as it
			// may start a "\r\n".
			seg := r.buf[r.r:r.w]
			if n := len(seg); n > 0 && seg[n-1] == '\r' {
				seg = seg[:n-1]
			}
			if err := r.seqBytes(seg); err != nil {
				return Record{}, err
			}
			r.r += len(seg)
			r.col += len(seg)
			r.midLine = true
			if len(r.seq) >= r.chunk {
				break
			}
			if err := r.fill(); err != nil {
				return Record{}, err
			}
			continue
		}
		l, err := r.readLine()
		if err == io.EOF && r.midLine {
			r.midLine, r.col, r.inRec = false, 0, false
			break
		}
		if err != nil {
			return Record{}, err
		}
		r.line-- // report errors on the line just read
		err = r.seqBytes(l)
		r.line++
		r.midLine, r.col = false, 0
		if err != nil {
			return Record{}, err
		}
		if r.chunk > 0 && len(r.seq) >= r.chunk {
			break
		}
	}
	rec := Record{Header: r.hdr, Seq: r.seq, Num: r.num, Line: r.recLn, Continued: r.cont}
	r.cont = true
	return rec, nil
}
