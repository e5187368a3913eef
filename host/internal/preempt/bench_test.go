package preempt

import (
	"context"
	"syscall"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
)

// BenchmarkTightLoop runs tight-loop exports of the test plugins with no preemption at all, with
// Instrument, and with wazero's WithCloseOnContextDone. Compare the modes of one workload:
// instrumented/none is the cost of this package (target <= 1.15).
func BenchmarkTightLoop(b *testing.B) {
	for _, w := range []struct {
		name   string
		plugin func(testing.TB) []byte
		export string
		input  string
	}{
		{"go-lcg", goPlugin, "lcg", "50000000"},
		{"go-bytes", goPlugin, "bytes", "50000000"},
		{"c-lcg", cPlugin, "lcg", ""},
	} {
		for _, m := range []mode{modeNone, modeInstrumented, modeCloseOnDone} {
			b.Run(w.name+"/"+m.String(), func(b *testing.B) {
				p := newPlugin(b, w.plugin(b), m)
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				defer cancel()
				if _, _, err := callGuarded(ctx, p, w.export, []byte(w.input)); err != nil { // runtime init
					b.Fatal(err)
				}
				// The machine is shared: process CPU time is a steadier figure than wall time.
				cpu := processCPU()
				for b.Loop() {
					if _, _, err := callGuarded(ctx, p, w.export, []byte(w.input)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// BenchmarkInstrument rewrites the Go test plugin (a 2.4 MB wasip1 c-shared module).
func BenchmarkInstrument(b *testing.B) {
	wasm := goPlugin(b)
	b.SetBytes(int64(len(wasm)))
	for b.Loop() {
		if _, err := Instrument(wasm, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// processCPU returns the CPU time used by this process in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkHostCheck is one call of the host function's body outside a Guard (no watch to arm): the
// yield and the context test every check pays.
func BenchmarkHostCheck(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	for b.Loop() {
		hostCheck(ctx, nil, nil)
	}
}

// BenchmarkOverhead alternates the original and the instrumented plugin call by call and reports the
// ratio of their fastest runs (CPU time), which is steadier on a shared machine than comparing two
// separate benchmarks.
func BenchmarkOverhead(b *testing.B) {
	for _, w := range []struct {
		name   string
		plugin func(testing.TB) []byte
		export string
		input  string
	}{
		{"go-lcg", goPlugin, "lcg", "20000000"},
		{"go-bytes", goPlugin, "bytes", "20000000"},
		{"c-lcg", cPlugin, "lcg", ""},
	} {
		b.Run(w.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			ps := []*extism.Plugin{newPlugin(b, w.plugin(b), modeNone), newPlugin(b, w.plugin(b), modeInstrumented)}
			best := []int64{1 << 62, 1 << 62}
			for b.Loop() {
				for i, p := range ps {
					cpu := processCPU()
					if _, _, err := callGuarded(ctx, p, w.export, []byte(w.input)); err != nil {
						b.Fatal(err)
					}
					best[i] = min(best[i], processCPU()-cpu)
				}
			}
			b.ReportMetric(float64(best[0])/1e6, "none-ms")
			b.ReportMetric(float64(best[1])/1e6, "instrumented-ms")
			b.ReportMetric(float64(best[1])/float64(best[0]), "ratio")
		})
	}
}
