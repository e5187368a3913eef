package wgsim

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/plugins/internal/fai"
	"github.com/google/go-cmp/cmp"
)

// memRef builds an in-memory indexed FASTA (60 bases per line).
func memRef(t testing.TB, seqs ...genSeq) Reference {
	t.Helper()
	var b bytes.Buffer
	var idx strings.Builder
	for _, s := range seqs {
		name := strings.Fields(s.name)[0]
		b.WriteString(">" + s.name + "\n")
		off := b.Len()
		for i := 0; i < len(s.body); i += 60 {
			b.WriteString(s.body[i:min(i+60, len(s.body))] + "\n")
		}
		idx.WriteString(name + "\t" + strconv.Itoa(len(s.body)) + "\t" + strconv.Itoa(off) + "\t60\t61\n")
	}
	ix, err := fai.Parse(strings.NewReader(idx.String()))
	if err != nil {
		t.Fatal(err)
	}
	return Reference{FASTA: bytes.NewReader(b.Bytes()), Index: ix}
}

func randBases(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = "ACGT"[r.IntN(4)]
	}
	return string(b)
}

func TestRNGMatchesDrand48(t *testing.T) {
	// srand48(1) then drand48() x3 with glibc.
	r := newRNG(1)
	want := []float64{0.041630344771475, 0.454492444728629, 0.834817218166915}
	for i, w := range want {
		if got := r.next(); math.Abs(got-w) > 1e-12 {
			t.Fatalf("draw %d: got %.15f want %.15f", i, got, w)
		}
	}
}

func TestThreshold(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	ps := []float64{0, 1, 0.5, 0.02, 0.001, 0.3, 1e-300, math.Nextafter(1, 0), 0x1p-48, 3 * 0x1p-48}
	for range 200 {
		ps = append(ps, r.Float64())
	}
	for _, p := range ps {
		T := threshold(p)
		base := uint64(p * 0x1p48)
		for _, x := range []uint64{0, 1, base - 1, base, base + 1, T - 1, T, T + 1, mask48} {
			x &= mask48
			if got, want := x < T, float64(x)*0x1p-48 < p; got != want {
				t.Fatalf("p=%g x=%d: threshold says %v, drand48 compare %v", p, x, got, want)
			}
		}
	}
}

func TestAppendUint(t *testing.T) {
	for _, v := range []uint64{0, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, 1<<32 - 1, 1 << 32, 1<<32 + 5, 1<<64 - 1} {
		if got, want := string(appendUint(nil, v)), strconv.FormatUint(v, 10); got != want {
			t.Errorf("%d: got %s", v, got)
		}
		if got, want := string(appendHex(nil, v)), strconv.FormatUint(v, 16); got != want {
			t.Errorf("hex %d: got %s", v, got)
		}
	}
}

