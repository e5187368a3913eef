package kmer

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzParseKmer checks the query-string parser, the only place that reads
// a user-given string, against a spelled-out model of jellyfish's
// mer_dna::from_chars.
func FuzzParseKmer(f *testing.F) {
	for _, s := range []string{"ACG", "acg", "ACN", "NGG", "AC", "", "ACGTT", "xyz", "A-G",
		strings.Repeat("T", 31), strings.Repeat("gattaca", 5), "\x00\xff\x80ACGT"} {
		f.Add(s, uint8(3))
		f.Add(s, uint8(31))
	}
	f.Fuzz(func(t *testing.T, s string, kb uint8) {
		k := int(kb%MaxK) + 1
		key, err := ParseKmer(s, k)
		if len(s) < k {
			if !errors.Is(err, ErrBadKmer) {
				t.Fatalf("ParseKmer(%q, %d) = %v, want ErrBadKmer", s, k, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseKmer(%q, %d): %v", s, k, err)
		}
		want := []byte(strings.Repeat("A", k))
		for i := 0; i < k; i++ {
			c := s[i]
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			if strings.IndexByte("ACGT", c) < 0 {
				break
			}
			want[i] = c
		}
		if got := AppendKmer(nil, key, k); !bytes.Equal(got, want) {
			t.Fatalf("ParseKmer(%q, %d) = %s, want %s", s, k, got, want)
		}
		rc := ReverseComplement(key, k)
		if ReverseComplement(rc, k) != key || Canonical(key, k) != min(key, rc) {
			t.Fatalf("reverse complement of %s is not an involution", want)
		}
	})
}

// FuzzCount feeds arbitrary bytes (records split at '>', each fed in
// pieces) and compares the dump with the reference counter.
func FuzzCount(f *testing.F) {
	f.Add([]byte("ACGTacgtNNACGTTGCA>GGCCAAT>TTTTTTTTTT"), uint8(3), true, uint8(2))
	f.Add([]byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), uint8(31), false, uint8(7))
	f.Add([]byte("ACGT-RYN\r\nacgt"), uint8(1), true, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, kb uint8, canonical bool, piece uint8) {
		if len(data) > 1<<16 {
			return
		}
		k := int(kb%MaxK) + 1
		step := int(piece%16) + 1
		c, err := New(Config{K: k, Canonical: canonical, MaxBytes: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		records := strings.Split(string(data), ">")
		for _, rec := range records {
			for i := 0; i < len(rec); i += step {
				if err := c.Add([]byte(rec[i:min(i+step, len(rec))])); err != nil {
					t.Fatal(err)
				}
			}
			c.EndRecord()
		}
		ref := refCount(records, k, canonical)
		var got bytes.Buffer
		if err := c.WriteTop(context.Background(), &bytes.Buffer{}, 5); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteHisto(context.Background(), &bytes.Buffer{}, DefaultHistoOptions()); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteDump(context.Background(), &got, DumpOptions{}); err != nil {
			t.Fatal(err)
		}
		if want := refDump(ref, 0); got.String() != want {
			t.Fatalf("k=%d canonical=%v: dump\n%s\nwant\n%s", k, canonical, got.String(), want)
		}
	})
}
