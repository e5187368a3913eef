package samtools

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
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
	"github.com/edgenome/edgenome/plugins/internal/bam"
)

// Conformance: native `samtools view --no-PG` / `samtools idxstats` against
// this package on real BAMs. Any differing byte fails.

const pysamData = "usr/share/doc/python-pysam/tests/pysam_data"
const htslibTest = "usr/share/htslib-test/test"

type fixture struct {
	name string
	bam  string // path of the BAM
	bai  string // BAI path, "" if the BAM cannot be indexed
	csi  string // CSI path, "" if not made
}

// nativeRun runs samtools and returns stdout, failing on a non-zero exit.
func nativeTry(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	out, _, err := native(t, args...)
	return out, err
}

// native runs samtools and returns stdout, stderr and the exit error.
func native(t testing.TB, args ...string) ([]byte, string, error) {
	t.Helper()
	tool := testenv.Tool(t, "samtools")
	cmd := exec.Command(tool, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), stderr.String(), fmt.Errorf("%v: %s", err, stderr.Bytes())
	}
	return stdout.Bytes(), stderr.String(), nil
}

func openSource(t testing.TB, path string) Source {
	t.Helper()
	if path == "" {
		return Source{}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return Source{R: f, Size: st.Size(), Name: filepath.Base(path)}
}

// prepare copies (or gunzips) a BAM into dir and indexes it natively.
func prepare(t testing.TB, dir, src string) fixture {
	t.Helper()
	base := strings.TrimSuffix(filepath.Base(src), ".gz")
	base = strings.ReplaceAll(base, "#", "_")
	dst := filepath.Join(dir, base)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(src, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false) // Debian gzipped a BGZF file: one outer member
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fx := fixture{name: base, bam: dst}
	if _, err := nativeTry(t, "index", "-o", dst+".bai", dst); err == nil {
		fx.bai = dst + ".bai"
	}
	if _, err := nativeTry(t, "index", "-c", "-o", dst+".csi", dst); err == nil {
		fx.csi = dst + ".csi"
	}
	return fx
}

// fromSAM converts a SAM to a coordinate-sorted, indexed BAM natively.
func fromSAM(t testing.TB, dir, sam string) (fixture, bool) {
	t.Helper()
	base := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(sam), ".sam"), "#", "_") + ".bam"
	base = filepath.Base(filepath.Dir(sam)) + "_" + base // sub-folders reuse names
	dst := filepath.Join(dir, base)
	if _, err := nativeTry(t, "sort", "--no-PG", "-o", dst, sam); err != nil {
		return fixture{}, false
	}
	fx := fixture{name: base, bam: dst}
	if _, err := nativeTry(t, "index", "-o", dst+".bai", dst); err == nil {
		fx.bai = dst + ".bai"
	}
	if _, err := nativeTry(t, "index", "-c", "-o", dst+".csi", dst); err == nil {
		fx.csi = dst + ".csi"
	}
	return fx, true
}

