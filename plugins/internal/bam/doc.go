// Package bam decodes BAM files (header and alignment records) from BGZF
// blocks and formats records as SAM text exactly as htslib 1.16 does.
//
// Records are decoded in place from a reused buffer; Record holds the core
// fields and the raw variable-length data. AppendSAM writes one SAM line into
// a caller's []byte with no per-field calls into fmt or strconv, because the
// same code runs as WebAssembly where calls are expensive.
//
// Validation follows htslib's bam_read1: block sizes, name, CIGAR and
// sequence lengths must fit the record, the CIGAR query length must equal the
// sequence length of a mapped read, and a long CIGAR stored in the CG tag is
// moved back into place. Failures wrap ErrCorrupt or ErrTruncated (and the
// bgzf package's errors) with the record's virtual offset.
package bam
