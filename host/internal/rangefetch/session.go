package rangefetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// version is one version of a remote object. Shared, immutable.
type version struct {
	url     string
	etag    string // strong ETag, or ""
	lastMod string // Last-Modified, or ""
	size    int64
	key     string // cache key prefix: URL, validator and size
	scoped  bool   // no validator: cached for one session only
}

func newVersion(rawURL string, h http.Header, size int64, s *Session) *version {
	v := &version{url: rawURL, etag: strongETag(h), size: size}
	if lm := h.Get("Last-Modified"); lm != "" {
		if _, err := http.ParseTime(lm); err == nil {
			v.lastMod = lm
		}
	}
	switch {
	case v.etag != "":
		v.key = rawURL + "\x00e" + v.etag + "\x00" + itoa(size)
	case v.lastMod != "":
		v.key = rawURL + "\x00m" + v.lastMod + "\x00" + itoa(size)
	default:
		v.scoped = true
		v.key = scopedKey(rawURL, s, size)
	}
	return v
}

func scopedKey(rawURL string, s *Session, size int64) string {
	return rawURL + "\x00s" + itoa(int64(s.id)) + "\x00" + itoa(size)
}

// conditions pins later requests to v.
func (v *version) conditions() http.Header {
	switch {
	case v.etag != "":
		return http.Header{"If-Match": {v.etag}}
	case v.lastMod != "":
		return http.Header{"If-Unmodified-Since": {v.lastMod}}
	}
	return nil
}

// changedBy reports a response that carries another version's validator.
func (v *version) changedBy(h http.Header) bool {
	if e := strongETag(h); v.etag != "" && e != "" && e != v.etag {
		return true
	}
	if lm := h.Get("Last-Modified"); v.etag == "" && v.lastMod != "" && lm != "" && lm != v.lastMod {
		return true
	}
	return false
}

// Session is one plugin call: it carries the call's context into every
// origin request, pins every object to the first version it sees, and counts
// the bytes pulled from origins against the call's max_fetch budget. Safe for
// concurrent use.
type Session struct {
	f   *Fetcher
	ctx context.Context
	max int64
	id  uint64

	fetched atomic.Int64 // bytes received or reserved for a body being read

	// bgCtx bounds read-ahead; Close cancels it and waits for bg.
	bgCtx      context.Context
	bgStop     context.CancelFunc
	bg         sync.WaitGroup
	aheadBytes int64 // read-ahead in flight, not yet reserved; guarded by mu

	mu     sync.Mutex
	closed bool
	pins   map[string]*version
	files  map[string]*localFile
	scoped []*version
}

// NewSession starts a call. ctx bounds every origin request made for it;
// maxFetch is its budget of bytes fetched from origins (<= 0: no limit).
func (f *Fetcher) NewSession(ctx context.Context, maxFetch int64) *Session {
	s := &Session{
		f: f, ctx: ctx, max: maxFetch, id: f.sessions.Add(1),
		pins: make(map[string]*version), files: make(map[string]*localFile),
	}
	s.bgCtx, s.bgStop = context.WithCancel(ctx)
	return s
}

// Fetched returns the bytes this session pulled from origins.
func (s *Session) Fetched() int64 { return s.fetched.Load() }

// Close releases local file handles and the blocks cached for this session
// only. Objects of the session fail afterwards with ErrClosed.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	files, scoped := s.files, s.scoped
	s.files, s.scoped = nil, nil
	s.mu.Unlock()
	s.bgStop()
	s.bg.Wait() // no read-ahead may cache a scoped block after its removal
	var errs []error
	for _, lf := range files {
		errs = append(errs, lf.f.Close())
	}
	for _, v := range scoped {
		s.f.cache.remove(v.key, (v.size+s.f.cfg.BlockSize-1)/s.f.cfg.BlockSize)
	}
	return errors.Join(errs...)
}

