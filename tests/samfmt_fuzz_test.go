package tests

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgenome/edgenome/internal/bgzfblock"
	"github.com/edgenome/edgenome/internal/testenv"
	"github.com/edgenome/edgenome/plugins/samtools"
)

// FuzzSamtoolsRecordPath is a differential fuzz test of the plugin's record
// path (samfmt.c, a helper module, when clang-14 built it) against the Go
// viewer it was ported from: arbitrary record bytes after a valid header,
// wrapped in BGZF, are viewed through the plugin over HTTP and natively.
// When the Go viewer succeeds the plugin must answer a complete 200 with
// the same bytes; when it fails the plugin must fail too (422, or a 200 cut
// short), after a prefix of what the Go viewer printed. `go test` runs the
// seeds; `go test -fuzz FuzzSamtoolsRecordPath ./tests/` explores.
func FuzzSamtoolsRecordPath(f *testing.F) {
	for _, recs := range [][]byte{
		fuzzRecord(0, 99, "r1", 0, 100, []uint32{10<<4 | 0}, "ACGTACGTAC", nil),
		append(fuzzRecord(1, 147, "r2", 1, 5, []uint32{3<<4 | 0, 2<<4 | 1, 5<<4 | 4}, "ACGTNNNNNN", fuzzAux()),
			fuzzRecord(-1, 4, "u", -1, -1, nil, "", []byte("XAAz"))...),
		fuzzRecord(0, 0, "cg", 0, 0, []uint32{4<<4 | 4, 6<<4 | 3}, "ACGT", []byte("CGBI\x01\x00\x00\x00\x40\x00\x00\x00")),
		fuzzRecord(0, 16, "q", 0, 7, []uint32{4<<4 | 0}, "ACGT", []byte("XHHbeef\x00XBBc\x03\x00\x00\x00\x01\xff\x80")),
		{},
	} {
		f.Add(recs, uint16(0), uint16(0), uint8(0), false)
	}
	f.Add(fuzzRecord(0, 99, "r", 0, 1, []uint32{1<<4 | 0}, "A", nil), uint16(1), uint16(16), uint8(30), true)

	dir := f.TempDir()
	o := serveDir(f, dir)
	h := startHost(f, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.url, "http://")), samtoolsPlugin)
	var seq atomic.Int64
	hdr := fuzzHeader()
	f.Fuzz(func(t *testing.T, recs []byte, req, excl uint16, mapq uint8, count bool) {
		if len(recs) > 1<<20 {
			return
		}
		file := bgzfblock.File(append(bytes.Clone(hdr), recs...), 1)

		opt := samtools.ViewOptions{Count: count, RequireFlags: req, ExcludeFlags: excl, MinMapQ: int(mapq)}
		var want bytes.Buffer
		werr := samtools.View(context.Background(), samtools.Source{R: bytes.NewReader(file), Size: int64(len(file)), Name: "fuzz.bam"}, samtools.Source{}, &want, opt)

		name := fmt.Sprintf("f%d.bam", seq.Add(1))
		if err := os.WriteFile(filepath.Join(dir, name), file, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(filepath.Join(dir, name))
		q := url.Values{"bam": {o.url + "/" + name}, "require_flags": {fmt.Sprint(req)}, "exclude_flags": {fmt.Sprint(excl)}, "min_mapq": {fmt.Sprint(mapq)}}
		if count {
			q.Set("count", "true")
		}
		st, got, rerr := h.getStream("/plugin/samtools/view?" + q.Encode())
		complete := st == 200 && rerr == nil
		switch {
		case werr == nil && !complete:
			t.Fatalf("Go viewer succeeds, plugin answers %d (%v): %.300s", st, rerr, got)
		case werr == nil && !bytes.Equal(got, want.Bytes()):
			t.Fatalf("outputs differ: %s", testenv.FirstDiff(want.String(), string(got)))
		case werr != nil && complete:
			t.Fatalf("Go viewer fails (%v), plugin answers a complete 200: %.300s", werr, got)
		case werr != nil && st == 200 && !bytes.HasPrefix(want.Bytes(), got):
			t.Fatalf("Go viewer fails (%v); what the plugin sent first is not what Go printed: %s", werr, testenv.FirstDiff(want.String(), string(got)))
		case werr != nil && st != 200:
			var env apiError
			if st != 422 || json.Unmarshal(got, &env) != nil || env.Error.Message == "" {
				t.Fatalf("Go viewer fails (%v), plugin answers %d: %.300s", werr, st, got)
			}
			// Same failure, named after the file: the URL there, fuzz.bam here.
			if gw, gp := errTail(werr.Error()), errTail(env.Error.Message); gw != gp {
				t.Fatalf("failures differ:\n Go:     %v\n plugin: %s", werr, env.Error.Message)
			}
		}
	})
}

