package tests

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

// catalogueFiles writes the hostile inputs the catalogue reads from an
// origin: FASTA with CRLF or mixed line lengths, broken indexes, and a
// small BAM with its BAI, corrupted and truncated in several ways.
func catalogueFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A well-formed FASTA: s1 is 25 bases in lines of 10.
	fa := ">s1 first\nACGTACGTAC\nGGGGGCCCCC\nTTTTA\n>s2\nAAAAACCCCC\n"
	write("good.fa", []byte(fa))
	write("good.fa.fai", []byte("s1\t25\t10\t10\t11\ns2\t10\t42\t10\t11\n"))
	// CRLF: the index counts the CR in LINEWIDTH, as samtools faidx writes it.
	write("crlf.fa", []byte(strings.ReplaceAll(fa, "\n", "\r\n")))
	write("crlf.fa.fai", []byte("s1\t25\t11\t10\t12\ns2\t10\t47\t10\t12\n"))
	// Mixed line lengths under an index that claims lines of 10:
	// samtools faidx refuses to index this file ("Different line length").
	mixed := ">s1\nACGTACGTAC\nGGG\nCCCCCCCCCC\nTT\n"
	write("mixed.fa", []byte(mixed))
	write("mixed.fa.fai", []byte("s1\t25\t4\t10\t11\n"))
	// Broken indexes of good.fa.
	write("cols.fa", []byte(fa))
	write("cols.fa.fai", []byte("s1\t25\t10\t10\n"))
	write("text.fa", []byte(fa))
	write("text.fa.fai", []byte("s1\tlots\t10\t10\t11\n"))
	write("zero.fa", []byte(fa))
	write("zero.fa.fai", []byte("s1\t25\t10\t0\t11\n"))
	write("past.fa", []byte(fa))
	write("past.fa.fai", []byte("s1\t25\t999999\t10\t11\n"))
	write("narrow.fa", []byte(fa))
	write("narrow.fa.fai", []byte("s1\t25\t10\t10\t5\n"))
	write("nofai.fa", []byte(fa))
	write("bin.fa", []byte("\x00\x01\x02\xff\xfe binary, not FASTA"))
	write("bin.fa.fai", []byte("\x00\xff\t\x01\n"))

	// A small BAM over chr1/chr2 with its BAI, made by samtools from SAM
	// text (the BAM cases skip when samtools is missing, as locally allowed).
	if !haveSamtools(t) {
		return dir
	}
	samtools := testenv.Tool(t, "samtools")
	var sb strings.Builder
	sb.WriteString("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:500000\n@SQ\tSN:chr2\tLN:300000\n")
	seq, qual := strings.Repeat("ACGTTGCA", 10), strings.Repeat("I", 80)
	for ri, ref := range []string{"chr1", "chr2"} {
		for i := range 2000 {
			fmt.Fprintf(&sb, "r%d_%05d\t0\t%s\t%d\t60\t80M\t*\t0\t0\t%s\t%s\n", ri, i, ref, 1000+i*100, seq, qual)
		}
	}
	write("good.sam", []byte(sb.String()))
	if out, err := exec.Command(samtools, "view", "--no-PG", "-b", "-o", filepath.Join(dir, "good.bam"), filepath.Join(dir, "good.sam")).CombinedOutput(); err != nil {
		t.Fatalf("samtools view: %v %s", err, out)
	}
	if out, err := exec.Command(samtools, "index", filepath.Join(dir, "good.bam")).CombinedOutput(); err != nil {
		t.Fatalf("samtools index: %v %s", err, out)
	}
	good, err := os.ReadFile(filepath.Join(dir, "good.bam"))
	if err != nil {
		t.Fatal(err)
	}
	baiBytes, err := os.ReadFile(filepath.Join(dir, "good.bam.bai"))
	if err != nil {
		t.Fatal(err)
	}
	bai := bytes.NewBuffer(baiBytes)
	if len(good) < 20000 {
		t.Fatalf("test BAM is only %d bytes; the corruptions below need more", len(good))
	}
	withBAI := func(name string, b []byte) {
		write(name, b)
		write(name+".bai", bai.Bytes())
	}
	withBAI("trunc.bam", good[:len(good)/2])
	withBAI("trunchdr.bam", good[:40])
	flipped := bytes.Clone(good)
	flipped[len(good)/2] ^= 0xff // inside a deflate stream: CRC or inflate error
	withBAI("flipped.bam", flipped)
	withBAI("noeof.bam", good[:len(good)-28])
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("BAM\x01 but in plain gzip, not BGZF"))
	zw.Close()
	withBAI("gzip.bam", gz.Bytes())
	withBAI("text.bam", []byte("@HD\tVN:1.6\nthis is SAM text\n"))
	badMagic := bytes.Clone(good)
	copy(badMagic, "NOTGZ")
	withBAI("magic.bam", badMagic)
	write("baitrunc.bam", good)
	write("baitrunc.bam.bai", bai.Bytes()[:len(bai.Bytes())/2])
	write("baigarbage.bam", good)
	write("baigarbage.bam.bai", []byte("BAI\x01\xff\xff\xff\x7fgarbage"))
	write("bainotbai.bam", good)
	write("bainotbai.bam.bai", []byte("this is not an index"))
	return dir
}

