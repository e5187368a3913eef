package tests

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

const wgsimPlugin = "plugins/wgsim"

// nativeWgsim runs wgsim on a FASTA and returns read1, read2 and the
// mutation list.
func nativeWgsim(t *testing.T, fasta string, args ...string) (r1, r2, muts string) {
	t.Helper()
	wgsim := testenv.Tool(t, "wgsim")
	dir := t.TempDir()
	o1, o2 := filepath.Join(dir, "1.fq"), filepath.Join(dir, "2.fq")
	cmd := exec.Command(wgsim, append(append([]string{}, args...), fasta, o1, o2)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wgsim %v: %v", args, err)
	}
	b1, _ := os.ReadFile(o1)
	b2, _ := os.ReadFile(o2)
	return string(b1), string(b2), string(out)
}

func faidx(t *testing.T, fasta string, regions ...string) string {
	t.Helper()
	out, err := exec.Command(testenv.Tool(t, "samtools"), append([]string{"faidx", fasta}, regions...)...).Output()
	if err != nil {
		t.Fatalf("samtools faidx: %v", err)
	}
	p := filepath.Join(t.TempDir(), "region.fa")
	os.WriteFile(p, out, 0o644)
	return p
}

// TestConformanceWgsimHTTP compares the plugin over HTTP with native wgsim.
func TestConformanceWgsimHTTP(t *testing.T) {
	h := startHost(t, "limits: {plugins: {wgsim: {param_max: {n: 50000}}}}\n", wgsimPlugin)
	demo := filepath.Join(demoDir, "demo.fa")
	cases := []struct {
		name    string
		regions []string
		query   string
		native  []string
	}{
		{"region default options", []string{"chr1:100,000-120,000"}, "n=2000&seed=7", []string{"-S", "7", "-N", "2000"}},
		{"two regions with N runs, haplotype, high mutation", []string{"chr2:1-60000", "chr1:5000-30000"},
			"n=3000&seed=99&haplotype=true&mutation_rate=0.05&indel_frac=0.5&indel_extend=0.6",
			[]string{"-S", "99", "-N", "3000", "-h", "-r", "0.05", "-R", "0.5", "-X", "0.6"}},
		{"error 0, long reads", []string{"chrM"}, "n=500&seed=3&error=0&length1=250&length2=150&distance=400&stdev=20",
			[]string{"-S", "3", "-N", "500", "-e", "0", "-1", "250", "-2", "150", "-d", "400", "-s", "20"}},
		{"whole reference", nil, "n=4000&seed=12345&ambiguous_max=0.5", []string{"-S", "12345", "-N", "4000", "-A", "0.5"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fa := demo
			q := c.query + "&ref=demo&coords=region"
			if len(c.regions) > 0 {
				fa = faidx(t, demo, c.regions...)
				for _, r := range c.regions {
					q += "&region=" + r
				}
			}
			r1, r2, muts := nativeWgsim(t, fa, c.native...)
			for _, out := range []struct{ export, output, want string }{
				{"simulate", "read1", r1}, {"simulate", "read2", r2}, {"mutations", "read1", muts},
			} {
				st, got, hdr := h.get(fmt.Sprintf("/plugin/wgsim/%s?%s&output=%s", out.export, q, out.output))
				if st != 200 || got != out.want {
					t.Errorf("%s %s: %d, %s", out.export, out.output, st, testenv.FirstDiff(out.want, got))
				}
				if hdr.Get("X-Seed") == "" {
					t.Errorf("no X-Seed header")
				}
			}
			// Absolute coordinates change only the read names.
			_, abs, _ := h.get("/plugin/wgsim/simulate?" + strings.Replace(q, "coords=region", "coords=absolute", 1) + "&output=read1")
			al, rl := strings.Split(abs, "\n"), strings.Split(r1, "\n")
			if len(al) != len(rl) {
				t.Fatalf("absolute: %d lines, region: %d", len(al), len(rl))
			}
			for i := range al {
				if i%4 != 0 && al[i] != rl[i] {
					t.Fatalf("absolute coords changed line %d: %q vs %q", i+1, al[i], rl[i])
				}
			}
		})
	}
}

func TestWgsimFastaURLAndSeeds(t *testing.T) {
	gz := testenv.File(t, "abacas-examples", "usr/share/doc/abacas-examples/SS_SC84.dna.gz")
	dir := t.TempDir()
	fa := filepath.Join(dir, "genome.fa")
	testenv.Gunzip(t, gz, fa)
	if out, err := exec.Command(testenv.Tool(t, "samtools"), "faidx", fa).CombinedOutput(); err != nil {
		t.Fatalf("faidx: %v %s", err, out)
	}
	o := serveDir(t, dir)
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.url, "http://")), wgsimPlugin)
	r1, _, _ := nativeWgsim(t, fa, "-S", "5", "-N", "5000", "-1", "100", "-2", "100")
	st, got, _ := h.get("/plugin/wgsim?fasta=" + o.url + "/genome.fa&n=5000&seed=5&length1=100&length2=100&output=read1")
	if st != 200 || got != r1 {
		t.Errorf("fasta URL: %d, %s", st, testenv.FirstDiff(r1, got))
	}
	// A random seed is reported and reproduces the run.
	st, first, hdr := h.get("/plugin/wgsim?ref=demo&region=chr3&n=100")
	seed := hdr.Get("X-Seed")
	if st != 200 || !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(seed) {
		t.Fatalf("seed: %d %q", st, seed)
	}
	if _, again, _ := h.get("/plugin/wgsim?ref=demo&region=chr3&n=100&seed=" + seed); again != first {
		t.Errorf("seed %s does not reproduce the run", seed)
	}
}

// TestReadmeExample is the call the README and the issue promise works on
// the embedded default's demo reference.
func TestReadmeExample(t *testing.T) {
	h := startHost(t, "", wgsimPlugin)
	st, body, _ := h.get("/plugin/wgsim?ref=demo&region=chr1:1000-2000&n=10")
	if st != 200 || strings.Count(body, "\n") != 80 || !strings.HasPrefix(body, "@chr1_") {
		t.Fatalf("README example: %d %.200q", st, body)
	}
}

func TestWgsimBadInput(t *testing.T) {
	h := startHost(t, "limits: {plugins: {wgsim: {param_max: {n: 50000}}}}\n", wgsimPlugin)
	cases := []struct{ query, code, msg string }{
		{"ref=demo&region=chr9", "bad_param", "chr9"},
		{"ref=demo&region=chr1:600,000-700,000", "bad_param", ""},
		{"ref=demo&region=chr1:2000-1000", "bad_param", ""},
		{"ref=demo&region=chrM:1-150&length1=200", "bad_param", ""},
		{"ref=demo&region=chr1:1-150&distance=60&stdev=5&length1=40&length2=40", "bad_param", "N"},
		{"ref=demo&n=50001", "bad_param", "server's maximum 50000"},
		{"ref=demo&error=1.5", "bad_param", "above the maximum 1"},
		{"n=10", "bad_param", "give ref"},
	}
	for _, c := range cases {
		st, body, hdr := h.get("/plugin/wgsim?" + c.query)
		t.Run(c.query, func(t *testing.T) { wantError(t, st, body, hdr, http.StatusBadRequest, c.code, c.msg) })
	}
}
