package wgsim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgenome/edgenome/internal/testenv"
	"github.com/edgenome/edgenome/plugins/internal/fai"
)

// abacasRef loads the 2 Mbp abacas genome into memory (bytes.Reader), so
// benchmarks measure the simulator, not the disk.
func abacasRef(b *testing.B) Reference {
	b.Helper()
	gz := testenv.File(b, "abacas-examples", "usr/share/doc/abacas-examples/SS_SC84.dna.gz")
	data, err := exec.Command("gzip", "-dc", gz).Output()
	if err != nil {
		b.Fatal(err)
	}
	samtools := testenv.Tool(b, "samtools")
	dir := b.TempDir()
	fa := filepath.Join(dir, "abacas.fa")
	if err := writeFile(fa, data); err != nil {
		b.Fatal(err)
	}
	faidx(b, samtools, fa)
	idx, err := readFile(fa + ".fai")
	if err != nil {
		b.Fatal(err)
	}
	ix, err := fai.Parse(bytes.NewReader(idx))
	if err != nil {
		b.Fatal(err)
	}
	return Reference{FASTA: bytes.NewReader(data), Index: ix}
}

// BenchmarkAbacas is the `make bench` workload scaled down: 2x100 bp pairs
// from the 2 Mbp abacas genome, interleaved output discarded.
func BenchmarkAbacas(b *testing.B) {
	ref := abacasRef(b)
	for _, bc := range []struct {
		name   string
		limits Limits
	}{{"resident", Limits{}}, {"blockcache", Limits{ResidentBases: 1 << 10}}} {
		b.Run(bc.name, func(b *testing.B) {
			o := DefaultOptions()
			o.Pairs, o.Len1, o.Len2, o.Seed = 200_000, 100, 100, 7
			cfg := Config{Options: o, Limits: bc.limits}
			var pairs int64
			for b.Loop() {
				st, err := Simulate(context.Background(), io.Discard, ref, nil, cfg)
				if err != nil {
					b.Fatal(err)
				}
				pairs += st.Pairs
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pairs), "ns/pair")
		})
	}
}

var errStop = errors.New("stop")

type firstWrite struct {
	start time.Time
	ttfb  time.Duration
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.ttfb = time.Since(f.start)
	return 0, errStop
}

// BenchmarkTimeToFirstByte: n = 1,000,000 on a 1 Mbp region; the run stops
// at the first write, so the time is the mutation pass plus the first
// ~64 KiB of records.
func BenchmarkTimeToFirstByte(b *testing.B) {
	ref := abacasRef(b)
	o := DefaultOptions()
	o.Pairs, o.Seed = 1_000_000, 3
	cfg := Config{Options: o}
	ivs := []Interval{{Seq: "all_bases", Beg: 500_000, End: 1_500_000}}
	var total time.Duration
	n := 0
	for b.Loop() {
		w := &firstWrite{start: time.Now()}
		if _, err := Simulate(context.Background(), w, ref, ivs, cfg); !errors.Is(err, errStop) {
			b.Fatal(err)
		}
		total += w.ttfb
		n++
	}
	b.ReportMetric(float64(total.Microseconds())/float64(n)/1000, "ms-to-first-byte")
}

func writeFile(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
func readFile(p string) ([]byte, error)  { return os.ReadFile(p) }
