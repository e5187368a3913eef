package preempt

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// FuzzInstrument: Instrument never panics; when wazero compiles the input, Instrument succeeds (or
// refuses a module that already imports the check) and wazero compiles the output, in both modes; and the output,
// run with a host check that stops after a few calls, computes what the input computes for every
// export without parameters that the input finishes quickly.
func FuzzInstrument(f *testing.F) {
	for _, name := range []string{"features.wasm", "tailcall.wasm", "bare.wasm", "env.wasm"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	// A loop with a parameter and a result around a loop with a br_table to it.
	f.Add([]byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x0a\x02\x60\x00\x01\x7f\x60\x01\x7f\x01\x7f" + // types: () -> i32, (i32) -> i32
		"\x03\x02\x01\x00" + // one function of type 0
		"\x07\x05\x01\x01f\x00\x00" + // export "f"
		"\x0a\x21\x01\x1f\x01\x01\x7f" + // one body, one i32 local
		"\x41\x05" + // i32.const 5
		"\x03\x01" + // loop (type 1): i32 -> i32
		"\x41\x01\x6b\x22\x00" + // i32.const 1; i32.sub; local.tee 0
		"\x03\x40\x02\x40\x20\x00\x0e\x02\x00\x01\x00\x0b\x0b" + // loop; block; local.get 0; br_table 0 1 0; end end
		"\x20\x00\x0d\x00" + // local.get 0; br_if 0
		"\x0b\x0b")) // end end
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfigCompiler().
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesTailCall).
		WithCloseOnContextDone(true). // bounds the original's run time
		WithMemoryLimitPages(64)      // keeps mutated memory sizes cheap
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	f.Cleanup(func() { rt.Close(ctx) })
	if _, err := rt.InstantiateWithConfig(ctx, readTestdata(f, "env.wasm"), wazero.NewModuleConfig().WithName("env")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		if errors.Is(Validate(wasm), errLength) {
			// wazero 1.12 would allocate by the count or length first and could run out of
			// memory: Validate exists to keep such modules away from it.
			return
		}
		orig, cerr := rt.CompileModule(ctx, wasm)
		if cerr == nil {
			defer orig.Close(ctx)
		}
		for _, opt := range runnable([]Options{{Mode: ModeCounter, Interval: 64}, {Mode: ModeEpoch}}) {
			out, err := Instrument(wasm, opt)
			if cerr != nil {
				continue // anything goes for invalid input, except a panic
			}
			if err != nil {
				if errors.Is(err, ErrReserved) {
					return
				}
				t.Fatalf("%s: wazero compiles the input, Instrument fails: %v", opt.Mode, err)
			}
			inst, err := rt.CompileModule(ctx, out)
			if err != nil {
				t.Fatalf("%s: wazero compiles the input, not the output: %v", opt.Mode, err)
			}
			defer inst.Close(ctx)
			if _, err := Instrument(out, opt); !errors.Is(err, ErrReserved) {
				t.Fatalf("%s: instrumenting twice: %v, want ErrReserved", opt.Mode, err)
			}
			compareRuns(t, rt, orig, inst, opt.Mode)
		}
	})
}

// compareRuns runs every export without parameters of orig (for at most 5 ms) and of inst (with a
// host check that stops after 1000 calls in counter mode, or 20 ticks in epoch mode) and fails if an
// export that returns in orig does not return the same results in inst.
func compareRuns(t *testing.T, rt wazero.Runtime, orig, inst wazero.CompiledModule, mode Mode) {
	ctx := context.Background()
	checks, budget := 0, 1000
	if mode == ModeEpoch {
		budget = 20
	}
	w := &watch{}
	defer w.release()
	host, err := rt.NewHostModuleBuilder(ImportModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, mod api.Module, _ []uint64) {
			w.checkIn(mod)
			if checks++; checks > budget {
				panic(errStop)
			}
		}), nil, nil).Export(ImportName).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(ctx)
	mo, err := rt.InstantiateModule(ctx, orig, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return // e.g. an unresolved import or an out-of-bounds data segment: the same in both
	}
	defer mo.Close(ctx)
	mi, err := rt.InstantiateModule(ctx, inst, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		t.Fatalf("the original instantiates, the output does not: %v", err)
	}
	defer mi.Close(ctx)
	for name, def := range orig.ExportedFunctions() {
		if len(def.ParamTypes()) > 0 {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		want, werr := mo.ExportedFunction(name).Call(cctx)
		cancel()
		if mo.IsClosed() {
			return // timed out: the instance is gone
		}
		checks = 0
		got, gerr := mi.ExportedFunction(name).Call(ctx)
		w.release()
		if errors.Is(gerr, errStop) {
			return // ran long: the instance's state is now undefined
		}
		if (werr == nil) != (gerr == nil) || len(want) != len(got) {
			t.Fatalf("export %s: original %v %v, instrumented %v %v", name, want, werr, got, gerr)
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("export %s: original %v, instrumented %v", name, want, got)
			}
		}
	}
}
