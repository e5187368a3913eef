//go:build wasip1

// Command spin is a test plugin for host/internal/preempt: exports that never return on their own
// (a tight loop, loop-free exponential recursion, unbounded recursion) and fixed tight-loop workloads
// for the preemption benchmarks. The input of lcg and bytes is a decimal iteration count.
package main

import (
	"strconv"

	"github.com/extism/go-pdk"
)

func main() {}

var sink uint64

// noop lets a test run the Go runtime's initialisation (go-sdk does it on the first call) outside a
// deadline.
//
//go:wasmexport noop
func noop() int32 { return 0 }

//go:wasmexport spin
func spin() int32 {
	x := uint64(1)
	for x != 0 { // an LCG with full period: 0 comes back only after 2^64 steps
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink = x
	return 0
}

//go:noinline
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

//go:wasmexport fib
func fibExport() int32 {
	sink = uint64(fib(90))
	return 0
}

//go:noinline
func deep(n int) int {
	if n < 0 {
		return 0
	}
	return deep(n+1) + 1
}

//go:wasmexport recurse
func recurse() int32 {
	sink = uint64(deep(0))
	return 0
}

func inputCount() int {
	n, err := strconv.Atoi(pdk.InputString())
	if err != nil {
		pdk.SetError(err)
		return -1
	}
	return n
}

//go:wasmexport lcg
func lcg() int32 {
	n := inputCount()
	if n < 0 {
		return 1
	}
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	pdk.OutputString(strconv.FormatUint(x, 10))
	return 0
}

var buf = make([]byte, 1<<16)

//go:wasmexport bytes
func bytesExport() int32 {
	n := inputCount()
	if n < 0 {
		return 1
	}
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	var h uint32
	for pass := 0; pass < n; pass += len(buf) {
		for _, c := range buf {
			h = h*31 + uint32(c)
		}
	}
	pdk.OutputString(strconv.FormatUint(uint64(h), 10))
	return 0
}
