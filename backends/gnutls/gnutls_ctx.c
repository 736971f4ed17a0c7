/* GnuTLS backend: ctx (placeholder until written). */
#include "gnutls_backend.h"

const dk_bk_ctx_ops dk_gnu_ctx_ops = {.size = sizeof(dk_bk_ctx_ops)};
