package preempt

import (
	"context"
	"fmt"

	extism "github.com/extism/go-sdk"
)

// Check decides whether a call that reached a preemption point may go on. It returns nil while ctx is
// live, and once ctx is done an error wrapping ErrPreempted and context.Cause(ctx) (so errors.Is works
// with context.DeadlineExceeded and context.Canceled, or a custom cause).
//
// Check does not call runtime.Gosched: merely returning from Wasm machine code into Go is what lets a
// pending stop-the-world or scheduler preemption request take effect (the first Go function prologue
// honours it), and yielding on every check cost more than it gave in BenchmarkCheck.
func Check(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrPreempted, context.Cause(ctx))
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
