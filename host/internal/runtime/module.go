package runtime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/config"
	"github.com/edgenome/edgenome/host/internal/dataplane"
	"github.com/edgenome/edgenome/host/internal/hostfn"
	"github.com/edgenome/edgenome/host/internal/preempt"
	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// Options are shared by every module of one host.
type Options struct {
	// CacheDir keeps compiled machine code across restarts ("" disables).
	CacheDir string
	Logger   *slog.Logger
	// Stats receives instance counts; may be nil.
	Stats *Stats
	// Instrument rewrites modules for the "instrument" preemption mode.
	// Required unless every plugin uses "wazero".
	Instrument *preempt.Cache
	// UnsafeNoPreemption runs plugins with no way to stop them, for
	// benchmarks that measure what preemption costs. A plugin that spins
	// then freezes the whole host at the next garbage collection.
	UnsafeNoPreemption bool
}

// Stats counts instances across modules (for metrics).
type Stats struct {
	Live   atomic.Int64 // instances existing
	Pooled atomic.Int64 // instances prepared and idle
}

// Module is one compiled plugin version with its instance pool.
type Module struct {
	Name    string
	Version string
	Limits  config.Limits

	compiled *extism.CompiledPlugin
	cache    wazero.CompilationCache
	log      *slog.Logger
	stats    *Stats

	sem     chan struct{} // running calls
	waiting atomic.Int32  // calls in the queue
	ready   chan *instance

	stop     chan struct{}
	wg       sync.WaitGroup
	closeMu  sync.Mutex
	closed   bool
	inflight sync.WaitGroup
}

type instance struct {
	p *extism.Plugin
	b *binding
}

// Helper is a module linked into a plugin: the plugin's main module imports
// its exports by the helper's name (as in an Extism manifest with several
// modules). Each instance of the plugin gets its own instance of each helper,
// with the same stdout, stdin and sources.
type Helper struct {
	Name string
	Wasm []byte
}

// Compile compiles a plugin version and starts preparing instances. The
// first instance is made synchronously so that a module that cannot
// instantiate, or does not speak the ABI, fails here and not in a request.
func Compile(ctx context.Context, name, version string, wasm []byte, helpers []Helper, lim config.Limits, opt Options) (*Module, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Stats == nil {
		opt.Stats = &Stats{}
	}
	rc := wazero.NewRuntimeConfig()
	if !opt.UnsafeNoPreemption && lim.Preempt == config.PreemptWazero {
		// wazero's own preemption: a check on every loop iteration.
		rc = rc.WithCloseOnContextDone(true)
	}
	var mods []extism.Wasm
	for _, h := range helpers {
		if err := checkHelper(h.Wasm); err != nil {
			return nil, fmt.Errorf("compile %s: module %s: %w", name, h.Name, err)
		}
		w, err := prepare(h.Wasm, lim, opt)
		if err != nil {
			return nil, fmt.Errorf("compile %s: module %s: %w", name, h.Name, err)
		}
		mods = append(mods, extism.WasmData{Data: w, Name: h.Name})
	}
	wasm, err := prepare(wasm, lim, opt)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", name, err)
	}
	mods = append(mods, extism.WasmData{Data: wasm, Name: "main"})
	m := &Module{Name: name, Version: version, Limits: lim, log: opt.Logger.With("plugin", name, "version", version), stats: opt.Stats}
	if opt.CacheDir != "" {
		// One cache object per version: a shared one would keep every
		// unloaded version's machine code in memory until the host exits.
		cache, err := wazero.NewCompilationCacheWithDir(opt.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache: %w", err)
		}
		m.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	manifest := extism.Manifest{Wasm: mods}
	compiled, err := extism.NewCompiledPlugin(ctx, manifest, extism.PluginConfig{RuntimeConfig: rc, EnableWasi: true}, hostfn.Functions())
	if err != nil {
		m.closeCache(ctx)
		return nil, fmt.Errorf("compile %s: %w", name, err)
	}
	m.compiled = compiled
	if err := preempt.Install(ctx, compiled); err != nil {
		compiled.Close(ctx)
		m.closeCache(ctx)
		return nil, fmt.Errorf("compile %s: %w", name, err)
	}
	first, err := m.newInstance(ctx)
	if err != nil {
		compiled.Close(ctx)
		m.closeCache(ctx)
		return nil, err
	}
	conc := max(lim.Concurrency, 1)
	warm := 0
	if lim.Warm != nil {
		warm = *lim.Warm
	}
	m.sem = make(chan struct{}, conc)
	pool := max(warm, 1)
	if lim.Reuse != nil && *lim.Reuse {
		// Every running call's instance must find room to come back, or
		// reuse turns into a create per call under load.
		pool = max(pool, conc)
	}
	m.ready = make(chan *instance, pool)
	m.stop = make(chan struct{})
	m.ready <- first
	m.stats.Pooled.Add(1)
	if warm > 0 {
		m.wg.Add(1)
		go m.fill()
	}
	return m, nil
}

