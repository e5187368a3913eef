// Command soak runs the host under sustained mixed load on loopback: every
// plugin at a steady rate driven by wrk, hot reloads of plugins and origin
// faults injected during the run. It prints requests served, errors by
// cause, latency percentiles, and the host's RSS and goroutines at the start
// and the end (which must be flat).
//
//	go run ./tests/soak [-duration 60s] [-connections 8] [-delay-ms 5]
//
// Bounded: the run stops after -duration (and wrk's own -d), and each
// connection waits -delay-ms between requests.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgenome/edgenome/host/app"
	"github.com/edgenome/edgenome/host/config"
	"github.com/edgenome/edgenome/internal/demoref"
	"github.com/edgenome/edgenome/internal/pluginbuild"
)

func main() {
	duration := flag.Duration("duration", 60*time.Second, "length of the load run")
	conns := flag.Int("connections", 8, "wrk connections")
	delay := flag.Int("delay-ms", 5, "pause of each connection between requests (sets the rate)")
	reloadEvery := flag.Duration("reload-every", 3*time.Second, "hot reload period")
	faultEvery := flag.Duration("fault-every", 2*time.Second, "origin fault period")
	flag.Parse()
	if err := run(*duration, *conns, *delay, *reloadEvery, *faultEvery); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, conns, delay int, reloadEvery, faultEvery time.Duration) error {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return fmt.Errorf("wrk is needed (apt-get install wrk): %w", err)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "edgenome-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	reg := filepath.Join(dir, "registry")
	fmt.Fprintln(os.Stderr, "soak: building plugins")
	ctx := context.Background()
	for _, p := range []string{"tests/plugins/testkit", "plugins/wgsim", "plugins/kmer", "plugins/fastqc", "plugins/samtools"} {
		if _, err := pluginbuild.Build(ctx, pluginbuild.Source{Dir: filepath.Join(root, p)}, reg); err != nil {
			return err
		}
	}
	if err := demoref.Write(dir); err != nil {
		return err
	}

	// Origins: a good one (FASTQ, BAM) and one whose object misbehaves on a
	// timer.
	data := filepath.Join(dir, "origin")
	os.MkdirAll(data, 0o755)
	if err := writeFastq(filepath.Join(data, "reads.fq"), 2000); err != nil {
		return err
	}
	haveBAM := makeBAM(data) == nil
	good := httptest.NewServer(http.FileServer(http.Dir(data)))
	defer good.Close()
	f := &faults{}
	faulty := httptest.NewServer(f)
	defer faulty.Close()

	cfgText := fmt.Sprintf(`server: {addr: "127.0.0.1:0"}
registry: {dir: %q, cache_dir: %q}
fetch: {allowed_hosts: [%q, %q], timeout: 1s}
cache: {max_bytes: 64MiB}
references: [{name: demo, fasta: %q}]
limits: {default: {concurrency: 8, queue: 64}}
`, reg, filepath.Join(dir, "cache"), strings.TrimPrefix(good.URL, "http://"), strings.TrimPrefix(faulty.URL, "http://"), filepath.Join(dir, "demo.fa"))
	cfg, err := config.Parse([]byte(cfgText), dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	logw := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Start(ctx, cfg, app.Options{Listener: ln, Logger: log})
	if err != nil {
		return err
	}
	base := "http://" + a.Addr()

	paths := []string{
		"/plugin/testkit/noop",
		"/plugin/testkit/echo?msg=soak",
		"/plugin/wgsim?ref=demo&region=chr1:100000-110000&n=50&seed=7",
		"/plugin/kmer/histo?ref=demo&region=chrM:1-5000&k=11",
		"/plugin/kmer/top?ref=demo&region=chr3:1000-9000&k=15&n=5",
		"/plugin/fastqc?fastq=" + good.URL + "/reads.fq",
		"/plugin/fastqc?format=fqchk&fastq=" + good.URL + "/reads.fq",
		"/plugin/samtools/faidx?ref=demo&region=chr2:1000-2000",
		"/plugin/testkit/fetch?n=16384&url=" + faulty.URL + "/obj",
	}
	if haveBAM {
		paths = append(paths,
			"/plugin/samtools/idxstats?bam="+good.URL+"/sim.bam",
			"/plugin/samtools/view?count=true&region=chr1:1000-200000&bam="+good.URL+"/sim.bam")
	}
	// Warm every path, then take the baseline.
	for range 3 {
		for _, p := range paths {
			if _, err := get(base + p); err != nil {
				return err
			}
		}
	}
	http.DefaultClient.CloseIdleConnections()
	time.Sleep(time.Second)
	runtime.GC()
	startRSS, startG := rssKiB(), runtime.NumGoroutine()
	startBusy := busyGoroutines()
	before, err := scrape(base)
	if err != nil {
		return err
	}

	lua := filepath.Join(dir, "mix.lua")
	var sb strings.Builder
	sb.WriteString("local paths = {\n")
	for _, p := range paths {
		fmt.Fprintf(&sb, "  %q,\n", p)
	}
	fmt.Fprintf(&sb, `}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
delay = function() return %d end
`, delay)
	os.WriteFile(lua, []byte(sb.String()), 0o644)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reloads atomic.Int64
	var samples []string
	var sampleMu sync.Mutex
	wg.Add(3)
	go func() { // hot reloads: alternate kmer and testkit, bumping the manifest
		defer wg.Done()
		t := time.NewTicker(reloadEvery)
		defer t.Stop()
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			name := []string{"kmer", "testkit"}[n%2]
			if err := bump(filepath.Join(reg, name, "plugin.yaml"), n); err != nil {
				fmt.Fprintln(os.Stderr, "soak: reload:", err)
				continue
			}
			reloads.Add(1)
		}
	}()
	go func() { // origin faults, cycling
		defer wg.Done()
		t := time.NewTicker(faultEvery)
		defer t.Stop()
		cycle := []string{"", "503", "", "reset", "", "stall", "", "changing"}
		for n := 0; ; n++ {
			select {
			case <-stop:
				f.set("")
				return
			case <-t.C:
			}
			f.set(cycle[n%len(cycle)])
		}
	}()
	go func() { // RSS and goroutines every 10 s
		defer wg.Done()
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			sampleMu.Lock()
			samples = append(samples, fmt.Sprintf("%3.0fs: RSS %d MiB, %d goroutines", time.Since(start).Seconds(), rssKiB()>>10, runtime.NumGoroutine()))
			sampleMu.Unlock()
		}
	}()

	fmt.Fprintf(os.Stderr, "soak: %v of load over %d paths, %d connections\n", duration, len(paths), conns)
	secs := int(duration.Seconds())
	cmd := exec.Command(wrk, "-t", "2", "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", secs),
		"--timeout", "30s", "--latency", "-s", lua, base)
	out, err := cmd.CombinedOutput()
	close(stop)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("wrk: %v\n%s", err, out)
	}
	// Let retired versions drain and idle connections close.
	time.Sleep(3 * time.Second)
	http.DefaultClient.CloseIdleConnections()
	runtime.GC()
	endRSS, endG := rssKiB(), runtime.NumGoroutine()
	fmt.Fprintf(os.Stderr, "soak: goroutines at the end other than idle keep-alive connections: %d (at start: %d)\n", busyGoroutines(), startBusy)
	after, err := scrape(base)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a.Close(cctx)

	report(string(out), before, after, reloads.Load(), startRSS, endRSS, startG, endG, samples, len(paths))
	// Host warnings and errors other than the injected faults, to explain
	// any failure counted "elsewhere".
	n := 0
	for _, line := range strings.Split(logw.String(), "\n") {
		if line == "" || strings.Contains(line, faulty.URL) || strings.Contains(line, "client_closed") {
			continue
		}
		if n++; n <= 20 {
			fmt.Println("  host log: " + line)
		}
	}
	return nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// bump rewrites a manifest with a new version: the registry reloads it.
