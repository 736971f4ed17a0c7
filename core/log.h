/* Internal: logging through the user's callback; silent by default. */
#ifndef DK_CORE_LOG_H
#define DK_CORE_LOG_H

#include <dtlskit/dtlskit.h>

void dk__log(dk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when a message at `level` would reach a callback: lets hot paths skip
 * formatting. */
int dk__log_enabled(dk_log_level level);

#endif
