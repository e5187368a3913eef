package fastqc

import (
	"cmp"
	"fmt"
	"slices"
)

// Version is the result format version; Merge accepts only this version.
const Version = 1

// QualityOffset is the Phred offset of the quality characters (fixed, as in
// seqtk fqchk).
const QualityOffset = 33

// Result holds the metrics of one input. Fields marked "raw" are the counts
// that Merge adds; every other field is derived from them by Merge and
// Compute, and ignored on input.
type Result struct {
	Version     int         `json:"version"`
	Reads       int64       `json:"reads"` // raw: records, including empty ones
	Bases       int64       `json:"bases"` // raw: total sequence length
	Length      Length      `json:"length"`
	GC          GC          `json:"gc"`
	Composition Composition `json:"composition"` // bases of all reads by kind
	NRate       float64     `json:"n_rate"`      // N / bases (0 without bases)
	Quality     Quality     `json:"quality"`     // distribution over all bases
	Positions   []Position  `json:"positions"`   // [i] is read position i+1
}

// Length describes read lengths.
type Length struct {
	Min  int     `json:"min"`
	Max  int     `json:"max"`
	Mean float64 `json:"mean"`
	// Histogram (raw) lists [length, reads] for every length seen, ascending.
	Histogram [][2]int64 `json:"histogram"`
}

// GC is the per-read GC content.
type GC struct {
	// Histogram (raw) counts reads by GC percent, 101 bins for 0..100.
	Histogram []int64 `json:"histogram"`
	// Undefined (raw) counts reads with no A, C, G or T.
	Undefined int64   `json:"undefined"`
	Mean      float64 `json:"mean"` // mean of the binned percentages
}

// Composition counts bases; every non-ACGT byte is N.
type Composition struct {
	A int64 `json:"A"`
	C int64 `json:"C"`
	G int64 `json:"G"`
	T int64 `json:"T"`
	N int64 `json:"N"`
}

// Quality summarises a distribution of quality values.
type Quality struct {
	Offset int `json:"offset"`
	// Histogram counts bases by quality value Q (index), up to the highest
	// value seen in the whole input.
	Histogram []int64 `json:"histogram"`
	Mean      float64 `json:"mean"`
	Quartiles [3]int  `json:"quartiles"` // Q1, median, Q3 (nearest rank)
}

// Position holds the counts of one read position.
type Position struct {
	Bases     [5]int64 `json:"bases"`   // raw: A, C, G, T, N
	Quality   []int64  `json:"quality"` // raw: bases by quality value
	Mean      float64  `json:"mean_quality"`
	Quartiles [3]int   `json:"quartiles"`
}

// finish recomputes every derived field from the raw counts and trims the
// quality histograms to the highest quality value present anywhere.
func (r *Result) finish() {
	r.Version = Version
	// Empty, not null, in JSON, so that equal counts give equal bytes.
	if r.Positions == nil {
		r.Positions = []Position{}
	}
	if r.Length.Histogram == nil {
		r.Length.Histogram = [][2]int64{}
	}
	r.Length.Min, r.Length.Max, r.Length.Mean = 0, 0, 0
	if h := r.Length.Histogram; len(h) > 0 {
		r.Length.Min, r.Length.Max = int(h[0][0]), int(h[len(h)-1][0])
	}
	if r.Reads > 0 {
		r.Length.Mean = float64(r.Bases) / float64(r.Reads)
	}
	if len(r.GC.Histogram) < 101 {
		r.GC.Histogram = append(r.GC.Histogram, make([]int64, 101-len(r.GC.Histogram))...)
	}
	var gcSum, gcN int64
	for pct, k := range r.GC.Histogram {
		gcSum += int64(pct) * k
		gcN += k
	}
	r.GC.Mean = 0
	if gcN > 0 {
		r.GC.Mean = float64(gcSum) / float64(gcN)
	}

	all := make([]int64, MaxQual+1)
	var comp [5]int64
	top := -1
	for i := range r.Positions {
		p := &r.Positions[i]
		for b, k := range p.Bases {
			comp[b] += k
		}
		for q, k := range p.Quality {
			all[q] += k
			if k > 0 && q > top {
				top = q
			}
		}
	}
	r.Composition = Composition{A: comp[0], C: comp[1], G: comp[2], T: comp[3], N: comp[4]}
	r.NRate = 0
	if r.Bases > 0 {
		r.NRate = float64(comp[4]) / float64(r.Bases)
	}
	for i := range r.Positions {
		p := &r.Positions[i]
		q := make([]int64, top+1)
		copy(q, p.Quality)
		p.Quality = q
		p.Mean, p.Quartiles = summarise(q)
	}
	r.Quality.Offset = QualityOffset
	r.Quality.Histogram = all[:top+1]
	r.Quality.Mean, r.Quality.Quartiles = summarise(r.Quality.Histogram)
}

