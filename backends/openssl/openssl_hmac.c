/* OpenSSL backend: HMAC-SHA256 for cookies and HMAC-SHA384 for the PRF,
 * allocating nothing per call.
 *
 * A cookie is one HMAC per ClientHello from an unknown source, spoofed
 * ones included, so it must not touch the heap. In OpenSSL 3.0 every EVP
 * path does: a reused EVP_MAC_CTX still makes 5 mallocs per HMAC (digest
 * contexts duplicated at each key setting and final), and even
 * EVP_DigestInit_ex2 on a reused EVP_MD_CTX frees and re-creates the
 * provider's digest state (1 malloc per init). The low-level SHA256_* and
 * SHA384_* functions work on a context on the stack; they are deprecated
 * in 3.0 but built by default, so they are used with the warning
 * suppressed and HMAC (RFC 2104) written out over them. A libcrypto built without the
 * 3.0 deprecated API gets the EVP_MD_CTX fallback: one context per thread
 * (freed at thread exit), 2 mallocs per HMAC. */
#define OPENSSL_SUPPRESS_DEPRECATED /* before any OpenSSL header */

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslconf.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <string.h>

#include "openssl_backend.h"

/* Largest block and digest: SHA-384's. */
enum { BLOCK_MAX = 128, HASH_MAX = 48 };

#ifndef OPENSSL_NO_DEPRECATED_3_0

typedef struct hash_ctx {
    bool sha384;
    union {
        SHA256_CTX s256;
        SHA512_CTX s384;
    } u;
} hash_ctx;

static bool hash_init(hash_ctx *c, bool sha384)
{
    c->sha384 = sha384;
    return (sha384 ? SHA384_Init(&c->u.s384) : SHA256_Init(&c->u.s256)) == 1;
}

static bool hash_update(hash_ctx *c, const void *d, size_t n)
{
    return (c->sha384 ? SHA384_Update(&c->u.s384, d, n) : SHA256_Update(&c->u.s256, d, n)) == 1;
}

static bool hash_final(hash_ctx *c, uint8_t *out)
{
    bool ok = (c->sha384 ? SHA384_Final(out, &c->u.s384) : SHA256_Final(out, &c->u.s256)) == 1;
    OPENSSL_cleanse(c, sizeof *c); /* it held key-derived state */
    return ok;
}

#else

#include <pthread.h>

typedef struct hash_ctx {
    EVP_MD_CTX *md;
} hash_ctx;

static EVP_MD *md_sha256, *md_sha384;
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;
static pthread_key_t hash_key; /* the thread's EVP_MD_CTX, freed at its exit */
static bool hash_key_ok;

static void ctx_destroy(void *p)
{
    EVP_MD_CTX_free(p);
}

static void hash_setup(void)
{
    /* not looked up per call */
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
    hash_key_ok = pthread_key_create(&hash_key, ctx_destroy) == 0;
}

static bool hash_init(hash_ctx *c, bool sha384)
{
    c->md = NULL;
    pthread_once(&hash_once, hash_setup);
    const EVP_MD *md = sha384 ? md_sha384 : md_sha256;
    if (!md || !hash_key_ok)
        return false;
    c->md = pthread_getspecific(hash_key);
    if (!c->md) {
        c->md = EVP_MD_CTX_new();
        if (!c->md)
            return false;
        if (pthread_setspecific(hash_key, c->md) != 0) {
            EVP_MD_CTX_free(c->md);
            c->md = NULL;
            return false;
        }
    }
    return EVP_DigestInit_ex2(c->md, md, NULL) == 1;
}

static bool hash_update(hash_ctx *c, const void *d, size_t n)
{
    return EVP_DigestUpdate(c->md, d, n) == 1;
}

static bool hash_final(hash_ctx *c, uint8_t *out)
{
    unsigned n = 0;
    return c->md && EVP_DigestFinal_ex(c->md, out, &n) == 1;
}

#endif

/* H((k ^ x) || parts...) into out; k is `block` bytes. */
static bool hash_padded(bool sha384, const uint8_t *k, size_t block, uint8_t x,
                        const dk_bk_iov *parts, size_t nparts, uint8_t *out)
{
    hash_ctx c;
    uint8_t pad[BLOCK_MAX];
    for (size_t i = 0; i < block; i++)
        pad[i] = k[i] ^ x;
    bool ok = hash_init(&c, sha384) && hash_update(&c, pad, block);
    OPENSSL_cleanse(pad, sizeof pad);
    for (size_t i = 0; ok && i < nparts; i++)
        if (parts[i].len)
            ok = hash_update(&c, parts[i].data, parts[i].len);
    /* Final even after a failure: it wipes the low-level context. */
    return hash_final(&c, out) && ok;
}

/* HMAC (RFC 2104) over SHA-256 (block 64, digest 32) or SHA-384 (128, 48). */
static dk_err hmac(bool sha384, const void *key, size_t key_len, const dk_bk_iov *parts,
                   size_t nparts, uint8_t *out)
{
    size_t block = sha384 ? 128 : 64, hash = sha384 ? 48 : 32;
    uint8_t k[BLOCK_MAX] = {0}, inner[HASH_MAX];
    bool ok = true;
    if (key_len > block) { /* longer keys are hashed first */
        hash_ctx c;
        ok = hash_init(&c, sha384) && hash_update(&c, key, key_len);
        ok = hash_final(&c, k) && ok;
    } else if (key_len) {
        memcpy(k, key, key_len);
    }
    if (ok)
        ok = hash_padded(sha384, k, block, 0x36, parts, nparts, inner);
    if (ok) {
        const dk_bk_iov outer = {inner, hash};
        ok = hash_padded(sha384, k, block, 0x5c, &outer, 1, out);
    }
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(inner, sizeof inner);
    return ok ? DK_OK : DK_ERR_TLS;
}

dk_err dk_ossl_hmac_sha256(const void *key, size_t key_len, const dk_bk_iov *parts, size_t nparts,
                           uint8_t out[32])
{
    return hmac(false, key, key_len, parts, nparts, out);
}

dk_err dk_ossl_hmac_sha384(const void *key, size_t key_len, const dk_bk_iov *parts, size_t nparts,
                           uint8_t out[48])
{
    return hmac(true, key, key_len, parts, nparts, out);
}
