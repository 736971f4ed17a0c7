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

uint64_t dk__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
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
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u +
           atomic_load_explicit(&offset_ms, memory_order_relaxed);
}

uint64_t dk__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u +
           atomic_load_explicit(&offset_ms, memory_order_relaxed) * 1000u;
}
