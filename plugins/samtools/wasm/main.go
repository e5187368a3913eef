//go:build wasip1

// Command samtools is the samtools plugin: view, idxstats and faidx over
// remote BAM/BAI/CSI and FASTA, reading only the blocks a query needs.
package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/plugins/guest"
	"github.com/edgenome/edgenome/plugins/samtools"
)

func main() {}

type params struct {
	BAM          string              `json:"bam"`
	Index        string              `json:"index"`
	Region       []string            `json:"region"`
	Header       bool                `json:"header"`
	HeaderOnly   bool                `json:"header_only"`
	Count        bool                `json:"count"`
	RequireFlags int64               `json:"require_flags"`
	ExcludeFlags int64               `json:"exclude_flags"`
	MinMapQ      int                 `json:"min_mapq"`
	Ref          *abi.ReferenceParam `json:"ref"`
	Fasta        string              `json:"fasta"`
	Fai          string              `json:"fai"`
	LineWidth    int                 `json:"line_width"`
}

func source(s *guest.Source) samtools.Source {
	return samtools.Source{R: s, Size: s.Size(), Name: s.Name()}
}

// openBAM opens the BAM and, when needed, its index: the given one, else
// <bam>.bai, else <bam>.csi, as samtools looks for them.
func openBAM(c *guest.Call, p *params, needIndex bool) (b *guest.Source, bam, idx samtools.Source, err error) {
	b, err = c.OpenURL(p.BAM)
	if err != nil {
		return b, bam, idx, err
	}
	bam = source(b)
	// Inflate BGZF blocks on the host, natively: most of reading a BAM.
	view, err := b.BGZF()
	if err != nil {
		return b, bam, idx, err
	}
	bam.Inflate = func(off int64, _, dst []byte, _ uint32) error {
		n, err := view.ReadAt(dst, off)
		if err != nil {
			return err
		}
		if n != len(dst) {
			return fmt.Errorf("block at %d inflated to %d bytes, header says %d", off, n, len(dst))
		}
		return nil
	}
	if !needIndex {
		return b, bam, idx, nil
	}
	if p.Index != "" {
		i, err := c.OpenURL(p.Index)
		if err != nil {
			return b, bam, idx, err
		}
		return b, bam, source(i), nil
	}
	var tried []string
	for _, suffix := range []string{".bai", ".csi"} {
		u := guest.WithSuffix(p.BAM, suffix)
		i, err := c.OpenURL(u)
		if err == nil {
			return b, bam, source(i), nil
		}
		tried = append(tried, err.Error())
	}
	return b, bam, idx, guest.Errorf(abi.CodeBadParam, "no index for %s (give index=URL): %s", b.Name(), strings.Join(tried, "; "))
}

//go:wasmexport view
func view() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		if p.RequireFlags < 0 || p.RequireFlags > 0xffff || p.ExcludeFlags < 0 || p.ExcludeFlags > 0xffff {
			return guest.Errorf(abi.CodeBadParam, "flags must be 0 to 65535")
		}
		regions := len(p.Region) > 0
		bamFile, bam, idx, err := openBAM(c, p, regions)
		if err != nil {
			return err
		}
		err = samtools.View(c.Context(), bam, idx, c.Out, samtools.ViewOptions{
			Regions: p.Region, Header: p.Header, HeaderOnly: p.HeaderOnly, Count: p.Count,
			RequireFlags: uint16(p.RequireFlags), ExcludeFlags: uint16(p.ExcludeFlags), MinMapQ: p.MinMapQ,
			Records: records(bamFile, c.Out),
		})
		return classify(err)
	})
}

//go:wasmexport idxstats
func idxstats() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		_, bam, idx, err := openBAM(c, p, true)
		if err != nil {
			return err
		}
		return classify(samtools.Idxstats(c.Context(), bam, idx, c.Out))
	})
}

//go:wasmexport faidx
func faidx() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		fasta, fai, err := c.OpenFASTA(p.Ref, p.Fasta, p.Fai)
		if err != nil {
			return err
		}
		return classify(samtools.Faidx(c.Context(), source(fasta), source(fai), c.Out,
			samtools.FaidxOptions{Regions: p.Region, LineWidth: p.LineWidth}))
	})
}

func classify(err error) error {
	if err == nil {
		return nil
	}
	var de *guest.DataError
	if errors.As(err, &de) {
		return err
	}
	switch samtools.Status(err) {
	case 400:
		return guest.WithCode(abi.CodeBadParam, err)
	case 422:
		return guest.WithCode(abi.CodeBadFile, err)
	}
	return err
}
