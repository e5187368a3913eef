package wgsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"

	"github.com/edgenome/edgenome/plugins/internal/fai"
)

// Reference is an indexed FASTA: its bytes and its parsed .fai.
type Reference struct {
	FASTA io.ReaderAt
	Index *fai.Index
}

// Config is everything one simulation needs besides the reference.
type Config struct {
	Options
	Output Output
	Coords Coords
	Limits Limits
}

// Stats describes a finished (or failed) run.
type Stats struct {
	Sequences int   // sequences or regions simulated
	Skipped   int   // sequences wgsim skips as shorter than distance+3*stdev
	Pairs     int64 // read pairs generated
	Dropped   int64 // pairs wgsim drops after 1000 retries with too many N
	Mutations int64 // positions in the mutation lists
}

// flushAt is the output chunk size: records accumulate in a reused buffer
// and reach the writer in chunks of about this many bytes.
const flushAt = 64 << 10

// Simulate writes the FASTQ reads wgsim would write (see Output) for the
// intervals of ref, or for every sequence of ref when intervals is empty.
func Simulate(ctx context.Context, w io.Writer, ref Reference, intervals []Interval, cfg Config) (Stats, error) {
	return Run(ctx, ref, intervals, cfg, w, nil)
}

// Mutations writes the mutation list wgsim prints on stdout for the same
// run. It still generates the reads (without formatting them) because each
// sequence's mutations depend on the random draws of the reads before it.
func Mutations(ctx context.Context, w io.Writer, ref Reference, intervals []Interval, cfg Config) (Stats, error) {
	return Run(ctx, ref, intervals, cfg, nil, w)
}

// Run simulates once and writes reads to reads and the mutation list to
// muts; either may be nil. All input checks (options, intervals, read
// lengths, all-N regions, memory) happen before the first byte is written,
// so an error returned after output started is a reading, writing or
// cancellation failure (or ErrTooLarge/ErrNoReads found mid-run).
//
// Without intervals every sequence of the index is simulated in index order,
// as wgsim does on the whole FASTA. With intervals, the run equals wgsim on
// the FASTA that `samtools faidx REF REGION...` writes: one record per
// interval, named Interval.Name.
func Run(ctx context.Context, ref Reference, intervals []Interval, cfg Config, reads, muts io.Writer) (Stats, error) {
	cfg.Limits = cfg.Limits.withDefaults()
	if err := cfg.Options.validate(cfg.Limits); err != nil {
		return Stats{}, err
	}
	if ref.Index == nil || ref.FASTA == nil {
		return Stats{}, errors.New("wgsim: reference without FASTA or index")
	}
	recs, err := plan(ref.Index, intervals, cfg)
	if err != nil {
		return Stats{}, err
	}
	if err := checkAmbiguous(ctx, ref, recs, len(intervals) > 0, cfg); err != nil {
		return Stats{}, err
	}
	s := &sim{ctx: ctx, cfg: cfg, ref: ref, rng: newRNG(cfg.Seed), reads: reads, muts: muts}
	s.init()
	last := -1
	for i := range recs {
		if !recs[i].skip {
			last = i
		}
	}
	for i := range recs {
		rec := &recs[i]
		if rec.skip {
			s.stats.Skipped++
			continue
		}
		s.stats.Sequences++
		s.seq.reset(ref.FASTA, rec.entry, rec.beg, rec.l, int64(rec.l) <= cfg.Limits.ResidentBases, cfg.Limits.CacheBytes)
		if err := s.mutate(rec); err != nil {
			return s.stats, err
		}
		if muts != nil {
			name, shift := rec.label(cfg.Coords)
			s.mout = appendMutations(s.mout, name, shift, s.mutsL)
			if err := s.flushMuts(false); err != nil {
				return s.stats, err
			}
		}
		if reads == nil && i == last {
			break // no later sequence depends on these draws
		}
		if err := s.pairs(rec); err != nil {
			return s.stats, err
		}
	}
	if err := s.flush(true); err != nil {
		return s.stats, err
	}
	return s.stats, s.flushMuts(true)
}

// record is one FASTA record as wgsim sees it: a whole sequence or a region.
type record struct {
	entry    fai.Entry
	beg, end int64
	l        int
	name     string // the record's FASTA name (region coordinates)
	nPairs   uint64
	skip     bool
}

func (r *record) label(c Coords) (string, int64) {
	if c == CoordsAbsolute {
		return r.entry.Name, r.beg
	}
	return r.name, 0
}

