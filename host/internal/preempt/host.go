package preempt

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	extism "github.com/extism/go-sdk"
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

// HostFunction returns the Extism host function ImportModule.ImportName that instrumented modules
// import. Pass it in the host-function list of extism.NewCompiledPlugin (or NewPlugin) together with any
// other functions; go-sdk groups functions by namespace, so other "edgenome" functions may sit beside it.
//
// preempt_check: lets the scheduler and the garbage collector in, and stops the call when its context
// is done.
//   - parameters: none; results: none (type () -> ()).
//   - ctx: the context given to Plugin.CallWithContext (go-sdk passes it through).
//   - error: when the context is done, the plugin instance is closed and the call unwinds with an error
//     wrapping ErrPreempted and the context's cause; later calls on the instance fail with "module is
//     closed". The guest is stopped at an arbitrary point, so its state must never be reused.
func HostFunction() extism.HostFunction {
	f := extism.NewHostFunctionWithStack(ImportName, hostCheck, nil, nil)
	f.SetNamespace(ImportModule)
	return f
}

func hostCheck(ctx context.Context, _ *extism.CurrentPlugin, _ []uint64) {
	// Returning to Go lets a pending stop-the-world in at the next function prologue, but that alone
	// was not enough with more spinning plugins than Ps: runtime.GC took 0.8 s with 3 spinners on
	// GOMAXPROCS=2 and 27 ms with the yield (TestExtismGCWhileSpinning). At one check per ~1 ms of
	// guest work the yield costs next to nothing.
	runtime.Gosched()
	err := Check(ctx)
	if err == nil {
		return
	}
	// Like WASI proc_exit: close the instance from inside the call, then unwind. wazero recovers the
	// panic in the call engine and returns err (wrapped with the Wasm stack trace) from the export call.
	if p, ok := ctx.Value(extism.PluginCtxKey("plugin")).(*extism.Plugin); ok {
		_ = p.Close(context.WithoutCancel(ctx))
	}
	panic(err)
}
