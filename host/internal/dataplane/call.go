package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/internal/rangefetch"
)

// Errors of the data plane, reported to the client in preference to
// whatever the plugin makes of the failed read or write.
var (
	// ErrOutputLimit: the call wrote more than its max_output.
	ErrOutputLimit = errors.New("output limit reached")
	// ErrInputLimit: the request body is larger than max_input.
	ErrInputLimit = errors.New("request body limit reached")
	// ErrDeadline: the call's timeout passed.
	ErrDeadline = errors.New("time limit reached")
	// ErrClientGone: the client closed the connection.
	ErrClientGone = errors.New("client went away")
	// ErrHeaderLate: a header was set after output was sent.
	ErrHeaderLate = errors.New("response headers already sent")
	// ErrBadHeader: a header name the plugin may not set.
	ErrBadHeader = errors.New("header not allowed")
	// ErrUnknownSource: a reference that is not configured.
	ErrUnknownSource = errors.New("no such source")
)

// Reference is a configured FASTA with its index.
type Reference struct {
	Name  string
	Fasta string // path or URL
	Fai   string // path or URL
}

// Output is where the response goes. SetHeader fails once output was sent.
type Output interface {
	io.Writer
	SetHeader(name, value string) error
}

// Call is the data plane of one plugin call.
type Call struct {
	ctx   context.Context
	out   Output
	in    io.Reader
	sess  *rangefetch.Session
	refs  map[string]Reference
	limit int64 // max_input

	mu      sync.Mutex
	objects map[string]*rangefetch.Object // by mount-relative name
	urls    map[string]string             // URL -> mount-relative name
	lastErr error                         // last failure, for io_error
	fatal   error                         // first failure that ends the call
	source  error                         // last failure to open or read a source
	inBytes int64
}

// New prepares a call. in may be nil (no body).
func New(ctx context.Context, out Output, in io.Reader, maxInput int64, sess *rangefetch.Session, refs map[string]Reference) *Call {
	if in == nil {
		in = strings.NewReader("")
	}
	return &Call{ctx: ctx, out: out, in: in, limit: maxInput, sess: sess, refs: refs,
		objects: map[string]*rangefetch.Object{}, urls: map[string]string{}}
}

// Context is the call's context.
func (c *Call) Context() context.Context { return c.ctx }

// Err returns the first failure that ends the call whatever the plugin
// does about it: a limit, the deadline, the client leaving. A call that
// succeeds despite one has had its output cut, so it must not look complete.
func (c *Call) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fatal
}

// SourceErr returns the last failure to open or read a source. A plugin may
// recover from one (a missing .bai, then a .csi), so it explains a failed
// call but does not fail a successful one.
func (c *Call) SourceErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.source
}

// Fatal reports whether err ends a call whatever the plugin does.
func Fatal(err error) bool {
	return errors.Is(err, ErrOutputLimit) || errors.Is(err, ErrInputLimit) ||
		errors.Is(err, ErrDeadline) || errors.Is(err, ErrClientGone) ||
		errors.Is(err, rangefetch.ErrFetchLimit) || errors.Is(err, ErrBadBody) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// Fetched is the number of bytes this call pulled from origins.
func (c *Call) Fetched() int64 { return c.sess.Fetched() }

func (c *Call) fail(err error) error {
	c.mu.Lock()
	c.lastErr = err
	switch {
	case !Fatal(err):
		c.source = err
	case c.fatal == nil:
		c.fatal = err
	}
	c.mu.Unlock()
	return err
}

// checkCtx turns the end of the call's context into ErrDeadline or
// ErrClientGone: the deadline is checked at every ABI crossing.
func (c *Call) checkCtx() error {
	if err := c.ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return c.fail(ErrDeadline)
		}
		return c.fail(ErrClientGone)
	}
	return nil
}

// Write sends plugin output (the guest's stdout).
func (c *Call) Write(p []byte) (int, error) {
	if err := c.checkCtx(); err != nil {
		return 0, err
	}
	n, err := c.out.Write(p)
	if err != nil {
		return n, c.fail(err)
	}
	return n, nil
}

// Read reads the request body (the guest's stdin).
func (c *Call) Read(p []byte) (int, error) {
	if err := c.checkCtx(); err != nil {
		return 0, err
	}
	if c.limit > 0 && c.inBytes >= c.limit {
		// Probe one byte: a body of exactly the limit is fine.
		var one [1]byte
		if n, _ := c.in.Read(one[:]); n > 0 {
			return 0, c.fail(fmt.Errorf("%w (%d bytes)", ErrInputLimit, c.limit))
		}
		return 0, io.EOF
	}
	if c.limit > 0 && int64(len(p)) > c.limit-c.inBytes {
		p = p[:c.limit-c.inBytes]
	}
	n, err := c.in.Read(p)
	c.inBytes += int64(n)
	if err != nil && err != io.EOF {
		if !errors.Is(err, ErrBadBody) {
			err = fmt.Errorf("reading request body: %w", err)
		}
		return n, c.fail(err)
	}
	return n, err
}

