package seqio

import (
	"errors"
	"strconv"
)

// Kinds of input errors; an *Error wraps exactly one of them.
var (
	// ErrEmpty: the input holds no bytes other than white space.
	ErrEmpty = errors.New("empty input")
	// ErrFormat: the input is neither FASTA nor FASTQ (or not the format the
	// caller required).
	ErrFormat = errors.New("not FASTA or FASTQ")
	// ErrMalformed: a line is not what the format allows at that place.
	ErrMalformed = errors.New("malformed record")
	// ErrTruncated: the input ends inside a record.
	ErrTruncated = errors.New("truncated record")
	// ErrLengthMismatch: a FASTQ quality string is not as long as its sequence.
	ErrLengthMismatch = errors.New("sequence and quality lengths differ")
	// ErrQuality: a quality character outside '!'..'~'.
	ErrQuality = errors.New("quality character out of range")
	// ErrSequence: a sequence byte outside '!'..'~'.
	ErrSequence = errors.New("invalid sequence character")
	// ErrGzip: the gzip stream is corrupt or ends early.
	ErrGzip = errors.New("corrupt or truncated gzip data")
	// ErrTooLong: a record is longer than Options.MaxRecordBytes. Unlike the
	// other kinds this is a resource limit (HTTP 422), not malformed input.
	ErrTooLong = errors.New("record too long")
)

// Error describes a problem in the input and where it is.
type Error struct {
	Kind   error  // one of the Err* sentinels above
	Record int64  // 1-based record number, 0 if before the first record
	Line   int64  // 1-based line number in the (decompressed) text, 0 if unknown
	Name   string // record name when known
	Detail string // what exactly is wrong
	Err    error  // underlying cause (for ErrGzip), or nil
}

func (e *Error) Error() string {
	b := make([]byte, 0, 128)
	b = append(b, e.Kind.Error()...)
	if e.Record > 0 {
		b = append(b, " in record "...)
		b = strconv.AppendInt(b, e.Record, 10)
		if e.Name != "" {
			b = append(b, " ("...)
			b = append(b, e.Name...)
			b = append(b, ')')
		}
	}
	if e.Line > 0 {
		b = append(b, " at line "...)
		b = strconv.AppendInt(b, e.Line, 10)
	}
	if e.Detail != "" {
		b = append(b, ": "...)
		b = append(b, e.Detail...)
	}
	if e.Err != nil {
		b = append(b, ": "...)
		b = append(b, e.Err.Error()...)
	}
	return string(b)
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// IsBadInput reports whether err is about the content of the input (HTTP 400):
// any *Error except ErrTooLong. Errors of the underlying reader are not.
func IsBadInput(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Kind != ErrTooLong
}
