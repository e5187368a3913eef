package fastqc

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

// FuzzSplitMerge: for any input that parses, computing two parts split at a
// record boundary and merging them equals computing the whole.
func FuzzSplitMerge(f *testing.F) {
	f.Add([]byte("@a\nACGT\n+\nII5+\n@b\nGGN\n+\n!!#\n@c\nNN\n+\n~~\n@d\n\n+\n\n"), uint8(2))
	f.Add(generate(1, genSpec{reads: 20, minLen: 0, maxLen: 30, alphabet: "ACGTNn.", qmin: '!', qmax: '~', wrap: 7}), uint8(9))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		whole, err := Compute(context.Background(), bytes.NewReader(data), Options{MaxReadLength: 1 << 12})
		if err != nil {
			if !IsBadInput(err) && !IsTooLarge(err) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		recs := records(t, data)
		k := int(cut) % (len(recs) + 1)
		var parts []Result
		for _, chunk := range []string{strings.Join(recs[:k], ""), strings.Join(recs[k:], "")} {
			if chunk == "" {
				continue
			}
			r, err := Compute(context.Background(), strings.NewReader(chunk), Options{MaxReadLength: 1 << 12})
			if err != nil {
				t.Fatalf("chunk of valid records failed: %v", err)
			}
			parts = append(parts, decode(t, encode(t, r)))
		}
		merged, err := Merge(parts)
		if err != nil {
			t.Fatal(err)
		}
		if d := testenv.FirstDiff(encode(t, whole), encode(t, &merged)); d != "" {
			t.Fatalf("merge differs from whole:\n%s", d)
		}
	})
}

// FuzzRunMerge: arbitrary JSON never panics, and an accepted input merges to
// a result that merges to itself.
func FuzzRunMerge(f *testing.F) {
	r, err := Compute(context.Background(), strings.NewReader("@a\nACGT\n+\nII5+\n@b\nGGN\n+\n!!#\n"), Options{})
	if err != nil {
		f.Fatal(err)
	}
	one := strings.TrimSpace(string(encode(f, r)))
	f.Add("[" + one + "]")
	f.Add("[" + one + "," + one + "]")
	f.Add(`[{"version":1,"reads":0,"bases":0,"length":{"histogram":[]},"gc":{"histogram":[]},"positions":[]}]`)
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		if err := RunMerge(context.Background(), strings.NewReader(in), &out, Params{}); err != nil {
			if !IsBadInput(err) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		var again bytes.Buffer
		if err := RunMerge(context.Background(), strings.NewReader("["+out.String()+"]"), &again, Params{}); err != nil {
			t.Fatalf("re-merging our own output: %v", err)
		}
		if d := testenv.FirstDiff(out.Bytes(), again.Bytes()); d != "" {
			t.Fatalf("merge is not idempotent:\n%s", d)
		}
		var fq bytes.Buffer
		if err := RunMerge(context.Background(), strings.NewReader(in), &fq, Params{Format: "fqchk"}); err != nil {
			t.Fatalf("fqchk of an accepted merge: %v", err)
		}
	})
}
