package bam

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkAppendSAMFile formats the first 20000 records of the BAM named by
// EDGENOME_BENCH_BAM; it runs natively and as a wasip1 test binary.
func BenchmarkAppendSAMFile(b *testing.B) {
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

func BenchmarkAppendSAMFileNoAux(b *testing.B) {
	path := os.Getenv("EDGENOME_BENCH_BAM")
	if path == "" {
		b.Skip("EDGENOME_BENCH_BAM not set")
	}
	data, _ := os.ReadFile(path)
	r, _ := NewReader(bytes.NewReader(data), int64(len(data)), nil)
	recs := make([]Record, 20000)
	for i := range recs {
		r.Read(&recs[i])
		recs[i].Data = bytes.Clone(recs[i].Data[:recs[i].auxOff])
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
