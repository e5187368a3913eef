package wgsim

import "errors"

// Errors returned by Run, Simulate and Mutations, always wrapped with the
// name of the sequence or option at fault. BadInput reports whether an error
// is the caller's fault (HTTP 400); ErrTooLarge is 422; anything else (a
// reference that cannot be read or contradicts its index, a failed write, a
// cancelled context) is the server's or the origin's problem.
var (
	// ErrBadOption: an option is outside what wgsim accepts or can finish with.
	ErrBadOption = errors.New("wgsim: invalid option")
	// ErrTooManyPairs: Pairs exceeds the caller's MaxPairs.
	ErrTooManyPairs = errors.New("wgsim: too many read pairs")
	// ErrUnknownSequence: an interval names a sequence absent from the index.
	ErrUnknownSequence = errors.New("wgsim: unknown sequence")
	// ErrBadRegion: an interval is empty, reversed or outside its sequence.
	ErrBadRegion = errors.New("wgsim: region outside the sequence")
	// ErrRegionTooShort: a requested region is shorter than distance+3*stdev,
	// which wgsim silently skips (the output would lack it or be empty).
	ErrRegionTooShort = errors.New("wgsim: region too short")
	// ErrReadTooLong: a read is longer than a sequence that must yield pairs;
	// native wgsim loops for ever on it.
	ErrReadTooLong = errors.New("wgsim: read longer than the sequence")
	// ErrAllN: a requested region has no A, C, G or T, so every read exceeds
	// the ambiguous-base limit and wgsim could never output a pair.
	ErrAllN = errors.New("wgsim: region is all N")
	// ErrNoReads: reads cannot be placed at all (for example every base after
	// the start is deleted with indel_extend=1); native wgsim loops for ever.
	ErrNoReads = errors.New("wgsim: cannot place reads")
	// ErrTooLarge: the sequence or its mutation list does not fit the memory
	// budget (HTTP 422).
	ErrTooLarge = errors.New("wgsim: too large for memory")
)

// BadInput reports whether err is the caller's fault (HTTP 400).
func BadInput(err error) bool {
	for _, e := range []error{ErrBadOption, ErrTooManyPairs, ErrUnknownSequence, ErrBadRegion,
		ErrRegionTooShort, ErrReadTooLong, ErrAllN, ErrNoReads} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
