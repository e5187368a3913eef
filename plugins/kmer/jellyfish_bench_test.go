//go:build linux

package kmer

import (
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/edgenome/edgenome/internal/testenv"
)

// BenchmarkJellyfishHisto runs the native reference of the speed target in
// the same process run: `jellyfish count -t 1 -m 21 -C` + `jellyfish histo`
// on the 2 Mbp abacas genome, reporting their summed wall time per base and
// the larger of their peak RSS.
func BenchmarkJellyfishHisto(b *testing.B) {
	jf := testenv.Tool(b, "jellyfish")
	src := testenv.File(b, "abacas-examples", "usr/share/doc/abacas-examples/SS_SC84.dna.gz")
	dir := b.TempDir()
	fa := filepath.Join(dir, "SS_SC84.dna")
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	gz, err := gzip.NewReader(in)
	if err != nil {
		b.Fatal(err)
	}
	out, err := os.Create(fa)
	if err != nil {
		b.Fatal(err)
	}
	bases, err := io.Copy(out, gz)
	if err != nil {
		b.Fatal(err)
	}
	out.Close()
	in.Close()
	db := filepath.Join(dir, "db.jf")

	var elapsed time.Duration
	var rss int64
	for b.Loop() {
		for _, args := range [][]string{
			{"count", "-t", "1", "-m", "21", "-C", "-s", "2M", "-o", db, fa},
			{"histo", db},
		} {
			cmd := exec.Command(jf, args...)
			start := time.Now()
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				rss = max(rss, ru.Maxrss)
			}
		}
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/float64(bases), "ns/base")
	b.ReportMetric(float64(rss)/1024, "peakRSSMiB")
}