// SetHeader sets an X- response header before output starts.
func (c *Call) SetHeader(name, value string) error {
	if !strings.HasPrefix(strings.ToLower(name), "x-") || strings.ContainsAny(name+value, "\r\n") {
		return fmt.Errorf("%w: %q (only X- headers)", ErrBadHeader, name)
	}
	return c.out.SetHeader(name, value)
}

// OpenURL opens a URL for the guest and returns its path under the mount.
func (c *Call) OpenURL(url string) (string, error) {
	if err := c.checkCtx(); err != nil {
		return "", err
	}
	c.mu.Lock()
	name, ok := c.urls[url]
	c.mu.Unlock()
	if ok {
		return abi.MountDir + "/" + name, nil
	}
	obj, err := c.sess.Open(c.ctx, url, false)
	if err != nil {
		return "", c.fail(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	name = "url/" + strconv.Itoa(len(c.urls))
	c.urls[url] = name
	c.objects[name] = obj
	return abi.MountDir + "/" + name, nil
}

// RangeRead reads part of a URL for guests that cannot use files.
func (c *Call) RangeRead(url string, off, n int64) ([]byte, error) {
	if n < 0 || off < 0 || n > abi.MaxRangeRead {
		return nil, fmt.Errorf("range_read: offset %d length %d out of bounds (max %d)", off, n, abi.MaxRangeRead)
	}
	path, err := c.OpenURL(url)
	if err != nil {
		return nil, err
	}
	f, err := c.Open(strings.TrimPrefix(path, abi.MountDir+"/"))
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	got, err := f.(io.ReaderAt).ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf[:got], nil
}

// LastIOError is the message of the last data-plane failure.
func (c *Call) LastIOError() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastErr == nil {
		return ""
	}
	return c.lastErr.Error()
}

// object returns the opened object for a mount-relative name, opening a
// configured reference on first use.
func (c *Call) object(name string) (*rangefetch.Object, error) {
	c.mu.Lock()
	obj, ok := c.objects[name]
	c.mu.Unlock()
	if ok {
		return obj, nil
	}
	ref, isRef := strings.CutPrefix(name, "ref/")
	if !isRef {
		return nil, fs.ErrNotExist
	}
	src := ""
	if base, ok := strings.CutSuffix(ref, ".fai"); ok {
		if r, ok := c.refs[base]; ok {
			src = r.Fai
		}
	}
	if r, ok := c.refs[ref]; ok {
		src = r.Fasta
	}
	if src == "" {
		return nil, fs.ErrNotExist
	}
	if err := c.checkCtx(); err != nil {
		return nil, err
	}
	obj, err := c.sess.Open(c.ctx, src, true)
	if err != nil {
		return nil, c.fail(fmt.Errorf("reference %s: %w", ref, err))
	}
	c.mu.Lock()
	c.objects[name] = obj
	c.mu.Unlock()
	return obj, nil
}

// Open implements fs.FS for the guest's mount.
func (c *Call) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	switch name {
	case ".", "ref", "url":
		return &dir{name: name}, nil
	}
	if base, ok := strings.CutSuffix(name, BGZFSuffix); ok {
		obj, err := c.object(base)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &bgzfFile{file: file{c: c, obj: obj, name: name}, lastEnd: -1}, nil
	}
	obj, err := c.object(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &file{c: c, obj: obj, name: name}, nil
}

// file is an open source as the guest sees it.
type file struct {
	c    *Call
	obj  *rangefetch.Object
	name string
	off  int64
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if err := f.c.checkCtx(); err != nil {
		return 0, err
	}
	n, err := f.obj.ReadAt(p, off)
	if err != nil && err != io.EOF {
		return n, f.c.fail(err)
	}
	return n, err
}

func (f *file) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (f *file) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += f.off
	case io.SeekEnd:
		off += f.obj.Size()
	default:
		return 0, fs.ErrInvalid
	}
	if off < 0 {
		return 0, fs.ErrInvalid
	}
	f.off = off
	return off, nil
}

func (f *file) Stat() (fs.FileInfo, error) { return info{name: f.name, size: f.obj.Size()}, nil }
func (f *file) Close() error               { return nil }

type dir struct{ name string }

func (d *dir) Stat() (fs.FileInfo, error)         { return info{name: d.name, dir: true}, nil }
func (d *dir) Read([]byte) (int, error)           { return 0, fs.ErrInvalid }
func (d *dir) Close() error                       { return nil }
func (d *dir) ReadDir(int) ([]fs.DirEntry, error) { return nil, nil }

type info struct {
	name string
	size int64
	dir  bool
}

func (i info) Name() string { return i.name[strings.LastIndexByte(i.name, '/')+1:] }
func (i info) Size() int64  { return i.size }
func (i info) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.dir }
func (i info) Sys() any           { return nil }

// EmptyDir is the mount's root while no call is bound.
func EmptyDir() fs.File { return &dir{name: "."} }
