/* wolfSSL backend: readable reasons for wolfSSL and wolfCrypt error codes. */
#include "wolfssl_backend.h"

#include <stdio.h>
#include <string.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

void dk_wolf_reason(char *reason, size_t cap, int code, const char *fallback)
{
    if (!reason || !cap)
        return;
    const char *r = code ? wolfSSL_ERR_reason_error_string((unsigned long)code) : NULL;
    if (r && *r && strcmp(r, "unknown error number") != 0)
        snprintf(reason, cap, "%s", r);
    else
        snprintf(reason, cap, "%s", fallback);
    wolfSSL_ERR_clear_error();
}
