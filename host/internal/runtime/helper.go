package runtime

import (
	"errors"
	"fmt"
)

var errModule = errors.New("not a well-formed Wasm module")

// checkHelper refuses a helper whose exported functions are named otherwise
// in its name section, or not at all: Extism's linker exports each helper
// function under its name-section name, so the main module's import would
// not resolve (a C command module names its exports "<name>.command_export";
// build helpers as reactors). It reads the export and name sections only:
// compiling the module here would double the load's work.
func checkHelper(wasm []byte) error {
	if len(wasm) < 8 || string(wasm[:8]) != "\x00asm\x01\x00\x00\x00" {
		return errModule
	}
	exports := map[uint64][]string{} // function index -> export names
	names := map[uint64]string{}     // function index -> name-section name
	for p := wasm[8:]; len(p) > 0; {
		id := p[0]
		body, rest, ok := vec(p[1:])
		if !ok {
			return errModule
		}
		p = rest
		switch id {
		case 7:
			if !readExports(body, exports) {
				return errModule
			}
		case 0:
			sec, data, ok := vec(body)
			if ok && string(sec) == "name" {
				readFunctionNames(data, names)
			}
		}
	}
	for idx, ex := range exports {
		for _, e := range ex {
			if names[idx] != e {
				return fmt.Errorf("exported function %q is named %q in the name section: Extism links helpers by that name (build C helpers with -mexec-model=reactor, and keep the name section)", e, names[idx])
			}
		}
	}
	return nil
}

// vec splits a LEB128 length-prefixed byte vector off b.
func vec(b []byte) (v, rest []byte, ok bool) {
	n, k := uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

func readExports(b []byte, out map[uint64][]string) bool {
	count, k := uvarint(b)
	if k <= 0 {
		return false
	}
	b = b[k:]
	for range count {
		name, rest, ok := vec(b)
		if !ok || len(rest) < 1 {
			return false
		}
		kind := rest[0]
		idx, k := uvarint(rest[1:])
		if k <= 0 {
			return false
		}
		if kind == 0 {
			out[idx] = append(out[idx], string(name))
		}
		b = rest[1+k:]
	}
	return true
}

// readFunctionNames reads subsection 1 of a name section; a malformed one
// leaves names as far as read (the check then fails on the rest).
func readFunctionNames(b []byte, out map[uint64]string) {
	for len(b) > 0 {
		id := b[0]
		sub, rest, ok := vec(b[1:])
		if !ok {
			return
		}
		b = rest
		if id != 1 {
			continue
		}
		count, k := uvarint(sub)
		if k <= 0 {
			return
		}
		sub = sub[k:]
		for range count {
			idx, k := uvarint(sub)
			if k <= 0 {
				return
			}
			name, rest, ok := vec(sub[k:])
			if !ok {
				return
			}
			out[idx] = string(name)
			sub = rest
		}
	}
}
