package samtools

import (
	"context"
	"fmt"
	"io"

	"github.com/edgenome/edgenome/plugins/internal/bam"
	"github.com/edgenome/edgenome/plugins/internal/bamindex"
	"github.com/edgenome/edgenome/plugins/internal/bgzf"
	"github.com/edgenome/edgenome/plugins/internal/region"
)

// flushSize is how much output is gathered before each Write.
const flushSize = 64 << 10

// ViewOptions are the supported `samtools view` options.
type ViewOptions struct {
	Regions      []string // region arguments, in order; empty means the whole file
	Header       bool     // -h: print the header before the records
	HeaderOnly   bool     // -H: print only the header
	Count        bool     // -c: print only the number of matching records
	RequireFlags uint16   // -f: records must have all these flags
	ExcludeFlags uint16   // -F: records must have none of these flags
	MinMapQ      int      // -q: records must have at least this mapping quality

	// Records, if set, reads, filters and formats the records in place of
	// the Go record path (the plugin's C module); View still parses the
	// options, the header, the index and the regions.
	Records RecordPath
}

// RecordPath runs a plan: it writes the SAM lines of the records the plan
// selects (or counts them) to the output View was given, after what View
// wrote there (a path that writes around that writer's buffer flushes it
// first), and flushes what it formatted before it returns, failure or not.
// Its errors wrap the same sentinels as the Go path's (bam, bgzf).
type RecordPath func(p Plan) (count uint64, err error)

// Plan is what View has decided before reading records.
type Plan struct {
	// Header is the BAM's header, Start the virtual offset just after it:
	// where a whole-file run, or a first span that does not seek, begins.
	Header *bam.Header
	Start  uint64

	// Spans in order; nil means every record after the header.
	Spans        []PlanSpan
	Count        bool
	RequireFlags uint16
	ExcludeFlags uint16
	MinMapQ      int
}

// PlanSpan is one region argument resolved against the index.
type PlanSpan struct {
	// Special is '.' (all records) or '*' (unplaced ones): read from Seek
	// (0: on from where the previous span stopped, as htslib does) to the
	// end of the file. Otherwise the records of reference Tid overlapping
	// [Beg, End) are read from Chunks, as htslib's iterator does.
	Special  byte
	Seek     uint64
	Tid      int
	Beg, End int64
	Chunks   []bamindex.Chunk
}

// Source is a random-access file and its size.
type Source struct {
	R    io.ReaderAt
	Size int64
	Name string // for error messages (URL or file name)
	// Inflate optionally decodes and CRC-checks BGZF blocks in place of the
	// built-in code: under Wasm a host function is about 4x faster.
	Inflate bgzf.Inflater
}

func (s Source) name(def string) string {
	if s.Name != "" {
		return s.Name
	}
	return def
}

type span struct {
	special byte // 0: a reference interval; '.': all records; '*': unplaced
	tid     int
	beg     int64
	end     int64
}

// View writes what `samtools view --no-PG <options> <bam> <regions>` writes.
// index is needed only when Regions is non-empty. Regions are checked before
// any output, so a bad region never yields a partial response.
func View(ctx context.Context, bamSrc, index Source, w io.Writer, opt ViewOptions) error {
	bname := bamSrc.name("BAM")
	if bamSrc.R == nil {
		return fmt.Errorf("%w: no BAM given", ErrBadRequest)
	}
	if opt.MinMapQ < 0 {
		return fmt.Errorf("%w: min_mapq %d is negative", ErrBadRequest, opt.MinMapQ)
	}
	br, err := bam.NewReader(bamSrc.R, bamSrc.Size, bamSrc.Inflate)
	if err != nil {
		return classify(bname, err)
	}
	hasEOF, err := bgzf.HasEOFMarker(bamSrc.R, bamSrc.Size)
	if err != nil {
		return classify(bname, err)
	}
	h := br.Header

	var spans []span
	var idx *bamindex.Index
	if len(opt.Regions) > 0 && !opt.HeaderOnly {
		for _, s := range opt.Regions {
			sp, err := parseSpan(s, h)
			if err != nil {
				return err
			}
			spans = append(spans, sp)
		}
		if index.R == nil || index.Size == 0 {
			return fmt.Errorf("%w: %w", ErrBadRequest, ErrNoIndex)
		}
		iname := index.name("index")
		idx, err = bamindex.Read(index.R, index.Size)
		if err != nil {
			return classify(iname, err)
		}
		if len(idx.Refs) != len(h.Refs) {
			return fmt.Errorf("%w: %s: %w: it has %d references, the BAM header %d",
				ErrInvalidInput, iname, ErrIndexMismatch, len(idx.Refs), len(h.Refs))
		}
	}

	v := &viewer{ctx: ctx, w: w, h: h, br: br, buf: make([]byte, 0, flushSize+64<<10)}
	if (opt.Header || opt.HeaderOnly) && !opt.Count {
		v.buf = h.AppendSAM(v.buf)
	}
	if !opt.HeaderOnly {
		run := opt.Records
		if run == nil {
			run = v.run
		} else if err := v.flush(); err != nil { // the header, before the record path's output
			return err
		}
		p := plan(idx, spans, opt)
		p.Header, p.Start = h, br.Tell()
		n, err := run(p)
		if err != nil {
			// Show what decoded, then fail, as samtools does.
			if ferr := v.flush(); ferr != nil {
				return ferr
			}
			return classify(bname, err)
		}
		v.count = n
	}
	if opt.Count {
		// With -H too, samtools prints a count of 0.
		v.buf = appendUint(v.buf, v.count)
		v.buf = append(v.buf, '\n')
	}
	if err := v.flush(); err != nil {
		return err
	}
	if !hasEOF {
		return fmt.Errorf("%w: %s: %w", ErrInvalidInput, bname, ErrNoEOF)
	}
	return nil
}

