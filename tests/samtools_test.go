package tests

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgenome/edgenome/internal/bamfixture"
	"github.com/edgenome/edgenome/internal/bgzfblock"
	"github.com/edgenome/edgenome/internal/testenv"
)

const samtoolsPlugin = "plugins/samtools"

// bamOrigin serves a folder over HTTP with Range support and counts the
// body bytes it sends.
type bamOrigin struct {
	url   string
	bytes atomic.Int64
}

func serveDir(t testing.TB, dir string) *bamOrigin {
	o := &bamOrigin{}
	fs := http.FileServer(http.Dir(dir))
	s := newOriginHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.ServeHTTP(&countWriter{ResponseWriter: w, n: &o.bytes}, r)
	}))
	o.url = s.URL
	return o
}

// pysamBAMs prepares real BAMs with their indexes in a temp folder.
func pysamBAMs(t *testing.T) (dir string, samtools string) {
	samtools = testenv.Tool(t, "samtools")
	data := testenv.DataDir(t, "python-pysam-tests")
	src := filepath.Join(data, bamfixture.PysamData)
	dir = t.TempDir()
	for _, f := range []string{"ex1.bam.gz", "ex3.bam", "tag_bug.bam", "example_dash_in_chr.bam"} {
		bamfixture.Prepare(t, dir, filepath.Join(src, f))
	}
	// A CSI-only copy, to check the .bai-then-.csi lookup.
	b, _ := os.ReadFile(filepath.Join(dir, "ex1.bam"))
	os.WriteFile(filepath.Join(dir, "csi.bam"), b, 0o644)
	if out, err := exec.Command(samtools, "index", "-c", filepath.Join(dir, "csi.bam")).CombinedOutput(); err != nil {
		t.Fatalf("samtools index -c: %v %s", err, out)
	}
	return dir, samtools
}

// TestConformanceSamtoolsHTTP compares view, idxstats and faidx over HTTP
// with native samtools on the same files.
func TestConformanceSamtoolsHTTP(t *testing.T) {
	dir, samtools := pysamBAMs(t)
	o := serveDir(t, dir)
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.url, "http://")), samtoolsPlugin)
	native := func(args ...string) string {
		out, err := exec.Command(samtools, args...).Output()
		if err != nil {
			t.Fatalf("samtools %v: %v", args, err)
		}
		return string(out)
	}
	cases := []struct {
		query  string
		native []string
	}{
		{"bam=ex1.bam", []string{"view", "--no-PG", "ex1.bam"}},
		{"bam=ex1.bam&header=true", []string{"view", "--no-PG", "-h", "ex1.bam"}},
		{"bam=ex1.bam&header_only=true", []string{"view", "--no-PG", "-H", "ex1.bam"}},
		{"bam=ex1.bam&region=chr1:100-200", []string{"view", "--no-PG", "ex1.bam", "chr1:100-200"}},
		{"bam=ex1.bam&region=chr2:1,000-1,500&region=chr1:1000-1010&region=chr2:1400-1600", []string{"view", "--no-PG", "ex1.bam", "chr2:1000-1500", "chr1:1000-1010", "chr2:1400-1600"}},
		{"bam=ex1.bam&region=chr1&count=true&min_mapq=30", []string{"view", "--no-PG", "-c", "-q", "30", "ex1.bam", "chr1"}},
		{"bam=ex1.bam&require_flags=1&exclude_flags=16", []string{"view", "--no-PG", "-f", "1", "-F", "16", "ex1.bam"}},
		{"bam=csi.bam&region=chr1:1-500", []string{"view", "--no-PG", "csi.bam", "chr1:1-500"}},
		{"bam=ex3.bam&header=true", []string{"view", "--no-PG", "-h", "ex3.bam"}},
		{"bam=tag_bug.bam", []string{"view", "--no-PG", "tag_bug.bam"}},
		{"bam=example_dash_in_chr.bam&region=chr-1", []string{"view", "--no-PG", "example_dash_in_chr.bam", "chr-1"}},
	}
	for _, c := range cases {
		q := strings.Replace(c.query, "bam=", "bam="+o.url+"/", 1)
		args := append([]string{}, c.native...)
		for i, a := range args {
			if strings.HasSuffix(a, ".bam") {
				args[i] = filepath.Join(dir, a)
			}
		}
		want := native(args...)
		st, got, _ := h.get("/plugin/samtools/view?" + q)
		if st != 200 || got != want {
			t.Errorf("view %s: %d, %s", c.query, st, testenv.FirstDiff(want, got))
		}
	}
	want := native("idxstats", filepath.Join(dir, "ex1.bam"))
	if st, got, _ := h.get("/plugin/samtools/idxstats?bam=" + o.url + "/ex1.bam"); st != 200 || got != want {
		t.Errorf("idxstats: %d, %s", st, testenv.FirstDiff(want, got))
	}
	want = native("faidx", filepath.Join(demoDir, "demo.fa"), "chr1:9,990-10,200", "chrM:16000-16569", "-n", "50")
	if st, got, _ := h.get("/plugin/samtools/faidx?ref=demo&region=chr1:9,990-10,200&region=chrM:16000-16569&line_width=50"); st != 200 || got != want {
		t.Errorf("faidx: %d, %s", st, testenv.FirstDiff(want, got))
	}
}

