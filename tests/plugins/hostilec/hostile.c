// Hostile test plugin in C (no libc): it spins, exits through WASI
// proc_exit, and (built with -DBADIMPORT) imports a host function the host
// does not have; built with -DHELPER its export helper_spin calls spin in a
// helper module, and built with -DSPINNER it is that helper (spin only). It
// speaks the ABI only as far as the host checks it: the ABI export, and
// exports returning 0 for success.
// Build: clang-14 --target=wasm32-wasi -O2 -nostdlib -Wl,--no-entry -o hostilec.wasm hostile.c

#define EXPORT(name) __attribute__((export_name(name)))

static volatile unsigned sink;

EXPORT("spin") int spin(void) {
	unsigned x = 1;
	for (;;) {
		x = x * 1664525u + 1013904223u;
		if (x == 12345u)
			sink = x;
	}
}

#ifndef SPINNER
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_exit")))
_Noreturn void proc_exit(int code);

#ifdef BADIMPORT
__attribute__((import_module("edgenome"), import_name("no_such_function")))
int no_such_function(int);
#endif

EXPORT("edgenome_abi") int abi(void) { return 1; }

EXPORT("noop") int noop(void) {
#ifdef BADIMPORT
	return no_such_function(0);
#else
	return 0;
#endif
}

EXPORT("exit") int exit_export(void) { proc_exit(7); }

#ifdef HELPER
__attribute__((import_module("spinner"), import_name("spin")))
int spinner_spin(void);

EXPORT("helper_spin") int helper_spin(void) { return spinner_spin(); }
#endif
#endif
