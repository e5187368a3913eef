// Package wgsim reimplements wgsim 1.16.1 (samtools' misc/wgsim.c, as
// shipped in Debian's samtools package) so that, for the same seed, options
// and input, it writes byte-identical FASTQ reads and mutation lists, while
// reading the reference through a .fai index and an io.ReaderAt and holding
// far less than the whole sequence.
//
// # Use
//
// Parse the .fai with fai.Parse, wrap the FASTA as an io.ReaderAt, and call
//
//	Simulate(ctx, w, Reference{FASTA: ra, Index: ix}, intervals, cfg)   // FASTQ
//	Mutations(ctx, w, Reference{FASTA: ra, Index: ix}, intervals, cfg)  // mutation list
//
// (or Run to get both from one simulation). No intervals means the whole
// reference, as wgsim on the whole FASTA; intervals mean wgsim on the FASTA
// `samtools faidx REF REGION...` writes, each interval one record named
// Interval.Name (pass the region string the user typed). cfg.Output picks
// read 1, read 2 or both interleaved; cfg.Coords region or absolute names;
// cfg.Limits the operator's MaxPairs and the memory budget. Options.Seed
// must be the seed actually used (1..2^31-1).
//
// Errors: BadInput(err) (every sentinel except ErrTooLarge) is the caller's
// fault, ErrTooLarge does not fit memory, anything else is a reading or
// writing failure or ctx's error. Validation, including the scan for all-N
// regions, happens before the first byte is written; ErrNoReads and
// ErrTooLarge can still surface mid-stream (rare: pathological options).
//
// # Fidelity
//
// The single drand48 stream is reproduced exactly (48-bit LCG, srand48
// seeding, Marsaglia-polar ran_normal with its one-value cache kept across
// pairs and sequences), as are the mutation pass, the per-pair loop with its
// retries, the pair split between sequences (x87 long-double rounding
// emulated with 64-bit big.Float) and the output formats. Known residual
// difference: ran_normal's log comes from Go's math.Log, not glibc's; the
// two agree to within an ulp, which changes a fragment length only when
// g*stdev+distance+0.5 lands within an ulp of an integer.
//
// # Names
//
// Read names are wgsim's: @NAME_A_B_E0:S0:I0_E1:S1:I1_HEX/K where A is the
// 1-based leftmost position of the forward read, B the 1-based rightmost
// position of the reverse read, Ex:Sx:Ix the sequencing errors,
// substitutions and indels of read x (0 forward, 1 reverse), HEX the pair
// index within the record, lowercase hex, and K the file (1 or 2).
// With CoordsRegion, NAME is Interval.Name (the header samtools faidx writes,
// e.g. "chr1:1001-2000") and A, B count from the region start. With
// CoordsAbsolute, NAME is the sequence name and A, B are positions on the
// whole sequence: for region chr1:1001-2000, "@chr1:1001-2000_1_450_..."
// becomes "@chr1_1001_1450_...". The mutation list follows the same rule
// (its NAME and POS columns).
//
// # Memory
//
// wgsim keeps the sequence and two 16-bit haplotype copies: 5 bytes per
// base, 1.2 GB of RSS measured for 250 Mbp. Here the mutation pass streams
// the interval once through fai.Reader (1 MiB chunks) and keeps only a
// sparse, sorted list of changed positions (12 bytes each; about 0.1% of
// bases with default rates) plus a 4-byte index entry per 1 Kbp.
// Intervals up to Limits.ResidentBases are decoded once to 1 byte per base;
// longer ones are read back per read pair through a direct-mapped cache of
// 1 KiB blocks (Limits.CacheBytes), each block one ranged read. Output is
// appended to a reused buffer and written in ~64 KiB chunks.
//
// # Where we refuse what wgsim accepts
//
// Inputs on which wgsim never finishes, or prints nothing, are errors
// (BadInput): a read longer than a sequence that must yield pairs (wgsim
// loops for ever), a requested region with no A/C/G/T (every pair is retried
// 1000 times and dropped), a requested region shorter than
// distance+3*stdev (wgsim skips it silently), reads that cannot be placed at
// all, and option values outside sane ranges (rates outside [0,1], lengths
// < 1, seed outside 1..2^31-1). In whole-reference mode short and all-N
// sequences are handled as wgsim does (skipped; retried and dropped).
package wgsim