// prepare readies one module for compiling in the plugin's preemption mode.
func prepare(wasm []byte, lim config.Limits, opt Options) ([]byte, error) {
	wasm = mergeDataSegments(wasm)
	if opt.UnsafeNoPreemption || lim.Preempt == config.PreemptWazero {
		// The rewriting below would also have refused what wazero's decoder
		// cannot take safely (see preempt.Validate).
		if err := preempt.Validate(wasm); err != nil {
			return nil, err
		}
		return wasm, nil
	}
	// Loops check in with the host (edgenome_preempt.check) when the ticker
	// asks, about every millisecond: that call lets the scheduler and the GC
	// in and ends the call at its deadline, at a fraction of the cost. Every
	// instantiation and call runs under preempt.Guard, which provides the
	// check.
	if opt.Instrument == nil {
		return nil, fmt.Errorf("no instrumenter for preemption mode %q", lim.Preempt)
	}
	w, err := opt.Instrument.Instrument(wasm)
	if err != nil {
		return nil, fmt.Errorf("preemption rewrite: %w", err)
	}
	return w, nil
}

func (m *Module) closeCache(ctx context.Context) {
	if m.cache != nil {
		m.cache.Close(ctx)
	}
}

func (m *Module) newInstance(ctx context.Context) (*instance, error) {
	b := &binding{}
	mc := wazero.NewModuleConfig().
		WithStdout(stdout{b}).WithStdin(stdin{b}).WithStderr(stderr{b}).
		WithFSConfig(wazero.NewFSConfig().WithFSMount(mount{b}, abi.MountDir)).
		// wazero's defaults are fake clocks and a fixed random seed, which
		// would make every "random" seed the same and stall Go's timers.
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(rand.Reader).
		WithEnv(abi.EnvMemoryLimit, strconv.FormatInt(int64(m.Limits.Memory), 10))
	// The limit applies to each memory (the guest's and Extism's own).
	ictx := experimental.WithMemoryAllocator(ctx, &memoryLimiter{limit: uint64(m.Limits.Memory), b: b})
	ictx, done := preempt.Guard(ictx)
	p, err := m.compiled.Instance(ictx, extism.PluginInstanceConfig{ModuleConfig: mc})
	done()
	if err != nil {
		return nil, fmt.Errorf("instantiate %s: %w", m.Name, err)
	}
	m.stats.Live.Add(1)
	inst := &instance{p: p, b: b}
	log := m.log
	p.SetLogger(func(level extism.LogLevel, msg string) {
		log.Log(context.Background(), slogLevel(level), msg)
	})
	// Calling the ABI export initialises the guest runtime now rather than
	// in the first request, and proves the module is an edgenome plugin.
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ictx, done = preempt.Guard(ictx)
	defer done()
	b.bind(nil, nil)
	if !p.FunctionExists(abi.ExportABI) {
		// A plain Extism plugin: its manifest states the ABI, and its guest
		// runtime initialises on the first call instead.
		return inst, nil
	}
	rc, _, err := p.CallWithContext(ictx, abi.ExportABI, nil)
	if err != nil && ctx.Err() != nil {
		// The request that needed this instance went away: not a crash.
		m.discard(inst)
		return nil, ctx.Err()
	}
	if err != nil {
		msg, _ := inst.b.unbind()
		m.discard(inst)
		return nil, fmt.Errorf("%w: %s failed to start: %v %s", ErrCrashed, m.Name, err, strings.TrimSpace(msg))
	}
	if rc != abi.Version {
		m.discard(inst)
		return nil, fmt.Errorf("%w: %s speaks ABI %d, host speaks %d", ErrABI, m.Name, rc, abi.Version)
	}
	return inst, nil
}

