// Package region parses samtools/htslib region strings ("chr", "chr:beg",
// "chr:beg-end", "chr:-end", "{name}:beg-end") into 0-based half-open
// intervals, checking names against the caller's reference list the way
// htslib's hts_parse_region does: a name may itself contain colons, the
// whole string is tried as a name before splitting at the last colon, and a
// string that is both a name and name:range is ambiguous.
//
// Numbers accept thousands separators, a fractional part with a k/M/G suffix
// or an exponent (1.5k, 1e3), as htslib does. Unlike htslib we reject
// numbers that overflow and fractional positions, instead of wrapping or
// truncating with a warning.
package region
