// Package preempt makes Wasm plugins stoppable and GC-safe without wazero's WithCloseOnContextDone,
// by rewriting each module before compilation.
//
// # Why
//
// wazero's machine code is never preempted by the Go scheduler: a guest that loops without calling
// the host cannot be stopped at its deadline and blocks the next stop-the-world, freezing the process.
// WithCloseOnContextDone fixes that by calling into Go at every loop back-edge, which made tight loops
// 8-20x slower here. Instrument instead puts a cheap counter in the code (the idea of wasmtime's fuel):
// every loop iteration and every entry of a function that calls takes a static weight (the size of
// the code it covers) from the counter, and when the count runs out, about every DefaultInterval
// instructions (DefaultInterval), the guest calls the host function edgenome.preempt_check. That call lets the
// scheduler and the garbage collector in and, once the call's context is done, stops the call.
//
// # What is bounded
//
//   - Loops: every iteration is counted, its weight being the loop's body outside nested loops.
//   - Recursion and other call cycles: every function that contains a call counts its entry, so a
//     loop-free recursion (fib) is bounded like a loop. Unbounded recursion also ends with wazero's
//     stack-overflow trap (its stack grows to about 400 MB; growing and unwinding a stack that deep
//     takes tens of ms, which is then the stop latency).
//   - Straight-line code: bounded by the module's size; its weight is charged before it runs.
//   - Small leaves (no loop, no call, at most 32 instructions) are not instrumented; each call
//     instruction is charged 33 instead.
//   - Host functions are not Wasm: they must honour the context themselves.
//   - Single instructions with unbounded cost (memory.fill/copy of up to 4 GiB) are bounded by memory.
//
// # Cost
//
// The counter lives in a function local, so the hot path is a register subtract, compare and branch;
// the host call sits in a wrapper loop outside the hot cycle (see instrs), and weights are longest
// paths, not body sizes (see funcCode). Measured on tight loops (BenchmarkOverhead, fastest of 12-16
// alternating runs, CPU time, 2 shared cores): C LCG 1.00-1.05x (one run 1.18x), Go LCG 1.05-1.21x,
// Go byte loop 1.35-1.55x, against 21-24x for WithCloseOnContextDone (BenchmarkTightLoop). Go is the
// worst case: its Wasm backend runs every loop iteration through the function's dispatch loop, whose
// values wazero keeps in stack slots, so the counter adds a spill and a reload to a ~1 ns iteration.
// Rewriting the 2.4 MB Go test plugin takes 10-13 ms (BenchmarkInstrument); a check 0.4-1.7 µs.
//
// # Use
//
// Rewrite with Instrument (or a Cache), compile the result with go-sdk, pass HostFunction in the host
// functions, and keep Manifest.Timeout at 0 (go-sdk turns WithCloseOnContextDone on for any timeout):
// put the deadline on the context given to Plugin.CallWithContext. A stopped call fails with an error
// for which IsPreempted is true (errors.Is(err, ErrPreempted) and the context's cause), and its
// instance is closed.
//
// # Differences from the original module
//
// The output imports one function (ImportModule.ImportName), defines one global and one local per
// instrumented function, uses a little more stack per frame (a bounded recursion that just fits
// wazero's stack may overflow instead), drops DWARF, source-map and label-name sections, and renumbers
// the name section. Results are otherwise identical (FuzzInstrument compares them).
package preempt

//go:generate sh testdata/gen.sh