// plan resolves the records, their pair counts and the checks that need
// only lengths.
func plan(ix *fai.Index, intervals []Interval, cfg Config) ([]record, error) {
	var recs []record
	if len(intervals) == 0 {
		for _, e := range ix.Entries {
			recs = append(recs, record{entry: e, end: e.Length, name: e.Name})
		}
	}
	for _, iv := range intervals {
		e, ok := ix.Lookup(iv.Seq)
		if !ok {
			return nil, fmt.Errorf("%w: %q is not in the reference index", ErrUnknownSequence, iv.Seq)
		}
		name := iv.name(e.Length)
		switch {
		case iv.Beg < 0 || iv.End > e.Length || iv.Beg >= e.Length:
			return nil, fmt.Errorf("%w: %s: %s is %d bp long", ErrBadRegion, name, iv.Seq, e.Length)
		case iv.Beg >= iv.End:
			return nil, fmt.Errorf("%w: %s: start %d is after end %d", ErrBadRegion, name, iv.Beg+1, iv.End)
		}
		recs = append(recs, record{entry: e, beg: iv.Beg, end: iv.End, name: name})
	}
	var tot uint64
	for i := range recs {
		n := recs[i].end - recs[i].beg
		if n > math.MaxInt32 {
			return nil, fmt.Errorf("%w: %s is %d bp; wgsim handles at most 2^31-1", ErrTooLarge, recs[i].name, n)
		}
		recs[i].l = int(n)
		tot += uint64(n)
	}
	minLen := cfg.Distance + 3*cfg.StdDev
	maxRead := max(cfg.Len1, cfg.Len2)
	for i := range recs {
		r := &recs[i]
		r.nPairs = pairShare(uint64(r.l), tot, uint64(cfg.Pairs))
		if r.l < minLen {
			if len(intervals) > 0 {
				return nil, fmt.Errorf("%w: %s is %d bp; wgsim skips records shorter than distance+3*stdev = %d",
					ErrRegionTooShort, r.name, r.l, minLen)
			}
			r.skip = true
			continue
		}
		if r.nPairs > 0 && r.l < maxRead {
			return nil, fmt.Errorf("%w: %s is %d bp, reads are %d bp", ErrReadTooLong, r.name, r.l, maxRead)
		}
		// Expected list size: mutations plus deletion extensions.
		ext := 0.0
		if cfg.IndelExtend < 1 {
			ext = cfg.IndelFrac * 0.5 * cfg.IndelExtend / (1 - cfg.IndelExtend)
		} else if cfg.IndelFrac > 0 {
			ext = float64(r.l)
		}
		if want := float64(r.l) * cfg.MutRate * (1 + ext); want > 0.9*float64(cfg.Limits.MaxMutations) {
			return nil, fmt.Errorf("%w: %s would carry about %.0f mutations, the limit is %d",
				ErrTooLarge, r.name, want, cfg.Limits.MaxMutations)
		}
	}
	return recs, nil
}

// pairShare is wgsim's (uint64_t)((long double)l / tot * N + 0.5), computed
// with the 64-bit significand of x87 long double so ties round alike.
func pairShare(l, tot, n uint64) uint64 {
	if tot == 0 {
		return 0
	}
	const prec = 64
	a := new(big.Float).SetPrec(prec).SetUint64(l)
	a.Quo(a, new(big.Float).SetPrec(prec).SetUint64(tot))
	a.Mul(a, new(big.Float).SetPrec(prec).SetUint64(n))
	a.Add(a, new(big.Float).SetPrec(prec).SetFloat64(0.5))
	v, _ := a.Uint64()
	return v
}

// checkAmbiguous rejects regions without a single A, C, G or T: every read
// there is all N, so no pair can pass -A < 1 and wgsim would spend 1000
// retries per pair to print nothing. Whole-reference runs keep wgsim's
// behaviour for such sequences unless every simulated sequence is all N.
// The scan stops at the first real base, so it costs nothing on real data.
func checkAmbiguous(ctx context.Context, ref Reference, recs []record, regions bool, cfg Config) error {
	if cfg.AmbiguousMax >= 1 || cfg.Pairs == 0 {
		return nil
	}
	used, allN := 0, 0
	var firstN string
	for i := range recs {
		r := &recs[i]
		if r.skip || r.nPairs == 0 {
			continue
		}
		used++
		rd, err := fai.NewReader(ref.FASTA, r.entry, r.beg, r.end, 64<<10)
		if err != nil {
			return err
		}
		found := false
		for !found {
			chunk, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			for _, b := range chunk {
				if nt4[b] < 4 {
					found = true
					break
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !found {
			if regions {
				return fmt.Errorf("%w: %s has no A, C, G or T base; no read can pass ambiguous_max=%g",
					ErrAllN, r.name, cfg.AmbiguousMax)
			}
			allN++
			if firstN == "" {
				firstN = r.name
			}
		}
	}
	if used > 0 && allN == used {
		return fmt.Errorf("%w: every simulated sequence (first %s) has no A, C, G or T base", ErrAllN, firstN)
	}
	return nil
}
