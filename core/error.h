/* Internal: error reporting. Every failing public call records a sentence
 * for dk_last_error() through dk__fail(). */
#ifndef DK_CORE_ERROR_H
#define DK_CORE_ERROR_H

#include <dtlskit/error.h>

/* Records "func: message" as the thread's last error and returns `err`. */
dk_err dk__fail(dk_err err, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Stores `err` into an optional constructor out-parameter. */
static inline void dk__set_err(dk_err *out, dk_err err)
{
    if (out)
        *out = err;
}

/* Maps an errno value from a socket call to a dk_err. */
dk_err dk__errno_to_err(int e);

#define DK_FAIL(err, ...) dk__fail((err), __func__, __VA_ARGS__)

#endif
