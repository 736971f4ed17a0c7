/* OpenSSL backend: signatures and RSA encryption for the public crypto ops
 * (crypto_ops.h), through EVP_PKEY_sign / verify / encrypt / decrypt on
 * precomputed hashes. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "openssl_backend.h"

static const EVP_MD *sig_md(dk_hash_type alg)
{
    switch (alg) {
    case DK_HASH_SHA256: return EVP_sha256();
    case DK_HASH_SHA384: return EVP_sha384();
    case DK_HASH_SHA512: return EVP_sha512();
    default: return NULL;
    }
}

/* A context for `op` (EVP_PKEY_sign_init...): PKCS#1 v1.5 padding for RSA
 * keys, and the hash named for signatures. */
static EVP_PKEY_CTX *pctx_new(const dk_bk_key *key, int (*init)(EVP_PKEY_CTX *), dk_hash_type alg)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    if (!c || init(c) != 1)
        goto fail;
    if (EVP_PKEY_is_a(key->pkey, "RSA") && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1)
        goto fail;
    if (alg && EVP_PKEY_CTX_set_signature_md(c, sig_md(alg)) != 1)
        goto fail;
    return c;
fail:
    EVP_PKEY_CTX_free(c);
    return NULL;
}

static dk_err ossl_sign(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash,
                        size_t hash_len, uint8_t **sig, size_t *sig_len, char *reason, size_t cap)
{
    if (!sig_md(alg))
        return DK_ERR_UNAVAILABLE;
    EVP_PKEY_CTX *c = pctx_new(key, EVP_PKEY_sign_init, alg);
    size_t n = 0;
    uint8_t *s = NULL;
    if (!c || EVP_PKEY_sign(c, NULL, &n, hash, hash_len) != 1 || !(s = malloc(n)) ||
        EVP_PKEY_sign(c, s, &n, hash, hash_len) != 1) {
        dk_ossl_reason(reason, cap, "signing failed");
        EVP_PKEY_CTX_free(c);
        free(s);
        return DK_ERR_TLS;
    }
    EVP_PKEY_CTX_free(c);
    *sig = s;
    *sig_len = n;
    return DK_OK;
}

static dk_err ossl_verify(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash,
                          size_t hash_len, const uint8_t *sig, size_t sig_len, char *reason,
                          size_t cap)
{
    if (!sig_md(alg))
        return DK_ERR_UNAVAILABLE;
    EVP_PKEY_CTX *c = pctx_new(key, EVP_PKEY_verify_init, alg);
    if (!c) {
        dk_ossl_reason(reason, cap, "cannot set up the verification");
        return DK_ERR_TLS;
    }
    /* 1: valid; 0: not; negative: malformed, which is not valid either. */
    int rc = EVP_PKEY_verify(c, sig, sig_len, hash, hash_len);
    EVP_PKEY_CTX_free(c);
    if (rc != 1) {
        dk_ossl_reason(reason, cap, "");
        return DK_ERR_SIGNATURE;
    }
    return DK_OK;
}

static dk_err ossl_encrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                           size_t *out_len, char *reason, size_t cap)
{
    EVP_PKEY_CTX *c = pctx_new(key, EVP_PKEY_encrypt_init, 0);
    size_t n = 0;
    uint8_t *o = NULL;
    if (!c || EVP_PKEY_encrypt(c, NULL, &n, in, len) != 1 || !(o = malloc(n)) ||
        EVP_PKEY_encrypt(c, o, &n, in, len) != 1) {
        dk_ossl_reason(reason, cap, "encryption failed");
        EVP_PKEY_CTX_free(c);
        free(o);
        return DK_ERR_TLS;
    }
    EVP_PKEY_CTX_free(c);
    *out = o;
    *out_len = n;
    return DK_OK;
}

static dk_err ossl_decrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                           size_t *out_len, char *reason, size_t cap)
{
    EVP_PKEY_CTX *c = pctx_new(key, EVP_PKEY_decrypt_init, 0);
    size_t n = 0;
    uint8_t *o = NULL;
    if (!c || EVP_PKEY_decrypt(c, NULL, &n, in, len) != 1 || !(o = malloc(n ? n : 1)) ||
        EVP_PKEY_decrypt(c, o, &n, in, len) != 1) {
        dk_ossl_reason(reason, cap, "decryption failed");
        EVP_PKEY_CTX_free(c);
        if (o)
            OPENSSL_cleanse(o, n);
        free(o);
        return DK_ERR_TLS;
    }
    EVP_PKEY_CTX_free(c);
    *out = o;
    *out_len = n;
    return DK_OK;
}

const dk_bk_crypto_ops dk_ossl_crypto_ops = {
    .size = sizeof(dk_bk_crypto_ops),
    .md_create = dk_ossl_md_create,
    .md_update = dk_ossl_md_update,
    .md_finish = dk_ossl_md_finish,
    .md_free = dk_ossl_md_free,
    .sign = ossl_sign,
    .verify = ossl_verify,
    .rsa_encrypt = ossl_encrypt,
    .rsa_decrypt = ossl_decrypt,
};
