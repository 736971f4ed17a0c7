/* GnuTLS backend: signatures and RSA encryption for the public crypto ops
 * (crypto_ops.h), on the abstract keys of struct dk_bk_key.
 *
 * gnutls_privkey_sign_hash2 and gnutls_pubkey_verify_hash2 with a
 * GNUTLS_SIGN_RSA_SHA* algorithm wrap the hash in its DigestInfo
 * themselves (RSASSA-PKCS1-v1_5, and verification compares the whole
 * encoding); with GNUTLS_SIGN_ECDSA_SHA* they sign or check the hash as
 * given, truncated to the curve's order, the signature a DER SEQUENCE
 * { r, s }. GnuTLS hands back buffers from gnutls_malloc: they are copied
 * into malloc'd ones, which the core frees with free(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnutls_backend.h"

static gnutls_sign_algorithm_t sign_alg(dk_key_type type, dk_hash_type alg)
{
    bool rsa = type == DK_KEY_RSA;
    switch (alg) {
    case DK_HASH_SHA256: return rsa ? GNUTLS_SIGN_RSA_SHA256 : GNUTLS_SIGN_ECDSA_SHA256;
    case DK_HASH_SHA384: return rsa ? GNUTLS_SIGN_RSA_SHA384 : GNUTLS_SIGN_ECDSA_SHA384;
    case DK_HASH_SHA512: return rsa ? GNUTLS_SIGN_RSA_SHA512 : GNUTLS_SIGN_ECDSA_SHA512;
    default: return GNUTLS_SIGN_UNKNOWN;
    }
}

static dk_err error_code(int rc)
{
    return rc == GNUTLS_E_MEMORY_ERROR ? DK_ERR_NOMEM : DK_ERR_TLS;
}

/* Moves a GnuTLS datum into a malloc'd buffer, wiping and freeing the
 * datum; `secret` says whether its bytes need wiping. */
static dk_err take_datum(gnutls_datum_t *d, bool secret, uint8_t **out, size_t *out_len)
{
    uint8_t *p = malloc(d->size ? d->size : 1);
    if (p && d->size)
        memcpy(p, d->data, d->size);
    if (secret && d->data)
        gnutls_memset(d->data, 0, d->size);
    size_t n = d->size;
    gnutls_free(d->data);
    d->data = NULL;
    if (!p)
        return DK_ERR_NOMEM;
    *out = p;
    *out_len = n;
    return DK_OK;
}

/* The modulus' size in bytes of an RSA key, 0 when unknown. */
static size_t rsa_bytes(const dk_bk_key *key)
{
    unsigned bits = 0;
    int pk = gnutls_pubkey_get_pk_algorithm(key->pub, &bits);
    return pk == GNUTLS_PK_RSA ? (bits + 7) / 8 : 0;
}

dk_err dk_gnu_sign(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash, size_t hash_len,
                   uint8_t **sig, size_t *sig_len, char *reason, size_t cap)
{
    gnutls_sign_algorithm_t sa = sign_alg(key->type, alg);
    if (sa == GNUTLS_SIGN_UNKNOWN)
        return DK_ERR_UNAVAILABLE;
    if (!key->priv) {
        dk_gnu_reason(reason, cap, "signing failed", GNUTLS_E_INSUFFICIENT_CREDENTIALS);
        return DK_ERR_TLS;
    }
    gnutls_datum_t h = {(unsigned char *)hash, (unsigned)hash_len}, s = {NULL, 0};
    int rc = gnutls_privkey_sign_hash2(key->priv, sa, 0, &h, &s);
    if (rc < 0) {
        dk_gnu_reason(reason, cap, "signing failed", rc);
        return error_code(rc);
    }
    return take_datum(&s, false, sig, sig_len);
}

/* Whether `sig` is exactly the DER encoding GnuTLS writes for its (r, s):
 * the check itself is lenient about encodings (BER lengths, padded
 * integers), which would let more than one byte string verify. */