// TestSamtoolsRegionReadsLittle: a region query reads the index and the
// blocks it needs, not the file; a second identical query reads nothing.
func TestSamtoolsRegionReadsLittle(t *testing.T) {
	dir := simulatedBAM(t, 200000)
	o := serveDir(t, dir)
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.url, "http://")), samtoolsPlugin)
	st, body, _ := h.get("/plugin/samtools/view?bam=" + o.url + "/sim.bam&region=chr1:250,000-251,000")
	if st != 200 || strings.Count(body, "\n") < 10 {
		t.Fatalf("region query: %d, %d lines", st, strings.Count(body, "\n"))
	}
	first := o.bytes.Load()
	size, _ := os.Stat(filepath.Join(dir, "sim.bam"))
	t.Logf("a 1 kb region query read %d bytes of a %d-byte BAM (index included)", first, size.Size())
	if first > size.Size()/10 {
		t.Errorf("a region query read %d bytes of a %d-byte BAM (more than a tenth)", first, size.Size())
	}
	h.get("/plugin/samtools/view?bam=" + o.url + "/sim.bam&region=chr1:250,000-251,000")
	if again := o.bytes.Load() - first; again != 0 {
		t.Errorf("repeated region query read %d bytes from the origin", again)
	}
}

// simulatedBAM simulates pairs from the demo reference with wgsim, aligns
// them with minimap2 and returns a folder holding sim.bam and sim.bam.bai.
func simulatedBAM(t *testing.T, pairs int) string {
	t.Helper()
	samtools := testenv.Tool(t, "samtools")
	wgsim := testenv.Tool(t, "wgsim")
	minimap2 := testenv.Tool(t, "minimap2")
	startHost(t, "") // makes the demo reference
	dir := t.TempDir()
	ref := filepath.Join(demoDir, "demo.fa")
	r1, r2 := filepath.Join(dir, "r1.fq"), filepath.Join(dir, "r2.fq")
	if out, err := exec.Command(wgsim, "-S", "11", "-N", fmt.Sprint(pairs), "-1", "100", "-2", "100", ref, r1, r2).CombinedOutput(); err != nil {
		t.Fatalf("wgsim: %v %s", err, out)
	}
	sh := fmt.Sprintf("%s -t 2 -a -x sr %s %s %s 2>/dev/null | %s sort -o %s/sim.bam - && %s index %s/sim.bam",
		minimap2, ref, r1, r2, samtools, dir, samtools, dir)
	if out, err := exec.Command("sh", "-c", sh).CombinedOutput(); err != nil {
		t.Fatalf("align: %v %s", err, out)
	}
	os.Remove(r1)
	os.Remove(r2)
	return dir
}