// wantJSONError is wantError for messages of any length (wantError cuts
// the body at 300 bytes before parsing it).
func wantJSONError(t *testing.T, status int, body string, hdr http.Header, wantStatus int, wantCode, wantMsg string) {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("status %d, error body is not JSON: %v: %.300s", status, err, body)
	}
	if status != wantStatus || e.Error.Code != wantCode || !strings.Contains(e.Error.Message, wantMsg) {
		t.Errorf("got %d %s %q; want %d %s with %q", status, e.Error.Code, e.Error.Message, wantStatus, wantCode, wantMsg)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want JSON", ct)
	}
}

func haveSamtools(t *testing.T) bool {
	if os.Getenv("EDGENOME_REQUIRE_TOOLS") == "1" {
		return true
	}
	_, err := exec.LookPath("samtools")
	return err == nil
}

// gzipBomb is a small gzip stream that inflates to n bytes of FASTQ.
func gzipBomb(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	rec := []byte("@r\n" + strings.Repeat("A", 100) + "\n+\n" + strings.Repeat("I", 100) + "\n")
	for written := 0; written < n; written += len(rec) {
		zw.Write(rec)
	}
	zw.Close()
	return b.Bytes()
}

// TestHostileInputCatalogue: every hostile input the API and each plugin
// can receive, with its documented status and JSON error code. No case may
// get a 5xx unless the host itself is at fault. A case that shows a bug in
// code this test does not own keeps the correct expectation and is skipped
// with a "BUG:" reason.
func TestHostileInputCatalogue(t *testing.T) {
	o := serveDir(t, catalogueFiles(t))
	oh := strings.TrimPrefix(o.url, "http://")
	cfg := fmt.Sprintf(`fetch: {allowed_hosts: [%q], timeout: 5s}
server: {max_body: 2MiB}
limits:
  default: {max_input: 1MiB}
  plugins:
    wgsim: {timeout: 20s, param_max: {n: 100000}}
`, oh)
	h := startHost(t, cfg, testkit, "plugins/wgsim", "plugins/kmer", "plugins/fastqc", "plugins/samtools")

	bomb := gzipBomb(t, 64<<20)
	small := gzipBomb(t, 64<<10)
	truncGzip := small[:len(small)-12]
	fastq := "@r1\nACGTACGTAC\n+\nIIIIIIIIII\n@r2\nGGGGCCCCAA\n+\nIIIIIIIIII\n"
	// Past max_header_bytes (64 KiB) plus Go's slack: 4 KiB, and on a
	// kept-alive connection another 4 KiB already buffered.
	longQuery := "/plugin/testkit/echo?msg=" + strings.Repeat("a", 100<<10)
	U := func(f string) string { return o.url + "/" + f }
	type tc struct {
		name   string
		method string // GET unless set
		path   string
		ctype  string
		body   []byte
		status int
		code   string
		msg    string // substring of the message (or, for 200, of the body)
		exact  bool   // for 200: the body must equal msg
		bug    string // non-empty: a known bug elsewhere; the case is skipped
	}
	cases := []tc{
		// The API itself.
		{name: "api/unknown-plugin", path: "/plugin/nosuch", status: 404, code: "no_such_plugin"},
		{name: "api/unknown-export", path: "/plugin/testkit/nosuch", status: 404, code: "no_such_export"},
		{name: "api/unknown-route", path: "/nope/deeper", status: 404, code: "no_such_route"},
		{name: "api/method", method: http.MethodPut, path: "/plugin/testkit", status: 405, code: "method_not_allowed"},
		{name: "api/unknown-param", path: "/plugin/testkit/params?need=x&bogus=1", status: 400, code: "bad_param", msg: `unknown parameter "bogus"`},
		{name: "api/repeated-param", path: "/plugin/testkit/params?need=x&n=1&n=2", status: 400, code: "bad_param", msg: "given 2 times"},
		{name: "api/huge-int", path: "/plugin/testkit/params?need=x&n=99999999999999999999999", status: 400, code: "bad_param"},
		{name: "api/negative-int", path: "/plugin/testkit/params?need=x&n=-5", status: 400, code: "bad_param", msg: "below the minimum"},
		{name: "api/int-with-exponent", path: "/plugin/testkit/params?need=x&n=1e400", status: 400, code: "bad_param"},
		{name: "api/float-inf", path: "/plugin/testkit/params?need=x&x=Inf", status: 400, code: "bad_param"},
		{name: "api/float-nan", path: "/plugin/testkit/params?need=x&x=NaN", status: 400, code: "bad_param"},
		{name: "api/non-utf8-value", path: "/plugin/testkit/params?need=%ff%fe", status: 400, code: "bad_param", msg: "UTF-8"},
		{name: "api/non-utf8-name", path: "/plugin/testkit/params?need=x&%ff=1", status: 400, code: "bad_param"},
		{name: "api/non-utf8-plugin", path: "/plugin/%ff%fe", status: 404, code: "no_such_plugin"},
		{name: "api/control-chars", path: "/plugin/testkit/params?need=a%00b", status: 400, code: "bad_param"},
		{name: "api/missing-required", path: "/plugin/testkit/params", status: 400, code: "bad_param", msg: "missing parameter"},
		{name: "api/bad-enum", path: "/plugin/testkit/params?need=x&msg=zz", status: 400, code: "bad_param"},
		{name: "api/url-param-denied", path: "/plugin/testkit/params?need=x&url=http://10.0.0.1/x", status: 403, code: "source_denied"},
		{name: "api/url-param-scheme", path: "/plugin/testkit/params?need=x&url=gopher://example.com/", status: 403, code: "source_denied", msg: "only http and https"},
		{name: "api/url-param-userinfo", path: "/plugin/testkit/params?need=x&url=" + "http://user:pw@" + oh + "/good.fa", status: 400, code: "bad_param"},
		{name: "api/query-over-64KiB", path: longQuery, status: 431},
		{name: "api/body-over-max_body", method: http.MethodPost, path: "/plugin/kmer/histo?k=5", ctype: "text/plain", body: bytes.Repeat([]byte("A"), 3<<20), status: 413, code: "input_limit"},
		{name: "api/body-over-max_input", method: http.MethodPost, path: "/plugin/kmer/histo?k=5", ctype: "text/plain", body: []byte(">x\n" + strings.Repeat("ACGT", 300<<10) + "\n"), status: 413, code: "input_limit"},
		{name: "api/form-over-1MiB", method: http.MethodPost, path: "/plugin/testkit/echo", ctype: "application/x-www-form-urlencoded", body: []byte("msg=" + strings.Repeat("a", 1100<<10)), status: 413, code: "input_limit"},
		{name: "api/body-to-bodyless-export", method: http.MethodPost, path: "/plugin/testkit/noop", ctype: "application/octet-stream", body: []byte("x"), status: 400, code: "bad_param", msg: "takes no request body"},
		{name: "api/json-body-to-bodyless", method: http.MethodPost, path: "/plugin/wgsim?ref=demo&n=1", ctype: "application/json", body: []byte(`{"n": 5}`), status: 400, code: "bad_param"},
		{name: "api/bad-form-encoding", method: http.MethodPost, path: "/plugin/testkit/echo", ctype: "application/x-www-form-urlencoded", body: []byte("msg=%zz"), status: 400, code: "bad_param"},
		{name: "api/gzip-bomb", method: http.MethodPost, path: "/plugin/fastqc", ctype: "application/gzip", body: bomb, status: 413, code: "input_limit"},
		{name: "api/gzip-truncated", method: http.MethodPost, path: "/plugin/fastqc", ctype: "application/gzip", body: truncGzip, status: 400, code: "bad_input", msg: "gzip"},
		{name: "api/param-max", path: "/plugin/wgsim?ref=demo&n=100001", status: 400, code: "bad_param", msg: "maximum 100000"},
		{name: "api/unknown-reference", path: "/plugin/wgsim?ref=hg19&n=1", status: 400, code: "bad_param", msg: "unknown reference"},

		// Regions, through the host's check and each plugin's contigs.
		{name: "region/commas", path: "/plugin/samtools/faidx?ref=demo&region=chr1:1,000-1,009", status: 200, msg: ">chr1:1,000-1,009\n"},
		{name: "region/empty", path: "/plugin/samtools/faidx?ref=demo&region=", status: 400, code: "bad_param", msg: "empty region"},
		{name: "region/reversed", path: "/plugin/samtools/faidx?ref=demo&region=chr1:5-1", status: 400, code: "bad_param"},
		// samtools faidx prints a zero-length sequence for a zero start.
		{name: "region/zero-start", path: "/plugin/samtools/faidx?ref=demo&region=chr1:0-10", status: 200, msg: ">chr1:0-10\n", exact: true},
		{name: "region/negative", path: "/plugin/samtools/faidx?ref=demo&region=chr1:-5-10", status: 400, code: "bad_param"},
		{name: "region/garbage-end", path: "/plugin/samtools/faidx?ref=demo&region=chr1:1-y", status: 400, code: "bad_param"},
		{name: "region/overflow", path: "/plugin/samtools/faidx?ref=demo&region=chr1:99999999999999999999999", status: 400, code: "bad_param"},
		{name: "region/unknown-contig", path: "/plugin/samtools/faidx?ref=demo&region=chrZ:1-10", status: 400, code: "bad_param", msg: "chrZ"},
		{name: "region/name-with-colon", path: "/plugin/samtools/faidx?ref=demo&region=HLA-A*01:01:1-10", status: 400, code: "bad_param"},
		{name: "region/braced-name", path: "/plugin/samtools/faidx?ref=demo&region={chr1}:1-10", status: 200, msg: ">{chr1}:1-10\nNNNNNNNNNN\n", exact: true},
		{name: "region/unbalanced-brace", path: "/plugin/samtools/faidx?ref=demo&region={chr1:1-10", status: 400, code: "bad_param"},
		{name: "region/one-base", path: "/plugin/samtools/faidx?ref=demo&region=chr1:5000-5000", status: 200, msg: ">chr1:5000-5000\n"},
		{name: "region/non-utf8", path: "/plugin/samtools/faidx?ref=demo&region=chr%ff:1-10", status: 400, code: "bad_param"},
		{name: "region/whitespace", path: "/plugin/samtools/faidx?ref=demo&region=chr1:1-10%20", status: 400, code: "bad_param"},
		{name: "region/wgsim-unknown-contig", path: "/plugin/wgsim?ref=demo&n=1&region=chrZ", status: 400, code: "bad_param", msg: "chrZ"},
		{name: "region/wgsim-reversed", path: "/plugin/wgsim?ref=demo&n=1&region=chr1:500-100", status: 400, code: "bad_param"},
		{name: "region/wgsim-too-short", path: "/plugin/wgsim?ref=demo&n=1&seed=1&region=chr1:1000-1010", status: 400, code: "bad_param", msg: "region too short"},
		{name: "region/kmer-unknown-contig", path: "/plugin/kmer/histo?ref=demo&region=chrQ:1-100", status: 400, code: "bad_param", msg: "chrQ"},
		{name: "region/kmer-zero", path: "/plugin/kmer/histo?ref=demo&region=chr1:0-0", status: 200, msg: "", exact: true},
		{name: "region/samtools-view-unknown", path: "/plugin/samtools/view?bam=" + U("good.bam") + "&region=chrZ:1-10", status: 400, code: "bad_param", msg: "chrZ"},
		{name: "region/samtools-view-reversed", path: "/plugin/samtools/view?bam=" + U("good.bam") + "&region=chr1:20-10", status: 400, code: "bad_param"},
		{name: "region/samtools-view-ok", path: "/plugin/samtools/view?count=true&bam=" + U("good.bam") + "&region=chr1:1000-5000", status: 200},

		// wgsim parameters.
		{name: "wgsim/huge-n", path: "/plugin/wgsim?ref=demo&n=99999999999999999999", status: 400, code: "bad_param"},
		{name: "wgsim/length-zero", path: "/plugin/wgsim?ref=demo&n=1&length1=0", status: 400, code: "bad_param"},
		{name: "wgsim/error-above-1", path: "/plugin/wgsim?ref=demo&n=1&error=1.5", status: 400, code: "bad_param"},
		{name: "wgsim/no-source", path: "/plugin/wgsim?n=1", status: 400, code: "bad_param"},
		{name: "wgsim/fasta-without-fai", path: "/plugin/wgsim?n=1&fasta=" + U("nofai.fa"), status: 404, code: "source_not_found"},
		{name: "wgsim/fai-four-columns", path: "/plugin/wgsim?n=1&seed=1&length1=5&length2=5&distance=10&stdev=1&fasta=" + U("cols.fa"), status: 422, code: "bad_file"},

		// kmer.
		{name: "kmer/k-zero", path: "/plugin/kmer/histo?ref=demo&k=0", status: 400, code: "bad_param"},
		{name: "kmer/k-32", path: "/plugin/kmer/histo?ref=demo&k=32", status: 400, code: "bad_param"},
		{name: "kmer/query-wrong-length", path: "/plugin/kmer/query?ref=demo&region=chrM&k=5&kmer=ACG", status: 400, code: "bad_param"},
		// jellyfish query reads "AC!GT" as ACAAA; the plugin is byte-identical.
		{name: "kmer/query-not-dna", path: "/plugin/kmer/query?ref=demo&region=chrM&k=5&kmer=AC%21GT", status: 200, msg: "ACAAA "},
		{name: "kmer/body-not-fasta", method: http.MethodPost, path: "/plugin/kmer/histo?k=5", ctype: "application/octet-stream", body: []byte("\x00\x01\x02 binary"), status: 400, code: "bad_input"},
		{name: "kmer/fasta-crlf", path: "/plugin/kmer/histo?k=3&fasta=" + U("crlf.fa"), status: 200},
		{name: "kmer/fastq-truncated", method: http.MethodPost, path: "/plugin/kmer/histo?k=5", ctype: "text/plain", body: []byte("@r1\nACGTACGT\n+\nIII"), status: 400, code: "bad_input"},

		// fastqc.
		{name: "fastqc/not-fastq", method: http.MethodPost, path: "/plugin/fastqc", ctype: "text/plain", body: []byte(">fasta\nACGT\n"), status: 400, code: "bad_input"},
		{name: "fastqc/qual-length-mismatch", method: http.MethodPost, path: "/plugin/fastqc", ctype: "text/plain", body: []byte("@r1\nACGT\n+\nII\n"), status: 400, code: "bad_input"},
		{name: "fastqc/crlf", method: http.MethodPost, path: "/plugin/fastqc", ctype: "text/plain", body: []byte(strings.ReplaceAll(fastq, "\n", "\r\n")), status: 200},
		{name: "fastqc/merge-not-json", method: http.MethodPost, path: "/plugin/fastqc/merge", ctype: "application/json", body: []byte("{not json"), status: 400, code: "bad_input"},
		{name: "fastqc/merge-wrong-shape", method: http.MethodPost, path: "/plugin/fastqc/merge", ctype: "application/json", body: []byte(`[{"reads": "many"}]`), status: 400, code: "bad_input"},
		{name: "fastqc/quality-threshold-range", path: "/plugin/fastqc?fastq=" + U("good.fa") + "&quality_threshold=94", status: 400, code: "bad_param"},

		// FASTA files and their indexes (samtools faidx over a URL).
		{name: "fasta/good", path: "/plugin/samtools/faidx?fasta=" + U("good.fa") + "&region=s1:8-13", status: 200, msg: ">s1:8-13\nTACGGG\n", exact: true},
		{name: "fasta/crlf", path: "/plugin/samtools/faidx?fasta=" + U("crlf.fa") + "&region=s1:8-13", status: 200, msg: ">s1:8-13\nTACGGG\n", exact: true},
		{name: "fasta/crlf-whole", path: "/plugin/samtools/faidx?fasta=" + U("crlf.fa") + "&region=s1", status: 200, msg: ">s1\nACGTACGTACGGGGGCCCCCTTTTA\n"},
		// samtools faidx will not index mixed line lengths. Under an index
		// that claims them regular, a read inside the first line is served
		// as htslib serves it; one crossing the short line is refused rather
		// than shifted (htslib would return CGGGCCCCCCCCCCTT, skipping
		// newlines wherever they fall).
		{name: "fasta/mixed-line-lengths", path: "/plugin/samtools/faidx?fasta=" + U("mixed.fa") + "&region=s1:1-12", status: 200, msg: ">s1:1-12\nACGTACGTACGG\n", exact: true},
		{name: "fasta/mixed-line-lengths-across", path: "/plugin/samtools/faidx?fasta=" + U("mixed.fa") + "&region=s1:10-25", status: 422, code: "bad_file", msg: "inconsistent with index"},
		{name: "fasta/fai-four-columns", path: "/plugin/samtools/faidx?fasta=" + U("cols.fa") + "&region=s1", status: 422, code: "bad_file"},
		{name: "fasta/fai-not-numeric", path: "/plugin/samtools/faidx?fasta=" + U("text.fa") + "&region=s1", status: 422, code: "bad_file"},
		{name: "fasta/fai-zero-linebases", path: "/plugin/samtools/faidx?fasta=" + U("zero.fa") + "&region=s1", status: 422, code: "bad_file"},
		{name: "fasta/fai-offset-past-eof", path: "/plugin/samtools/faidx?fasta=" + U("past.fa") + "&region=s1", status: 422, code: "bad_file"},
		{name: "fasta/fai-width-below-bases", path: "/plugin/samtools/faidx?fasta=" + U("narrow.fa") + "&region=s1", status: 422, code: "bad_file"},
		{name: "fasta/binary", path: "/plugin/samtools/faidx?fasta=" + U("bin.fa") + "&region=s1", status: 422, code: "bad_file"},
		{name: "fasta/missing-fai", path: "/plugin/samtools/faidx?fasta=" + U("nofai.fa") + "&region=s1", status: 404, code: "source_not_found"},
		{name: "fasta/missing", path: "/plugin/samtools/faidx?fasta=" + U("nothere.fa") + "&region=s1", status: 404, code: "source_not_found"},
		{name: "fasta/region-past-end", path: "/plugin/samtools/faidx?fasta=" + U("good.fa") + "&region=s1:20-40", status: 200, msg: ">s1:20-40\nCTTTTA\n"},

		// BAM, BGZF and BAI.
		{name: "bam/good", path: "/plugin/samtools/idxstats?bam=" + U("good.bam"), status: 200, msg: "chr1\t500000\t2000\t0\n"},
		{name: "bam/truncated", path: "/plugin/samtools/view?count=true&bam=" + U("trunc.bam"), status: 422, code: "bad_file"},
		{name: "bam/truncated-header", path: "/plugin/samtools/view?bam=" + U("trunchdr.bam"), status: 422, code: "bad_file"},
		{name: "bam/flipped-byte", path: "/plugin/samtools/view?count=true&bam=" + U("flipped.bam"), status: 422, code: "bad_file"},
		// samtools warns and reads on; the plugin refuses (a cut at a block
		// boundary looks the same), which is its documented choice.
		{name: "bam/no-eof-block", path: "/plugin/samtools/view?count=true&bam=" + U("noeof.bam"), status: 422, code: "bad_file", msg: "EOF marker"},
		{name: "bam/plain-gzip", path: "/plugin/samtools/view?bam=" + U("gzip.bam"), status: 422, code: "bad_file"},
		{name: "bam/sam-text", path: "/plugin/samtools/view?bam=" + U("text.bam"), status: 422, code: "bad_file"},
		{name: "bam/bad-magic", path: "/plugin/samtools/view?bam=" + U("magic.bam"), status: 422, code: "bad_file"},
		{name: "bam/truncated-with-region", path: "/plugin/samtools/view?count=true&bam=" + U("trunc.bam") + "&region=chr2:100000-200000", status: 422, code: "bad_file"},
		{name: "bai/truncated", path: "/plugin/samtools/view?bam=" + U("baitrunc.bam") + "&region=chr2:1000-2000", status: 422, code: "bad_file"},
		{name: "bai/garbage-counts", path: "/plugin/samtools/view?bam=" + U("baigarbage.bam") + "&region=chr1:1000-2000", status: 422, code: "bad_file"},
		{name: "bai/not-an-index", path: "/plugin/samtools/idxstats?bam=" + U("bainotbai.bam"), status: 422, code: "bad_file"},
		{name: "bam/missing", path: "/plugin/samtools/view?bam=" + U("nothere.bam"), status: 404, code: "source_not_found"},
	}
	if len(cases) < 60 {
		t.Fatalf("only %d cases", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("case %s twice", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			if c.bug != "" {
				t.Skip("BUG: " + c.bug)
			}
			if strings.Contains(c.path, ".bam") && !haveSamtools(t) {
				t.Skip("samtools missing: no test BAM")
			}
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			var body io.Reader
			if c.body != nil {
				body = bytes.NewReader(c.body)
			}
			req, err := http.NewRequest(method, h.base+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			resp, err := h.client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", c.path, err)
			}
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := string(b)
			if resp.StatusCode >= 500 && c.status < 500 {
				t.Errorf("5xx for a caller's fault: %d %.300s", resp.StatusCode, got)
			}
			switch {
			case c.status == 431:
				if resp.StatusCode != 431 || !strings.Contains(got, `"code":"header_limit"`) {
					t.Errorf("status %d, want 431 with a JSON header_limit error (%.200s)", resp.StatusCode, got)
				}
			case c.status == 200:
				if resp.StatusCode != 200 || rerr != nil {
					t.Fatalf("status %d (%v), want 200: %.300s", resp.StatusCode, rerr, got)
				}
				if c.exact && got != c.msg {
					t.Errorf("body %q, want %q", got, c.msg)
				}
				if !strings.Contains(got, c.msg) {
					t.Errorf("body %.300q lacks %q", got, c.msg)
				}
			case c.code == "":
				if resp.StatusCode != c.status {
					t.Errorf("status %d, want %d: %.300s", resp.StatusCode, c.status, got)
				}
			default:
				wantJSONError(t, resp.StatusCode, got, resp.Header, c.status, c.code, c.msg)
			}
		})
	}
	// The host served all of that and is still whole.
	if st, _, _ := h.get("/plugin/samtools/faidx?ref=demo&region=chrM:1-10"); st != 200 {
		t.Errorf("after the catalogue: %d", st)
	}
}
