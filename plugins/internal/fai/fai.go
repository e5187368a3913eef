package fai

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Errors returned by this package. Wrapped errors carry the line number, the
// sequence name or the coordinates involved.
var (
	// ErrMalformed: a .fai line cannot be parsed or holds impossible values.
	ErrMalformed = errors.New("fai: malformed index")
	// ErrDuplicate: two .fai lines name the same sequence.
	ErrDuplicate = errors.New("fai: duplicate sequence name")
	// ErrUnknown: the requested sequence is not in the index.
	ErrUnknown = errors.New("fai: unknown sequence")
	// ErrRange: the requested interval is empty, reversed or outside the sequence.
	ErrRange = errors.New("fai: interval outside sequence")
	// ErrTruncated: the FASTA holds fewer bases than the index promises
	// (file shorter than expected, or index and file disagree).
	ErrTruncated = errors.New("fai: FASTA truncated or inconsistent with index")
)

// MaxLineLength bounds one .fai line, as htslib's 64 KiB line buffer does.
const MaxLineLength = 1 << 16

// Entry is one sequence of the index.
type Entry struct {
	Name       string
	Length     int64 // bases
	Offset     int64 // byte offset of the first base
	LineBases  int64 // bases per full line
	LineWidth  int64 // bytes per full line, terminator included
	QualOffset int64 // FASTQ indexes only; 0 for FASTA
}

// Index is a parsed .fai, entries in file order.
type Index struct {
	Entries []Entry
	byName  map[string]int
}

