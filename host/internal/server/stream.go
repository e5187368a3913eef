package server

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/edgenome/edgenome/host/internal/dataplane"
)

// Until this much output or this much time has passed since the first
// byte, output is held back so that an early failure still gets a proper
// status code instead of a broken 200.
const (
	holdBytes = 64 << 10
	holdTime  = 50 * time.Millisecond
	// writeStall bounds one write to a client that stopped reading.
	writeStall = 30 * time.Second
)

// stream is a call's response body: held, then committed and flushed on
// every plugin write. It implements dataplane.Output.
type stream struct {
	mu          sync.Mutex
	w           http.ResponseWriter
	rc          *http.ResponseController
	contentType string
	max         int64

	buf       []byte
	timer     *time.Timer
	committed bool
	finished  bool
	n         int64 // bytes accepted from the plugin
	sent      int64 // bytes written to the client
}

var _ dataplane.Output = (*stream)(nil)

func newStream(w http.ResponseWriter, contentType string, max int64) *stream {
	return &stream{w: w, rc: http.NewResponseController(w), contentType: contentType, max: max}
}

func (s *stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return 0, fmt.Errorf("write after the call ended")
	}
	if s.max > 0 && s.n+int64(len(p)) > s.max {
		return 0, fmt.Errorf("%w (%d bytes)", dataplane.ErrOutputLimit, s.max)
	}
	s.n += int64(len(p))
	if !s.committed {
		if s.buf == nil {
			s.timer = time.AfterFunc(holdTime, s.release)
		}
		s.buf = append(s.buf, p...)
		if len(s.buf) < holdBytes {
			return len(p), nil
		}
		return len(p), s.commitLocked()
	}
	return len(p), s.send(p)
}

// release commits held output when the hold time is up.
func (s *stream) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.committed && !s.finished {
		s.commitLocked()
	}
}

func (s *stream) commitLocked() error {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.committed = true
	h := s.w.Header()
	h.Set("Content-Type", s.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	s.w.WriteHeader(http.StatusOK)
	buf := s.buf
	s.buf = nil
	if len(buf) == 0 {
		return s.flush()
	}
	return s.send(buf)
}

func (s *stream) send(p []byte) error {
	s.rc.SetWriteDeadline(time.Now().Add(writeStall))
	n, err := s.w.Write(p)
	s.sent += int64(n)
	if err != nil {
		return fmt.Errorf("%w: %v", dataplane.ErrClientGone, err)
	}
	return s.flush()
}

func (s *stream) flush() error {
	if err := s.rc.Flush(); err != nil {
		return fmt.Errorf("%w: %v", dataplane.ErrClientGone, err)
	}
	return nil
}

// SetHeader sets a response header while nothing has been sent.
func (s *stream) SetHeader(name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return fmt.Errorf("%w: cannot set %s", dataplane.ErrHeaderLate, name)
	}
	s.w.Header().Set(name, value)
	return nil
}

// finish completes a successful call: whatever is held is sent, with a
// Content-Length when the whole body is known.
func (s *stream) finish() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = true
	if s.committed {
		return nil
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.w.Header().Set("Content-Length", strconv.Itoa(len(s.buf)))
	return s.commitLocked()
}

// fail ends a failed call. It reports whether output had already been
// committed, in which case the caller must abort the response.
func (s *stream) fail() (committed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.buf = nil
	return s.committed
}

func (s *stream) bytesSent() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}
