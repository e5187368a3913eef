package seqio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
)

type rec struct {
	Header, Seq, Qual string
	Num, Line         int64
}

// readAll returns the records read before the first error and that error
// (nil at a clean end).
func readAll(t testing.TB, in []byte, opts Options) (Format, []rec, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(in), opts)
	if err != nil {
		return FormatUnknown, nil, err
	}
	var out []rec
	for {
		x, err := r.Next()
		if err == io.EOF {
			return r.Format(), out, nil
		}
		if err != nil {
			return r.Format(), out, err
		}
		q := string(x.Qual)
		if x.Qual == nil {
			q = "<nil>"
		}
		out = append(out, rec{string(x.Header), string(x.Seq), q, x.Num, x.Line})
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		format  Format
		want    []rec
		kind    error // nil: clean end
		errLine int64
		errRec  int64
	}{
		{name: "fastq", in: "@r1 c\nACGT\n+\nIIII\n@r2\nAC\n+r2\n#!\n", format: FASTQ, want: []rec{
			{"r1 c", "ACGT", "IIII", 1, 1}, {"r2", "AC", "#!", 2, 5}}},
		{name: "no final newline, CRLF", in: "\r\n@r1\r\nAC\r\n+\r\nII", format: FASTQ, want: []rec{{"r1", "AC", "II", 1, 2}}},
		{name: "multi-line fastq", in: "@r1\nAC\nGT\n+\nII\n\nI@\n@r2\nA\n+\n@\n", format: FASTQ, want: []rec{
			{"r1", "ACGT", "III@", 1, 1}, {"r2", "A", "@", 2, 8}}},
		{name: "empty read", in: "@r1\n\n+\n\n@r2\nA\n+\nI\n@r3\n+", format: FASTQ, want: []rec{
			{"r1", "", "", 1, 1}, {"r2", "A", "I", 2, 5}, {"r3", "", "", 3, 9}}},
		// kseq takes the line after '+' as quality, even for an empty read.
		{name: "empty read, qual line omitted", in: "@r1\n\n+\n@r2\nA\n+\nI\n", format: FASTQ,
			kind: ErrLengthMismatch, errRec: 1, errLine: 4},
		{name: "blank lines between records", in: "\n\n@r1\nA\n+\nI\n\n \n@r2\nC\n+\nI\n\n", format: FASTQ, want: []rec{
			{"r1", "A", "I", 1, 3}, {"r2", "C", "I", 2, 9}}},
		{name: "fasta multi-line", in: ">s1 d\nACGT\nAC\n\n>s2\n>s3\nGG", format: FASTA, want: []rec{
			{"s1 d", "ACGTAC", "<nil>", 1, 1}, {"s2", "", "<nil>", 2, 5}, {"s3", "GG", "<nil>", 3, 6}}},
		{name: "empty", in: "", kind: ErrEmpty},
		{name: "white space only", in: " \n\r\n\t", kind: ErrEmpty},
		{name: "binary", in: "\x00\x01\x02", kind: ErrFormat, errLine: 1},
		{name: "text", in: "\nhello\n", kind: ErrFormat, errLine: 2},
		{name: "truncated after header", in: "@r1\nAC\n+\nII\n@r2\n", format: FASTQ,
			want: []rec{{"r1", "AC", "II", 1, 1}}, kind: ErrTruncated, errRec: 2, errLine: 5},
		{name: "truncated quality", in: "@r1\nACGT\n+\nII", format: FASTQ, kind: ErrTruncated, errRec: 1, errLine: 4},
		{name: "quality too long", in: "@r1\nAC\n+\nIII\n", format: FASTQ, kind: ErrLengthMismatch, errRec: 1, errLine: 4},
		{name: "quality too short", in: "@r1\nACG\n+\nII\n@r2\nA\n+\nI\n", format: FASTQ, kind: ErrLengthMismatch, errRec: 1, errLine: 5},
		{name: "quality below range", in: "@r1\nAC\n+\nI \n", format: FASTQ, kind: ErrQuality, errRec: 1, errLine: 4},
		{name: "quality above range", in: "@r1\nAC\n+\nI\x7f\n", format: FASTQ, kind: ErrQuality, errRec: 1, errLine: 4},
		{name: "quality non-ascii", in: "@r1\nAC\n+\nI\xc3\n", format: FASTQ, kind: ErrQuality, errRec: 1, errLine: 4},
		{name: "sequence control byte", in: "@r1\nA\x00\n+\nII\n", format: FASTQ, kind: ErrSequence, errRec: 1, errLine: 2},
		{name: "missing plus", in: "@r1\nAC\n@r2\nAC\n+\nII\n", format: FASTQ, kind: ErrMalformed, errRec: 1, errLine: 3},
		{name: "garbage between records", in: "@r1\nA\n+\nI\nxx\n", format: FASTQ,
			want: []rec{{"r1", "A", "I", 1, 1}}, kind: ErrMalformed, errRec: 2, errLine: 5},
		{name: "fasta in fastq position", in: "@r1\nA\n+\nI\n>r2\nA\n", format: FASTQ,
			want: []rec{{"r1", "A", "I", 1, 1}}, kind: ErrMalformed, errRec: 2, errLine: 5},
	}
	for _, tc := range tests {
		for _, compress := range []bool{false, true} {
			name := tc.name
			in := []byte(tc.in)
			if compress {
				name += "/gzip"
				in = gz(t, in)
			}
			t.Run(name, func(t *testing.T) {
				format, got, err := readAll(t, in, Options{})
				if format != tc.format {
					t.Errorf("format %v, want %v", format, tc.format)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("records (-want +got):\n%s", diff)
				}
				if tc.kind == nil {
					if err != nil {
						t.Fatalf("unexpected error %v", err)
					}
					return
				}
				if !errors.Is(err, tc.kind) {
					t.Fatalf("error %v, want kind %v", err, tc.kind)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %T is not *Error", err)
				}
				if e.Line != tc.errLine || e.Record != tc.errRec {
					t.Errorf("error at record %d line %d, want record %d line %d (%v)", e.Record, e.Line, tc.errRec, tc.errLine, err)
				}
				if !IsBadInput(err) {
					t.Errorf("IsBadInput(%v) = false", err)
				}
			})
		}
	}
}

