//go:build wasip1

// Command wgsim is the read simulator plugin: package wgsim over a
// configured reference or a FASTA URL, reading only the bytes each read
// needs through the .fai and the host's block cache.
package main

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"strconv"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/plugins/guest"
	"github.com/edgenome/edgenome/plugins/internal/fai"
	"github.com/edgenome/edgenome/plugins/internal/refseq"
	"github.com/edgenome/edgenome/plugins/wgsim"
)

func main() {}

type params struct {
	Ref          *abi.ReferenceParam `json:"ref"`
	Fasta        string              `json:"fasta"`
	Fai          string              `json:"fai"`
	Region       []string            `json:"region"`
	Error        float64             `json:"error"`
	Distance     int                 `json:"distance"`
	Stdev        int                 `json:"stdev"`
	N            int64               `json:"n"`
	Length1      int                 `json:"length1"`
	Length2      int                 `json:"length2"`
	MutationRate float64             `json:"mutation_rate"`
	IndelFrac    float64             `json:"indel_frac"`
	IndelExtend  float64             `json:"indel_extend"`
	AmbiguousMax float64             `json:"ambiguous_max"`
	Haplotype    bool                `json:"haplotype"`
	Seed         int64               `json:"seed"`
	Output       string              `json:"output"`
	Coords       string              `json:"coords"`
}

//go:wasmexport simulate
func simulate() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		ref, ivs, cfg, err := prepare(c, p)
		if err != nil {
			return err
		}
		_, err = wgsim.Simulate(c.Context(), c.Out, ref, ivs, cfg)
		return classify(err)
	})
}

//go:wasmexport mutations
func mutations() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		ref, ivs, cfg, err := prepare(c, p)
		if err != nil {
			return err
		}
		_, err = wgsim.Mutations(c.Context(), c.Out, ref, ivs, cfg)
		return classify(err)
	})
}

func prepare(c *guest.Call, p *params) (wgsim.Reference, []wgsim.Interval, wgsim.Config, error) {
	var ref wgsim.Reference
	var cfg wgsim.Config
	fasta, idx, err := c.OpenFASTA(p.Ref, p.Fasta, p.Fai)
	if err != nil {
		return ref, nil, cfg, err
	}
	src, err := refseq.Open(fasta, io.NewSectionReader(idx, 0, idx.Size()))
	if err != nil {
		return ref, nil, cfg, guest.Errorf(abi.CodeBadFile, "%s: %v", idx.Name(), err)
	}
	ref = wgsim.Reference{FASTA: fasta, Index: src.Index}

	// No region means wgsim's whole-reference mode (pairs split between the
	// sequences by length), which is not the same as every sequence as a
	// region: only regions given go through refseq.
	var ivs []wgsim.Interval
	if len(p.Region) > 0 {
		rs, err := src.Intervals(p.Region)
		if err != nil {
			return ref, nil, cfg, guest.WithCode(abi.CodeBadParam, err)
		}
		for _, iv := range rs {
			ivs = append(ivs, wgsim.Interval{Seq: iv.Name, Beg: iv.Beg, End: iv.End, Name: iv.Region})
		}
	}

	seed := p.Seed
	if seed == 0 {
		// wgsim would seed from the clock; the seed is returned in X-Seed
		// so that any run can be reproduced.
		var b [4]byte
		rand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint32(b[:])&0x7fffffff) | 1
	}
	if err := guest.SetHeader("X-Seed", strconv.FormatInt(seed, 10)); err != nil {
		return ref, nil, cfg, err
	}
	cfg.Options = wgsim.Options{
		ErrorRate: p.Error, Distance: p.Distance, StdDev: p.Stdev, Pairs: p.N,
		Len1: p.Length1, Len2: p.Length2, MutRate: p.MutationRate, IndelFrac: p.IndelFrac,
		IndelExtend: p.IndelExtend, AmbiguousMax: p.AmbiguousMax, Haplotype: p.Haplotype, Seed: seed,
	}
	switch p.Output {
	case "read1":
		cfg.Output = wgsim.Read1
	case "read2":
		cfg.Output = wgsim.Read2
	default:
		cfg.Output = wgsim.Interleaved
	}
	if p.Coords == "region" {
		cfg.Coords = wgsim.CoordsRegion
	} else {
		cfg.Coords = wgsim.CoordsAbsolute
	}
	if limit := guest.MemoryLimit(); limit > 0 {
		// Hold whole sequences only while they fit well inside the limit.
		cfg.Limits.ResidentBases = min(32<<20, limit/4)
	}
	return ref, ivs, cfg, nil
}

func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wgsim.ErrTooLarge):
		return guest.WithCode(abi.CodeTooLarge, err)
	case wgsim.BadInput(err):
		return guest.WithCode(abi.CodeBadParam, err)
	case errors.Is(err, fai.ErrTruncated):
		return guest.WithCode(abi.CodeBadFile, err)
	}
	return err
}
