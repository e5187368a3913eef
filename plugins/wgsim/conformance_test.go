package wgsim

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
	"github.com/edgenome/edgenome/plugins/internal/fai"
)

// The conformance tests run native wgsim 1.16.1 and this package on the same
// references, regions, options and seeds and fail on any differing byte of
// read 1, read 2 or the mutation list.

type genSeq struct {
	name string
	body string
}

// genReference builds sequences that exercise wgsim's corner cases: mixed
// case, N runs, IUPAC codes, '-' and '*', records it skips, and one that is
// all N.
func genReference(seed uint64) []genSeq {
	r := rand.New(rand.NewPCG(seed, 99))
	rnd := func(n int, alpha string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	// sprinkle puts a rare IUPAC code, '-' or '*' (each read of N-tolerant
	// sets passes -A), as wgsim hangs when almost every read is rejected.
	sprinkle := func(s string) string {
		b := []byte(s)
		for i := range b {
			if r.IntN(100) == 0 {
				b[i] = "RYKMNn-*"[r.IntN(8)]
			}
		}
		return string(b)
	}
	withRuns := func(s string, runs ...[2]int) string {
		b := []byte(s)
		for _, run := range runs {
			for i := run[0]; i < run[0]+run[1] && i < len(b); i++ {
				b[i] = 'N'
			}
		}
		return string(b)
	}
	return []genSeq{
		{"seqA desc text", rnd(6553, "ACGTACGTACGTacgt")},
		{"seqB", withRuns(sprinkle(rnd(4000, "ACGTacgt")), [2]int{100, 50}, [2]int{2000, 300}, [2]int{3950, 50})},
		{"seqC\tshort", rnd(500, "ACGT")},
		{"seqD", withRuns(rnd(20000, "acgt"), [2]int{5000, 1000}, [2]int{12000, 30})},
		{"seqE", strings.Repeat("N", 700)},
		{"seqF", rnd(255, "ACGT")},
		{"seqG", sprinkle(rnd(900, "ACGTacgt"))},
	}
}

func writeFASTA(t testing.TB, path string, seqs []genSeq, width int, eol string) {
	t.Helper()
	var b bytes.Buffer
	for _, s := range seqs {
		b.WriteString(">" + s.name + eol)
		for i := 0; i < len(s.body); i += width {
			b.WriteString(s.body[i:min(i+width, len(s.body))] + eol)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func faidx(t testing.TB, samtools, fa string) {
	t.Helper()
	if out, err := exec.Command(samtools, "faidx", fa).CombinedOutput(); err != nil {
		t.Fatalf("samtools faidx %s: %v\n%s", fa, err, out)
	}
}

func openRef(t testing.TB, fa string) Reference {
	t.Helper()
	f, err := os.Open(fa)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := os.Open(fa + ".fai")
	if err != nil {
		t.Fatal(err)
	}
	defer fi.Close()
	ix, err := fai.Parse(fi)
	if err != nil {
		t.Fatal(err)
	}
	return Reference{FASTA: f, Index: ix}
}

// nativeArgs renders o as wgsim's command line.
func nativeArgs(o Options) []string {
	a := []string{
		"-e", strconv.FormatFloat(o.ErrorRate, 'g', -1, 64),
		"-d", strconv.Itoa(o.Distance), "-s", strconv.Itoa(o.StdDev),
		"-N", strconv.FormatInt(o.Pairs, 10),
		"-1", strconv.Itoa(o.Len1), "-2", strconv.Itoa(o.Len2),
		"-r", strconv.FormatFloat(o.MutRate, 'g', -1, 64),
		"-R", strconv.FormatFloat(o.IndelFrac, 'g', -1, 64),
		"-X", strconv.FormatFloat(o.IndelExtend, 'g', -1, 64),
		"-A", strconv.FormatFloat(o.AmbiguousMax, 'g', -1, 64),
		"-S", strconv.FormatInt(o.Seed, 10),
	}
	if o.Haplotype {
		a = append(a, "-h")
	}
	return a
}

type nativeOut struct{ r1, r2, muts []byte }

func runNative(t testing.TB, wgsim, fa string, o Options) nativeOut {
	t.Helper()
	dir := t.TempDir()
	o1, o2 := filepath.Join(dir, "r1.fq"), filepath.Join(dir, "r2.fq")
	cmd := exec.Command(wgsim, append(nativeArgs(o), fa, o1, o2)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("wgsim: %v\n%s", err, stderr.Bytes())
	}
	r1, err := os.ReadFile(o1)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := os.ReadFile(o2)
	if err != nil {
		t.Fatal(err)
	}
	return nativeOut{r1, r2, stdout.Bytes()}
}

func runOurs(t testing.TB, ref Reference, ivs []Interval, cfg Config) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := Simulate(context.Background(), &b, ref, ivs, cfg); err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	return b.Bytes()
}

func runOursMuts(t testing.TB, ref Reference, ivs []Interval, cfg Config) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := Mutations(context.Background(), &b, ref, ivs, cfg); err != nil {
		t.Fatalf("Mutations: %v", err)
	}
	return b.Bytes()
}

// checkInterleaved verifies that each pair of interleaved records is the
// i-th record of read 1 and of read 2, read 0 (the forward one) first.
func checkInterleaved(t testing.TB, inter, r1, r2 []byte) {
	t.Helper()
	rec := func(b []byte) []string {
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		var out []string
		for i := 0; i+3 < len(lines); i += 4 {
			out = append(out, strings.Join(lines[i:i+4], "\n"))
		}
		return out
	}
	in, a, b := rec(inter), rec(r1), rec(r2)
	if len(in) != len(a)+len(b) || len(a) != len(b) {
		t.Fatalf("interleaved has %d records, read1 %d, read2 %d", len(in), len(a), len(b))
	}
	for i := range a {
		x, y := in[2*i], in[2*i+1]
		if !(x == a[i] && y == b[i] || x == b[i] && y == a[i]) {
			t.Fatalf("interleaved pair %d is not read1/read2 record %d:\n%s\n%s", i, i, x, y)
		}
	}
}

type confRef struct {
	name string
	fa   string
}

func conformanceRefs(t *testing.T, samtools string) []confRef {
	dir := t.TempDir()
	gen := genReference(1)
	var refs []confRef
	lf := filepath.Join(dir, "gen.fa")
	writeFASTA(t, lf, gen, 60, "\n")
	crlf := filepath.Join(dir, "gen_crlf.fa")
	writeFASTA(t, crlf, genReference(2), 70, "\r\n")
	refs = append(refs, confRef{"gen", lf}, confRef{"gen_crlf", crlf})
	ce := filepath.Join(dir, "ce.fa")
	data, err := os.ReadFile(testenv.File(t, "htslib-test", "usr/share/htslib-test/test/ce.fa"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ce, data, 0o644); err != nil {
		t.Fatal(err)
	}
	refs = append(refs, confRef{"ce", ce})
	ab := filepath.Join(dir, "abacas.fa")
	gz := testenv.File(t, "abacas-examples", "usr/share/doc/abacas-examples/SS_SC84.dna.gz")
	out, err := exec.Command("gzip", "-dc", gz).Output()
	if err != nil {
		t.Fatalf("gunzip abacas: %v", err)
	}
	if err := os.WriteFile(ab, out, 0o644); err != nil {
		t.Fatal(err)
	}
	refs = append(refs, confRef{"abacas", ab})
	for _, r := range refs {
		faidx(t, samtools, r.fa)
	}
	return refs
}

func paramSets() map[string]Options {
	base := DefaultOptions()
	sets := map[string]Options{}
	add := func(name string, f func(o *Options)) {
		o := base
		f(&o)
		sets[name] = o
	}
	add("default", func(o *Options) { o.Pairs = 1500; o.Seed = 11 })
	add("haplotype", func(o *Options) { o.Pairs = 800; o.Haplotype = true; o.MutRate = 0.02; o.Seed = 12 })
	add("high_mut_indel", func(o *Options) {
		o.Pairs = 800
		o.MutRate, o.IndelFrac, o.IndelExtend = 0.1, 0.6, 0.7
		o.Seed = 13
	})
	add("err0_all_indel", func(o *Options) {
		o.Pairs = 600
		o.ErrorRate, o.MutRate, o.IndelFrac, o.IndelExtend = 0, 0.05, 1, 0.9
		o.Len1, o.Len2 = 100, 35
		o.Seed = 14
	})
	add("long_reads", func(o *Options) {
		o.Pairs = 400
		o.Distance, o.StdDev, o.Len1, o.Len2 = 200, 20, 250, 240
		o.Seed = 15
	})
	add("ambiguous", func(o *Options) {
		o.Pairs = 700
		o.AmbiguousMax, o.ErrorRate, o.MutRate = 0.3, 0.05, 0.01
		o.Seed = 16
	})
	add("narrow", func(o *Options) {
		o.Pairs = 700
		o.Distance, o.StdDev, o.Len1, o.Len2 = 300, 0, 50, 50
		o.MutRate, o.IndelFrac, o.IndelExtend = 0.03, 0.9, 0.95
		o.Seed = 17
	})
	return sets
}

// TestConformanceWhole compares whole-reference runs.
func TestConformanceWhole(t *testing.T) {
	wg := testenv.Tool(t, "wgsim")
	samtools := testenv.Tool(t, "samtools")
	refs := conformanceRefs(t, samtools)
	compared := 0
	for _, ref := range refs {
		for pname, o := range paramSets() {
			if ref.name == "abacas" && pname != "default" && pname != "high_mut_indel" {
				continue // 2 Mbp: two sets are enough to keep the test quick
			}
			t.Run(ref.name+"/"+pname, func(t *testing.T) {
				native := runNative(t, wg, ref.fa, o)
				rf := openRef(t, ref.fa)
				cfg := Config{Options: o, Output: Read1}
				r1 := runOurs(t, rf, nil, cfg)
				testenv.SameBytes(t, "read1", native.r1, r1)
				cfg.Output = Read2
				r2 := runOurs(t, rf, nil, cfg)
				testenv.SameBytes(t, "read2", native.r2, r2)
				testenv.SameBytes(t, "mutations", native.muts, runOursMuts(t, rf, nil, cfg))
				cfg.Output = Interleaved
				checkInterleaved(t, runOurs(t, rf, nil, cfg), r1, r2)
				// Block-cache path: force the sequence out of residence.
				cfg.Output = Read1
				cfg.Limits = Limits{ResidentBases: 100, CacheBytes: 16 << 10}
				testenv.SameBytes(t, "read1 (block cache)", native.r1, runOurs(t, rf, nil, cfg))
				compared += 4
			})
		}
	}
	t.Logf("%d outputs compared byte for byte", compared)
}

type confRegion struct {
	ref     string
	regions []string // as given to samtools faidx
	ivs     []Interval
}

func iv(seq string, beg, end int64, name string) Interval {
	return Interval{Seq: seq, Beg: beg, End: end, Name: name}
}

// TestConformanceRegions compares region runs with wgsim on the FASTA that
// samtools faidx extracts, and checks that absolute coordinates change only
// the names.
func TestConformanceRegions(t *testing.T) {
	wg := testenv.Tool(t, "wgsim")
	samtools := testenv.Tool(t, "samtools")
	refs := map[string]string{}
	for _, r := range conformanceRefs(t, samtools) {
		refs[r.name] = r.fa
	}
	regions := []confRegion{
		{"ce", []string{"CHROMOSOME_I:100001-200000"}, []Interval{iv("CHROMOSOME_I", 100000, 200000, "")}},
		{"ce", []string{"CHROMOSOME_I:1,000-2,999", "CHROMOSOME_II"},
			[]Interval{iv("CHROMOSOME_I", 999, 2999, "CHROMOSOME_I:1,000-2,999"), iv("CHROMOSOME_II", 0, 5000, "")}},
		{"gen", []string{"seqB:1-4000"}, []Interval{iv("seqB", 0, 4000, "seqB:1-4000")}},
		{"gen", []string{"seqD:4001-15000", "seqA:2-6553"}, []Interval{iv("seqD", 4000, 15000, ""), iv("seqA", 1, 6553, "")}},
		{"gen_crlf", []string{"seqD:4500-7000"}, []Interval{iv("seqD", 4499, 7000, "")}},
		{"abacas", []string{"all_bases:1000001-1500000"}, []Interval{iv("all_bases", 1000000, 1500000, "")}},
	}
	dir := t.TempDir()
	compared := 0
	for ri, reg := range regions {
		extract := filepath.Join(dir, fmt.Sprintf("r%d.fa", ri))
		out, err := exec.Command(samtools, append([]string{"faidx", refs[reg.ref]}, reg.regions...)...).Output()
		if err != nil {
			t.Fatalf("samtools faidx: %v", err)
		}
		if err := os.WriteFile(extract, out, 0o644); err != nil {
			t.Fatal(err)
		}
		for pname, o := range paramSets() {
			if pname == "long_reads" || pname == "ambiguous" && reg.ref == "abacas" {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s/%s", reg.ref, strings.Join(reg.regions, "+"), pname), func(t *testing.T) {
				native := runNative(t, wg, extract, o)
				rf := openRef(t, refs[reg.ref])
				cfg := Config{Options: o, Output: Read1}
				r1 := runOurs(t, rf, reg.ivs, cfg)
				testenv.SameBytes(t, "read1", native.r1, r1)
				cfg.Output = Read2
				testenv.SameBytes(t, "read2", native.r2, runOurs(t, rf, reg.ivs, cfg))
				testenv.SameBytes(t, "mutations", native.muts, runOursMuts(t, rf, reg.ivs, cfg))
				cfg.Output = Read1
				cfg.Coords = CoordsAbsolute
				testenv.SameBytes(t, "read1 absolute", toAbsolute(t, native.r1, reg.ivs, rf.Index), runOurs(t, rf, reg.ivs, cfg))
				compared += 4
			})
		}
	}
	t.Logf("%d outputs compared byte for byte", compared)
}

// toAbsolute rewrites region-labelled read names the documented way:
// @REGION_A_B_rest -> @SEQ_(A+beg)_(B+beg)_rest.
func toAbsolute(t testing.TB, fq []byte, ivs []Interval, ix *fai.Index) []byte {
	t.Helper()
	lines := strings.SplitAfter(string(fq), "\n")
	for i := 0; i < len(lines); i += 4 {
		h := lines[i]
		for _, v := range ivs {
			e, _ := ix.Lookup(v.Seq)
			prefix := "@" + v.name(e.Length) + "_"
			if !strings.HasPrefix(h, prefix) {
				continue
			}
			f := strings.SplitN(h[len(prefix):], "_", 3)
			a, _ := strconv.ParseInt(f[0], 10, 64)
			b, _ := strconv.ParseInt(f[1], 10, 64)
			lines[i] = fmt.Sprintf("@%s_%d_%d_%s", v.Seq, a+v.Beg, b+v.Beg, f[2])
			break
		}
	}
	return []byte(strings.Join(lines, ""))
}

// TestLongSequenceBoundedMemory simulates a generated 20 Mbp sequence through
// the block cache, checks the heap stays small, and compares with native.
func TestLongSequenceBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 20 Mbp reference")
	}
	wg := testenv.Tool(t, "wgsim")
	samtools := testenv.Tool(t, "samtools")
	dir := t.TempDir()
	fa := filepath.Join(dir, "long.fa")
	const n = 20_000_000
	r := rand.New(rand.NewPCG(5, 5))
	b := make([]byte, n)
	for i := range b {
		b[i] = "ACGTacgt"[r.IntN(8)]
	}
	for i := 1_000_000; i < 1_200_000; i++ {
		b[i] = 'N'
	}
	writeFASTA(t, fa, []genSeq{{"chrL", string(b)}}, 60, "\n")
	b = nil
	faidx(t, samtools, fa)
	o := DefaultOptions()
	o.Pairs, o.Seed, o.Len1, o.Len2 = 20000, 21, 100, 100
	native := runNative(t, wg, fa, o)
	rf := openRef(t, fa)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	w := &peakWriter{want: native.r1}
	cfg := Config{Options: o, Output: Read1, Limits: Limits{ResidentBases: 1 << 20, CacheBytes: 4 << 20}}
	if _, err := Simulate(context.Background(), w, rf, nil, cfg); err != nil {
		t.Fatal(err)
	}
	if w.diffAt >= 0 || w.off != len(native.r1) {
		t.Fatalf("read1 differs from native wgsim at byte %d (wrote %d of %d)", w.diffAt, w.off, len(native.r1))
	}
	// 20 Mbp held whole would be 20 MB; wgsim itself holds ~100 MB.
	// Budget: 4 MiB cache, 2 MiB of chunk buffers, mutation list, output.
	grew := int64(w.peak) - int64(base)
	t.Logf("peak heap above baseline: %d KiB", grew>>10)
	if grew > 16<<20 {
		t.Fatalf("heap grew by %d MiB during the run", grew>>20)
	}
}

// peakWriter records the peak heap seen at each write and compares the
// output with want as it streams, so the test itself holds no output.
type peakWriter struct {
	want   []byte
	off    int
	diffAt int
	peak   uint64
	n      int
}

func (p *peakWriter) Write(b []byte) (int, error) {
	if p.n == 0 {
		p.diffAt = -1
	}
	p.n++
	if p.n%8 == 1 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		p.peak = max(p.peak, ms.HeapAlloc)
	}
	if p.diffAt < 0 {
		for i, c := range b {
			if p.off+i >= len(p.want) || p.want[p.off+i] != c {
				p.diffAt = p.off + i
				break
			}
		}
	}
	p.off += len(b)
	return len(b), nil
}