func (s *Session) reserve(n int64, name string) error {
	if s.max <= 0 {
		s.fetched.Add(n)
		return nil
	}
	for {
		cur := s.fetched.Load()
		if cur+n > s.max {
			return fmt.Errorf("%w: %s: reading %d more bytes would pass the fetch limit of %d bytes (%d used)", ErrFetchLimit, name, n, s.max, cur)
		}
		if s.fetched.CompareAndSwap(cur, cur+n) {
			return nil
		}
	}
}

func (s *Session) checkBudget(n int64, name string) error {
	if cur := s.fetched.Load(); s.max > 0 && cur+n > s.max {
		return fmt.Errorf("%w: %s: reading %d more bytes would pass the fetch limit of %d bytes (%d used)", ErrFetchLimit, name, n, s.max, cur)
	}
	return nil
}

// bind returns a context that ends when either ctx or the session's ends.
func (s *Session) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil || ctx == s.ctx {
		return s.ctx, func() {}
	}
	c, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(s.ctx, func() { cancel(context.Cause(s.ctx)) })
	return c, func() { stop(); cancel(nil) }
}

func (s *Session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Object is one opened source, pinned to one version. Safe for concurrent
// use.
type Object struct {
	s           *Session
	name        string
	size        int64
	v           *version   // remote
	trustedHost string     // remote, trusted
	lf          *localFile // local
	ra          readahead  // remote
}

// Open opens src for this session. src is an http(s) URL; only when trusted
// (an operator-configured reference) may it also be a local path or a
// file:// URL, and may its host be dialled on a private address. Untrusted
// URLs must pass CheckURL and the address guard. Opening a remote object
// makes one request for its first block (conditional when the object was
// seen before, so an unchanged cached object costs no body bytes); opening it
// again in the same session makes none.
func (s *Session) Open(ctx context.Context, src string, trusted bool) (*Object, error) {
	if s.isClosed() || s.f.closed.Load() {
		return nil, fmt.Errorf("%w: %s", ErrClosed, src)
	}
	ctx, cancel := s.bind(ctx)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return nil, ctxError(src, ctx)
	}
	if isLocal(src) {
		if !trusted {
			return nil, fmt.Errorf("%w: %s: local paths are only allowed for configured references", ErrDenied, src)
		}
		return s.openFile(src)
	}
	var (
		u           *url.URL
		trustedHost string
	)
	if trusted {
		var err error
		if u, err = url.Parse(src); err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrBadURL, src, errors.Unwrap(err))
		}
		t, err := parseTarget(u)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", redact(u), err)
		}
		trustedHost = t.hostport
	} else {
		var err error
		if u, _, err = s.f.checkURL(src); err != nil {
			return nil, err
		}
	}
	raw, name := u.String(), redact(u)
	s.mu.Lock()
	v := s.pins[raw]
	s.mu.Unlock()
	if v == nil {
		var err error
		if v, err = s.probe(ctx, raw, name, trustedHost); err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: %s", ErrClosed, name)
		}
		if p := s.pins[raw]; p != nil {
			v = p // a concurrent Open in this session won
		} else {
			s.pins[raw] = v
			if v.scoped {
				s.scoped = append(s.scoped, v)
			}
		}
		s.mu.Unlock()
	}
	return &Object{s: s, name: name, size: v.size, v: v, trustedHost: trustedHost}, nil
}

func isLocal(src string) bool {
	return strings.HasPrefix(src, "file:") || !strings.Contains(src, "://")
}

// probeResult is what one opening request learned.
type probeResult struct {
	v      *version
	block0 []byte // nil after a 304 or for an empty object
	leader *Session
}

