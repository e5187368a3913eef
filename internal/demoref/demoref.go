// Package demoref writes the demo reference of the embedded default
// configuration: a deterministic FASTA of several sequences, about 1 Mbp in
// all, with the features real references have (N runs, soft-masked
// lowercase stretches, a short sequence), and its samtools .fai.
package demoref

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Seq describes one demo sequence.
type Seq struct {
	Name   string
	Length int
}

// Sequences of the demo reference, in file order.
var Sequences = []Seq{
	{"chr1", 500_000},
	{"chr2", 300_000},
	{"chr3", 183_431},
	{"chrM", 16_569},
}

// LineWidth is the FASTA line length, as in most published references.
const LineWidth = 60

// splitmix64 is stable across Go releases, unlike math/rand's generators
// would need to be promised to be.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// base generates sequence i's bases.
func bases(i int, n int) []byte {
	rng := splitmix64(uint64(i+1) * 0x5eed)
	b := make([]byte, n)
	const acgt = "ACGT"
	for j := range b {
		b[j] = acgt[rng.next()&3]
	}
	// Repeats: copy earlier stretches so reads can map to more than one place.
	for k := 0; k < n/50_000; k++ {
		from := int(rng.next() % uint64(n-2000))
		to := int(rng.next() % uint64(n-2000))
		copy(b[to:to+1000], b[from:from+1000])
	}
	// Soft-masked stretches, as RepeatMasker leaves them.
	for k := 0; k < n/40_000; k++ {
		at := int(rng.next() % uint64(n-3000))
		for j := at; j < at+1+int(rng.next()%3000); j++ {
			b[j] |= 0x20
		}
	}
	// N runs: a short leading gap on chr1 (kept short so the README's
	// chr1:1000-2000 example has bases) and assembly gaps inside.
	if i == 0 {
		for j := 0; j < 200; j++ {
			b[j] = 'N'
		}
	}
	for k := 0; k < n/150_000; k++ {
		at := int(rng.next() % uint64(n-5000))
		for j := at; j < at+500+int(rng.next()%4000); j++ {
			b[j] = 'N'
		}
	}
	return b
}

// Write writes demo.fa and demo.fa.fai into dir.
func Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fa, err := os.Create(filepath.Join(dir, "demo.fa.tmp"))
	if err != nil {
		return err
	}
	defer os.Remove(fa.Name())
	w := bufio.NewWriterSize(fa, 1<<20)
	var fai []byte
	var off int64
	for i, s := range Sequences {
		hdr := ">" + s.Name + " demo sequence " + strconv.Itoa(i+1) + "\n"
		w.WriteString(hdr)
		off += int64(len(hdr))
		fai = fmt.Appendf(fai, "%s\t%d\t%d\t%d\t%d\n", s.Name, s.Length, off, LineWidth, LineWidth+1)
		b := bases(i, s.Length)
		for j := 0; j < len(b); j += LineWidth {
			end := min(j+LineWidth, len(b))
			w.Write(b[j:end])
			w.WriteByte('\n')
			off += int64(end-j) + 1
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := fa.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "demo.fa.fai"), fai, 0o644); err != nil {
		return err
	}
	return os.Rename(fa.Name(), filepath.Join(dir, "demo.fa"))
}