func TestWant(t *testing.T) {
	_, _, err := readAll(t, []byte(">s\nA\n"), Options{Want: FASTQ})
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("got %v, want ErrFormat", err)
	}
}

func TestMultiMemberGzip(t *testing.T) {
	// BGZF and concatenated .gz files are several gzip members back to back.
	in := append(gz(t, []byte("@r1\nAC\n+\nII\n@r2\nA")), gz(t, []byte("C\n+\nI"))...)
	in = append(in, gz(t, []byte("I\n"))...)
	in = append(in, gz(t, nil)...)
	_, got, err := readAll(t, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []rec{{"r1", "AC", "II", 1, 1}, {"r2", "AC", "II", 2, 5}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTruncatedGzip(t *testing.T) {
	var plain bytes.Buffer
	for i := 0; i < 2000; i++ {
		plain.WriteString("@read\nACGTACGTAC\n+\nIIIIIIIIII\n")
	}
	full := gz(t, plain.Bytes())
	for _, cut := range []int{len(full) - 1, len(full) - 8, len(full) / 2, 12} {
		_, _, err := readAll(t, full[:cut], Options{})
		if !errors.Is(err, ErrGzip) || !IsBadInput(err) {
			t.Errorf("cut at %d of %d: got %v, want ErrGzip", cut, len(full), err)
		}
	}
	bad := bytes.Clone(full)
	bad[len(bad)-5] ^= 0xff // the stored length no longer matches
	if _, _, err := readAll(t, bad, Options{}); !errors.Is(err, ErrGzip) {
		t.Errorf("corrupt trailer: got %v, want ErrGzip", err)
	}
}

type failReader struct {
	r   io.Reader
	err error
}

func (f *failReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestSourceErrorsPassThrough(t *testing.T) {
	limit := errors.New("body too large")
	in := []byte("@r1\nACGT\n+\nIIII\n@r2\nAC")
	for _, data := range [][]byte{in, gz(t, in)} {
		r, err := NewReader(&failReader{r: bytes.NewReader(data), err: limit}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, err = r.Next()
		}
		if !errors.Is(err, limit) || IsBadInput(err) {
			t.Errorf("got %v, want the source's error, not bad input", err)
		}
	}
}

func TestTooLong(t *testing.T) {
	long := strings.Repeat("A", 300<<10) // longer than the line buffer
	_, got, err := readAll(t, []byte("@r\n"+long+"\n+\n"+strings.Repeat("I", len(long))+"\n"), Options{})
	if err != nil || len(got) != 1 || len(got[0].Seq) != len(long) {
		t.Fatalf("long read: %v", err)
	}
	_, _, err = readAll(t, []byte("@r\n"+long+"\n+\n"), Options{MaxRecordBytes: 1000})
	if !errors.Is(err, ErrTooLong) || IsBadInput(err) {
		t.Fatalf("got %v, want ErrTooLong", err)
	}
	_, _, err = readAll(t, []byte(">r\n"+long[:600]+"\n"+long[:600]+"\n"), Options{MaxRecordBytes: 1000})
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("fasta: got %v, want ErrTooLong", err)
	}
}

func TestErrorMessage(t *testing.T) {
	_, _, err := readAll(t, []byte("@r1 x\nAC\n+\nIII\n"), Options{})
	want := "sequence and quality lengths differ in record 1 (r1) at line 4: sequence has 2 bases, quality has 3 characters"
	if err == nil || err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
}

func TestFASTAChunks(t *testing.T) {
	long := strings.Repeat("ACGTTGCA", 40000) // one unwrapped 320 kb line
	in := ">chr1 long\nACGTA\nCGTAC\nGT\n>chr2\nAAA\n\n>chr3\n>chr4\n" + long + "\r\n>chr5\n" + long
	want := map[int64]string{1: "ACGTACGTACGT", 2: "AAA", 3: "", 4: long, 5: long}
	for _, size := range []int{5, 64, 0} {
		r, err := NewReader(strings.NewReader(in), Options{FASTAChunk: 6, MaxRecordBytes: 1000, bufSize: size})
		if err != nil {
			t.Fatal(err)
		}
		parts := map[int64]*strings.Builder{}
		var last int64
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("buffer %d: %v", size, err)
			}
			if rec.Continued != (rec.Num == last) {
				t.Fatalf("buffer %d: record %d piece marked Continued=%v", size, rec.Num, rec.Continued)
			}
			if len(rec.Seq) > 6+len(long) || (size == 0 && rec.Num == 1 && len(rec.Seq) != 10 && len(rec.Seq) != 2) {
				t.Fatalf("buffer %d: piece of %d bases", size, len(rec.Seq))
			}
			last = rec.Num
			if parts[rec.Num] == nil {
				parts[rec.Num] = &strings.Builder{}
			}
			parts[rec.Num].Write(rec.Seq)
		}
		got := map[int64]string{}
		for n, b := range parts {
			got[n] = b.String()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("buffer %d: records (-want +got):\n%s", size, diff)
		}
	}
	// Without chunking a sequence longer than MaxRecordBytes fails.
	if _, _, err := readAll(t, []byte(in), Options{MaxRecordBytes: 1000}); !errors.Is(err, ErrTooLong) {
		t.Fatalf("got %v, want ErrTooLong", err)
	}
	// Errors inside a streamed line still name the line and column.
	_, _, err := readAll(t, []byte(">a\n"+long[:5000]+"\x01"), Options{FASTAChunk: 100, bufSize: 64})
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrSequence || e.Line != 2 || !strings.Contains(e.Detail, "column 5001") {
		t.Fatalf("got %v, want ErrSequence at line 2 column 5001", err)
	}
}
