package preempt

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Instrument's errors wrap one of the first three; a call stopped by the
// host check fails with an error wrapping ErrPreempted and the context's cause (context.DeadlineExceeded
// or context.Canceled).
var (
	// ErrMalformed means the module bytes could not be decoded (truncated section, bad LEB128, counts
	// that do not match). wazero would refuse such a module too.
	ErrMalformed = errors.New("preempt: malformed wasm module")

	// ErrUnsupported means the module uses an encoding this rewriter does not understand (exception
	// handling, GC or typed function references, relaxed SIMD, an unknown opcode). wazero 1.12 refuses
	// all of these, so in practice such a module would not compile anyway; the caller may still fall back
	// to wazero's own preemption (RuntimeConfig.WithCloseOnContextDone).
	ErrUnsupported = errors.New("preempt: unsupported wasm feature")

	// ErrReserved means the module already imports from ImportModule or exports FlagExport. Instrument
	// refuses it rather than trust it: a module could import the check and skip the counting, and
	// instrumenting twice would only add cost. Instrument the original bytes instead (the Cache does this).
	ErrReserved = errors.New("preempt: module uses the reserved import module " + ImportModule + " or export " + FlagExport)

	// errLength: a count or a length that the bytes left cannot hold, or a read past the end of a
	// section (a kind of ErrMalformed). wazero 1.12 decodes every section from the whole module and
	// checks its length only afterwards, so it would go on reading the bytes that follow and allocate
	// by whatever counts it found there: an empty table section followed by a few bytes ran a fuzz
	// worker out of memory.
	errLength = fmt.Errorf("%w: count or length past the end", ErrMalformed)

	// ErrPreempted means the host check stopped a running call because its context was done.
	ErrPreempted = errors.New("preempt: call stopped at its deadline or on cancellation")
)
