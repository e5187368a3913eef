package runtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/edgenome/edgenome/host/internal/preempt"
	"github.com/tetratelabs/wazero"
)

// module builds a minimal module: one memory of one page, the given data
// segments, and an exported memory.
func module(segs ...segment) []byte {
	var data []byte
	data = binary.AppendUvarint(data, uint64(len(segs)))
	for _, s := range segs {
		data = appendSegment(data, []segment{s})
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, 5, 3, 1, 0, 1)                   // memory: min 1 page
	m = append(m, 7, 7, 1, 3, 'm', 'e', 'm', 2, 0) // export "mem"
	return appendSection(m, 11, data)
}

func memoryOf(t *testing.T, wasm []byte) []byte {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	mod, err := r.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	b, _ := mod.Memory().Read(0, mod.Memory().Size())
	return append([]byte(nil), b...)
}

func TestMergeDataSegments(t *testing.T) {
	tests := []struct {
		name     string
		segs     []segment
		segments int // after merging; -1: unchanged
	}{
		{"adjacent and small gaps", []segment{{100, []byte("abc")}, {103, []byte("de")}, {300, []byte("f")}, {600, []byte("gh")}}, 2},
		{"unsorted", []segment{{600, []byte("gh")}, {100, []byte("abc")}, {120, []byte("x")}}, 2},
		{"far apart", []segment{{0, []byte("a")}, {10000, []byte("b")}}, 2},
		{"overlap keeps order", []segment{{100, []byte("abcd")}, {102, []byte("ZZ")}}, -1},
		{"empty segment", []segment{{5, nil}, {7, []byte("q")}}, 1},
		{"one merged from many", []segment{{10, []byte("a")}, {20, []byte("b")}, {30, []byte("c")}, {286, []byte("d")}}, 1},
	}
	for _, tt := range tests {
		in := module(tt.segs...)
		out := mergeDataSegments(in)
		if tt.segments < 0 {
			if !bytes.Equal(in, out) {
				t.Errorf("%s: module changed", tt.name)
			}
			continue
		}
		if got := countSegments(t, out); got != tt.segments {
			t.Errorf("%s: %d segments, want %d", tt.name, got, tt.segments)
		}
		if !bytes.Equal(memoryOf(t, in), memoryOf(t, out)) {
			t.Errorf("%s: memory differs after merging", tt.name)
		}
	}
}

func countSegments(t *testing.T, wasm []byte) int {
	t.Helper()
	for pos := 8; pos < len(wasm); {
		size, n := uvarint(wasm[pos+1:])
		if wasm[pos] == 11 {
			c, _ := uvarint(wasm[pos+1+n:])
			return int(c)
		}
		pos += 1 + n + int(size)
	}
	t.Fatal("no data section")
	return 0
}

func FuzzMergeDataSegments(f *testing.F) {
	f.Add(module(segment{1, []byte("a")}, segment{3, []byte("b")}))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x0b\x01\x00"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		if preempt.Validate(wasm) != nil {
			// wazero itself may allocate gigabytes for such a module (the
			// loader never hands it one): the fuzzer died on one.
			return
		}
		out := mergeDataSegments(wasm)
		ctx := context.Background()
		r := wazero.NewRuntime(ctx)
		defer r.Close(ctx)
		m1, err1 := r.Instantiate(ctx, wasm)
		if err1 != nil || len(m1.ExportedMemoryDefinitions()) == 0 {
			return // only modules whose memory we can compare
		}
		b1, _ := m1.Memory().Read(0, m1.Memory().Size())
		r2 := wazero.NewRuntime(ctx)
		defer r2.Close(ctx)
		m2, err2 := r2.Instantiate(ctx, out)
		if err2 != nil {
			t.Fatalf("merged module fails where the original works: %v", err2)
		}
		b2, _ := m2.Memory().Read(0, m2.Memory().Size())
		if !bytes.Equal(b1, b2) {
			t.Fatal("merged module's memory differs")
		}
	})
}
