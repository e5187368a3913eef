package wgsim

import (
	"fmt"
	"math"
)

// Options are wgsim's command-line options. DefaultOptions gives wgsim
// 1.16.1's defaults (-N there is 1,000,000; the API picks its own).
type Options struct {
	ErrorRate    float64 // -e base error rate
	Distance     int     // -d outer distance between the two ends
	StdDev       int     // -s standard deviation of the distance
	Pairs        int64   // -N number of read pairs, split over the sequences by length
	Len1         int     // -1 length of the first read
	Len2         int     // -2 length of the second read
	MutRate      float64 // -r rate of mutations
	IndelFrac    float64 // -R fraction of indels
	IndelExtend  float64 // -X probability an indel is extended
	AmbiguousMax float64 // -A discard a pair if a read's fraction of N is higher
	Haplotype    bool    // -h haplotype mode: every mutation homozygous
	// Seed is -S, 1..2^31-1. wgsim itself replaces -S 0 (its default) or any
	// value <= 0 by time(0)&0x7fffffff and prints "[wgsim] seed = N" to
	// stderr; callers wanting a random seed must pick one and pass it here.
	Seed int64
}

// DefaultOptions returns wgsim 1.16.1's defaults with Pairs 1000 and Seed 1.
func DefaultOptions() Options {
	return Options{ErrorRate: 0.02, Distance: 500, StdDev: 50, Pairs: 1000, Len1: 70, Len2: 70,
		MutRate: 0.001, IndelFrac: 0.15, IndelExtend: 0.3, AmbiguousMax: 0.05, Seed: 1}
}

// Output selects which reads Simulate writes.
type Output int

const (
	// Interleaved writes, for each pair, the forward read then its mate: the
	// /1 record comes first unless the pair is flipped (wgsim's own order of
	// writes, its two files merged).
	Interleaved Output = iota
	// Read1 writes what wgsim writes to out.read1.fq.
	Read1
	// Read2 writes what wgsim writes to out.read2.fq.
	Read2
)

// Coords selects how read names and mutation-list lines are labelled.
type Coords int

const (
	// CoordsRegion labels exactly as wgsim does on the FASTA samtools faidx
	// extracts for the regions: Interval.Name and 1-based positions within
	// the interval.
	CoordsRegion Coords = iota
	// CoordsAbsolute labels with the sequence name and 1-based positions on
	// the whole sequence (interval positions + Beg). Only names differ.
	CoordsAbsolute
)

// Interval is a resolved region: bases [Beg, End) of sequence Seq.
type Interval struct {
	Seq      string
	Beg, End int64
	// Name is the FASTA header samtools faidx would write for the region,
	// i.e. the region string as the user typed it ("chr1:1,000-2,000").
	// Empty means Seq for a whole sequence, else "Seq:Beg+1-End".
	Name string
}

func (iv Interval) name(length int64) string {
	switch {
	case iv.Name != "":
		return iv.Name
	case iv.Beg == 0 && iv.End == length:
		return iv.Seq
	default:
		return fmt.Sprintf("%s:%d-%d", iv.Seq, iv.Beg+1, iv.End)
	}
}

// Limits keep a request within the plugin's memory and the operator's caps.
type Limits struct {
	// MaxPairs rejects Pairs above it (0: no limit).
	MaxPairs int64
	// ResidentBases: sequences up to this length are decoded once into memory
	// (1 byte per base); longer ones are read per read pair through a
	// direct-mapped block cache of CacheBytes. Default 32 MiB.
	ResidentBases int64
	// CacheBytes sizes the block cache for longer sequences. Default 8 MiB.
	CacheBytes int64
	// MaxMutations caps the sparse mutation list of one sequence (12 bytes
	// each). Default 4,000,000 (48 MB).
	MaxMutations int

	// maxPairTries bounds the attempts at one pair (default 1<<20); tests
	// lower it.
	maxPairTries int
}

func (l Limits) withDefaults() Limits {
	if l.ResidentBases <= 0 {
		l.ResidentBases = 32 << 20
	}
	if l.CacheBytes <= 0 {
		l.CacheBytes = 8 << 20
	}
	if l.MaxMutations <= 0 {
		l.MaxMutations = 4_000_000
	}
	if l.maxPairTries <= 0 {
		l.maxPairTries = maxPairTries
	}
	return l
}

// maxReadLen bounds -1/-2 so per-pair buffers stay small.
const maxReadLen = 1 << 20

func (o Options) validate(lim Limits) error {
	bad := func(name string, v any, want string) error {
		return fmt.Errorf("%w: %s=%v: %s", ErrBadOption, name, v, want)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"error", o.ErrorRate}, {"mutation_rate", o.MutRate}, {"indel_frac", o.IndelFrac}, {"indel_extend", o.IndelExtend}} {
		if !(p.v >= 0 && p.v <= 1) {
			return bad(p.name, p.v, "must be between 0 and 1")
		}
	}
	if !(o.AmbiguousMax >= 0) || math.IsInf(o.AmbiguousMax, 0) {
		return bad("ambiguous_max", o.AmbiguousMax, "must be a number >= 0")
	}
	if o.Len1 < 1 || o.Len1 > maxReadLen {
		return bad("length1", o.Len1, fmt.Sprintf("must be between 1 and %d", maxReadLen))
	}
	if o.Len2 < 1 || o.Len2 > maxReadLen {
		return bad("length2", o.Len2, fmt.Sprintf("must be between 1 and %d", maxReadLen))
	}
	if o.Distance < 0 || o.Distance > 1<<30 {
		return bad("distance", o.Distance, "must be between 0 and 2^30")
	}
	if o.StdDev < 0 || o.StdDev > 1<<28 {
		return bad("stdev", o.StdDev, "must be between 0 and 2^28")
	}
	if o.Pairs < 0 || o.Pairs > math.MaxInt32 {
		return bad("n", o.Pairs, "must be between 0 and 2^31-1")
	}
	if lim.MaxPairs > 0 && o.Pairs > lim.MaxPairs {
		return fmt.Errorf("%w: n=%d is above the maximum %d", ErrTooManyPairs, o.Pairs, lim.MaxPairs)
	}
	if o.Seed < 1 || o.Seed > math.MaxInt32 {
		return bad("seed", o.Seed, "must be between 1 and 2^31-1 (pick a random one for 0)")
	}
	return nil
}
