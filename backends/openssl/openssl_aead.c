/* OpenSSL backend: AEAD for the core's record layer.
 *
 * One EVP_CIPHER_CTX per key, keyed once: a record only sets the nonce and
 * direction with EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, enc),
 * which in OpenSSL 3 re-initialises the provider context in place without
 * allocating. GCM and ChaCha20-Poly1305 take the direction at every init;
 * CCM does not (see set_nonce). */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "openssl_backend.h"

struct dk_bk_aead {
    EVP_CIPHER_CTX *ctx;
    uint8_t tag;
    bool ccm;
    bool ccm_enc;    /* CCM: the direction the key is set for */
    uint8_t key[16]; /* CCM: to set it for the other direction */
};

static dk_err aead_create(dk_bk_aead_alg alg, const uint8_t *key, size_t key_len, dk_bk_aead **out)
{
    const EVP_CIPHER *cipher = NULL;
    size_t want = 16;
    switch (alg) {
    case DK_BK_AES_128_GCM: cipher = EVP_aes_128_gcm(); break;
    case DK_BK_AES_256_GCM:
        cipher = EVP_aes_256_gcm();
        want = 32;
        break;
    case DK_BK_CHACHA20_POLY1305:
        cipher = EVP_chacha20_poly1305();
        want = 32;
        break;
    case DK_BK_AES_128_CCM_8: cipher = EVP_aes_128_ccm(); break;
    }
    *out = NULL;
    if (!cipher)
        return DK_ERR_UNAVAILABLE;
    if (key_len != want)
        return DK_ERR_TLS;
    dk_bk_aead *a = calloc(1, sizeof *a);
    if (!a)
        return DK_ERR_NOMEM;
    a->ccm = a->ccm_enc = alg == DK_BK_AES_128_CCM_8;
    a->tag = a->ccm ? 8 : 16;
    if (a->ccm)
        memcpy(a->key, key, sizeof a->key);
    a->ctx = EVP_CIPHER_CTX_new();
    /* CCM fixes L (15 - nonce length) and the tag length when the key is
     * set, so both come first. GCM and ChaCha20 default to 12-byte nonces. */
    bool ok =
        a->ctx && EVP_CipherInit_ex(a->ctx, cipher, NULL, NULL, NULL, 1) == 1 &&
        (!a->ccm || (EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
                     EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, a->tag, NULL) == 1)) &&
        EVP_CipherInit_ex(a->ctx, NULL, NULL, key, NULL, 1) == 1;
    if (!ok) {
        dk_err e = a->ctx ? DK_ERR_TLS : DK_ERR_NOMEM;
        EVP_CIPHER_CTX_free(a->ctx);
        OPENSSL_cleanse(a, sizeof *a);
        free(a);
        ERR_clear_error();
        return e;
    }
    *out = a;
    return DK_OK;
}

/* OpenSSL 3.0's AES-NI CCM picks its encrypt or decrypt routine when the
 * key is set (ccm_aesni_initkey), so a CCM key meets a new direction with
 * the key set again: once per object, as the core uses each in one
 * direction. */
static bool set_nonce(dk_bk_aead *a, const uint8_t nonce[12], int enc)
{
    bool rekey = a->ccm && a->ccm_enc != (enc == 1);
    if (EVP_CipherInit_ex(a->ctx, NULL, NULL, rekey ? a->key : NULL, nonce, enc) != 1)
        return false;
    if (rekey)
        a->ccm_enc = enc == 1;
    return true;
}

/* Nonce, direction, then for CCM the message length, which must precede the
 * AAD. An empty AAD is skipped: a CCM update with no input and no output
 * would set the length again, to 0. */
static bool start(dk_bk_aead *a, const uint8_t nonce[12], int enc, const uint8_t *aad,
                  size_t aad_len, size_t len)
{
    int n = 0;
    return set_nonce(a, nonce, enc) &&
           (!a->ccm || EVP_CipherUpdate(a->ctx, NULL, &n, NULL, (int)len) == 1) &&
           (!aad_len || EVP_CipherUpdate(a->ctx, NULL, &n, aad, (int)aad_len) == 1);
}

/* A forged record must leave nothing in the thread's error queue, where
 * SSL_get_error() of a session still in its handshake would find it. */
static dk_err done(bool ok)
{
    if (ok)
        return DK_OK;
    ERR_clear_error();
    return DK_ERR_TLS;
}

static dk_err aead_seal(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    static const uint8_t none[1];
    int n = 0;
    if (len > INT_MAX - 16 || aad_len > INT_MAX)
        return DK_ERR_TLS;
    bool ok = start(a, nonce, 1, aad, aad_len, len);
    /* CCM computes its tag in the update, which it skips for a NULL input. */
    if (ok && (len || a->ccm))
        ok = EVP_CipherUpdate(a->ctx, out, &n, len ? in : none, (int)len) == 1;
    ok = ok && EVP_CipherFinal_ex(a->ctx, out + n, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, a->tag, out + len) == 1;
    return done(ok);
}

static dk_err aead_open(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    if (len < a->tag || len > INT_MAX || aad_len > INT_MAX)
        return DK_ERR_TLS;
    size_t clen = len - a->tag;
    uint8_t tag[16];
    memcpy(tag, in + clen, a->tag); /* before an in-place decryption */
    int n = 0;
    bool ok;
    if (a->ccm) {
        /* CCM checks the tag as it decrypts, so the tag comes first and the
         * decryption runs even for an empty plaintext, with non-NULL
         * pointers (NULL would make it AAD, or skip it). EVP_Cipher, not
         * EVP_CipherUpdate: on a bad tag the latter raises an error, and
         * OpenSSL allocates for each error raised. */
        ok = set_nonce(a, nonce, 0) &&
             EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, a->tag, tag) == 1 &&
             EVP_CipherUpdate(a->ctx, NULL, &n, NULL, (int)clen) == 1 &&
             (!aad_len || EVP_CipherUpdate(a->ctx, NULL, &n, aad, (int)aad_len) == 1) &&
             EVP_Cipher(a->ctx, clen ? out : tag, in, (unsigned)clen) == (int)clen;
    } else {
        ok = start(a, nonce, 0, aad, aad_len, clen) &&
             (!clen || EVP_CipherUpdate(a->ctx, out, &n, in, (int)clen) == 1) &&
             EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, a->tag, tag) == 1 &&
             EVP_CipherFinal_ex(a->ctx, out + n, &n) == 1;
    }
    return done(ok);
}

static void aead_free(dk_bk_aead *a)
{
    if (!a)
        return;
    EVP_CIPHER_CTX_free(a->ctx); /* the provider wipes its key schedule */
    OPENSSL_cleanse(a, sizeof *a);
    free(a);
}

const dk_bk_aead_ops dk_ossl_aead_ops = {
    .size = sizeof(dk_bk_aead_ops),
    .create = aead_create,
    .seal = aead_seal,
    .open = aead_open,
    .free = aead_free,
};
