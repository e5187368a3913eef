package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/internal/dataplane"
	"github.com/edgenome/edgenome/host/internal/rangefetch"
	"github.com/edgenome/edgenome/host/internal/runtime"
	"github.com/labstack/echo/v4"
)

// Error is what a client receives: {"error": {"code": ..., "message": ...}}.
type Error struct {
	Status  int      `json:"-"`
	Code    abi.Code `json:"code"`
	Message string   `json:"message"`
	// RetryAfter, in seconds, for 429 and 503.
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Codes the host adds to the ones plugins use (host/abi).
const (
	CodeNoPlugin      abi.Code = "no_such_plugin"
	CodeNoExport      abi.Code = "no_such_export"
	CodeNoRoute       abi.Code = "no_such_route"
	CodeMethod        abi.Code = "method_not_allowed"
	CodeBusy          abi.Code = "busy"
	CodeOverloaded    abi.Code = "overloaded"
	CodeTimeout       abi.Code = "timeout"
	CodeMemory        abi.Code = "memory_limit"
	CodeOutputLimit   abi.Code = "output_limit"
	CodeFetchLimit    abi.Code = "fetch_limit"
	CodeInputLimit    abi.Code = "input_limit"
	CodeHeaderLimit   abi.Code = "header_limit"
	CodeDenied        abi.Code = "source_denied"
	CodeSourceMissing abi.Code = "source_not_found"
	CodeSourceRefused abi.Code = "source_forbidden"
	CodeUnavailable   abi.Code = "unavailable"
	CodeOrigin        abi.Code = "origin_error"
	CodeOriginTimeout abi.Code = "origin_timeout"
	CodeChanged       abi.Code = "source_changed"
	CodeCrashed       abi.Code = "plugin_crashed"
	CodeClientGone    abi.Code = "client_closed"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[abi.Code]int{
	abi.CodeBadParam:    http.StatusBadRequest,
	abi.CodeBadInput:    http.StatusBadRequest,
	abi.CodeNotFound:    http.StatusNotFound,
	abi.CodeTooLarge:    http.StatusUnprocessableEntity,
	abi.CodeUnsupported: http.StatusUnprocessableEntity,
	abi.CodeSource:      http.StatusBadGateway,
	abi.CodeBadFile:     http.StatusUnprocessableEntity,
	abi.CodeInternal:    http.StatusInternalServerError,
	CodeNoPlugin:        http.StatusNotFound,
	CodeNoExport:        http.StatusNotFound,
	CodeNoRoute:         http.StatusNotFound,
	CodeMethod:          http.StatusMethodNotAllowed,
	CodeBusy:            http.StatusTooManyRequests,
	CodeOverloaded:      http.StatusServiceUnavailable,
	CodeTimeout:         http.StatusGatewayTimeout,
	CodeMemory:          http.StatusUnprocessableEntity,
	CodeOutputLimit:     http.StatusRequestEntityTooLarge,
	CodeFetchLimit:      http.StatusRequestEntityTooLarge,
	CodeInputLimit:      http.StatusRequestEntityTooLarge,
	CodeHeaderLimit:     http.StatusRequestHeaderFieldsTooLarge,
	CodeDenied:          http.StatusForbidden,
	CodeSourceMissing:   http.StatusNotFound,
	CodeSourceRefused:   http.StatusForbidden,
	CodeUnavailable:     http.StatusServiceUnavailable,
	CodeOrigin:          http.StatusBadGateway,
	CodeOriginTimeout:   http.StatusGatewayTimeout,
	CodeChanged:         http.StatusConflict,
	CodeCrashed:         http.StatusInternalServerError,
	CodeClientGone:      499, // never seen by the client; counted in metrics
}

func newError(code abi.Code, format string, args ...any) *Error {
	st, ok := statusOf[code]
	if !ok {
		st = http.StatusInternalServerError
	}
	return &Error{Status: st, Code: code, Message: fmt.Sprintf(format, args...)}
}

// classify turns the outcome of a call into the client's error. A fatal
// data-plane failure (a limit, the deadline) explains any failure better
// than the plugin can. A source failure explains a plugin that crashed or
// blamed its source; its status is the host's, its message the plugin's.
func classify(callErr, fatal, source error, plugin string) *Error {
	if fatal != nil {
		if e := dataError(fatal); e != nil {
			return e
		}
	}
	var env *abi.Envelope
	isEnv := errors.As(callErr, &env)
	if source != nil && (!isEnv || env.Code == abi.CodeSource || env.Code == abi.CodeInternal) {
		if e := dataError(source); e != nil {
			if isEnv {
				e.Message = env.Message
			}
			return e
		}
	}
	switch {
	case isEnv:
		code := env.Code
		if _, known := statusOf[code]; !known {
			code = abi.CodeInternal
		}
		return newError(code, "%s", env.Message)
	case errors.Is(callErr, runtime.ErrBusy):
		e := newError(CodeBusy, "%s: %v", plugin, callErr)
		e.RetryAfter = 1
		return e
	case errors.Is(callErr, runtime.ErrOverloaded):
		e := newError(CodeOverloaded, "%s: %v", plugin, callErr)
		e.RetryAfter = 2
		return e
	case errors.Is(callErr, runtime.ErrTimeout):
		return newError(CodeTimeout, "%s: %v", plugin, callErr)
	case errors.Is(callErr, runtime.ErrMemory):
		return newError(CodeMemory, "%s: %v", plugin, callErr)
	case errors.Is(callErr, context.Canceled):
		return newError(CodeClientGone, "client closed the request")
	case errors.Is(callErr, runtime.ErrCrashed):
		return newError(CodeCrashed, "%s: %v", plugin, callErr)
	}
	return newError(abi.CodeInternal, "%s: %v", plugin, callErr)
}

func dataError(err error) *Error {
	switch {
	case errors.Is(err, context.Canceled):
		return newError(CodeClientGone, "client closed the request")
	case errors.Is(err, context.DeadlineExceeded):
		return newError(CodeTimeout, "%v", err)
	case errors.Is(err, dataplane.ErrOutputLimit):
		return newError(CodeOutputLimit, "%v", err)
	case errors.Is(err, dataplane.ErrBadBlock):
		return newError(abi.CodeBadFile, "%v", err)
	case errors.Is(err, dataplane.ErrBadBody):
		return newError(abi.CodeBadInput, "request body: %v", err)
	case errors.Is(err, dataplane.ErrInputLimit):
		return newError(CodeInputLimit, "%v", err)
	case errors.Is(err, dataplane.ErrDeadline):
		return newError(CodeTimeout, "%v", err)
	case errors.Is(err, dataplane.ErrClientGone):
		return newError(CodeClientGone, "%v", err)
	case errors.Is(err, rangefetch.ErrFetchLimit):
		return newError(CodeFetchLimit, "%v", err)
	case errors.Is(err, rangefetch.ErrDenied):
		return newError(CodeDenied, "%v", err)
	case errors.Is(err, rangefetch.ErrNotFound):
		return newError(CodeSourceMissing, "%v", err)
	case errors.Is(err, rangefetch.ErrForbidden):
		return newError(CodeSourceRefused, "%v", err)
	case errors.Is(err, rangefetch.ErrClosed):
		return newError(CodeUnavailable, "%v", err)
	case errors.Is(err, rangefetch.ErrChanged):
		return newError(CodeChanged, "%v", err)
	case errors.Is(err, rangefetch.ErrTimeout):
		return newError(CodeOriginTimeout, "%v", err)
	case errors.Is(err, rangefetch.ErrBadURL):
		return newError(abi.CodeBadParam, "%v", err)
	case errors.Is(err, rangefetch.ErrOriginStatus), errors.Is(err, rangefetch.ErrRangeIgnored),
		errors.Is(err, rangefetch.ErrBadContentRange), errors.Is(err, rangefetch.ErrTruncated),
		errors.Is(err, rangefetch.ErrTooManyRedirects):
		return newError(CodeOrigin, "%v", err)
	case errors.Is(err, dataplane.ErrHeaderLate), errors.Is(err, dataplane.ErrBadHeader):
		return nil // the plugin decides what to make of these
	}
	return newError(CodeOrigin, "%v", err)
}

// writeError sends e as JSON. It is Echo's error handler too, so every
// error, from routing to plugins, has the same shape.
func writeError(c echo.Context, e *Error) {
	if c.Response().Committed {
		return
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSONCharsetUTF8)
	h.Del("Content-Encoding")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	c.Response().WriteHeader(e.Status)
	json.NewEncoder(c.Response()).Encode(map[string]*Error{"error": e})
}

func (s *Server) errorHandler(err error, c echo.Context) {
	var e *Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &he):
		code := abi.CodeInternal
		switch he.Code {
		case http.StatusNotFound:
			code = CodeNoRoute
		case http.StatusMethodNotAllowed:
			code = CodeMethod
		case http.StatusRequestEntityTooLarge:
			code = CodeInputLimit
		case http.StatusBadRequest:
			code = abi.CodeBadParam
		}
		e = newError(code, "%v", he.Message)
	default:
		s.log.Error("unhandled error", "path", c.Path(), "err", err)
		e = newError(abi.CodeInternal, "internal error")
	}
	writeError(c, e)
}
