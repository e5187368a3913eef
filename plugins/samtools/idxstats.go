package samtools

import (
	"context"
	"fmt"
	"io"

	"github.com/edgenome/edgenome/plugins/internal/bam"
	"github.com/edgenome/edgenome/plugins/internal/bamindex"
)

// Idxstats writes what `samtools idxstats` writes: per reference its name,
// length, mapped and unmapped record counts, then "*" with the unplaced
// unmapped count. It reads the BAM header and the index, no records.
func Idxstats(ctx context.Context, bamSrc, index Source, w io.Writer) error {
	bname, iname := bamSrc.name("BAM"), index.name("index")
	if bamSrc.R == nil {
		return fmt.Errorf("%w: no BAM given", ErrBadRequest)
	}
	if index.R == nil || index.Size == 0 {
		return fmt.Errorf("%w: %w", ErrBadRequest, ErrNoIndex)
	}
	br, err := bam.NewReader(bamSrc.R, bamSrc.Size, bamSrc.Inflate)
	if err != nil {
		return classify(bname, err)
	}
	idx, err := bamindex.Read(index.R, index.Size)
	if err != nil {
		return classify(iname, err)
	}
	h := br.Header
	if len(idx.Refs) != len(h.Refs) {
		return fmt.Errorf("%w: %s: %w: it has %d references, the BAM header %d",
			ErrInvalidInput, iname, ErrIndexMismatch, len(idx.Refs), len(h.Refs))
	}
	buf := make([]byte, 0, flushSize+4096)
	for i, r := range h.Refs {
		mapped, unmapped, _ := idx.Stats(i)
		buf = append(buf, r.Name...)
		buf = append(buf, '\t')
		buf = appendUint(buf, uint64(r.Len))
		buf = append(buf, '\t')
		buf = appendUint(buf, mapped)
		buf = append(buf, '\t')
		buf = appendUint(buf, unmapped)
		buf = append(buf, '\n')
		if len(buf) >= flushSize {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, "*\t0\t0\t"...)
	buf = appendUint(buf, idx.NoCoor)
	buf = append(buf, '\n')
	_, err = w.Write(buf)
	return err
}
