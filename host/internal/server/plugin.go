package server

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/internal/dataplane"
	"github.com/edgenome/edgenome/host/internal/registry"
	"github.com/labstack/echo/v4"
)

// runPlugin serves GET|POST /plugin/<name>[/<export>].
func (s *Server) runPlugin(c echo.Context) error {
	name, exportName := c.Param("name"), c.Param("export")
	p, err := s.hold(name)
	if err != nil {
		return err
	}
	defer p.Module.End()
	exp, ok := p.Manifest.Export(exportName)
	if !ok {
		names := make([]string, len(p.Manifest.Exports))
		for i, e := range p.Manifest.Exports {
			names[i] = e.Name
		}
		return newError(CodeNoExport, "plugin %s has no export %q (exports: %s)", name, exportName, strings.Join(names, ", "))
	}
	values, body, perr := requestValues(c.Request(), exp)
	if perr != nil {
		return perr
	}
	if body != nil && !exp.Decompress {
		// A filter plugin reads its input while its output streams: without
		// full duplex net/http drops up to 256 KiB of unread body once the
		// response starts. Reads happen in this goroutine (the plugin's), so
		// nothing reads the body after we return. Exports whose body the
		// host decodes ahead (a goroutine) keep the default.
		http.NewResponseController(c.Response().Writer).EnableFullDuplex()
		// net/http no longer drains what the plugin left unread, which a
		// client still sending needs before it reads our answer (an early
		// 400, say): drain as much as net/http would have. Nor does it say
		// "Connection: close" when even that leaves some unread and it
		// closes the connection after the answer: without the header a
		// client may send its next request on that connection and get a
		// reset (a POST after an over-limit chunked body did, 7 times in 16).
		// Error answers are written after this returns, so they get it.
		defer func() {
			if _, err := io.CopyN(io.Discard, body, 256<<10); err != io.EOF && !c.Response().Committed {
				c.Response().Header().Set("Connection", "close")
			}
		}()
	}
	if body != nil && exp.Decompress {
		var stop func()
		body, stop = dataplane.Gunzip(body)
		defer stop()
	}
	lim := p.Module.Limits
	input, perr := convert(exp, values, paramEnv{refs: s.refNames, checkURL: s.fetch.CheckURL, max: lim.ParamMax})
	if perr != nil {
		return perr
	}

	ctx, cancel := context.WithTimeout(c.Request().Context(), lim.Timeout.D())
	defer cancel()
	sess := s.fetch.NewSession(ctx, int64(lim.MaxFetch))
	defer sess.Close()
	out := newStream(c.Response().Writer, exp.ContentType, int64(lim.MaxOutput))
	dp := dataplane.New(ctx, out, body, int64(lim.MaxInput), sess, s.refs)

	start := time.Now()
	res, callErr := p.Module.Call(ctx, exp.Name, input, dp)
	took := time.Since(start)
	if res.Stderr != "" {
		s.log.Debug("plugin stderr", "plugin", name, "export", exp.Name, "stderr", res.Stderr)
	}
	s.metrics.memory.WithLabelValues(name).Set(float64(res.Memory))
	fatal := dp.Err()
	if callErr == nil && fatal == nil {
		out.finish()
		s.metrics.observe(name, exp.Name, http.StatusOK, "", took, res.Queued, out.bytesSent(), sess.Fetched())
		return nil
	}
	e := classify(callErr, fatal, dp.SourceErr(), name)
	committed := out.fail()
	s.metrics.observe(name, exp.Name, e.Status, e.Code, took, res.Queued, out.bytesSent(), sess.Fetched())
	if committed {
		// Headers and part of the body are gone: the only honest signal left
		// is to break the stream, so the client cannot take it as complete.
		s.log.Warn("plugin failed after output started; stream aborted",
			"plugin", name, "export", exp.Name, "code", e.Code, "err", e.Message, "sent", out.bytesSent())
		s.metrics.aborted.WithLabelValues(name).Inc()
		panic(http.ErrAbortHandler)
	}
	if e.Status >= 500 && e.Code != CodeTimeout {
		s.log.Error("plugin call failed", "plugin", name, "export", exp.Name, "code", e.Code, "err", e.Message, "stderr", firstLines(res.Stderr, 5))
	}
	return e
}

// hold finds the current version of a plugin and registers the request on
// it, so a reload cannot close it mid-call. A version closing under us is
// retried on the newer snapshot: no request fails because of a reload.
func (s *Server) hold(name string) (*registry.Plugin, error) {
	for range 5 {
		p, ok := s.reg.Snapshot().Get(name)
		if !ok {
			break
		}
		if p.Module.Begin() {
			return p, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	names := []string{}
	for _, p := range s.reg.Snapshot().List() {
		names = append(names, p.Manifest.Name)
	}
	sort.Strings(names)
	return nil, newError(CodeNoPlugin, "no plugin named %q (loaded: %s)", name, strings.Join(names, ", "))
}

// requestValues gathers parameters from the query string and, for a form
// POST, the form; any other POST body is the plugin's stdin if the export
// takes one.
func requestValues(r *http.Request, exp *registry.Export) (url.Values, io.Reader, *Error) {
	values := r.URL.Query()
	if r.Method != http.MethodPost {
		return values, nil, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		var err error
		if ct == "multipart/form-data" {
			err = r.ParseMultipartForm(1 << 20)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			return nil, nil, newError(abi.CodeBadParam, "cannot read the form: %v", err)
		}
		for k, vs := range r.PostForm {
			values[k] = append(values[k], vs...)
		}
		return values, nil, nil
	}
	if exp.Body {
		return values, r.Body, nil
	}
	if r.ContentLength > 0 || r.ContentLength == -1 && r.Body != http.NoBody {
		var one [1]byte
		if n, _ := r.Body.Read(one[:]); n > 0 {
			return nil, nil, newError(abi.CodeBadParam, "export %s takes no request body; send parameters in the query string", exp.Name)
		}
	}
	return values, nil, nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
