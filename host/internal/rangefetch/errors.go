package rangefetch

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them (or a
// context error, passed through when the call's own context ends) and names
// the object. The suggested HTTP status for the host's error mapping is given
// for each.
var (
	// ErrBadURL: the source is not a URL this package can read (unparsable,
	// no host, user info in the URL, malformed port). Suggested: 400.
	ErrBadURL = errors.New("invalid source URL")

	// ErrDenied: the scheme, host, port or dialled address is not allowed, on
	// the first request or on a redirect hop; also a local path from an
	// untrusted caller. Suggested: 403.
	ErrDenied = errors.New("source not allowed")

	// ErrNotFound: the origin answered 404 or 410, or the local file does not
	// exist. Suggested: 404.
	ErrNotFound = errors.New("source not found")

	// ErrForbidden: the origin answered 401 or 403. Suggested: 403 (a code
	// distinct from ErrDenied: the origin refused, not our policy).
	ErrForbidden = errors.New("origin refused access")

	// ErrOriginStatus: the origin answered 5xx, 429 or another status we
	// cannot use, after the retries. Suggested: 502.
	ErrOriginStatus = errors.New("origin error")

	// ErrRangeIgnored: the origin answered 200 with the whole object to a
	// range request (accepted only when the whole object fits in the range
	// asked for). The body is not read. Suggested: 502.
	ErrRangeIgnored = errors.New("origin ignored the byte range")

	// ErrBadContentRange: a 206 whose Content-Range is missing, malformed or
	// not the range asked for, a body longer than announced, a 416 without a
	// usable size, a compressed or multipart answer. Suggested: 502.
	ErrBadContentRange = errors.New("origin sent a bad range response")

	// ErrTruncated: the origin closed or reset the connection before sending
	// the whole range, after the retries. Suggested: 502.
	ErrTruncated = errors.New("origin response truncated")

	// ErrTooManyRedirects: more than Config.MaxRedirects hops (a redirect
	// loop, typically). Suggested: 502.
	ErrTooManyRedirects = errors.New("too many redirects")

	// ErrChanged: the object changed while the call was reading it (412 on
	// If-Match/If-Unmodified-Since, a new validator, a new size, or a local
	// file modified in place). Suggested: 409 (retrying the request reads the
	// new version consistently).
	ErrChanged = errors.New("source changed during the request")

	// ErrFetchLimit: the call would pull more bytes from origins than its
	// max_fetch budget. Checked before a request is sent (and before a body
	// is read), so the budget is never exceeded. Suggested: its own limit
	// code, e.g. 422 max_fetch_exceeded.
	ErrFetchLimit = errors.New("fetch limit exceeded")

	// ErrTimeout: the origin did not answer (connect, TLS, headers) or stalled
	// mid-body for longer than Config.Timeout. Suggested: 504. The end of the
	// call's own context is reported as that context error instead.
	ErrTimeout = errors.New("origin timed out")

	// ErrClosed: the Fetcher or Session was closed. Suggested: 503.
	ErrClosed = errors.New("fetcher closed")
)
