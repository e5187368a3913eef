package server

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFai(t *testing.T) {
	got, err := parseFai(strings.NewReader("chr1\t248956422\t112\t70\t71\r\nchrM\t16569\t253\t60\t61\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []sequence{{"chr1", 248956422}, {"chrM", 16569}}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
	for _, bad := range []string{"chr1\t12\n", "chr1\tx\t1\t2\t3\n", "chr1\t-5\t1\t2\t3\n"} {
		if _, err := parseFai(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseFai(f *testing.F) {
	f.Add("chr1\t10\t6\t60\t61\n")
	f.Fuzz(func(t *testing.T, s string) {
		seqs, err := parseFai(strings.NewReader(s))
		for _, q := range seqs {
			if err == nil && q.Length < 0 {
				t.Fatal("negative length")
			}
		}
	})
}