// probe learns the current version of rawURL. Concurrent probes of one URL
// (same trust, same known version) share one request.
func (s *Session) probe(ctx context.Context, rawURL, name, trustedHost string) (*version, error) {
	f := s.f
	known, _ := f.known.Get(rawURL)
	key := trustedHost + "\x00" + rawURL
	if known != nil {
		key += "\x00" + known.key
	}
	for try := 0; ; try++ {
		ch := f.opens.DoChan(key, func() (any, error) {
			return s.probeOnce(ctx, rawURL, name, trustedHost, known)
		})
		f.probeJoins.Add(1)
		var r singleResult
		select {
		case <-ctx.Done():
			return nil, ctxError(name, ctx)
		case res := <-ch:
			r = singleResult{res.Val, res.Err}
		}
		pr, _ := r.val.(*probeResult)
		if r.err != nil {
			if pr != nil && pr.leader != s && leaderOnly(r.err) && try < 3 {
				continue // another call's deadline or budget: not ours
			}
			return nil, r.err
		}
		v := pr.v
		if pr.leader != s && v.scoped {
			// Unvalidated objects are never shared between sessions;
			// this block was fetched for us just now, so it is ours too.
			w := *v
			w.key = scopedKey(rawURL, s, v.size)
			v = &w
			if pr.block0 != nil {
				f.cache.add(blockKey{v.key, 0}, pr.block0)
			}
		}
		return v, nil
	}
}

type singleResult struct {
	val any
	err error
}

// leaderOnly reports errors that belong to the request's owner rather than
// to the object: a waiter that shared the request should try again itself.
func leaderOnly(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrFetchLimit) || errors.Is(err, errAbandoned)
}

var errAbandoned = errors.New("fetch abandoned")

func (s *Session) probeOnce(ctx context.Context, rawURL, name, trustedHost string, known *version) (*probeResult, error) {
	f := s.f
	bs := f.cfg.BlockSize
	rq := &request{url: rawURL, name: name, trustedHost: trustedHost, start: 0, end: bs - 1}
	if known != nil {
		if known.etag != "" {
			rq.header = http.Header{"If-None-Match": {known.etag}}
		} else if known.lastMod != "" {
			rq.header = http.Header{"If-Modified-Since": {known.lastMod}}
		}
	}
	res := &probeResult{leader: s}
	err := f.do(ctx, rq, func(resp *http.Response, body io.Reader) error {
		h := resp.Header
		switch resp.StatusCode {
		case http.StatusPartialContent:
			crs := h.Get("Content-Range")
			cr, err := parseContentRange(crs)
			if err != nil || cr.start != 0 || cr.size < 0 || cr.end != min(bs, cr.size)-1 {
				return fmt.Errorf("%w: %s: Content-Range %q for range bytes=0-%d", ErrBadContentRange, name, crs, bs-1)
			}
			if e := badEncoding(h); e != "" {
				return fmt.Errorf("%w: %s: %s on a range response", ErrBadContentRange, name, e)
			}
			res.v = newVersion(rawURL, h, cr.size, s)
			bufs, err := s.readBlocks(resp, body.(*bodyReader), name, 0, cr.end, cr.size)
			if err != nil {
				return err
			}
			res.block0 = bufs[0]
		case http.StatusOK:
			// A server without range support: fine only if the whole
			// object fits in the range we asked for. Decided before the
			// body is read.
			if resp.ContentLength < 0 || resp.ContentLength > bs {
				size := "unknown size"
				if resp.ContentLength >= 0 {
					size = itoa(resp.ContentLength) + " bytes"
				}
				return fmt.Errorf("%w: %s: answered 200 with the whole object (%s) to a range request", ErrRangeIgnored, name, size)
			}
			if e := badEncoding(h); e != "" {
				return fmt.Errorf("%w: %s: %s", ErrBadContentRange, name, e)
			}
			res.v = newVersion(rawURL, h, resp.ContentLength, s)
			if resp.ContentLength > 0 {
				bufs, err := s.readBlocks(resp, body.(*bodyReader), name, 0, resp.ContentLength-1, resp.ContentLength)
				if err != nil {
					return err
				}
				res.block0 = bufs[0]
			}
		case http.StatusNotModified:
			if known == nil {
				return fmt.Errorf("%w: %s: unexpected 304 to an unconditional request", ErrOriginStatus, name)
			}
			if e := strongETag(h); e != "" && known.etag != "" && e != known.etag {
				return fmt.Errorf("%w: %s: 304 Not Modified carries another ETag", ErrOriginStatus, name)
			}
			res.v = known
		case http.StatusRequestedRangeNotSatisfiable:
			// bytes=0-... is unsatisfiable only for an empty object.
			crs := h.Get("Content-Range")
			cr, err := parseContentRange(crs)
			if err != nil || cr.start != -1 || cr.size != 0 {
				return fmt.Errorf("%w: %s: 416 with Content-Range %q to bytes=0-%d", ErrBadContentRange, name, crs, bs-1)
			}
			res.v = newVersion(rawURL, h, 0, s)
		default:
			return statusError(resp, name)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if res.block0 != nil {
		f.cache.add(blockKey{res.v.key, 0}, res.block0)
	}
	if !res.v.scoped {
		f.known.Add(rawURL, res.v)
	}
	return res, nil
}

// Size is the object's size in bytes.
func (o *Object) Size() int64 { return o.size }

// Name is the object's name for messages: the URL without its query, or
// the local path.
func (o *Object) Name() string { return o.name }

// ReadAt reads len(p) bytes at off with io.ReaderAt semantics (io.EOF when
// the read reaches the end), bounded by the session's context.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	return o.ReadAtContext(o.s.ctx, p, off)
}

// ReadAtContext is ReadAt bounded by ctx as well as by the session's
// context.
func (o *Object) ReadAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", o.name, off)
	}
	if o.s.isClosed() {
		return 0, fmt.Errorf("%w: %s", ErrClosed, o.name)
	}
	if o.lf != nil {
		return o.lf.readAt(p, off)
	}
	if off >= o.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	end := min(off+int64(len(p)), o.size)
	ctx, cancel := o.s.bind(ctx)
	defer cancel()
	if err := o.fill(ctx, p[:end-off], off); err != nil {
		return 0, err
	}
	if n := int(end - off); n < len(p) {
		return n, io.EOF
	}
	return len(p), nil
}

