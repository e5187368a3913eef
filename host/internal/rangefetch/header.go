package rangefetch

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// contentRange is a parsed Content-Range header (RFC 9110 §14.4).
type contentRange struct {
	start, end int64 // inclusive; -1 for the unsatisfied form "bytes */N"
	size       int64 // -1 when the origin wrote "*"
}

var errContentRange = errors.New("malformed Content-Range")

// parseContentRange accepts "bytes a-b/n", "bytes a-b/*" and "bytes */n",
// with a <= b < n. It is strict: anything else is an error, since a lenient
// parse is how a misbehaving origin gets wrong bytes into the cache.
func parseContentRange(s string) (contentRange, error) {
	bad := contentRange{start: -1, end: -1, size: -1}
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return bad, errContentRange
	}
	rng, total, ok := strings.Cut(rest, "/")
	if !ok {
		return bad, errContentRange
	}
	cr := bad
	if total != "*" {
		n, ok := parseDecimal(total)
		if !ok {
			return bad, errContentRange
		}
		cr.size = n
	}
	if rng == "*" {
		if cr.size < 0 {
			return bad, errContentRange
		}
		return cr, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return bad, errContentRange
	}
	if cr.start, ok = parseDecimal(a); !ok {
		return bad, errContentRange
	}
	if cr.end, ok = parseDecimal(b); !ok {
		return bad, errContentRange
	}
	if cr.end < cr.start || (cr.size >= 0 && cr.end >= cr.size) {
		return bad, errContentRange
	}
	return cr, nil
}

// parseDecimal reads a non-negative decimal that fits in int64, digits only.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseRetryAfter reads delay-seconds or an HTTP date; ok is false when the
// header is absent or unusable.
func parseRetryAfter(s string, now time.Time) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if n, ok := parseDecimal(s); ok {
		if n > 1<<20 {
			n = 1 << 20
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

// strongETag returns the ETag when it is strong and well formed; weak tags
// cannot be used with If-Match and do not prove byte equality.
func strongETag(h http.Header) string {
	e := strings.TrimSpace(h.Get("ETag"))
	if len(e) < 2 || e[0] != '"' || e[len(e)-1] != '"' || strings.ContainsAny(e[1:len(e)-1], "\"\x00\r\n") {
		return ""
	}
	return e
}

// badEncoding reports a response whose length checks would be meaningless:
// a content coding other than identity, or a multipart answer (we never ask
// for several ranges).
func badEncoding(h http.Header) string {
	if ce := strings.TrimSpace(h.Get("Content-Encoding")); ce != "" && !strings.EqualFold(ce, "identity") {
		return "Content-Encoding " + ce
	}
	if ct := strings.ToLower(h.Get("Content-Type")); strings.HasPrefix(ct, "multipart/byteranges") {
		return "multipart/byteranges"
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
