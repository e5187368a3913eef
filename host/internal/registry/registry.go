package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgenome/edgenome/host/config"
	"github.com/edgenome/edgenome/host/internal/runtime"
	"github.com/fsnotify/fsnotify"
)

// Plugin is one loaded plugin version.
type Plugin struct {
	Manifest *Manifest
	Module   *runtime.Module
	LoadedAt time.Time

	key string // what makes two loads the same version
}

// Snapshot is an immutable view of the loaded plugins.
type Snapshot struct {
	plugins map[string]*Plugin
	// Errors holds, per registry folder, why it is not loaded.
	Errors map[string]string
}

// Get returns a plugin by name.
func (s *Snapshot) Get(name string) (*Plugin, bool) {
	p, ok := s.plugins[name]
	return p, ok
}

// List returns the plugins sorted by name.
func (s *Snapshot) List() []*Plugin {
	out := make([]*Plugin, 0, len(s.plugins))
	for _, p := range s.plugins {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Manifest.Name < out[j].Manifest.Name })
	return out
}

// LimitsFunc gives a plugin's effective limits from its manifest's own.
type LimitsFunc func(name string, manifest config.Limits) config.Limits

// Registry owns the loaded plugins.
type Registry struct {
	dir    string
	limits LimitsFunc
	opts   runtime.Options
	log    *slog.Logger

	cur     atomic.Pointer[Snapshot]
	mu      sync.Mutex // serialises reloads
	watcher *fsnotify.Watcher
	done    chan struct{}
	wg      sync.WaitGroup
	retired sync.WaitGroup
}

// Debounce is how long the watcher waits after the last change before it
// reloads, so a wasm still being copied is not loaded half-written.
const Debounce = 300 * time.Millisecond

// New loads every valid entry of dir. Broken entries are logged and skipped.
func New(ctx context.Context, dir string, limits LimitsFunc, opts runtime.Options) (*Registry, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	r := &Registry{dir: dir, limits: limits, opts: opts, log: opts.Logger, done: make(chan struct{})}
	r.cur.Store(&Snapshot{plugins: map[string]*Plugin{}, Errors: map[string]string{}})
	r.Reload(ctx)
	return r, nil
}

// Snapshot returns the current snapshot.
func (r *Registry) Snapshot() *Snapshot { return r.cur.Load() }

// Reload rescans the folder: unchanged plugins are kept, changed ones
// recompiled, removed ones retired once their requests end. A plugin whose
// new version fails to load keeps serving its previous version.
func (r *Registry) Reload(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.cur.Load()
	next := &Snapshot{plugins: map[string]*Plugin{}, Errors: map[string]string{}}
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		r.log.Error("registry unreadable; keeping the loaded plugins", "dir", r.dir, "err", err)
		return
	}
	// wazero compiles a module on one thread: compile plugins side by side.
	type result struct {
		p   *Plugin
		err error
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name()[0] != '.' {
			names = append(names, e.Name())
		}
	}
	results := make([]result, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, goruntime.GOMAXPROCS(0))
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := r.load(ctx, name, old)
			results[i] = result{p, err}
		}()
	}
	wg.Wait()
	for i, name := range names {
		p, err := results[i].p, results[i].err
		if err != nil {
			next.Errors[name] = err.Error()
			if prev, ok := old.plugins[name]; ok {
				r.log.Error("plugin update refused; previous version keeps serving", "plugin", name, "err", err)
				next.plugins[name] = prev
			} else {
				r.log.Error("plugin skipped", "plugin", name, "err", err)
			}
			continue
		}
		next.plugins[name] = p
	}
	r.cur.Store(next)
	for name, p := range old.plugins {
		if q, ok := next.plugins[name]; ok && q == p {
			continue
		}
		r.log.Info("plugin version retired", "plugin", name, "version", p.Manifest.Version)
		r.retired.Add(1)
		go func() {
			defer r.retired.Done()
			p.Module.Close(context.Background())
		}()
	}
}

