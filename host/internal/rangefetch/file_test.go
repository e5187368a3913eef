package rangefetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLocalFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ref.fa")
	data := testData(10000, 40)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f := newTestFetcher(t, Config{})
	s := f.NewSession(context.Background(), 0)
	defer s.Close()

	if _, err := s.Open(context.Background(), path, false); !errors.Is(err, ErrDenied) {
		t.Errorf("untrusted path: %v, want ErrDenied", err)
	}
	if _, err := s.Open(context.Background(), "file://"+path, false); !errors.Is(err, ErrDenied) {
		t.Errorf("untrusted file URL: %v, want ErrDenied", err)
	}
	if _, err := s.Open(context.Background(), filepath.Join(dir, "missing.fa"), true); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
	if _, err := s.Open(context.Background(), dir, true); !errors.Is(err, ErrForbidden) {
		t.Errorf("directory: %v, want ErrForbidden", err)
	}
	for _, src := range []string{path, "file://" + path} {
		obj, err := s.Open(context.Background(), src, true)
		if err != nil {
			t.Fatal(err)
		}
		if obj.Size() != int64(len(data)) || obj.Name() != path {
			t.Fatalf("%s: size %d name %q", src, obj.Size(), obj.Name())
		}
		if got := readAll(t, obj, 999); !bytes.Equal(got, data) {
			t.Fatalf("%s: wrong bytes", src)
		}
		if n, err := obj.ReadAt(make([]byte, 10), int64(len(data))-4); n != 4 || err != io.EOF {
			t.Fatalf("%s: ReadAt at the end = %d, %v", src, n, err)
		}
	}
	if s.Fetched() != 0 {
		t.Errorf("local reads counted as fetched: %d", s.Fetched())
	}
}

// A file replaced by rename keeps serving the version the session opened;
// one rewritten in place fails instead of mixing versions.
func TestLocalFileChanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ref.fa")
	v1, v2 := testData(5000, 41), testData(5000, 42)
	os.WriteFile(path, v1, 0o644)
	f := newTestFetcher(t, Config{})
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	obj, err := s.Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "new")
	os.WriteFile(tmp, v2, 0o644)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, obj, 1000); !bytes.Equal(got, v1) {
		t.Fatal("renamed-over file: did not keep the opened version")
	}
	s.Close()

	s2 := f.NewSession(context.Background(), 0)
	defer s2.Close()
	obj, err = s2.Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, obj, 1000); !bytes.Equal(got, v2) {
		t.Fatal("new session: not the new version")
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write([]byte("more"))
	fh.Close()
	if _, err := obj.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrChanged) {
		t.Fatalf("in-place change: %v, want ErrChanged", err)
	}
	// Same size, new mtime.
	os.WriteFile(path, v1, 0o644)
	s3 := f.NewSession(context.Background(), 0)
	defer s3.Close()
	obj, _ = s3.Open(context.Background(), path, true)
	os.Chtimes(path, time.Now(), time.Now().Add(time.Hour))
	if _, err := obj.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrChanged) {
		t.Fatalf("mtime change: %v, want ErrChanged", err)
	}
	s3.Close()
	if _, err := obj.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}
