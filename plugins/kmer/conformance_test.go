package kmer

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

// The conformance test runs jellyfish 2.3.0 and this package on the same
// inputs and fails on any differing byte of histo and query output, and on
// any difference between the sets of dump lines (ours is sorted; we sort
// jellyfish's). top has no jellyfish counterpart: it is checked against
// jellyfish's dump, sorted by count descending then k-mer.

type confInput struct {
	name  string
	path  string // a .gz path is decompressed on first use
	ks    []int
	canon []bool
	slow  bool // skipped with -short
}

func TestConformance(t *testing.T) {
	jf := testenv.Tool(t, "jellyfish")
	dir := t.TempDir()

	both := []bool{true, false}
	inputs := []confInput{
		{name: "gen.fa", path: writeGenFASTA(t, dir, "gen.fa", "\n"), ks: []int{1, 2, 5, 11, 21, 31}, canon: both},
		{name: "gen-crlf.fa", path: writeGenFASTA(t, dir, "gen-crlf.fa", "\r\n"), ks: []int{3, 21}, canon: both},
		{name: "gen.fq", path: writeGenFASTQ(t, dir, "gen.fq"), ks: []int{1, 4, 15, 21, 31}, canon: both},
	}
	hts := testenv.DataDir(t, "htslib-test")
	ce := filepath.Join(hts, "usr/share/htslib-test/test/ce.fa")
	abacas := "usr/share/doc/abacas-examples/"
	ss := testenv.File(t, "abacas-examples", abacas+"SS_SC84.dna.gz")
	contigs := testenv.File(t, "abacas-examples", abacas+"454AllContigs.fna.gz")
	reads := testenv.File(t, "gasic-examples", "usr/share/doc/gasic/examples/reads/SRR059298_subset.fastq.gz")
	inputs = append(inputs,
		confInput{name: "ce.fa", path: ce, ks: []int{5}, canon: both},
		confInput{name: "ce.fa", path: ce, ks: []int{21}, canon: []bool{true}},
		confInput{name: "ce.fa", path: ce, ks: []int{31}, canon: []bool{false}},
		// The 2 Mbp genome of the memory and speed targets.
		confInput{name: "SS_SC84.dna", path: ss, ks: []int{1}, canon: both, slow: true},
		confInput{name: "SS_SC84.dna", path: ss, ks: []int{21}, canon: []bool{true}, slow: true},
		confInput{name: "SS_SC84.dna", path: ss, ks: []int{31}, canon: []bool{false}, slow: true},
		// 5.5 Mbp of contigs, mixed case, 152 records.
		confInput{name: "454AllContigs.fna", path: contigs, ks: []int{21}, canon: []bool{true}, slow: true},
		// Real Illumina reads with many N.
		confInput{name: "SRR059298_subset.fastq", path: reads, ks: []int{25}, canon: []bool{true}, slow: true},
	)

	compared := 0
	for i := range inputs {
		in := &inputs[i]
		for _, k := range in.ks {
			for _, canonical := range in.canon {
				name := fmt.Sprintf("%s/k=%d/C=%v", in.name, k, canonical)
				t.Run(name, func(t *testing.T) {
					if in.slow && testing.Short() {
						t.Skip("large input; run without -short")
					}
					if strings.HasSuffix(in.path, ".gz") {
						in.path = gunzip(t, in.path, dir)
					}
					compared += conform(t, jf, dir, *in, k, canonical)
				})
			}
		}
	}
	t.Logf("%d outputs compared byte for byte with jellyfish", compared)
}

