/* GnuTLS backend: the op table the core links against. */
#include "gnutls_backend.h"

const struct dk_backend dk_backend_impl = {
    .abi_version = DK_BACKEND_ABI_VERSION,
    .name = "gnutls",
    .library = &dk_gnu_library_ops,
    .key = &dk_gnu_key_ops,
    .cert = &dk_gnu_cert_ops,
    .ctx = &dk_gnu_ctx_ops,
    .session = &dk_gnu_session_ops,
    .aead = &dk_gnu_aead_ops,
    .crypto = &dk_gnu_crypto_ops,
};
