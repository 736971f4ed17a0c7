/* OpenSSL backend: hashes and HMACs for the public crypto ops
 * (crypto_ops.h), through EVP_MD_CTX and EVP_MAC. Not on any hot path: the
 * cookie and PRF HMACs are openssl_hmac.c's. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "openssl_backend.h"

struct dk_bk_md {
    EVP_MD_CTX *md;   /* plain hash */
    EVP_MAC_CTX *mac; /* HMAC */
};

static const char *md_name(dk_hash_type alg)
{
    switch (alg) {
    case DK_HASH_MD5: return "MD5";
    case DK_HASH_SHA1: return "SHA1";
    case DK_HASH_SHA256: return "SHA256";
    case DK_HASH_SHA384: return "SHA384";
    case DK_HASH_SHA512: return "SHA512";
    }
    return NULL;
}

void dk_ossl_md_free(dk_bk_md *m)
{
    if (!m)
        return;
    EVP_MD_CTX_free(m->md);   /* cleanses its state */
    EVP_MAC_CTX_free(m->mac); /* likewise, key included */
    free(m);
}

dk_err dk_ossl_md_create(dk_hash_type alg, const uint8_t *key, size_t key_len, dk_bk_md **out)
{
    const char *name = md_name(alg);
    if (!name)
        return DK_ERR_UNAVAILABLE;
    dk_bk_md *m = calloc(1, sizeof *m);
    if (!m)
        return DK_ERR_NOMEM;
    dk_err e = DK_ERR_TLS;
    if (!key) {
        EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
        if (!md) {
            e = DK_ERR_UNAVAILABLE;
            goto fail;
        }
        m->md = EVP_MD_CTX_new();
        int ok = m->md && EVP_DigestInit_ex2(m->md, md, NULL) == 1;
        EVP_MD_free(md); /* the context keeps its own reference */
        if (!ok)
            goto fail;
    } else {
        EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
        if (!md) {
            e = DK_ERR_UNAVAILABLE;
            goto fail;
        }
        EVP_MD_free(md);
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!mac)
            goto fail;
        m->mac = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0),
            OSSL_PARAM_construct_end(),
        };
        if (!m->mac || EVP_MAC_init(m->mac, key, key_len, params) != 1)
            goto fail;
    }
    *out = m;
    return DK_OK;
fail:
    dk_ossl_reason(NULL, 0, "");
    dk_ossl_md_free(m);
    return e;
}

dk_err dk_ossl_md_update(dk_bk_md *m, const uint8_t *data, size_t len)
{
    if (len == 0)
        return DK_OK;
    int ok = m->md ? EVP_DigestUpdate(m->md, data, len) : EVP_MAC_update(m->mac, data, len);
    return ok == 1 ? DK_OK : DK_ERR_TLS;
}

dk_err dk_ossl_md_finish(dk_bk_md *m, uint8_t *out)
{
    int ok;
    if (m->md) {
        unsigned n = 0;
        ok = EVP_DigestFinal_ex(m->md, out, &n);
    } else {
        size_t n = 0;
        ok = EVP_MAC_final(m->mac, out, &n, EVP_MAX_MD_SIZE);
    }
    if (ok != 1) {
        dk_ossl_reason(NULL, 0, "");
        return DK_ERR_TLS;
    }
    return DK_OK;
}
