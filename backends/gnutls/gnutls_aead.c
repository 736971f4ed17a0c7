/* GnuTLS backend: aead (placeholder until written). */
#include "gnutls_backend.h"

const dk_bk_aead_ops dk_gnu_aead_ops = {.size = sizeof(dk_bk_aead_ops)};