func (r *Registry) load(ctx context.Context, name string, old *Snapshot) (*Plugin, error) {
	dir := filepath.Join(r.dir, name)
	mb, err := os.ReadFile(filepath.Join(dir, "plugin.yaml"))
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(mb)
	if err != nil {
		return nil, err
	}
	if m.Name != name {
		return nil, fmt.Errorf("plugin.yaml: name %q differs from its folder %q", m.Name, name)
	}
	wasmName := m.Wasm
	if wasmName == "" {
		wasmName = name + ".wasm"
	}
	if filepath.Base(wasmName) != wasmName {
		return nil, fmt.Errorf("plugin.yaml: wasm %q must be a file in the plugin's folder", wasmName)
	}
	wasm, err := os.ReadFile(filepath.Join(dir, wasmName))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
		return nil, fmt.Errorf("%s: sha256 is %s, manifest says %s", wasmName, got, m.SHA256)
	}
	var helpers []runtime.Helper
	for _, h := range m.Modules {
		w, err := os.ReadFile(filepath.Join(dir, h.Wasm))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(w)
		if got := hex.EncodeToString(sum[:]); got != h.SHA256 {
			return nil, fmt.Errorf("%s: sha256 is %s, manifest says %s", h.Wasm, got, h.SHA256)
		}
		helpers = append(helpers, runtime.Helper{Name: h.Name, Wasm: w})
	}
	// The manifest holds every module's sha256: it names the version.
	ms := sha256.Sum256(mb)
	key := m.SHA256 + hex.EncodeToString(ms[:])
	if prev, ok := old.plugins[name]; ok && prev.key == key {
		return prev, nil
	}
	start := time.Now()
	lim := r.limits(name, m.Limits)
	mod, err := runtime.Compile(ctx, name, m.Version, wasm, helpers, lim, r.opts)
	if err != nil {
		return nil, err
	}
	r.log.Info("plugin loaded", "plugin", name, "version", m.Version, "exports", len(m.Exports), "took", time.Since(start).Round(time.Millisecond))
	return &Plugin{Manifest: m, Module: mod, LoadedAt: time.Now(), key: key}, nil
}

// Watch reloads on changes under the folder until Close.
func (r *Registry) Watch() error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("registry watch: %w", err)
	}
	if err := w.Add(r.dir); err != nil {
		w.Close()
		return fmt.Errorf("registry watch: %w", err)
	}
	r.watcher = w
	r.addSubdirs()
	r.wg.Add(1)
	go r.watch()
	return nil
}

// addSubdirs watches each plugin folder too: replacing a wasm changes only
// the folder, not the registry's own entries.
func (r *Registry) addSubdirs() {
	entries, _ := os.ReadDir(r.dir)
	for _, e := range entries {
		if e.IsDir() {
			r.watcher.Add(filepath.Join(r.dir, e.Name()))
		}
	}
}

func (r *Registry) watch() {
	defer r.wg.Done()
	var timer <-chan time.Time
	for {
		select {
		case <-r.done:
			return
		case ev, ok := <-r.watcher.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					r.watcher.Add(ev.Name)
				}
			}
			timer = time.After(Debounce)
		case err, ok := <-r.watcher.Errors:
			if !ok {
				return
			}
			r.log.Error("registry watch", "err", err)
		case <-timer:
			timer = nil
			r.Reload(context.Background())
		}
	}
}

// Close stops watching and closes every plugin after its requests end.
func (r *Registry) Close(ctx context.Context) error {
	select {
	case <-r.done:
		return nil
	default:
	}
	close(r.done)
	var errs []error
	if r.watcher != nil {
		errs = append(errs, r.watcher.Close())
	}
	r.wg.Wait()
	r.mu.Lock()
	snap := r.cur.Load()
	r.cur.Store(&Snapshot{plugins: map[string]*Plugin{}, Errors: map[string]string{}})
	r.mu.Unlock()
	for _, p := range snap.plugins {
		errs = append(errs, p.Module.Close(ctx))
	}
	r.retired.Wait()
	return errors.Join(errs...)
}
