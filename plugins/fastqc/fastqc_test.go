package fastqc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/plugins/internal/seqio"
	"github.com/google/go-cmp/cmp"
)

func TestComputeSmall(t *testing.T) {
	// Three reads: GC 50% (2 of 4), GC 100% with an N (ACGT bases only count),
	// an all-N read (GC undefined), and an empty read.
	in := "@a\nACGT\n+\nII5+\n@b\nGGN\n+\n!!#\n@c\nNN\n+\n~~\n@d\n\n+\n\n"
	res, err := Compute(context.Background(), strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	gc := make([]int64, 101)
	gc[50], gc[100] = 1, 1
	want := &Result{
		Version: 1, Reads: 4, Bases: 9,
		Length:      Length{Min: 0, Max: 4, Mean: 2.25, Histogram: [][2]int64{{0, 1}, {2, 1}, {3, 1}, {4, 1}}},
		GC:          GC{Histogram: gc, Undefined: 2, Mean: 75},
		Composition: Composition{A: 1, C: 1, G: 3, T: 1, N: 3},
		NRate:       3.0 / 9,
		Quality: Quality{Offset: 33, Histogram: hist(map[int]int64{0: 2, 2: 1, 10: 1, 20: 1, 40: 2, 93: 2}),
			Mean: float64(0+0+2+10+20+40+40+93+93) / 9, Quartiles: [3]int{2, 20, 40}},
		Positions: []Position{
			{Bases: [5]int64{1, 0, 1, 0, 1}, Quality: hist(map[int]int64{0: 1, 40: 1, 93: 1}), Mean: 133.0 / 3, Quartiles: [3]int{0, 40, 93}},
			{Bases: [5]int64{0, 1, 1, 0, 1}, Quality: hist(map[int]int64{0: 1, 40: 1, 93: 1}), Mean: 133.0 / 3, Quartiles: [3]int{0, 40, 93}},
			{Bases: [5]int64{0, 0, 1, 0, 1}, Quality: hist(map[int]int64{2: 1, 20: 1}), Mean: 11, Quartiles: [3]int{2, 2, 20}},
			{Bases: [5]int64{0, 0, 0, 1, 0}, Quality: hist(map[int]int64{10: 1}), Mean: 10, Quartiles: [3]int{10, 10, 10}},
		},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// hist builds a quality histogram trimmed, like Result's, to Q 93.
func hist(m map[int]int64) []int64 {
	h := make([]int64, MaxQual+1)
	for q, k := range m {
		h[q] = k
	}
	return h
}

func TestGCRounding(t *testing.T) {
	// 1 of 8 = 12.5% rounds up to 13; 1 of 3 = 33.3% to 33; 2 of 3 to 67.
	in := "@a\nGAAAAAAA\n+\nIIIIIIII\n@b\nCAT\n+\nIII\n@c\nGCT\n+\nIII\n"
	res, err := Compute(context.Background(), strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pct := range []int{13, 33, 67} {
		if res.GC.Histogram[pct] != 1 {
			t.Errorf("GC bin %d = %d, want 1 (histogram %v)", pct, res.GC.Histogram[pct], res.GC.Histogram)
		}
	}
}

func TestSample(t *testing.T) {
	in := "@a\nAC\n+\nII\n@b\nACG\n+\nIII\n@c\nA\n+\nI\n@d\nbroken"
	res, err := Compute(context.Background(), strings.NewReader(in), Options{Sample: 2})
	if err != nil {
		t.Fatal(err) // the damaged 4th record is never read
	}
	if res.Reads != 2 || res.Bases != 5 {
		t.Errorf("sample 2: %d reads, %d bases; want 2, 5", res.Reads, res.Bases)
	}
}

func TestErrors(t *testing.T) {
	long := strings.Repeat("A", 100)
	tests := []struct {
		name     string
		in       []byte
		p        Params
		kind     error
		badInput bool
		tooLarge bool
		where    string // part of the message
	}{
		{name: "empty", in: nil, kind: seqio.ErrEmpty, badInput: true},
		{name: "fasta", in: []byte(">chr1\nACGT\n"), kind: seqio.ErrFormat, badInput: true},
		{name: "binary", in: []byte{0, 1, 2, 3, 0xff}, kind: seqio.ErrFormat, badInput: true},
		{name: "truncated", in: []byte("@a\nAC\n+\nII\n@b\nAC\n"), kind: seqio.ErrTruncated, badInput: true, where: "record 2 (b)"},
		{name: "length mismatch", in: []byte("@a\nAC\n+\nIII\n"), kind: seqio.ErrLengthMismatch, badInput: true, where: "record 1 (a) at line 4"},
		{name: "quality range", in: []byte("@a\nAC\n+\nI\x1f\n"), kind: seqio.ErrQuality, badInput: true, where: "column 2"},
		{name: "truncated gzip", in: truncated(gzipBytes(t, bytes.Repeat([]byte("@a\nACGT\n+\nIIII\n"), 500), 1)), kind: seqio.ErrGzip, badInput: true},
		{name: "read too long", in: []byte("@a\n" + long + "\n+\n" + long + "\n"), p: Params{MaxReadLength: 50}, kind: seqio.ErrTooLong, tooLarge: true},
		{name: "bad format", in: []byte("@a\nA\n+\nI\n"), p: Params{Format: "html"}, kind: ErrParams, badInput: true},
		{name: "negative sample", in: []byte("@a\nA\n+\nI\n"), p: Params{Sample: -1}, kind: ErrParams, badInput: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(context.Background(), bytes.NewReader(tc.in), &bytes.Buffer{}, tc.p)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want %v", err, tc.kind)
			}
			if IsBadInput(err) != tc.badInput || IsTooLarge(err) != tc.tooLarge {
				t.Errorf("IsBadInput %v IsTooLarge %v, want %v %v (%v)", IsBadInput(err), IsTooLarge(err), tc.badInput, tc.tooLarge, err)
			}
			if !strings.Contains(err.Error(), tc.where) {
				t.Errorf("message %q does not say %q", err, tc.where)
			}
		})
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Run(ctx, strings.NewReader("@a\nA\n+\nI\n"), &bytes.Buffer{}, Params{})
	if !errors.Is(err, context.Canceled) || IsBadInput(err) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestMergeRejects(t *testing.T) {
	good, err := Compute(context.Background(), strings.NewReader("@a\nACGT\n+\nIIII\n@b\nAC\n+\nII\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	clone := func() Result {
		var r Result
		b, _ := json.Marshal(good)
		_ = json.Unmarshal(b, &r)
		return r
	}
	tamper := map[string]func(r *Result){
		"version":          func(r *Result) { r.Version = 2 },
		"reads":            func(r *Result) { r.Reads++ },
		"bases":            func(r *Result) { r.Bases-- },
		"length order":     func(r *Result) { h := r.Length.Histogram; h[0], h[1] = h[1], h[0] },
		"missing position": func(r *Result) { r.Positions = r.Positions[:3] },
		"position bases":   func(r *Result) { r.Positions[3].Bases[0]++ },
		"position quality": func(r *Result) { r.Positions[0].Quality[40]-- },
		"negative":         func(r *Result) { r.Positions[0].Bases[0] = -1; r.Positions[0].Bases[1] += 2 },
		"gc":               func(r *Result) { r.GC.Histogram[0]++ },
		"gc bins":          func(r *Result) { r.GC.Histogram = append(r.GC.Histogram, 0) },
		"too many quals":   func(r *Result) { r.Positions[0].Quality = make([]int64, 95) },
	}
	for name, f := range tamper {
		r := clone()
		f(&r)
		if _, err := Merge([]Result{clone(), r}); !errors.Is(err, ErrResult) || !IsBadInput(err) {
			t.Errorf("%s: got %v, want ErrResult", name, err)
		}
	}
	if _, err := Merge(nil); !errors.Is(err, ErrResult) {
		t.Errorf("empty merge: got %v", err)
	}
	for _, in := range []string{"", "{}", "[1]", `[{"version":1,"bogus":1}]`, "[] []"} {
		if err := RunMerge(context.Background(), strings.NewReader(in), &bytes.Buffer{}, Params{}); !errors.Is(err, ErrResult) {
			t.Errorf("RunMerge(%q): got %v, want ErrResult", in, err)
		}
	}
}

func TestFqchkNoReads(t *testing.T) {
	// seqtk prints its initial values and NaNs when every read is empty.
	var out bytes.Buffer
	if err := Run(context.Background(), strings.NewReader("@a\n\n+\n\n"), &out, Params{Format: "fqchk"}); err != nil {
		t.Fatal(err)
	}
	want := "min_len: 2147483647; max_len: 0; avg_len: -nan; 0 distinct quality values\n" +
		"POS\t#bases\t%A\t%C\t%G\t%T\t%N\tavgQ\terrQ\t%low\t%high\n" +
		"ALL\t0\t-nan\t-nan\t-nan\t-nan\t-nan\t-nan\t-0.0\t-nan\t-nan\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func truncated(b []byte) []byte { return b[:len(b)/2] }
