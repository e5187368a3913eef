package preempt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, ok := testModules[name]
	if !ok {
		t.Fatalf("no test module %q", name)
	}
	return b
}

// harness instantiates a module in a fresh wazero runtime that provides testdata/env.wasm as "env" and
// a counting edgenome_preempt.check that fails once stopAfter checks happened (0: never). Its check
// does what the host's does to an epoch-mode flag: clear it, with the ticker setting it again every
// TickPeriod for the duration of a call.
type harness struct {
	rt        wazero.Runtime
	checks    int
	stopAfter int
	// rearm sets an epoch-mode module's flag again after each check, so every test takes the path
	// that calls the check and resumes after it.
	rearm bool
	w     watch
}

var errStop = errors.New("stopped by the test check")

func newHarness(t testing.TB, features api.CoreFeatures) *harness {
	t.Helper()
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfig().WithCoreFeatures(features)
	h := &harness{rt: wazero.NewRuntimeWithConfig(ctx, cfg)}
	t.Cleanup(func() { h.rt.Close(ctx) })
	if _, err := h.rt.InstantiateWithConfig(ctx, readTestdata(t, "env.wasm"), wazero.NewModuleConfig().WithName("env")); err != nil {
		t.Fatal(err)
	}
	_, err := h.rt.NewHostModuleBuilder(ImportModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, _ []uint64) {
			h.w.checkIn(mod)
			h.checks++
			if h.rearm {
				for _, m := range h.w.mods {
					if m.mod == mod && m.flag != nil {
						atomic.StoreUint32(m.flag, 1)
					}
				}
			}
			if h.stopAfter > 0 && h.checks >= h.stopAfter {
				panic(errStop)
			}
		}), nil, nil).Export(ImportName).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) instantiate(t testing.TB, wasm []byte, name string) api.Module {
	t.Helper()
	mod, err := h.rt.InstantiateWithConfig(context.Background(), wasm, wazero.NewModuleConfig().WithName(name))
	if err != nil {
		t.Fatalf("instantiate %s: %v", name, err)
	}
	return mod
}

func (h *harness) call(t testing.TB, mod api.Module, fn string, args ...uint64) ([]uint64, error) {
	t.Helper()
	f := mod.ExportedFunction(fn)
	if f == nil {
		t.Fatalf("no export %q", fn)
	}
	defer h.w.release()
	return f.Call(context.Background(), args...)
}