// errTail drops what names the file (everything up to the ".bam: ").
func errTail(msg string) string {
	if i := strings.LastIndex(msg, ".bam: "); i >= 0 {
		return msg[i+len(".bam: "):]
	}
	return msg
}

// fuzzHeader is a BAM header (magic, text, two references), uncompressed.
func fuzzHeader() []byte {
	text := "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:1000\n@SQ\tSN:chr2\tLN:500\n"
	b := append([]byte("BAM\x01"), le32(uint32(len(text)))...)
	b = append(b, text...)
	b = append(b, le32(2)...)
	for _, r := range []struct {
		name string
		n    uint32
	}{{"chr1", 1000}, {"chr2", 500}} {
		b = append(b, le32(uint32(len(r.name)+1))...)
		b = append(b, r.name...)
		b = append(b, 0)
		b = append(b, le32(r.n)...)
	}
	return b
}

// fuzzRecord encodes one BAM record with its block_size.
func fuzzRecord(tid int32, flag uint16, name string, mtid, pos int32, cigar []uint32, seq string, aux []byte) []byte {
	var d []byte
	d = append(d, le32(uint32(tid))...)
	d = append(d, le32(uint32(pos))...)
	d = append(d, byte(len(name)+1), 40)
	d = binary.LittleEndian.AppendUint16(d, 4680)
	d = binary.LittleEndian.AppendUint16(d, uint16(len(cigar)))
	d = binary.LittleEndian.AppendUint16(d, flag)
	d = append(d, le32(uint32(len(seq)))...)
	d = append(d, le32(uint32(mtid))...)
	d = append(d, le32(uint32(pos+100))...)
	d = append(d, le32(uint32(150))...)
	d = append(d, name...)
	d = append(d, 0)
	for _, c := range cigar {
		d = append(d, le32(c)...)
	}
	const codes = "=ACMGRSVTWYHKDBN"
	for i := 0; i < len(seq); i += 2 {
		b := byte(strings.IndexByte(codes, seq[i])) << 4
		if i+1 < len(seq) {
			b |= byte(strings.IndexByte(codes, seq[i+1]))
		}
		d = append(d, b)
	}
	for i := range seq {
		d = append(d, byte(20+i%30))
	}
	d = append(d, aux...)
	return append(le32(uint32(len(d))), d...)
}

// fuzzAux has one tag of every SAM aux type.
func fuzzAux() []byte {
	a := []byte("XAAyXcc\xfeXCC\xfeXss\x00\x80XSS\xff\xff")
	a = append(a, "XiI"...)
	a = append(a, le32(0x7fffffff)...)
	a = append(a, "Xii"...)
	a = append(a, le32(0x80000000)...)
	a = append(a, "Xff"...)
	a = append(a, le32(math.Float32bits(1.0/3))...)
	a = append(a, "XZZhello world\x00XHH0aFF\x00"...)
	a = append(a, "XBBs"...)
	a = append(a, le32(2)...)
	a = append(a, 0x01, 0x80, 0xff, 0x7f)
	a = append(a, "XbBf"...)
	a = append(a, le32(1)...)
	a = append(a, le32(math.Float32bits(-2.5e-7))...)
	return a
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
