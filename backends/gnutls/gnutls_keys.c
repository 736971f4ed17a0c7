/* GnuTLS backend: key (placeholder until written). */
#include "gnutls_backend.h"

const dk_bk_key_ops dk_gnu_key_ops = {.size = sizeof(dk_bk_key_ops)};
