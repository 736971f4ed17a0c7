/* wolfSSL backend: signatures and RSA encryption for the public crypto ops
 * (crypto_ops.h). A key is kept as DER (wolfssl_backend.h): each call
 * decodes the part it needs into a wolfCrypt key. RSA signatures are
 * PKCS#1 v1.5 over the DigestInfo wc_EncodeSignature() builds, checked by
 * comparing the recovered DigestInfo with the expected one; ECDSA through
 * wc_ecc_sign_hash / wc_ecc_verify_hash (DER signatures). */
#include "wolfssl_backend.h"

#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

/* A DigestInfo: 19 bytes of header and the hash (SHA-512: 83 bytes). */
#define DIGEST_INFO_MAX 128

static int hash_oid(dk_hash_type alg)
{
    switch (alg) {
    case DK_HASH_SHA256: return SHA256h;
    case DK_HASH_SHA384: return SHA384h;
    case DK_HASH_SHA512: return SHA512h;
    default: return 0;
    }
}

/* The public part of `key` (every key has one), as a wolfCrypt key. */
static dk_err decode_public(const dk_bk_key *key, dk_wolf_pkey *pk)
{
    memset(pk, 0, sizeof *pk);
    word32 idx = 0;
    int rc;
    if (key->type == DK_KEY_RSA) {
        if (wc_InitRsaKey(&pk->rsa, NULL) != 0)
            return DK_ERR_TLS;
        pk->type = DK_KEY_RSA;
        rc = wc_RsaPublicKeyDecode(key->pub, &idx, &pk->rsa, (word32)key->pub_len);
    } else {
        if (wc_ecc_init(&pk->ecc) != 0)
            return DK_ERR_TLS;
        pk->type = DK_KEY_EC;
        rc = wc_EccPublicKeyDecode(key->pub, &idx, &pk->ecc, (word32)key->pub_len);
    }
    if (rc != 0) {
        dk_wolf_pkey_free(pk);
        return DK_ERR_TLS;
    }
    return DK_OK;
}

