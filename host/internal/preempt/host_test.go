package preempt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

func TestCheck(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	if err := Check(ctx); err != nil {
		t.Fatalf("live context: %v", err)
	}
	errGone := errors.New("client went away")
	cancel(errGone)
	err := Check(ctx)
	if !errors.Is(err, ErrPreempted) || !errors.Is(err, errGone) || !IsPreempted(err) {
		t.Errorf("cancelled context: %v", err)
	}
	// go-sdk flattens initialisation errors with %v.
	if flat := fmt.Errorf("failed to initialize runtime: %v", err); !IsPreempted(flat) {
		t.Errorf("IsPreempted(%v) = false", flat)
	}
	if IsPreempted(nil) || IsPreempted(errGone) {
		t.Error("IsPreempted is true for an unrelated error")
	}
}

// Install reaches go-sdk's runtime, and the check it adds is a () -> () function there.
func TestInstall(t *testing.T) {
	ctx := context.Background()
	cp, err := extism.NewCompiledPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: readTestdata(t, "bare.wasm")}}},
		extism.PluginConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close(ctx)
	if err := Install(ctx, cp); err != nil {
		t.Fatal(err)
	}
	rt, err := runtimeOf(cp)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Module(ImportModule) == nil {
		t.Fatal("no check module in go-sdk's runtime")
	}
	d, ok := rt.Module(ImportModule).ExportedFunctionDefinitions()[ImportName]
	if !ok {
		t.Fatalf("no %s in the check module", ImportName)
	}
	if len(d.ParamTypes())+len(d.ResultTypes()) != 0 {
		t.Errorf("check has type %v -> %v, want () -> ()", d.ParamTypes(), d.ResultTypes())
	}
	if err := Install(ctx, cp); err == nil {
		t.Error("a second Install succeeded")
	}
}

// Epoch mode works with the wazero in go.mod (flagAddr understands its module context) and is what
// ModeAuto picks in this (cgo) build.
func TestEpochWorks(t *testing.T) {
	if !Ticking() {
		t.Skip("built without cgo: no ticker")
	}
	if err := epochWorks(); err != nil {
		t.Fatal(err)
	}
	if o, err := (Options{}).withDefaults(); err != nil || o.Mode != ModeEpoch {
		t.Errorf("ModeAuto resolved to %v (%v), want epoch", o.Mode, err)
	}
}

// Two rewritten modules under one Guard (a plugin and its helper): each checks in about once per
// tick, not whenever the other one did (the watch followed one module, so each check-in re-armed the
// other's flag and they checked at every loop).
func TestGuardTwoModules(t *testing.T) {
	if !Ticking() {
		t.Skip("no ticker in this build")
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	checks := 0
	_, err := rt.NewHostModuleBuilder(ImportModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, s []uint64) {
			checks++
			hostCheck(ctx, mod, s)
		}), nil, nil).Export(ImportName).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var main api.Module
	for _, name := range []string{"helper", "twomods"} {
		w := mustInstrument(t, readTestdata(t, name+".wasm"), Options{Mode: ModeEpoch})
		if main, err = rt.InstantiateWithConfig(ctx, w, wazero.NewModuleConfig().WithName(name)); err != nil {
			t.Fatal(err)
		}
	}
	const calls = 100_000
	gctx, done := Guard(ctx)
	start := time.Now()
	if _, err := main.ExportedFunction("run").Call(gctx, calls); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	done()
	if limit := 10 + 4*int(took/TickPeriod); checks > limit {
		t.Errorf("%d checks in %v for %d calls into the helper; want at most %d (two modules, one tick each per %v)", checks, took, calls, limit, TickPeriod)
	}
}
