/* mbedTLS backend: the AEADs of the core's record layer, on mbedTLS's
 * one-shot APIs. The key schedule (and GCM's tables) is built once in
 * create; seal and open neither allocate nor copy. All three APIs work in
 * place (mbedTLS's own record layer decrypts in place), which is why `in`
 * may equal `out`. */
#include <mbedtls/ccm.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/cipher.h>
#include <mbedtls/gcm.h>
#include <stdlib.h>

#include "mbedtls_backend.h"

struct dk_bk_aead {
    dk_bk_aead_alg alg;
    union {
#if defined(MBEDTLS_GCM_C)
        mbedtls_gcm_context gcm;
#endif
#if defined(MBEDTLS_CCM_C)
        mbedtls_ccm_context ccm;
#endif
#if defined(MBEDTLS_CHACHAPOLY_C)
        mbedtls_chachapoly_context chachapoly;
#endif
        char none;
    } u;
};

#define TAG       16
#define CCM_8_TAG 8

static void aead_free(dk_bk_aead *a)
{
    if (!a)
        return;
    switch (a->alg) {
#if defined(MBEDTLS_GCM_C)
    case DK_BK_AES_128_GCM:
    case DK_BK_AES_256_GCM: mbedtls_gcm_free(&a->u.gcm); break;
#endif
#if defined(MBEDTLS_CCM_C)
    case DK_BK_AES_128_CCM_8: mbedtls_ccm_free(&a->u.ccm); break;
#endif
#if defined(MBEDTLS_CHACHAPOLY_C)
    case DK_BK_CHACHA20_POLY1305: mbedtls_chachapoly_free(&a->u.chachapoly); break;
#endif
    default: break;
    }
    free(a);
}

static dk_err aead_create(dk_bk_aead_alg alg, const uint8_t *key, size_t key_len, dk_bk_aead **out)
{
    if (alg < DK_BK_AES_128_GCM || alg > DK_BK_AES_128_CCM_8)
        return DK_ERR_UNAVAILABLE;
    if (key_len != (alg == DK_BK_AES_128_GCM || alg == DK_BK_AES_128_CCM_8 ? 16u : 32u))
        return DK_ERR_TLS;
    dk_bk_aead *a = calloc(1, sizeof *a);
    if (!a)
        return DK_ERR_NOMEM;
    a->alg = alg;
    int ret = MBEDTLS_ERR_CIPHER_FEATURE_UNAVAILABLE;
    switch (alg) {
#if defined(MBEDTLS_GCM_C)
    case DK_BK_AES_128_GCM:
    case DK_BK_AES_256_GCM:
        mbedtls_gcm_init(&a->u.gcm);
        ret = mbedtls_gcm_setkey(&a->u.gcm, MBEDTLS_CIPHER_ID_AES, key, (unsigned)key_len * 8);
        break;
#endif
#if defined(MBEDTLS_CCM_C)
    case DK_BK_AES_128_CCM_8:
        mbedtls_ccm_init(&a->u.ccm);
        ret = mbedtls_ccm_setkey(&a->u.ccm, MBEDTLS_CIPHER_ID_AES, key, (unsigned)key_len * 8);
        break;
#endif
#if defined(MBEDTLS_CHACHAPOLY_C)
    case DK_BK_CHACHA20_POLY1305:
        mbedtls_chachapoly_init(&a->u.chachapoly);
        ret = mbedtls_chachapoly_setkey(&a->u.chachapoly, key);
        break;
#endif
    default: break;
    }
    if (ret != 0) {
        aead_free(a);
        return ret == MBEDTLS_ERR_CIPHER_FEATURE_UNAVAILABLE ? DK_ERR_UNAVAILABLE
               : ret == MBEDTLS_ERR_CIPHER_ALLOC_FAILED      ? DK_ERR_NOMEM
                                                             : DK_ERR_TLS;
    }
    *out = a;
    return DK_OK;
}

static dk_err aead_seal(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    int ret = -1;
    switch (a->alg) {
#if defined(MBEDTLS_GCM_C)
    case DK_BK_AES_128_GCM:
    case DK_BK_AES_256_GCM:
        ret = mbedtls_gcm_crypt_and_tag(&a->u.gcm, MBEDTLS_GCM_ENCRYPT, len, nonce, 12, aad,
                                        aad_len, in, out, TAG, out + len);
        break;
#endif
#if defined(MBEDTLS_CCM_C)
    case DK_BK_AES_128_CCM_8:
        ret = mbedtls_ccm_encrypt_and_tag(&a->u.ccm, len, nonce, 12, aad, aad_len, in, out,
                                          out + len, CCM_8_TAG);
        break;
#endif
#if defined(MBEDTLS_CHACHAPOLY_C)
    case DK_BK_CHACHA20_POLY1305:
        ret = mbedtls_chachapoly_encrypt_and_tag(&a->u.chachapoly, len, nonce, aad, aad_len, in,
                                                 out, out + len);
        break;
#endif
    default: break;
    }
    return ret == 0 ? DK_OK : DK_ERR_TLS;
}

/* The tag follows the ciphertext; decrypting in place leaves it intact. */
static dk_err aead_open(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    int ret = -1;
    switch (a->alg) {
#if defined(MBEDTLS_GCM_C)
    case DK_BK_AES_128_GCM:
    case DK_BK_AES_256_GCM:
        if (len >= TAG)
            ret = mbedtls_gcm_auth_decrypt(&a->u.gcm, len - TAG, nonce, 12, aad, aad_len,
                                           in + len - TAG, TAG, in, out);
        break;
#endif
#if defined(MBEDTLS_CCM_C)
    case DK_BK_AES_128_CCM_8:
        if (len >= CCM_8_TAG)
            ret = mbedtls_ccm_auth_decrypt(&a->u.ccm, len - CCM_8_TAG, nonce, 12, aad, aad_len, in,
                                           out, in + len - CCM_8_TAG, CCM_8_TAG);
        break;
#endif
#if defined(MBEDTLS_CHACHAPOLY_C)
    case DK_BK_CHACHA20_POLY1305:
        if (len >= TAG)
            ret = mbedtls_chachapoly_auth_decrypt(&a->u.chachapoly, len - TAG, nonce, aad, aad_len,
                                                  in + len - TAG, in, out);
        break;
#endif
    default: break;
    }
    return ret == 0 ? DK_OK : DK_ERR_TLS;
}

const dk_bk_aead_ops dk_mbed_aead_ops = {
    .size = sizeof(dk_bk_aead_ops),
    .create = aead_create,
    .seal = aead_seal,
    .open = aead_open,
    .free = aead_free,
};
