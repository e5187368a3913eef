package rangefetch

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"time"
)

// localFile is a trusted local source, read through the OS page cache. The
// session keeps one handle per path, so a file replaced by rename keeps
// serving the version opened; one modified in place fails with ErrChanged.
type localFile struct {
	f     *os.File
	name  string
	size  int64
	mtime time.Time
}

func (s *Session) openFile(src string) (*Object, error) {
	path := src
	if len(src) >= 5 && src[:5] == "file:" {
		u, err := url.Parse(src)
		if err != nil || (u.Host != "" && u.Host != "localhost") || u.Path == "" {
			return nil, fmt.Errorf("%w: %q: want file:///absolute/path", ErrBadURL, src)
		}
		path = u.Path
	}
	s.mu.Lock()
	lf := s.files[path]
	s.mu.Unlock()
	if lf == nil {
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
			}
			return nil, fmt.Errorf("%w: %s: %v", ErrForbidden, path, err)
		}
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			f.Close()
			return nil, fmt.Errorf("%w: %s: not a regular file", ErrForbidden, path)
		}
		lf = &localFile{f: f, name: path, size: st.Size(), mtime: st.ModTime()}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			f.Close()
			return nil, fmt.Errorf("%w: %s", ErrClosed, path)
		}
		if p := s.files[path]; p != nil {
			f.Close()
			lf = p
		} else {
			s.files[path] = lf
		}
		s.mu.Unlock()
	}
	return &Object{s: s, name: path, size: lf.size, lf: lf}, nil
}

func (lf *localFile) readAt(p []byte, off int64) (int, error) {
	// fstat costs about as much as a small pread; it is what makes an
	// in-place rewrite an error rather than a silent mix of versions.
	st, err := lf.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", lf.name, err)
	}
	if st.Size() != lf.size || !st.ModTime().Equal(lf.mtime) {
		return 0, fmt.Errorf("%w: %s was modified", ErrChanged, lf.name)
	}
	if off >= lf.size {
		return 0, io.EOF
	}
	n, err := lf.f.ReadAt(p, off)
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("%s: %w", lf.name, err)
	}
	return n, err
}
