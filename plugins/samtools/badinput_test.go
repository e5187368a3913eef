package samtools

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgenome/edgenome/internal/bgzfblock"
	"github.com/edgenome/edgenome/internal/testenv"
	"github.com/edgenome/edgenome/plugins/internal/bam"
	"github.com/edgenome/edgenome/plugins/internal/bgzf"
	"github.com/edgenome/edgenome/plugins/internal/region"
)

// memSource wraps bytes as a Source.
func memSource(name string, b []byte) Source {
	return Source{R: bytes.NewReader(b), Size: int64(len(b)), Name: name}
}

func ex1(t *testing.T) fixture {
	t.Helper()
	for _, fx := range fixtures(t) {
		if fx.Name == "ex1.bam" {
			return fx
		}
	}
	t.Fatal("ex1.bam fixture missing")
	return fixture{}
}

// TestBadBAMs: damaged BAMs print what decodes, then fail like samtools,
// with an error classed as invalid input (422).
func TestBadBAMs(t *testing.T) {
	fx := ex1(t)
	good, err := os.ReadFile(fx.BAM)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	flip := func(off int) []byte {
		b := bytes.Clone(good)
		b[off] ^= 0x55
		return b
	}
	noEOF := good[:len(good)-28]
	cases := []struct {
		name   string
		data   []byte
		want   error // a sentinel our error must wrap
		native bool  // samtools fails too: compare stdout
	}{
		{"truncated mid-block", good[:50000], bgzf.ErrTruncated, true},
		{"truncated in header", good[:40], bgzf.ErrTruncated, true},
		{"flipped deflate byte", flip(30000), bgzf.ErrCorrupt, true},
		{"flipped CRC byte", flipCRC(t, good), bgzf.ErrCorrupt, true},
		{"no EOF marker", noEOF, ErrNoEOF, false},
		{"not BGZF (samtools reads it as FASTA)", []byte(">chr1\nACGT\n"), bam.ErrNotBAM, false},
		{"empty", nil, bam.ErrNotBAM, true},
		{"plain gzip", plainGzip(), bam.ErrNotBAM, true},
		{"huge l_text", hugeText(), bam.ErrCorrupt, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "x.bam")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			err := View(context.Background(), memSource("x.bam", c.data), Source{}, &got, ViewOptions{})
			if Status(err) != 422 || !errors.Is(err, c.want) {
				t.Fatalf("error %v (status %d), want 422 wrapping %v", err, Status(err), c.want)
			}
			if c.native {
				want, _, nerr := native(t, "view", "--no-PG", p)
				if nerr == nil {
					t.Errorf("samtools accepted it")
				}
				if !bytes.Equal(want, got.Bytes()) {
					t.Errorf("partial output differs: %s", testenv.FirstDiff(want, got.Bytes()))
				}
			}
		})
	}
}

// flipCRC damages the stored CRC32 of the second block.
func flipCRC(t *testing.T, b []byte) []byte {
	t.Helper()
	first := int(binary.LittleEndian.Uint16(b[16:])) + 1
	second := first + int(binary.LittleEndian.Uint16(b[first+16:])) + 1
	out := bytes.Clone(b)
	out[second-8] ^= 0xff
	return out
}

func plainGzip() []byte {
	return []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}
}

// hugeText is a BGZF block holding "BAM\1" and l_text = 0xFFFFFFF0.
func hugeText() []byte {
	b := bgzfblock.Append(nil, []byte{'B', 'A', 'M', 1, 0xf0, 0xff, 0xff, 0xff}, flate.DefaultCompression)
	return append(b, bgzf.EOFMarker...)
}

