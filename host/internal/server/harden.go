package server

import (
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/config"
	"github.com/edgenome/edgenome/host/internal/dataplane"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// CodeRateLimited: the client went past server.rate_limit (429).
const CodeRateLimited abi.Code = "rate_limited"

// maxFormBytes caps form POSTs: parameters are small, and a multipart form
// would otherwise spill to temporary files up to the body limit.
const maxFormBytes = 1 << 20

// ipExtractor decides who the client is. Echo v4's RealIP believes
// X-Forwarded-For from anyone unless an extractor is set, which would let a
// client pick its own rate-limit key; so the peer address is the client
// unless the peer is a configured proxy, and only then is the header read
// (right to left, skipping the trusted proxies).
func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, s := range trusted {
		p, err := config.ParseCIDR(s)
		if err != nil {
			return nil, err
		}
		_, n, err := net.ParseCIDR(p.String())
		if err != nil {
			return nil, err
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// limitBody refuses a declared body above max at once and cuts an
// undeclared (chunked) one at max with an error the data plane reports as
// 413 input_limit. Forms get maxFormBytes.
func limitBody(max int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Body == nil || r.Body == http.NoBody {
				return next(c)
			}
			limit := max
			ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data" {
				limit = min(limit, maxFormBytes)
			}
			if r.ContentLength > limit {
				return newError(CodeInputLimit, "request body of %d bytes is larger than the %s limit", r.ContentLength, config.Size(limit))
			}
			if r.ContentLength >= 0 {
				return next(c) // declared and within the limit
			}
			// A chunked body is counted as it is read.
			body := &cappedBody{rc: r.Body, left: limit, limit: limit}
			r.Body = body
			defer body.done.Store(true)
			return next(c)
		}
	}
}

// cappedBody cuts a chunked body at the limit, and refuses reads once the
// handler has returned (a decoding goroutine may still be reading when a
// plugin failed early).
type cappedBody struct {
	rc          io.ReadCloser
	left, limit int64 // only the reader touches these
	done        atomic.Bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.done.Load() {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: request body is larger than %s", dataplane.ErrInputLimit, config.Size(b.limit))
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// rateLimiter is a token bucket per client address, forgotten after a few
// minutes of silence.
type rateLimiter struct {
	rps     rate.Limit
	burst   int
	denied  prometheus.Counter
	mu      sync.Mutex
	clients map[string]*client
	swept   time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

const clientTTL = 3 * time.Minute

func newRateLimiter(rl config.RateLimit, denied prometheus.Counter) *rateLimiter {
	return &rateLimiter{rps: rate.Limit(rl.RequestsPerSecond), burst: rl.Burst, denied: denied,
		clients: map[string]*client{}}
}

// wait reserves a token for key and returns how long the client must wait
// (zero: go ahead). A refused reservation is handed back, so a client that
// keeps hammering is not pushed further into the future.
func (l *rateLimiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > clientTTL {
		for k, c := range l.clients {
			if now.Sub(c.seen) > clientTTL {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c, ok := l.clients[key]
	if !ok {
		c = &client{lim: rate.NewLimiter(l.rps, l.burst)}
		l.clients[key] = c
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Hour
	}
	d := r.DelayFrom(now)
	if d > 0 {
		r.CancelAt(now)
	}
	return d
}

func (l *rateLimiter) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().URL.Path {
		case "/healthz", "/metrics":
			return next(c)
		}
		if d := l.wait(c.RealIP(), time.Now()); d > 0 {
			l.denied.Inc()
			secs := int(math.Ceil(d.Seconds()))
			return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: max(secs, 1),
				Message: fmt.Sprintf("more than %g requests per second from %s; retry in %ds", float64(l.rps), c.RealIP(), max(secs, 1))}
		}
		return next(c)
	}
}

// netHeaderCap is what net/http itself accepts. Past it net/http answers a
// plain-text 431 before any handler runs; below it limitHeaders answers the
// operator's max_header_bytes with a JSON error like every other.
const netHeaderCap = 1 << 20

// limitHeaders refuses requests whose target and headers exceed max bytes.
func limitHeaders(max int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			n := int64(len(r.Method) + len(r.RequestURI) + 12)
			for k, vs := range r.Header {
				for _, v := range vs {
					n += int64(len(k) + len(v) + 4)
				}
			}
			if n > max {
				return newError(CodeHeaderLimit, "request line and headers take %d bytes, more than the %s limit (server.max_header_bytes)", n, config.Size(max))
			}
			return next(c)
		}
	}
}
