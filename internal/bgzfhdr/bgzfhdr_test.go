package bgzfhdr

import "testing"

func TestBlockSize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		want  int
	}{
		{"bc only", "BC\x02\x00\x1b\x00", 28},
		{"bc after another", "XY\x01\x00zBC\x02\x00\xff\xff", 65536},
		{"none", "XY\x02\x00ab", -1},
		{"bc too short", "BC\x01\x00z", -1},
		{"overrunning subfield", "XY\x09\x00abBC\x02\x00\x1b\x00", -1},
		{"empty", "", -1},
		{"cut", "BC\x02\x00\x1b", -1},
	} {
		if got := BlockSize([]byte(tc.extra)); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func FuzzBlockSize(f *testing.F) {
	f.Add([]byte("BC\x02\x00\x1b\x00"))
	f.Fuzz(func(t *testing.T, extra []byte) {
		if n := BlockSize(extra); n != -1 && (n < 1 || n > 65536) {
			t.Fatalf("size %d out of range", n)
		}
	})
}
