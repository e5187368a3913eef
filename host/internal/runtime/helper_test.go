package runtime

import (
	"strings"
	"testing"
)

// helperModule is a module exporting "view" () -> i32, a function whose
// name section entry is fn ("": no name section).
func helperModule(fn string) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 1, 5, 1, 0x60, 0, 1, 0x7f) // type: () -> i32
	b = append(b, 3, 2, 1, 0)                // one function of type 0
	b = append(b, 7, 8, 1, 4, 'v', 'i', 'e', 'w', 0, 0)
	b = append(b, 10, 6, 1, 4, 0, 0x41, 7, 0x0b) // i32.const 7
	if fn == "" {
		return b
	}
	names := append([]byte{1, 0, byte(len(fn))}, fn...)
	sub := append([]byte{1, byte(len(names))}, names...)
	custom := append([]byte{4, 'n', 'a', 'm', 'e'}, sub...)
	return append(append(b, 0, byte(len(custom))), custom...)
}

func TestCheckHelper(t *testing.T) {
	if err := checkHelper(helperModule("view")); err != nil {
		t.Errorf("export named as its function: %v", err)
	}
	// What a C module built as a command looks like: Extism would export
	// the function as "view.command_export" and the import of view fails.
	err := checkHelper(helperModule("view.command_export"))
	if err == nil || !strings.Contains(err.Error(), "reactor") {
		t.Errorf("command-style helper: %v", err)
	}
	if err := checkHelper([]byte("\x00asm\x01\x00")); err == nil {
		t.Error("a broken module passed")
	}
}

func TestCheckHelperNoNames(t *testing.T) {
	if err := checkHelper(helperModule("")); err == nil || !strings.Contains(err.Error(), `named ""`) {
		t.Errorf("helper without a name section: %v", err)
	}
}

// FuzzCheckHelper: any bytes give an answer, never a panic.
func FuzzCheckHelper(f *testing.F) {
	f.Add(helperModule("view"))
	f.Add(helperModule("view.command_export"))
	f.Fuzz(func(t *testing.T, b []byte) { _ = checkHelper(b) })
}