func bump(path string, n int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	re := regexp.MustCompile(`(?m)^version: .*$`)
	b = re.ReplaceAll(b, []byte(fmt.Sprintf("version: 9.0.%d", n)))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// faults makes /obj misbehave as set.
type faults struct {
	mu    sync.Mutex
	fault string
	v     atomic.Int64
}

func (f *faults) set(s string) { f.mu.Lock(); f.fault = s; f.mu.Unlock() }

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fault := f.fault
	f.mu.Unlock()
	v := int64(1)
	data := bytes.Repeat([]byte("0123456789abcdef"), 3<<10) // 48 KiB
	switch fault {
	case "503":
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case "reset":
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return
	case "stall":
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:100])
		w.(http.Flusher).Flush()
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
		return
	case "changing":
		v = f.v.Add(1)
		data[0] = byte('A' + v%26)
	}
	w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, v))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

func get(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

var sample = regexp.MustCompile(`^edgenome_requests_total\{code="([^"]*)",export="([^"]*)",plugin="([^"]*)",status="(\d+)"\} (\S+)$`)

// scrape returns edgenome_requests_total by "plugin/export status code".
func scrape(base string) (map[string]float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if s := sample.FindStringSubmatch(sc.Text()); s != nil {
			v, _ := strconv.ParseFloat(s[5], 64)
			m[fmt.Sprintf("%s/%s %s %s", s[3], s[2], s[4], s[1])] = v
		}
	}
	return m, sc.Err()
}

