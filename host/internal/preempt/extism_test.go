package preempt

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgenome/edgenome/internal/testenv"
	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
)

// The real test plugins are built once per test binary from tests/plugins/spin (Go, wasip1 c-shared)
// and tests/plugins/spinc (C, clang-14) into a temporary directory.
var built struct {
	mu    sync.Mutex
	dir   string
	files map[string][]byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func buildPlugin(t testing.TB, name string, build func(out string) *exec.Cmd) []byte {
	t.Helper()
	built.mu.Lock()
	defer built.mu.Unlock()
	if b, ok := built.files[name]; ok {
		return b
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "preempt-plugins-")
		if err != nil {
			t.Fatal(err)
		}
		built.dir, built.files = dir, map[string][]byte{}
	}
	out := filepath.Join(built.dir, name+".wasm")
	cmd := build(out)
	cmd.Dir = testenv.RepoRoot(t)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	built.files[name] = b
	return b
}

func goPlugin(t testing.TB) []byte {
	goTool := testenv.Tool(t, "go")
	return buildPlugin(t, "spin-go", func(out string) *exec.Cmd {
		cmd := exec.Command(goTool, "build", "-buildmode=c-shared", "-o", out, "./tests/plugins/spin")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		return cmd
	})
}

func cPlugin(t testing.TB) []byte {
	clang := testenv.Tool(t, "clang-14")
	return buildPlugin(t, "spin-c", func(out string) *exec.Cmd {
		return exec.Command(clang, "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-o", out,
			"tests/plugins/spinc/spin.c")
	})
}

type mode int

const (
	modeNone         mode = iota // no preemption at all: a spinning plugin can never be stopped
	modeInstrumented             // Instrument, called under Guard, WithCloseOnContextDone off
	modeCloseOnDone              // wazero's own preemption
)

func (m mode) String() string { return [...]string{"none", "instrumented", "closeOnDone"}[m] }

var (
	compileCaches [3]wazero.CompilationCache
	testCache     = func() *Cache { c, _ := NewCache("", Options{}, 8); return c }()
)

func init() {
	for i := range compileCaches {
		compileCaches[i] = wazero.NewCompilationCache()
	}
}

// newPlugin compiles wasm for mode m and returns one instance; the manifest has no Timeout because
// go-sdk would turn WithCloseOnContextDone on for any Timeout > 0.
func newPlugin(t testing.TB, wasm []byte, m mode) *extism.Plugin {
	t.Helper()
	ctx := context.Background()
	rc := wazero.NewRuntimeConfig().WithCompilationCache(compileCaches[m])
	switch m {
	case modeInstrumented:
		var err error
		if wasm, err = testCache.Instrument(wasm); err != nil {
			t.Fatal(err)
		}
	case modeCloseOnDone:
		rc = rc.WithCloseOnContextDone(true)
	}
	cp, err := extism.NewCompiledPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: wasm}}},
		extism.PluginConfig{EnableWasi: true, RuntimeConfig: rc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m == modeInstrumented {
		if err := Install(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	gctx, done := Guard(ctx)
	p, err := cp.Instance(gctx, extism.PluginInstanceConfig{})
	done()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close(ctx)
		cp.Close(ctx)
	})
	return p
}

