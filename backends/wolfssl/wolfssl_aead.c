/* wolfSSL backend: AEAD primitives for the core's record layer.
 *
 * In place (in == out) needs no copy: wolfCrypt's C code (Debian's build
 * has no AES-NI) reads each block before it writes it, and authenticates
 * the ciphertext before decrypting (GCM, ChaCha20-Poly1305) or the
 * plaintext it wrote (CCM). Checked against OpenSSL in place and not. */
#include "wolfssl_backend.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

struct dk_bk_aead {
    dk_bk_aead_alg alg;
    unsigned tag;
    union {
        Aes aes;         /* GCM tables or CCM key schedule, set up once */
        uint8_t key[32]; /* ChaCha20-Poly1305 has no set-up to keep */
    } u;
};

static void aead_free(dk_bk_aead *a)
{
    if (!a)
        return;
    size_t n = sizeof a->u.key;
    if (a->alg != DK_BK_CHACHA20_POLY1305) {
        wc_AesFree(&a->u.aes);
        n = sizeof a->u.aes;
    }
    dk_wolf_wipe(&a->u, n);
    free(a);
}

/* What this wolfSSL build was compiled with. */
static bool available(dk_bk_aead_alg alg)
{
    switch (alg) {
#ifdef HAVE_AESGCM
    case DK_BK_AES_128_GCM:
    case DK_BK_AES_256_GCM: return true;
#endif
#ifdef HAVE_AESCCM
    case DK_BK_AES_128_CCM_8: return true;
#endif
#if defined(HAVE_CHACHA) && defined(HAVE_POLY1305)
    case DK_BK_CHACHA20_POLY1305: return true;
#endif
    default: return false;
    }
}

static dk_err aead_create(dk_bk_aead_alg alg, const uint8_t *key, size_t key_len, dk_bk_aead **out)
{
    if (!available(alg))
        return DK_ERR_UNAVAILABLE;
    size_t want = alg == DK_BK_AES_128_GCM || alg == DK_BK_AES_128_CCM_8 ? 16 : 32;
    if (key_len != want)
        return DK_ERR_TLS;
    /* A ChaCha20 key needs 32 bytes, not a whole Aes. */
    size_t size = alg == DK_BK_CHACHA20_POLY1305 ? offsetof(dk_bk_aead, u) + 32 : sizeof **out;
    dk_bk_aead *a = calloc(1, size);
    if (!a)
        return DK_ERR_NOMEM;
    a->alg = alg;
    a->tag = alg == DK_BK_AES_128_CCM_8 ? 8 : 16;
    int rc = 0;
    if (alg == DK_BK_CHACHA20_POLY1305) {
        memcpy(a->u.key, key, 32);
    } else {
        rc = wc_AesInit(&a->u.aes, NULL, INVALID_DEVID);
        if (rc == 0 && alg == DK_BK_AES_128_CCM_8)
            rc = wc_AesCcmSetKey(&a->u.aes, key, (word32)key_len);
        else if (rc == 0)
            rc = wc_AesGcmSetKey(&a->u.aes, key, (word32)key_len);
    }
    if (rc != 0) {
        aead_free(a);
        return rc == MEMORY_E ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    *out = a;
    return DK_OK;
}

static dk_err aead_seal(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    word32 n = (word32)len, an = (word32)aad_len;
    uint8_t *tag = out + len;
    int rc;
    switch (a->alg) {
#ifdef HAVE_AESCCM
    case DK_BK_AES_128_CCM_8:
        rc = wc_AesCcmEncrypt(&a->u.aes, out, in, n, nonce, 12, tag, a->tag, aad, an);
        break;
#endif
#if defined(HAVE_CHACHA) && defined(HAVE_POLY1305)
    case DK_BK_CHACHA20_POLY1305:
        rc = wc_ChaCha20Poly1305_Encrypt(a->u.key, nonce, aad, an, in, n, out, tag);
        break;
#endif
#ifdef HAVE_AESGCM
    case DK_BK_AES_128_GCM:
    case DK_BK_AES_256_GCM:
        rc = wc_AesGcmEncrypt(&a->u.aes, out, in, n, nonce, 12, tag, a->tag, aad, an);
        break;
#endif
    default: rc = BAD_FUNC_ARG;
    }
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

/* Any failure, a tag mismatch (AES_GCM_AUTH_E, AES_CCM_AUTH_E,
 * MAC_CMP_FAILED_E) included, is DK_ERR_TLS. */
static dk_err aead_open(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    if (len < a->tag)
        return DK_ERR_TLS;
    word32 n = (word32)(len - a->tag), an = (word32)aad_len;
    const uint8_t *tag = in + n;
    int rc;
    switch (a->alg) {
#ifdef HAVE_AESCCM
    case DK_BK_AES_128_CCM_8:
        rc = wc_AesCcmDecrypt(&a->u.aes, out, in, n, nonce, 12, tag, a->tag, aad, an);
        break;
#endif
#if defined(HAVE_CHACHA) && defined(HAVE_POLY1305)
    case DK_BK_CHACHA20_POLY1305:
        rc = wc_ChaCha20Poly1305_Decrypt(a->u.key, nonce, aad, an, in, n, tag, out);
        break;
#endif
#ifdef HAVE_AESGCM
    case DK_BK_AES_128_GCM:
    case DK_BK_AES_256_GCM:
        rc = wc_AesGcmDecrypt(&a->u.aes, out, in, n, nonce, 12, tag, a->tag, aad, an);
        break;
#endif
    default: rc = BAD_FUNC_ARG;
    }
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

const dk_bk_aead_ops dk_wolf_aead_ops = {
    .size = sizeof(dk_bk_aead_ops),
    .create = aead_create,
    .seal = aead_seal,
    .open = aead_open,
    .free = aead_free,
};
