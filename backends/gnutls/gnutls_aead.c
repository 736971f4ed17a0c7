/* GnuTLS backend: AEAD for the core's record layer.
 *
 * One gnutls_aead_cipher_hd_t per key, keyed once (gnutls_aead_cipher_init
 * allocates the handle and expands the key). In GnuTLS 3.7.9
 * gnutls_aead_cipher_encrypt and _decrypt allocate nothing: they set the
 * nonce on the keyed state and run the cipher (nettle's generic code, or the
 * x86 AES-GCM implementations, whose aead_encrypt/aead_decrypt work the
 * same way), the tag after the ciphertext. Decryption writes the plaintext
 * before it compares the tag, into the first len - tag bytes only: in place
 * works, and a forged record leaves bytes in `out` the core never reads. */
#include <stdlib.h>
#include <string.h>

#include "gnutls_backend.h"

struct dk_bk_aead {
    gnutls_aead_cipher_hd_t h;
    size_t tag;
};

static dk_err aead_create(dk_bk_aead_alg alg, const uint8_t *key, size_t key_len, dk_bk_aead **out)
{
    gnutls_cipher_algorithm_t c = GNUTLS_CIPHER_UNKNOWN;
    size_t want = 16, tag = 16;
    switch (alg) {
    case DK_BK_AES_128_GCM: c = GNUTLS_CIPHER_AES_128_GCM; break;
    case DK_BK_AES_256_GCM:
        c = GNUTLS_CIPHER_AES_256_GCM;
        want = 32;
        break;
    case DK_BK_CHACHA20_POLY1305:
        c = GNUTLS_CIPHER_CHACHA20_POLY1305;
        want = 32;
        break;
    case DK_BK_AES_128_CCM_8:
        c = GNUTLS_CIPHER_AES_128_CCM_8;
        tag = 8;
        break;
    }
    *out = NULL;
    if (c == GNUTLS_CIPHER_UNKNOWN)
        return DK_ERR_UNAVAILABLE;
    if (key_len != want)
        return DK_ERR_TLS;
    dk_bk_aead *a = calloc(1, sizeof *a);
    if (!a)
        return DK_ERR_NOMEM;
    a->tag = tag;
    gnutls_datum_t k = {(unsigned char *)key, (unsigned)key_len};
    int rc = gnutls_aead_cipher_init(&a->h, c, &k);
    if (rc < 0) {
        free(a);
        switch (rc) {
        case GNUTLS_E_MEMORY_ERROR: return DK_ERR_NOMEM;
        /* Disabled (FIPS mode) or not in this build. */
        case GNUTLS_E_UNWANTED_ALGORITHM:
        case GNUTLS_E_INVALID_REQUEST: return DK_ERR_UNAVAILABLE;
        default: return DK_ERR_TLS;
        }
    }
    *out = a;
    return DK_OK;
}

static dk_err aead_seal(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    size_t out_len = len + a->tag;
    int rc =
        gnutls_aead_cipher_encrypt(a->h, nonce, 12, aad, aad_len, a->tag, in, len, out, &out_len);
    return rc == 0 && out_len == len + a->tag ? DK_OK : DK_ERR_TLS;
}

static dk_err aead_open(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out)
{
    if (len < a->tag)
        return DK_ERR_TLS;
    size_t out_len = len - a->tag;
    int rc =
        gnutls_aead_cipher_decrypt(a->h, nonce, 12, aad, aad_len, a->tag, in, len, out, &out_len);
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

static void aead_free(dk_bk_aead *a)
{
    if (!a)
        return;
    gnutls_aead_cipher_deinit(a->h); /* wipes the expanded key */
    free(a);
}

const dk_bk_aead_ops dk_gnu_aead_ops = {
    .size = sizeof(dk_bk_aead_ops),
    .create = aead_create,
    .seal = aead_seal,
    .open = aead_open,
    .free = aead_free,
};