func TestPairShare(t *testing.T) {
	for _, tc := range []struct{ l, tot, n, want uint64 }{
		{6553, 11053, 200, 119}, // the example in the research notes
		{4000, 11053, 200, 72},
		{1, 2, 1, 1},  // exactly .5 rounds up
		{1, 4, 2, 1},  // 0.5 + 0.5
		{1, 3, 1, 0},  // 0.333 + 0.5
		{5, 10, 0, 0}, // no pairs
	} {
		if got := pairShare(tc.l, tc.tot, tc.n); got != tc.want {
			t.Errorf("pairShare(%d,%d,%d) = %d, want %d", tc.l, tc.tot, tc.n, got, tc.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	ref := memRef(t,
		genSeq{"chr1", randBases(r, 3000)},
		genSeq{"allN", strings.Repeat("N", 2000)},
		genSeq{"short", randBases(r, 700)},
		genSeq{"deadly", strings.Repeat("ACGTRYKMNN", 200)},
	)
	base := DefaultOptions()
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ivs  []Interval
		want error
	}{
		{"unknown sequence", nil, []Interval{{Seq: "chrX", Beg: 0, End: 100}}, ErrUnknownSequence},
		{"outside", nil, []Interval{{Seq: "chr1", Beg: 2000, End: 3001}}, ErrBadRegion},
		{"start after end", nil, []Interval{{Seq: "chr1", Beg: 2000, End: 1000}}, ErrBadRegion},
		{"empty", nil, []Interval{{Seq: "chr1", Beg: 1000, End: 1000}}, ErrBadRegion},
		{"negative", nil, []Interval{{Seq: "chr1", Beg: -1, End: 1000}}, ErrBadRegion},
		{"region shorter than d+3s", nil, []Interval{{Seq: "chr1", Beg: 0, End: 600}}, ErrRegionTooShort},
		{"read longer than region", func(c *Config) { c.Len1 = 800 }, []Interval{{Seq: "short", Beg: 0, End: 700}}, ErrReadTooLong},
		{"read longer than a sequence", func(c *Config) { c.Len2 = 1000 }, nil, ErrReadTooLong},
		{"all N region", nil, []Interval{{Seq: "allN", Beg: 0, End: 2000}}, ErrAllN},
		{"all N among regions", nil, []Interval{{Seq: "chr1", Beg: 0, End: 3000}, {Seq: "allN", Beg: 0, End: 2000}}, ErrAllN},
		{"never finishes", func(c *Config) {
			c.MutRate, c.IndelFrac, c.IndelExtend = 0.05, 0.9, 0.95
			c.Limits.maxPairTries = 1 << 15
		}, []Interval{{Seq: "deadly", Beg: 0, End: 2000}}, ErrNoReads},
		{"n above maximum", func(c *Config) { c.Pairs = 1001; c.Limits.MaxPairs = 1000 }, nil, ErrTooManyPairs},
		{"negative n", func(c *Config) { c.Pairs = -1 }, nil, ErrBadOption},
		{"error rate > 1", func(c *Config) { c.ErrorRate = 1.5 }, nil, ErrBadOption},
		{"NaN rate", func(c *Config) { c.MutRate = math.NaN() }, nil, ErrBadOption},
		{"zero length", func(c *Config) { c.Len1 = 0 }, nil, ErrBadOption},
		{"seed 0", func(c *Config) { c.Seed = 0 }, nil, ErrBadOption},
		{"seed too big", func(c *Config) { c.Seed = 1 << 31 }, nil, ErrBadOption},
		{"negative stdev", func(c *Config) { c.StdDev = -1 }, nil, ErrBadOption},
		{"mutation list too big", func(c *Config) { c.MutRate = 1; c.Limits.MaxMutations = 1000 }, nil, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Options: base}
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			var out bytes.Buffer
			_, err := Simulate(context.Background(), &out, ref, tc.ivs, cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if BadInput(err) != !errors.Is(tc.want, ErrTooLarge) {
				t.Errorf("BadInput(%v) = %v", err, BadInput(err))
			}
			if !errors.Is(err, ErrNoReads) && out.Len() != 0 {
				t.Errorf("%d bytes written before a validation error", out.Len())
			}
		})
	}
}

func TestCancel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	ref := memRef(t, genSeq{"chr1", randBases(r, 100000)})
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfter{n: 2, cancel: cancel}
	o := DefaultOptions()
	o.Pairs = 1_000_000
	_, err := Simulate(ctx, w, ref, nil, Config{Options: o})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if w.writes > 3 {
		t.Fatalf("%d writes after cancel", w.writes)
	}
}

type cancelAfter struct {
	n, writes int
	cancel    func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.writes++
	if c.writes == c.n {
		c.cancel()
	}
	return len(p), nil
}

// TestStreaming checks that output reaches the writer in bounded chunks
// long before the end, not in one piece.
func TestStreaming(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	ref := memRef(t, genSeq{"chr1", randBases(r, 50000)})
	o := DefaultOptions()
	o.Pairs = 5000
	w := &chunkWriter{}
	if _, err := Simulate(context.Background(), w, ref, nil, Config{Options: o}); err != nil {
		t.Fatal(err)
	}
	if len(w.sizes) < 5 {
		t.Fatalf("only %d writes", len(w.sizes))
	}
	for _, n := range w.sizes[:len(w.sizes)-1] {
		if n < flushAt || n > 2*flushAt {
			t.Fatalf("write of %d bytes", n)
		}
	}
}

