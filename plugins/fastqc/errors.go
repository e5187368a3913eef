package fastqc

import (
	"errors"

	"github.com/edgenome/edgenome/plugins/internal/seqio"
)

var (
	// ErrParams: a parameter is invalid (HTTP 400).
	ErrParams = errors.New("fastqc: invalid parameter")
	// ErrResult: an input of Merge is not a valid result (HTTP 400).
	ErrResult = errors.New("fastqc: invalid result")
)

// IsBadInput reports whether err is the caller's fault: malformed FASTQ
// (any seqio input error but ErrTooLong), a bad parameter or a bad result
// given to Merge. The host answers 400.
func IsBadInput(err error) bool {
	return seqio.IsBadInput(err) || errors.Is(err, ErrParams) || errors.Is(err, ErrResult)
}

// IsTooLarge reports whether err is a resource limit (the host answers 422):
// a read longer than Options.MaxReadLength (or a header that long), whose
// per-position counters would not fit the memory budget. It wraps
// seqio.ErrTooLong.
func IsTooLarge(err error) bool {
	return errors.Is(err, seqio.ErrTooLong)
}
