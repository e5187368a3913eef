package fastqc

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/edgenome/edgenome/internal/testenv"
)

const gasicReads = "usr/share/doc/gasic/examples/reads/SRR059298_subset.fastq.gz"

// BenchmarkFqchkGasic runs format=fqchk over the 100,000 real reads of
// Debian's gasic-examples (gzip, as shipped) and, in the same run, the native
// `seqtk fqchk` on the same file, reporting the time ratio (ours/native).
func BenchmarkFqchkGasic(b *testing.B) {
	path := testenv.File(b, "gasic-examples", gasicReads)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var native time.Duration
	if seqtk, err := exec.LookPath("seqtk"); err == nil {
		best := time.Duration(1<<63 - 1)
		for range 5 {
			start := time.Now()
			if err := exec.Command(seqtk, "fqchk", path).Run(); err != nil {
				b.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		native = best
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if err := Run(context.Background(), bytes.NewReader(data), io.Discard, Params{Format: "fqchk"}); err != nil {
			b.Fatal(err)
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/run")
	if native > 0 {
		b.ReportMetric(float64(native.Microseconds())/1000, "seqtk-ms/run")
		b.ReportMetric(float64(per)/float64(native), "ratio")
	}
}

// BenchmarkComputePlain isolates parsing and counting from decompression.
func BenchmarkComputePlain(b *testing.B) {
	path := testenv.File(b, "gasic-examples", gasicReads)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Compute(context.Background(), bytes.NewReader(data), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
