// Package fastqc computes quality-control metrics of FASTQ data: the
// algorithm behind the fastqc plugin (POST|GET /plugin/fastqc).
//
// A run streams the input once (plain or gzip, through seqio) and keeps only
// raw counts: reads by length, reads by GC percent, and for every read
// position the count of each base (A, C, G, T, N) and of each quality value
// (0..93, Phred+33). Everything reported — means, quartiles, rates, the
// seqtk fqchk table — is derived from those counts when the result is
// written, so results of chunks merge exactly (see Merge).
//
// # Outputs
//
// format=json (default) writes a Result (see result.go for every field).
// format=fqchk writes the text of Debian's `seqtk fqchk -q <quality_threshold>`
// (seqtk 1.3) byte for byte; quality_threshold defaults to seqtk's 20 and 0
// (or less) selects the per-quality-value columns, as in seqtk. The same text
// can be produced from a merged result, because fqchk needs nothing beyond
// the raw counts.
//
// # Definitions
//
//   - reads: every FASTQ record, including records with an empty sequence
//     (which seqtk fqchk skips; its min_len and avg_len ignore them, and so
//     does the fqchk output here).
//   - bases: A, C, G, T in either case; every other sequence byte counts as N
//     (as in seqtk: U, IUPAC codes, '.', '-' are N).
//   - GC percent of a read: 100*(G+C)/(A+C+G+T), rounded to the nearest
//     integer with halves rounded up, computed in integers:
//     bin = (200*gc + acgt) / (2*acgt). Reads with no A, C, G or T (all N, or
//     empty) are counted in gc.undefined instead.
//   - quartiles of a quality histogram: nearest rank; the k-th quartile is the
//     smallest Q whose cumulative count reaches ceil(k*n/4).
//   - n_rate: N bases / all bases.
//
// # Merging
//
// Merge adds every count element-wise (per-position arrays are aligned at
// position 1, shorter ones padded with zeros), then recomputes all derived
// fields. Because addition of integers is associative, merging the results of
// any split of a file at record boundaries, in any grouping and order, gives
// exactly the result of the whole file — the same JSON bytes. The `sample`
// parameter is the one exception: the first N reads of each chunk are not the
// first N reads of the file.
//
// # Errors
//
// Input errors are *seqio.Error values (record number, line, record name,
// what is wrong): IsBadInput reports them (HTTP 400) — not FASTQ (FASTA,
// binary, empty: seqio.ErrFormat, seqio.ErrEmpty), truncated records,
// sequence/quality length mismatch, quality or sequence bytes out of range,
// corrupt or truncated gzip — together with bad parameters (ErrParams) and
// invalid merge inputs (ErrResult). A read longer than Options.MaxReadLength
// is IsTooLarge (HTTP 422). Context errors and errors of the caller's reader
// or writer are returned (wrapped) and are neither.
//
// # Memory
//
// Per-position counters take 1 KiB per position of the longest read so far
// (64 MiB at the default MaxReadLength of 65,536), plus seqio's buffers for
// one record. Nothing depends on the number of reads.
package fastqc