// Every never-ending export of both plugins is stopped at its deadline, the error says why, and the
// instance is closed afterwards.
func TestExtismStopsAtDeadline(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for _, tc := range []struct {
		plugin func(testing.TB) []byte
		name   string
		export string
		// trapOK: the export may also end by itself with a trap before the deadline (unbounded recursion).
		trapOK bool
	}{
		{goPlugin, "go", "spin", false},
		{goPlugin, "go", "fib", false},
		{goPlugin, "go", "recurse", true},
		{cPlugin, "c", "spin", false},
		{cPlugin, "c", "fib", false},
		{cPlugin, "c", "straight_spin", false},
		{cPlugin, "c", "recurse", true},
	} {
		t.Run(tc.name+"/"+tc.export, func(t *testing.T) {
			wasm := tc.plugin(t)
			// The best of three calls, so that a loaded machine does not fail the test; each call needs
			// a fresh instance because a stopped one is closed.
			best := time.Hour
			for range 3 {
				p := newPlugin(t, wasm, modeInstrumented)
				if tc.name == "go" { // initialise the Go runtime outside the deadline
					if _, _, err := callGuarded(context.Background(), p, "noop", nil); err != nil {
						t.Fatal(err)
					}
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				deadline, _ := ctx.Deadline()
				_, _, err := callGuarded(ctx, p, tc.export, nil)
				over := time.Since(deadline)
				cancel()
				if err == nil {
					t.Fatalf("%s returned without error", tc.export)
				}
				preempted := IsPreempted(err)
				if !preempted && !tc.trapOK {
					t.Fatalf("%s: %v, want ErrPreempted", tc.export, firstLine(err))
				}
				if preempted && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s: %v does not wrap context.DeadlineExceeded", tc.export, firstLine(err))
				}
				if !preempted {
					over = max(over, 0) // a trap before the deadline is as good as a stop
				} else if _, _, err := callGuarded(context.Background(), p, tc.export, nil); err == nil || !strings.Contains(err.Error(), "closed") {
					t.Errorf("second call on a stopped instance: %v, want module is closed", err)
				}
				t.Logf("ended %v after the deadline: %s", over, firstLine(err))
				best = min(best, over)
			}
			t.Logf("stopped %v after the deadline (best of 3)", best)
			if best > 50*time.Millisecond {
				t.Errorf("stopped %v after the deadline, want <= 50ms", best)
			}
		})
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// While plugins spin, a garbage collection completes and timers fire: the spinning goroutines reach
// the host check often enough for stop-the-world requests. This is checked by order, not by time:
// both must happen before the spinning calls end at their deadline.
func TestExtismGCWhileSpinning(t *testing.T) {
	goWasm, cWasm := goPlugin(t), cPlugin(t)
	const spinners = 3 // more than GOMAXPROCS on the 2-core CI machine
	var plugins []*extism.Plugin
	for i := range spinners {
		plugins = append(plugins, newPlugin(t, [][]byte{goWasm, cWasm}[gcMix(i)], modeInstrumented))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	callsDone := make(chan struct{})
	for _, p := range plugins {
		if p.FunctionExists("noop") {
			if _, _, err := callGuarded(context.Background(), p, "noop", nil); err != nil {
				t.Fatal(err)
			}
		}
		wg.Go(func() { callGuarded(ctx, p, "spin", nil) })
	}
	go func() { wg.Wait(); close(callsDone) }()

	time.Sleep(100 * time.Millisecond) // let the spinners start
	timerFired := make(chan struct{})
	time.AfterFunc(10*time.Millisecond, func() { close(timerFired) })
	gcDone := make(chan struct{})
	go func() {
		for range 3 {
			start := time.Now()
			runtime.GC()
			t.Logf("runtime.GC took %v while %d plugins spin", time.Since(start), spinners)
		}
		close(gcDone)
	}()
	for _, ch := range []chan struct{}{gcDone, timerFired} {
		select {
		case <-ch:
		case <-callsDone:
			t.Fatal("GC or timer only completed after the spinning calls ended")
		}
	}
	select {
	case <-callsDone:
		t.Fatal("the spinning calls ended before their deadline")
	default:
	}
	cancel() // cancellation stops them too
	<-callsDone
}

// The instrumented plugins compute the same outputs as the originals.
func TestExtismSameOutput(t *testing.T) {
	for _, tc := range []struct {
		plugin func(testing.TB) []byte
		name   string
		export string
		input  string
	}{
		{goPlugin, "go", "lcg", "1000003"},
		{goPlugin, "go", "bytes", "1000003"},
		{cPlugin, "c", "lcg", ""},
		{cPlugin, "c", "straight_once", ""},
	} {
		var outs [2]string
		var rcs [2]uint32
		for m := range []mode{modeNone, modeInstrumented} {
			p := newPlugin(t, tc.plugin(t), mode(m))
			rc, out, err := callGuarded(context.Background(), p, tc.export, []byte(tc.input))
			if err != nil {
				t.Fatalf("%s %s (%v): %v", tc.name, tc.export, mode(m), err)
			}
			outs[m], rcs[m] = string(out), rc
		}
		if outs[0] != outs[1] || rcs[0] != rcs[1] {
			t.Errorf("%s %s: original rc %d output %q, instrumented rc %d output %q",
				tc.name, tc.export, rcs[0], outs[0], rcs[1], outs[1])
		}
	}
}

var gcMix = func(i int) int { return i % 2 }

// callGuarded calls an export as the host does, under Guard.
func callGuarded(ctx context.Context, p *extism.Plugin, export string, input []byte) (uint32, []byte, error) {
	ctx, done := Guard(ctx)
	defer done()
	return p.CallWithContext(ctx, export, input)
}
