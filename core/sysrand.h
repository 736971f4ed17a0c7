/* Internal: random bytes from the kernel, for values that must be
 * unpredictable but are not keys (hash table seeds). Keys and cookie secrets
 * come from the TLS backend's generator. */
#ifndef DK_CORE_SYSRAND_H
#define DK_CORE_SYSRAND_H

#include <stddef.h>

#include <dtlskit/error.h>

dk_err dk__sys_random(void *buf, size_t len);

#endif
