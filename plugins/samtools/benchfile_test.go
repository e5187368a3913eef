package samtools

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"os"
	"testing"
)

// BenchmarkViewFile views the BAM named by EDGENOME_BENCH_BAM. It has no
// build constraints so that it also runs as a wasip1 test binary (for
// example under wazero) to measure the WebAssembly slowdown.
func BenchmarkViewFile(b *testing.B) { benchFile(b, ViewOptions{}) }

// BenchmarkCountFile is BenchmarkViewFile without SAM formatting.
func BenchmarkCountFile(b *testing.B) { benchFile(b, ViewOptions{Count: true}) }

func benchFile(b *testing.B, opt ViewOptions) {
	src := benchSource(b)
	b.SetBytes(src.Size)
	for b.Loop() {
		if err := View(context.Background(), src, Source{}, io.Discard, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViewFilePreinflated is BenchmarkViewFile with every block
// inflated beforehand and handed over by the Inflate hook, standing in for
// a native host function: it measures decoding and formatting alone.
func BenchmarkViewFilePreinflated(b *testing.B) { benchPreinflated(b, ViewOptions{}) }

// BenchmarkCountFilePreinflated measures decoding alone.
func BenchmarkCountFilePreinflated(b *testing.B) { benchPreinflated(b, ViewOptions{Count: true}) }

func benchPreinflated(b *testing.B, opt ViewOptions) {
	src := benchSource(b)
	blocks := map[uint64][]byte{}
	src.Inflate = func(_ int64, in, out []byte, crc uint32) error {
		n, err := io.ReadFull(flate.NewReader(bytes.NewReader(in)), out)
		if err != nil || n != len(out) {
			return errors.New("bad block")
		}
		blocks[uint64(crc)<<32|uint64(len(out))] = bytes.Clone(out)
		return nil
	}
	if err := View(context.Background(), src, Source{}, io.Discard, ViewOptions{Count: true}); err != nil {
		b.Fatal(err)
	}
	src.Inflate = func(_ int64, in, out []byte, crc uint32) error {
		copy(out, blocks[uint64(crc)<<32|uint64(len(out))])
		return nil
	}
	b.SetBytes(src.Size)
	for b.Loop() {
		if err := View(context.Background(), src, Source{}, io.Discard, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSource opens the BAM named by EDGENOME_BENCH_BAM, or skips.
func benchSource(b *testing.B) Source {
	path := os.Getenv("EDGENOME_BENCH_BAM")
	if path == "" {
		b.Skip("EDGENOME_BENCH_BAM not set")
	}
	return openSource(b, path)
}
