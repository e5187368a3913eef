package bam

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/edgenome/edgenome/internal/bgzfblock"
	"github.com/edgenome/edgenome/plugins/internal/bgzf"
)

func TestAppendFloat(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "-0"}, {1, "1"}, {0.5, "0.5"}, {-2.5, "-2.5"},
		{3.14159265, "3.14159"}, {123456.7, "123457"}, {999999, "999999"}, {99999.95, "100000"},
		{1e-5, "1e-05"}, {1234567, "1.23457e+06"}, {0.0001, "0.0001"}, {0.00025, "0.00025"},
		{float64(float32(0.1)), "0.1"}, {float64(float32(0.3)), "0.3"}, {9.999996, "10"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"}, {1e300, "1e+300"},
	}
	for _, c := range cases {
		if got := string(appendFloat(nil, c.in)); got != c.want {
			t.Errorf("appendFloat(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestAppendUint(t *testing.T) {
	for _, v := range []uint64{0, 9, 10, 99, 100, 4294967295, math.MaxUint64} {
		want := []byte{}
		for _, c := range []byte(uint64String(v)) {
			want = append(want, c)
		}
		if got := appendUint(nil, v); !bytes.Equal(got, want) {
			t.Errorf("appendUint(%d) = %q", v, got)
		}
	}
	if got := string(appendInt(nil, math.MinInt32)); got != "-2147483648" {
		t.Errorf("appendInt(MinInt32) = %q", got)
	}
}

func uint64String(v uint64) string {
	if v == 0 {
		return "0"
	}
	var s []byte
	for v > 0 {
		s = append([]byte{byte('0' + v%10)}, s...)
		v /= 10
	}
	return string(s)
}

// header builds a BAM header with one reference of the given length.
func header(text string, ref string, length uint32) []byte {
	b := []byte("BAM\x01")
	b = binary.LittleEndian.AppendUint32(b, uint32(len(text)))
	b = append(b, text...)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ref)+1))
	b = append(b, ref...)
	b = append(b, 0)
	return binary.LittleEndian.AppendUint32(b, length)
}

// record builds a mapped 4-base record "r1" at pos with CIGAR 4M and aux.
func record(pos int32, aux []byte) []byte {
	var d []byte
	d = binary.LittleEndian.AppendUint32(d, 0)           // refID
	d = binary.LittleEndian.AppendUint32(d, uint32(pos)) // pos
	d = append(d, 3, 60, 0, 0)                           // l_read_name, mapq, bin
	d = binary.LittleEndian.AppendUint16(d, 1)           // n_cigar
	d = binary.LittleEndian.AppendUint16(d, 0)           // flag
	d = binary.LittleEndian.AppendUint32(d, 4)           // l_seq
	d = binary.LittleEndian.AppendUint32(d, 0xffffffff)  // next refID
	d = binary.LittleEndian.AppendUint32(d, 0xffffffff)  // next pos
	d = binary.LittleEndian.AppendUint32(d, 0)           // tlen
	d = append(d, 'r', '1', 0)
	d = binary.LittleEndian.AppendUint32(d, 4<<4) // 4M
	d = append(d, 0x12, 0x48)                     // ACGT
	d = append(d, 30, 31, 32, 33)
	d = append(d, aux...)
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(d))), d...)
}

