// Package app wires the host's parts in order and closes them in reverse.
// It is the only place that knows that order.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"

	"github.com/edgenome/edgenome/host/config"
	"github.com/edgenome/edgenome/host/internal/preempt"
	"github.com/edgenome/edgenome/host/internal/rangefetch"
	"github.com/edgenome/edgenome/host/internal/registry"
	"github.com/edgenome/edgenome/host/internal/runtime"
	"github.com/edgenome/edgenome/host/internal/server"
)

// App is a running host.
type App struct {
	cfg   *config.Config
	log   *slog.Logger
	fetch *rangefetch.Fetcher
	reg   *registry.Registry
	srv   *server.Server
	ln    net.Listener
	done  chan error

	closeOnce sync.Once
	closeErr  error
}

// Options adjust how the host starts (tests use them).
type Options struct {
	Logger *slog.Logger
	// Listener, when set, replaces listening on cfg.Server.Addr.
	Listener net.Listener
	// Fetch adjusts the range fetcher's configuration before it is built.
	Fetch func(*rangefetch.Config)
	// UnsafeNoPreemption: see runtime.Options; benchmarks only.
	UnsafeNoPreemption bool
}

// Start builds every part and starts serving.
func Start(ctx context.Context, cfg *config.Config, opt Options) (a *App, err error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	a = &App{cfg: cfg, log: opt.Logger, done: make(chan error, 1)}
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()
	fc := rangefetch.Config{
		BlockSize:    int64(cfg.Cache.BlockSize),
		MaxBytes:     int64(cfg.Cache.MaxBytes),
		AllowedHosts: cfg.Fetch.AllowedHosts,
		Timeout:      cfg.Fetch.Timeout.D(),
	}
	if opt.Fetch != nil {
		opt.Fetch(&fc)
	}
	if a.fetch, err = rangefetch.New(fc); err != nil {
		return nil, fmt.Errorf("range fetch: %w", err)
	}
	stats := &runtime.Stats{}
	// Rewritten modules are cached by the original's sha256, on disk beside
	// the compiled code, so a restart rewrites nothing.
	inst, err := preempt.NewCache(filepath.Join(cfg.Registry.CacheDir, "preempt"), preempt.Options{}, 0)
	if err != nil {
		return nil, err
	}
	a.reg, err = registry.New(ctx, cfg.Registry.Dir, cfg.For, runtime.Options{
		CacheDir: cfg.Registry.CacheDir, Logger: opt.Logger, Stats: stats, Instrument: inst,
		UnsafeNoPreemption: opt.UnsafeNoPreemption,
	})
	if err != nil {
		return nil, err
	}
	if *cfg.Registry.Watch {
		if err := a.reg.Watch(); err != nil {
			return nil, err
		}
	}
	if a.srv, err = server.New(server.Options{Config: cfg, Registry: a.reg, Fetcher: a.fetch, Stats: stats, Logger: opt.Logger}); err != nil {
		return nil, err
	}
	a.ln = opt.Listener
	if a.ln == nil {
		if a.ln, err = net.Listen("tcp", cfg.Server.Addr); err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	go func() { a.done <- a.srv.Serve(a.ln) }()
	opt.Logger.Info("edgenome serving", "addr", a.Addr(), "plugins", len(a.reg.Snapshot().List()), "registry", cfg.Registry.Dir)
	return a, nil
}

// Addr is the address the host listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Registry is the plugin registry (tests reload it directly).
func (a *App) Registry() *registry.Registry { return a.reg }

// Done reports the server's end.
func (a *App) Done() <-chan error { return a.done }

// Close stops serving (running calls get until ctx ends), then closes the
// registry and the fetcher. Safe after a partial Start and more than once.
func (a *App) Close(ctx context.Context) error {
	a.closeOnce.Do(func() { a.closeErr = a.close(ctx) })
	return a.closeErr
}

func (a *App) close(ctx context.Context) error {
	var errs []error
	if a.srv != nil {
		errs = append(errs, a.srv.Shutdown(ctx))
	} else if a.ln != nil {
		errs = append(errs, a.ln.Close())
	}
	if a.reg != nil {
		errs = append(errs, a.reg.Close(ctx))
	}
	if a.fetch != nil {
		errs = append(errs, a.fetch.Close())
	}
	return errors.Join(errs...)
}

// Run serves until ctx ends, then shuts down within the configured grace.
func Run(ctx context.Context, cfg *config.Config, opt Options) error {
	a, err := Start(ctx, cfg, opt)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-a.done:
		a.Close(context.Background())
		return err
	}
	a.log.Info("shutting down", "grace", cfg.Server.ShutdownGrace.D())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownGrace.D())
	defer cancel()
	return a.Close(sctx)
}
