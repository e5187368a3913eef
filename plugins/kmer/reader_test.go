package kmer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
)

// feedFile feeds a FASTA or FASTQ file to c one line at a time, so k-mers
// cross Add calls exactly where the real plugin's streamed chunks would
// split them. It is a test-only reader for well-formed inputs (the
// generated ones and the packaged data); the plugin uses the shared
// seqio reader. As in jellyfish, a trailing '\r' is dropped and blank lines
// are skipped.
func feedFile(t testing.TB, c *Counter, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	if err := feed(c, r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func feed(c *Counter, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	const (
		header = iota // FASTQ: expecting '@'
		seq           // FASTA: any line; FASTQ: sequence lines until '+'
		qual          // FASTQ: quality lines until as long as the sequence
	)
	fastq, first := false, true
	state, seqLen, qualLen := seq, 0, 0
	for sc.Scan() {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(line) == 0 && state != qual {
			continue
		}
		if first {
			fastq, first = line[0] == '@', false
			if fastq {
				state = header
			}
		}
		switch {
		case state == qual:
			if qualLen += len(line); qualLen >= seqLen {
				state = header
			}
		case state == header:
			state, seqLen = seq, 0
		case fastq && line[0] == '+':
			c.EndRecord()
			state, qualLen = qual, 0
			if seqLen == 0 {
				state = header
			}
		case !fastq && line[0] == '>':
			c.EndRecord()
		default:
			seqLen += len(line)
			if err := c.Add(line); err != nil {
				return err
			}
		}
	}
	c.EndRecord()
	return sc.Err()
}
