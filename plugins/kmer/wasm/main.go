//go:build wasip1

// Command kmer is the k-mer counting plugin: package kmer's counter fed
// from a configured reference (by region), FASTA/FASTQ URLs or the request
// body, with jellyfish's outputs as exports.
package main

import (
	"bufio"
	"errors"
	"io"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/plugins/guest"
	"github.com/edgenome/edgenome/plugins/internal/refseq"
	"github.com/edgenome/edgenome/plugins/internal/seqio"
	"github.com/edgenome/edgenome/plugins/kmer"
)

func main() {}

type params struct {
	K         int                 `json:"k"`
	Canonical bool                `json:"canonical"`
	Ref       *abi.ReferenceParam `json:"ref"`
	Region    []string            `json:"region"`
	Fasta     []string            `json:"fasta"`
	Fai       string              `json:"fai"`
	Fastq     []string            `json:"fastq"`

	Low       uint64   `json:"low"`
	High      uint64   `json:"high"`
	Increment uint64   `json:"increment"`
	Full      bool     `json:"full"`
	N         int      `json:"n"`
	Kmer      []string `json:"kmer"`
	Lower     uint64   `json:"lower"`
	Upper     uint64   `json:"upper"`
	Format    string   `json:"format"`
}

//go:wasmexport histo
func histo() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		h := kmer.HistoOptions{Low: p.Low, High: p.High, Increment: p.Increment, Full: p.Full}
		if err := h.Validate(); err != nil {
			return classify(err)
		}
		ctr, err := count(c, p, nil)
		if err != nil {
			return err
		}
		return classify(ctr.WriteHisto(c.Context(), c.Out, h))
	})
}

//go:wasmexport top
func top() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		ctr, err := count(c, p, nil)
		if err != nil {
			return err
		}
		return classify(ctr.WriteTop(c.Context(), c.Out, p.N))
	})
}

//go:wasmexport query
func query() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		if len(p.Kmer) == 0 {
			return guest.Errorf(abi.CodeBadParam, "give at least one kmer to query")
		}
		ctr, err := count(c, p, p.Kmer)
		if err != nil {
			return err
		}
		return classify(ctr.WriteQuery(c.Context(), c.Out, p.Kmer))
	})
}

//go:wasmexport dump
func dump() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		f := kmer.DumpColumn
		switch p.Format {
		case "tab":
			f = kmer.DumpTab
		case "fasta":
			f = kmer.DumpFASTA
		}
		ctr, err := count(c, p, nil)
		if err != nil {
			return err
		}
		return classify(ctr.WriteDump(c.Context(), c.Out, kmer.DumpOptions{Lower: p.Lower, Upper: p.Upper, Format: f}))
	})
}

// budget leaves room beside the table for the Go runtime, the reader and
// gzip: 80 MiB of a 128 MiB plugin.
func budget() int64 {
	limit := guest.MemoryLimit()
	if limit <= 0 {
		return 0
	}
	return max(limit-48<<20, 4<<20)
}

// count feeds the counter from the one source the caller gave.
func count(c *guest.Call, p *params, restrict []string) (*kmer.Counter, error) {
	sources := 0
	for _, given := range []bool{p.Ref != nil, len(p.Fasta) > 0, len(p.Fastq) > 0} {
		if given {
			sources++
		}
	}
	if sources > 1 {
		return nil, guest.Errorf(abi.CodeBadParam, "give one source: ref, fasta or fastq (or a request body)")
	}
	if len(p.Region) > 0 && p.Ref == nil && len(p.Fasta) != 1 {
		return nil, guest.Errorf(abi.CodeBadParam, "region needs ref, or one indexed fasta URL")
	}
	cfg := kmer.Config{K: p.K, Canonical: p.Canonical, MaxBytes: budget()}

	// An indexed reference: only the bytes of the regions are read.
	var src *refseq.Source
	if p.Ref != nil || len(p.Fasta) == 1 && len(p.Region) > 0 {
		url := ""
		if p.Ref == nil {
			url = p.Fasta[0]
		}
		fa, fai, err := c.OpenFASTA(p.Ref, url, p.Fai)
		if err != nil {
			return nil, err
		}
		if src, err = refseq.Open(fa, io.NewSectionReader(fai, 0, fai.Size())); err != nil {
			return nil, guest.WithCode(abi.CodeBadInput, err)
		}
	}
	if src != nil {
		ivs, err := src.Intervals(p.Region)
		if err != nil {
			return nil, guest.WithCode(abi.CodeBadParam, err)
		}
		for _, iv := range ivs {
			cfg.ExpectedBases += iv.Len()
		}
		ctr, err := newCounter(cfg, restrict)
		if err != nil {
			return nil, err
		}
		for _, iv := range ivs {
			err := src.Stream(iv, 1<<20, func(b []byte) error { return ctr.Add(b) })
			if err != nil {
				return nil, classify(err)
			}
			ctr.EndRecord()
		}
		return ctr, nil
	}

	ctr, err := newCounter(cfg, restrict)
	if err != nil {
		return nil, err
	}
	switch {
	case len(p.Fasta) > 0:
		for _, u := range p.Fasta {
			if err := feedURL(c, ctr, u, seqio.FASTA); err != nil {
				return nil, err
			}
		}
	case len(p.Fastq) > 0:
		for _, u := range p.Fastq {
			if err := feedURL(c, ctr, u, seqio.FASTQ); err != nil {
				return nil, err
			}
		}
	default:
		if err := feed(ctr, c.In, seqio.FormatUnknown, "request body"); err != nil {
			return nil, err
		}
	}
	return ctr, nil
}

func newCounter(cfg kmer.Config, restrict []string) (*kmer.Counter, error) {
	ctr, err := kmer.New(cfg)
	if err != nil {
		return nil, classify(err)
	}
	if restrict != nil {
		if err := ctr.Restrict(restrict); err != nil {
			return nil, classify(err)
		}
	}
	return ctr, nil
}

func feedURL(c *guest.Call, ctr *kmer.Counter, url string, want seqio.Format) error {
	s, err := c.OpenURL(url)
	if err != nil {
		return err
	}
	// Large sequential reads become large ranged requests.
	return feed(ctr, bufio.NewReaderSize(io.NewSectionReader(s, 0, s.Size()), 1<<20), want, url)
}

func feed(ctr *kmer.Counter, r io.Reader, want seqio.Format, name string) error {
	rd, err := seqio.NewReader(r, seqio.Options{Want: want, FASTAChunk: 1 << 20})
	if err != nil {
		return classifyIn(err, name)
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return classifyIn(err, name)
		}
		if !rec.Continued {
			ctr.EndRecord()
		}
		if err := ctr.Add(rec.Seq); err != nil {
			return classify(err)
		}
	}
	ctr.EndRecord()
	return nil
}

func classifyIn(err error, name string) error {
	if seqio.IsBadInput(err) {
		return guest.Errorf(abi.CodeBadInput, "%s: %v", name, err)
	}
	return classify(err)
}

func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kmer.ErrBadParam), errors.Is(err, kmer.ErrBadKmer):
		return guest.WithCode(abi.CodeBadParam, err)
	case errors.Is(err, kmer.ErrTooManyKmers):
		return guest.WithCode(abi.CodeTooLarge, err)
	case errors.Is(err, refseq.ErrRegion):
		return guest.WithCode(abi.CodeBadParam, err)
	}
	return err
}
