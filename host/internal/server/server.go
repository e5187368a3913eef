package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/edgenome/edgenome/host/config"
	"github.com/edgenome/edgenome/host/internal/dataplane"
	"github.com/edgenome/edgenome/host/internal/rangefetch"
	"github.com/edgenome/edgenome/host/internal/registry"
	"github.com/edgenome/edgenome/host/internal/runtime"
	"github.com/edgenome/edgenome/host/internal/web"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options are the parts a Server serves.
type Options struct {
	Config   *config.Config
	Registry *registry.Registry
	Fetcher  *rangefetch.Fetcher
	Stats    *runtime.Stats
	Logger   *slog.Logger
	// Registerer for metrics; a private registry when nil.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

// Server is the HTTP API.
type Server struct {
	cfg      *config.Config
	reg      *registry.Registry
	fetch    *rangefetch.Fetcher
	log      *slog.Logger
	refs     map[string]dataplane.Reference
	refNames map[string]bool
	metrics  *metrics
	echo     *echo.Echo
	http     *http.Server
	// base is every request's parent context; Shutdown cancels it when the
	// grace period ends, so calls still running are stopped, not abandoned.
	base       context.Context
	cancelBase context.CancelFunc
}

// New builds the API's routes and middleware.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Stats == nil {
		o.Stats = &runtime.Stats{}
	}
	if o.Registerer == nil {
		r := prometheus.NewRegistry()
		o.Registerer, o.Gatherer = r, r
	}
	s := &Server{cfg: o.Config, reg: o.Registry, fetch: o.Fetcher, log: o.Logger,
		refs: map[string]dataplane.Reference{}, refNames: map[string]bool{}}
	for _, r := range o.Config.References {
		s.refs[r.Name] = dataplane.Reference{Name: r.Name, Fasta: r.Fasta, Fai: r.Fai}
		s.refNames[r.Name] = true
	}
	m, err := newMetrics(o.Registerer, o.Fetcher, o.Stats)
	if err != nil {
		return nil, fmt.Errorf("server: metrics: %w", err)
	}
	s.metrics = m

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	if e.IPExtractor, err = ipExtractor(o.Config.Server.TrustedProxies); err != nil {
		return nil, fmt.Errorf("server: trusted_proxies: %w", err)
	}
	e.Use(s.recoverer)
	e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:  o.Config.Server.CORSOrigins,
		AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowHeaders:  []string{"Content-Type", "Content-Encoding"},
		ExposeHeaders: []string{"*", "X-Seed", "Retry-After"},
		MaxAge:        3600,
	}))
	// After CORS, so a browser can read a 429 or 413.
	if rl := o.Config.Server.RateLimit; rl.RequestsPerSecond > 0 {
		denied := prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgenome_rate_limited_total", Help: "Requests refused with 429 by server.rate_limit.",
		})
		if err := o.Registerer.Register(denied); err != nil {
			return nil, fmt.Errorf("server: metrics: %w", err)
		}
		e.Use(newRateLimiter(rl, denied).middleware)
	}
	if err := o.Registerer.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "edgenome_registry_errors", Help: "Registry folders that failed to load (see /plugins errors).",
	}, func() float64 { return float64(len(o.Registry.Snapshot().Errors)) })); err != nil {
		return nil, fmt.Errorf("server: metrics: %w", err)
	}
	e.Use(limitHeaders(int64(o.Config.Server.MaxHeaderBytes)))
	e.Use(limitBody(int64(o.Config.Server.MaxBody)))
	if err := web.Register(e); err != nil {
		return nil, fmt.Errorf("server: web UI: %w", err)
	}
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{})))
	e.GET("/plugins", s.listPlugins)
	e.GET("/plugins/:name", s.getPlugin)
	e.GET("/references", s.listReferences)
	for _, path := range []string{"/plugin/:name", "/plugin/:name/:export"} {
		e.GET(path, s.runPlugin)
		e.POST(path, s.runPlugin)
	}
	s.echo = e
	sc := o.Config.Server
	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.http = &http.Server{
		Handler:           e,
		BaseContext:       func(net.Listener) context.Context { return s.base },
		ReadHeaderTimeout: sc.ReadHeaderTimeout.D(),
		IdleTimeout:       sc.IdleTimeout.D(),
		MaxHeaderBytes:    int(max(int64(sc.MaxHeaderBytes), netHeaderCap)),
		// No WriteTimeout: responses stream for as long as a plugin's own
		// timeout allows; each write has its own deadline (stream.go).
		ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Handler is the API as an http.Handler (for tests).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, lets running calls finish until ctx ends, then
// cancels the rest: their contexts end (stopping the plugins) and their
// connections close.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.cancelBase()
		s.http.Close()
	}
	s.cancelBase()
	return err
}

// recoverer turns a panic into a 500 without hiding http.ErrAbortHandler,
// which is how a failed stream is cut off on purpose.
func (s *Server) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.Error("panic in handler", "path", c.Request().URL.Path, "panic", r)
			if c.Response().Committed {
				panic(http.ErrAbortHandler)
			}
			err = newError("internal", "internal error")
		}()
		return next(c)
	}
}

// ShutdownGrace is how long Shutdown should be given.
func (s *Server) ShutdownGrace() time.Duration { return s.cfg.Server.ShutdownGrace.D() }