func TestBadRequests(t *testing.T) {
	fx := ex1(t)
	bamSrc := openSource(t, fx.BAM)
	idx := openSource(t, fx.BAI)
	cases := []struct {
		name    string
		regions []string
		index   Source
		want    error
		status  int
	}{
		{"unknown contig", []string{"chrX:1-10"}, idx, region.ErrUnknownRef, 400},
		{"malformed", []string{"chr1:abc"}, idx, region.ErrSyntax, 400},
		{"reversed", []string{"chr1:200-100"}, idx, region.ErrSyntax, 400},
		{"one bad of two", []string{"chr1:1-100", "chr1:5-x"}, idx, region.ErrSyntax, 400},
		{"no index", []string{"chr1"}, Source{}, ErrNoIndex, 400},
		{"not an index", []string{"chr1"}, memSource("x.bai", []byte("hello world")), nil, 422},
		{"truncated index", []string{"chr1"}, truncated(t, fx.BAI, 100), nil, 422},
		{"index of another BAM", []string{"chr1"}, otherIndex(t), ErrIndexMismatch, 422},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got bytes.Buffer
			err := View(context.Background(), bamSrc, c.index, &got, ViewOptions{Regions: c.regions, Header: true})
			if Status(err) != c.status || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("error %v (status %d), want %d wrapping %v", err, Status(err), c.status, c.want)
			}
			if got.Len() != 0 {
				t.Errorf("%d bytes written before a request error", got.Len())
			}
		})
	}
}

func truncated(t *testing.T, path string, n int) Source {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return memSource("trunc.bai", b[:n])
}

// otherIndex is a BAI of a BAM with a different reference count.
func otherIndex(t *testing.T) Source {
	t.Helper()
	for _, fx := range fixtures(t) {
		if fx.Name == "range.bam" && fx.BAI != "" {
			return openSource(t, fx.BAI)
		}
	}
	t.Fatal("range.bam fixture missing")
	return Source{}
}

// TestRandomDamage flips random bytes of a real BAM and index: every run
// must end in success or a classified error, never a panic or a hang.
func TestRandomDamage(t *testing.T) {
	fx := ex1(t)
	good, _ := os.ReadFile(fx.BAM)
	goodIdx, _ := os.ReadFile(fx.BAI)
	rng := rand.New(rand.NewPCG(1, 2))
	runs := 300
	if testing.Short() {
		runs = 50
	}
	for i := 0; i < runs; i++ {
		b, x := bytes.Clone(good), bytes.Clone(goodIdx)
		for k := 0; k < 1+rng.IntN(4); k++ {
			if rng.IntN(2) == 0 {
				b[rng.IntN(len(b))] = byte(rng.Uint32())
			} else {
				x[rng.IntN(len(x))] = byte(rng.Uint32())
			}
		}
		if rng.IntN(5) == 0 {
			b = b[:rng.IntN(len(b))]
		}
		opt := ViewOptions{}
		if i%2 == 1 {
			opt.Regions = []string{"chr1:100-900", "chr2"}
		}
		err := View(context.Background(), memSource("d.bam", b), memSource("d.bai", x), ioDiscard{}, opt)
		if err != nil && Status(err) == 500 {
			t.Fatalf("run %d: unclassified error %v", i, err)
		}
		_ = Idxstats(context.Background(), memSource("d.bam", b), memSource("d.bai", x), ioDiscard{})
	}
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

// TestExternalInflater: a caller-supplied deflate decoder (a host function
// under Wasm) gives the same output, and its failures are corrupt blocks.
func TestExternalInflater(t *testing.T) {
	fx := ex1(t)
	src := openSource(t, fx.BAM)
	var want, got bytes.Buffer
	if err := View(context.Background(), src, Source{}, &want, ViewOptions{Header: true}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	src.Inflate = func(_ int64, in, out []byte, crc uint32) error {
		calls++
		n, err := io.ReadFull(flate.NewReader(bytes.NewReader(in)), out)
		if err != nil || n != len(out) {
			return errors.New("short block")
		}
		if crc32.ChecksumIEEE(out) != crc {
			return errors.New("CRC32 mismatch")
		}
		return nil
	}
	if err := View(context.Background(), src, Source{}, &got, ViewOptions{Header: true}); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || !bytes.Equal(want.Bytes(), got.Bytes()) {
		t.Errorf("external inflater: %d calls, output equal %v", calls, bytes.Equal(want.Bytes(), got.Bytes()))
	}
	src.Inflate = func(_ int64, in, out []byte, crc uint32) error { return errors.New("boom") }
	if err := View(context.Background(), src, Source{}, io.Discard, ViewOptions{}); !errors.Is(err, bgzf.ErrCorrupt) || Status(err) != 422 {
		t.Errorf("failing inflater: %v", err)
	}
}