// Parse reads a .fai. Lines may end in "\n" or "\r\n"; blank lines are
// rejected (samtools never writes them) except a missing final newline.
func Parse(r io.Reader) (*Index, error) {
	ix := &Index{byName: make(map[string]int)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineLength)
	line := 0
	for sc.Scan() {
		line++
		e, err := parseLine(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if prev, dup := ix.byName[e.Name]; dup {
			return nil, fmt.Errorf("line %d: %w: %q (first on line %d)", line, ErrDuplicate, e.Name, prev+1)
		}
		ix.byName[e.Name] = len(ix.Entries)
		ix.Entries = append(ix.Entries, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: %w: line longer than %d bytes", line+1, ErrMalformed, MaxLineLength)
		}
		return nil, fmt.Errorf("fai: reading index: %w", err)
	}
	return ix, nil
}

func parseLine(b []byte) (Entry, error) {
	b = bytes.TrimSuffix(b, []byte{'\r'})
	f := bytes.Split(b, []byte{'\t'})
	if len(f) != 5 && len(f) != 6 {
		return Entry{}, fmt.Errorf("%w: want 5 or 6 tab-separated fields, got %d", ErrMalformed, len(f))
	}
	var e Entry
	if len(f[0]) == 0 {
		return Entry{}, fmt.Errorf("%w: empty sequence name", ErrMalformed)
	}
	for _, c := range f[0] {
		if c <= ' ' || c > '~' {
			return Entry{}, fmt.Errorf("%w: sequence name %q holds a space or control byte", ErrMalformed, f[0])
		}
	}
	e.Name = string(f[0])
	names := [...]string{"length", "offset", "linebases", "linewidth", "qualoffset"}
	dst := [...]*int64{&e.Length, &e.Offset, &e.LineBases, &e.LineWidth, &e.QualOffset}
	for i := 1; i < len(f); i++ {
		v, err := strconv.ParseInt(string(f[i]), 10, 64)
		if err != nil || v < 0 || f[i][0] == '+' {
			return Entry{}, fmt.Errorf("%w: %s %q of %q is not a non-negative integer", ErrMalformed, names[i-1], f[i], e.Name)
		}
		*dst[i-1] = v
	}
	if e.Length > 0 {
		if e.LineBases <= 0 {
			return Entry{}, fmt.Errorf("%w: %q has %d bases per line", ErrMalformed, e.Name, e.LineBases)
		}
		if e.LineWidth < e.LineBases {
			return Entry{}, fmt.Errorf("%w: %q has line width %d below its %d bases per line", ErrMalformed, e.Name, e.LineWidth, e.LineBases)
		}
		// The last base must have a representable byte offset.
		lines := (e.Length - 1) / e.LineBases
		if lines > (1<<62)/max(e.LineWidth, 1) || e.Offset > 1<<62 {
			return Entry{}, fmt.Errorf("%w: %q spans more bytes than a file can hold", ErrMalformed, e.Name)
		}
	}
	return e, nil
}

// Lookup returns the entry named name.
func (ix *Index) Lookup(name string) (Entry, bool) {
	i, ok := ix.byName[name]
	if !ok {
		return Entry{}, false
	}
	return ix.Entries[i], true
}

// Entry returns the named entry or an error wrapping ErrUnknown.
func (ix *Index) Entry(name string) (Entry, error) {
	e, ok := ix.Lookup(name)
	if !ok {
		return Entry{}, fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	return e, nil
}

// ByteOffset returns the file offset of base pos (0-based) of e.
func (e Entry) ByteOffset(pos int64) int64 {
	return e.Offset + pos/e.LineBases*e.LineWidth + pos%e.LineBases
}

// Span returns the byte range [from, to) of the file that holds bases
// [beg, end) of e, terminators between them included.
func (e Entry) Span(beg, end int64) (from, to int64) {
	if end <= beg {
		return e.ByteOffset(beg), e.ByteOffset(beg)
	}
	return e.ByteOffset(beg), e.ByteOffset(end-1) + 1
}

func (e Entry) check(beg, end int64) error {
	if beg < 0 || end > e.Length || beg > end {
		return fmt.Errorf("%w: [%d,%d) of %q (length %d)", ErrRange, beg, end, e.Name, e.Length)
	}
	return nil
}

// isGraph marks the bytes htslib keeps when it retrieves sequence (isgraph).
var isGraph = func() (t [256]bool) {
	for c := 0x21; c <= 0x7e; c++ {
		t[c] = true
	}
	return t
}()

// Append appends bases [beg, end) of e, read from r with a single ReadAt, to
// dst and returns the extended slice. scratch, if large enough, holds the raw
// bytes (pass nil to allocate); it is returned for reuse.
func (e Entry) Append(dst []byte, r io.ReaderAt, beg, end int64, scratch []byte) (out, raw []byte, err error) {
	if err := e.check(beg, end); err != nil {
		return dst, scratch, err
	}
	if beg == end {
		return dst, scratch, nil
	}
	from, to := e.Span(beg, end)
	want := int(end - beg)
	// A real file spends at most 2 terminator bytes per base (1 base per
	// line, CRLF); refuse indexes that would make us allocate far more.
	if to-from > 4*int64(want)+4096 {
		return dst, scratch, fmt.Errorf("%w: %q: line width %d for %d bases per line", ErrMalformed, e.Name, e.LineWidth, e.LineBases)
	}
	n := int(to - from)
	if cap(scratch) < n {
		scratch = make([]byte, n)
	}
	raw = scratch[:n]
	got, err := r.ReadAt(raw, from)
	if got < n {
		if err == nil || err == io.EOF {
			return dst, scratch, fmt.Errorf("%w: %q bytes [%d,%d): got %d", ErrTruncated, e.Name, from, to, got)
		}
		return dst, scratch, fmt.Errorf("fai: reading %q bytes [%d,%d): %w", e.Name, from, to, err)
	}
	start := len(dst)
	if cap(dst)-start < want {
		grown := make([]byte, start, start+want)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+want]
	k := start
	lim := start + want
	for _, c := range raw {
		if isGraph[c] {
			if k == lim {
				k++
				break
			}
			dst[k] = c
			k++
		}
	}
	if k != lim {
		return dst[:start], scratch, fmt.Errorf("%w: %q [%d,%d): expected %d bases in bytes [%d,%d), found %d",
			ErrTruncated, e.Name, beg, end, want, from, to, k-start)
	}
	return dst, scratch, nil
}

// Fetch returns bases [beg, end) of the named sequence.
func (ix *Index) Fetch(r io.ReaderAt, name string, beg, end int64) ([]byte, error) {
	e, err := ix.Entry(name)
	if err != nil {
		return nil, err
	}
	out, _, err := e.Append(nil, r, beg, end, nil)
	return out, err
}