static dk_err wolf_sign(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash,
                        size_t hash_len, uint8_t **sig, size_t *sig_len, char *reason, size_t cap)
{
    if (!hash_oid(alg))
        return DK_ERR_UNAVAILABLE;
    dk_wolf_pkey pk;
    dk_err e = dk_wolf_pkey_decode(key, &pk);
    if (e != DK_OK) {
        dk_wolf_reason(reason, cap, 0, "cannot decode the private key");
        return e;
    }
    int rc;
    uint8_t *s = NULL;
    if (pk.type == DK_KEY_RSA) {
        uint8_t info[DIGEST_INFO_MAX];
        word32 n = wc_EncodeSignature(info, hash, (word32)hash_len, hash_oid(alg));
        int k = wc_RsaEncryptSize(&pk.rsa);
        s = k > 0 ? malloc((size_t)k) : NULL;
        rc = n == 0 || k <= 0 ? BAD_FUNC_ARG : !s ? MEMORY_E : 0;
        if (rc == 0) {
            WC_RNG *rng = dk_wolf_rng_acquire();
            rc = wc_RsaSSL_Sign(info, n, s, (word32)k, &pk.rsa, rng);
            dk_wolf_rng_release();
        }
    } else {
        int k = wc_ecc_sig_size(&pk.ecc);
        word32 n = k > 0 ? (word32)k : 0;
        s = k > 0 ? malloc((size_t)k) : NULL;
        rc = k <= 0 ? BAD_FUNC_ARG : !s ? MEMORY_E : 0;
        if (rc == 0) {
            WC_RNG *rng = dk_wolf_rng_acquire();
            rc = wc_ecc_sign_hash(hash, (word32)hash_len, s, &n, rng, &pk.ecc);
            dk_wolf_rng_release();
            if (rc == 0)
                rc = (int)n;
        }
    }
    dk_wolf_pkey_free(&pk);
    if (rc <= 0) {
        free(s);
        dk_wolf_reason(reason, cap, rc, "signing failed");
        return rc == MEMORY_E ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    *sig = s;
    *sig_len = (size_t)rc;
    return DK_OK;
}

static dk_err wolf_verify(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash,
                          size_t hash_len, const uint8_t *sig, size_t sig_len, char *reason,
                          size_t cap)
{
    if (!hash_oid(alg))
        return DK_ERR_UNAVAILABLE;
    dk_wolf_pkey pk;
    if (decode_public(key, &pk) != DK_OK) {
        dk_wolf_reason(reason, cap, 0, "cannot decode the public key");
        return DK_ERR_TLS;
    }
    bool ok = false;
    if (pk.type == DK_KEY_RSA) {
        /* RFC 8017 section 8.2.2: a signature has exactly k bytes. */
        int k = wc_RsaEncryptSize(&pk.rsa);
        uint8_t info[DIGEST_INFO_MAX];
        word32 n = wc_EncodeSignature(info, hash, (word32)hash_len, hash_oid(alg));
        uint8_t *dec = k > 0 ? malloc((size_t)k) : NULL;
        if (!dec) {
            dk_wolf_pkey_free(&pk);
            return DK_ERR_NOMEM;
        }
        if (n > 0 && sig_len == (size_t)k) {
            int rc = wc_RsaSSL_Verify(sig, (word32)sig_len, dec, (word32)k, &pk.rsa);
            ok = rc > 0 && (word32)rc == n && memcmp(dec, info, n) == 0;
        }
        free(dec);
    } else {
        int res = 0;
        int rc = wc_ecc_verify_hash(sig, (word32)sig_len, hash, (word32)hash_len, &res, &pk.ecc);
        ok = rc == 0 && res == 1;
    }
    dk_wolf_pkey_free(&pk);
    return ok ? DK_OK : DK_ERR_SIGNATURE;
}

static dk_err wolf_encrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                           size_t *out_len, char *reason, size_t cap)
{
    dk_wolf_pkey pk;
    if (decode_public(key, &pk) != DK_OK) {
        dk_wolf_reason(reason, cap, 0, "cannot decode the public key");
        return DK_ERR_TLS;
    }
    int k = wc_RsaEncryptSize(&pk.rsa);
    uint8_t *o = k > 0 ? malloc((size_t)k) : NULL;
    int rc = k <= 0 ? BAD_FUNC_ARG : !o ? MEMORY_E : 0;
    if (rc == 0) {
        WC_RNG *rng = dk_wolf_rng_acquire();
        rc = wc_RsaPublicEncrypt(in, (word32)len, o, (word32)k, &pk.rsa, rng);
        dk_wolf_rng_release();
    }
    dk_wolf_pkey_free(&pk);
    if (rc <= 0) {
        free(o);
        dk_wolf_reason(reason, cap, rc, "encryption failed");
        return rc == MEMORY_E ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    *out = o;
    *out_len = (size_t)rc;
    return DK_OK;
}

static dk_err wolf_decrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                           size_t *out_len, char *reason, size_t cap)
{
    dk_wolf_pkey pk;
    dk_err e = dk_wolf_pkey_decode(key, &pk);
    if (e != DK_OK) {
        dk_wolf_reason(reason, cap, 0, "cannot decode the private key");
        return e;
    }
    int k = wc_RsaEncryptSize(&pk.rsa);
    uint8_t *o = k > 0 ? malloc((size_t)k) : NULL;
    int rc = k <= 0 ? BAD_FUNC_ARG : !o ? MEMORY_E : 0;
    if (rc == 0) {
        /* RSA blinding (WC_RSA_BLINDING) draws from the key's generator. */
        WC_RNG *rng = dk_wolf_rng_acquire();
        rc = wc_RsaSetRNG(&pk.rsa, rng);
        if (rc == 0)
            rc = wc_RsaPrivateDecrypt(in, (word32)len, o, (word32)k, &pk.rsa);
        dk_wolf_rng_release();
    }
    dk_wolf_pkey_free(&pk);
    if (rc < 0) {
        if (o)
            dk_wolf_wipe(o, (size_t)k);
        free(o);
        dk_wolf_reason(reason, cap, rc, "decryption failed");
        return rc == MEMORY_E ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    *out = o;
    *out_len = (size_t)rc;
    return DK_OK;
}

const dk_bk_crypto_ops dk_wolf_crypto_ops = {
    .size = sizeof(dk_bk_crypto_ops),
    .md_create = dk_wolf_md_create,
    .md_update = dk_wolf_md_update,
    .md_finish = dk_wolf_md_finish,
    .md_free = dk_wolf_md_free,
    .sign = wolf_sign,
    .verify = wolf_verify,
    .rsa_encrypt = wolf_encrypt,
    .rsa_decrypt = wolf_decrypt,
};