func TestSamtoolsBadInput(t *testing.T) {
	dir, _ := pysamBAMs(t)
	b, _ := os.ReadFile(filepath.Join(dir, "ex1.bam"))
	os.WriteFile(filepath.Join(dir, "trunc.bam"), b[:len(b)/3], 0o644)
	os.WriteFile(filepath.Join(dir, "small-trunc.bam"), b[:3000], 0o644)
	os.WriteFile(filepath.Join(dir, "text.bam"), []byte("@HD\tVN:1.6\nthis is SAM, not BAM\n"), 0o644)
	o := serveDir(t, dir)
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.url, "http://")), samtoolsPlugin)
	cases := []struct {
		query  string
		status int
		code   string
		msg    string
	}{
		{"view?bam=ex1.bam&region=chrZ:1-10", 400, "bad_param", "chrZ"},
		{"view?bam=ex1.bam&region=chr1:20-10", 400, "bad_param", ""},
		{"view?bam=text.bam", 422, "bad_file", "text.bam"},
		{"view?bam=small-trunc.bam", 422, "bad_file", ""},
		{"view?bam=nothere.bam", 404, "source_not_found", "nothere.bam"},
		{"view?bam=trunc.bam&region=chr1:1-100", 400, "bad_param", "no index"},
		{"faidx?ref=demo&region=chrQ", 400, "bad_param", "chrQ"},
	}
	for _, c := range cases {
		st, body, hdr := h.get("/plugin/samtools/" + strings.Replace(c.query, "bam=", "bam="+o.url+"/", 1))
		t.Run(c.query, func(t *testing.T) { wantError(t, st, body, hdr, c.status, c.code, c.msg) })
	}
	// A BAM truncated after megabytes of output: the stream must break.
	resp, err := h.client.Get(h.base + "/plugin/samtools/view?bam=" + o.url + "/trunc.bam")
	if err != nil {
		t.Fatal(err)
	}
	n, err := readAll(resp)
	if resp.StatusCode == 200 && err == nil {
		t.Errorf("truncated BAM gave a clean 200 with %d bytes", n)
	}
}

// TestConformanceSamtoolsAllHTTP runs view over HTTP, so through the
// plugin's C record path (plugins/samtools/samfmt), on every real BAM of
// the native suite (internal/bamfixture): whole files with each filter,
// and the native suite's regions (bamfixture.Regions) through the BAI or
// CSI. The
// native suite checks the region semantics in depth on the Go path; this
// one checks that the C path prints what samtools prints.
func TestConformanceSamtoolsAllHTTP(t *testing.T) {
	dir := t.TempDir()
	fixtures := bamfixture.Build(t, dir)
	samtools := testenv.Tool(t, "samtools")
	o := serveDir(t, dir)
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.url, "http://")), samtoolsPlugin)
	rng := rand.New(rand.NewPCG(11, 5))
	type vcase struct {
		query   string   // after bam=
		opts    []string // samtools view options
		regions []string
		index   string // index path for -X, "" for none
	}
	filters := []vcase{
		{query: ""},
		{query: "&header=true", opts: []string{"-h"}},
		{query: "&count=true", opts: []string{"-c"}},
		{query: "&require_flags=1&min_mapq=20", opts: []string{"-f", "1", "-q", "20"}},
		{query: "&exclude_flags=20", opts: []string{"-F", "20"}},
	}
	n := 0
	for i, fx := range fixtures {
		cases := append([]vcase(nil), filters...)
		idx := fx.BAI
		if idx == "" || (i%2 == 1 && fx.CSI != "") {
			idx = fx.CSI
		}
		if idx != "" {
			hdr, _ := exec.Command(samtools, "view", "-H", fx.BAM).Output()
			for _, regs := range bamfixture.Regions(bamfixture.SQ(string(hdr)), rng) {
				c := vcase{query: "&index=" + url.QueryEscape(o.url+"/"+filepath.Base(idx)), index: idx}
				for _, r := range regs {
					c.query += "&region=" + url.QueryEscape(r)
				}
				c.regions = regs
				cases = append(cases, c)
			}
		}
		for _, c := range cases {
			args := append([]string{"view", "--no-PG"}, c.opts...)
			if c.index != "" {
				args = append(args, "-X", fx.BAM, c.index)
			} else {
				args = append(args, fx.BAM)
			}
			args = append(args, c.regions...)
			cmd := exec.Command(samtools, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			want, nerr := cmd.Output()
			if strings.Contains(stderr.String(), "invalid region") {
				continue // we refuse a region samtools skips (the native suite checks that)
			}
			st, got, _ := h.get("/plugin/samtools/view?bam=" + url.QueryEscape(o.url+"/"+fx.Name) + c.query)
			n++
			if nerr != nil {
				if st == 200 {
					t.Errorf("%s %v: samtools fails (%v), the plugin answers 200", fx.Name, args[1:], nerr)
				}
				continue
			}
			if st != 200 || got != string(want) {
				t.Errorf("%s %v: %d, %s", fx.Name, args[1:], st, testenv.FirstDiff(want, []byte(got)))
			}
		}
	}
	t.Logf("%d cases over %d BAMs compared", n, len(fixtures))
}

