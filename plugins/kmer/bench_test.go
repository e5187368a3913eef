package kmer

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

// genomeLines returns the lines of an abacas-examples FASTA, decompressed,
// as the plugin would receive them from its reader.
func genomeLines(b testing.TB, name string) (lines [][]byte, bases int64) {
	b.Helper()
	f, err := os.Open(testenv.File(b, "abacas-examples", "usr/share/doc/abacas-examples/"+name))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(gz)
	if err != nil {
		b.Fatal(err)
	}
	lines = bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	for _, l := range lines {
		if len(l) > 0 && l[0] != '>' {
			bases += int64(len(l))
		}
	}
	return lines, bases
}

// countHisto is the work of GET /plugin/kmer/histo: count, then histo.
func countHisto(b *testing.B, lines [][]byte, cfg Config) *Counter {
	c, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range lines {
		if len(l) > 0 && l[0] == '>' {
			c.EndRecord()
			continue
		}
		if err := c.Add(l); err != nil {
			b.Fatal(err)
		}
	}
	c.EndRecord()
	if err := c.WriteHisto(context.Background(), io.Discard, DefaultHistoOptions()); err != nil {
		b.Fatal(err)
	}
	return c
}

func benchGenome(b *testing.B, name string, k int, presize bool) {
	lines, bases := genomeLines(b, name)
	cfg := Config{K: k, Canonical: true}
	if presize {
		cfg.ExpectedBases = bases
	}
	runtime.GC()
	for b.Loop() {
		countHisto(b, lines, cfg) // not kept: one counter alive at a time
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bases), "ns/base")
	c := countHisto(b, lines, cfg)
	b.ReportMetric(float64(c.PeakBytes())/float64(c.Distinct()), "B/distinct")
	b.ReportMetric(float64(c.PeakBytes())/(1<<20), "peakMiB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heapSysMiB")
}

// BenchmarkHistoGenome is the speed target: the 2 Mbp abacas genome, k=21,
// canonical, count + histo (compare BenchmarkJellyfishHisto).
func BenchmarkHistoGenome(b *testing.B)         { benchGenome(b, "SS_SC84.dna.gz", 21, false) }
func BenchmarkHistoGenomePresized(b *testing.B) { benchGenome(b, "SS_SC84.dna.gz", 21, true) }

// BenchmarkHistoContigs: 5.5 Mbp of contigs, the "5 Mbp genome" memory case.
func BenchmarkHistoContigs(b *testing.B)         { benchGenome(b, "454AllContigs.fna.gz", 21, false) }
func BenchmarkHistoContigsPresized(b *testing.B) { benchGenome(b, "454AllContigs.fna.gz", 21, true) }

func BenchmarkHistoGenomeK31(b *testing.B) { benchGenome(b, "SS_SC84.dna.gz", 31, false) }

func BenchmarkDumpGenome(b *testing.B) {
	lines, bases := genomeLines(b, "SS_SC84.dna.gz")
	for b.Loop() {
		c := countHisto(b, lines, Config{K: 21, Canonical: true})
		if err := c.WriteDump(context.Background(), io.Discard, DumpOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bases), "ns/base")
}

// benchStream is the plugin's shape: the gzip file streamed line by line
// (never held whole) into a counter, then histo. Under Wasm it shows the
// whole process fits in the 128 MiB plugin memory.
func benchStream(b *testing.B, name string) {
	path := testenv.File(b, "abacas-examples", "usr/share/doc/abacas-examples/"+name)
	var c *Counter
	for b.Loop() {
		c = nil // one counter alive at a time
		var err error
		if c, err = New(Config{K: 21, Canonical: true}); err != nil {
			b.Fatal(err)
		}
		feedFile(b, c, path)
		if err := c.WriteHisto(context.Background(), io.Discard, DefaultHistoOptions()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.Bases()), "ns/base")
	b.ReportMetric(float64(c.PeakBytes())/float64(c.Distinct()), "B/distinct")
	b.ReportMetric(float64(c.PeakBytes())/(1<<20), "peakMiB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sysMiB")
}

func BenchmarkStreamGenome(b *testing.B)  { benchStream(b, "SS_SC84.dna.gz") }
func BenchmarkStreamContigs(b *testing.B) { benchStream(b, "454AllContigs.fna.gz") }

// BenchmarkFillToLimit streams random bases (all k-mers distinct) until
// the default budget stops the count; under Wasm, sysMiB shows what the
// whole process needs at the limit.
func BenchmarkFillToLimit(b *testing.B) {
	buf := make([]byte, 64<<10)
	var c *Counter
	for b.Loop() {
		c = nil
		var err error
		if c, err = New(Config{K: 21, Canonical: true}); err != nil {
			b.Fatal(err)
		}
		x := uint64(88172645463325252)
		for err == nil {
			for j := range buf {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				buf[j] = "ACGT"[x&3]
			}
			err = c.Add(buf)
		}
		if !errors.Is(err, ErrTooManyKmers) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Distinct()), "distinct")
	b.ReportMetric(float64(c.PeakBytes())/(1<<20), "peakMiB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sysMiB")
}
