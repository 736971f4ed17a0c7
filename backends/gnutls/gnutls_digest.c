/* GnuTLS backend: hashes and HMACs for the public crypto ops
 * (crypto_ops.h), through gnutls_hash_* and gnutls_hmac_*; the op table,
 * with the signatures and RSA encryption of gnutls_pk.c. */
#include <stdlib.h>

#include "gnutls_backend.h"

struct dk_bk_md {
    bool hmac;
    union {
        gnutls_hash_hd_t hash;
        gnutls_hmac_hd_t hmac;
    } u;
};

static gnutls_digest_algorithm_t digest_alg(dk_hash_type alg)
{
    switch (alg) {
    case DK_HASH_MD5: return GNUTLS_DIG_MD5;
    case DK_HASH_SHA1: return GNUTLS_DIG_SHA1;
    case DK_HASH_SHA256: return GNUTLS_DIG_SHA256;
    case DK_HASH_SHA384: return GNUTLS_DIG_SHA384;
    case DK_HASH_SHA512: return GNUTLS_DIG_SHA512;
    }
    return GNUTLS_DIG_UNKNOWN;
}

/* The same algorithms as MACs (the values coincide in GnuTLS, which this
 * does not rely on). */
static gnutls_mac_algorithm_t mac_alg(dk_hash_type alg)
{
    switch (alg) {
    case DK_HASH_MD5: return GNUTLS_MAC_MD5;
    case DK_HASH_SHA1: return GNUTLS_MAC_SHA1;
    case DK_HASH_SHA256: return GNUTLS_MAC_SHA256;
    case DK_HASH_SHA384: return GNUTLS_MAC_SHA384;
    case DK_HASH_SHA512: return GNUTLS_MAC_SHA512;
    }
    return GNUTLS_MAC_UNKNOWN;
}

static dk_err md_create(dk_hash_type alg, const uint8_t *key, size_t key_len, dk_bk_md **out)
{
    gnutls_digest_algorithm_t d = digest_alg(alg);
    if (d == GNUTLS_DIG_UNKNOWN)
        return DK_ERR_UNAVAILABLE;
    dk_bk_md *m = calloc(1, sizeof *m);
    if (!m)
        return DK_ERR_NOMEM;
    m->hmac = key != NULL;
    int rc = m->hmac ? gnutls_hmac_init(&m->u.hmac, mac_alg(alg), key, key_len)
                     : gnutls_hash_init(&m->u.hash, d);
    if (rc < 0) {
        free(m);
        switch (rc) {
        case GNUTLS_E_MEMORY_ERROR: return DK_ERR_NOMEM;
        /* MD5 and SHA-1 are refused in FIPS mode; a build may lack one. */
        case GNUTLS_E_UNWANTED_ALGORITHM:
        case GNUTLS_E_INVALID_REQUEST: return DK_ERR_UNAVAILABLE;
        default: return DK_ERR_TLS;
        }
    }
    *out = m;
    return DK_OK;
}

static dk_err md_update(dk_bk_md *m, const uint8_t *data, size_t len)
{
    if (len == 0)
        return DK_OK;
    int rc = m->hmac ? gnutls_hmac(m->u.hmac, data, len) : gnutls_hash(m->u.hash, data, len);
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

static dk_err md_finish(dk_bk_md *m, uint8_t *out)
{
    if (m->hmac)
        gnutls_hmac_output(m->u.hmac, out);
    else
        gnutls_hash_output(m->u.hash, out);
    return DK_OK;
}

static void md_free(dk_bk_md *m)
{
    if (!m)
        return;
    /* GnuTLS wipes an HMAC's state (the keyed pads) before freeing it; a
     * hash holds no key. */
    if (m->hmac)
        gnutls_hmac_deinit(m->u.hmac, NULL);
    else
        gnutls_hash_deinit(m->u.hash, NULL);
    free(m);
}

const dk_bk_crypto_ops dk_gnu_crypto_ops = {
    .size = sizeof(dk_bk_crypto_ops),
    .md_create = md_create,
    .md_update = md_update,
    .md_finish = md_finish,
    .md_free = md_free,
    .sign = dk_gnu_sign,
    .verify = dk_gnu_verify,
    .rsa_encrypt = dk_gnu_rsa_encrypt,
    .rsa_decrypt = dk_gnu_rsa_decrypt,
};
