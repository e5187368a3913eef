package preempt

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Check decides whether a call that reached a preemption point may go on. It returns nil while ctx is
// live, and once ctx is done an error wrapping ErrPreempted and context.Cause(ctx) (so errors.Is works
// with context.DeadlineExceeded and context.Canceled, or a custom cause).
//
// The host function also yields the processor (runtime.Gosched) before calling Check.
func Check(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrPreempted, context.Cause(ctx))
}

// IsPreempted reports whether err comes from a call stopped by the host check. It also recognises the
// message when go-sdk flattened the error chain: Plugin.CallWithContext formats a failure of the guest
// runtime's initialisation (run on the first call of an instance) with %v.
func IsPreempted(err error) bool {
	return err != nil && (errors.Is(err, ErrPreempted) || strings.Contains(err.Error(), ErrPreempted.Error()))
}

// Guard returns the context under which to instantiate and call instrumented modules (compiled with
// Install), and a function to call once that instantiation or call has returned. The context carries
// the call's watch: in epoch mode the first check of the call registers the calling module's flag with
// the ticker, which then sets it every TickPeriod until done is called. Use one Guard per
// instantiation or call, from one goroutine.
//
// The host function edgenome_preempt.check (see Install):
//   - type () -> (); it sees the calling module (wazero passes it), so it also serves a module's start
//     function, before Extism has made a plugin of it.
//   - lets the scheduler and the garbage collector in (runtime.Gosched), clears the flag, and stops
//     the call when ctx is done: the Extism plugin found in ctx (go-sdk puts it there during calls) is
//     closed and the call unwinds with an error wrapping ErrPreempted and the context's cause; later
//     calls on the instance fail with "module is closed". The guest is stopped at an arbitrary point,
//     so its state must never be reused.
//   - under a context that did not come from Guard nothing clears the flag: an epoch-mode module then
//     calls the check at every loop header without making progress until its context is done. It
//     stays stoppable, but such a call never finishes.
func Guard(ctx context.Context) (context.Context, func()) {
	w := &watch{}
	return context.WithValue(ctx, watchKey{}, w), w.release
}

type watchKey struct{}

// watch is the preemption state of one guarded instantiation or call: one entry per module that has
// checked in (a plugin with helper modules runs several under one call). The zero value is ready.
type watch struct {
	mods []watched
	pin  runtime.Pinner
}

type watched struct {
	mod  api.Module
	flag *uint32 // the module's flag global, in wazero's module context; nil if the ticker does not set it
	slot int     // the ticker's slot, when flag is set
}

// checkIn arms the watch for mod on its first check and clears its flag. The modules armed before stay
// armed: releasing one when another checks in would set its flag, and the two would make each other
// check at every loop.
func (w *watch) checkIn(mod api.Module) {
	for i := range w.mods {
		if w.mods[i].mod == mod {
			if f := w.mods[i].flag; f != nil {
				atomic.StoreUint32(f, 0)
			}
			return
		}
	}
	m := watched{mod: mod}
	// A counter-mode module has no flag; anything else would be a wazero change this build does not
	// know: the flag then stays set and every loop checks, which is slow but safe.
	if flag, err := flagAddr(mod); err == nil && Ticking() {
		w.pin.Pin(flag) // unpinned by release, with the others
		if slot := tickAdd(flag); slot >= 0 {
			m.flag, m.slot = flag, slot
			atomic.StoreUint32(flag, 0)
		}
	}
	w.mods = append(w.mods, m)
}

// release stops the ticker for the watched modules and sets their flags again, so that the next call
// of an instance kept for reuse checks in at once and arms its own watch.
func (w *watch) release() {
	for _, m := range w.mods {
		if m.flag != nil {
			tickDel(m.slot)
			atomic.StoreUint32(m.flag, 1)
		}
	}
	w.pin.Unpin()
	w.mods = w.mods[:0]
}

func hostCheck(ctx context.Context, mod api.Module, _ []uint64) {
	// Returning to Go lets a pending stop-the-world in at the next function prologue, but that alone
	// was not enough with more spinning plugins than Ps: runtime.GC took 0.8 s with 3 spinners on
	// GOMAXPROCS=2 and 27 ms with the yield (TestExtismGCWhileSpinning). At one check per TickPeriod
	// of guest work the yield costs next to nothing.
	runtime.Gosched()
	err := Check(ctx)
	if err == nil {
		// The flag is cleared last, as the guest resumes: an ordinary loop tests it again at its
		// header right after its check, so a tick during a long yield would otherwise send it back
		// to the check before it ran an iteration, and again for as long as yields outlast ticks.
		if w, ok := ctx.Value(watchKey{}).(*watch); ok && mod != nil {
			w.checkIn(mod)
		}
		return
	}
	// Like WASI proc_exit: close the instance from inside the call, then unwind. wazero recovers the
	// panic in the call engine and returns err (wrapped with the Wasm stack trace) from the export call.
	if p, ok := ctx.Value(extism.PluginCtxKey("plugin")).(*extism.Plugin); ok {
		_ = p.Close(context.WithoutCancel(ctx))
	} else if mod != nil {
		_ = mod.CloseWithExitCode(context.WithoutCancel(ctx), 1)
	}
	panic(err)
}

// Install provides ImportModule.ImportName to the modules of cp: it instantiates the host module in
// cp's wazero runtime. go-sdk builds its host modules itself and hides the calling module from their
// functions, but the check needs that module (in a start function there is no Extism plugin yet, and
// the flag is the module's own); and wazero links functions only within one runtime (function types
// are numbered per runtime), so the module goes into go-sdk's runtime, reached by reflection.
// TestInstall pins this to the go-sdk version in go.mod.
func Install(ctx context.Context, cp *extism.CompiledPlugin) error {
	rt, err := runtimeOf(cp)
	if err != nil {
		return err
	}
	return installCheck(ctx, rt)
}

// installCheck instantiates the check module ImportModule in rt.
func installCheck(ctx context.Context, rt wazero.Runtime) error {
	_, err := rt.NewHostModuleBuilder(ImportModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostCheck), nil, nil).Export(ImportName).Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("preempt: install the check: %w", err)
	}
	return nil
}

func runtimeOf(cp *extism.CompiledPlugin) (wazero.Runtime, error) {
	v := reflect.ValueOf(cp)
	if cp == nil || v.Elem().Kind() != reflect.Struct {
		return nil, errors.New("preempt: no compiled plugin")
	}
	f := v.Elem().FieldByName("runtime")
	if !f.IsValid() || f.Kind() != reflect.Interface || f.IsNil() {
		return nil, errors.New("preempt: this go-sdk keeps no wazero runtime in CompiledPlugin.runtime")
	}
	rt, ok := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(wazero.Runtime)
	if !ok {
		return nil, fmt.Errorf("preempt: CompiledPlugin.runtime is a %s", f.Type())
	}
	return rt, nil
}

// TickPeriod is how often, by default, the ticker asks each running guest to check in (epoch mode):
// it bounds how late a call stops after its deadline and how long a garbage collection waits for a
// spinning guest. A check costs about a microsecond, so this is ~0.1% of a guest's time.
const TickPeriod = time.Millisecond
