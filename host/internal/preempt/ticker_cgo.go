//go:build cgo

package preempt

/*
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

// The ticker is a C thread because it must run when Go cannot: while every P runs guest code (which
// the Go scheduler cannot preempt) and during a stop-the-world that waits for those guests. A
// goroutine would be stopped with everything else, and the guests it should wake would then hold the
// world stopped for good.
static pthread_mutex_t tick_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tick_cv = PTHREAD_COND_INITIALIZER;
static uint32_t **tick_slots;
static int tick_cap, tick_high, tick_live, tick_started;
static long tick_ns; // set from TickPeriod by init

static void *tick_loop(void *arg) {
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&tick_mu);
		while (tick_live == 0) pthread_cond_wait(&tick_cv, &tick_mu);
		for (int i = 0; i < tick_high; i++) {
			if (tick_slots[i]) __atomic_store_n(tick_slots[i], 1, __ATOMIC_RELAXED);
		}
		long ns = tick_ns;
		pthread_mutex_unlock(&tick_mu);
		struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

// tick_add registers a flag and returns its slot, or -1 (no memory, no thread).
static int tick_add(uint32_t *flag) {
	int slot = -1;
	pthread_mutex_lock(&tick_mu);
	if (!tick_started) {
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		tick_started = pthread_create(&t, &attr, tick_loop, NULL) == 0;
		pthread_attr_destroy(&attr);
		if (!tick_started) goto out;
	}
	for (int i = 0; i < tick_high; i++) {
		if (!tick_slots[i]) { slot = i; break; }
	}
	if (slot < 0) {
		if (tick_high == tick_cap) {
			int cap = tick_cap ? 2 * tick_cap : 64;
			uint32_t **s = realloc(tick_slots, cap * sizeof *s);
			if (!s) goto out;
			tick_slots = s;
			tick_cap = cap;
		}
		slot = tick_high++;
	}
	tick_slots[slot] = flag;
	if (tick_live++ == 0) pthread_cond_signal(&tick_cv);
out:
	pthread_mutex_unlock(&tick_mu);
	return slot;
}

// tick_del forgets a slot. Once it returns the thread no longer writes that flag: it writes only
// under the lock.
static void tick_del(int slot) {
	pthread_mutex_lock(&tick_mu);
	tick_slots[slot] = NULL;
	tick_live--;
	while (tick_high > 0 && !tick_slots[tick_high - 1]) tick_high--;
	pthread_mutex_unlock(&tick_mu);
}

static void tick_period(long ns) {
	pthread_mutex_lock(&tick_mu);
	tick_ns = ns;
	pthread_mutex_unlock(&tick_mu);
}
*/
import "C"

import (
	"time"
	"unsafe"
)

func init() { SetTickPeriod(TickPeriod) }

// Ticking reports whether this build has the ticker thread that epoch mode needs (it takes cgo).
func Ticking() bool { return true }

// SetTickPeriod changes how often running guests are asked to check in (default TickPeriod).
func SetTickPeriod(d time.Duration) { C.tick_period(C.long(max(d, 10*time.Microsecond))) }

func tickAdd(flag *uint32) int { return int(C.tick_add((*C.uint32_t)(unsafe.Pointer(flag)))) }

func tickDel(slot int) { C.tick_del(C.int(slot)) }