// conform compares one (input, k, canonical) case; it returns the number
// of outputs compared.
func conform(t *testing.T, jf, dir string, in confInput, k int, canonical bool) int {
	db := filepath.Join(dir, "db.jf")
	st, err := os.Stat(in.path)
	if err != nil {
		t.Fatal(err)
	}
	// jellyfish takes -s as a hint; a small one keeps its start-up cheap.
	args := []string{"count", "-m", strconv.Itoa(k), "-s", strconv.FormatInt(max(st.Size(), 1<<16), 10), "-t", "1", "-o", db}
	if canonical {
		args = append(args, "-C")
	}
	run(t, jf, append(args, in.path)...)
	defer os.Remove(db)

	c := mustNew(t, Config{K: k, Canonical: canonical, ExpectedBases: st.Size() / 2})
	feedFile(t, c, in.path)
	ctx := context.Background()
	n := 0

	// histo with the defaults, and option sets on the small inputs.
	histos := [][]string{nil}
	if !in.slow {
		histos = append(histos, []string{"-l", "2", "-h", "50", "-i", "3"}, []string{"-l", "1", "-h", "20", "-f"},
			[]string{"-l", "4", "-h", "4"}, []string{"-l", "3", "-h", "100", "-i", "7", "-f"})
	}
	for _, h := range histos {
		want := run(t, jf, append(append([]string{"histo"}, h...), db)...)
		opt := DefaultHistoOptions()
		for i := 0; i < len(h); i++ {
			switch h[i] {
			case "-f":
				opt.Full = true
				continue
			case "-l":
				opt.Low, _ = strconv.ParseUint(h[i+1], 10, 64)
			case "-h":
				opt.High, _ = strconv.ParseUint(h[i+1], 10, 64)
			case "-i":
				opt.Increment, _ = strconv.ParseUint(h[i+1], 10, 64)
			}
			i++
		}
		var got bytes.Buffer
		if err := c.WriteHisto(ctx, &got, opt); err != nil {
			t.Fatal(err)
		}
		testenv.SameBytes(t, fmt.Sprintf("histo %v", h), want, got.Bytes())
		n++
	}

	// query: present k-mers, their reverse complements, lowercase,
	// strings with N, longer strings, random (mostly absent) k-mers.
	jdump := run(t, jf, "dump", "-c", db)
	lines := bytes.Split(bytes.TrimSuffix(jdump, []byte("\n")), []byte("\n"))
	if len(jdump) == 0 {
		lines = nil
	}
	r := rand.New(rand.NewPCG(uint64(k), uint64(len(lines))))
	var queries []string
	for i := 0; i < 40 && len(lines) > 0; i++ {
		m := string(bytes.Fields(lines[r.IntN(len(lines))])[0])
		switch i % 5 {
		case 1:
			key, _ := ParseKmer(m, k)
			m = string(AppendKmer(nil, ReverseComplement(key, k), k))
		case 2:
			m = strings.ToLower(m)
		case 3:
			p := r.IntN(k)
			m = m[:p] + "N" + m[p+1:]
		case 4:
			m += "ACGTN"
		}
		queries = append(queries, m)
	}
	for i := 0; i < 10; i++ {
		queries = append(queries, randSeq(r, k+r.IntN(3), "ACGTacgtN"))
	}
	want := run(t, jf, append([]string{"query", db}, queries...)...)
	var got bytes.Buffer
	if err := c.WriteQuery(ctx, &got, queries); err != nil {
		t.Fatal(err)
	}
	testenv.SameBytes(t, "query", want, got.Bytes())
	n++
	// The query-only counter gives the same answer (small inputs: it
	// reads the input a second time).
	if !in.slow {
		qc := mustNew(t, Config{K: k, Canonical: canonical})
		if err := qc.Restrict(queries); err != nil {
			t.Fatal(err)
		}
		feedFile(t, qc, in.path)
		got.Reset()
		if err := qc.WriteQuery(ctx, &got, queries); err != nil {
			t.Fatal(err)
		}
		testenv.SameBytes(t, "query (query-only counter)", want, got.Bytes())
		n++
	}

	// top 25, derived from jellyfish's dump.
	jd := parseDump(t, lines, k)
	slices.SortFunc(jd, func(a, b kc) int {
		if a.count != b.count {
			if a.count > b.count {
				return -1
			}
			return 1
		}
		if a.key < b.key {
			return -1
		}
		return 1
	})
	var wantTop bytes.Buffer
	for _, e := range jd[:min(25, len(jd))] {
		fmt.Fprintf(&wantTop, "%s\t%d\n", AppendKmer(nil, e.key, k), e.count)
	}
	got.Reset()
	if err := c.WriteTop(ctx, &got, 25); err != nil {
		t.Fatal(err)
	}
	testenv.SameBytes(t, "top 25 (from jellyfish dump)", wantTop.Bytes(), got.Bytes())
	n++
	slices.SortFunc(jd, func(a, b kc) int {
		if a.key < b.key {
			return -1
		}
		return 1
	})
	var sortedDump []byte
	for _, e := range jd {
		sortedDump = AppendKmer(sortedDump, e.key, k)
		sortedDump = append(sortedDump, ' ')
		sortedDump = strconv.AppendUint(sortedDump, e.count, 10)
		sortedDump = append(sortedDump, '\n')
	}

	// dump: same set of lines; ours in k-mer order. Sorting jellyfish's
	// lines as text gives k-mer order because A<C<G<T in ASCII.
	dumps := []struct {
		args []string
		opt  DumpOptions
	}{{[]string{"-c"}, DumpOptions{}}}
	if !in.slow {
		dumps = append(dumps,
			struct {
				args []string
				opt  DumpOptions
			}{[]string{"-c", "-t", "-L", "2", "-U", "9"}, DumpOptions{Lower: 2, Upper: 9, Format: DumpTab}},
			struct {
				args []string
				opt  DumpOptions
			}{[]string{"-L", "3"}, DumpOptions{Lower: 3, Format: DumpFASTA}})
	}
	for _, d := range dumps {
		want := sortedDump
		if len(d.args) > 1 {
			want = sortedRecords(run(t, jf, append(append([]string{"dump"}, d.args...), db)...), 1)
		}
		got.Reset()
		if err := c.WriteDump(ctx, &got, d.opt); err != nil {
			t.Fatal(err)
		}
		if d.opt.Format == DumpFASTA {
			want = sortedRecords(run(t, jf, append(append([]string{"dump"}, d.args...), db)...), 2)
			testenv.SameBytes(t, fmt.Sprintf("dump %v", d.args), want, sortedRecords(got.Bytes(), 2))
		} else {
			testenv.SameBytes(t, fmt.Sprintf("dump %v", d.args), want, got.Bytes())
		}
		n++
	}
	t.Logf("%d distinct, %d total, %.1f table bytes per distinct k-mer", c.Distinct(), c.Total(),
		float64(c.PeakBytes())/float64(max(c.Distinct(), 1)))
	return n
}

