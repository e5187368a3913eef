// Test plugin for host/internal/preempt in C (no libc, no imports). Exports () -> i32 functions that
// never return on their own: a tight loop, loop-free exponential recursion, unbounded recursion, and a
// loop around a long straight-line function; plus lcg, a fixed tight-loop workload.
// Build: clang-14 --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o spinc.wasm spin.c

#define EXPORT(name) __attribute__((export_name(name)))

static volatile unsigned sink;

EXPORT("spin") int spin(void) {
	unsigned x = 1;
	for (;;) {
		x = x * 1664525u + 1013904223u;
		if (x == 12345u) // never true often enough to matter; keeps the loop observable
			sink = x;
	}
}

__attribute__((noinline)) static unsigned fib(unsigned n) {
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

EXPORT("fib") int fib_export(void) {
	sink = fib(sink + 90);
	return 0;
}

__attribute__((noinline)) static unsigned deep(unsigned n) {
	if (n == 0xffffffffu) // unreachable in practice: forces a real call chain
		return sink;
	return deep(n + 1) * 3 + sink;
}

EXPORT("recurse") int recurse(void) {
	sink = deep(sink);
	return 0;
}

// STRAIGHT expands to 1024 dependent statements without a branch (about 8000 instructions; clang -O2
// slows down superlinearly beyond that).
#define S1 x = (x * 2654435761u + 1u) ^ (x >> 13);
#define S4 S1 S1 S1 S1
#define S16 S4 S4 S4 S4
#define S64 S16 S16 S16 S16
#define S256 S64 S64 S64 S64
#define S1K S256 S256 S256 S256
#define S4K S1K S1K S1K S1K
#define STRAIGHT S1K

__attribute__((noinline)) static unsigned straight(unsigned x) {
	STRAIGHT
	return x;
}

EXPORT("straight_once") int straight_once(void) {
	return (int)straight(sink + 7);
}

EXPORT("straight_spin") int straight_spin(void) {
	unsigned x = sink;
	for (;;) {
		x = straight(x);
		if (x == 12345u)
			sink = x;
	}
}

EXPORT("lcg") int lcg(void) {
	unsigned x = sink + 1;
	for (unsigned i = 0; i < 50000000u; i++)
		x = x * 1664525u + 1013904223u;
	return (int)(x & 0x7fffffff);
}
