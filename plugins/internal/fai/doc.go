// Package fai reads samtools FASTA indexes (.fai) and fetches subsequences of
// an indexed FASTA through an io.ReaderAt, touching only the bytes needed.
//
// A .fai line holds five tab-separated fields: NAME, LENGTH (bases), OFFSET
// (byte offset of the first base), LINEBASES (bases per full line) and
// LINEWIDTH (bytes per full line, terminator included: LINEBASES+1 for "\n",
// LINEBASES+2 for "\r\n"). A sixth field (QUALOFFSET) appears in FASTQ
// indexes and is kept but not used here.
//
// Subsequences come back exactly as stored (case preserved). As htslib's
// fai_retrieve does, every byte that is not a printable non-space ASCII
// character (isgraph) is dropped, so "\n", "\r\n" and stray blanks inside the
// requested span all vanish; the byte span itself is computed from the index.
//
// Coordinates are 0-based half-open [beg, end) throughout.
package fai
