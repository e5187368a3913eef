package bgzf

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"
)

func block(data []byte) []byte {
	var c bytes.Buffer
	fw, _ := flate.NewWriter(&c, flate.BestSpeed)
	fw.Write(data)
	fw.Close()
	out := []byte{0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 'B', 'C', 2, 0, 0, 0}
	binary.LittleEndian.PutUint16(out[16:], uint16(len(out)+c.Len()+8-1))
	out = append(out, c.Bytes()...)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(data))
	return binary.LittleEndian.AppendUint32(out, uint32(len(data)))
}

func TestBlocks(t *testing.T) {
	a, b := block([]byte("hello ")), block(bytes.Repeat([]byte("world"), 1000))
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
	good := block([]byte("some data here"))
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
	f.Add(block([]byte("hello")))
	f.Add(EOFMarker)
	f.Add(append(block(bytes.Repeat([]byte{'A'}, 70000)[:65536]), EOFMarker...))
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