func mustInstrument(t testing.TB, wasm []byte, opt Options) []byte {
	t.Helper()
	out, err := Instrument(wasm, opt)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Both modes: counter with a tiny interval (checks as often as it can), epoch with the real ticker.
// Without the ticker (a build without cgo) nothing would clear an epoch flag: see runnable.
var testModes = []Options{{Mode: ModeCounter, Interval: 7}, {Mode: ModeEpoch}}

// runnable drops epoch mode from opts where this build has no ticker.
func runnable(opts []Options) []Options {
	if Ticking() {
		return opts
	}
	return opts[:1]
}

func TestInstrumentSameResults(t *testing.T) {
	for _, opt := range runnable(testModes) {
		t.Run(opt.Mode.String(), func(t *testing.T) { testSameResults(t, opt, false) })
		if opt.Mode == ModeEpoch {
			t.Run("epoch-rearmed", func(t *testing.T) { testSameResults(t, opt, true) })
		}
	}
}

// testSameResults compares each function's results before and after instrumenting. rearmed: every
// flag test finds the flag set (epoch mode), so every check runs and the code resumes after it.
func testSameResults(t *testing.T, opt Options, rearmed bool) {
	orig := readTestdata(t, "features.wasm")
	inst := mustInstrument(t, orig, opt)
	cases := []struct {
		fn   string
		args []uint64
		// checks says whether the instrumented call must have reached the host check at least once.
		checks bool
		// rearmed: the least number of checks when every flag test finds the flag set; 0 leaves the
		// case out of that run. Only code whose checks sit on entry or on the jump back (recursion, Go
		// dispatch loops) makes progress then: an ordinary loop tests again at its header right after
		// its check, which is why the check clears the flag as it returns (hostCheck).
		rearmed int
	}{
		{"started", nil, false, 0},
		{"sum", []uint64{1}, false, 0},
		{"sum", []uint64{1000}, true, 0},
		{"nested", []uint64{13, 17}, true, 0},
		{"nested", []uint64{0, 5}, false, 0},
		{"machine", []uint64{0}, false, 0},
		{"machine", []uint64{3}, true, 0},
		{"fact", []uint64{10}, true, 10},
		{"fib", []uint64{15}, true, 1973},
		{"indirect", []uint64{0, 21}, false, 0},
		{"indirect", []uint64{1, 21}, false, 0},
		{"fibpair", []uint64{20}, true, 0},
		{"bytes", []uint64{50}, true, 0},
		{"dead", nil, false, 0},
		{"dispatch", []uint64{1001}, true, 0},
		{"godispatch", []uint64{0, 1000}, true, 1001}, // on entry and at each of 1000 jumps back
		{"godispatch", []uint64{0, 0}, false, 1},
		{"godispatch_pc", []uint64{0, 1000}, true, 1001},
		{"godispatch_brif", []uint64{0, 1000}, true, 0},
		{"godispatch_fwd", []uint64{0, 7}, false, 1},
		{"godispatch_fwd", []uint64{1, 7}, false, 1},
		{"godispatch_fwd", []uint64{2, 7}, false, 1},
	}
	for _, c := range cases {
		if rearmed && c.rearmed == 0 {
			continue
		}
		h := newHarness(t, api.CoreFeaturesV2)
		want, err := h.call(t, h.instantiate(t, orig, "orig"), c.fn, c.args...)
		if err != nil {
			t.Fatalf("%s%v original: %v", c.fn, c.args, err)
		}
		h.rearm = rearmed
		got, err := h.call(t, h.instantiate(t, inst, "inst"), c.fn, c.args...)
		if err != nil {
			t.Fatalf("%s%v instrumented: %v", c.fn, c.args, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s%v: results differ (-original +instrumented):\n%s", c.fn, c.args, diff)
		}
		if c.checks && h.checks == 0 {
			t.Errorf("%s%v: the host check was never called", c.fn, c.args)
		}
		if rearmed && h.checks < c.rearmed {
			t.Errorf("%s%v: %d checks with the flag always set, want at least %d", c.fn, c.args, h.checks, c.rearmed)
		}
	}
}

// The loop body of sum runs exactly n times and sum calls nothing. Each iteration takes w from the
// counter; the iteration that takes it to <= 0 calls the check, which resets it so that the iteration
// still has its w. With interval k*w the check runs at iterations k, 2k, ...: n/k times. w = 16: 13
// instructions in the loop body (with its end) plus the 3 outside it, which are charged to the loop
// because the body opens with it.
func TestInstrumentCheckCount(t *testing.T) {
	orig := readTestdata(t, "features.wasm")
	const w = 16
	// dispatch's loop weighs 34: its longest iteration (the long arm, with the br_table, the loop's end
	// and the 3 instructions outside) rather than all of its 51 instructions.
	const wd = 34
	for _, tc := range []struct {
		fn                string
		interval, n, want int
	}{
		{"sum", 7 * w, 1000, 142}, {"sum", 1000 * w, 999, 0}, {"sum", 1000 * w, 1000, 1},
		{"sum", 1 << 16 * w, 1 << 20, 16},
		{"sum", 1, 10, 10},    // an interval below one iteration's weight: every iteration
		{"sum", w + 1, 10, 5}, // every second iteration
		{"dispatch", 10 * wd, 1000, 100},
		{"dispatch", 10*wd + 1, 1000, 90}, // every 11th iteration
	} {
		h := newHarness(t, api.CoreFeaturesV2)
		mod := h.instantiate(t, mustInstrument(t, orig, Options{Mode: ModeCounter, Interval: uint32(tc.interval)}), "inst")
		if _, err := h.call(t, mod, tc.fn, uint64(tc.n)); err != nil {
			t.Fatal(err)
		}
		if h.checks != tc.want {
			t.Errorf("%s: interval %d, %d iterations: %d checks, want %d", tc.fn, tc.interval, tc.n, h.checks, tc.want)
		}
	}
}

// In epoch mode a Go-shaped dispatch loop checks on entry ("global.get G; i32.eqz; if; else; call F;
// end") and tests the flag on its jumps back ("global.get G; br_if" to the slow path inside the
// loop), and neither on its forward jumps nor at its header. godispatch has one jump of each kind;
// godispatch_pc jumps back with a PC the rewriter cannot read, which is tested too; godispatch_brif
// re-enters its loop with a br_if, so it is instrumented like any loop (a check in its wrapper and a
// header test, "global.get G; if"); godispatch_fwd only jumps forward, so it checks on entry alone.
func TestEpochDispatchShape(t *testing.T) {
	out := mustInstrument(t, readTestdata(t, "features.wasm"), Options{Mode: ModeEpoch})
	for _, tc := range []struct {
		fn                 string
		checks, brIfs, ifs int
	}{
		{"godispatch", 1, 1, 0},
		{"godispatch_pc", 1, 1, 0},
		{"godispatch_brif", 1, 0, 1},
		{"godispatch_fwd", 1, 0, 0},
		{"dispatch", 1, 0, 1}, // no PC local: an ordinary loop
	} {
		body, flag := exportedBody(t, out, tc.fn), flagIndex(t, out)
		get := appendU32([]byte{0x23}, flag)
		checks := bytes.Count(body, append(get[:len(get):len(get)], 0x45, 0x04, 0x40, 0x05, 0x10))
		brIfs := bytes.Count(body, append(get[:len(get):len(get)], 0x0D))
		ifs := bytes.Count(body, append(get[:len(get):len(get)], 0x04, 0x40))
		if checks != tc.checks || brIfs != tc.brIfs || ifs != tc.ifs {
			t.Errorf("%s: %d checks, %d flag tests with br_if and %d with if, want %d, %d and %d",
				tc.fn, checks, brIfs, ifs, tc.checks, tc.brIfs, tc.ifs)
		}
	}
}

// exportedBody returns the code of the function that wasm exports as name.
func exportedBody(t *testing.T, wasm []byte, name string) []byte {
	t.Helper()
	var imports, idx uint32
	found := false
	r := &reader{b: wasm, p: len(wasmHeader)}
	for !r.eof() && r.err == nil {
		id := r.byte()
		sec := &reader{b: r.bytes(r.u32())}
		switch id {
		case secImport:
			for n, i := sec.u32(), uint32(0); i < n && sec.err == nil; i++ {
				sec.name()
				sec.name()
				switch sec.byte() {
				case 0x00:
					sec.u32()
					imports++
				case 0x01:
					sec.skip(1)
					sec.limits()
				case 0x02:
					sec.limits()
				case 0x03:
					sec.skip(2)
				}
			}
		case secExport:
			for n, i := sec.u32(), uint32(0); i < n && sec.err == nil; i++ {
				nm, kind, x := string(sec.name()), sec.byte(), sec.u32()
				if nm == name && kind == 0 {
					idx, found = x, true
				}
			}
		case secCode:
			n := sec.u32()
			for i := uint32(0); i < n && sec.err == nil; i++ {
				b := sec.bytes(sec.u32())
				if found && i == idx-imports {
					return b
				}
			}
		}
	}
	t.Fatalf("no exported function %q (%v)", name, r.err)
	return nil
}

// flagIndex returns the index of the global exported as FlagExport.
func flagIndex(t *testing.T, wasm []byte) uint32 {
	t.Helper()
	r := &reader{b: wasm, p: len(wasmHeader)}
	for !r.eof() && r.err == nil {
		id := r.byte()
		sec := &reader{b: r.bytes(r.u32())}
		if id != secExport {
			continue
		}
		for n, i := sec.u32(), uint32(0); i < n && sec.err == nil; i++ {
			if nm, kind, x := string(sec.name()), sec.byte(), sec.u32(); nm == FlagExport && kind == 0x03 {
				return x
			}
		}
	}
	t.Fatal("no flag export")
	return 0
}

// A check that fails must stop loops, loop-free recursion and tail-call loops alike.
func TestInstrumentStops(t *testing.T) {
	for _, tc := range []struct {
		file     string
		features api.CoreFeatures
		fn       string
		args     []uint64
	}{
		{"features.wasm", api.CoreFeaturesV2, "sum", []uint64{1 << 30}},
		{"features.wasm", api.CoreFeaturesV2, "nested", []uint64{1 << 15, 1 << 15}},
		{"features.wasm", api.CoreFeaturesV2, "fib", []uint64{40}},
		{"features.wasm", api.CoreFeaturesV2, "fibpair", []uint64{1 << 30}},
		{"features.wasm", api.CoreFeaturesV2, "godispatch", []uint64{0, 1 << 30}},
		{"features.wasm", api.CoreFeaturesV2, "godispatch_pc", []uint64{0, 1 << 30}},
		{"features.wasm", api.CoreFeaturesV2, "godispatch_brif", []uint64{0, 1 << 30}},
		{"tailcall.wasm", api.CoreFeaturesV2 | experimental.CoreFeaturesTailCall, "count", []uint64{1 << 30, 0}},
	} {
		for _, opt := range runnable([]Options{{Mode: ModeCounter, Interval: 1000}, {Mode: ModeEpoch}}) {
			h := newHarness(t, tc.features)
			h.stopAfter = 3
			mod := h.instantiate(t, mustInstrument(t, readTestdata(t, tc.file), opt), "inst")
			_, err := h.call(t, mod, tc.fn, tc.args...)
			if !errors.Is(err, errStop) {
				t.Errorf("%s %s%v (%s): got %v, want the check's error", tc.file, tc.fn, tc.args, opt.Mode, err)
			}
		}
	}
}

func TestInstrumentTailCall(t *testing.T) {
	orig := readTestdata(t, "tailcall.wasm")
	h := newHarness(t, api.CoreFeaturesV2|experimental.CoreFeaturesTailCall)
	want, err := h.call(t, h.instantiate(t, orig, "orig"), "count", 100000, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, opt := range runnable([]Options{{Mode: ModeCounter, Interval: 100}, {Mode: ModeEpoch}}) {
		h.checks = 0
		got, err := h.call(t, h.instantiate(t, mustInstrument(t, orig, opt), fmt.Sprint("inst", i)), "count", 100000, 1)
		if err != nil {
			t.Fatal(err)
		}
		if want[0] != got[0] || h.checks == 0 {
			t.Errorf("%s: got %d with %d checks, want %d with some checks", opt.Mode, got[0], h.checks, want[0])
		}
	}
}

// A module without type, import, global or code sections gets them inserted in the mandated order.
func TestInstrumentBare(t *testing.T) {
	for _, opt := range runnable(testModes) {
		t.Run(opt.Mode.String(), func(t *testing.T) { testBare(t, opt) })
	}
}

func testBare(t *testing.T, opt Options) {
	out := mustInstrument(t, readTestdata(t, "bare.wasm"), opt)
	h := newHarness(t, api.CoreFeaturesV2)
	mod := h.instantiate(t, out, "inst")
	if b, ok := mod.Memory().Read(0, 1); !ok || string(b) != "x" {
		t.Errorf("memory[0] = %q, want x", b)
	}
	cm, err := h.rt.CompileModule(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	imports := cm.ImportedFunctions()
	if len(imports) != 1 {
		t.Fatalf("%d imported functions, want 1", len(imports))
	}
	if mod, name, _ := imports[0].Import(); mod != ImportModule || name != ImportName {
		t.Errorf("import %s.%s, want %s.%s", mod, name, ImportModule, ImportName)
	}
	exported := mod.ExportedGlobal(FlagExport) != nil
	if want := opt.Mode == ModeEpoch; exported != want {
		t.Errorf("flag exported: %v, want %v", exported, want)
	}
}

// The name section is renumbered: every exported function keeps its name.
func TestInstrumentNames(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	names := func(wasm []byte) map[string]string {
		cm, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for export, def := range cm.ExportedFunctions() {
			m[export] = def.Name()
		}
		return m
	}
	orig := readTestdata(t, "features.wasm")
	want := names(orig)
	if want["fib"] != "fib" {
		t.Fatalf("testdata lacks names: %v", want)
	}
	if diff := cmp.Diff(want, names(mustInstrument(t, orig, Options{}))); diff != "" {
		t.Errorf("function names differ (-original +instrumented):\n%s", diff)
	}
}

func TestInstrumentErrors(t *testing.T) {
	orig := readTestdata(t, "features.wasm")
	inst := mustInstrument(t, orig, Options{})
	for _, tc := range []struct {
		name string
		in   []byte
		opt  Options
		want error
	}{
		{"twice", inst, Options{}, ErrReserved},
		{"twice, counter", mustInstrument(t, orig, Options{Mode: ModeCounter}), Options{Mode: ModeCounter}, ErrReserved},
		{"counter, then epoch", mustInstrument(t, orig, Options{Mode: ModeCounter}), Options{Mode: ModeEpoch}, ErrReserved},
		{"imports from the reserved module", importing(ImportModule, "other"), Options{}, ErrReserved},
		{"exports the flag", exporting(FlagExport), Options{Mode: ModeEpoch}, ErrReserved},
		{"exports the flag, counter", exporting(FlagExport), Options{Mode: ModeCounter}, ErrReserved},
		{"unknown mode", orig, Options{Mode: 9}, errAny},
		{"empty", nil, Options{}, ErrMalformed},
		{"component", append([]byte("\x00asm\x0d\x00\x01\x00"), orig[8:]...), Options{}, ErrMalformed},
		{"truncated", orig[:len(orig)-3], Options{}, ErrMalformed},
		{"header only", readTestdata(t, "bare.wasm")[:8:8], Options{}, nil},
	} {
		_, err := Instrument(tc.in, tc.opt)
		if tc.want == errAny && err != nil {
			continue
		}
		if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	// An opcode wazero does not know (legacy exception handling's try) is refused, not guessed.
	mod := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // type () -> ()
		"\x03\x02\x01\x00" + // one function
		"\x0a\x07\x01\x05\x00\x06\x40\x0b\x0b") // body: try end end
	if _, err := Instrument(mod, Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("try: got %v, want ErrUnsupported", err)
	}
	if _, err := Instrument(orig, Options{Interval: 1 << 30}); err == nil {
		t.Error("interval 2^30 accepted")
	}
	if !bytes.Equal(orig, readTestdata(t, "features.wasm")) {
		t.Error("Instrument modified its input")
	}
}

// The marker section records the mode, the interval and the original's hash.
func TestInstrumentMarker(t *testing.T) {
	orig := readTestdata(t, "features.wasm")
	out := mustInstrument(t, orig, Options{Mode: ModeCounter, Interval: 300})
	sum, mode, interval, ok := marker(out)
	if !ok || mode != ModeCounter || interval != 300 || sum != sha256Sum(orig) {
		t.Errorf("marker: ok=%v mode=%v interval=%d sum=%x", ok, mode, interval, sum)
	}
	out = mustInstrument(t, orig, Options{Mode: ModeEpoch, Interval: 300})
	if _, mode, interval, ok = marker(out); !ok || mode != ModeEpoch || interval != 0 {
		t.Errorf("marker: ok=%v mode=%v interval=%d, want epoch 0", ok, mode, interval)
	}
}

var errAny = errors.New("any error")

// importing is a module with one function import, mod.name of type () -> ().
func importing(mod, name string) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00")
	imp := appendName(appendName([]byte{1}, mod), name)
	imp = append(imp, 0x00, 0x00)
	return append(appendU32(append(b, secImport), uint32(len(imp))), imp...)
}

// exporting is a module with one i32 global, exported as name.
func exporting(name string) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00\x06\x06\x01\x7f\x00\x41\x00\x0b")
	exp := append(appendName([]byte{1}, name), 0x03, 0x00)
	return append(appendU32(append(b, secExport), uint32(len(exp))), exp...)
}

// Counts and lengths past the end are refused before wazero sees them: its decoder allocates by them
// first (a 15-byte module claiming 2^31 exports took gigabytes). Every line here ran the process out
// of memory in wazero 1.12 or would; Validate must refuse them with errLength (Instrument too, but
// for the name section, which it leaves out).
func TestValidateLengths(t *testing.T) {
	const huge = "\xba\xee\x80\x87\x09" // 2430613306
	for name, wasm := range map[string]string{
		"types":         "\x01\x05" + huge,
		"params":        "\x01\x07\x01\x60" + huge,
		"functions":     "\x03\x05" + huge,
		"tables":        "\x04\x05" + huge,
		"memories":      "\x05\x05" + huge,
		"globals":       "\x06\x05" + huge,
		"exports":       "\x07\x05" + huge,
		"elements":      "\x09\x05" + huge,
		"element items": "\x09\x0a\x01\x00\x41\x00\x0b" + huge,
		"bodies":        "\x0a\x05" + huge,
		"data":          "\x0b\x05" + huge,
		"data bytes":    "\x0b\x0a\x01\x00\x41\x00\x0b" + huge,
		"section":       "\x07\x27" + huge,
		"locals":        "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0a\x01\x08\x01\x80\x80\x80\x80\x04\x7f\x0b",
		"table size":    "\x04\x07\x01\x70\x00\x80\x80\x80\x01",
		"names":         "\x00\x0c\x04name\x01\x05" + huge,
		// wazero reads a section on past its declared end (see errLength).
		"empty section":  "\x04\x00" + huge,
		"count past end": "\x04\x01\x80" + huge,
		// A reserved name does not end the decoding: the counts after it are checked too.
		"after a reserved import": "\x02\x1a\x01\x10edgenome_preempt\x05check\x00\x00" + "\x04\x05" + huge,
		"names after a reserved import": "\x02\x1a\x01\x10edgenome_preempt\x05check\x00\x00" +
			"\x00\x0c\x04name\x01\x05" + huge,
	} {
		err := Validate([]byte("\x00asm\x01\x00\x00\x00" + wasm))
		if !errors.Is(err, errLength) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want a malformed length", name, err)
		}
	}
	if err := Validate(readTestdata(t, "features.wasm")); err != nil {
		t.Errorf("features.wasm: %v", err)
	}
	if err := Validate(mustInstrument(t, readTestdata(t, "features.wasm"), Options{Mode: ModeEpoch})); err != nil {
		t.Errorf("an instrumented module: %v, want nil (ErrReserved is not a decoding error)", err)
	}
}
