// Package kmer counts k-mers the way jellyfish 2.3.0 does (`jellyfish count
// -m K [-C]`) and writes the answers of `jellyfish histo`, `query` and
// `dump` byte for byte, plus a top-N list jellyfish lacks.
//
// The package never parses files: a caller (the kmer plugin, fed by the
// shared FASTA/FASTQ reader) hands it sequence bytes, one record at a time
// (AddSequence) or in pieces (Add ... EndRecord), so a long sequence
// streamed from a remote file is never held whole.
//
// What matches jellyfish:
//   - k from 1 to 31; canonical counting (-C) keeps the lexicographically
//     smaller of a k-mer and its reverse complement;
//   - A, C, G, T in either case are bases; any other byte breaks the k-mer;
//     k-mers never span two records;
//   - histo: labels, the catch-all last bucket (>= 10001 by default), -l,
//     -h, -i, -f;
//   - query: jellyfish's lenient parsing of query strings (see ParseKmer),
//     the canonical form printed on a canonical count;
//   - dump -c / -c -t / FASTA with -L and -U: the same set of lines.
//
// Where it differs, on purpose:
//   - dump prints k-mers in ascending order (A<C<G<T), not hash order;
//   - query refuses the whole request when a k-mer is shorter than k
//     (ErrBadKmer) where jellyfish warns on stderr and skips it;
//   - counts are 64-bit; jellyfish's default database stores 32-bit
//     counts, which only matters past 4 billion occurrences of one k-mer;
//   - top N has no jellyfish equivalent: "KMER\tCOUNT\n", count
//     descending, ties by k-mer ascending.
//
// Memory: see Counter for the table layout. The budget Config.MaxBytes
// covers the tables, including the transient copy of a growing segment;
// crossing it ends counting with a *LimitError (ErrTooManyKmers). A genome
// costs about 11 bytes per distinct k-mer (8-byte slots at 64-80% load):
// 22 MiB for the 2 Mbp abacas genome at k=21, 56 MiB for 5.3 M distinct.
//
// Errors wrap one of ErrBadParam and ErrBadKmer (client mistakes, HTTP
// 400), ErrTooManyKmers (HTTP 422) or ErrState (a caller bug, 500); output
// methods also return the context's error or the writer's.
package kmer
