// Package seqio reads FASTA and FASTQ records from a stream, plain or gzip
// compressed (including multi-member gzip and BGZF).
//
// The reader is built for the hot path of edge plugins: one call per line,
// bulk byte scanning, and record slices that are reused between calls, so a
// whole run allocates a handful of buffers no matter how big the input is.
// Memory is bounded by the longest record (see Options.MaxRecordBytes), never
// by the size of the input.
//
// # Input rules
//
// The format is chosen from the first byte that is not white space: '@' means
// FASTQ, '>' means FASTA; anything else is ErrFormat. Input holding nothing but
// white space (including a zero-byte body or an empty gzip stream) is ErrEmpty:
// callers that accept empty input can test for it with errors.Is.
//
// FASTQ follows what seqtk's kseq accepts for well-formed files: a '@' header
// line, one or more sequence lines up to a line starting with '+', then
// quality lines until the quality is as long as the sequence (multi-line FASTQ
// is legal). A trailing '\r' is dropped from every line, blank lines between
// records are skipped, and the last line may lack its newline. Where kseq
// silently resynchronises on damaged input, this reader stops with an error
// instead:
//
//   - a sequence line starting with '@' or '>' (the '+' line is missing):
//     ErrMalformed;
//   - anything other than a blank line or a '@' header between records:
//     ErrMalformed;
//   - end of input inside a record: ErrTruncated;
//   - quality longer than the sequence (or shorter at the next header):
//     ErrLengthMismatch;
//   - a quality byte outside '!'..'~': ErrQuality;
//   - a sequence byte outside '!'..'~' (control bytes, spaces, non-ASCII):
//     ErrSequence;
//   - a corrupt or truncated gzip stream, or bytes after the last gzip member
//     that are not another member (zlib's gzread ignores those): ErrGzip.
//
// A record with an empty sequence and an empty quality is legal. As in kseq,
// the line after '+' is always the (first) quality line, so an empty read's
// blank quality line may be left out only at the very end of the input.
//
// FASTA records are a '>' header line and the following lines up to the next
// line starting with '>'. Sequence lines are concatenated; blank lines are
// skipped; sequence bytes must lie in '!'..'~'. FASTA records have a nil Qual.
// A whole record must fit in memory unless Options.FASTAChunk is set: then
// Next returns a long sequence in pieces (Record.Continued), splitting even
// a single unwrapped line, so a genome streams through a small buffer.
//
// # Speed
//
// FASTQ records are parsed in place in a 64 KiB (growable) buffer: a
// single-line sequence and quality are returned as slices of it without
// copying, and one word-at-a-time pass over each sequence and quality line
// both finds its end and checks its bytes. Only multi-line records are
// copied. A record that straddles the end of the buffer is parsed again
// after a refill, which reads until the buffer is full, so that happens about
// once per buffer.
//
// Compressed input is detected by the gzip magic bytes and decoded with
// github.com/klauspost/compress/gzip (multi-member streams included). Under
// Wasm this decoding dominates the cost (several times slower than native
// zlib), so a host that can decompress natively should do so and pass plain
// text.
//
// # Errors
//
// Every failure about the input is an *Error whose Kind is one of the
// sentinels in errors.go; it names the record number (1-based), the line
// number (1-based, counted in the decompressed text) and the record name when
// known. Errors of the underlying io.Reader are returned wrapped but
// unchanged in kind, so a caller's own limits (for example a body size limit)
// stay recognisable. IsBadInput tells the two apart.
package seqio
