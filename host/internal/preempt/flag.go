package preempt

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

var errNoFlag = errors.New("preempt: module has no flag global")

// flagAddr returns where wazero keeps mod's flag global, so that the ticker thread can set it
// without going through Go. wazero 1.12's compiler keeps a module's globals in its module context
// (moduleEngine.opaque, a []byte that the machine code addresses directly); no API exposes it, so it
// is reached by reflection and the slot is located by writing two markers through the API. Any
// surprise (another engine, another layout) is an error, and the caller then leaves the flag set,
// which is slow but still stoppable. TestEpochWorks pins this to the wazero version in go.mod.
func flagAddr(mod api.Module) (*uint32, error) {
	g, ok := mod.ExportedGlobal(FlagExport).(api.MutableGlobal)
	if !ok || g.Type() != api.ValueTypeI32 {
		return nil, errNoFlag
	}
	ctxBytes, err := moduleContext(mod)
	if err != nil {
		return nil, err
	}
	old := g.Get()
	defer g.Set(old)
	at := -1
	for i, v := range []uint64{0x5eed_f1a6, 0xa51c_0de5} {
		g.Set(v)
		n, last := 0, -1
		for off := 0; off+4 <= len(ctxBytes); off += 4 {
			if *(*uint32)(unsafe.Pointer(&ctxBytes[off])) == uint32(v) && (i == 0 || off == at) {
				n, last = n+1, off
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("preempt: flag global found %d times in the module context", n)
		}
		at = last
	}
	return (*uint32)(unsafe.Pointer(&ctxBytes[at])), nil
}

// moduleContext returns the bytes of mod's wazero module context: mod is a *wasm.ModuleInstance whose
// Engine is the compiler's *moduleEngine, holding the context in its field opaque.
func moduleContext(mod api.Module) ([]byte, error) {
	v := reflect.ValueOf(mod)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("preempt: module is a %T", mod)
	}
	e := v.Elem().FieldByName("Engine")
	if !e.IsValid() || e.Kind() != reflect.Interface || e.IsNil() || e.Elem().Kind() != reflect.Pointer {
		return nil, fmt.Errorf("preempt: no compiler engine in %T", mod)
	}
	me := e.Elem()
	if me.IsNil() || me.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("preempt: engine is a %s", me.Type())
	}
	o := me.Elem().FieldByName("opaque")
	if !o.IsValid() || o.Kind() != reflect.Slice || o.Type().Elem().Kind() != reflect.Uint8 || o.Len() == 0 {
		return nil, fmt.Errorf("preempt: no module context in %s", me.Type())
	}
	return unsafe.Slice((*byte)(o.UnsafePointer()), o.Len()), nil
}

var epochOnce struct {
	sync.Once
	err error
}

// epochWorks tells whether epoch mode can run here: the ticker exists and flagAddr finds the flag of
// a module in this wazero. ModeAuto uses it to choose, so that a wazero upgrade that moves the
// globals degrades to counter mode instead of to checks that never clear.
func epochWorks() error {
	epochOnce.Do(func() { epochOnce.err = selfTest() })
	return epochOnce.err
}

func selfTest() error {
	if !Ticking() {
		return errors.New("preempt: no ticker thread in this build (cgo is off)")
	}
	wasm, err := Instrument(wasmHeader, Options{Mode: ModeEpoch})
	if err != nil {
		return err
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if err := installCheck(ctx, rt); err != nil {
		return err
	}
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		return err
	}
	flag, err := flagAddr(mod)
	if err != nil {
		return err
	}
	g := mod.ExportedGlobal(FlagExport)
	for _, v := range []uint32{0, 1, 7} {
		atomic.StoreUint32(flag, v)
		if got := g.Get(); got != uint64(v) {
			return fmt.Errorf("preempt: wrote %d to the flag, wazero reads %d", v, got)
		}
	}
	return nil
}
