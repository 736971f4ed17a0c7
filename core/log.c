/* The process-wide log callback. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

/* The three settings are read together; a mutex-free snapshot is enough
 * because the callback is documented to be set before other threads run. */
static dk_log_fn log_fn;
static void *log_user;
static atomic_int log_max = -1;

void dk_set_log_callback(dk_log_fn fn, dk_log_level max_level, void *user)
{
    log_fn = fn;
    log_user = user;
    atomic_store(&log_max, fn ? (int)max_level : -1);
}

int dk__log_enabled(dk_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_max, memory_order_relaxed);
}

void dk__log(dk_log_level level, const char *fmt, ...)
{
    if (!dk__log_enabled(level) || !log_fn)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    va_end(ap);
    log_fn(level, line, log_user);
}
