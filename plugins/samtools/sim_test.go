package samtools

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgenome/edgenome/internal/bamfixture"
	"github.com/edgenome/edgenome/internal/testenv"
)

// abacasFASTA writes the abacas example genome (2.1 Mb, one sequence) into dir.
func abacasFASTA(t testing.TB, dir string) string {
	t.Helper()
	src := testenv.File(t, "abacas-examples", "usr/share/doc/abacas-examples/SS_SC84.dna.gz")
	dst := filepath.Join(dir, "abacas.fa")
	testenv.Gunzip(t, src, dst)
	return dst
}

// simulatedBAM builds a sorted, indexed BAM from wgsim reads on the abacas
// genome aligned with minimap2: nPairs=20000 gives about 2.2 MB in about 3 s.
func simulatedBAM(t testing.TB, dir string, nPairs int) fixture {
	t.Helper()
	wgsim := testenv.Tool(t, "wgsim")
	mm2 := testenv.Tool(t, "minimap2")
	sam := testenv.Tool(t, "samtools")
	ref := abacasFASTA(t, dir)
	r1, r2 := filepath.Join(dir, "r1.fq"), filepath.Join(dir, "r2.fq")
	if out, err := exec.Command(wgsim, "-S", "11", "-N", fmt.Sprint(nPairs), "-1", "100", "-2", "100", ref, r1, r2).CombinedOutput(); err != nil {
		t.Fatalf("wgsim: %v: %s", err, out)
	}
	bamPath := filepath.Join(dir, "sim.bam")
	cmd := fmt.Sprintf("%s -a -x sr -t 1 %s %s %s 2>/dev/null | %s sort --no-PG -o %s -", mm2, ref, r1, r2, sam, bamPath)
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("align: %v: %s", err, out)
	}
	os.Remove(r1)
	os.Remove(r2)
	fx := fixture{Name: "sim.bam", BAM: bamPath}
	bamfixture.Index(t, &fx)
	if fx.BAI == "" || fx.CSI == "" {
		t.Fatal("samtools index failed on the simulated BAM")
	}
	return fx
}

var (
	simOnce sync.Once
	simFx   fixture
	simDir  string
)

// simFixture builds the 2.2 MB simulated BAM once per test binary.
func simFixture(t *testing.T) fixture {
	t.Helper()
	testenv.Tool(t, "wgsim")
	testenv.Tool(t, "minimap2")
	testenv.Tool(t, "samtools")
	simOnce.Do(func() {
		dir, err := os.MkdirTemp("", "samtools-sim")
		if err != nil {
			t.Fatal(err)
		}
		simDir = dir
		simFx = simulatedBAM(t, dir, 20000)
	})
	if simFx.BAM == "" {
		t.Fatal("simulated BAM not built")
	}
	return simFx
}

func TestConformanceSimulated(t *testing.T) {
	fx := simFixture(t)
	n := 0
	for _, opt := range wholeFileOpts {
		compareView(t, fx, "", opt)
		n++
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const L = 2130000
	for i := 0; i < 40; i++ {
		b := rng.Int64N(L) + 1
		regs := []string{fmt.Sprintf("all_bases:%d-%d", b, b+999)}
		switch i % 4 {
		case 1: // overlapping pair
			regs = append(regs, fmt.Sprintf("all_bases:%d-%d", b+500, b+1500))
		case 2: // several, out of order, with separators
			c := rng.Int64N(L) + 1
			regs = append(regs, fmt.Sprintf("all_bases:%s-%s", commas(c), commas(c+5000)))
		case 3: // open end
			regs = []string{fmt.Sprintf("all_bases:%d", L-rng.Int64N(20000))}
		}
		opt := regionOpts[i%len(regionOpts)]
		opt.Regions = regs
		idx := fx.BAI
		if i%2 == 1 {
			idx = fx.CSI
		}
		compareView(t, fx, idx, opt)
		n++
	}
	t.Logf("%d cases compared on a simulated BAM", n)
}

func commas(v int64) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func TestConformanceFaidx(t *testing.T) {
	testenv.Tool(t, "samtools")
	dir := t.TempDir()
	type ref struct {
		path    string
		regions []string
	}
	pysam := testenv.File(t, "python-pysam-tests", bamfixture.PysamData+"/ex1.fa")
	hts := testenv.DataDir(t, "htslib-test")
	var refs []ref
	copyTo := func(src string) string {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	refs = append(refs, ref{copyTo(pysam), []string{"chr1", "chr2:1-10", "chr1:1,000-1,005", "chr1:1570-1600",
		"chr1:1600-1700", "chr1:5", "chr2:-5", "{chr1}:3-4", "chr1:0-3", "chr1:0", "chr1:0-0", "chr1:1-0",
		"chr1:1575", "chr1:1576", "chr1:1-1e1", "chr1:1-1.5k", "chr1:-0", "chr1:", "chr1:0-", "chr1:61-120", "chr1:60-121"}})
	// faidx.fa is left out: it has a sequence with an empty name, which the
	// fai package refuses in a .fai although samtools writes one.
	for _, f := range []string{"ce.fa", "c1.fa", "md.fa"} {
		refs = append(refs, ref{path: copyTo(filepath.Join(hts, bamfixture.HtslibTest, f))})
	}
	refs = append(refs, ref{path: abacasFASTA(t, dir), regions: []string{"all_bases:1-1000", "all_bases:2,000,000-2,200,000", "all_bases"}})
	n := 0
	for _, r := range refs {
		if _, err := nativeTry(t, "faidx", r.path); err != nil {
			t.Logf("%s: samtools cannot index it: %v", filepath.Base(r.path), err)
			continue
		}
		idx, err := os.ReadFile(r.path + ".fai")
		if err != nil {
			t.Fatal(err)
		}
		regions := r.regions
		if regions == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(idx)), "\n") {
				f := strings.Split(line, "\t")
				regions = append(regions, f[0], f[0]+":2-9", f[0]+":10-1000000")
			}
		}
		for _, width := range []int{0, 60, 1, 7, 80} {
			for _, reg := range regions {
				args := []string{"faidx"}
				if width != 0 {
					args = append(args, "-n", fmt.Sprint(width))
				}
				args = append(args, r.path, reg)
				want, nerr := nativeTry(t, args...)
				var got bytes.Buffer
				err := Faidx(context.Background(), openSource(t, r.path), openSource(t, r.path+".fai"), &got, FaidxOptions{Regions: []string{reg}, LineWidth: width})
				n++
				if nerr != nil {
					if Status(err) != 400 {
						t.Errorf("faidx %v: samtools fails (%v), we return %v", args[1:], nerr, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("faidx %v: %v", args[1:], err)
				}
				if !bytes.Equal(want, got.Bytes()) {
					t.Errorf("faidx %v: %s", args[1:], testenv.FirstDiff(want, got.Bytes()))
				}
			}
		}
		// All regions in one call.
		want, nerr := nativeTry(t, append([]string{"faidx", r.path}, regions...)...)
		var got bytes.Buffer
		err = Faidx(context.Background(), openSource(t, r.path), openSource(t, r.path+".fai"), &got, FaidxOptions{Regions: regions})
		if nerr == nil && (err != nil || !bytes.Equal(want, got.Bytes())) {
			t.Errorf("faidx %s (all regions): %v %s", filepath.Base(r.path), err, testenv.FirstDiff(want, got.Bytes()))
		}
		n++
	}
	t.Logf("%d faidx cases compared", n)
}
