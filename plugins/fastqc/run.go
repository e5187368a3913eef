package fastqc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// Params are the parameters of the fastqc endpoints, as decoded from the
// request (the host validates types against the manifest; Validate checks
// values).
type Params struct {
	// Format is "json" (default) or "fqchk".
	Format string `json:"format"`
	// QualityThreshold is seqtk fqchk's -q (default 20; <= 0 lists every
	// quality value). Only used by format=fqchk.
	QualityThreshold *int `json:"quality_threshold"`
	// Sample, if > 0, uses only the first Sample reads.
	Sample int64 `json:"sample"`
	// MaxReadLength overrides DefaultMaxReadLength (an operator setting).
	MaxReadLength int `json:"max_read_length"`
}

// Validate checks parameter values; errors wrap ErrParams.
func (p *Params) Validate() error {
	switch p.Format {
	case "", "json", "fqchk":
	default:
		return fmt.Errorf("%w: format must be \"json\" or \"fqchk\", got %q", ErrParams, p.Format)
	}
	if p.Sample < 0 {
		return fmt.Errorf("%w: sample must be >= 0, got %d", ErrParams, p.Sample)
	}
	if p.MaxReadLength < 0 || p.MaxReadLength > maxReadLengthCap {
		return fmt.Errorf("%w: max_read_length must be in 0..%d, got %d", ErrParams, maxReadLengthCap, p.MaxReadLength)
	}
	return nil
}

func (p *Params) threshold() int {
	if p.QualityThreshold == nil {
		return DefaultQualityThreshold
	}
	return *p.QualityThreshold
}

// Run is the /plugin/fastqc endpoint: it reads FASTQ (plain or gzip) from in
// and writes the metrics in the requested format to w.
func Run(ctx context.Context, in io.Reader, w io.Writer, p Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	res, err := Compute(ctx, in, Options{Sample: p.Sample, MaxReadLength: p.MaxReadLength})
	if err != nil {
		return err
	}
	return write(w, res, p)
}

// RunMerge is the /plugin/fastqc/merge endpoint: in holds a JSON array of
// results (as written by Run with format=json); the merged result is written
// in the requested format (fqchk works too). Sample is ignored.
func RunMerge(ctx context.Context, in io.Reader, w io.Writer, p Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	dec := json.NewDecoder(bufio.NewReader(in))
	dec.DisallowUnknownFields()
	var results []Result
	if err := dec.Decode(&results); err != nil {
		return fmt.Errorf("%w: decoding the JSON array of results: %v", ErrResult, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON array", ErrResult)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := Merge(results)
	if err != nil {
		return err
	}
	return write(w, &res, p)
}

func write(w io.Writer, res *Result, p Params) error {
	if p.Format == "fqchk" {
		return WriteFqchk(w, res, p.threshold())
	}
	return WriteJSON(w, res)
}

// WriteJSON writes r as one JSON object followed by a newline.
func WriteJSON(w io.Writer, r *Result) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := json.NewEncoder(bw).Encode(r); err != nil {
		return err
	}
	return bw.Flush()
}
