package region

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var refs = map[string]int64{
	"chr1": 1000, "chr2": 2000, "chr3": 3000,
	"chr1:100-200": 50, // makes "chr1:100-200" ambiguous
	"HLA-A*01:01":  500,
}

func lookup(name string) (int64, bool) {
	l, ok := refs[name]
	return l, ok
}

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Region
		err  error
	}{
		{"chr1", Region{Name: "chr1", Beg: 0, End: MaxPos}, nil},
		{"chr1:50", Region{Name: "chr1", Beg: 49, End: MaxPos}, nil},
		{"chr1:50-100", Region{Name: "chr1", Beg: 49, End: 100}, nil},
		{"chr1:50-", Region{Name: "chr1", Beg: 49, End: MaxPos}, nil},
		{"chr1:-50", Region{Name: "chr1", Beg: 0, End: 50}, nil},
		{"chr3:", Region{Name: "chr3", Beg: 0, End: MaxPos}, nil},
		{"chr3:1,000-1,500", Region{Name: "chr3", Beg: 999, End: 1500}, nil},
		{"chr3:1k-1.5K", Region{Name: "chr3", Beg: 999, End: 1500}, nil},
		{"chr3:1e3-1.5e3", Region{Name: "chr3", Beg: 999, End: 1500}, nil},
		{"chr3:1e3-15e2", Region{Name: "chr3", Beg: 999, End: 1500}, nil},
		{"chr1:10-10", Region{Name: "chr1", Beg: 9, End: 10}, nil},
		{"chr1:0-10", Region{Name: "chr1", Beg: 0, End: 10, ZeroStart: true}, nil},
		{"chr1:0", Region{Name: "chr1", Beg: 0, End: MaxPos}, nil},
		{"chr1:1-0", Region{Name: "chr1", Beg: 0, End: MaxPos}, nil},
		{"{chr1}:100-200", Region{Name: "chr1", Beg: 99, End: 200}, nil},
		{"{chr1:100-200}", Region{Name: "chr1:100-200", Beg: 0, End: MaxPos}, nil},
		{"HLA-A*01:01", Region{Name: "HLA-A*01:01", Beg: 0, End: MaxPos}, nil},
		{"HLA-A*01:01:5-6", Region{Name: "HLA-A*01:01", Beg: 4, End: 6}, nil},
		{"{HLA-A*01:01}:1-10", Region{Name: "HLA-A*01:01", Beg: 0, End: 10}, nil},
		{"chr1:100-200", Region{}, ErrAmbiguous},
		{"chr1:10-9", Region{}, ErrSyntax},
		{"chr1:x", Region{}, ErrSyntax},
		{"chr1:1-y", Region{}, ErrSyntax},
		{"chr1:1,chr3", Region{}, ErrSyntax},
		{"{chr1", Region{}, ErrSyntax},
		{"{chr1}x", Region{}, ErrSyntax},
		{"chr1:1.5", Region{}, ErrSyntax},
		{"chr1:99999999999999999999", Region{}, ErrSyntax},
		{"chr1:1e40", Region{}, ErrSyntax},
		{"chr1:-100-200", Region{}, ErrSyntax},
		{"", Region{}, ErrSyntax},
		{"chrX", Region{}, ErrUnknownRef},
		{"chrX:1-5", Region{}, ErrUnknownRef},
		{"{chrX}:1-5", Region{}, ErrUnknownRef},
	}
	for _, c := range cases {
		got, err := Parse(c.in, lookup)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("Parse(%q) error %v, want %v", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"chr1", "chr1:1-100", "{chr1}:1-2", "chr1:1,000-2k", "HLA-A*01:01:1-5", "chr1:-5", "chr3:1e3-15e2", "{", "chr1:0-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s, lookup)
		if err != nil {
			return
		}
		if _, ok := refs[r.Name]; !ok {
			t.Fatalf("Parse(%q) returned unknown name %q", s, r.Name)
		}
		if r.Beg < 0 || r.Beg >= r.End {
			t.Fatalf("Parse(%q) = [%d,%d)", s, r.Beg, r.End)
		}
	})
}
