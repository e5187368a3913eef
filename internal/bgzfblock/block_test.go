package bgzfblock

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/klauspost/compress/flate"
)

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		want  int
	}{
		{"bc only", "BC\x02\x00\x1b\x00", 28},
		{"bc after another", "XY\x01\x00zBC\x02\x00\xff\xff", 65536},
		{"none", "XY\x02\x00ab", -1},
		{"bc too short", "BC\x01\x00z", -1},
		{"overrunning subfield", "XY\x09\x00abBC\x02\x00\x1b\x00", -1},
		{"empty", "", -1},
		{"cut", "BC\x02\x00\x1b", -1},
	} {
		if got := Size([]byte(tc.extra)); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func FuzzSize(f *testing.F) {
	f.Add([]byte("BC\x02\x00\x1b\x00"))
	f.Fuzz(func(t *testing.T, extra []byte) {
		if n := Size(extra); n != -1 && (n < 1 || n > 65536) {
			t.Fatalf("size %d out of range", n)
		}
	})
}

// Append writes a block whose header Size reads back and that gzip inflates.
func TestAppend(t *testing.T) {
	data := bytes.Repeat([]byte("ACGT"), 1000)
	b := Append([]byte("x"), data, flate.BestSpeed)[1:]
	if n := Size(b[12:18]); n != len(b) {
		t.Fatalf("Size says %d, block is %d bytes", n, len(b))
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("inflated %d bytes (%v), want the %d written", len(got), err, len(data))
	}
}

// File's blocks read back, as one gzip stream of members, to the data.
func TestFile(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 10000) // three blocks
	f := File(data, flate.BestSpeed)
	zr, err := gzip.NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v; want %d", len(got), err, len(data))
	}
	if !bytes.HasSuffix(f, EOF) || len(File(nil, 1)) != len(EOF) {
		t.Error("no EOF block")
	}
}
