package bgzf

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"testing"

	"github.com/edgenome/edgenome/internal/bgzfblock"
)

func TestBlocks(t *testing.T) {
	a, b := bgzfblock.Append(nil, []byte("hello "), flate.BestSpeed), bgzfblock.Append(nil, bytes.Repeat([]byte("world"), 1000), flate.BestSpeed)
	file := append(append(append([]byte{}, a...), b...), EOFMarker...)
	r := NewReader(bytes.NewReader(file), int64(len(file)))
	var got []byte
	var buf []byte
	for off := int64(0); ; {
		data, n, err := r.Block(off, buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, data...)
		buf = data
		off += int64(n)
	}
	if want := "hello " + string(bytes.Repeat([]byte("world"), 1000)); string(got) != want {
		t.Errorf("got %d bytes, want %d", len(got), len(want))
	}
	if ok, _ := HasEOFMarker(bytes.NewReader(file), int64(len(file))); !ok {
		t.Error("EOF marker not found")
	}
}

func TestBadBlocks(t *testing.T) {
	good := bgzfblock.Append(nil, []byte("some data here"), flate.BestSpeed)
	mut := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"magic", mut(0, 0), ErrNotBGZF},
		{"no extra field", mut(3, 0), ErrNotBGZF},
		{"no BC", mut(12, 'X'), ErrNotBGZF},
		{"crc", mut(len(good)-8, good[len(good)-8]^1), ErrCorrupt},
		{"isize", mut(len(good)-4, good[len(good)-4]+1), ErrCorrupt},
		{"huge isize", mut(len(good)-1, 0xff), ErrCorrupt},
		{"deflate", mut(20, good[20]^0xff), ErrCorrupt},
		{"short block", good[:len(good)-1], ErrTruncated},
		{"short header", good[:10], ErrTruncated},
		{"bsize too small", mut(16, 5), ErrCorrupt},
	}
	for _, c := range cases {
		r := NewReader(bytes.NewReader(c.data), int64(len(c.data)))
		_, _, err := r.Block(0, nil)
		var be *Error
		if !errors.Is(err, c.want) || !errors.As(err, &be) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func FuzzBlock(f *testing.F) {
	f.Add(bgzfblock.Append(nil, []byte("hello"), flate.BestSpeed))
	f.Add(EOFMarker)
	f.Add(append(bgzfblock.Append(nil, bytes.Repeat([]byte{'A'}, 70000)[:65536], flate.BestSpeed), EOFMarker...))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), int64(len(data)))
		var buf []byte
		for off, i := int64(0), 0; i < 100; i++ {
			d, n, err := r.Block(off, buf)
			if err != nil {
				return
			}
			if len(d) > MaxBlockSize || n <= 0 {
				t.Fatalf("block of %d bytes, compressed %d", len(d), n)
			}
			buf = d
			off += int64(n)
		}
	})
}
