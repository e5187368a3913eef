package fastqc

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
	"github.com/edgenome/edgenome/plugins/internal/seqio"
)

// records splits FASTQ text into its records' serialised forms (one string
// per record, 4 lines each) using seqio.
func records(t testing.TB, data []byte) []string {
	t.Helper()
	r, err := seqio.NewReader(bytes.NewReader(data), seqio.Options{Want: seqio.FASTQ})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "@"+string(rec.Header)+"\n"+string(rec.Seq)+"\n+\n"+string(rec.Qual)+"\n")
	}
}

func runJSON(t testing.TB, in []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Run(context.Background(), bytes.NewReader(in), &out, Params{}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func decode(t testing.TB, b []byte) Result {
	t.Helper()
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func encode(t testing.TB, r *Result) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := WriteJSON(&out, r); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// split cuts recs into len(cuts)+1 chunks at the given record indexes.
func split(recs []string, cuts []int) [][]byte {
	var chunks [][]byte
	prev := 0
	for _, c := range append(cuts, len(recs)) {
		chunks = append(chunks, []byte(strings.Join(recs[prev:c], "")))
		prev = c
	}
	return chunks
}

func gunzipIf(t testing.TB, data []byte) []byte {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gasicText(t testing.TB) []byte {
	return testenv.Gunzip(t, testenv.File(t, "gasic-examples", gasicReads), "")
}

// TestMergeEqualsWhole proves the merge rule on the real gasic run: the
// results of chunks split at record boundaries, merged in any grouping,
// equal the result of the whole file byte for byte (JSON and fqchk).
func TestMergeEqualsWhole(t *testing.T) {
	data := gasicText(t)
	if testing.Short() {
		data = data[:bytes.Index(data, []byte("\n@SRR059298.5001."))+1]
	}
	recs := records(t, data)
	whole := runJSON(t, data)
	var wholeFq bytes.Buffer
	wr := decode(t, whole)
	if err := WriteFqchk(&wholeFq, &wr, 20); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(7, 7))
	splits := map[string][]int{
		"halves":       {len(recs) / 2},
		"first record": {1},
		"last record":  {len(recs) - 1},
		"empty chunks": {0, 0, len(recs) / 3, len(recs) / 3, len(recs)},
		"three":        {len(recs) / 3, 2 * len(recs) / 3},
		"single reads": {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
	}
	for _, k := range []int{5, 17, 64} {
		cuts := make([]int, k)
		for i := range cuts {
			cuts[i] = rng.IntN(len(recs) + 1)
		}
		slices.Sort(cuts)
		splits[fmt.Sprintf("random %d cuts", k)] = cuts
	}
	for name, cuts := range splits {
		t.Run(name, func(t *testing.T) {
			chunks := split(recs, cuts)
			var parts []Result
			var raw [][]byte
			for i, c := range chunks {
				if len(c) == 0 {
					continue // an empty chunk is an error (ErrEmpty), not a result
				}
				if i%2 == 1 {
					c = gzipBytes(t, c, 1+i%3)
				}
				b := runJSON(t, c)
				raw = append(raw, bytes.TrimSpace(b))
				parts = append(parts, decode(t, b))
			}
			// Flat merge through the JSON endpoint.
			var got bytes.Buffer
			in := "[" + string(bytes.Join(raw, []byte(","))) + "]"
			if err := RunMerge(context.Background(), strings.NewReader(in), &got, Params{}); err != nil {
				t.Fatal(err)
			}
			if d := testenv.FirstDiff(whole, got.Bytes()); d != "" {
				t.Fatalf("merged JSON differs from the whole file's:\n%s", d)
			}
			// Tree merge in reverse order.
			for len(parts) > 1 {
				var next []Result
				for i := len(parts) - 1; i >= 0; i -= 2 {
					pair := []Result{parts[i]}
					if i > 0 {
						pair = append(pair, parts[i-1])
					}
					m, err := Merge(pair)
					if err != nil {
						t.Fatal(err)
					}
					next = append(next, decode(t, encode(t, &m)))
				}
				parts = next
			}
			if d := testenv.FirstDiff(whole, encode(t, &parts[0])); d != "" {
				t.Fatalf("tree-merged JSON differs:\n%s", d)
			}
			var fq bytes.Buffer
			if err := RunMerge(context.Background(), strings.NewReader(in), &fq, Params{Format: "fqchk"}); err != nil {
				t.Fatal(err)
			}
			if d := testenv.FirstDiff(wholeFq.Bytes(), fq.Bytes()); d != "" {
				t.Fatalf("fqchk of the merge differs:\n%s", d)
			}
		})
	}
}
