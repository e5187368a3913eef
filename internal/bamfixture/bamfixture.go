// Package bamfixture prepares real BAMs for conformance tests: the BAMs and
// SAMs of Debian's python-pysam-tests and htslib-test packages, copied (or
// sorted from SAM) into a folder and indexed by native samtools as BAI and
// CSI. The native tests of plugins/samtools and the HTTP tests of tests/
// compare the same files.
package bamfixture

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

// Where the Debian packages keep their test data.
const (
	PysamData  = "usr/share/doc/python-pysam/tests/pysam_data"
	HtslibTest = "usr/share/htslib-test/test"
)

// Fixture is one prepared BAM.
type Fixture struct {
	Name string // file name
	BAM  string // path of the BAM
	BAI  string // BAI path, "" if the BAM cannot be indexed
	CSI  string // CSI path, "" if not made
}

func samtools(t testing.TB, args ...string) error {
	t.Helper()
	cmd := exec.Command(testenv.Tool(t, "samtools"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v: %s", err, stderr.Bytes())
	}
	return nil
}

// Index makes the BAI and CSI of fx natively, where samtools can.
func Index(t testing.TB, fx *Fixture) {
	if err := samtools(t, "index", "-o", fx.BAM+".bai", fx.BAM); err == nil {
		fx.BAI = fx.BAM + ".bai"
	}
	if err := samtools(t, "index", "-c", "-o", fx.BAM+".csi", fx.BAM); err == nil {
		fx.CSI = fx.BAM + ".csi"
	}
}

// Prepare copies (or gunzips) a BAM into dir and indexes it natively.
func Prepare(t testing.TB, dir, src string) Fixture {
	t.Helper()
	base := strings.TrimSuffix(filepath.Base(src), ".gz")
	base = strings.ReplaceAll(base, "#", "_")
	dst := filepath.Join(dir, base)
	if strings.HasSuffix(src, ".gz") {
		// Debian gzipped some BAMs as they were: the BGZF file is inside.
		testenv.Gunzip(t, src, dst)
	} else {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fx := Fixture{Name: base, BAM: dst}
	Index(t, &fx)
	return fx
}

// FromSAM converts a SAM to a coordinate-sorted, indexed BAM natively.
func FromSAM(t testing.TB, dir, sam string) (Fixture, bool) {
	t.Helper()
	base := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(sam), ".sam"), "#", "_") + ".bam"
	base = filepath.Base(filepath.Dir(sam)) + "_" + base // sub-folders reuse names
	dst := filepath.Join(dir, base)
	if err := samtools(t, "sort", "--no-PG", "-o", dst, sam); err != nil {
		return Fixture{}, false
	}
	fx := Fixture{Name: base, BAM: dst}
	Index(t, &fx)
	return fx, true
}

// Build prepares every fixture in dir (which the caller removes), sorted by
// name. It skips the test when samtools or the data packages are missing
// (fails with EDGENOME_REQUIRE_TOOLS=1).
func Build(t testing.TB, dir string) []Fixture {
	t.Helper()
	testenv.Tool(t, "samtools")
	var out []Fixture
	pysam := testenv.DataDir(t, "python-pysam-tests")
	pfiles, _ := filepath.Glob(filepath.Join(pysam, PysamData, "*.bam*"))
	for _, p := range pfiles {
		b := filepath.Base(p)
		if strings.Contains(b, "corrupt") || strings.Contains(b, "truncated") || strings.HasSuffix(b, ".bai") || strings.HasSuffix(b, ".csi") {
			continue
		}
		out = append(out, Prepare(t, dir, p))
	}
	hts := testenv.DataDir(t, "htslib-test")
	for _, b := range []string{"range.bam", "colons.bam", "no_hdr_sq_1.bam", "mpileup/small.bam"} {
		out = append(out, Prepare(t, dir, filepath.Join(hts, HtslibTest, b)))
	}
	sams, _ := filepath.Glob(filepath.Join(hts, HtslibTest, "*.sam"))
	for _, sub := range []string{"sam_filter", "base_mods", "longrefs", "mpileup"} {
		more, _ := filepath.Glob(filepath.Join(hts, HtslibTest, sub, "*.sam"))
		sams = append(sams, more...)
	}
	for _, s := range sams {
		if fx, ok := FromSAM(t, dir, s); ok {
			out = append(out, fx)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Ref is a reference sequence of a BAM header.
type Ref struct {
	Name string
	Len  int64
}

// SQ reads the references of a SAM header's @SQ lines.
func SQ(header string) []Ref {
	var refs []Ref
	for _, line := range strings.Split(header, "\n") {
		if !strings.HasPrefix(line, "@SQ\t") {
			continue
		}
		var r Ref
		for _, f := range strings.Split(line, "\t")[1:] {
			if v, ok := strings.CutPrefix(f, "SN:"); ok {
				r.Name = v
			}
			if v, ok := strings.CutPrefix(f, "LN:"); ok {
				r.Len, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		if r.Name != "" {
			refs = append(refs, r)
		}
	}
	return refs
}

// Regions builds region arguments for a BAM with these references: whole
// references, windows, open ends, overlapping pairs, several references,
// "*" and ".".
func Regions(refs []Ref, rng *rand.Rand) [][]string {
	var out [][]string
	for i, r := range refs {
		if i >= 3 {
			break
		}
		name := r.Name
		if strings.Contains(name, ":") {
			name = "{" + name + "}"
		}
		L := max(r.Len, 1)
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
	if len(refs) >= 2 {
		out = append(out, []string{refs[1].Name, refs[0].Name + ":1-1,000"})
	}
	return append(out, []string{"*"}, []string{"."})
}
