//go:build !wasip1

package samtools

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgenome/edgenome/internal/testenv"
)

// countingReader counts the bytes and calls made through an io.ReaderAt,
// standing in for the host's range fetches.
type countingReader struct {
	r     io.ReaderAt
	bytes atomic.Int64
	calls atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.bytes.Add(int64(n))
	c.calls.Add(1)
	return n, err
}

func counted(t testing.TB, path string) (Source, *countingReader) {
	s := openSource(t, path)
	c := &countingReader{r: s.R}
	s.R = c
	return s, c
}

// TestRegionReadsLittle: a 1 kb region query reads the index and a few
// blocks, not the file.
func TestRegionReadsLittle(t *testing.T) {
	fx := simFixture(t)
	st, _ := os.Stat(fx.BAM)
	for _, reg := range []string{"all_bases:1000000-1000999", "all_bases:5000-5999"} {
		bs, bc := counted(t, fx.BAM)
		is, ic := counted(t, fx.BAI)
		if err := View(context.Background(), bs, is, io.Discard, ViewOptions{Regions: []string{reg}}); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: BAM %d bytes in %d reads (file %d), index %d bytes", reg, bc.bytes.Load(), bc.calls.Load(), st.Size(), ic.bytes.Load())
		// Header block + EOF check + one 64 KiB window (or two) for the chunk.
		if bc.bytes.Load() > 3*64<<10 {
			t.Errorf("%s read %d bytes of the BAM", reg, bc.bytes.Load())
		}
	}
}

// benchBAM returns a ~40 MB simulated BAM (460k read pairs on the abacas
// genome), building it once under .cache/bench/sim460k (about 75 s of CPU).
func benchBAM(b *testing.B) fixture {
	b.Helper()
	dir := filepath.Join(testenv.RepoRoot(b), ".cache", "bench", "sim460k")
	fx := fixture{Name: "sim40.bam", BAM: filepath.Join(dir, "sim.bam")}
	fx.BAI, fx.CSI = fx.BAM+".bai", fx.BAM+".csi"
	if _, err := os.Stat(fx.CSI); err == nil {
		return fx
	}
	if testing.Short() {
		b.Skip("building the 40 MB benchmark BAM is slow; run without -short")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	fx = simulatedBAM(b, dir, 460000)
	b.Logf("built %s in %v", fx.BAM, time.Since(start))
	return fx
}

// cpuTime is the user+system CPU time this process has used. The machine
// is shared, so CPU time compares fairly where wall time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkViewWhole(b *testing.B) {
	fx := benchBAM(b)
	st, _ := os.Stat(fx.BAM)
	b.SetBytes(st.Size())
	src := openSource(b, fx.BAM)
	start := cpuTime()
	for b.Loop() {
		if err := View(context.Background(), src, Source{}, io.Discard, ViewOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

func BenchmarkViewWholeNative(b *testing.B) {
	fx := benchBAM(b)
	tool := testenv.Tool(b, "samtools")
	st, _ := os.Stat(fx.BAM)
	b.SetBytes(st.Size())
	var cpu time.Duration
	for b.Loop() {
		cmd := exec.Command(tool, "view", "--no-PG", fx.BAM)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

func BenchmarkViewCount(b *testing.B) {
	fx := benchBAM(b)
	src := openSource(b, fx.BAM)
	start := cpuTime()
	for b.Loop() {
		if err := View(context.Background(), src, Source{}, io.Discard, ViewOptions{Count: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkRegion1kb reports the bytes a cold 1 kb region query reads.
func BenchmarkRegion1kb(b *testing.B) {
	fx := benchBAM(b)
	var bamBytes, idxBytes int64
	i := 0
	for b.Loop() {
		bs, bc := counted(b, fx.BAM)
		is, ic := counted(b, fx.BAI)
		beg := 100000 + (i%1000)*2000
		i++
		reg := fmt.Sprintf("all_bases:%d-%d", beg, beg+999)
		if err := View(context.Background(), bs, is, io.Discard, ViewOptions{Regions: []string{reg}}); err != nil {
			b.Fatal(err)
		}
		bamBytes += bc.bytes.Load()
		idxBytes += ic.bytes.Load()
	}
	b.ReportMetric(float64(bamBytes)/float64(b.N), "bam-bytes/op")
	b.ReportMetric(float64(idxBytes)/float64(b.N), "index-bytes/op")
}

// BenchmarkRegion1kbNativeHTTP reports the bytes `samtools view http://...`
// reads from an origin for the same 1 kb regions as BenchmarkRegion1kb.
func BenchmarkRegion1kbNativeHTTP(b *testing.B) {
	fx := benchBAM(b)
	tool := testenv.Tool(b, "samtools")
	var served atomic.Int64
	fs := http.FileServer(http.Dir(filepath.Dir(fx.BAM)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.ServeHTTP(countWriter{w, &served}, r)
	}))
	defer srv.Close()
	work := b.TempDir() // samtools may save a remote index in its working directory
	i := 0
	for b.Loop() {
		beg := 100000 + (i%1000)*2000
		i++
		cmd := exec.Command(tool, "view", "--no-PG", srv.URL+"/sim.bam", fmt.Sprintf("all_bases:%d-%d", beg, beg+999))
		cmd.Dir = work
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("%v: %s", err, stderr.Bytes())
		}
	}
	b.ReportMetric(float64(served.Load())/float64(b.N), "origin-bytes/op")
}

type countWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}
