/* GnuTLS backend: crypto (placeholder until written). */
#include "gnutls_backend.h"

const dk_bk_crypto_ops dk_gnu_crypto_ops = {.size = sizeof(dk_bk_crypto_ops)};
