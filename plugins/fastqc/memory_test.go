package fastqc

import (
	"context"
	"io"
	"runtime"
	"testing"
)

// repeatReader yields a block of FASTQ records again and again, n bytes in
// all, without holding more than the block.
type repeatReader struct {
	block []byte
	off   int
	n     int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	total := 0
	for len(p) > 0 {
		c := copy(p, r.block[r.off:])
		r.off = (r.off + c) % len(r.block)
		p = p[c:]
		total += c
	}
	r.n -= int64(total)
	return total, nil
}

// TestMemoryBounded streams 1 GiB of FASTQ (64 MiB with -short) and checks
// that the bytes allocated during the whole run stay far below the input
// size: nothing is buffered per read.
func TestMemoryBounded(t *testing.T) {
	block := generate(9, genSpec{reads: 1000, minLen: 50, maxLen: 150, alphabet: "ACGTN", qmin: '#', qmax: 'J'})
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	size -= size % int64(len(block)) // end on a record boundary
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Compute(context.Background(), &repeatReader{block: block, n: size}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if res.Reads != 1000*(size/int64(len(block))) {
		t.Fatalf("%d reads, want %d", res.Reads, 1000*(size/int64(len(block))))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d MiB of FASTQ, %d reads: %d KiB allocated in all", size>>20, res.Reads, alloc>>10)
	if alloc > 8<<20 {
		t.Fatalf("allocated %d KiB for %d MiB of input; want < 8 MiB", alloc>>10, size>>20)
	}
}
