package kmer

import "fmt"

// A k-mer is held as a uint64 of 2k bits, first base in the highest pair,
// A=0 C=1 G=2 T=3: comparing two such words compares the k-mers
// lexicographically (A<C<G<T), as jellyfish's mer_dna does.

const letters = "ACGT"

// ParseKmer reads a query k-mer the way `jellyfish query` (2.3.0) does:
//   - a string shorter than k is an error (jellyfish prints "Invalid mer"
//     to stderr and skips it); ErrBadKmer;
//   - only the first k bytes are used; a longer string is not an error;
//   - bases are case-insensitive; at the first byte that is not
//     A/C/G/T the reading stops and the remaining positions stay A
//     ("ACN" reads as ACA, "NGG" as AAA).
//
// The result is not canonicalized; see Canonical.
func ParseKmer(s string, k int) (uint64, error) {
	if k < 1 || k > MaxK {
		return 0, fmt.Errorf("%w: k=%d, want 1 to %d", ErrBadParam, k, MaxK)
	}
	if len(s) < k {
		return 0, fmt.Errorf("%w: %q has %d bases, k is %d", ErrBadKmer, truncate(s), len(s), k)
	}
	var key uint64
	i := 0
	for ; i < k; i++ {
		code := baseCode[s[i]]
		if code == 0 {
			break
		}
		key = key<<2 | uint64(code-1)
	}
	return key << (2 * uint(k-i)), nil
}

// truncate keeps error messages short when a client sends a huge string.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// ReverseComplement returns the reverse complement of the k-mer key.
func ReverseComplement(key uint64, k int) uint64 {
	var rc uint64
	for i := 0; i < k; i++ {
		rc = rc<<2 | (3 - key&3)
		key >>= 2
	}
	return rc
}

// Canonical returns the smaller of key and its reverse complement.
func Canonical(key uint64, k int) uint64 {
	return min(key, ReverseComplement(key, k))
}

// AppendKmer appends the k letters of key to dst.
func AppendKmer(dst []byte, key uint64, k int) []byte {
	for sh := 2 * (k - 1); sh >= 0; sh -= 2 {
		dst = append(dst, letters[(key>>uint(sh))&3])
	}
	return dst
}

// parseQuery parses s for this counter, canonical when the counter is (as
// jellyfish query does on a database counted with -C).
func (c *Counter) parseQuery(s string) (uint64, error) {
	key, err := ParseKmer(s, c.k)
	if err != nil {
		return 0, err
	}
	if c.canonical {
		key = Canonical(key, c.k)
	}
	return key, nil
}

// queryKeys parses the query k-mers; an error names the first bad one by
// its 1-based position.
func (c *Counter) queryKeys(kmers []string) ([]uint64, error) {
	keys := make([]uint64, len(kmers))
	for i, s := range kmers {
		key, err := c.parseQuery(s)
		if err != nil {
			return nil, fmt.Errorf("query k-mer %d: %w", i+1, err)
		}
		keys[i] = key
	}
	return keys, nil
}
