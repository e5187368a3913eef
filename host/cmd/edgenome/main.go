// Command edgenome serves genomics tools as WebAssembly plugins.
//
//	edgenome serve [--config FILE] [--addr HOST:PORT]
//
// Without --config it serves the embedded default (the repository's
// config.yaml).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgenome/edgenome"
	"github.com/edgenome/edgenome/host/app"
	"github.com/edgenome/edgenome/host/config"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: edgenome serve [--config FILE] [--addr HOST:PORT] [--log-level debug|info|warn|error]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	cfgPath := fs.String("config", "", "config file (default: the embedded config.yaml)")
	addr := fs.String("addr", "", "listen address, overriding server.addr")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	fs.Parse(os.Args[2:])

	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(os.Stderr, "edgenome: --log-level:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	var cfg *config.Config
	var err error
	if *cfgPath == "" {
		cfg, err = config.Parse(edgenome.DefaultConfig, "")
	} else {
		cfg, err = config.Load(*cfgPath)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "edgenome:", err)
		os.Exit(1)
	}
	if *addr != "" {
		cfg.Server.Addr = *addr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, app.Options{Logger: log}); err != nil {
		fmt.Fprintln(os.Stderr, "edgenome:", err)
		os.Exit(1)
	}
}
