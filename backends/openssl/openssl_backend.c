/* OpenSSL backend: the op table the core links against. */
#include "openssl_backend.h"

const struct dk_backend dk_backend_impl = {
    .abi_version = DK_BACKEND_ABI_VERSION,
    .name = "openssl",
    .library = &dk_ossl_library_ops,
    .key = &dk_ossl_key_ops,
    .cert = &dk_ossl_cert_ops,
    .ctx = &dk_ossl_ctx_ops,
    .session = &dk_ossl_session_ops,
    .aead = &dk_ossl_aead_ops,
    .crypto = &dk_ossl_crypto_ops,
};
