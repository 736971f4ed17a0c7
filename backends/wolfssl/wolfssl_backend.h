/* wolfSSL backend: op groups and shared state between its files. */
#ifndef DK_WOLFSSL_BACKEND_H
#define DK_WOLFSSL_BACKEND_H

#include <wolfssl/options.h>

#include <wolfssl/wolfcrypt/random.h>

#include <dtlskit/backend.h>

extern const dk_bk_library_ops dk_wolf_library_ops;

/* Random bytes from the library-wide generator (locked). */
dk_err dk_wolf_random(void *out, size_t len);

#endif
