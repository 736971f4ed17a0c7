/* mbedTLS backend: the op table the core links against. */
#include "mbedtls_backend.h"

const struct dk_backend dk_backend_impl = {
    .abi_version = DK_BACKEND_ABI_VERSION,
    .name = "mbedtls",
    .library = &dk_mbed_library_ops,
};