// fill copies [off, off+len(p)) of the object, all within its size, into p.
func (o *Object) fill(ctx context.Context, p []byte, off int64) error {
	f, bs := o.s.f, o.s.f.cfg.BlockSize
	first, last := off/bs, (off+int64(len(p))-1)/bs
	if from, to := o.ra.advise(first, last, (o.size+bs-1)/bs, bs, f.cfg.MaxBytes); from <= to {
		o.readAhead(from, to)
	}
	var small [4]slot
	slots := small[:0]
	for i := first; i <= last; i++ {
		slots = append(slots, slot{idx: i})
	}
	for try := 0; ; try++ {
		hits := f.cache.lookup(o.v.key, slots)
		if try == 0 {
			f.hits.Add(int64(hits))
			f.misses.Add(int64(len(slots) - hits))
		}
		if err := o.fetchOwned(ctx, slots); err != nil {
			return err
		}
		retry := false
		for i := range slots {
			sl := &slots[i]
			if sl.data != nil {
				continue
			}
			select {
			case <-sl.fl.done:
			case <-ctx.Done():
				return ctxError(o.name, ctx)
			}
			if sl.fl.err == nil {
				sl.data = sl.fl.data
			} else if leaderOnly(sl.fl.err) && try < 3 {
				retry = true
			} else {
				return sl.fl.err
			}
			sl.fl = nil
		}
		if !retry {
			break
		}
	}
	for _, sl := range slots {
		lo := max(off, sl.idx*bs)
		hi := min(off+int64(len(p)), sl.idx*bs+int64(len(sl.data)))
		copy(p[lo-off:hi-off], sl.data[lo-sl.idx*bs:hi-sl.idx*bs])
	}
	return nil
}