func slogLevel(l extism.LogLevel) slog.Level {
	switch l {
	case extism.LogLevelError:
		return slog.LevelError
	case extism.LogLevelWarn:
		return slog.LevelWarn
	case extism.LogLevelInfo:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

func (m *Module) discard(inst *instance) {
	m.stats.Live.Add(-1)
	inst.p.Close(context.Background())
}

// fill keeps warm instances ready so requests do not wait for one.
func (m *Module) fill() {
	defer m.wg.Done()
	for {
		select {
		case <-m.stop:
			return
		default:
		}
		inst, err := m.newInstance(context.Background())
		if err != nil {
			m.log.Error("cannot prepare instance", "err", err)
			select {
			case <-m.stop:
				return
			case <-time.After(time.Second):
			}
			continue
		}
		select {
		case m.ready <- inst:
			m.stats.Pooled.Add(1)
		case <-m.stop:
			m.discard(inst)
			return
		}
	}
}

// acquire waits for a concurrency slot within the queue limits.
func (m *Module) acquire(ctx context.Context) error {
	select {
	case m.sem <- struct{}{}:
		return nil
	default:
	}
	queue := 0
	if m.Limits.Queue != nil {
		queue = *m.Limits.Queue
	}
	if int(m.waiting.Add(1)) > queue {
		m.waiting.Add(-1)
		return ErrBusy
	}
	defer m.waiting.Add(-1)
	t := time.NewTimer(m.Limits.QueueWait.D())
	defer t.Stop()
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-t.C:
		return ErrOverloaded
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Module) instance(ctx context.Context) (*instance, error) {
	select {
	case inst := <-m.ready:
		m.stats.Pooled.Add(-1)
		return inst, nil
	default:
	}
	return m.newInstance(ctx)
}

// Begin registers a request on this version so Close waits for it; false
// means the version is closing and the caller must use a newer snapshot.
func (m *Module) Begin() bool {
	m.closeMu.Lock()
	defer m.closeMu.Unlock()
	if m.closed {
		return false
	}
	m.inflight.Add(1)
	return true
}

// End pairs with a successful Begin.
func (m *Module) End() { m.inflight.Done() }

// Result describes a finished call.
type Result struct {
	// Stderr is what the guest wrote to stderr (bounded).
	Stderr string
	// Queued is how long the call waited for a slot.
	Queued time.Duration
	// Memory is the instance's largest linear memory after the call.
	Memory uint64
}

// Call runs an export with the given JSON input, bound to the data plane c.
// ctx carries the deadline (the plugin's timeout) and the client's
// cancellation. The returned error is nil on success, the plugin's
// *abi.Envelope when it reported a failure, or one of this package's errors.
func (m *Module) Call(ctx context.Context, export string, input []byte, c *dataplane.Call) (Result, error) {
	var res Result
	start := time.Now()
	if err := m.acquire(ctx); err != nil {
		return res, err
	}
	defer func() { <-m.sem }()
	res.Queued = time.Since(start)
	inst, err := m.instance(ctx)
	if err != nil {
		return res, err
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	inst.b.bind(c, cancel)
	gctx, done := preempt.Guard(hostfn.WithServices(cctx, c))
	rc, out, callErr := inst.p.CallWithContext(gctx, export, input)
	done()
	if callErr == nil && rc == 0 && len(out) > 0 {
		// Output set through Extism (as any Extism plugin returns it) follows
		// whatever went to stdout.
		if _, err := c.Write(out); err != nil {
			callErr = err
		}
	}
	stderr, memOver := inst.b.unbind()
	res.Stderr = stderr
	res.Memory = inst.b.memPeak.Load()
	ok := callErr == nil && rc == 0 && memOver == 0
	reuse := ok && m.Limits.Reuse != nil && *m.Limits.Reuse
	if reuse {
		select {
		case m.ready <- inst:
			m.stats.Pooled.Add(1)
		default:
			reuse = false
		}
	}
	if !reuse {
		// Closing takes a while; the client need not wait for it.
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.discard(inst)
		}()
	}
	if ok {
		return res, nil
	}
	if memOver > 0 {
		return res, fmt.Errorf("%w (%s): the plugin asked for %d MiB", ErrMemory, m.Limits.Memory, (memOver+(1<<20)-1)>>20)
	}
	return res, m.classify(ctx, rc, callErr, res.Stderr)
}

func (m *Module) classify(ctx context.Context, rc uint32, err error, stderr string) error {
	if err != nil {
		if env, ok := abi.ParseEnvelope(err.Error()); ok {
			return &env
		}
	}
	if ctx.Err() != nil || preempt.IsPreempted(err) {
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w (%s)", ErrTimeout, m.Limits.Timeout.D())
		}
		return ctx.Err()
	}
	if strings.Contains(stderr, "out of memory") {
		return fmt.Errorf("%w (%s)", ErrMemory, m.Limits.Memory)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%w: exit code %d", ErrCrashed, exit.ExitCode())
	}
	if err == nil {
		return fmt.Errorf("%w: returned %d without an error envelope", ErrCrashed, rc)
	}
	return fmt.Errorf("%w: %v", ErrCrashed, firstLine(err.Error()))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Close stops preparing instances, waits for calls in flight and releases
// the compiled code. Safe to call more than once.
func (m *Module) Close(ctx context.Context) error {
	m.closeMu.Lock()
	if m.closed {
		m.closeMu.Unlock()
		return nil
	}
	m.closed = true
	m.closeMu.Unlock()
	close(m.stop)
	m.inflight.Wait()
	m.wg.Wait()
	for {
		select {
		case inst := <-m.ready:
			m.stats.Pooled.Add(-1)
			m.discard(inst)
			continue
		default:
		}
		break
	}
	err := m.compiled.Close(ctx)
	m.closeCache(ctx)
	return err
}
