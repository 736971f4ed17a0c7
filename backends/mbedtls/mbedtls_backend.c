/* mbedTLS backend: the op table the core links against. */
#include "mbedtls_backend.h"

const struct dk_backend dk_backend_impl = {
    .abi_version = DK_BACKEND_ABI_VERSION,
    .name = "mbedtls",
    .library = &dk_mbed_library_ops,
    .key = &dk_mbed_key_ops,
    .cert = &dk_mbed_cert_ops,
    .ctx = &dk_mbed_ctx_ops,
    .session = &dk_mbed_session_ops,
    .aead = &dk_mbed_aead_ops,
    .crypto = &dk_mbed_crypto_ops,
};
