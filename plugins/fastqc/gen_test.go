package fastqc

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"testing"
)

// genSpec describes a synthetic FASTQ file.
type genSpec struct {
	reads    int
	minLen   int
	maxLen   int
	alphabet string // sequence bytes to draw from
	qmin     byte   // quality character range
	qmax     byte
	wrap     int  // >0: wrap sequence and quality lines at this width
	crlf     bool // Windows line ends
	blank    bool // blank lines between some records
}

func generate(seed uint64, g genSpec) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var b bytes.Buffer
	nl := "\n"
	if g.crlf {
		nl = "\r\n"
	}
	put := func(s []byte) {
		if g.wrap <= 0 || len(s) == 0 {
			b.Write(s)
			b.WriteString(nl)
			return
		}
		for len(s) > 0 {
			n := min(g.wrap, len(s))
			b.Write(s[:n])
			b.WriteString(nl)
			s = s[n:]
		}
	}
	seq := make([]byte, 0, g.maxLen)
	qual := make([]byte, 0, g.maxLen)
	for i := range g.reads {
		n := g.minLen + rng.IntN(g.maxLen-g.minLen+1)
		seq, qual = seq[:0], qual[:0]
		// Quality drifts along the read, like real runs, with some noise.
		base := int(g.qmin) + rng.IntN(int(g.qmax-g.qmin)+1)
		for j := 0; j < n; j++ {
			seq = append(seq, g.alphabet[rng.IntN(len(g.alphabet))])
			q := base - j/8 + rng.IntN(11) - 5
			q = max(int(g.qmin), min(int(g.qmax), q))
			qual = append(qual, byte(q))
		}
		fmt.Fprintf(&b, "@read%d extra words%s", i+1, nl)
		put(seq)
		if i%3 == 0 {
			fmt.Fprintf(&b, "+read%d%s", i+1, nl)
		} else {
			b.WriteString("+" + nl)
		}
		put(qual)
		if g.blank && i%5 == 4 {
			b.WriteString(nl)
		}
	}
	return b.Bytes()
}

func gzipBytes(t testing.TB, b []byte, members int) []byte {
	var out bytes.Buffer
	step := max(1, len(b)/members)
	for len(b) > 0 || out.Len() == 0 {
		n := min(step, len(b))
		w, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
		if _, err := w.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	return out.Bytes()
}
