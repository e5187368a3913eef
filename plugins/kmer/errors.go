package kmer

import (
	"errors"
	"fmt"
)

// Errors a caller can classify with errors.Is. Every error this package
// returns wraps exactly one of them.
var (
	// ErrBadParam: a parameter is out of range (k, histogram bounds, top N,
	// memory budget). The host answers 400.
	ErrBadParam = errors.New("kmer: bad parameter")

	// ErrBadKmer: a query k-mer is shorter than k. The host answers 400.
	// (jellyfish query only warns on stderr and skips it; we refuse the
	// whole request so that a typo never yields a silently shorter answer.)
	ErrBadKmer = errors.New("kmer: bad query k-mer")

	// ErrTooManyKmers: the distinct k-mers do not fit in the memory budget
	// given in Config.MaxBytes. The concrete error is a *LimitError naming
	// the limit. The host answers 422.
	ErrTooManyKmers = errors.New("kmer: too many distinct k-mers for the memory limit")

	// ErrState: the Counter was used out of order (Add after a sorted
	// dump, Restrict after Add, histo/top/dump on a query-only counter).
	// A programming error in the caller: the host answers 500.
	ErrState = errors.New("kmer: counter used out of order")
)

// LimitError reports that counting stopped because the hash tables would
// outgrow Config.MaxBytes. It wraps ErrTooManyKmers.
type LimitError struct {
	Limit    int64  // the budget in bytes (Config.MaxBytes)
	K        int    // the k-mer length
	Distinct uint64 // distinct k-mers stored when the limit was hit
	Bases    uint64 // bases consumed so far
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("kmer: %d distinct %d-mers after %d bases exceed the memory limit of %d MiB (%d bytes); count a smaller input or region",
		e.Distinct, e.K, e.Bases, e.Limit>>20, e.Limit)
}

// Unwrap makes errors.Is(err, ErrTooManyKmers) true.
func (e *LimitError) Unwrap() error { return ErrTooManyKmers }
