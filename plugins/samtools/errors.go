package samtools

import (
	"errors"
	"fmt"

	"github.com/edgenome/edgenome/plugins/internal/bam"
	"github.com/edgenome/edgenome/plugins/internal/bamindex"
	"github.com/edgenome/edgenome/plugins/internal/bgzf"
)

// Error classes. Every error returned by this package wraps exactly one.
var (
	// ErrBadRequest: malformed or unknown region, missing index for a region
	// query, invalid option. Maps to HTTP 400.
	ErrBadRequest = errors.New("bad request")
	// ErrInvalidInput: not a BAM/BGZF file, corrupt or truncated data, missing
	// EOF marker, corrupt or mismatched index, bad FASTA index. Maps to 422.
	ErrInvalidInput = errors.New("invalid input")
)

// Finer causes, also wrapped (test with errors.Is).
var (
	// ErrNoIndex: a region query was given no index.
	ErrNoIndex = errors.New("a region query needs a BAI or CSI index")
	// ErrIndexMismatch: the index does not describe this BAM.
	ErrIndexMismatch = errors.New("index does not match the BAM")
	// ErrNoEOF: the BAM lacks the BGZF end-of-file marker (probably truncated).
	ErrNoEOF = errors.New("BGZF EOF marker is absent; the file is probably truncated")
)

// Status returns the HTTP status for an error from this package: 400, 422,
// or 500 for anything unclassified (I/O failures of the reader, cancellation).
func Status(err error) int {
	switch {
	case err == nil:
		return 200
	case errors.Is(err, ErrBadRequest):
		return 400
	case errors.Is(err, ErrInvalidInput):
		return 422
	}
	return 500
}

// classify wraps lower-level errors in their class, naming the file.
func classify(file string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrBadRequest) || errors.Is(err, ErrInvalidInput) {
		return err
	}
	switch {
	case errors.Is(err, bgzf.ErrNotBGZF), errors.Is(err, bgzf.ErrCorrupt), errors.Is(err, bgzf.ErrTruncated),
		errors.Is(err, bam.ErrNotBAM), errors.Is(err, bam.ErrCorrupt), errors.Is(err, bam.ErrTruncated),
		errors.Is(err, bamindex.ErrFormat), errors.Is(err, bamindex.ErrCorrupt):
		return fmt.Errorf("%w: %s: %w", ErrInvalidInput, file, err)
	}
	return fmt.Errorf("%s: %w", file, err)
}
