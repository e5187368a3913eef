package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// FirstDiff describes the first line where got differs from want, with both
// sizes, or returns "" if they are equal. Conformance outputs run to
// megabytes: the first differing line is what a reader can act on.
func FirstDiff[T string | []byte](want, got T) string {
	if string(want) == string(got) {
		return ""
	}
	wl, gl := strings.SplitAfter(string(want), "\n"), strings.SplitAfter(string(got), "\n")
	for i := 0; ; i++ { // texts that differ have a line that differs
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("first difference at line %d (want %d bytes, got %d):\n want: %.300q\n got:  %.300q", i+1, len(want), len(got), w, g)
		}
	}
}

// SameBytes fails the test with FirstDiff when got is not want.
func SameBytes[T string | []byte](t testing.TB, what string, want, got T) {
	t.Helper()
	if d := FirstDiff(want, got); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
}