// plan resolves the spans against the index for a RecordPath.
func plan(idx *bamindex.Index, spans []span, opt ViewOptions) Plan {
	p := Plan{Count: opt.Count, RequireFlags: opt.RequireFlags, ExcludeFlags: opt.ExcludeFlags, MinMapQ: opt.MinMapQ}
	if spans == nil {
		return p
	}
	p.Spans = []PlanSpan{}
	for _, sp := range spans {
		if sp.special != 0 {
			var off uint64
			var ok bool
			if sp.special == '*' {
				off, ok = idx.NoCoorOffset()
			} else {
				off, ok = startOffset(idx)
			}
			if ok {
				p.Spans = append(p.Spans, PlanSpan{Special: sp.special, Seek: off})
			}
			continue
		}
		if chunks := idx.Query(sp.tid, sp.beg, sp.end); len(chunks) > 0 {
			p.Spans = append(p.Spans, PlanSpan{Tid: sp.tid, Beg: sp.beg, End: sp.end, Chunks: chunks})
		}
	}
	return p
}

func parseSpan(s string, h *bam.Header) (span, error) {
	switch s {
	case ".":
		return span{special: '.'}, nil
	case "*":
		return span{special: '*'}, nil
	}
	r, err := region.Parse(s, h.RefLen)
	if err != nil {
		return span{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	tid, _ := h.RefID(r.Name)
	return span{tid: tid, beg: r.Beg, end: r.End}, nil
}

type viewer struct {
	ctx   context.Context
	w     io.Writer
	h     *bam.Header
	br    *bam.Reader
	p     Plan // the filters, as the plan being run has them
	buf   []byte
	count uint64
	rec   bam.Record
}

func (v *viewer) flush() error {
	if len(v.buf) == 0 {
		return nil
	}
	_, err := v.w.Write(v.buf)
	v.buf = v.buf[:0]
	return err
}

// emit filters and outputs the current record.
func (v *viewer) emit() error {
	r := &v.rec
	if int(r.MapQ) < v.p.MinMapQ || r.Flag&v.p.RequireFlags != v.p.RequireFlags || r.Flag&v.p.ExcludeFlags != 0 {
		return nil
	}
	if v.p.Count {
		v.count++
		if v.count&0xffff == 0 {
			return v.ctx.Err()
		}
		return nil
	}
	var err error
	v.buf, err = bam.AppendSAM(v.buf, v.h, r)
	if err != nil {
		return err
	}
	if len(v.buf) >= flushSize {
		if err := v.ctx.Err(); err != nil {
			return err
		}
		return v.flush()
	}
	return nil
}

// all streams every record from the current position to the end.
func (v *viewer) all() error {
	for {
		err := v.br.Read(&v.rec)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := v.emit(); err != nil {
			return err
		}
	}
}

// run is the Go record path.
func (v *viewer) run(p Plan) (uint64, error) {
	v.p = p
	if p.Spans == nil {
		err := v.all()
		return v.count, err
	}
	for _, sp := range p.Spans {
		if err := v.span(sp); err != nil {
			return v.count, err
		}
	}
	return v.count, nil
}

// span outputs the records of one region, following htslib's iterator.
func (v *viewer) span(sp PlanSpan) error {
	if sp.Special != 0 {
		// htslib does not seek for offset 0: it reads on from where the
		// previous iterator stopped.
		if sp.Seek != 0 {
			if err := v.br.Seek(sp.Seek); err != nil {
				return err
			}
		}
		return v.all()
	}
	defer v.br.SetReadahead(0)
	chunks := sp.Chunks
	i := -1
	var cur uint64
	for {
		if cur == 0 || cur >= chunks[i].End {
			if i == len(chunks)-1 {
				return nil
			}
			// Read ahead no further than the block holding the chunk end.
			v.br.SetReadahead(int64(chunks[i+1].End>>16) + bgzf.MaxBlockSize)
			if i < 0 || chunks[i].End != chunks[i+1].Beg {
				if err := v.br.Seek(chunks[i+1].Beg); err != nil {
					return err
				}
				cur = v.br.Tell()
			}
			i++
		}
		err := v.br.Read(&v.rec)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		cur = v.br.Tell()
		r := &v.rec
		if int(r.RefID) != sp.Tid || int64(r.Pos) >= sp.End {
			return nil
		}
		if r.End > sp.Beg && sp.End > int64(r.Pos) {
			if err := v.emit(); err != nil {
				return err
			}
		}
	}
}

// startOffset is where the first record of any reference starts (htslib's
// HTS_IDX_START): the smallest pseudo-bin start offset.
func startOffset(idx *bamindex.Index) (uint64, bool) {
	off, ok := idx.StartOffset()
	if !ok && idx.NoCoor > 0 {
		return 0, true
	}
	return off, ok
}

func appendUint(dst []byte, v uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}
