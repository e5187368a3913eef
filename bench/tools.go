package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// data returns a file of a Debian test-data package, fetching it if needed.
func (e *env) data(pkg, rel string) (string, error) {
	p := filepath.Join(e.root, ".cache", "testdata", pkg, rel)
	if _, err := os.Stat(p); err != nil {
		if out, err := exec.Command(filepath.Join(e.root, "scripts", "fetch-testdata.sh"), pkg).CombinedOutput(); err != nil {
			return "", fmt.Errorf("fetching %s: %v %s", pkg, err, out)
		}
	}
	return p, nil
}

// abacas returns the 2 Mbp genome of abacas-examples, plain, with its .fai.
func (e *env) abacas() (string, error) {
	fa := filepath.Join(e.dir, "abacas", "genome.fa")
	if _, err := os.Stat(fa + ".fai"); err == nil {
		return fa, nil
	}
	gz, err := e.data("abacas-examples", "usr/share/doc/abacas-examples/SS_SC84.dna.gz")
	if err != nil {
		return "", err
	}
	os.MkdirAll(filepath.Dir(fa), 0o755)
	if err := gunzip(gz, fa); err != nil {
		return "", err
	}
	if out, err := exec.Command("samtools", "faidx", fa).CombinedOutput(); err != nil {
		return "", fmt.Errorf("samtools faidx: %v %s", err, out)
	}
	return fa, nil
}

func gunzip(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	_, err = io.Copy(out, zr)
	return err
}

// timed runs f n times and returns the fastest run.
func timed(n int, f func() error) (time.Duration, error) {
	best := time.Duration(1<<63 - 1)
	for range n {
		t := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		best = min(best, time.Since(t))
	}
	return best, nil
}

var memRE = regexp.MustCompile(`edgenome_plugin_memory_bytes\{plugin="([a-z0-9_]+)"\} ([0-9.e+]+)`)

