// Package preempt makes Wasm plugins stoppable and GC-safe without wazero's WithCloseOnContextDone,
// by rewriting each module before compilation.
//
// # Why
//
// wazero's machine code is never preempted by the Go scheduler: a guest that loops without calling
// the host cannot be stopped at its deadline and blocks the next stop-the-world, freezing the process.
// WithCloseOnContextDone fixes that by calling into Go at every loop back-edge, which made tight loops
// 17-23x slower here. Instrument instead puts a cheap test at every loop header and at the entry of
// every function that calls (so that loop-free recursion is bounded too); when the test says so, the
// guest calls the host function edgenome_preempt.check, which lets the scheduler and the garbage
// collector in and, once the call's context is done, stops the call. Validate runs the same decoding
// for modules that are not rewritten: wazero 1.12 allocates vectors by their declared counts before
// reading them, so a 15-byte module can run the host out of memory.
//
// # Two modes
//
//   - Epoch (the default; the idea of wasmtime's epoch interruption): the test reads a flag global the
//     module exports (FlagExport) and branches: one load, no store. A C thread, the ticker, sets the
//     flag of every running call every TickPeriod (1 ms); the check clears it. The ticker is C
//     because it must run when no goroutine can: while every P runs guest code, and during a
//     stop-the-world that is waiting for those guests. It writes into wazero's module context, found
//     by reflection (flagAddr); a self-test at first use falls back to counter mode if that ever
//     fails, and builds without cgo use counter mode.
//   - Counter (the idea of wasmtime's fuel): every loop iteration and every entry of a function that
//     calls take a static weight (the size of the code they cover) from a counter in a local, and the
//     guest calls the host when about DefaultInterval instructions are used up. It needs nothing from
//     the host but the check, but the count is a load, a subtract and a store on every iteration in
//     Go code, where wazero keeps it in a stack slot.
//
// # What is bounded
//
//   - Loops: every iteration is tested. Go's Wasm backend routes every jump of a function, forward or
//     back, through one dispatch loop (set the resume PC, branch to the loop, br_table to the block);
//     in epoch mode such a loop is tested on its jumps back only, not at its header nor on its
//     forward jumps, and a set flag branches to a block inside the loop around its body, which calls
//     the check and re-enters the loop with the PC the jump set: the hot path is a load and a branch
//     not taken (see dispatch and instrs). A Go function that only jumps forward cannot loop and is
//     tested on entry alone.
//   - Recursion and other call cycles: every function that contains a call tests its entry, unless a
//     loop header comes first and tests every entry anyway; Go functions test before their dispatch
//     loop. So a loop-free recursion (fib) is bounded like a loop. Unbounded recursion also ends
//     with wazero's stack-overflow trap (its stack grows to about 400 MB; growing and unwinding a
//     stack that deep takes tens of ms, which is then the stop latency).
//   - Progress: the check clears the flag as it returns, and in Go functions code always runs
//     between a check and the next test, so a check that outlasts a tick does not send the guest
//     straight back to it.
//   - Straight-line code: bounded by the module's size.
//   - Start functions run under the same checks: the check sees the calling module itself (Install).
//   - Host functions are not Wasm: they must honour the context themselves.
//   - Single instructions with unbounded cost (memory.fill/copy of up to 4 GiB) are bounded by memory.
//
// # Cost
//
// Measured with `go run ./bench -only preempt` (one call over HTTP, best of 5, modes alternating) and
// BenchmarkOverhead (fastest of 15 alternating calls, CPU time): see README "Measured" for the
// current table. The figures vary with code placement: the same loop measured 0.72x to 1.4x of the
// original across builds, because the inserted code moves everything after it; the benchmark
// therefore measures every plugin at four placements (padding code compiled in before it) and
// reports geometric means.
//
// Where the check's call sits matters more than the tests: wazero's register allocator starts a block
// with several predecessors from the state at the end of the first one it meets, and values live
// across a call are spilled where they are defined. So the call goes where neither reaches the hot
// path: in the else arm of the entry test (in the then arm, one check before the main loop of
// wgsim's pairs(), a function entered a few times per request, made the whole request 1.09x slower),
// and for the jumps back in a block of its own inside the dispatch loop (a wrapper loop around it
// made wgsim 1.16-1.18x; the call inline at each jump back made a Go byte loop 1.38x).
// A check costs about a microsecond; with epoch mode a call checks in about 1,000 times a second, so
// a call stops within ~1 ms of its deadline and a garbage collection waits ~1 ms per spinning guest.
// Rewriting the 2.4 MB Go test plugin in epoch mode takes 16-24 ms (BenchmarkInstrument; about a
// quarter of it the pre-scan of Go functions for the dispatch shape and their jumps back), once per
// version: it is cached.
//
// # Use
//
// Rewrite with Instrument (or a Cache), compile the result with go-sdk, call Install on the compiled
// plugin, and keep Manifest.Timeout at 0 (go-sdk turns WithCloseOnContextDone on for any timeout).
// Instantiate and call under Guard, with the deadline on the context. A stopped call fails with an
// error for which IsPreempted is true (errors.Is(err, ErrPreempted) and the context's cause), and its
// instance is closed.
//
// # Differences from the original module
//
// The output imports one function (ImportModule.ImportName) and defines one global (exported as
// FlagExport in epoch mode; in counter mode internal, plus one local per instrumented function), uses
// a little more stack per frame in counter mode (a bounded recursion that just fits wazero's stack
// may overflow instead), drops DWARF, source-map and label-name sections, and renumbers the name
// section. Results are otherwise identical (FuzzInstrument compares them in both modes).
package preempt

//go:generate sh testdata/gen.sh