type chunkWriter struct{ sizes []int }

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.sizes = append(c.sizes, len(p))
	return len(p), nil
}

// TestCoordsAndOutputs checks the documented name forms and that read1,
// read2 and interleaved outputs are consistent with one another.
func TestCoordsAndOutputs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	ref := memRef(t, genSeq{"chr7 comment", randBases(r, 5000)})
	o := DefaultOptions()
	o.Pairs, o.Len1, o.Len2 = 50, 60, 40
	ivs := []Interval{{Seq: "chr7", Beg: 1000, End: 4000, Name: "chr7:1,001-4,000"}}
	run := func(out Output, c Coords) string {
		var b bytes.Buffer
		if _, err := Simulate(context.Background(), &b, ref, ivs, Config{Options: o, Output: out, Coords: c}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	reg, abs := run(Read1, CoordsRegion), run(Read1, CoordsAbsolute)
	rl, al := strings.Split(reg, "\n"), strings.Split(abs, "\n")
	if len(rl) != len(al) {
		t.Fatal("line counts differ")
	}
	for i := range rl {
		if i%4 != 0 {
			if rl[i] != al[i] {
				t.Fatalf("line %d differs beyond the name", i)
			}
			continue
		}
		if rl[i] == "" {
			continue
		}
		f := strings.SplitN(strings.TrimPrefix(rl[i], "@chr7:1,001-4,000_"), "_", 3)
		a, _ := strconv.Atoi(f[0])
		b, _ := strconv.Atoi(f[1])
		if want := "@chr7_" + strconv.Itoa(a+1000) + "_" + strconv.Itoa(b+1000) + "_" + f[2]; al[i] != want {
			t.Fatalf("absolute name %q, want %q", al[i], want)
		}
	}
	// Read 1 records all have length 60, read 2 records 40.
	for i, l := range strings.Split(run(Read2, CoordsRegion), "\n") {
		if i%4 == 1 && len(l) != 40 {
			t.Fatalf("read2 sequence of length %d", len(l))
		}
	}
	inter := strings.Split(run(Interleaved, CoordsRegion), "\n")
	if len(inter) != 2*len(rl)-1 {
		t.Fatalf("interleaved has %d lines", len(inter))
	}
}

// TestMutationListQuirks pins the mutation-list formatting rules against a
// hand-built list (the conformance tests cover real runs).
func TestMutationListQuirks(t *testing.T) {
	muts := []mut{
		{pos: 0, w: [2]uint16{typeSubst | 2, typeSubst | 2}, ref: 0},          // hom A->G
		{pos: 1, w: [2]uint16{typeSubst | 3, 1}, ref: 1},                      // het C/T -> Y
		{pos: 3, w: [2]uint16{typeDelete, typeDelete}, ref: 3},                // hom deletion run...
		{pos: 4, w: [2]uint16{typeDelete | 5, typeDelete | 5}, ref: 5},        // ...over '-' prints NUL
		{pos: 5, w: [2]uint16{typeDelete | 4, typeDelete | 4}, ref: 4},        // ...over N prints N
		{pos: 7, w: [2]uint16{2<<12 | 0b0110<<4 | 0, 0}, ref: 0},              // het insertion CG on hap 0
		{pos: 8, w: [2]uint16{2, typeDelete}, ref: 2},                         // het deletion on hap 1: '-' zygosity
		{pos: 9, w: [2]uint16{1<<12<<0 | 3<<4 | 1, 1<<12 | 3<<4 | 1}, ref: 1}, // hom insertion T
	}
	got := string(appendMutations(nil, "c", 10, muts))
	want := "c\t11\tA\tG\t-\n" +
		"c\t12\tC\tY\t+\n" +
		"c\t14\tT\x00N\t-\t-\n" +
		"c\t18\t-\tGC\t+\n" +
		"c\t19\tG\t-\t-\n" +
		"c\t20\t-\tT\t-\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
}
