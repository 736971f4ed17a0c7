/* Error codes, their descriptions and the per-thread detailed message. */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static _Thread_local char last_error[256];

const char *dk_strerror(dk_err err)
{
    switch (err) {
    case DK_OK: return "success";
    case DK_ERR_INVALID: return "invalid argument";
    case DK_ERR_STATE: return "wrong state for this call";
    case DK_ERR_NOMEM: return "out of memory";
    case DK_ERR_WOULD_BLOCK: return "nothing available now";
    case DK_ERR_TOO_BIG: return "packet too big";
    case DK_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case DK_ERR_RESOLVE: return "cannot resolve host";
    case DK_ERR_SOCKET: return "socket error";
    case DK_ERR_ADDR_IN_USE: return "address in use";
    case DK_ERR_UNAVAILABLE: return "not available in this build";
    case DK_ERR_PARSE: return "malformed input";
    case DK_ERR_PASSWORD: return "missing or wrong password";
    case DK_ERR_IO: return "file input/output error";
    case DK_ERR_TLS: return "TLS library error";
    case DK_ERR_HANDSHAKE: return "handshake failed";
    case DK_ERR_CERT_VERIFY: return "certificate verification failed";
    case DK_ERR_HOSTNAME: return "certificate does not match host name";
    case DK_ERR_TIMEOUT: return "timed out";
    case DK_ERR_CLOSED: return "closed";
    case DK_ERR_QUEUE_FULL: return "queue full";
    case DK_ERR_PERMISSION: return "permission denied";
    case DK_ERR_KEY_MISMATCH: return "key does not match certificate";
    case DK_ERR_INTERNAL: return "internal error";
    case DK_ERR_SIGNATURE: return "signature does not verify";
    }
    return "unknown error";
}

const char *dk_last_error(void)
{
    return last_error;
}

dk_err dk__fail(dk_err err, const char *func, const char *fmt, ...)
{
    int n = snprintf(last_error, sizeof last_error, "%s: ", func);
    if (n < 0 || (size_t)n >= sizeof last_error)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + n, sizeof last_error - (size_t)n, fmt,
              ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    va_end(ap);
    dk__log(DK_LOG_DEBUG, "%s", last_error);
    return err;
}

dk_err dk__errno_to_err(int e)
{
    switch (e) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return DK_ERR_WOULD_BLOCK;
    case EADDRINUSE: return DK_ERR_ADDR_IN_USE;
    case EACCES:
    case EPERM: return DK_ERR_PERMISSION;
    case EMSGSIZE: return DK_ERR_TOO_BIG;
    case ENOMEM:
    case ENOBUFS: return DK_ERR_NOMEM;
    case EINVAL:
    case EAFNOSUPPORT:
    case EADDRNOTAVAIL: return DK_ERR_INVALID;
    default: return DK_ERR_SOCKET;
    }
}
