package runtime

import (
	"github.com/tetratelabs/wazero/experimental"
)

// memoryLimiter backs an instance's linear memories and enforces the
// plugin's memory limit itself. wazero's own page limit would just make
// memory.grow fail, and Go's runtime inside Wasm reacts to that by retrying
// forever rather than dying, so the call would only end at its timeout. Here
// the grow is refused and the call it belongs to is cancelled at once.
type memoryLimiter struct {
	limit uint64
	b     *binding
}

func (a *memoryLimiter) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	return &linearMemory{buf: make([]byte, 0, min(capBytes, a.limit)), limit: a.limit, b: a.b}
}

type linearMemory struct {
	buf   []byte
	limit uint64
	b     *binding
}

func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.b.exceededMemory(size)
		return nil
	}
	m.b.grew(size)
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size] // never used since make zeroed it: Wasm memory never shrinks
		return m.buf
	}
	// Grow geometrically (up to the limit) so a guest growing page by page
	// does not copy its whole memory each time.
	c := min(max(size, 2*uint64(cap(m.buf))), m.limit)
	nb := make([]byte, size, c)
	copy(nb, m.buf)
	m.buf = nb
	return nb
}

func (m *linearMemory) Free() { m.buf = nil }