// fetchOwned fetches the slots this reader owns, one request per run of
// adjacent blocks (adjacent in the file, not only in slots: read-ahead
// passes only the blocks it claimed). After a failure the remaining owned
// flights are abandoned so their waiters retry on their own.
func (o *Object) fetchOwned(ctx context.Context, slots []slot) error {
	f := o.s.f
	maxRun := max(1, maxRunBytes/int(f.cfg.BlockSize))
	var firstErr error
	for i := 0; i < len(slots); {
		if !slots[i].own {
			i++
			continue
		}
		j := i + 1
		for j < len(slots) && slots[j].own && slots[j].idx == slots[j-1].idx+1 && j-i < maxRun {
			j++
		}
		if firstErr != nil {
			for k := i; k < j; k++ {
				f.cache.finish(o.v.key, &slots[k], nil, errAbandoned)
			}
			i = j
			continue
		}
		bufs, err := o.fetchRun(ctx, slots[i].idx, slots[j-1].idx)
		for k := i; k < j; k++ {
			if err != nil {
				f.cache.finish(o.v.key, &slots[k], nil, err)
			} else {
				f.cache.finish(o.v.key, &slots[k], bufs[k-i], nil)
			}
		}
		if err != nil {
			firstErr = err
		}
		i = j
	}
	return firstErr
}

// fetchRun fetches blocks first..last of the pinned version in one request.
func (o *Object) fetchRun(ctx context.Context, first, last int64) ([][]byte, error) {
	s, v, bs := o.s, o.v, o.s.f.cfg.BlockSize
	start, end := first*bs, min((last+1)*bs, v.size)-1
	if err := s.checkBudget(end-start+1, o.name); err != nil {
		return nil, err
	}
	rq := &request{url: v.url, name: o.name, trustedHost: o.trustedHost, start: start, end: end, header: v.conditions()}
	var bufs [][]byte
	err := s.f.do(ctx, rq, func(resp *http.Response, body io.Reader) error {
		h := resp.Header
		switch resp.StatusCode {
		case http.StatusPartialContent:
			crs := h.Get("Content-Range")
			cr, err := parseContentRange(crs)
			if err == nil && cr.size >= 0 && cr.size != v.size {
				return fmt.Errorf("%w: %s: size changed from %d to %d bytes", ErrChanged, o.name, v.size, cr.size)
			}
			if err != nil || cr.start != start || cr.end != end || cr.size < 0 {
				return fmt.Errorf("%w: %s: Content-Range %q for range bytes=%d-%d", ErrBadContentRange, o.name, crs, start, end)
			}
		case http.StatusOK:
			if start != 0 || end != v.size-1 || resp.ContentLength != v.size {
				return fmt.Errorf("%w: %s: answered 200 with the whole object to range bytes=%d-%d", ErrRangeIgnored, o.name, start, end)
			}
		case http.StatusRequestedRangeNotSatisfiable:
			crs := h.Get("Content-Range")
			if cr, err := parseContentRange(crs); err == nil && cr.size >= 0 && cr.size != v.size {
				return fmt.Errorf("%w: %s: size changed from %d to %d bytes", ErrChanged, o.name, v.size, cr.size)
			}
			return fmt.Errorf("%w: %s: 416 with Content-Range %q for range bytes=%d-%d of %d", ErrBadContentRange, o.name, crs, start, end, v.size)
		default:
			return statusError(resp, o.name)
		}
		if e := badEncoding(h); e != "" {
			return fmt.Errorf("%w: %s: %s on a range response", ErrBadContentRange, o.name, e)
		}
		if v.changedBy(h) {
			return fmt.Errorf("%w: %s: origin now serves another version", ErrChanged, o.name)
		}
		var err error
		bufs, err = s.readBlocks(resp, body.(*bodyReader), o.name, start, end, v.size)
		return err
	})
	return bufs, err
}
