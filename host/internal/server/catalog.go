package server

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/internal/registry"
	"github.com/labstack/echo/v4"
)

type pluginInfo struct {
	Name     string            `json:"name"`
	Version  string            `json:"version"`
	Summary  string            `json:"summary"`
	SHA256   string            `json:"sha256"`
	LoadedAt time.Time         `json:"loaded_at"`
	Exports  []registry.Export `json:"exports"`
	Limits   map[string]any    `json:"limits"`
}

func info(p *registry.Plugin) pluginInfo {
	l := p.Module.Limits
	return pluginInfo{
		Name: p.Manifest.Name, Version: p.Manifest.Version, Summary: p.Manifest.Summary,
		SHA256: p.Manifest.SHA256, LoadedAt: p.LoadedAt, Exports: p.Manifest.Exports,
		Limits: map[string]any{
			"memory": l.Memory.String(), "timeout": l.Timeout.D().String(),
			"max_output": l.MaxOutput.String(), "max_fetch": l.MaxFetch.String(),
			"max_input": l.MaxInput.String(), "concurrency": l.Concurrency, "queue": *l.Queue,
			"queue_wait": l.QueueWait.D().String(),
		},
	}
}

func (s *Server) listPlugins(c echo.Context) error {
	snap := s.reg.Snapshot()
	list := []pluginInfo{}
	for _, p := range snap.List() {
		list = append(list, info(p))
	}
	return c.JSON(http.StatusOK, map[string]any{"plugins": list, "errors": snap.Errors})
}

func (s *Server) getPlugin(c echo.Context) error {
	p, ok := s.reg.Snapshot().Get(c.Param("name"))
	if !ok {
		return newError(CodeNoPlugin, "no plugin named %q", c.Param("name"))
	}
	return c.JSON(http.StatusOK, info(p))
}

type sequence struct {
	Name   string `json:"name"`
	Length int64  `json:"length"`
}

type referenceInfo struct {
	Name      string     `json:"name"`
	Sequences []sequence `json:"sequences"`
	Error     string     `json:"error,omitempty"`
}

// listReferences reads each configured reference's .fai through the block
// cache, so a remote index costs one small range read, once.
func (s *Server) listReferences(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 30*time.Second)
	defer cancel()
	sess := s.fetch.NewSession(ctx, 64<<20)
	defer sess.Close()
	out := []referenceInfo{}
	for _, r := range s.cfg.References {
		ri := referenceInfo{Name: r.Name, Sequences: []sequence{}}
		seqs, err := func() ([]sequence, error) {
			obj, err := sess.Open(ctx, r.Fai, true)
			if err != nil {
				return nil, err
			}
			if obj.Size() > 64<<20 {
				return nil, newError(abi.CodeTooLarge, "index is %d bytes", obj.Size())
			}
			return parseFai(io.NewSectionReader(obj, 0, obj.Size()))
		}()
		if err != nil {
			ri.Error = err.Error()
		} else {
			ri.Sequences = seqs
		}
		out = append(out, ri)
	}
	return c.JSON(http.StatusOK, map[string]any{"references": out})
}

// parseFai reads the name and length columns of a samtools .fai.
func parseFai(r io.Reader) ([]sequence, error) {
	var out []sequence
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimRight(sc.Bytes(), "\r")
		if len(b) == 0 {
			continue
		}
		f := strings.Split(string(b), "\t")
		if len(f) < 5 {
			return nil, newError(abi.CodeBadInput, ".fai line %d: want 5 tab-separated columns, got %d", line, len(f))
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return nil, newError(abi.CodeBadInput, ".fai line %d: bad length %q", line, f[1])
		}
		out = append(out, sequence{Name: f[0], Length: n})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "plugins": len(s.reg.Snapshot().List())})
}
