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
	"github.com/edgenome/edgenome/plugins/internal/bam"
)

// Conformance: native `samtools view --no-PG` / `samtools idxstats` against
// this package on real BAMs. Any differing byte fails.

// fixture is a prepared real BAM (see internal/bamfixture).
type fixture = bamfixture.Fixture

// nativeTry runs samtools and returns stdout and the exit error.
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
		fixList = bamfixture.Build(t, dir)
	})
	return fixList
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
		args = append(args, "-X", fx.BAM, index)
	} else {
		args = append(args, fx.BAM)
	}
	args = append(args, opt.Regions...)
	want, stderr, nerr := native(t, args...)
	var got bytes.Buffer
	err := View(context.Background(), openSource(t, fx.BAM), openSource(t, index), &got, opt)
	if strings.Contains(stderr, "specifies an invalid region") && err != nil {
		// samtools skips a bad region with a warning; we refuse the request.
		// ("*" and "." with no such records give a warning too, and the same
		// empty output from us.)
		if Status(err) != 400 {
			t.Errorf("%s %v: samtools rejects a region, we return %v", fx.Name, args[1:], err)
		}
		return
	}
	if (nerr != nil) != (err != nil) {
		t.Errorf("%s %v: samtools error %v, ours %v", fx.Name, args[1:], nerr, err)
	}
	if !bytes.Equal(want, got.Bytes()) {
		t.Errorf("%s %v: output differs (%d vs %d bytes), %s", fx.Name, args[1:], len(want), got.Len(), testenv.FirstDiff(want, got.Bytes()))
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

var regionOpts = []ViewOptions{{}, {Count: true}, {Header: true, ExcludeFlags: 4}, {RequireFlags: 1, MinMapQ: 20}}

func TestConformanceViewRegions(t *testing.T) {
	n := 0
	for _, fx := range fixtures(t) {
		if fx.BAI == "" && fx.CSI == "" {
			continue
		}
		src := openSource(t, fx.BAM)
		br, err := bam.NewReader(src.R, src.Size, nil)
		if err != nil {
			t.Fatalf("%s: %v", fx.Name, err)
		}
		rng := rand.New(rand.NewPCG(uint64(len(fx.Name)), 7))
		refs := make([]bamfixture.Ref, len(br.Header.Refs))
		for i, r := range br.Header.Refs {
			refs[i] = bamfixture.Ref{Name: r.Name, Len: int64(r.Len)}
		}
		for ri, regs := range bamfixture.Regions(refs, rng) {
			if testing.Short() && ri%3 != 0 {
				continue
			}
			for k := 0; k < 2; k++ {
				opt := regionOpts[(ri+k)%len(regionOpts)]
				opt.Regions = regs
				idx := fx.BAI
				if (ri%2 == 1 || idx == "") && fx.CSI != "" {
					idx = fx.CSI
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
		for _, idx := range []string{fx.BAI, fx.CSI} {
			if idx == "" {
				continue
			}
			// idxstats has no -X: put the index where samtools looks for it.
			d := t.TempDir()
			link := filepath.Join(d, "x.bam")
			if err := os.Symlink(fx.BAM, link); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(idx, link+filepath.Ext(idx)); err != nil {
				t.Fatal(err)
			}
			want, nerr := nativeTry(t, "idxstats", link)
			var got bytes.Buffer
			err := Idxstats(context.Background(), openSource(t, fx.BAM), openSource(t, idx), &got)
			if (nerr != nil) != (err != nil) {
				t.Errorf("%s idxstats %s: samtools error %v, ours %v", fx.Name, filepath.Base(idx), nerr, err)
			}
			if !bytes.Equal(want, got.Bytes()) {
				t.Errorf("%s idxstats %s: %s", fx.Name, filepath.Base(idx), testenv.FirstDiff(want, got.Bytes()))
			}
			n++
		}
	}
	t.Logf("%d idxstats cases compared", n)
}