// TestSamtoolsDamagedRecordsHTTP damages the records of a real BAM (inside
// valid BGZF blocks, so the plugin's C record parser meets them) and
// compares with samtools: the plugin never crashes, a 200 that completes
// holds samtools' output when samtools succeeds, and when samtools fails
// the plugin never answers a complete 200.
func TestSamtoolsDamagedRecordsHTTP(t *testing.T) {
	samtools := testenv.Tool(t, "samtools")
	dir := t.TempDir()
	fx := bamfixture.Prepare(t, dir, filepath.Join(testenv.DataDir(t, "python-pysam-tests"), bamfixture.PysamData, "ex1.bam.gz"))
	raw := testenv.Gunzip(t, fx.BAM, "") // the BGZF members, inflated
	// Records start after magic, text and the reference list.
	p := 8 + int(binary.LittleEndian.Uint32(raw[4:]))
	nref := int(binary.LittleEndian.Uint32(raw[p:]))
	p += 4
	for range nref {
		p += 4 + int(binary.LittleEndian.Uint32(raw[p:])) + 4
	}
	rng := rand.New(rand.NewPCG(5, 8))
	runs := 40
	if testing.Short() {
		runs = 10
	}
	for i := range runs {
		d := bytes.Clone(raw)
		for range 1 + rng.IntN(3) {
			// Mostly near the start, so most runs print records first.
			d[p+rng.IntN(min(len(d)-p, 20000))] = byte(rng.Uint32())
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("dmg%d.bam", i)), bgzfblock.File(d, 6), 0o644)
	}
	o := serveDir(t, dir)
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.url, "http://")), samtoolsPlugin)
	failed := 0
	for i := range runs {
		name := fmt.Sprintf("dmg%d.bam", i)
		want, nerr := exec.Command(samtools, "view", "--no-PG", filepath.Join(dir, name)).Output()
		if nerr != nil {
			failed++
		}
		st, got, rerr := h.getStream("/plugin/samtools/view?bam=" + url.QueryEscape(o.url+"/"+name))
		complete := st == 200 && rerr == nil
		switch {
		case st != 200 && st != 422:
			t.Errorf("%s: status %d: %s", name, st, got)
		case nerr == nil && !complete:
			t.Errorf("%s: samtools prints it all, the plugin answers %d (%v): %.300s", name, st, rerr, got)
		case nerr == nil && !bytes.Equal(got, want):
			t.Errorf("%s: %s", name, testenv.FirstDiff(want, got))
		case nerr != nil && complete:
			t.Errorf("%s: samtools fails (%v), the plugin answers a complete 200", name, nerr)
		}
	}
	t.Logf("samtools failed on %d of %d damaged files", failed, runs)
}