func TestReadAndFormat(t *testing.T) {
	aux := []byte("XAAzXcc\xffXCC\xffXss\x00\x80XSS\xff\xffXii\x00\x00\x00\x80XII\xff\xff\xff\xffXff\x00\x00\xc0\x3fXZZhi\x00XHH1A\x00XBBs\x02\x00\x00\x00\x01\x00\xff\xff")
	var file []byte
	file = append(file, bgzfblock.Append(nil, append(header("@HD\tVN:1.6\n", "chr1", 1000), record(9, aux)...), flate.BestSpeed)...)
	file = append(file, bgzf.EOFMarker...)
	r, err := NewReader(bytes.NewReader(file), int64(len(file)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := r.Read(&rec); err != nil {
		t.Fatal(err)
	}
	got, err := AppendSAM(nil, r.Header, &rec)
	if err != nil {
		t.Fatal(err)
	}
	want := "r1\t0\tchr1\t10\t60\t4M\t*\t0\t0\tACGT\t?@AB\tXA:A:z\tXc:i:-1\tXC:i:255\tXs:i:-32768\tXS:i:65535" +
		"\tXi:i:-2147483648\tXI:i:4294967295\tXf:f:1.5\tXZ:Z:hi\tXH:H:1A\tXB:B:s,1,-1\n"
	if string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if rec.End != 13 {
		t.Errorf("End = %d, want 13", rec.End)
	}
	if err := r.Read(&rec); err != io.EOF {
		t.Errorf("second Read: %v, want EOF", err)
	}
	if h := string(r.Header.AppendSAM(nil)); h != "@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:1000\n" {
		t.Errorf("header %q", h)
	}
}

func TestCorruptRecords(t *testing.T) {
	good := record(9, nil)
	mut := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	cases := map[string][]byte{
		"block size 31":    mut(func(b []byte) { binary.LittleEndian.PutUint32(b, 31) }),
		"negative l_seq":   mut(func(b []byte) { binary.LittleEndian.PutUint32(b[4+16:], 0xffffffff) }),
		"huge n_cigar":     mut(func(b []byte) { binary.LittleEndian.PutUint16(b[4+12:], 0xffff) }),
		"l_read_name 0":    mut(func(b []byte) { b[4+8] = 0 }),
		"cigar/seq differ": mut(func(b []byte) { binary.LittleEndian.PutUint32(b[4+32+3:], 5<<4) }),
		"bad aux":          record(9, []byte("XZZunterminated")),
		"truncated":        good[:len(good)-3],
	}
	for name, rec := range cases {
		file := append(bgzfblock.Append(nil, append(header("", "chr1", 1000), rec...), flate.BestSpeed), bgzf.EOFMarker...)
		r, err := NewReader(bytes.NewReader(file), int64(len(file)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var rr Record
		err = r.Read(&rr)
		if err == nil {
			_, err = AppendSAM(nil, r.Header, &rr)
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: error %v, want corrupt or truncated", name, err)
		}
	}
}

// FuzzRecord decodes and formats arbitrary record bytes.
func FuzzRecord(f *testing.F) {
	f.Add(record(9, nil)[4:])
	f.Add(record(0, []byte("XBBf\x01\x00\x00\x00\x00\x00\xc0\x3fXZZa\x00"))[4:])
	f.Add(record(5, []byte("CGBI\x01\x00\x00\x00\x40\x00\x00\x00"))[4:])
	h := &Header{Refs: []Ref{{"chr1", 1000}}}
	h.index()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 32 {
			return
		}
		var r Record
		if err := r.decode(data); err != nil {
			return
		}
		_, _ = AppendSAM(nil, h, &r)
	})
}

// FuzzStream reads a whole BGZF-wrapped BAM from arbitrary decompressed bytes.
func FuzzStream(f *testing.F) {
	f.Add(append(header("@HD\n", "chr1", 100), record(1, nil)...))
	f.Add(header("", "c", 5))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > bgzf.MaxBlockSize {
			return
		}
		file := append(bgzfblock.Append(nil, data, flate.BestSpeed), bgzf.EOFMarker...)
		r, err := NewReader(bytes.NewReader(file), int64(len(file)), nil)
		if err != nil {
			return
		}
		var rec Record
		for i := 0; i < 1000; i++ {
			if err := r.Read(&rec); err != nil {
				return
			}
			_, _ = AppendSAM(nil, r.Header, &rec)
		}
	})
}

// BenchmarkAppendSAM formats one 150 bp paired record with typical tags.
func BenchmarkAppendSAM(b *testing.B) {
	var d []byte
	d = binary.LittleEndian.AppendUint32(d, 0)
	d = binary.LittleEndian.AppendUint32(d, 123456)
	d = append(d, 21, 60, 0, 0)
	d = binary.LittleEndian.AppendUint16(d, 3)
	d = binary.LittleEndian.AppendUint16(d, 99)
	d = binary.LittleEndian.AppendUint32(d, 150)
	d = binary.LittleEndian.AppendUint32(d, 0)
	d = binary.LittleEndian.AppendUint32(d, 123700)
	d = binary.LittleEndian.AppendUint32(d, 394)
	d = append(d, "read_0001/1_abcdefgh\x00"...)
	for _, c := range []uint32{100<<4 | 0, 2<<4 | 1, 48<<4 | 0} {
		d = binary.LittleEndian.AppendUint32(d, c)
	}
	for i := 0; i < 75; i++ {
		d = append(d, 0x12+byte(i%3)*0x22)
	}
	for i := 0; i < 150; i++ {
		d = append(d, byte(20+i%20))
	}
	d = append(d, "NMC\x03ASC\x8fXSC\x00MDZ50A49G48\x00tpAP"...)
	var r Record
	if err := r.decode(d); err != nil {
		b.Fatal(err)
	}
	h := &Header{Refs: []Ref{{"chr1", 248956422}}}
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		buf, _ = AppendSAM(buf[:0], h, &r)
	}
}
