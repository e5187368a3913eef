package fai

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// buildFASTA lays out seqs like samtools expects (fixed line length, eol
// terminator) and returns the file and its index.
func buildFASTA(names []string, seqs []string, lineBases int, eol string) ([]byte, *Index) {
	var b bytes.Buffer
	ix := &Index{byName: map[string]int{}}
	for i, s := range seqs {
		b.WriteString(">" + names[i] + " some description" + eol)
		e := Entry{Name: names[i], Length: int64(len(s)), Offset: int64(b.Len()),
			LineBases: int64(lineBases), LineWidth: int64(lineBases + len(eol))}
		for j := 0; j < len(s); j += lineBases {
			b.WriteString(s[j:min(j+lineBases, len(s))] + eol)
		}
		ix.byName[e.Name] = len(ix.Entries)
		ix.Entries = append(ix.Entries, e)
	}
	return b.Bytes(), ix
}

func randSeq(r *rand.Rand, n int) string {
	const alpha = "ACGTacgtNn"
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[r.IntN(len(alpha))]
	}
	return string(b)
}

func TestAppendEveryInterval(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seqs := []string{randSeq(r, 1), randSeq(r, 61), randSeq(r, 120), randSeq(r, 233)}
	names := []string{"a", "b", "c", "d"}
	for _, eol := range []string{"\n", "\r\n"} {
		for _, lb := range []int{1, 7, 60} {
			file, ix := buildFASTA(names, seqs, lb, eol)
			ra := bytes.NewReader(file)
			for si, s := range seqs {
				e := ix.Entries[si]
				for beg := 0; beg <= len(s); beg++ {
					for end := beg; end <= len(s); end++ {
						got, _, err := e.Append([]byte("x"), ra, int64(beg), int64(end), nil)
						if err != nil {
							t.Fatalf("eol %q lb %d %s [%d,%d): %v", eol, lb, e.Name, beg, end, err)
						}
						if string(got) != "x"+s[beg:end] {
							t.Fatalf("eol %q lb %d %s [%d,%d): got %q want %q", eol, lb, e.Name, beg, end, got[1:], s[beg:end])
						}
					}
				}
			}
		}
	}
}

// countingReaderAt proves a fetch touches only the bytes it needs.
type countingReaderAt struct {
	r     io.ReaderAt
	calls int
	bytes int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	c.bytes += len(p)
	return c.r.ReadAt(p, off)
}

func TestAppendSingleRangedRead(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := randSeq(r, 10000)
	file, ix := buildFASTA([]string{"chr"}, []string{s}, 60, "\r\n")
	cr := &countingReaderAt{r: bytes.NewReader(file)}
	got, _, err := ix.Entries[0].Append(nil, cr, 1234, 1334, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != s[1234:1334] {
		t.Fatalf("got %q", got)
	}
	// 100 bases over at most 3 lines of 60 with 2-byte terminators.
	if cr.calls != 1 || cr.bytes > 100+2*2 {
		t.Fatalf("%d calls, %d bytes", cr.calls, cr.bytes)
	}
}

func TestReaderStreams(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	s := randSeq(r, 5000)
	file, ix := buildFASTA([]string{"chr"}, []string{s}, 61, "\n")
	for _, chunk := range []int{1, 7, 1000, 5000, 0} {
		sr, err := NewReader(bytes.NewReader(file), ix.Entries[0], 17, 4999, chunk)
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		for {
			b, err := sr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if chunk > 0 && len(b) > chunk {
				t.Fatalf("chunk %d: got %d bases", chunk, len(b))
			}
			all = append(all, b...)
		}
		if string(all) != s[17:4999] {
			t.Fatalf("chunk %d: mismatch", chunk)
		}
	}
}

func TestAppendErrors(t *testing.T) {
	file, ix := buildFASTA([]string{"chr"}, []string{"ACGTACGTAC"}, 4, "\n")
	e := ix.Entries[0]
	for _, tc := range []struct {
		beg, end int64
		file     []byte
		want     error
	}{
		{-1, 3, file, ErrRange},
		{5, 4, file, ErrRange},
		{0, 11, file, ErrRange},
		{0, 10, file[:len(file)-3], ErrTruncated},
		{0, 10, bytes.Replace(file, []byte("ACGT\nAC"), []byte("ACGT\n\nA"), 1), ErrTruncated},
	} {
		_, _, err := e.Append(nil, bytes.NewReader(tc.file), tc.beg, tc.end, nil)
		if !errors.Is(err, tc.want) {
			t.Errorf("[%d,%d): got %v, want %v", tc.beg, tc.end, err, tc.want)
		}
	}
	if _, err := ix.Fetch(bytes.NewReader(file), "nope", 0, 1); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown: got %v", err)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Entry
		err      error
		errLine  string
	}{
		{name: "samtools", in: "chr1\t10\t6\t4\t5\nchr2\t3\t28\t3\t4\n", want: []Entry{
			{Name: "chr1", Length: 10, Offset: 6, LineBases: 4, LineWidth: 5},
			{Name: "chr2", Length: 3, Offset: 28, LineBases: 3, LineWidth: 4}}},
		{name: "crlf and no final newline", in: "s1\t1200\t10\t60\t62\r\nq\t5\t3\t5\t6\t12", want: []Entry{
			{Name: "s1", Length: 1200, Offset: 10, LineBases: 60, LineWidth: 62},
			{Name: "q", Length: 5, Offset: 3, LineBases: 5, LineWidth: 6, QualOffset: 12}}},
		{name: "empty", in: "", want: nil},
		{name: "too few fields", in: "a\t1\t2\t3\n", err: ErrMalformed, errLine: "line 1"},
		{name: "spaces", in: "a 1 2 3 4\n", err: ErrMalformed},
		{name: "negative", in: "a\t1\t2\t3\t4\nb\t-1\t2\t3\t4\n", err: ErrMalformed, errLine: "line 2"},
		{name: "not a number", in: "a\t1x\t2\t3\t4\n", err: ErrMalformed},
		{name: "zero linebases", in: "a\t5\t2\t0\t1\n", err: ErrMalformed},
		{name: "width below bases", in: "a\t5\t2\t4\t3\n", err: ErrMalformed},
		{name: "blank line", in: "a\t5\t2\t4\t5\n\n", err: ErrMalformed, errLine: "line 2"},
		{name: "duplicate", in: "a\t5\t2\t4\t5\na\t5\t2\t4\t5\n", err: ErrDuplicate, errLine: "line 2"},
		{name: "huge", in: "a\t9223372036854775807\t2\t1\t9223372036854775807\n", err: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := Parse(strings.NewReader(tc.in))
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.errLine) {
					t.Fatalf("got %v, want %v (%s)", err, tc.err, tc.errLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ix.Entries); diff != "" {
				t.Fatal(diff)
			}
			for i, e := range ix.Entries {
				if got, ok := ix.Lookup(e.Name); !ok || got != ix.Entries[i] {
					t.Fatalf("lookup %q", e.Name)
				}
			}
		})
	}
}