// summarise returns the mean and the nearest-rank quartiles of a histogram.
func summarise(h []int64) (mean float64, quart [3]int) {
	var n, sum int64
	for q, k := range h {
		n += k
		sum += int64(q) * k
	}
	if n == 0 {
		return 0, quart
	}
	for j := range quart {
		rank := (int64(j+1)*n + 3) / 4 // ceil((j+1)*n/4)
		var cum int64
		for q, k := range h {
			cum += k
			if cum >= rank {
				quart[j] = q
				break
			}
		}
	}
	return float64(sum) / float64(n), quart
}

// check verifies that the raw counts of r are consistent with each other, so
// that a tampered or truncated result cannot be merged silently.
func (r *Result) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrResult, fmt.Sprintf(format, args...))
	}
	if r.Version != Version {
		return bad("version %d, want %d", r.Version, Version)
	}
	if r.Reads < 0 || r.Bases < 0 || r.GC.Undefined < 0 {
		return bad("negative count")
	}
	var reads, bases int64
	prev := int64(-1)
	for _, e := range r.Length.Histogram {
		if e[0] <= prev || e[1] <= 0 {
			return bad("length histogram must list ascending lengths with positive counts")
		}
		prev = e[0]
		reads += e[1]
		bases += e[0] * e[1]
	}
	if reads != r.Reads || bases != r.Bases {
		return bad("length histogram holds %d reads and %d bases, result says %d and %d", reads, bases, r.Reads, r.Bases)
	}
	if int64(len(r.Positions)) != prev && !(prev == -1 && len(r.Positions) == 0) {
		return bad("%d positions for a longest read of %d", len(r.Positions), prev)
	}
	if len(r.GC.Histogram) > 101 {
		return bad("GC histogram has %d bins, want 101", len(r.GC.Histogram))
	}
	gcReads := r.GC.Undefined
	for _, k := range r.GC.Histogram {
		if k < 0 {
			return bad("negative count")
		}
		gcReads += k
	}
	if gcReads != r.Reads {
		return bad("GC histogram holds %d reads, result says %d", gcReads, r.Reads)
	}
	// Position i is covered by exactly the reads longer than i.
	covered := r.Reads
	h := r.Length.Histogram
	for i := range r.Positions {
		for len(h) > 0 && h[0][0] <= int64(i) {
			covered -= h[0][1]
			h = h[1:]
		}
		p := &r.Positions[i]
		if len(p.Quality) > MaxQual+1 {
			return bad("position %d: %d quality values, at most %d", i+1, len(p.Quality), MaxQual+1)
		}
		var nb, nq int64
		for _, k := range p.Bases {
			if k < 0 {
				return bad("negative count")
			}
			nb += k
		}
		for _, k := range p.Quality {
			if k < 0 {
				return bad("negative count")
			}
			nq += k
		}
		if nb != covered || nq != covered {
			return bad("position %d: %d bases and %d qualities, but %d reads reach it", i+1, nb, nq, covered)
		}
	}
	return nil
}

// Merge combines results of disjoint parts of an input (see the package
// documentation for the rule). Every input is checked for consistency
// first; an invalid one fails with ErrResult naming its index.
func Merge(results []Result) (Result, error) {
	if len(results) == 0 {
		return Result{}, fmt.Errorf("%w: nothing to merge", ErrResult)
	}
	var out Result
	lengths := map[int64]int64{}
	out.GC.Histogram = make([]int64, 101)
	for i := range results {
		r := &results[i]
		if err := r.check(); err != nil {
			return Result{}, fmt.Errorf("result %d: %w", i, err)
		}
		out.Reads += r.Reads
		out.Bases += r.Bases
		for _, e := range r.Length.Histogram {
			lengths[e[0]] += e[1]
		}
		for pct, k := range r.GC.Histogram {
			out.GC.Histogram[pct] += k
		}
		out.GC.Undefined += r.GC.Undefined
		if len(r.Positions) > len(out.Positions) {
			out.Positions = append(out.Positions, make([]Position, len(r.Positions)-len(out.Positions))...)
		}
		for j := range r.Positions {
			src, dst := &r.Positions[j], &out.Positions[j]
			for b, k := range src.Bases {
				dst.Bases[b] += k
			}
			if len(src.Quality) > len(dst.Quality) {
				dst.Quality = append(dst.Quality, make([]int64, len(src.Quality)-len(dst.Quality))...)
			}
			for q, k := range src.Quality {
				dst.Quality[q] += k
			}
		}
	}
	for n, k := range lengths {
		out.Length.Histogram = append(out.Length.Histogram, [2]int64{n, k})
	}
	slices.SortFunc(out.Length.Histogram, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	out.finish()
	return out, nil
}