type kc struct{ key, count uint64 }

// parseDump reads `jellyfish dump -c` lines, checking that each one
// round-trips through our formatting (so sorting the parsed form is as
// strict as sorting the text).
func parseDump(t *testing.T, lines [][]byte, k int) []kc {
	t.Helper()
	out := make([]kc, len(lines))
	var buf []byte
	for i, l := range lines {
		sp := bytes.IndexByte(l, ' ')
		if sp != k {
			t.Fatalf("jellyfish dump line %d: %q", i+1, l)
		}
		key, err := ParseKmer(string(l[:sp]), k)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseUint(string(l[sp+1:]), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		buf = AppendKmer(buf[:0], key, k)
		buf = append(buf, ' ')
		buf = strconv.AppendUint(buf, n, 10)
		if !bytes.Equal(buf, l) {
			t.Fatalf("jellyfish dump line %d %q does not round-trip (%q)", i+1, l, buf)
		}
		out[i] = kc{key, n}
	}
	return out
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// sortedRecords sorts text made of records of n lines each.
func sortedRecords(b []byte, n int) []byte {
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var recs []string
	for i := 0; i+n <= len(lines); i += n {
		// The k-mer line first so that the sort is by k-mer.
		rec := slices.Clone(lines[i : i+n])
		slices.Reverse(rec)
		recs = append(recs, strings.Join(rec, ""))
	}
	slices.Sort(recs)
	var out strings.Builder
	for _, r := range recs {
		out.WriteString(r)
	}
	return []byte(out.String())
}

func gunzip(t *testing.T, path, dir string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), ".gz"))
	o, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(o, gz); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeGenFASTA writes multi-record FASTA with repeats (so counts vary and
// a poly-A run lands in histo's catch-all bucket), lowercase, N runs,
// IUPAC codes and '-', short and empty records, wrapped lines of varying
// width and blank lines.
func writeGenFASTA(t *testing.T, dir, name, eol string) string {
	r := rand.New(rand.NewPCG(11, 12))
	motifs := []string{randSeq(r, 40, "ACGT"), randSeq(r, 300, "ACGT"), randSeq(r, 25, "acgt"), "ACGTACGTACGT"}
	var b strings.Builder
	for i := 0; i < 40; i++ {
		var s strings.Builder
		switch i {
		case 0:
			s.WriteString(strings.Repeat("A", 12000))
		case 1: // empty record
		case 2:
			s.WriteString("ACG")
		case 3:
			s.WriteString(strings.Repeat("N", 50))
		}
		for s.Len() < 200+i*50 && i > 3 {
			switch r.IntN(6) {
			case 0:
				s.WriteString(motifs[r.IntN(len(motifs))])
			case 1:
				s.WriteString(randSeq(r, r.IntN(80), "ACGTacgt"))
			case 2:
				s.WriteString(strings.Repeat("N", 1+r.IntN(30)))
			case 3:
				s.WriteString(randSeq(r, r.IntN(40), "ACGTRYKMSWBDHVN-"))
			default:
				s.WriteString(randSeq(r, r.IntN(200), "ACGT"))
			}
		}
		fmt.Fprintf(&b, ">rec%d some description%s", i, eol)
		width := 50 + r.IntN(30)
		seq := s.String()
		for len(seq) > 0 {
			n := min(width, len(seq))
			b.WriteString(seq[:n] + eol)
			seq = seq[n:]
		}
		if i%7 == 0 {
			b.WriteString(eol)
		}
	}
	return writeFile(t, dir, name, b.String())
}

// writeGenFASTQ writes reads sampled from both strands of a random 20 kb
// genome, some lowercase, some with N, of varying length.
func writeGenFASTQ(t *testing.T, dir, name string) string {
	r := rand.New(rand.NewPCG(13, 14))
	genome := randSeq(r, 20000, "ACGT")
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		n := 30 + r.IntN(120)
		p := r.IntN(len(genome) - n)
		read := []byte(genome[p : p+n])
		if r.IntN(2) == 0 {
			read = []byte(refRC(string(read)))
		}
		if r.IntN(5) == 0 {
			read[r.IntN(n)] = 'N'
		}
		if r.IntN(7) == 0 {
			read = bytes.ToLower(read)
		}
		fmt.Fprintf(&b, "@read%d/1\n%s\n+\n%s\n", i, read, strings.Repeat("I", n))
	}
	return writeFile(t, dir, name, b.String())
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
