package testenv

import (
	"strings"
	"testing"
)

func TestFirstDiff(t *testing.T) {
	for _, tc := range []struct {
		want, got, says string
	}{
		{"a\nb\n", "a\nb\n", ""},
		{"a\nb\n", "a\nc\n", "line 2"},
		{"a\nb\n", "a\nb", "line 2"},
		{"a\n", "a\nb\n", "line 2"},
		{"", "x", "line 1"},
	} {
		d := FirstDiff(tc.want, tc.got)
		if (tc.says == "") != (d == "") || !strings.Contains(d, tc.says) {
			t.Errorf("FirstDiff(%q, %q) = %q, want it to say %q", tc.want, tc.got, d, tc.says)
		}
		if b := FirstDiff([]byte(tc.want), []byte(tc.got)); b != d {
			t.Errorf("bytes and strings differ: %q vs %q", b, d)
		}
	}
}
