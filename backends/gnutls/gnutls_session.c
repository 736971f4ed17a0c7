/* GnuTLS backend: session (placeholder until written). */
#include "gnutls_backend.h"

const dk_bk_session_ops dk_gnu_session_ops = {.size = sizeof(dk_bk_session_ops)};