// TestAgainstSamtools indexes real and generated FASTAs with samtools and
// checks that every fetched region equals `samtools faidx` output.
func TestAgainstSamtools(t *testing.T) {
	samtools := testenv.Tool(t, "samtools")
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 8))
	gen := filepath.Join(dir, "gen.fa")
	file, _ := buildFASTA([]string{"x", "y"}, []string{randSeq(r, 777), randSeq(r, 5)}, 50, "\r\n")
	if err := os.WriteFile(gen, file, 0o644); err != nil {
		t.Fatal(err)
	}
	ce := testenv.File(t, "htslib-test", "usr/share/htslib-test/test/ce.fa")
	ceCopy := filepath.Join(dir, "ce.fa")
	data, err := os.ReadFile(ce)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ceCopy, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fa := range []string{gen, ceCopy} {
		if out, err := exec.Command(samtools, "faidx", fa).CombinedOutput(); err != nil {
			t.Fatalf("samtools faidx: %v\n%s", err, out)
		}
		f, err := os.Open(fa + ".fai")
		if err != nil {
			t.Fatal(err)
		}
		ix, err := Parse(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		fasta, err := os.ReadFile(fa)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ix.Entries {
			for _, iv := range [][2]int64{{0, e.Length}, {e.Length / 3, e.Length/3 + 1}, {1, e.Length/2 + 61}} {
				iv[1] = min(iv[1], e.Length)
				if iv[0] >= iv[1] {
					continue
				}
				region := e.Name + ":" + itoa(iv[0]+1) + "-" + itoa(iv[1])
				out, err := exec.Command(samtools, "faidx", "-n", "1000000000", fa, region).Output()
				if err != nil {
					t.Fatalf("samtools faidx %s: %v", region, err)
				}
				want := strings.Join(strings.Split(string(out), "\n")[1:], "")
				got, err := ix.Fetch(bytes.NewReader(fasta), e.Name, iv[0], iv[1])
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != want {
					t.Fatalf("%s %s: got %d bases, want %d", fa, region, len(got), len(want))
				}
			}
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func FuzzParse(f *testing.F) {
	f.Add("chr1\t10\t6\t4\t5\nchr2\t3\t28\t3\t4\n")
	f.Add("s1\t1200\t10\t60\t62\r\n")
	f.Add("q\t5\t3\t5\t6\t12")
	f.Add("a\t0\t0\t0\t0\n")
	f.Add("a\t9223372036854775807\t2\t1\t3\n")
	f.Fuzz(func(t *testing.T, in string) {
		ix, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		file := bytes.Repeat([]byte("ACGT\n"), 8)
		for _, e := range ix.Entries {
			if e.Length == 0 {
				continue
			}
			// Must not panic whatever the index claims.
			_, _, _ = e.Append(nil, bytes.NewReader(file), 0, min(e.Length, 64), nil)
			_, _, _ = e.Append(nil, bytes.NewReader(file), e.Length-1, e.Length, nil)
		}
	})
}