// pluginMemory reads the Wasm memory high-water mark of a plugin's last call.
func (h *host) pluginMemory(plugin string) int64 {
	resp, err := client.Get(h.base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, m := range memRE.FindAllStringSubmatch(string(b), -1) {
		if m[1] == plugin {
			f, _ := strconv.ParseFloat(m[2], 64)
			return int64(f)
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func row(what string, plugin, native time.Duration, pmem, nmem int64, target string) {
	fmt.Printf("| %s | %.2f s | %.2f s | %.2f | %s | %s | %s |\n", what, plugin.Seconds(), native.Seconds(),
		plugin.Seconds()/native.Seconds(), mib(pmem), mib(nmem), target)
}

func header() {
	fmt.Println("| workload | plugin (HTTP) | native | ratio | plugin peak memory (Wasm) | native peak RSS | target |")
	fmt.Println("|---|---|---|---|---|---|---|")
}

func benchWgsim(ctx context.Context, e *env) error {
	fa, err := e.abacas()
	if err != nil {
		return err
	}
	pairs := 1_000_000
	if e.quick {
		pairs = 50_000
	}
	h, err := e.startHost(fmt.Sprintf("references: [{name: abacas, fasta: %q}]\nlimits: {plugins: {wgsim: {timeout: 600s}}}\n", fa), "plugins/wgsim")
	if err != nil {
		return err
	}
	defer h.close()
	url := fmt.Sprintf("%s/plugin/wgsim?ref=abacas&n=%d&length1=100&length2=100&seed=11&coords=region", h.base, pairs)
	// Plugin and native runs alternate, so both see the same machine.
	var pmem, nmem int64
	pt, nt := time.Duration(1<<62), time.Duration(1<<62)
	for range 5 {
		d, err := timed(1, func() error {
			_, err := get(url)
			pmem = max(pmem, h.pluginMemory("wgsim"))
			return err
		})
		if err != nil {
			return err
		}
		pt = min(pt, d)
		d, err = timed(1, func() error {
			_, rss, err := timeCmd("wgsim", []string{"-S", "11", "-N", strconv.Itoa(pairs), "-1", "100", "-2", "100", fa,
				filepath.Join(e.dir, "w1.fq"), filepath.Join(e.dir, "w2.fq")}, io.Discard)
			nmem = max(nmem, rss)
			return err
		})
		if err != nil {
			return err
		}
		nt = min(nt, d)
	}
	fmt.Printf("%d read pairs of 2x100 bp from the 2 Mbp abacas genome; the plugin's output is discarded by the client, wgsim writes its two files. Best of 5, runs alternating.\n\n", pairs)
	header()
	row("wgsim", pt, nt, pmem, nmem, "ratio <= 1.0")
	fmt.Println()

	// Time to first byte of a long simulation over a 1 Mbp region.
	t := time.Now()
	resp, err := client.Get(h.base + "/plugin/wgsim?ref=abacas&region=" + firstSeq(fa) + ":1-1,000,000&n=1000000")
	if err != nil {
		return err
	}
	buf := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		return err
	}
	ttfb := time.Since(t)
	resp.Body.Close()
	fmt.Printf("Time to first byte, n = 1,000,000 over a 1 Mbp region: %s (target < 100 ms).\n\n", ms(ttfb))
	return nil
}

// benchChromosome simulates from a generated 250 Mbp sequence inside the
// default 128 MiB plugin memory and compares the reads with native wgsim's.
func benchChromosome(ctx context.Context, e *env) error {
	if e.quick {
		fmt.Println("(skipped with -quick)")
		return nil
	}
	dir := filepath.Join(e.dir, "chrom")
	os.MkdirAll(dir, 0o755)
	fa := filepath.Join(dir, "chr.fa")
	f, err := os.Create(fa)
	if err != nil {
		return err
	}
	const n = 250_000_000
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(">chrBig\n")
	x := uint64(42)
	line := make([]byte, 61)
	line[60] = '\n'
	for done := 0; done < n; done += 60 {
		for i := range 60 {
			x = x*6364136223846793005 + 1442695040888963407
			line[i] = "ACGT"[x>>62]
		}
		if done >= 1_000_000 && done < 1_100_000 {
			copy(line, bytes.Repeat([]byte("N"), 60)) // an assembly gap
		}
		w.Write(line)
	}
	w.Flush()
	f.Close()
	if out, err := exec.Command("samtools", "faidx", fa).CombinedOutput(); err != nil {
		return fmt.Errorf("faidx: %v %s", err, out)
	}
	h, err := e.startHost(fmt.Sprintf("references: [{name: big, fasta: %q}]\nlimits: {plugins: {wgsim: {timeout: 900s, memory: 128MiB}}}\n", fa), "plugins/wgsim")
	if err != nil {
		return err
	}
	defer h.close()
	const pairs = "200000"
	t := time.Now()
	resp, err := client.Get(h.base + "/plugin/wgsim?ref=big&n=" + pairs + "&seed=9&output=read1&coords=region")
	if err != nil {
		return err
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("plugin on 250 Mbp: %v %s", err, resp.Status)
	}
	pt := time.Since(t)
	pmem := h.pluginMemory("wgsim")
	r1, r2 := filepath.Join(dir, "1.fq"), filepath.Join(dir, "2.fq")
	nt, nmem, err := timeCmd("wgsim", []string{"-S", "9", "-N", pairs, fa, r1, r2}, io.Discard)
	if err != nil {
		return err
	}
	want, _ := os.ReadFile(r1)
	same := bytes.Equal(got, want)
	fmt.Println("A generated 250 Mbp chromosome, 200,000 pairs, read 1 compared byte for byte with native wgsim (plugin limit: 128 MiB).")
	fmt.Println()
	header()
	row("wgsim, 250 Mbp chromosome", pt, nt, pmem, nmem, "fits 128 MiB, identical")
	fmt.Printf("\nIdentical to native wgsim: %v (%d bytes).\n\n", same, len(want))
	os.RemoveAll(dir)
	if !same {
		return fmt.Errorf("250 Mbp chromosome: plugin output differs from native wgsim")
	}
	return nil
}

func firstSeq(fa string) string {
	b, _ := os.ReadFile(fa + ".fai")
	name, _, _ := strings.Cut(string(b), "\t")
	return name
}

func benchKmer(ctx context.Context, e *env) error {
	fa, err := e.abacas()
	if err != nil {
		return err
	}
	h, err := e.startHost(fmt.Sprintf("references: [{name: abacas, fasta: %q}]\n", fa), "plugins/kmer")
	if err != nil {
		return err
	}
	defer h.close()
	var pmem, nmem int64
	pt, err := timed(3, func() error {
		_, err := get(h.base + "/plugin/kmer/histo?ref=abacas&k=21")
		pmem = max(pmem, h.pluginMemory("kmer"))
		return err
	})
	if err != nil {
		return err
	}
	db := filepath.Join(e.dir, "k.jf")
	nt, err := timed(3, func() error {
		_, rss1, err := timeCmd("jellyfish", []string{"count", "-t", "1", "-m", "21", "-C", "-s", "10M", "-o", db, fa}, io.Discard)
		if err != nil {
			return err
		}
		_, rss2, err := timeCmd("jellyfish", []string{"histo", db}, io.Discard)
		nmem = max(nmem, rss1, rss2)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Println("k-mer spectrum (k = 21, canonical) of the 2 Mbp abacas genome: plugin histo over the configured reference vs `jellyfish count -t 1 -m 21 -C` + `jellyfish histo`. Best of 3.")
	fmt.Println()
	header()
	row("kmer histo", pt, nt, pmem, nmem, "ratio <= 1.5")
	fmt.Println()
	return nil
}

func benchFastqc(ctx context.Context, e *env) error {
	gz, err := e.data("gasic-examples", "usr/share/doc/gasic/examples/reads/SRR059298_subset.fastq.gz")
	if err != nil {
		return err
	}
	body, err := os.ReadFile(gz)
	if err != nil {
		return err
	}
	h, err := e.startHost("", "plugins/fastqc")
	if err != nil {
		return err
	}
	defer h.close()
	var pmem, nmem int64
	pt, err := timed(5, func() error {
		err := post(h.base+"/plugin/fastqc?format=fqchk", body)
		pmem = max(pmem, h.pluginMemory("fastqc"))
		return err
	})
	if err != nil {
		return err
	}
	nt, err := timed(5, func() error {
		_, rss, err := timeCmd("seqtk", []string{"fqchk", gz}, io.Discard)
		nmem = max(nmem, rss)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Println("Quality metrics of 100,000 reads (gasic-examples, gzip): plugin format=fqchk with the file POSTed vs `seqtk fqchk` on the file. Best of 5.")
	fmt.Println()
	header()
	row("fastqc fqchk", pt, nt, pmem, nmem, "ratio <= 1.5")
	fmt.Println()
	return nil
}

// simBAM builds a ~40 MB BAM of simulated reads aligned to the abacas
// genome (cached between runs under .cache/bench).
func (e *env) simBAM(pairs int) (string, error) {
	dir := filepath.Join(e.root, ".cache", "bench", fmt.Sprintf("bam%d", pairs))
	bam := filepath.Join(dir, "sim.bam")
	if _, err := os.Stat(bam + ".bai"); err == nil {
		return bam, nil
	}
	fa, err := e.abacas()
	if err != nil {
		return "", err
	}
	os.MkdirAll(dir, 0o755)
	sh := fmt.Sprintf(`set -e
wgsim -S 5 -N %d -1 100 -2 100 %s %s/r1.fq %s/r2.fq >/dev/null
minimap2 -t 2 -a -x sr %s %s/r1.fq %s/r2.fq 2>/dev/null | samtools sort -@2 -o %s -
samtools index %s
rm %s/r1.fq %s/r2.fq`, pairs, fa, dir, dir, fa, dir, dir, bam, bam, dir, dir)
	if out, err := exec.Command("sh", "-c", sh).CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the BAM: %v %s", err, out)
	}
	return bam, nil
}

func benchSamtools(ctx context.Context, e *env) error {
	pairs := 460_000
	if e.quick {
		pairs = 40_000
	}
	bam, err := e.simBAM(pairs)
	if err != nil {
		return err
	}
	var served, busy atomic.Int64
	fs := http.FileServer(http.Dir(filepath.Dir(bam)))
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		busy.Add(1)
		defer busy.Add(-1)
		cw := &countingWriter{ResponseWriter: w}
		fs.ServeHTTP(cw, r)
		served.Add(cw.n)
	}))
	// quiet waits until the origin has finished every response, such as
	// read-ahead that an earlier call cancelled as it ended: its bytes must
	// not count against the next measurement.
	quiet := func() {
		for deadline := time.Now().Add(5 * time.Second); busy.Load() > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	defer origin.Close()
	h, err := e.startHost(fmt.Sprintf("fetch: {allowed_hosts: [%q]}\nlimits: {plugins: {samtools: {max_output: 8GiB}}}\n",
		strings.TrimPrefix(origin.URL, "http://")), "plugins/samtools")
	if err != nil {
		return err
	}
	defer h.close()
	st, _ := os.Stat(bam)
	var pmem, nmem int64
	pt, err := timed(3, func() error {
		_, err := get(h.base + "/plugin/samtools/view?bam=" + origin.URL + "/sim.bam")
		pmem = max(pmem, h.pluginMemory("samtools"))
		return err
	})
	if err != nil {
		return err
	}
	nt, err := timed(3, func() error {
		_, rss, err := timeCmd("samtools", []string{"view", "--no-PG", bam}, io.Discard)
		nmem = max(nmem, rss)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("Whole-file `view` of a %.0f MB BAM (%d simulated pairs aligned with minimap2): plugin over HTTP reading from a local origin vs `samtools view` on the local file. Best of 3.\n\n", float64(st.Size())/1e6, pairs)
	header()
	row("samtools view (whole file)", pt, nt, pmem, nmem, "ratio <= 1.5")
	fmt.Println()

	// A 1 kb region: bytes read from the origin (on a fresh host, so an
	// empty cache), and warm latency.
	h.close()
	h, err = e.startHost(fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(origin.URL, "http://")), "plugins/samtools")
	if err != nil {
		return err
	}
	seq := bamFirstSeq(bam)
	reg := seq + ":1000000-1001000"
	quiet()
	served.Store(0)
	if _, err := get(h.base + "/plugin/samtools/view?bam=" + origin.URL + "/sim.bam&region=" + reg); err != nil {
		return err
	}
	pbytes := served.Load()
	warm, err := timed(5, func() error {
		_, err := get(h.base + "/plugin/samtools/view?bam=" + origin.URL + "/sim.bam&region=" + reg)
		return err
	})
	if err != nil {
		return err
	}
	served.Store(0)
	var nbytes int64
	// htslib saves a remote index into its working directory and reuses it
	// on the next run (as a user repeating queries from one folder would):
	// give it a folder of the benchmark's rather than the repository.
	cwd, err := os.MkdirTemp(e.dir, "samtools-cwd-")
	if err != nil {
		return err
	}
	nwarm, err := timed(3, func() error {
		served.Store(0)
		_, _, err := timeCmdIn(cwd, "samtools", []string{"view", "--no-PG", origin.URL + "/sim.bam", reg}, io.Discard)
		nbytes = served.Load()
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("A 1 kb region (%s), through the same counting origin:\n\n", reg)
	fmt.Println("| | bytes read from the origin | latency (warm, best) |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| plugin (first call; cache then warm) | %d | %s |\n", pbytes, ms(warm))
	fmt.Printf("| `samtools view http://...` | %d | %s |\n", nbytes, ms(nwarm))
	fmt.Printf("\nOrigin bytes ratio plugin/samtools: %.3f (target <= 0.1); warm latency ratio %.2f (target < 1).\n\n",
		float64(pbytes)/float64(max(nbytes, 1)), warm.Seconds()/nwarm.Seconds())
	return nil
}

func bamFirstSeq(bam string) string {
	out, err := exec.Command("samtools", "idxstats", bam).Output()
	if err != nil {
		return "unknown"
	}
	name, _, _ := strings.Cut(string(out), "\t")
	return name
}
