package seqio

import "testing"

// TestBadByte checks the word-at-a-time scan against the plain definition
// for every byte value at every offset of a word.
func TestBadByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 19; pos++ {
			b := []byte("ACGTNacgtn!~IIIIIIIIIIII")[:19]
			b[pos] = byte(c)
			want := -1
			for i, x := range b {
				if x < '!' || x > '~' {
					want = i
					break
				}
			}
			if got := badByte(b); got != want {
				t.Fatalf("byte 0x%02x at %d: got %d, want %d", c, pos, got, want)
			}
		}
	}
}
