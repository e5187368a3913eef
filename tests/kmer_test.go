package tests

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

const kmerPlugin = "plugins/kmer"

// jellyfishHisto runs native jellyfish count + histo on a plain FASTA/FASTQ.
func jellyfishHisto(t *testing.T, input string, k int, canonical bool) string {
	t.Helper()
	jf := testenv.Tool(t, "jellyfish")
	db := filepath.Join(t.TempDir(), "db.jf")
	args := []string{"count", "-m", fmt.Sprint(k), "-s", "10M", "-t", "1", "-o", db}
	if canonical {
		args = append(args, "-C")
	}
	if out, err := exec.Command(jf, append(args, input)...).CombinedOutput(); err != nil {
		t.Fatalf("jellyfish count: %v %s", err, out)
	}
	out, err := exec.Command(jf, "histo", db).Output()
	if err != nil {
		t.Fatalf("jellyfish histo: %v", err)
	}
	return string(out)
}

// TestConformanceKmerHTTP compares the plugin, called over HTTP with each
// kind of source, with native jellyfish on the same sequences.
func TestConformanceKmerHTTP(t *testing.T) {
	gz := testenv.File(t, "abacas-examples", "usr/share/doc/abacas-examples/SS_SC84.dna.gz")
	dir := t.TempDir()
	plain := filepath.Join(dir, "genome.fa")
	data := testenv.Gunzip(t, gz, plain)
	gzData, _ := os.ReadFile(gz)

	mux := http.NewServeMux()
	mux.HandleFunc("/genome.fa.gz", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "g", fixedTime, bytes.NewReader(gzData))
	})
	o := newOriginHandler(t, mux)
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.URL, "http://")), kmerPlugin)

	for _, k := range []int{21, 5} {
		want := jellyfishHisto(t, plain, k, true)
		st, got, _ := h.get(fmt.Sprintf("/plugin/kmer/histo?k=%d&fasta=%s/genome.fa.gz", k, o.URL))
		if st != 200 || got != want {
			t.Errorf("k=%d fasta URL (gzip): status %d, differs from jellyfish:\n%s", k, st, testenv.FirstDiff(want, got))
		}
	}
	// The request body, plain, streamed.
	want := jellyfishHisto(t, plain, 31, false)
	st, got, _ := h.post("/plugin/kmer/histo?k=31&canonical=false", "text/plain", bytes.NewReader(data))
	if st != 200 || got != want {
		t.Errorf("k=31 body: status %d, differs:\n%s", st, testenv.FirstDiff(want, got))
	}

	// 5.5 Mbp of contigs, gzip POST body, in the default 128 MiB limit.
	contigsGz := testenv.File(t, "abacas-examples", "usr/share/doc/abacas-examples/454AllContigs.fna.gz")
	contigs := filepath.Join(dir, "contigs.fa")
	testenv.Gunzip(t, contigsGz, contigs)
	cgz, _ := os.ReadFile(contigsGz)
	want = jellyfishHisto(t, contigs, 21, true)
	st, got, _ = h.post("/plugin/kmer/histo?k=21", "application/gzip", bytes.NewReader(cgz))
	if st != 200 || got != want {
		t.Errorf("5.5 Mbp contigs (gzip body): status %d, differs:\n%s", st, testenv.FirstDiff(want, got))
	}
	_, metrics, _ := h.get("/metrics")
	t.Logf("plugin memory after the 5.5 Mbp count: %s", memRE(metrics))

	// A configured reference by region, against jellyfish on what samtools
	// faidx extracts.
	samtools := testenv.Tool(t, "samtools")
	reg := filepath.Join(dir, "region.fa")
	out, err := exec.Command(samtools, "faidx", filepath.Join(demoDir, "demo.fa"), "chr2:1000-150000", "chrM").Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(reg, out, 0o644)
	want = jellyfishHisto(t, reg, 15, true)
	st, got, _ = h.get("/plugin/kmer/histo?k=15&ref=demo&region=chr2:1,000-150,000&region=chrM")
	if st != 200 || got != want {
		t.Errorf("ref+region: status %d, differs:\n%s", st, testenv.FirstDiff(want, got))
	}
}

func TestKmerBadInput(t *testing.T) {
	h := startHost(t, "", kmerPlugin)
	cases := []struct {
		path, body string
		status     int
		code, msg  string
	}{
		{"/plugin/kmer/histo?k=0", "", 400, "bad_param", "below the minimum 1"},
		{"/plugin/kmer/histo?k=32", "", 400, "bad_param", "above the maximum 31"},
		{"/plugin/kmer/histo", "\x00\x01binary", 400, "bad_input", "request body"},
		{"/plugin/kmer/histo", "@r1\nACGT\n+\nII\n", 400, "bad_input", "record 1"},
		{"/plugin/kmer/histo?ref=demo&region=chrZ", "", 400, "bad_param", "chrZ"},
		{"/plugin/kmer/histo?ref=demo&region=chr1:600000-700000", "", 400, "bad_param", "after the end"},
		{"/plugin/kmer/query?k=5&kmer=ACG", ">s\nACGTACGT\n", 400, "bad_param", "ACG"},
	}
	for _, c := range cases {
		var st int
		var body string
		var hdr http.Header
		if c.body != "" {
			st, body, hdr = h.post(c.path, "text/plain", strings.NewReader(c.body))
		} else {
			st, body, hdr = h.get(c.path)
		}
		wantError(t, st, body, hdr, c.status, c.code, c.msg)
	}
	// Truncated gzip in the body.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(strings.Repeat(">s\nACGTACGTTTGA\n", 5000)))
	zw.Close()
	st, body, hdr := h.post("/plugin/kmer/histo", "application/gzip", bytes.NewReader(buf.Bytes()[:buf.Len()/2]))
	wantError(t, st, body, hdr, 400, "bad_input", "")

	st, body, _ = h.get("/plugin/kmer/top?k=3&n=2&ref=demo&region=chrM")
	if st != 200 || strings.Count(body, "\n") != 2 || !strings.Contains(body, "\t") {
		t.Errorf("top: %d %q", st, body)
	}
}

// TestKmerMemoryLimit: distinct k-mers that cannot fit the plugin's memory
// end in a 422 naming the limit, never a crash.
func TestKmerMemoryLimit(t *testing.T) {
	gz := testenv.File(t, "abacas-examples", "usr/share/doc/abacas-examples/SS_SC84.dna.gz")
	data, _ := os.ReadFile(gz)
	h := startHost(t, "limits: {plugins: {kmer: {memory: 40MiB}}}\n", kmerPlugin)
	st, body, hdr := h.post("/plugin/kmer/histo?k=21", "application/gzip", bytes.NewReader(data))
	wantError(t, st, body, hdr, 422, "too_large", "MiB")
	if st, _, _ := h.get("/plugin/kmer/histo?ref=demo&region=chrM&k=11"); st != 200 {
		t.Errorf("after the limit: %d", st)
	}
}

// memRE extracts the kmer plugin's memory gauge from /metrics text.
func memRE(metrics string) string {
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, `edgenome_plugin_memory_bytes{plugin="kmer"}`) {
			return l
		}
	}
	return "?"
}