func report(wrkOut string, before, after map[string]float64, reloads int64, rss0, rss1 int64, g0, g1 int, samples []string, nPaths int) {
	fmt.Println("## wrk")
	fmt.Println(wrkOut)
	fmt.Println("## host: requests by plugin/export, status and code (delta over the run)")
	var keys []string
	for k := range after {
		if after[k]-before[k] > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var total, errs, faultErrs, closed float64
	for _, k := range keys {
		d := after[k] - before[k]
		total += d
		switch {
		case strings.Contains(k, " 200 "):
		case strings.HasSuffix(k, " client_closed"):
			closed += d // wrk drops its connections mid-request when -d ends
		case strings.HasPrefix(k, "testkit/fetch "):
			faultErrs += d
		default:
			errs += d
		}
		fmt.Printf("  %-40s %8.0f\n", k, d)
	}
	fmt.Printf("\nrequests served by plugins: %.0f; failed on the faulty origin's path (injected): %.0f (%.2f%%); "+
		"closed by wrk at its end: %.0f; failed elsewhere (reloads included): %.0f\n",
		total, faultErrs, 100*faultErrs/max(total, 1), closed, errs)
	fmt.Printf("hot reloads during the run: %d\n", reloads)
	fmt.Printf("host RSS: %d MiB at start, %d MiB at end; goroutines: %d at start, %d at end\n", rss0>>10, rss1>>10, g0, g1)
	for _, s := range samples {
		fmt.Println("  " + s)
	}
}

// busyGoroutines counts goroutines other than connections between requests
// (client read/write loops, server connections not running a handler).
func busyGoroutines() int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "persistConn).readLoop") || strings.Contains(g, "persistConn).writeLoop") ||
			strings.Contains(g, "net/http.(*conn).serve") && !strings.Contains(g, "labstack/echo") && !strings.Contains(g, "github.com/edgenome/") {
			continue
		}
		n++
	}
	return n
}

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return 0
}

func writeFastq(path string, n int) error {
	var b strings.Builder
	bases := "ACGT"
	for i := range n {
		fmt.Fprintf(&b, "@r%d\n", i)
		for j := range 100 {
			b.WriteByte(bases[(i*7+j*13+j*j)%4])
		}
		b.WriteString("\n+\n")
		for j := range 100 {
			b.WriteByte(byte('!' + (i+j)%41))
		}
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// makeBAM writes sim.bam and its index with samtools, when installed.
func makeBAM(dir string) error {
	samtools, err := exec.LookPath("samtools")
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:500000\n")
	seq, qual := strings.Repeat("ACGTTGCA", 10), strings.Repeat("I", 80)
	for i := range 4000 {
		fmt.Fprintf(&b, "r%05d\t0\tchr1\t%d\t60\t80M\t*\t0\t0\t%s\t%s\n", i, 1000+i*100, seq, qual)
	}
	sam := filepath.Join(dir, "sim.sam")
	os.WriteFile(sam, []byte(b.String()), 0o644)
	defer os.Remove(sam)
	if out, err := exec.Command(samtools, "view", "--no-PG", "-b", "-o", filepath.Join(dir, "sim.bam"), sam).CombinedOutput(); err != nil {
		return fmt.Errorf("%v %s", err, out)
	}
	return exec.Command(samtools, "index", filepath.Join(dir, "sim.bam")).Run()
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
