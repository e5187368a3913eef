package dataplane

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/edgenome/edgenome/host/internal/rangefetch"
	"github.com/edgenome/edgenome/internal/bgzfblock"
)

// bgzfFileOf lays out blocks as a BGZF file.
func bgzfFileOf(blocks [][]byte) (file []byte, offsets []int64) {
	for _, b := range blocks {
		offsets = append(offsets, int64(len(file)))
		file = bgzfblock.Append(file, b, 6)
	}
	return file, offsets
}

// openView opens the inflated view of a BGZF file in a call, as a plugin
// does.
func openView(t *testing.T, file []byte) *bgzfFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.gz")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	fetch, err := rangefetch.New(rangefetch.Config{BlockSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fetch.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := New(ctx, nil, nil, 0, fetch.NewSession(ctx, 1<<30), map[string]Reference{"x": {Name: "x", Fasta: path}})
	h, err := c.Open("ref/x" + BGZFSuffix)
	if err != nil {
		t.Fatal(err)
	}
	return h.(*bgzfFile)
}

func randomBlocks(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var out [][]byte
	for i := range n {
		b := make([]byte, 1000+rng.IntN(60000))
		for k := range b {
			b[k] = "ACGT\n"[rng.IntN(5)]
		}
		b[0] = byte(i)
		out = append(out, b)
	}
	return out
}

// TestReadahead: sequential reads start the read-ahead and get the same
// bytes; a jump stops it and still reads the right block; Close ends the
// goroutine.
func TestReadahead(t *testing.T) {
	blocks := randomBlocks(3 * readaheadAfter)
	file, offs := bgzfFileOf(blocks)
	f := openView(t, file)
	before := runtime.NumGoroutine()
	buf := make([]byte, maxBGZFBlock)
	read := func(i int) {
		t.Helper()
		n, err := f.ReadAt(buf, offs[i])
		if err != nil || !bytes.Equal(buf[:n], blocks[i]) {
			t.Fatalf("block %d: %d bytes, %v", i, n, err)
		}
	}
	for i := 0; i < 2*readaheadAfter; i++ {
		read(i)
	}
	if f.ra == nil {
		t.Fatal("no read-ahead after sequential reads")
	}
	read(1) // a jump back
	if f.ra != nil {
		t.Error("read-ahead kept after a jump")
	}
	for i := 2; i < len(blocks); i++ {
		read(i)
	}
	if n, err := f.ReadAt(buf, int64(len(file))); n != 0 || err != io.EOF {
		t.Errorf("past the end: %d, %v", n, err)
	}
	f.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines left, %d before", g, before)
	}
}

// TestReadaheadCorruptBlock: a bad block met by the read-ahead fails only
// the read of that block, with ErrBadBlock, and nothing before it.
func TestReadaheadCorruptBlock(t *testing.T) {
	blocks := randomBlocks(2 * readaheadAfter)
	bad := readaheadAfter + 2
	file, offs := bgzfFileOf(blocks)
	// Damage the CRC of one block the read-ahead will inflate.
	file[offs[bad+1]-8] ^= 0xff
	f := openView(t, file)
	buf := make([]byte, maxBGZFBlock)
	for i := range blocks {
		_, err := f.ReadAt(buf, offs[i])
		if (i == bad) != (err != nil) {
			t.Fatalf("block %d: %v", i, err)
		}
		if i == bad && !errors.Is(err, ErrBadBlock) {
			t.Errorf("block %d: %v, want ErrBadBlock", i, err)
		}
	}
	f.Close()
}
