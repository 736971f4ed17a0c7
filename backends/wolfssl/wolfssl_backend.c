/* wolfSSL backend: the op table the core links against. */
#include "wolfssl_backend.h"

const struct dk_backend dk_backend_impl = {
    .abi_version = DK_BACKEND_ABI_VERSION,
    .name = "wolfssl",
    .library = &dk_wolf_library_ops,
    .key = &dk_wolf_key_ops,
    .cert = &dk_wolf_cert_ops,
    .ctx = &dk_wolf_ctx_ops,
    .session = &dk_wolf_session_ops,
    .aead = &dk_wolf_aead_ops,
    .crypto = &dk_wolf_crypto_ops,
};
