// Package bamindex reads BAM indexes (BAI, and CSI which is BGZF-compressed)
// and answers the two questions samtools asks of them: which file chunks may
// hold records overlapping a region (the logic of htslib's hts_itr_query:
// binning scheme, linear-index minimum offset, the bin right of the region as
// maximum offset, then sort and merge), and how many mapped and unmapped
// records each reference holds (the pseudo-bin) plus the count of unplaced
// unmapped records at the end of the index.
//
// Parsing rejects what htslib rejects (bad magic, negative counts, duplicate
// bins, truncation) with errors wrapping ErrCorrupt, and bounds every count
// by the bytes actually present before allocating.
package bamindex
