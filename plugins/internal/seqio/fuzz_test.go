package seqio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzReader checks that any input either parses into records that satisfy
// the format's invariants and survive a write/re-read round trip, or fails
// with a classified *Error; never a panic or a hang.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"@r1 c\nACGT\n+\nIIII\n@r2\nAC\n+r2\n#!\n",
		"@r1\nAC\nGT\n+\nII\n\nI@\n@r2\nA\n+\n@\n",
		"@r1\r\nAC\r\n+\r\nII",
		"@r1\n\n+\n@r2\nA\n+\nI\n",
		">s1 d\nACGT\nAC\n\n>s2\n>s3\nGG",
		"@r1\nACGT\n+\nII",
		"@r1\nAC\n@r2\nAC\n+\nII\n",
		"\x1f\x8b\x08\x00",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	// Real reads from the htslib test suite, when fetched.
	if files, _ := filepath.Glob("../../../.cache/testdata/htslib-test/usr/share/htslib-test/test/fastq/*.f[aq]"); len(files) > 0 {
		for _, p := range files[:min(len(files), 8)] {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b, false)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		if compress {
			data = gz(t, data)
		}
		format, recs, err := readAll(t, data, Options{MaxRecordBytes: 1 << 16})
		// A tiny buffer forces every record across refills; the result must
		// not depend on where the buffer boundaries fall.
		_, small, errSmall := readAll(t, data, Options{MaxRecordBytes: 1 << 16, bufSize: 7})
		if diff := cmp.Diff(recs, small); diff != "" {
			t.Fatalf("records differ with a 7-byte buffer (-256K +7):\n%s", diff)
		}
		if (err == nil) != (errSmall == nil) || (err != nil && err.Error() != errSmall.Error()) {
			t.Fatalf("errors differ with a 7-byte buffer: %v vs %v", err, errSmall)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
		}
		if format == FASTA {
			checkChunks(t, data, recs, err)
		}
		var out bytes.Buffer
		for i, r := range recs {
			if strings.HasSuffix(r.Header, "\r") {
				return // a second '\r' before the line end cannot be written back
			}
			if r.Num != int64(i+1) {
				t.Fatalf("record %d numbered %d", i+1, r.Num)
			}
			if badByte([]byte(r.Seq)) >= 0 {
				t.Fatalf("record %d: bad sequence byte passed: %q", r.Num, r.Seq)
			}
			switch format {
			case FASTQ:
				if len(r.Qual) != len(r.Seq) || badByte([]byte(r.Qual)) >= 0 {
					t.Fatalf("record %d: seq %q qual %q", r.Num, r.Seq, r.Qual)
				}
				out.WriteString("@" + r.Header + "\n" + r.Seq + "\n+\n" + r.Qual + "\n")
			case FASTA:
				if r.Qual != "<nil>" {
					t.Fatalf("FASTA record %d has quality %q", r.Num, r.Qual)
				}
				out.WriteString(">" + r.Header + "\n" + r.Seq + "\n")
			}
		}
		if err != nil || len(recs) == 0 {
			return
		}
		_, again, err := readAll(t, out.Bytes(), Options{})
		if err != nil {
			t.Fatalf("re-reading written records: %v\n%q", err, out.Bytes())
		}
		// Line numbers differ after normalisation; compare content only.
		for i := range again {
			again[i].Line, recs[i].Line = 0, 0
		}
		if diff := cmp.Diff(recs, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// checkChunks reads FASTA again in small pieces through a small buffer and
// checks that the pieces add up to the records read whole.
func checkChunks(t *testing.T, data []byte, recs []rec, wholeErr error) {
	r, err := NewReader(bytes.NewReader(data), Options{MaxRecordBytes: 1 << 16, FASTAChunk: 3, bufSize: 7})
	if err != nil {
		t.Fatalf("chunked NewReader: %v", err)
	}
	var got []rec
	for {
		x, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var e, w *Error
			if !errors.As(err, &e) || !errors.As(wholeErr, &w) || e.Kind != w.Kind {
				t.Fatalf("chunked read failed with %v, whole read with %v", err, wholeErr)
			}
			return
		}
		if x.Continued {
			if len(got) == 0 || got[len(got)-1].Num != x.Num {
				t.Fatalf("continuation of record %d without its start", x.Num)
			}
			got[len(got)-1].Seq += string(x.Seq)
			continue
		}
		got = append(got, rec{string(x.Header), string(x.Seq), "<nil>", x.Num, x.Line})
	}
	if wholeErr != nil {
		t.Fatalf("chunked read succeeded, whole read failed with %v", wholeErr)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Fatalf("chunked FASTA (-whole +chunked):\n%s", diff)
	}
}
