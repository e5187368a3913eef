package runtime

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/edgenome/edgenome/host/internal/dataplane"
)

// binding connects a prepared instance to the call it currently serves.
type binding struct {
	cur atomic.Pointer[dataplane.Call]

	mu      sync.Mutex
	stderr  []byte
	cancel  context.CancelCauseFunc // ends the bound call
	memOver uint64                  // size of a refused memory grow
	memPeak atomic.Uint64           // largest memory of the instance
}

// grew records a memory's new size: the instance's high-water mark, which
// Wasm never gives back.
func (b *binding) grew(size uint64) {
	for {
		cur := b.memPeak.Load()
		if size <= cur || b.memPeak.CompareAndSwap(cur, size) {
			return
		}
	}
}

// errMemory is the cancellation cause of a call that outgrew its memory.
var errMemory = errors.New("memory limit")

func (b *binding) exceededMemory(size uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.memOver == 0 {
		b.memOver = size
	}
	if b.cancel != nil {
		b.cancel(errMemory)
	}
}

const maxStderr = 64 << 10

func (b *binding) bind(c *dataplane.Call, cancel context.CancelCauseFunc) {
	b.mu.Lock()
	b.stderr = b.stderr[:0]
	b.cancel = cancel
	b.mu.Unlock()
	b.cur.Store(c)
}

// unbind detaches the call and returns its stderr and, if it was refused
// memory, the size it asked for.
func (b *binding) unbind() (stderr string, memOver uint64) {
	b.cur.Store(nil)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cancel = nil
	return string(b.stderr), b.memOver
}

type stdout struct{ b *binding }

func (w stdout) Write(p []byte) (int, error) {
	if c := w.b.cur.Load(); c != nil {
		return c.Write(p)
	}
	return len(p), nil // output outside a call (initialisation) goes nowhere
}

type stdin struct{ b *binding }

func (r stdin) Read(p []byte) (int, error) {
	if c := r.b.cur.Load(); c != nil {
		return c.Read(p)
	}
	return 0, io.EOF
}

// stderr keeps the first 64 KiB of a call's stderr for the log and for
// telling an out-of-memory crash from others.
type stderr struct{ b *binding }

func (w stderr) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	if room := maxStderr - len(w.b.stderr); room > 0 {
		w.b.stderr = append(w.b.stderr, p[:min(room, len(p))]...)
	}
	w.b.mu.Unlock()
	return len(p), nil
}

type mount struct{ b *binding }

func (m mount) Open(name string) (fs.File, error) {
	if c := m.b.cur.Load(); c != nil {
		return c.Open(name)
	}
	if name == "." {
		// wazero looks at the mount's root when the instance is created.
		return dataplane.EmptyDir(), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
