/* Internal: the monotonic clock every core timer uses. */
#ifndef DK_CORE_CLOCK_H
#define DK_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds since an arbitrary point, monotonic. */
uint64_t dk__now_ms(void);

/* Microseconds, same clock. */
uint64_t dk__now_us(void);

/* Wall-clock milliseconds since the epoch (moved by the test hook too):
 * for values several processes must agree on, such as ticket key periods. */
uint64_t dk__wall_ms(void);

/* Test hook, internal (not exported from the shared library): moves both
 * readings above forward by `ms`, so that tests can pass cookie rotations
 * and timeouts without sleeping. Forward only, to stay monotonic. */
void dk__clock_advance_ms(uint64_t ms);

/* Test hook, internal: `true` stops the readings above where they are, so
 * that only dk__clock_advance_ms() moves them and a test can assert exact
 * times (a retransmission at +1000 ms, not at +999); `false` lets them run
 * again (a jump forward by the time spent frozen). */
void dk__clock_freeze(bool on);

/* Remaining milliseconds from `now` to `deadline`, clamped to [0, INT_MAX];
 * -1 when deadline is 0 (no timer). */
int dk__ms_until(uint64_t deadline, uint64_t now);

/* The earlier of two deadlines, where 0 means none. */
static inline uint64_t dk__deadline_min(uint64_t a, uint64_t b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    return a < b ? a : b;
}

#endif
