/* mbedTLS backend: signatures and RSA encryption for the public crypto ops
 * (crypto_ops.h), through mbedtls_pk_sign / verify / encrypt / decrypt with
 * the process-wide DRBG (RSA blinding, ECDSA: deterministic per RFC 6979
 * where the build has MBEDTLS_ECDSA_DETERMINISTIC). RSA keys carry
 * mbedTLS's default padding, PKCS#1 v1.5. */
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls_backend.h"

/* mbedtls_pk_* take a non-const context; RSA private operations update the
 * blinding values under the context's own mutex (MBEDTLS_THREADING_C). */
static mbedtls_pk_context *pk_of(const dk_bk_key *key)
{
    return (mbedtls_pk_context *)&key->pk;
}

/* PKCS#1 v1.5 for RSA keys, whatever padding a key was given. */
static dk_err check_padding(const dk_bk_key *key)
{
    if (mbedtls_pk_get_type(&key->pk) != MBEDTLS_PK_RSA)
        return DK_OK;
    const mbedtls_rsa_context *rsa = mbedtls_pk_rsa(key->pk);
    return rsa->padding == MBEDTLS_RSA_PKCS_V15 ? DK_OK : DK_ERR_UNAVAILABLE;
}

static dk_err mbed_sign(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash,
                        size_t hash_len, uint8_t **sig, size_t *sig_len, char *reason, size_t cap)
{
    if (check_padding(key) != DK_OK)
        return DK_ERR_UNAVAILABLE;
    uint8_t *s = malloc(MBEDTLS_PK_SIGNATURE_MAX_SIZE);
    if (!s)
        return DK_ERR_NOMEM;
    size_t n = 0;
    int rc = mbedtls_pk_sign(pk_of(key), dk_mbed_md_type(alg), hash, hash_len, s, &n,
                             mbedtls_ctr_drbg_random, dk_mbed_drbg());
    if (rc != 0) {
        free(s);
        dk_mbed_reason(rc, "signing failed", reason, cap);
        return DK_ERR_TLS;
    }
    *sig = s;
    *sig_len = n;
    return DK_OK;
}

static dk_err mbed_verify(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash,
                          size_t hash_len, const uint8_t *sig, size_t sig_len, char *reason,
                          size_t cap)
{
    if (check_padding(key) != DK_OK)
        return DK_ERR_UNAVAILABLE;
    /* Any failure is a signature that does not verify, including
     * MBEDTLS_ERR_PK_SIG_LEN_MISMATCH (a valid signature followed by more
     * bytes). */
    int rc = mbedtls_pk_verify(pk_of(key), dk_mbed_md_type(alg), hash, hash_len, sig, sig_len);
    if (rc != 0) {
        dk_mbed_reason(rc, NULL, reason, cap);
        return DK_ERR_SIGNATURE;
    }
    return DK_OK;
}

static dk_err mbed_encrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                           size_t *out_len, char *reason, size_t cap)
{
    if (check_padding(key) != DK_OK)
        return DK_ERR_UNAVAILABLE;
    size_t k = mbedtls_pk_get_len(&key->pk);
    uint8_t *o = malloc(k);
    if (!o)
        return DK_ERR_NOMEM;
    size_t n = 0;
    int rc =
        mbedtls_pk_encrypt(pk_of(key), in, len, o, &n, k, mbedtls_ctr_drbg_random, dk_mbed_drbg());
    if (rc != 0) {
        free(o);
        dk_mbed_reason(rc, "encryption failed", reason, cap);
        return DK_ERR_TLS;
    }
    *out = o;
    *out_len = n;
    return DK_OK;
}

static dk_err mbed_decrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                           size_t *out_len, char *reason, size_t cap)
{
    if (check_padding(key) != DK_OK)
        return DK_ERR_UNAVAILABLE;
    size_t k = mbedtls_pk_get_len(&key->pk);
    uint8_t *o = malloc(k);
    if (!o)
        return DK_ERR_NOMEM;
    size_t n = 0;
    int rc =
        mbedtls_pk_decrypt(pk_of(key), in, len, o, &n, k, mbedtls_ctr_drbg_random, dk_mbed_drbg());
    if (rc != 0) {
        mbedtls_platform_zeroize(o, k);
        free(o);
        dk_mbed_reason(rc, NULL, reason, cap);
        return DK_ERR_TLS;
    }
    *out = o;
    *out_len = n;
    return DK_OK;
}

const dk_bk_crypto_ops dk_mbed_crypto_ops = {
    .size = sizeof(dk_bk_crypto_ops),
    .md_create = dk_mbed_md_create,
    .md_update = dk_mbed_md_update,
    .md_finish = dk_mbed_md_finish,
    .md_free = dk_mbed_md_free,
    .sign = mbed_sign,
    .verify = mbed_verify,
    .rsa_encrypt = mbed_encrypt,
    .rsa_decrypt = mbed_decrypt,
};
