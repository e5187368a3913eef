package rangefetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// errOriginTimeout is the cancel cause set by an attempt's watchdog.
var errOriginTimeout = errors.New("origin timeout")

// retryable marks a transient failure; after is the origin's Retry-After.
type retryable struct {
	err      error
	after    time.Duration
	hasAfter bool
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// request is one ranged GET.
type request struct {
	url         string
	name        string // for messages
	trustedHost string // host:port dialled without the address guard, or ""
	start, end  int64  // inclusive
	header      http.Header
}

// do sends rq, retrying transient failures with a growing backoff.
// handle checks the response and reads its body; it runs once per attempt.
func (f *Fetcher) do(ctx context.Context, rq *request, handle func(*http.Response, io.Reader) error) error {
	backoff := f.cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		if f.closed.Load() {
			return fmt.Errorf("%w: %s", ErrClosed, rq.name)
		}
		err := f.attempt(ctx, rq, handle)
		if err == nil {
			return nil
		}
		var r *retryable
		if !errors.As(err, &r) {
			return err
		}
		if attempt >= f.cfg.Retries {
			return r.err
		}
		wait := backoff
		if r.hasAfter {
			if r.after > maxRetryAfter {
				return fmt.Errorf("%w (origin asks to retry after %v)", r.err, r.after)
			}
			wait = max(wait, r.after)
		}
		backoff *= 4
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctxError(rq.name, ctx)
		case <-t.C:
		}
	}
}

// attempt is one request. A watchdog cancels it when the origin is silent
// for Config.Timeout: before the response headers, or between body reads.
func (f *Fetcher) attempt(ctx context.Context, rq *request, handle func(*http.Response, io.Reader) error) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(f.cfg.Timeout, func() { cancel(errOriginTimeout) })
	defer watchdog.Stop()
	rctx := actx
	if rq.trustedHost != "" {
		rctx = withTrusted(actx, rq.trustedHost)
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, rq.url, nil)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadURL, rq.name, err)
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	req.Header.Set("Range", "bytes="+itoa(rq.start)+"-"+itoa(rq.end))
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "edgenome-rangefetch/1")
	f.requests.Add(1)
	resp, err := f.client.Do(req)
	if err != nil {
		return f.classify(ctx, actx, rq, err, true)
	}
	defer resp.Body.Close()
	body := &bodyReader{r: resp.Body, f: f, watchdog: watchdog, stall: f.cfg.Timeout}
	if err := handle(resp, body); err != nil {
		return f.classify(ctx, actx, rq, err, false)
	}
	return nil
}

// classify turns a transport or body error into one of our sentinels.
// The caller's own context wins, then our timeout, then whatever sentinel the
// error already carries.
func (f *Fetcher) classify(ctx, actx context.Context, rq *request, err error, beforeResponse bool) error {
	if ctx.Err() != nil {
		return ctxError(rq.name, ctx)
	}
	if errors.Is(context.Cause(actx), errOriginTimeout) {
		if beforeResponse {
			return fmt.Errorf("%w: %s: no response within %v", ErrTimeout, rq.name, f.cfg.Timeout)
		}
		return fmt.Errorf("%w: %s: response stalled for %v", ErrTimeout, rq.name, f.cfg.Timeout)
	}
	// Other timeouts: DNS, TLS handshake, the transport's header timeout.
	if ne, ok := errors.AsType[net.Error](err); errors.Is(err, context.DeadlineExceeded) || ok && ne.Timeout() {
		return fmt.Errorf("%w: %s: %v", ErrTimeout, rq.name, unwrapURLError(err))
	}
	if !beforeResponse {
		return err // handle already wrapped it with a sentinel and the name
	}
	inner := unwrapURLError(err)
	for _, s := range []error{ErrDenied, ErrTooManyRedirects, ErrBadURL} {
		if errors.Is(inner, s) {
			return fmt.Errorf("%s: %w", rq.name, inner)
		}
	}
	var de *net.DNSError
	if errors.As(inner, &de) {
		return fmt.Errorf("%w: %s: cannot resolve %s", ErrOriginStatus, rq.name, de.Name)
	}
	return &retryable{err: fmt.Errorf("%w: %s: cannot reach origin: %v", ErrOriginStatus, rq.name, inner)}
}

// statusError maps a status we do not handle specially.
func statusError(resp *http.Response, name string) error {
	code := resp.StatusCode
	switch {
	case code == http.StatusNotFound || code == http.StatusGone:
		return fmt.Errorf("%w: %s: origin answered %s", ErrNotFound, name, resp.Status)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%w: %s: origin answered %s", ErrForbidden, name, resp.Status)
	case code == http.StatusPreconditionFailed:
		return fmt.Errorf("%w: %s: origin answered %s to the pinned version", ErrChanged, name, resp.Status)
	case code == http.StatusTooManyRequests || code == http.StatusInternalServerError ||
		code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return &retryable{err: fmt.Errorf("%w: %s: origin answered %s", ErrOriginStatus, name, resp.Status), after: after, hasAfter: ok}
	case code >= 300 && code < 400:
		return fmt.Errorf("%w: %s: origin answered %s without a usable Location", ErrOriginStatus, name, resp.Status)
	default:
		return fmt.Errorf("%w: %s: unexpected status %s", ErrOriginStatus, name, resp.Status)
	}
}

// bodyReader counts body bytes and re-arms the watchdog on progress.
type bodyReader struct {
	r        io.Reader
	f        *Fetcher
	watchdog *time.Timer
	stall    time.Duration
	n        int64
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.n += int64(n)
		b.f.fetched.Add(int64(n))
		b.watchdog.Reset(b.stall)
	}
	return n, err
}

// readBlocks reads the body of a checked response for bytes [start, end] of
// an object of the given size into one buffer per block, charging the
// session's budget first.
func (s *Session) readBlocks(resp *http.Response, body *bodyReader, name string, start, end, size int64) ([][]byte, error) {
	n := end - start + 1
	if resp.ContentLength >= 0 && resp.ContentLength != n {
		return nil, fmt.Errorf("%w: %s: Content-Length %d for a range of %d bytes", ErrBadContentRange, name, resp.ContentLength, n)
	}
	if err := s.reserve(n, name); err != nil {
		return nil, err
	}
	bs := s.f.cfg.BlockSize
	var bufs [][]byte
	for off := start; off <= end; off += bs {
		buf := make([]byte, min(bs, size-off))
		if _, err := io.ReadFull(body, buf); err != nil {
			s.fetched.Add(body.n - n) // release what never came
			return nil, &retryable{err: fmt.Errorf("%w: %s: got %d of %d bytes: %v", ErrTruncated, name, body.n, n, err)}
		}
		bufs = append(bufs, buf)
	}
	var one [1]byte
	if k, _ := io.ReadFull(body, one[:]); k > 0 {
		return nil, fmt.Errorf("%w: %s: body longer than the %d bytes of its range", ErrBadContentRange, name, n)
	}
	return bufs, nil
}

// unwrapURLError drops the *url.Error layer, whose message repeats the full
// URL (query included) that our messages replace with the redacted name.
func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// ctxError reports the end of the caller's context: errors.Is matches its
// Err (context.Canceled or context.DeadlineExceeded) and its cause, when the
// caller set a distinct one.
func ctxError(name string, ctx context.Context) error {
	err, cause := ctx.Err(), context.Cause(ctx)
	if cause == nil || cause == err {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s: %w (%w)", name, err, cause)
}
