//go:build wasip1

// Command fastqc is the FASTQ quality-control plugin: package fastqc over
// the request body (the host decodes gzip natively) or a FASTQ URL.
package main

import (
	"bufio"
	"io"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/plugins/fastqc"
	"github.com/edgenome/edgenome/plugins/guest"
)

func main() {}

type params struct {
	fastqc.Params
	Fastq string `json:"fastq"`
}

//go:wasmexport qc
func qc() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		in := c.In
		name := "request body"
		if p.Fastq != "" {
			s, err := c.OpenURL(p.Fastq)
			if err != nil {
				return err
			}
			in = bufio.NewReaderSize(io.NewSectionReader(s, 0, s.Size()), 1<<20)
			name = p.Fastq
		}
		return classify(fastqc.Run(c.Context(), in, c.Out, p.Params), name)
	})
}

//go:wasmexport merge
func merge() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		return classify(fastqc.RunMerge(c.Context(), c.In, c.Out, p.Params), "request body")
	})
}

func classify(err error, name string) error {
	switch {
	case err == nil:
		return nil
	case fastqc.IsBadInput(err):
		return guest.Errorf(abi.CodeBadInput, "%s: %v", name, err)
	case fastqc.IsTooLarge(err):
		return guest.Errorf(abi.CodeTooLarge, "%s: %v", name, err)
	}
	return err
}
