package bam

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkAppendSAMFile formats the first 20,000 records of the BAM named
// by EDGENOME_BENCH_BAM. It has no build constraints so that it also runs as
// a wasip1 test binary (for example under wazero).
func BenchmarkAppendSAMFile(b *testing.B) { benchAppendSAM(b, true) }

// BenchmarkAppendSAMFileNoAux is BenchmarkAppendSAMFile without the tags.
func BenchmarkAppendSAMFileNoAux(b *testing.B) { benchAppendSAM(b, false) }

func benchAppendSAM(b *testing.B, aux bool) {
	path := os.Getenv("EDGENOME_BENCH_BAM")
	if path == "" {
		b.Skip("EDGENOME_BENCH_BAM not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]Record, 20000)
	for i := range recs {
		if err := r.Read(&recs[i]); err != nil {
			b.Fatal(err)
		}
		if !aux {
			recs[i].Data = recs[i].Data[:recs[i].auxOff]
		}
		recs[i].Data = bytes.Clone(recs[i].Data)
	}
	buf := make([]byte, 0, 1<<20)
	for b.Loop() {
		for i := range recs {
			buf, _ = AppendSAM(buf, r.Header, &recs[i])
			if len(buf) > 1<<19 {
				buf = buf[:0]
			}
		}
	}
}
