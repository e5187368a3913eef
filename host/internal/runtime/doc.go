// Package runtime runs plugins: one Module per plugin version holds the
// compiled code, a pool of instances prepared ahead of requests, and the
// limits that bound each call (memory, time, concurrency, queue).
//
// An instance's stdout, stdin, stderr and /sources mount are fixed when it
// is created, so each instance carries a small binding whose target is the
// dataplane.Call of the request it serves. By default an instance serves one
// call and is discarded, so no caller's data can reach another; reuse is the
// operator's opt-in. An instance whose call failed is never reused.
//
// Running Wasm cannot be preempted by the Go scheduler, so every module runs
// with wazero's WithCloseOnContextDone: a call past its deadline is stopped
// and its instance closed, and a spinning plugin cannot block the garbage
// collector.
package runtime
