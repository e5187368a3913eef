// Package refseq opens a FASTA with its .fai for ranged reads and resolves
// samtools-style region strings against it. Plugins that read a reference
// by region (k-mer counting, read simulation, faidx) share it so that every
// endpoint parses regions and reports their errors the same way.
package refseq

import (
	"errors"
	"fmt"
	"io"

	"github.com/edgenome/edgenome/plugins/internal/fai"
	"github.com/edgenome/edgenome/plugins/internal/region"
)

// ErrRegion marks a region that is malformed, names an unknown sequence or
// lies outside it: the caller's mistake (HTTP 400).
var ErrRegion = errors.New("bad region")

// Source is an indexed FASTA.
type Source struct {
	FASTA io.ReaderAt
	Index *fai.Index
}

// Open parses the index read from faiR.
func Open(fasta io.ReaderAt, faiR io.Reader) (*Source, error) {
	ix, err := fai.Parse(faiR)
	if err != nil {
		return nil, err
	}
	return &Source{FASTA: fasta, Index: ix}, nil
}

// Interval is a resolved region: bases [Beg, End) of sequence Name.
type Interval struct {
	Name     string
	Beg, End int64
	// Region is the string the caller gave ("" for a whole sequence).
	Region string
}

// Len is the number of bases.
func (iv Interval) Len() int64 { return iv.End - iv.Beg }

// Intervals resolves regions in the order given; with none, every sequence
// whole, in file order. An end past the sequence is clamped, as samtools
// does; a start past it is an error.
func (s *Source) Intervals(regions []string) ([]Interval, error) {
	if len(regions) == 0 {
		out := make([]Interval, len(s.Index.Entries))
		for i, e := range s.Index.Entries {
			out[i] = Interval{Name: e.Name, Beg: 0, End: e.Length}
		}
		return out, nil
	}
	lookup := func(name string) (int64, bool) {
		e, ok := s.Index.Lookup(name)
		return e.Length, ok
	}
	out := make([]Interval, 0, len(regions))
	for _, r := range regions {
		reg, err := region.Parse(r, lookup)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %w", ErrRegion, r, err)
		}
		e, _ := s.Index.Lookup(reg.Name)
		if reg.ZeroStart {
			// "chr:0-N": htslib keeps the start as -1 and faidx returns an
			// empty sequence; so do we.
			out = append(out, Interval{Name: e.Name, Region: r})
			continue
		}
		end := min(reg.End, e.Length)
		if reg.Beg >= e.Length {
			return nil, fmt.Errorf("%w %q: starts at %d, after the end of %s (%d bp)", ErrRegion, r, reg.Beg+1, e.Name, e.Length)
		}
		if end <= reg.Beg {
			return nil, fmt.Errorf("%w %q: empty interval", ErrRegion, r)
		}
		out = append(out, Interval{Name: e.Name, Beg: reg.Beg, End: end, Region: r})
	}
	return out, nil
}

// Stream calls fn with consecutive pieces of an interval's bases (about
// chunk bases each), reading only the bytes they occupy.
func (s *Source) Stream(iv Interval, chunk int, fn func([]byte) error) error {
	e, ok := s.Index.Lookup(iv.Name)
	if !ok {
		return fmt.Errorf("%w: no sequence %q", ErrRegion, iv.Name)
	}
	r, err := fai.NewReader(s.FASTA, e, iv.Beg, iv.End, chunk)
	if err != nil {
		return err
	}
	for {
		b, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
	}
}
