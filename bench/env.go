package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgenome/edgenome/host/app"
	"github.com/edgenome/edgenome/host/config"
	"github.com/edgenome/edgenome/internal/pluginbuild"
)

// env holds what suites share: a work folder, built plugins, the repo root.
type env struct {
	quick bool
	root  string
	dir   string
	built map[string]string // source dir -> registry entry folder
	mu    sync.Mutex
}

func newEnv(quick bool) (*env, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(root) == root {
			return nil, fmt.Errorf("go.mod not found")
		}
		root = filepath.Dir(root)
	}
	dir, err := os.MkdirTemp("", "edgenome-bench-")
	if err != nil {
		return nil, err
	}
	return &env{quick: quick, root: root, dir: dir, built: map[string]string{}}, nil
}

func (e *env) close() { os.RemoveAll(e.dir) }

func (e *env) machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s", cpu, runtime.NumCPU(), runtime.Version())
}

// plugin builds a plugin source folder once and returns its entry folder
// and the name to install it under. src may end in "#padN": the plugin
// built with padding(N) and named <name>padN.
func (e *env) plugin(src string) (entry, as string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	dir, pad, _ := strings.Cut(src, "#")
	if p, ok := e.built[src]; ok {
		return p, filepath.Base(p) + pad, nil
	}
	out := filepath.Join(e.dir, "built"+pad)
	s := pluginbuild.Source{Dir: filepath.Join(e.root, dir)}
	if pad != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(pad, "pad"))
		if err != nil {
			return "", "", fmt.Errorf("plugin %s: want #padN", src)
		}
		s.Extra = map[string]string{"zz_benchpad.go": padding(n)}
	}
	name, err := pluginbuild.Build(context.Background(), s, out)
	if err != nil {
		return "", "", err
	}
	e.built[src] = filepath.Join(out, name)
	return e.built[src], name + pad, nil
}

// padding is a Go file for package main whose one function, kept by an
// init, is about 30*n bytes of machine code: built into a plugin, it moves
// the code compiled after it to other addresses. A tight loop's speed
// depends on where its machine code lands (relative to 64-byte lines and
// the branch predictor's tables) by as much as 1.4x, the same code at
// another address; the benchmark measures such loops at several
// placements.
func padding(n int) string {
	var b strings.Builder
	b.WriteString("package main\n\nvar benchPadSink uint64\n\n//go:noinline\nfunc benchPad(x uint64) uint64 {\n")
	for i := range 3 * n {
		fmt.Fprintf(&b, "\tx = x*%d + %d\n\tx ^= x >> %d\n", 2*i+3, i+1, i%13+1)
	}
	b.WriteString("\treturn x\n}\n\nfunc init() { benchPadSink = benchPad(benchPadSink) }\n")
	return b.String()
}

// host starts edgenome with the given plugins and extra config.
type host struct {
	app  *app.App
	base string
}

func (e *env) startHost(cfgYAML string, plugins ...string) (*host, error) {
	return e.startHostWith(app.Options{}, cfgYAML, plugins...)
}

func (e *env) startHostWith(opt app.Options, cfgYAML string, plugins ...string) (*host, error) {
	reg, err := os.MkdirTemp(e.dir, "registry-")
	if err != nil {
		return nil, err
	}
	for _, p := range plugins {
		entry, name, err := e.plugin(p)
		if err != nil {
			return nil, err
		}
		if err := pluginbuild.Copy(entry, filepath.Join(reg, name), name); err != nil {
			return nil, err
		}
	}
	full := fmt.Sprintf("registry: {dir: %q, cache_dir: %q, watch: false}\n", reg, filepath.Join(e.dir, "wazero")) + cfgYAML
	cfg, err := config.Parse([]byte(full), e.dir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	opt.Listener = ln
	opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Start(context.Background(), cfg, opt)
	if err != nil {
		return nil, err
	}
	return &host{app: a, base: "http://" + a.Addr()}, nil
}

func (h *host) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.app.Close(ctx)
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}

// get runs one request and discards the body, returning its size.
func get(url string) (int64, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != 200 {
		return n, fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return n, nil
}

// post sends body and discards the answer.
func post(url string, body []byte) error {
	resp, err := client.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return nil
}

// load sends n requests from c workers and returns the latencies.
func load(url string, c, n int) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, n)
	var next int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= int64(n) {
					return
				}
				t := time.Now()
				if _, err := get(url); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	return lat, time.Since(start), firstErr
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// timeCmd runs a native command and returns its wall time and peak RSS.
// The peak comes from GNU time (Debian package "time"): a child started by
// Go inherits the parent's RSS as its starting ru_maxrss, which would make
// every native tool look as big as the host. Without GNU time the peak is
// reported as 0.
func timeCmd(name string, args []string, stdout io.Writer) (time.Duration, int64, error) {
	return timeCmdIn("", name, args, stdout)
}

// timeCmdIn is timeCmd run in dir ("" for the current one).
func timeCmdIn(dir, name string, args []string, stdout io.Writer) (time.Duration, int64, error) {
	var cmd *exec.Cmd
	gnuTime, err := exec.LookPath("/usr/bin/time")
	rssFile := ""
	if err == nil {
		f, err := os.CreateTemp("", "rss-")
		if err != nil {
			return 0, 0, err
		}
		f.Close()
		rssFile = f.Name()
		defer os.Remove(rssFile)
		cmd = exec.Command(gnuTime, append([]string{"-f", "%M", "-o", rssFile, name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Stdout = stdout
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%s: %v: %s", name, err, stderr.String())
	}
	took := time.Since(start)
	var rss int64
	if rssFile != "" {
		b, _ := os.ReadFile(rssFile)
		kb, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		rss = kb * 1024
	}
	return took, rss, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
