package kmer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// refCount is the obviously correct counter the tests compare against:
// every window of k bases inside a record, upper-cased, canonical by
// string comparison.
func refCount(records []string, k int, canonical bool) map[string]uint64 {
	m := map[string]uint64{}
	for _, rec := range records {
		rec = strings.ToUpper(rec)
		for i := 0; i+k <= len(rec); i++ {
			w := rec[i : i+k]
			if strings.Trim(w, "ACGT") != "" {
				continue
			}
			if canonical {
				w = min(w, refRC(w))
			}
			m[w]++
		}
	}
	return m
}

func refRC(s string) string {
	const comp = "TGCA" // of "ACGT"
	b := make([]byte, len(s))
	for i := range s {
		b[len(s)-1-i] = comp[strings.IndexByte("ACGT", s[i])]
	}
	return string(b)
}

// refDump formats ref like WriteDump(DumpColumn): sorted k-mers.
func refDump(ref map[string]uint64, lower uint64) string {
	keys := make([]string, 0, len(ref))
	for k, n := range ref {
		if n >= lower {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d\n", k, ref[k])
	}
	return b.String()
}

func randSeq(r *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func mustNew(t testing.TB, cfg Config) *Counter {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dumpString(t testing.TB, c *Counter, d DumpOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.WriteDump(context.Background(), &b, d); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestAgainstReference covers every k, both modes, N/IUPAC/lowercase,
// short and empty records, and table growth from the smallest size.
func TestAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var records []string
	for i := 0; i < 40; i++ {
		alphabet := "ACGT"
		switch i % 4 {
		case 1:
			alphabet = "ACGTacgtN"
		case 2:
			alphabet = "AAAAAAACGTRYN-"
		}
		records = append(records, randSeq(r, r.IntN(1500), alphabet))
	}
	records = append(records, "", "A", strings.Repeat("A", 500), strings.Repeat("ACGT", 300))
	for k := 1; k <= MaxK; k++ {
		for _, canonical := range []bool{true, false} {
			c := mustNew(t, Config{K: k, Canonical: canonical})
			for _, rec := range records {
				if err := c.AddSequence([]byte(rec)); err != nil {
					t.Fatal(err)
				}
			}
			ref := refCount(records, k, canonical)
			if got, want := c.Distinct(), uint64(len(ref)); got != want {
				t.Errorf("k=%d canonical=%v: distinct %d, want %d", k, canonical, got, want)
			}
			if diff := cmp.Diff(refDump(ref, 0), dumpString(t, c, DumpOptions{})); diff != "" {
				t.Fatalf("k=%d canonical=%v: dump differs (-want +got):\n%s", k, canonical, diff)
			}
		}
	}
}

// TestPiecesEqualWhole: a record fed in arbitrary pieces counts the same
// k-mers as the whole record (k-mers span Add calls, not EndRecord).
func TestPiecesEqualWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	seq := []byte(randSeq(r, 20000, "ACGTACGTACGTn"))
	for _, k := range []int{1, 2, 7, 21, 31} {
		whole := mustNew(t, Config{K: k, Canonical: true})
		if err := whole.AddSequence(seq); err != nil {
			t.Fatal(err)
		}
		pieces := mustNew(t, Config{K: k, Canonical: true})
		for rest := seq; len(rest) > 0; {
			n := min(len(rest), r.IntN(2*k+1))
			if err := pieces.Add(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		pieces.EndRecord()
		if diff := cmp.Diff(dumpString(t, whole, DumpOptions{}), dumpString(t, pieces, DumpOptions{})); diff != "" {
			t.Errorf("k=%d: pieces differ:\n%s", k, diff)
		}
		if whole.Total() != pieces.Total() {
			t.Errorf("k=%d: total %d vs %d", k, whole.Total(), pieces.Total())
		}
	}
}

// TestLargeCounts drives counts past the packed field (16383 at k=31) into
// the overflow map, and past the dense histogram range.
func TestLargeCounts(t *testing.T) {
	seq := []byte(strings.Repeat("A", 40000) + "N" + strings.Repeat("AC", 20000))
	for _, k := range []int{31, 30, 12, 1} {
		c := mustNew(t, Config{K: k})
		if err := c.AddSequence(seq); err != nil {
			t.Fatal(err)
		}
		ref := refCount([]string{string(seq)}, k, false)
		if diff := cmp.Diff(refDump(ref, 0), dumpString(t, c, DumpOptions{})); diff != "" {
			t.Errorf("k=%d:\n%s", k, diff)
		}
		key, _ := ParseKmer(strings.Repeat("A", k), k)
		if got, want := c.Count(key), ref[strings.Repeat("A", k)]; got != want {
			t.Errorf("k=%d: Count(A...) = %d, want %d", k, got, want)
		}
	}
}

// TestPresized: ExpectedBases only changes the initial size, never a count.
func TestPresized(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	seq := []byte(randSeq(r, 200000, "ACGT"))
	var dumps []string
	for _, exp := range []int64{0, 1000, 200000, 1 << 24} {
		c := mustNew(t, Config{K: 21, Canonical: true, ExpectedBases: exp})
		if err := c.AddSequence(seq); err != nil {
			t.Fatal(err)
		}
		dumps = append(dumps, dumpString(t, c, DumpOptions{}))
	}
	for i := 1; i < len(dumps); i++ {
		if dumps[i] != dumps[0] {
			t.Errorf("expected-bases case %d differs", i)
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	seq := []byte(randSeq(r, 1<<20, "ACGT"))
	c := mustNew(t, Config{K: 21, Canonical: true, MaxBytes: 2 << 20})
	err := c.AddSequence(seq)
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrTooManyKmers) {
		t.Fatalf("got %v, want a *LimitError", err)
	}
	if le.Limit != 2<<20 || le.K != 21 || le.Distinct == 0 {
		t.Errorf("limit error fields: %+v", le)
	}
	if !strings.Contains(err.Error(), "2 MiB") {
		t.Errorf("message does not name the limit: %v", err)
	}
	if c.PeakBytes() > 2<<20 {
		t.Errorf("peak %d bytes over the 2 MiB budget", c.PeakBytes())
	}
	if err2 := c.Add([]byte("ACGT")); err2 != err {
		t.Errorf("error not sticky: %v", err2)
	}
	if err2 := c.WriteHisto(context.Background(), &bytes.Buffer{}, DefaultHistoOptions()); err2 != err {
		t.Errorf("histo after failure: %v", err2)
	}
}

func TestNewErrors(t *testing.T) {
	for _, cfg := range []Config{
		{K: 0}, {K: 32}, {K: -1}, {K: 21, MaxBytes: 1000}, {K: 21, MaxBytes: 1 << 40}, {K: 5, ExpectedBases: -1},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrBadParam) {
			t.Errorf("New(%+v) = %v, want ErrBadParam", cfg, err)
		}
	}
}

func TestParseKmer(t *testing.T) {
	// Expectations observed with jellyfish 2.3.0 query on k=3 databases.
	for _, tc := range []struct {
		in   string
		k    int
		want string // "" for ErrBadKmer
	}{
		{"ACG", 3, "ACG"},
		{"acg", 3, "ACG"},
		{"ACGT", 3, "ACG"},
		{"ACGTT", 3, "ACG"},
		{"ACN", 3, "ACA"},
		{"GGN", 3, "GGA"},
		{"NGG", 3, "AAA"},
		{"NNN", 3, "AAA"},
		{"A-G", 3, "AAA"},
		{"xyz", 3, "AAA"},
		{"AC", 3, ""},
		{"", 3, ""},
		{"", 1, ""},
		{"T", 1, "T"},
		{strings.Repeat("T", 31), 31, strings.Repeat("T", 31)},
		{"ACGTACGTACGTACGTACGTACGTACGTACG", 31, "ACGTACGTACGTACGTACGTACGTACGTACG"},
	} {
		key, err := ParseKmer(tc.in, tc.k)
		if tc.want == "" {
			if !errors.Is(err, ErrBadKmer) {
				t.Errorf("ParseKmer(%q, %d) error = %v, want ErrBadKmer", tc.in, tc.k, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseKmer(%q, %d): %v", tc.in, tc.k, err)
			continue
		}
		if got := string(AppendKmer(nil, key, tc.k)); got != tc.want {
			t.Errorf("ParseKmer(%q, %d) = %s, want %s", tc.in, tc.k, got, tc.want)
		}
	}
}

// TestQueryJellyfishExample replays a jellyfish 2.3.0 session:
// count -m 3 -C on ">a ACGTacgtNNACGTTGCA GGCCAAT >b TTTTTTTTTT", then
// query AAA TTT acg CGT ACN ACGT GGG (AC is refused here, skipped there).
func TestQueryJellyfishExample(t *testing.T) {
	recs := []string{"ACGTacgtNNACGTTGCAGGCCAAT", "TTTTTTTTTT"}
	for _, restrict := range []bool{false, true} {
		c := mustNew(t, Config{K: 3, Canonical: true})
		q := []string{"AAA", "TTT", "acg", "CGT", "ACN", "ACGT", "GGG"}
		if restrict {
			if err := c.Restrict(q); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range recs {
			if err := c.AddSequence([]byte(r)); err != nil {
				t.Fatal(err)
			}
		}
		var b bytes.Buffer
		if err := c.WriteQuery(context.Background(), &b, q); err != nil {
			t.Fatal(err)
		}
		want := "AAA 8\nAAA 8\nACG 6\nACG 6\nACA 0\nACG 6\nCCC 0\n"
		if diff := cmp.Diff(want, b.String()); diff != "" {
			t.Errorf("restrict=%v (-want +got):\n%s", restrict, diff)
		}
		if err := c.WriteQuery(context.Background(), &b, []string{"ACG", "AC"}); !errors.Is(err, ErrBadKmer) {
			t.Errorf("short k-mer: %v, want ErrBadKmer", err)
		}
		if restrict {
			if err := c.WriteHisto(context.Background(), &b, DefaultHistoOptions()); !errors.Is(err, ErrState) {
				t.Errorf("histo on query-only counter: %v", err)
			}
		} else {
			b.Reset()
			if err := c.WriteHisto(context.Background(), &b, DefaultHistoOptions()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff("1 5\n2 4\n6 1\n8 1\n", b.String()); diff != "" {
				t.Errorf("histo (-want +got):\n%s", diff)
			}
		}
	}
}

// TestHistoOptions replays jellyfish 2.3.0 histo runs on a k=4 count where
// 21 k-mers have the counts below.
func TestHistoOptions(t *testing.T) {
	counts := []int{1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 15, 20, 25, 99, 100, 101, 10000, 10001, 10002, 20000}
	c := mustNew(t, Config{K: 4})
	for i, n := range counts {
		kmer := AppendKmer(nil, uint64(i), 4)
		for j := 0; j < n; j++ {
			if err := c.AddSequence(kmer); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := func(low, high, inc uint64, full bool) HistoOptions { return HistoOptions{low, high, inc, full} }
	for _, tc := range []struct {
		opt  HistoOptions
		want string
	}{
		{DefaultHistoOptions(), "1 1\n2 1\n3 1\n4 1\n5 1\n6 1\n7 1\n9 1\n10 1\n11 1\n12 1\n15 1\n20 1\n25 1\n99 1\n100 1\n101 1\n10000 1\n10001 3\n"},
		{h(5, 10000, 1, false), "4 4\n5 1\n6 1\n7 1\n9 1\n10 1\n11 1\n12 1\n15 1\n20 1\n25 1\n99 1\n100 1\n101 1\n10000 1\n10001 3\n"},
		{h(5, 10000, 3, false), "2 4\n5 3\n8 2\n11 2\n14 1\n20 1\n23 1\n98 2\n101 1\n9998 1\n10001 3\n"},
		{h(2, 20, 5, false), "0 4\n5 4\n10 3\n15 1\n20 1\n25 8\n"},
		{h(1, 10, 4, false), "0 3\n4 4\n8 3\n12 11\n"},
		{h(10, 10, 1, false), "9 8\n10 1\n11 12\n"},
		{h(3, 10000, 3, false), "0 2\n3 3\n6 2\n9 3\n12 1\n15 1\n18 1\n24 1\n99 3\n9999 2\n10002 2\n"},
		{h(7, 15, 3, true), "4 6\n7 2\n10 3\n13 1\n16 9\n"},
		{h(2, 20, 5, true), "0 4\n5 4\n10 3\n15 1\n20 1\n25 8\n"},
		{h(1, 3, 1, true), "0 0\n1 1\n2 1\n3 1\n4 18\n"},
	} {
		var b bytes.Buffer
		if err := c.WriteHisto(context.Background(), &b, tc.opt); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, b.String()); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tc.opt, diff)
		}
	}
	for _, bad := range []HistoOptions{h(0, 10, 1, false), h(5, 4, 1, false), h(1, 10, 0, false), h(1, 1<<40, 1, true), h(1, 1<<63, 1, false)} {
		if err := c.WriteHisto(context.Background(), &bytes.Buffer{}, bad); !errors.Is(err, ErrBadParam) {
			t.Errorf("%+v: %v, want ErrBadParam", bad, err)
		}
	}
}

func TestTop(t *testing.T) {
	c := mustNew(t, Config{K: 2})
	// AA x3, then AC CA x2 (tie), GT TG CC... x1
	for _, s := range []string{"AAAA", "ACAC", "GTG", "CC"} {
		if err := c.AddSequence([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{1, "AA\t3\n"},
		{2, "AA\t3\nAC\t2\n"},
		{3, "AA\t3\nAC\t2\nCA\t1\n"},
		{100, "AA\t3\nAC\t2\nCA\t1\nCC\t1\nGT\t1\nTG\t1\n"},
	} {
		var b bytes.Buffer
		if err := c.WriteTop(context.Background(), &b, tc.n); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, b.String()); diff != "" {
			t.Errorf("top %d (-want +got):\n%s", tc.n, diff)
		}
	}
	for _, n := range []int{0, -1, MaxTop + 1} {
		if err := c.WriteTop(context.Background(), &bytes.Buffer{}, n); !errors.Is(err, ErrBadParam) {
			t.Errorf("top %d: %v", n, err)
		}
	}
}

// TestTopAgainstReference: the heap selection equals a full sort.
func TestTopAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	rec := randSeq(r, 50000, "AACGT")
	c := mustNew(t, Config{K: 6, Canonical: true})
	if err := c.AddSequence([]byte(rec)); err != nil {
		t.Fatal(err)
	}
	type kv struct {
		k string
		n uint64
	}
	var all []kv
	for k, n := range refCount([]string{rec}, 6, true) {
		all = append(all, kv{k, n})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if a.n != b.n {
			return int(b.n) - int(a.n)
		}
		return strings.Compare(a.k, b.k)
	})
	for _, n := range []int{1, 7, 100, 5000} {
		var want strings.Builder
		for _, e := range all[:min(n, len(all))] {
			fmt.Fprintf(&want, "%s\t%d\n", e.k, e.n)
		}
		var b bytes.Buffer
		if err := c.WriteTop(context.Background(), &b, n); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), b.String()); diff != "" {
			t.Errorf("top %d:\n%s", n, diff)
		}
	}
}

func TestDumpFormats(t *testing.T) {
	c := mustNew(t, Config{K: 3, Canonical: true})
	if err := c.AddSequence([]byte("ACGTacgtNNACGTTGCAGGCCAAT")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    DumpOptions
		want string
	}{
		{DumpOptions{Lower: 2}, "ACG 6\nCAA 2\nGCA 2\nGCC 2\nGTA 2\n"},
		{DumpOptions{Lower: 2, Upper: 2, Format: DumpTab}, "CAA\t2\nGCA\t2\nGCC\t2\nGTA\t2\n"},
		{DumpOptions{Lower: 3, Format: DumpFASTA}, ">6\nACG\n"},
		{DumpOptions{Lower: 7}, ""},
	} {
		if diff := cmp.Diff(tc.want, dumpString(t, c, tc.d)); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tc.d, diff)
		}
	}
	// After the in-place sort, queries still work and counting is refused.
	if key, _ := ParseKmer("CGT", 3); c.Count(Canonical(key, 3)) != 6 {
		t.Errorf("Count after dump = %d", c.Count(Canonical(key, 3)))
	}
	if err := c.Add([]byte("ACGT")); !errors.Is(err, ErrState) {
		t.Errorf("Add after dump: %v", err)
	}
	if err := c.WriteDump(context.Background(), &bytes.Buffer{}, DumpOptions{Format: 7}); !errors.Is(err, ErrBadParam) {
		t.Errorf("bad format: %v", err)
	}
}

func TestCanceled(t *testing.T) {
	c := mustNew(t, Config{K: 5})
	if err := c.AddSequence([]byte("ACGTACGTAGCTAGCTAGCATCGAT")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.WriteDump(ctx, &bytes.Buffer{}, DumpOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("dump: %v", err)
	}
	if err := c.WriteHisto(ctx, &bytes.Buffer{}, DefaultHistoOptions()); !errors.Is(err, context.Canceled) {
		t.Errorf("histo: %v", err)
	}
}

func TestRestrictErrors(t *testing.T) {
	c := mustNew(t, Config{K: 4})
	if err := c.Restrict([]string{"ACGT", "AC"}); !errors.Is(err, ErrBadKmer) {
		t.Errorf("short: %v", err)
	}
	c = mustNew(t, Config{K: 4})
	if err := c.AddSequence([]byte("ACGT")); err != nil {
		t.Fatal(err)
	}
	if err := c.Restrict([]string{"ACGT"}); !errors.Is(err, ErrState) {
		t.Errorf("restrict after add: %v", err)
	}
}
