/* GnuTLS backend: library (placeholder until written). */
#include <stdio.h>

#include "gnutls_backend.h"

const dk_bk_library_ops dk_gnu_library_ops = {.size = sizeof(dk_bk_library_ops)};

void dk_gnu_reason(char *reason, size_t cap, const char *what, int err)
{
    if (reason && cap)
        snprintf(reason, cap, "%s: %s", what, gnutls_strerror(err));
}
