package fai

import "io"

// DefaultChunk is the number of bases a Reader returns per call by default.
const DefaultChunk = 1 << 20

// Reader streams an interval of one sequence forward in chunks, holding at
// most one chunk (plus its raw bytes) at a time.
type Reader struct {
	r        io.ReaderAt
	e        Entry
	pos, end int64
	chunk    int64
	buf, raw []byte
}

// NewReader streams bases [beg, end) of e from r, chunk bases at a time
// (DefaultChunk if chunk <= 0).
func NewReader(r io.ReaderAt, e Entry, beg, end int64, chunk int) (*Reader, error) {
	if err := e.check(beg, end); err != nil {
		return nil, err
	}
	s := &Reader{}
	return s, s.Reset(r, e, beg, end, chunk)
}

// Reset makes s stream bases [beg, end) of e from r, keeping its buffers,
// so one Reader can serve many intervals without new allocations.
func (s *Reader) Reset(r io.ReaderAt, e Entry, beg, end int64, chunk int) error {
	if err := e.check(beg, end); err != nil {
		return err
	}
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	s.r, s.e, s.pos, s.end, s.chunk = r, e, beg, end, int64(chunk)
	return nil
}

// Pos returns the 0-based position of the next base Next will return.
func (s *Reader) Pos() int64 { return s.pos }

// Next returns the next chunk of bases, valid until the following call, or
// io.EOF once the interval is exhausted.
func (s *Reader) Next() ([]byte, error) {
	if s.pos >= s.end {
		return nil, io.EOF
	}
	stop := min(s.pos+s.chunk, s.end)
	var err error
	s.buf, s.raw, err = s.e.Append(s.buf[:0], s.r, s.pos, stop, s.raw)
	if err != nil {
		return nil, err
	}
	s.pos = stop
	return s.buf, nil
}
