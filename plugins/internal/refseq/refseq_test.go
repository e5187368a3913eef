package refseq

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fasta = ">a desc\nACGTACGTAC\nGT\n>b\nNNNN\n"
const index = "a\t12\t8\t10\t11\nb\t4\t26\t4\t5\n"

func open(t *testing.T) *Source {
	s, err := Open(strings.NewReader(fasta), strings.NewReader(index))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIntervals(t *testing.T) {
	s := open(t)
	got, err := s.Intervals(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Interval{{Name: "a", End: 12}, {Name: "b", End: 4}}, got); d != "" {
		t.Error(d)
	}
	got, err = s.Intervals([]string{"a:3-5", "b", "a:11-1,000"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Interval{{"a", 2, 5, "a:3-5"}, {"b", 0, 4, "b"}, {"a", 10, 12, "a:11-1,000"}}
	if ivs, err := s.Intervals([]string{"a:0-5"}); err != nil || ivs[0].Len() != 0 {
		t.Errorf("a:0-5 = %v, %v; want an empty interval, as samtools faidx", ivs, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
	for _, bad := range []string{"c", "a:13-20", "a:5-1", "a:x"} {
		if _, err := s.Intervals([]string{bad}); !errors.Is(err, ErrRegion) {
			t.Errorf("%q: err = %v, want ErrRegion", bad, err)
		}
	}
}

func TestStream(t *testing.T) {
	s := open(t)
	var got []string
	err := s.Stream(Interval{Name: "a", Beg: 7, End: 12}, 2, func(b []byte) error {
		got = append(got, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "") != "TACGT" {
		t.Errorf("streamed %q", got)
	}
}
