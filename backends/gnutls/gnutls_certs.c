/* GnuTLS backend: cert (placeholder until written). */
#include "gnutls_backend.h"

const dk_bk_cert_ops dk_gnu_cert_ops = {.size = sizeof(dk_bk_cert_ops)};
