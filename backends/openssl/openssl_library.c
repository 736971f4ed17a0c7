/* OpenSSL 3 backend: library information, randomness and hashing. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <dtlskit/backend.h>
#include <dtlskit/dtlskit.h>

#include "openssl_backend.h"

static dk_err ossl_init(void)
{
    if (OPENSSL_init_ssl(0, NULL) != 1)
        return DK_ERR_TLS;
    /* Shared objects made once, before any thread uses a session. */
    if (dk_ossl_session_index() < 0 || !dk_ossl_bio_method())
        return DK_ERR_TLS;
    return DK_OK;
}

static const char *ossl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

static uint32_t ossl_caps(void)
{
    return DK_CAP_KEYGEN_RSA | DK_CAP_KEYGEN_EC | DK_CAP_SELF_SIGNED | DK_CAP_CLIENT_AUTH |
           DK_CAP_ENCRYPTED_KEYS | DK_CAP_CHACHA20 | DK_CAP_MTU;
}

static dk_err ossl_random(void *out, size_t len)
{
    return RAND_bytes(out, (int)len) == 1 ? DK_OK : DK_ERR_TLS;
}

static dk_err ossl_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 ? DK_OK : DK_ERR_TLS;
}

const dk_bk_library_ops dk_ossl_library_ops = {
    .size = sizeof(dk_bk_library_ops),
    .init = ossl_init,
    .version = ossl_version,
    .caps = ossl_caps,
    .random = ossl_random,
    .hmac_sha256 = dk_ossl_hmac_sha256,
    .sha256 = ossl_sha256,
    .hmac_sha384 = dk_ossl_hmac_sha384,
};
