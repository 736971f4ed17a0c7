/* OpenSSL backend: op groups shared between its files. */
#ifndef DK_OPENSSL_BACKEND_H
#define DK_OPENSSL_BACKEND_H

#include <dtlskit/backend.h>

extern const dk_bk_library_ops dk_ossl_library_ops;

dk_err dk_ossl_hmac_sha256(const void *key, size_t key_len, const dk_bk_iov *parts, size_t nparts,
                           uint8_t out[32]);

#endif
