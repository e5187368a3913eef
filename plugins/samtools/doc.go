// Package samtools implements `samtools view`, `samtools idxstats` and
// `samtools faidx` (samtools 1.16.1) over remote files, byte for byte.
//
// Inputs are io.ReaderAt values (range reads through the host's block
// cache); output goes to an io.Writer in chunks of about 64 KiB. A region
// query reads the index and only the BGZF blocks its chunks cover; a
// whole-file view streams block by block in bounded memory.
//
// View decides what to read (a Plan: index chunks per region) and then runs
// a record path over it: the Go one here (bam.Reader, bam.AppendSAM), or,
// in the plugin, the same path in C (samfmt/samfmt.c, a helper module; see
// ViewOptions.Records), which Go compiled to Wasm runs 4x slower. The Go
// path is the reference: the C one keeps its messages, and tests/ compares
// the plugin with samtools on every BAM the native tests use.
//
// Errors wrap ErrBadRequest (the caller asked for something invalid: HTTP
// 400) or ErrInvalidInput (the files are not usable: HTTP 422), together with
// the lower-level sentinel (bgzf.ErrCorrupt, bam.ErrTruncated,
// region.ErrUnknownRef, ...) and the file offset or record involved.
//
// Deliberate differences from samtools: an invalid or unknown region is an
// error before any output (samtools warns and skips it); a BAM without the
// BGZF EOF marker fails after its records are printed (samtools only warns);
// an index whose reference count differs from the BAM header is rejected.
package samtools
