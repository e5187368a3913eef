package seqio

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
	"github.com/klauspost/compress/gzip"
)

const gasicReads = "usr/share/doc/gasic/examples/reads/SRR059298_subset.fastq.gz"

func gasic(b *testing.B) (gz, plain []byte) {
	gz, err := os.ReadFile(testenv.File(b, "gasic-examples", gasicReads))
	if err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		b.Fatal(err)
	}
	plain, err = io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	return gz, plain
}

func benchRead(b *testing.B, data []byte, size int) {
	b.SetBytes(int64(size))
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 100000 {
			b.Fatalf("%d records", n)
		}
	}
}

// BenchmarkReadPlain: parsing alone (MB/s of FASTQ text).
func BenchmarkReadPlain(b *testing.B) {
	_, plain := gasic(b)
	benchRead(b, plain, len(plain))
}

// BenchmarkReadGzip: decompression and parsing (MB/s of FASTQ text).
func BenchmarkReadGzip(b *testing.B) {
	gz, plain := gasic(b)
	benchRead(b, gz, len(plain))
}

// BenchmarkGunzip: decompression alone, for comparison.
func BenchmarkGunzip(b *testing.B) {
	gz, plain := gasic(b)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			b.Fatal(err)
		}
	}
}
