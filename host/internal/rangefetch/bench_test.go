package rangefetch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

var benchBlocks = []int64{64 << 10, 256 << 10, 1 << 20}

func sizeName(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dM", n>>20)
	}
	return fmt.Sprintf("%dK", n>>10)
}

// benchOrigin serves size bytes; rtt delays every response to stand in for
// a remote origin's first-byte latency.
func benchOrigin(b *testing.B, size int, rtt time.Duration) *testOrigin {
	o := newOrigin(b, testData(size, 99))
	if rtt > 0 {
		o.setFault(func(http.ResponseWriter, *http.Request, []byte) bool {
			time.Sleep(rtt)
			return false
		})
	}
	return o
}

func benchOpen(b *testing.B, f *Fetcher, o *testOrigin) (*Session, *Object) {
	s := f.NewSession(context.Background(), 0)
	obj, err := s.Open(context.Background(), o.url("/bench"), false)
	if err != nil {
		b.Fatal(err)
	}
	return s, obj
}

// BenchmarkReadAt64K: one 64 KiB ReadAt served from the cache (hit) or
// needing one block from a local origin (miss: the cache holds two blocks
// and the reads stride through a larger object).
func BenchmarkReadAt64K(b *testing.B) {
	const size = 32 << 20
	o := benchOrigin(b, size, 0)
	b.Run("hit", func(b *testing.B) {
		f := newTestFetcher(b, Config{BlockSize: DefaultBlockSize, MaxBytes: 64 << 20}, o)
		s, obj := benchOpen(b, f, o)
		defer s.Close()
		p := make([]byte, 64<<10)
		for off := int64(0); off < 4<<20; off += int64(len(p)) {
			obj.ReadAt(p, off)
		}
		b.SetBytes(int64(len(p)))
		var off int64
		for b.Loop() {
			if _, err := obj.ReadAt(p, off); err != nil {
				b.Fatal(err)
			}
			off = (off + int64(len(p))) % (4 << 20)
		}
	})
	for _, bs := range benchBlocks {
		b.Run("miss/block="+sizeName(bs), func(b *testing.B) {
			f := newTestFetcher(b, Config{BlockSize: bs, MaxBytes: 2 * (bs + entryOverhead)}, o)
			s, obj := benchOpen(b, f, o)
			defer s.Close()
			p := make([]byte, 64<<10)
			b.SetBytes(int64(len(p)))
			before := f.Stats()
			off := bs
			for b.Loop() {
				if _, err := obj.ReadAt(p, off); err != nil {
					b.Fatal(err)
				}
				off = (off + bs) % size
			}
			st := f.Stats()
			b.ReportMetric(float64(st.Misses-before.Misses)/float64(b.N), "misses/op")
			b.ReportMetric(float64(st.BytesFetched-before.BytesFetched)/float64(b.N), "origin-B/op")
		})
	}
}

// BenchmarkScan reads an 8 MiB object front to back through a cold cache,
// in ReadAt calls of 64 KiB or 1 MiB, at each block size, against a local
// origin and one that adds 5 ms before every response. A read spanning
// several missing blocks is one request, so the read size, not the block
// size, sets the request size of a scan that reads in big chunks.
func BenchmarkScan(b *testing.B) {
	const size = 8 << 20
	for _, rtt := range []time.Duration{0, 5 * time.Millisecond} {
		o := benchOrigin(b, size, rtt)
		for _, bs := range benchBlocks {
			for _, rs := range []int64{64 << 10, 1 << 20} {
				b.Run(fmt.Sprintf("rtt=%v/block=%s/read=%s", rtt, sizeName(bs), sizeName(rs)), func(b *testing.B) {
					p := make([]byte, rs)
					b.SetBytes(size)
					var reqs int64
					for b.Loop() {
						b.StopTimer()
						f := newTestFetcher(b, Config{BlockSize: bs, MaxBytes: 64 << 20}, o)
						b.StartTimer()
						s, obj := benchOpen(b, f, o)
						for off := int64(0); off < size; off += int64(len(p)) {
							if _, err := obj.ReadAt(p, off); err != nil {
								b.Fatal(err)
							}
						}
						s.Close()
						reqs += f.Stats().OriginRequests
						f.Close()
					}
					b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
				})
			}
		}
	}
}

// BenchmarkRandom4K: 4 KiB reads at random offsets of a 64 MiB object with
// a cold cache (index lookups, region queries): the price of big blocks is
// the bytes fetched per read.
func BenchmarkRandom4K(b *testing.B) {
	const size = 64 << 20
	for _, rtt := range []time.Duration{0, 5 * time.Millisecond} {
		o := benchOrigin(b, size, rtt)
		for _, bs := range benchBlocks {
			b.Run(fmt.Sprintf("rtt=%v/block=%s", rtt, sizeName(bs)), func(b *testing.B) {
				f := newTestFetcher(b, Config{BlockSize: bs, MaxBytes: 2 * (bs + entryOverhead)}, o)
				s, obj := benchOpen(b, f, o)
				defer s.Close()
				r := rand.New(rand.NewPCG(1, 2))
				p := make([]byte, 4<<10)
				before := f.Stats()
				for b.Loop() {
					if _, err := obj.ReadAt(p, r.Int64N(size-int64(len(p)))); err != nil {
						b.Fatal(err)
					}
				}
				st := f.Stats()
				b.ReportMetric(float64(st.BytesFetched-before.BytesFetched)/float64(b.N), "origin-B/op")
			})
		}
	}
}
