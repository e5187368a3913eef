package runtime

import (
	"context"
	"strings"
	"testing"
)

// helperModule is a module exporting "view" () -> i32, a function whose
// name section entry is fn.
func helperModule(fn string) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 1, 5, 1, 0x60, 0, 1, 0x7f) // type: () -> i32
	b = append(b, 3, 2, 1, 0)                // one function of type 0
	b = append(b, 7, 8, 1, 4, 'v', 'i', 'e', 'w', 0, 0)
	b = append(b, 10, 6, 1, 4, 0, 0x41, 7, 0x0b) // i32.const 7
	names := append([]byte{1, 0, byte(len(fn))}, fn...)
	sub := append([]byte{1, byte(len(names))}, names...)
	custom := append([]byte{4, 'n', 'a', 'm', 'e'}, sub...)
	return append(append(b, 0, byte(len(custom))), custom...)
}

func TestCheckHelper(t *testing.T) {
	ctx := context.Background()
	if err := checkHelper(ctx, helperModule("view")); err != nil {
		t.Errorf("export named as its function: %v", err)
	}
	// What a C module built as a command looks like: Extism would export
	// the function as "view.command_export" and the import of view fails.
	err := checkHelper(ctx, helperModule("view.command_export"))
	if err == nil || !strings.Contains(err.Error(), "reactor") {
		t.Errorf("command-style helper: %v", err)
	}
	if err := checkHelper(ctx, []byte("\x00asm\x01\x00")); err == nil {
		t.Error("a broken module passed")
	}
}
