package dataplane

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// ErrBadBody: the request body could not be decoded (e.g. truncated gzip).
var ErrBadBody = errors.New("malformed request body")

// Gunzip returns body decoded when it starts with the gzip magic, and body
// unchanged otherwise. Decoding runs natively in its own goroutine, ahead
// of the plugin by a few chunks: Go's inflate runs about 4x slower compiled
// to Wasm, slower than the whole native tools it competes with. stop must
// be called when the call ends; it ends the goroutine.
func Gunzip(body io.Reader) (r io.Reader, stop func()) {
	br := bufio.NewReaderSize(body, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, func() {}
	}
	a := &ahead{chunks: make(chan []byte, 4), done: make(chan struct{})}
	go a.run(br)
	return a, a.stop
}

type ahead struct {
	chunks chan []byte
	done   chan struct{}
	err    error // set before chunks is closed
	cur    []byte
}

func (a *ahead) run(src io.Reader) {
	defer close(a.chunks)
	zr, err := gzip.NewReader(src)
	if err != nil {
		a.err = fmt.Errorf("%w: gzip: %v", ErrBadBody, err)
		return
	}
	for {
		buf := make([]byte, 256<<10)
		n, err := io.ReadFull(zr, buf)
		if n > 0 {
			select {
			case a.chunks <- buf[:n]:
			case <-a.done:
				return
			}
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF && n < len(buf):
			// ReadFull reports a short last chunk as ErrUnexpectedEOF; the
			// gzip reader's own truncation error is a different value.
			if err == io.ErrUnexpectedEOF {
				if _, err2 := zr.Read(buf[:0]); err2 != nil && err2 != io.EOF {
					a.err = fmt.Errorf("%w: gzip: %v", ErrBadBody, err2)
				}
			}
			return
		case err != nil:
			a.err = fmt.Errorf("%w: gzip: %v", ErrBadBody, err)
			return
		}
	}
}

func (a *ahead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		c, ok := <-a.chunks
		if !ok {
			if a.err != nil {
				return 0, a.err
			}
			return 0, io.EOF
		}
		a.cur = c
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

func (a *ahead) stop() {
	select {
	case <-a.done:
	default:
		close(a.done)
	}
}
