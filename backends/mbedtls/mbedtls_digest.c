/* mbedTLS backend: hashes and HMACs for the public crypto ops
 * (crypto_ops.h), through mbedtls_md. */
#include <mbedtls/md.h>
#include <stdlib.h>

#include "mbedtls_backend.h"

struct dk_bk_md {
    mbedtls_md_context_t ctx;
    bool hmac;
};

mbedtls_md_type_t dk_mbed_md_type(dk_hash_type alg)
{
    switch (alg) {
    case DK_HASH_MD5: return MBEDTLS_MD_MD5;
    case DK_HASH_SHA1: return MBEDTLS_MD_SHA1;
    case DK_HASH_SHA256: return MBEDTLS_MD_SHA256;
    case DK_HASH_SHA384: return MBEDTLS_MD_SHA384;
    case DK_HASH_SHA512: return MBEDTLS_MD_SHA512;
    }
    return MBEDTLS_MD_NONE;
}

void dk_mbed_md_free(dk_bk_md *m)
{
    if (!m)
        return;
    mbedtls_md_free(&m->ctx); /* zeroizes the hash state and the HMAC pads */
    free(m);
}

dk_err dk_mbed_md_create(dk_hash_type alg, const uint8_t *key, size_t key_len, dk_bk_md **out)
{
    /* NULL when the library build lacks the algorithm (MBEDTLS_MD5_C...). */
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(dk_mbed_md_type(alg));
    if (!info)
        return DK_ERR_UNAVAILABLE;
    dk_bk_md *m = calloc(1, sizeof *m);
    if (!m)
        return DK_ERR_NOMEM;
    mbedtls_md_init(&m->ctx);
    m->hmac = key != NULL;
    int rc = mbedtls_md_setup(&m->ctx, info, m->hmac);
    if (rc == 0)
        rc = m->hmac ? mbedtls_md_hmac_starts(&m->ctx, key, key_len) : mbedtls_md_starts(&m->ctx);
    if (rc != 0) {
        dk_mbed_md_free(m);
        return rc == MBEDTLS_ERR_MD_ALLOC_FAILED ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    *out = m;
    return DK_OK;
}

dk_err dk_mbed_md_update(dk_bk_md *m, const uint8_t *data, size_t len)
{
    if (len == 0)
        return DK_OK;
    int rc = m->hmac ? mbedtls_md_hmac_update(&m->ctx, data, len)
                     : mbedtls_md_update(&m->ctx, data, len);
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

dk_err dk_mbed_md_finish(dk_bk_md *m, uint8_t *out)
{
    int rc = m->hmac ? mbedtls_md_hmac_finish(&m->ctx, out) : mbedtls_md_finish(&m->ctx, out);
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}