static bool canonical_ecdsa(const uint8_t *sig, size_t sig_len)
{
    gnutls_datum_t in = {(unsigned char *)sig, (unsigned)sig_len}, r = {NULL, 0}, s = {NULL, 0};
    gnutls_datum_t again = {NULL, 0};
    bool ok = gnutls_decode_rs_value(&in, &r, &s) == 0 &&
              gnutls_encode_rs_value(&again, &r, &s) == 0 && again.size == sig_len &&
              memcmp(again.data, sig, sig_len) == 0;
    gnutls_free(r.data);
    gnutls_free(s.data);
    gnutls_free(again.data);
    return ok;
}

dk_err dk_gnu_verify(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash, size_t hash_len,
                     const uint8_t *sig, size_t sig_len, char *reason, size_t cap)
{
    gnutls_sign_algorithm_t sa = sign_alg(key->type, alg);
    if (sa == GNUTLS_SIGN_UNKNOWN)
        return DK_ERR_UNAVAILABLE;
    if (key->type == DK_KEY_RSA) {
        /* RFC 8017 section 8.2.2: a signature has exactly k bytes; GnuTLS
         * would take a shorter one as the integer it encodes. */
        size_t k = rsa_bytes(key);
        if (k == 0 || sig_len != k) {
            if (reason && cap)
                snprintf(reason, cap, "an RSA signature of %zu bytes for a %zu-byte key", sig_len,
                         k);
            return DK_ERR_SIGNATURE;
        }
    } else if (!canonical_ecdsa(sig, sig_len)) {
        if (reason && cap)
            snprintf(reason, cap, "not a DER-encoded ECDSA signature");
        return DK_ERR_SIGNATURE;
    }
    gnutls_datum_t h = {(unsigned char *)hash, (unsigned)hash_len};
    gnutls_datum_t s = {(unsigned char *)sig, (unsigned)sig_len};
    int rc = gnutls_pubkey_verify_hash2(key->pub, sa, 0, &h, &s);
    if (rc >= 0)
        return DK_OK;
    if (rc == GNUTLS_E_MEMORY_ERROR)
        return DK_ERR_NOMEM;
    /* GNUTLS_E_PK_SIG_VERIFY_FAILED, and for a malformed signature the
     * decoding errors: every one is a signature that does not verify. */
    if (reason && cap)
        snprintf(reason, cap, "%s", gnutls_strerror(rc));
    return DK_ERR_SIGNATURE;
}

dk_err dk_gnu_rsa_encrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                          size_t *out_len, char *reason, size_t cap)
{
    gnutls_datum_t p = {(unsigned char *)in, (unsigned)len}, c = {NULL, 0};
    int rc = gnutls_pubkey_encrypt_data(key->pub, 0, &p, &c);
    if (rc < 0) {
        dk_gnu_reason(reason, cap, "encryption failed", rc);
        return error_code(rc);
    }
    /* GnuTLS writes the ciphertext with the modulus' length (leading
     * zeros kept); anything else would not decrypt elsewhere. */
    size_t k = rsa_bytes(key);
    if (k && c.size != k) {
        gnutls_free(c.data);
        if (reason && cap)
            snprintf(reason, cap, "encryption failed: a ciphertext of %u bytes", c.size);
        return DK_ERR_TLS;
    }
    return take_datum(&c, false, out, out_len);
}

dk_err dk_gnu_rsa_decrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                          size_t *out_len, char *reason, size_t cap)
{
    if (!key->priv) {
        dk_gnu_reason(reason, cap, "decryption failed", GNUTLS_E_INSUFFICIENT_CREDENTIALS);
        return DK_ERR_TLS;
    }
    gnutls_datum_t c = {(unsigned char *)in, (unsigned)len}, p = {NULL, 0};
    int rc = gnutls_privkey_decrypt_data(key->priv, 0, &c, &p);
    if (rc < 0) {
        /* GNUTLS_E_DECRYPTION_FAILED for a wrong key or altered bytes. */
        dk_gnu_reason(reason, cap, "decryption failed", rc);
        return error_code(rc);
    }
    return take_datum(&p, true, out, out_len);
}
