/* Monotonic time for timers. */
#include "clock.h"

#include <limits.h>
#include <stdatomic.h>
#include <time.h>

/* Test hook: milliseconds added to every reading. Only ever grows, so the
 * clock stays monotonic; relaxed is enough (no other data hangs on it). */
static _Atomic uint64_t offset_ms;

void dk__clock_advance_ms(uint64_t ms)
{
    atomic_fetch_add_explicit(&offset_ms, ms, memory_order_relaxed);
}

/* Test hook: the monotonic and real-time readings while frozen (0: not
 * frozen), in nanoseconds. */
static _Atomic uint64_t frozen_mono_ns, frozen_real_ns;

static uint64_t ns_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void dk__clock_freeze(bool on)
{
    atomic_store(&frozen_mono_ns, on ? ns_of(CLOCK_MONOTONIC) : 0);
    atomic_store(&frozen_real_ns, on ? ns_of(CLOCK_REALTIME) : 0);
}

static void read_clock(clockid_t id, struct timespec *ts)
{
    uint64_t f = atomic_load_explicit(id == CLOCK_MONOTONIC ? &frozen_mono_ns : &frozen_real_ns,
                                      memory_order_relaxed);
    if (!f) {
        clock_gettime(id, ts);
        return;
    }
    ts->tv_sec = (time_t)(f / 1000000000u);
    ts->tv_nsec = (long)(f % 1000000000u);
}

uint64_t dk__now_ms(void)
{
    struct timespec ts;
    read_clock(CLOCK_MONOTONIC, &ts);
    /* +1 so that a real time is never 0, which means "no deadline". */
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + 1u +
           atomic_load_explicit(&offset_ms, memory_order_relaxed);
}

int dk__ms_until(uint64_t deadline, uint64_t now)
{
    if (!deadline)
        return -1;
    if (deadline <= now)
        return 0;
    uint64_t d = deadline - now;
    return d > (uint64_t)INT_MAX ? INT_MAX : (int)d;
}

uint64_t dk__wall_ms(void)
{
    struct timespec ts;
    read_clock(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u +
           atomic_load_explicit(&offset_ms, memory_order_relaxed);
}

uint64_t dk__now_us(void)
{
    struct timespec ts;
    read_clock(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u +
           atomic_load_explicit(&offset_ms, memory_order_relaxed) * 1000u;
}