var (
	fixOnce sync.Once
	fixList []fixture
	fixDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{fixDir, simDir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// fixtures prepares the test BAMs once per test binary.
func fixtures(t *testing.T) []fixture {
	t.Helper()
	testenv.Tool(t, "samtools")
	testenv.DataDir(t, "python-pysam-tests")
	testenv.DataDir(t, "htslib-test")
	fixOnce.Do(func() {
		dir, err := os.MkdirTemp("", "samtools-conformance")
		if err != nil {
			t.Fatal(err)
		}
		fixDir = dir
		fixList = buildFixtures(t, dir)
	})
	return fixList
}

func buildFixtures(t *testing.T, dir string) []fixture {
	var out []fixture
	pysam := testenv.DataDir(t, "python-pysam-tests")
	pfiles, _ := filepath.Glob(filepath.Join(pysam, pysamData, "*.bam*"))
	for _, p := range pfiles {
		b := filepath.Base(p)
		if strings.Contains(b, "corrupt") || strings.Contains(b, "truncated") || strings.HasSuffix(b, ".bai") || strings.HasSuffix(b, ".csi") {
			continue
		}
		out = append(out, prepare(t, dir, p))
	}
	hts := testenv.DataDir(t, "htslib-test")
	for _, b := range []string{"range.bam", "colons.bam", "no_hdr_sq_1.bam", "mpileup/small.bam"} {
		out = append(out, prepare(t, dir, filepath.Join(hts, htslibTest, b)))
	}
	sams, _ := filepath.Glob(filepath.Join(hts, htslibTest, "*.sam"))
	for _, sub := range []string{"sam_filter", "base_mods", "longrefs", "mpileup"} {
		more, _ := filepath.Glob(filepath.Join(hts, htslibTest, sub, "*.sam"))
		sams = append(sams, more...)
	}
	for _, s := range sams {
		if fx, ok := fromSAM(t, dir, s); ok {
			out = append(out, fx)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func viewArgs(opt ViewOptions) []string {
	args := []string{"view", "--no-PG"}
	if opt.Header {
		args = append(args, "-h")
	}
	if opt.HeaderOnly {
		args = append(args, "-H")
	}
	if opt.Count {
		args = append(args, "-c")
	}
	if opt.RequireFlags != 0 {
		args = append(args, "-f", fmt.Sprint(opt.RequireFlags))
	}
	if opt.ExcludeFlags != 0 {
		args = append(args, "-F", fmt.Sprint(opt.ExcludeFlags))
	}
	if opt.MinMapQ != 0 {
		args = append(args, "-q", fmt.Sprint(opt.MinMapQ))
	}
	return args
}

// compareView runs one case; it reports whether the case was compared.
func compareView(t *testing.T, fx fixture, index string, opt ViewOptions) {
	t.Helper()
	args := viewArgs(opt)
	if index != "" {
		args = append(args, "-X", fx.bam, index)
	} else {
		args = append(args, fx.bam)
	}
	args = append(args, opt.Regions...)
	want, stderr, nerr := native(t, args...)
	var got bytes.Buffer
	err := View(context.Background(), openSource(t, fx.bam), openSource(t, index), &got, opt)
	if strings.Contains(stderr, "specifies an invalid region") && err != nil {
		// samtools skips a bad region with a warning; we refuse the request.
		// ("*" and "." with no such records give a warning too, and the same
		// empty output from us.)
		if Status(err) != 400 {
			t.Errorf("%s %v: samtools rejects a region, we return %v", fx.name, args[1:], err)
		}
		return
	}
	if (nerr != nil) != (err != nil) {
		t.Errorf("%s %v: samtools error %v, ours %v", fx.name, args[1:], nerr, err)
	}
	if !bytes.Equal(want, got.Bytes()) {
		t.Errorf("%s %v: output differs (%d vs %d bytes), %s", fx.name, args[1:], len(want), got.Len(), testenv.FirstDiff(want, got.Bytes()))
	}
}

var wholeFileOpts = []ViewOptions{
	{},
	{Header: true},
	{HeaderOnly: true},
	{Count: true},
	{RequireFlags: 2},
	{ExcludeFlags: 4},
	{MinMapQ: 30},
	{Header: true, ExcludeFlags: 16, MinMapQ: 10},
	{Count: true, RequireFlags: 1, ExcludeFlags: 0x900},
	{Count: true, Header: true},
	{Count: true, HeaderOnly: true},
}

func TestConformanceViewWhole(t *testing.T) {
	n := 0
	for _, fx := range fixtures(t) {
		for _, opt := range wholeFileOpts {
			compareView(t, fx, "", opt)
			n++
		}
	}
	t.Logf("%d whole-file cases compared", n)
}

// regionsFor builds region strings for a BAM: whole references, windows,
// open ends, overlapping pairs, several references, "*" and ".".
func regionsFor(h *bam.Header, rng *rand.Rand) [][]string {
	var out [][]string
	for i, r := range h.Refs {
		if i >= 3 {
			break
		}
		name := r.Name
		if strings.Contains(name, ":") {
			name = "{" + name + "}"
		}
		L := int64(r.Len)
		if L == 0 {
			L = 1
		}
		out = append(out, []string{name})
		for k := 0; k < 3; k++ {
			b := rng.Int64N(L) + 1
			e := b + rng.Int64N(300)
			out = append(out, []string{fmt.Sprintf("%s:%d-%d", name, b, e)})
		}
		b := rng.Int64N(L) + 1
		out = append(out, []string{fmt.Sprintf("%s:%d", name, b)})
		out = append(out, []string{fmt.Sprintf("%s:-%d", name, b)})
		out = append(out, []string{fmt.Sprintf("%s:%d-%d", name, b, b)})
		// Overlapping regions print shared records twice, as samtools does.
		out = append(out, []string{fmt.Sprintf("%s:%d-%d", name, b, b+200), fmt.Sprintf("%s:%d-%d", name, b+100, b+400)})
	}
	if len(h.Refs) >= 2 {
		out = append(out, []string{h.Refs[1].Name, h.Refs[0].Name + ":1-1,000"})
	}
	out = append(out, []string{"*"}, []string{"."})
	return out
}

var regionOpts = []ViewOptions{{}, {Count: true}, {Header: true, ExcludeFlags: 4}, {RequireFlags: 1, MinMapQ: 20}}

func TestConformanceViewRegions(t *testing.T) {
	n := 0
	for _, fx := range fixtures(t) {
		if fx.bai == "" && fx.csi == "" {
			continue
		}
		br, err := bam.NewReader(openSource(t, fx.bam).R, openSource(t, fx.bam).Size, nil)
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		rng := rand.New(rand.NewPCG(uint64(len(fx.name)), 7))
		for ri, regs := range regionsFor(br.Header, rng) {
			if testing.Short() && ri%3 != 0 {
				continue
			}
			for k := 0; k < 2; k++ {
				opt := regionOpts[(ri+k)%len(regionOpts)]
				opt.Regions = regs
				idx := fx.bai
				if (ri%2 == 1 || idx == "") && fx.csi != "" {
					idx = fx.csi
				}
				compareView(t, fx, idx, opt)
				n++
			}
		}
	}
	t.Logf("%d region cases compared", n)
}

func TestConformanceIdxstats(t *testing.T) {
	n := 0
	for _, fx := range fixtures(t) {
		for _, idx := range []string{fx.bai, fx.csi} {
			if idx == "" {
				continue
			}
			// idxstats has no -X: put the index where samtools looks for it.
			d := t.TempDir()
			link := filepath.Join(d, "x.bam")
			if err := os.Symlink(fx.bam, link); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(idx, link+filepath.Ext(idx)); err != nil {
				t.Fatal(err)
			}
			want, nerr := nativeTry(t, "idxstats", link)
			var got bytes.Buffer
			err := Idxstats(context.Background(), openSource(t, fx.bam), openSource(t, idx), &got)
			if (nerr != nil) != (err != nil) {
				t.Errorf("%s idxstats %s: samtools error %v, ours %v", fx.name, filepath.Base(idx), nerr, err)
			}
			if !bytes.Equal(want, got.Bytes()) {
				t.Errorf("%s idxstats %s: %s", fx.name, filepath.Base(idx), testenv.FirstDiff(want, got.Bytes()))
			}
			n++
		}
	}
	t.Logf("%d idxstats cases compared", n)
}
