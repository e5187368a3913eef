package bgzf

import (
	"io"
	"os"
	"testing"
)

// BenchmarkInflateFile inflates every block of EDGENOME_BENCH_BAM.
func BenchmarkInflateFile(b *testing.B) {
	path := os.Getenv("EDGENOME_BENCH_BAM")
	if path == "" {
		b.Skip("EDGENOME_BENCH_BAM not set")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	b.SetBytes(st.Size())
	for b.Loop() {
		r := NewReader(f, st.Size())
		var buf []byte
		for off := int64(0); ; {
			d, n, err := r.Block(off, buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			buf = d
			off += int64(n)
		}
	}
}
