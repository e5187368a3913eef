package bamindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bai builds a BAI with one reference from bins (id -> chunks) and a linear index.
func bai(bins map[uint32][]Chunk, linear []uint64, noCoor bool) []byte {
	b := []byte("BAI\x01")
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(bins)))
	for _, id := range sortedKeys(bins) {
		b = binary.LittleEndian.AppendUint32(b, id)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(bins[id])))
		for _, c := range bins[id] {
			b = binary.LittleEndian.AppendUint64(b, c.Beg)
			b = binary.LittleEndian.AppendUint64(b, c.End)
		}
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(linear)))
	for _, l := range linear {
		b = binary.LittleEndian.AppendUint64(b, l)
	}
	if noCoor {
		b = binary.LittleEndian.AppendUint64(b, 7)
	}
	return b
}

func sortedKeys(m map[uint32][]Chunk) []uint32 {
	var k []uint32
	for id := range m {
		k = append(k, id)
	}
	for i := range k {
		for j := i + 1; j < len(k); j++ {
			if k[j] < k[i] {
				k[i], k[j] = k[j], k[i]
			}
		}
	}
	return k
}

func TestParseAndQuery(t *testing.T) {
	// Bin 4681 covers [0,16384), 4682 covers [16384,32768); 37450 is the pseudo-bin.
	data := bai(map[uint32][]Chunk{
		4681:  {{100 << 16, 200 << 16}},
		4682:  {{200 << 16, 300 << 16}},
		0:     {{250 << 16, 260 << 16}},
		37450: {{100 << 16, 300 << 16}, {5, 2}},
	}, []uint64{100 << 16, 200 << 16}, true)
	x, err := ParseBAI(data)
	if err != nil {
		t.Fatal(err)
	}
	if m, u, ok := x.Stats(0); !ok || m != 5 || u != 2 {
		t.Errorf("Stats = %d %d %v", m, u, ok)
	}
	if x.NoCoor != 7 {
		t.Errorf("NoCoor = %d", x.NoCoor)
	}
	got := x.Query(0, 0, 100)
	// Bin 0's chunk lies beyond the first chunk of bin 4682, right of the
	// region, so htslib's max_off excludes it.
	want := []Chunk{{100 << 16, 200 << 16}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Query(0,100) (-want +got):\n%s", diff)
	}
	got = x.Query(0, 20000, 20100)
	want = []Chunk{{200 << 16, 300 << 16}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Query(20000,20100) (-want +got):\n%s", diff)
	}
	if off, ok := x.NoCoorOffset(); !ok || off != 300<<16 {
		t.Errorf("NoCoorOffset = %d %v", off, ok)
	}
}

func TestCorrupt(t *testing.T) {
	good := bai(map[uint32][]Chunk{4681: {{1, 2}}}, []uint64{1}, false)
	dup := []byte("BAI\x01\x01\x00\x00\x00\x02\x00\x00\x00" +
		"\x01\x00\x00\x00\x00\x00\x00\x00" + "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	neg := bytes.Clone(good)
	binary.LittleEndian.PutUint32(neg[8:], 0xffffffff)
	huge := bytes.Clone(good)
	binary.LittleEndian.PutUint32(huge[4:], 0x7fffffff)
	for name, data := range map[string][]byte{
		"truncated": good[:len(good)-3], "duplicate bin": dup, "negative bins": neg, "huge n_ref": huge,
	} {
		if _, err := ParseBAI(data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Read(bytes.NewReader([]byte("XYZ\x01....")), 8); !errors.Is(err, ErrFormat) {
		t.Errorf("bad magic: %v", err)
	}
}

// seeds returns real indexes from the htslib test data when present.
func seeds() [][]byte {
	var out [][]byte
	dir := filepath.Join("..", "..", "..", ".cache", "testdata", "htslib-test", "usr", "share", "htslib-test", "test")
	for _, f := range []string{"range.bam.bai", "colons.bam.bai", "index.bam.bai"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
			out = append(out, b)
		}
	}
	return out
}

func FuzzParseBAI(f *testing.F) {
	f.Add(bai(map[uint32][]Chunk{4681: {{1, 2}}, 37450: {{1, 2}, {3, 4}}}, []uint64{1, 0, 5}, true))
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ParseBAI(data)
		if err != nil {
			return
		}
		for tid := range x.Refs {
			x.Query(tid, 0, 1<<62)
			x.Query(tid, 100000, 100999)
			x.Stats(tid)
		}
		x.NoCoorOffset()
		x.StartOffset()
	})
}

func FuzzParseCSI(f *testing.F) {
	csi := []byte("CSI\x01\x0e\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00" +
		"\x01\x00\x00\x00" + "\x49\x12\x00\x00" + "\x05\x00\x00\x00\x00\x00\x00\x00" + "\x01\x00\x00\x00" +
		"\x05\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00")
	f.Add(csi)
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ParseCSI(data)
		if err != nil {
			return
		}
		for tid := range x.Refs {
			x.Query(tid, 0, 1<<62)
			x.Query(tid, 1<<40, 1<<41)
			x.Stats(tid)
		}
	})
}
