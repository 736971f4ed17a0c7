/* OpenSSL backend: the op table the core links against. */
#include "openssl_backend.h"

const struct dk_backend dk_backend_impl = {
    .abi_version = DK_BACKEND_ABI_VERSION,
    .name = "openssl",
    .library = &dk_ossl_library_ops,
};
