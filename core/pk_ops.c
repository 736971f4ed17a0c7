/* Signatures and RSA encryption with a dk_key (Godot's Crypto.sign, verify,
 * encrypt, decrypt), through the backend's crypto ops. The core checks
 * every argument, so each backend gets the same, already valid, requests. */
#include <stdlib.h>
#include <string.h>

#include "crypto_internal.h"
#include "error.h"
#include "library.h"

/* PKCS#1 v1.5 encryption padding: 0x00 0x02, at least 8 random non-zero
 * bytes, 0x00 (RFC 8017 section 7.2.1). */
#define PKCS1_OVERHEAD 11

static dk_err check_hash(const char *func, dk_hash_type type, const void *hash, size_t hash_len)
{
    if (!hash)
        return dk__fail(DK_ERR_INVALID, func, "hash is NULL");
    size_t size = dk_hash_size(type);
    if (size == 0)
        return dk__fail(DK_ERR_INVALID, func, "unknown hash type %d", (int)type);
    if (type != DK_HASH_SHA256 && type != DK_HASH_SHA384 && type != DK_HASH_SHA512)
        return dk__fail(DK_ERR_INVALID, func, "signatures use SHA-256, SHA-384 or SHA-512, not %s",
                        type == DK_HASH_MD5 ? "MD5" : "SHA-1");
    if (hash_len != size)
        return dk__fail(DK_ERR_INVALID, func,
                        "a hash of %zu bytes, but this hash type makes %zu-byte hashes", hash_len,
                        size);
    return DK_OK;
}

static void wipe_free(uint8_t *p, size_t n)
{
    if (p && n)
        memset(p, 0, n);
    free(p);
}

dk_err dk_key_sign(const dk_key *key, dk_hash_type type, const void *hash, size_t hash_len,
                   void **sig, size_t *sig_len)
{
    if (!key || !sig || !sig_len)
        return DK_FAIL(DK_ERR_INVALID, "key, sig or sig_len is NULL");
    dk_err e = check_hash(__func__, type, hash, hash_len);
    if (e != DK_OK)
        return e;
    if (dk_key_is_public_only(key))
        return DK_FAIL(DK_ERR_INVALID, "signing needs a private key; this one is public only");
    if (!DK__BK_HAS(crypto, sign))
        return DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' cannot sign", DK__BK->name);
    char reason[DK__REASON_CAP] = "";
    uint8_t *s = NULL;
    size_t n = 0;
    e = DK__BK->crypto->sign(key->bk, type, hash, hash_len, &s, &n, reason, sizeof reason);
    if (e != DK_OK)
        return DK_FAIL(e, "%s", reason[0] ? reason : dk_strerror(e));
    *sig = s;
    *sig_len = n;
    return DK_OK;
}

dk_err dk_key_verify(const dk_key *key, dk_hash_type type, const void *hash, size_t hash_len,
                     const void *sig, size_t sig_len)
{
    if (!key || !sig)
        return DK_FAIL(DK_ERR_INVALID, "key or sig is NULL");
    dk_err e = check_hash(__func__, type, hash, hash_len);
    if (e != DK_OK)
        return e;
    if (sig_len == 0)
        return DK_FAIL(DK_ERR_SIGNATURE, "the signature is empty");
    if (!DK__BK_HAS(crypto, verify))
        return DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' cannot verify signatures", DK__BK->name);
    char reason[DK__REASON_CAP] = "";
    e = DK__BK->crypto->verify(key->bk, type, hash, hash_len, sig, sig_len, reason, sizeof reason);
    if (e == DK_ERR_SIGNATURE)
        return DK_FAIL(e, "the signature does not verify%s%s", reason[0] ? ": " : "", reason);
    if (e != DK_OK)
        return DK_FAIL(e, "%s", reason[0] ? reason : dk_strerror(e));
    return DK_OK;
}

/* The modulus' size in bytes of an RSA key, after the common checks. */
static dk_err check_rsa(const char *func, const dk_key *key, const void *in, size_t len, void **out,
                        size_t *out_len, bool private, size_t *key_bytes)
{
    if (!key || !in || !out || !out_len)
        return dk__fail(DK_ERR_INVALID, func, "key, in, out or out_len is NULL");
    if (len == 0)
        return dk__fail(DK_ERR_INVALID, func, "the input is empty");
    if (dk_key_get_type(key) != DK_KEY_RSA)
        return dk__fail(DK_ERR_INVALID, func, "RSA encryption needs an RSA key, this is an EC key");
    if (private && dk_key_is_public_only(key))
        return dk__fail(DK_ERR_INVALID, func,
                        "decryption needs a private key; this one is "
                        "public only");
    int bits = dk_key_get_bits(key);
    if (bits <= 0)
        return dk__fail(DK_ERR_INTERNAL, func, "the backend gave the key %d bits", bits);
    *key_bytes = ((size_t)bits + 7) / 8;
    return DK_OK;
}

dk_err dk_key_encrypt(const dk_key *key, const void *in, size_t len, void **out, size_t *out_len)
{
    size_t k = 0;
    dk_err e = check_rsa(__func__, key, in, len, out, out_len, false, &k);
    if (e != DK_OK)
        return e;
    if (k < PKCS1_OVERHEAD || len > k - PKCS1_OVERHEAD)
        return DK_FAIL(DK_ERR_TOO_BIG, "%zu bytes: a %zu-bit RSA key encrypts at most %zu", len,
                       k * 8, k > PKCS1_OVERHEAD ? k - PKCS1_OVERHEAD : 0);
    if (!DK__BK_HAS(crypto, rsa_encrypt))
        return DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' cannot encrypt", DK__BK->name);
    char reason[DK__REASON_CAP] = "";
    uint8_t *c = NULL;
    size_t n = 0;
    e = DK__BK->crypto->rsa_encrypt(key->bk, in, len, &c, &n, reason, sizeof reason);
    if (e != DK_OK)
        return DK_FAIL(e, "%s", reason[0] ? reason : dk_strerror(e));
    *out = c;
    *out_len = n;
    return DK_OK;
}

dk_err dk_key_decrypt(const dk_key *key, const void *in, size_t len, void **out, size_t *out_len)
{
    size_t k = 0;
    dk_err e = check_rsa(__func__, key, in, len, out, out_len, true, &k);
    if (e != DK_OK)
        return e;
    if (len != k)
        return DK_FAIL(DK_ERR_INVALID, "%zu bytes: a ciphertext of this key has %zu", len, k);
    if (!DK__BK_HAS(crypto, rsa_decrypt))
        return DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' cannot decrypt", DK__BK->name);
    char reason[DK__REASON_CAP] = "";
    uint8_t *p = NULL;
    size_t n = 0;
    e = DK__BK->crypto->rsa_decrypt(key->bk, in, len, &p, &n, reason, sizeof reason);
    /* One sentence for every failure, whatever the library said: which
     * check of the padding failed is what a Bleichenbacher attack feeds
     * on, should an application pass the message on to its peer. */
    if (e == DK_ERR_TLS)
        return DK_FAIL(e, "cannot decrypt: wrong key or altered ciphertext");
    if (e != DK_OK)
        return DK_FAIL(e, "cannot decrypt: %s", dk_strerror(e));
    if (n == 0) { /* the caller gets a buffer it can free either way */
        wipe_free(p, n);
        p = malloc(1);
        if (!p)
            return DK_FAIL(DK_ERR_NOMEM, "out of memory");
    }
    *out = p;
    *out_len = n;
    return DK_OK;
}
