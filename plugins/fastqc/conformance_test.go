package fastqc

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

// conformanceInput is one file compared against native seqtk fqchk.
type conformanceInput struct {
	name string
	path string
}

func conformanceInputs(t *testing.T) []conformanceInput {
	var in []conformanceInput
	add := func(name, path string) { in = append(in, conformanceInput{name, path}) }

	add("gasic", testenv.File(t, "gasic-examples", gasicReads))
	hts := testenv.DataDir(t, "htslib-test")
	files, _ := filepath.Glob(filepath.Join(hts, "usr/share/htslib-test/test/fastq/*.fq"))
	if len(files) < 8 {
		t.Fatalf("htslib-test: found %d FASTQ files under test/fastq, want >= 8", len(files))
	}
	for _, f := range files {
		add("htslib/"+filepath.Base(f), f)
	}
	add("htslib/fastqs.fq", testenv.File(t, "htslib-test", "usr/share/htslib-test/test/fastqs.fq"))
	pysam := "usr/share/doc/python-pysam/tests/pysam_data/"
	add("pysam/faidx_ex1.fq.gz", testenv.File(t, "python-pysam-tests", pysam+"faidx_ex1.fq.gz"))
	add("pysam/faidx_empty_seq.fq", testenv.File(t, "python-pysam-tests", pysam+"faidx_empty_seq.fq"))

	dir := t.TempDir()
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		add("gen/"+name, p)
	}
	illumina := genSpec{reads: 3000, minLen: 100, maxLen: 100, alphabet: "ACGTACGTACGTACGTN", qmin: '#', qmax: 'J'}
	write("illumina.fq", generate(1, illumina))
	varying := genSpec{reads: 2000, minLen: 0, maxLen: 300, alphabet: "ACGTNacgtnRYKMSWU.-*", qmin: '!', qmax: '~', blank: true}
	write("varying-all-quals.fq", generate(2, varying))
	write("varying.fq.gz", gzipBytes(t, generate(3, varying), 1))
	multi := genSpec{reads: 500, minLen: 1, maxLen: 250, alphabet: "ACGTN", qmin: '!', qmax: 'I', wrap: 60, crlf: true}
	write("multiline-crlf.fq", generate(4, multi))
	write("multimember.fq.gz", gzipBytes(t, generate(5, illumina), 7))
	write("low-quals.fq", generate(6, genSpec{reads: 800, minLen: 20, maxLen: 40, alphabet: "NNNNACGT", qmin: '!', qmax: '%'}))
	write("one-read.fq", []byte("@only\nN\n+\n!\n"))
	write("only-empty-reads.fq", []byte("@a\n\n+\n\n@b\n\n+\n"))
	return in
}

// TestConformanceFqchk runs native `seqtk fqchk` and format=fqchk on the same
// files and thresholds, directly and through chunked results and Merge. Any
// differing byte fails.
func TestConformanceFqchk(t *testing.T) {
	seqtk := testenv.Tool(t, "seqtk")
	thresholds := []string{"", "0", "1", "10", "20", "30", "40", "93", "-3"}
	compared := 0
	for _, in := range conformanceInputs(t) {
		merged := mergedThirds(t, in.path)
		for _, q := range thresholds {
			args := []string{"fqchk"}
			p := Params{Format: "fqchk"}
			if q != "" {
				args = append(args, "-q", q)
				v, _ := strconv.Atoi(q)
				p.QualityThreshold = &v
			}
			name := in.name + "/q=" + q
			if q == "" {
				name = in.name + "/default"
			}
			t.Run(name, func(t *testing.T) {
				want, err := exec.Command(seqtk, append(args, in.path)...).Output()
				if err != nil {
					t.Fatalf("seqtk %v: %v", args, err)
				}
				f, err := os.Open(in.path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				var got bytes.Buffer
				if err := Run(context.Background(), f, &got, p); err != nil {
					t.Fatalf("Run: %v", err)
				}
				if d := testenv.FirstDiff(want, got.Bytes()); d != "" {
					t.Fatalf("differs from seqtk %s:\n%s", strings.Join(args, " "), d)
				}
				compared++
				// The same text from three chunks' JSON results, merged.
				got.Reset()
				if err := WriteFqchk(&got, &merged, p.threshold()); err != nil {
					t.Fatal(err)
				}
				if d := testenv.FirstDiff(want, got.Bytes()); d != "" {
					t.Fatalf("merged chunks differ from seqtk %s:\n%s", strings.Join(args, " "), d)
				}
				compared++
			})
		}
	}
	t.Logf("%d outputs (file x threshold x {direct, merged}) byte-identical to seqtk fqchk", compared)
}

// mergedThirds splits a FASTQ file into three chunks at record boundaries,
// computes each chunk's JSON result, and merges the decoded results.
func mergedThirds(t *testing.T, path string) Result {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compute(context.Background(), bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if res.Reads < 3 {
		return decode(t, encode(t, res))
	}
	recs := records(t, gunzipIf(t, data))
	var parts []Result
	for _, c := range split(recs, []int{len(recs) / 3, 2 * len(recs) / 3}) {
		parts = append(parts, decode(t, runJSON(t, c)))
	}
	m, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
