package samtools

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/edgenome/edgenome/plugins/internal/fai"
	"github.com/edgenome/edgenome/plugins/internal/region"
)

// DefaultLineWidth is samtools faidx's default output line length.
const DefaultLineWidth = 60

// FaidxOptions are the supported `samtools faidx` options.
type FaidxOptions struct {
	Regions   []string // at least one
	LineWidth int      // -n; values <= 0 mean DefaultLineWidth, as samtools does
}

// ErrNoFAI: faidx was given no .fai index.
var ErrNoFAI = errors.New("faidx needs the FASTA's .fai index")

// Faidx writes what `samtools faidx -n W <fasta> <regions>` writes: for each
// region a ">region" line as typed, then its bases in lines of W. Regions
// running past a sequence end are clipped (samtools warns "Truncated
// sequence" or "Zero length sequence" and carries on, as we do). Unknown or
// malformed regions fail before any output (samtools prints the header line,
// then fails).
func Faidx(ctx context.Context, fasta, index Source, w io.Writer, opt FaidxOptions) error {
	fname, iname := fasta.name("FASTA"), index.name("fai")
	if len(opt.Regions) == 0 {
		return fmt.Errorf("%w: faidx needs at least one region", ErrBadRequest)
	}
	if fasta.R == nil {
		return fmt.Errorf("%w: no FASTA given", ErrBadRequest)
	}
	if index.R == nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, ErrNoFAI)
	}
	width := opt.LineWidth
	if width <= 0 {
		width = DefaultLineWidth
	}
	var magic [2]byte
	if n, _ := fasta.R.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return fmt.Errorf("%w: %s: compressed FASTA is not supported", ErrInvalidInput, fname)
	}
	idx, err := fai.Parse(io.NewSectionReader(index.R, 0, index.Size))
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidInput, iname, err)
	}
	lookup := func(name string) (int64, bool) {
		e, ok := idx.Lookup(name)
		return e.Length, ok
	}
	type job struct {
		text     string
		e        fai.Entry
		beg, end int64
	}
	jobs := make([]job, 0, len(opt.Regions))
	for _, s := range opt.Regions {
		r, err := region.Parse(s, lookup)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		e, _ := idx.Lookup(r.Name)
		beg, end := min(r.Beg, e.Length), min(r.End, e.Length)
		if r.ZeroStart {
			beg, end = 0, 0
		}
		jobs = append(jobs, job{s, e, beg, end})
	}
	buf := make([]byte, 0, flushSize+4096)
	flush := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	for _, j := range jobs {
		buf = append(buf, '>')
		buf = append(buf, j.text...)
		buf = append(buf, '\n')
		if j.beg >= j.end {
			continue
		}
		rd, err := fai.NewReader(fasta.R, j.e, j.beg, j.end, 0)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidInput, fname, err)
		}
		col := 0
		for {
			seq, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if ferr := flush(); ferr != nil {
					return ferr
				}
				return fmt.Errorf("%w: %s: %w", ErrInvalidInput, fname, err)
			}
			for len(seq) > 0 {
				n := min(width-col, len(seq))
				buf = append(buf, seq[:n]...)
				seq = seq[n:]
				col += n
				if col == width {
					buf = append(buf, '\n')
					col = 0
				}
				if len(buf) >= flushSize {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		if col > 0 {
			buf = append(buf, '\n')
		}
	}
	return flush()
}
