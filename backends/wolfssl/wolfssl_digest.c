/* wolfSSL backend: hashes and HMACs for the public crypto ops
 * (crypto_ops.h), through wolfCrypt's wc_Hash* and wc_Hmac*. */
#include "wolfssl_backend.h"

#include <stdlib.h>

#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/hmac.h>

struct dk_bk_md {
    enum wc_HashType type;
    bool hmac;
    union {
        wc_HashAlg hash;
        Hmac hmac;
    } u;
};

static enum wc_HashType hash_type(dk_hash_type alg)
{
    switch (alg) {
    case DK_HASH_MD5: return WC_HASH_TYPE_MD5;
    case DK_HASH_SHA1: return WC_HASH_TYPE_SHA;
    case DK_HASH_SHA256: return WC_HASH_TYPE_SHA256;
    case DK_HASH_SHA384: return WC_HASH_TYPE_SHA384;
    case DK_HASH_SHA512: return WC_HASH_TYPE_SHA512;
    }
    return WC_HASH_TYPE_NONE;
}

/* wc_HmacSetKey's names for the same algorithms. */
static int hmac_type(dk_hash_type alg)
{
    switch (alg) {
    case DK_HASH_MD5: return WC_MD5;
    case DK_HASH_SHA1: return WC_SHA;
    case DK_HASH_SHA256: return WC_SHA256;
    case DK_HASH_SHA384: return WC_SHA384;
    case DK_HASH_SHA512: return WC_SHA512;
    }
    return -1;
}

void dk_wolf_md_free(dk_bk_md *m)
{
    if (!m)
        return;
    if (m->hmac)
        wc_HmacFree(&m->u.hmac);
    else
        wc_HashFree(&m->u.hash, m->type);
    dk_wolf_wipe(m, sizeof *m); /* wolfCrypt's free calls leave the state (HMAC pads) */
    free(m);
}

dk_err dk_wolf_md_create(dk_hash_type alg, const uint8_t *key, size_t key_len, dk_bk_md **out)
{
    enum wc_HashType t = hash_type(alg);
    /* A hash this build was configured without has no size (HASH_TYPE_E):
     * Debian's wolfSSL has MD5, others are built with NO_MD5. */
    if (t == WC_HASH_TYPE_NONE || wc_HashGetDigestSize(t) <= 0)
        return DK_ERR_UNAVAILABLE;
    dk_bk_md *m = calloc(1, sizeof *m);
    if (!m)
        return DK_ERR_NOMEM;
    m->type = t;
    m->hmac = key != NULL;
    int rc;
    if (m->hmac) {
        rc = wc_HmacInit(&m->u.hmac, NULL, INVALID_DEVID);
        if (rc == 0) {
            rc = wc_HmacSetKey(&m->u.hmac, hmac_type(alg), key, (word32)key_len);
            if (rc != 0)
                wc_HmacFree(&m->u.hmac);
        }
    } else {
        rc = wc_HashInit(&m->u.hash, t);
    }
    if (rc != 0) {
        dk_wolf_wipe(m, sizeof *m);
        free(m);
        return DK_ERR_TLS;
    }
    *out = m;
    return DK_OK;
}

dk_err dk_wolf_md_update(dk_bk_md *m, const uint8_t *data, size_t len)
{
    if (len == 0)
        return DK_OK;
    int rc = m->hmac ? wc_HmacUpdate(&m->u.hmac, data, (word32)len)
                     : wc_HashUpdate(&m->u.hash, m->type, data, (word32)len);
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

dk_err dk_wolf_md_finish(dk_bk_md *m, uint8_t *out)
{
    int rc = m->hmac ? wc_HmacFinal(&m->u.hmac, out) : wc_HashFinal(&m->u.hash, m->type, out);
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}
