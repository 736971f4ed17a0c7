/* Random bytes, hashing and HMAC (Godot's Crypto.generate_random_bytes,
 * HashingContext, HMACContext), through the backend's crypto ops, and the
 * constant-time comparison, which needs no backend. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "library.h"

/* Longest request the backends' generators take in one call (mbedTLS
 * 2.28's CTR_DRBG: MBEDTLS_CTR_DRBG_MAX_REQUEST, 1024 bytes). */
#define RANDOM_CHUNK 1024
/* Longest piece handed to md_update() at once (wolfCrypt counts in
 * 32-bit words). */
#define UPDATE_CHUNK ((size_t)1 << 30)

size_t dk_hash_size(dk_hash_type type)
{
    switch (type) {
    case DK_HASH_MD5: return 16;
    case DK_HASH_SHA1: return 20;
    case DK_HASH_SHA256: return 32;
    case DK_HASH_SHA384: return 48;
    case DK_HASH_SHA512: return 64;
    }
    return 0;
}

static const char *hash_name(dk_hash_type type)
{
    switch (type) {
    case DK_HASH_MD5: return "MD5";
    case DK_HASH_SHA1: return "SHA-1";
    case DK_HASH_SHA256: return "SHA-256";
    case DK_HASH_SHA384: return "SHA-384";
    case DK_HASH_SHA512: return "SHA-512";
    }
    return "?";
}

dk_err dk_random_bytes(void *out, size_t len)
{
    if (!out)
        return DK_FAIL(DK_ERR_INVALID, "out is NULL");
    if (len == 0)
        return DK_FAIL(DK_ERR_INVALID, "no bytes asked for");
    dk_err e = dk_init();
    if (e != DK_OK)
        return e;
    if (!DK__BK_HAS(library, random))
        return DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' has no random generator", DK__BK->name);
    for (size_t off = 0; off < len;) {
        size_t n = len - off < RANDOM_CHUNK ? len - off : RANDOM_CHUNK;
        e = DK__BK->library->random((uint8_t *)out + off, n);
        if (e != DK_OK) {
            memset(out, 0, len); /* never half-random bytes */
            return DK_FAIL(e, "the backend's generator failed");
        }
        off += n;
    }
    return DK_OK;
}

/* ------------------------------------------------- hash and HMAC contexts */

enum md_state { MD_RUNNING, MD_FINISHED, MD_FAILED };

/* The one implementation behind dk_hash_ctx and dk_hmac_ctx. */
typedef struct md {
    dk_hash_type type;
    enum md_state state;
    dk_bk_md *bk;
} md;

struct dk_hash_ctx {
    md m;
};

struct dk_hmac_ctx {
    md m;
};

static bool crypto_has_md(void)
{
    return DK__BK_HAS(crypto, md_create) && DK__BK_HAS(crypto, md_update) &&
           DK__BK_HAS(crypto, md_finish) && DK__BK_HAS(crypto, md_free);
}

/* Starts `m`; `key` NULL for a plain hash. */
static dk_err md_start(md *m, const char *func, dk_hash_type type, const void *key, size_t key_len)
{
    dk_err e = dk_init();
    if (e != DK_OK)
        return e;
    if (dk_hash_size(type) == 0)
        return dk__fail(DK_ERR_INVALID, func, "unknown hash type %d", (int)type);
    if (!crypto_has_md())
        return dk__fail(DK_ERR_UNAVAILABLE, func, "backend '%s' cannot hash", DK__BK->name);
    dk_bk_md *bk = NULL;
    e = DK__BK->crypto->md_create(type, key, key_len, &bk);
    if (e != DK_OK)
        return dk__fail(e, func, "%s%s: %s", key ? "HMAC-" : "", hash_name(type),
                        e == DK_ERR_UNAVAILABLE ? "not in this library build" : dk_strerror(e));
    m->type = type;
    m->state = MD_RUNNING;
    m->bk = bk;
    return DK_OK;
}

static dk_err md_check(const md *m, const char *func)
{
    if (!m)
        return dk__fail(DK_ERR_INVALID, func, "context is NULL");
    if (m->state == MD_FINISHED)
        return dk__fail(DK_ERR_STATE, func, "the context is finished: start a new one");
    if (m->state == MD_FAILED)
        return dk__fail(DK_ERR_STATE, func, "the context failed earlier");
    return DK_OK;
}

static void md_release(md *m)
{
    if (m->bk)
        DK__BK->crypto->md_free(m->bk);
    m->bk = NULL;
}

static dk_err md_update(md *m, const char *func, const void *data, size_t len)
{
    dk_err e = md_check(m, func);
    if (e != DK_OK)
        return e;
    if (!data && len)
        return dk__fail(DK_ERR_INVALID, func, "data is NULL");
    const uint8_t *p = data;
    do {
        size_t n = len < UPDATE_CHUNK ? len : UPDATE_CHUNK;
        e = DK__BK->crypto->md_update(m->bk, p, n);
        if (e != DK_OK) {
            m->state = MD_FAILED;
            md_release(m);
            return dk__fail(e, func, "the backend failed to hash");
        }
        p += n;
        len -= n;
    } while (len);
    return DK_OK;
}

static dk_err md_finish(md *m, const char *func, uint8_t *out, size_t cap, size_t *len)
{
    dk_err e = md_check(m, func);
    if (e != DK_OK)
        return e;
    if (!out || !len)
        return dk__fail(DK_ERR_INVALID, func, "out or len is NULL");
    size_t size = dk_hash_size(m->type);
    if (cap < size) {
        *len = size;
        return dk__fail(DK_ERR_BUFFER_TOO_SMALL, func, "%s needs %zu bytes, the buffer has %zu",
                        hash_name(m->type), size, cap);
    }
    e = DK__BK->crypto->md_finish(m->bk, out);
    md_release(m);
    if (e != DK_OK) {
        m->state = MD_FAILED;
        memset(out, 0, size);
        return dk__fail(e, func, "the backend failed to finish the hash");
    }
    m->state = MD_FINISHED;
    *len = size;
    return DK_OK;
}

/* Both context types hold one md and nothing else: one way to make them. */
static md *md_new(const char *func, dk_hash_type type, const void *key, size_t key_len, dk_err *err)
{
    md *m = calloc(1, sizeof *m);
    if (!m) {
        dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "out of memory"));
        return NULL;
    }
    dk_err e = md_start(m, func, type, key, key_len);
    dk__set_err(err, e);
    if (e != DK_OK) {
        free(m);
        return NULL;
    }
    return m;
}

_Static_assert(sizeof(struct dk_hash_ctx) == sizeof(md) && sizeof(struct dk_hmac_ctx) == sizeof(md),
               "a context is its md");

dk_hash_ctx *dk_hash_start(dk_hash_type type, dk_err *err)
{
    return (dk_hash_ctx *)md_new(__func__, type, NULL, 0, err);
}

dk_err dk_hash_update(dk_hash_ctx *ctx, const void *data, size_t len)
{
    return md_update(ctx ? &ctx->m : NULL, __func__, data, len);
}

dk_err dk_hash_finish(dk_hash_ctx *ctx, uint8_t *out, size_t cap, size_t *len)
{
    return md_finish(ctx ? &ctx->m : NULL, __func__, out, cap, len);
}

void dk_hash_free(dk_hash_ctx *ctx)
{
    if (!ctx)
        return;
    md_release(&ctx->m);
    free(ctx);
}

static dk_err check_key(const char *func, const void *key, size_t key_len)
{
    if (!key)
        return dk__fail(DK_ERR_INVALID, func, "key is NULL");
    if (key_len == 0)
        return dk__fail(DK_ERR_INVALID, func, "the key is empty");
    if (key_len > DK_HMAC_KEY_MAX)
        return dk__fail(DK_ERR_INVALID, func, "a %zu-byte key: at most %d bytes", key_len,
                        DK_HMAC_KEY_MAX);
    return DK_OK;
}

dk_hmac_ctx *dk_hmac_start(dk_hash_type type, const void *key, size_t key_len, dk_err *err)
{
    dk_err e = check_key(__func__, key, key_len);
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    return (dk_hmac_ctx *)md_new(__func__, type, key, key_len, err);
}

dk_err dk_hmac_update(dk_hmac_ctx *ctx, const void *data, size_t len)
{
    return md_update(ctx ? &ctx->m : NULL, __func__, data, len);
}

dk_err dk_hmac_finish(dk_hmac_ctx *ctx, uint8_t *out, size_t cap, size_t *len)
{
    return md_finish(ctx ? &ctx->m : NULL, __func__, out, cap, len);
}

void dk_hmac_free(dk_hmac_ctx *ctx)
{
    if (!ctx)
        return;
    md_release(&ctx->m);
    free(ctx);
}

/* One-shot: the output checks come first, so that a bad call changes
 * nothing and costs nothing. */
static dk_err digest(const char *func, dk_hash_type type, const void *key, size_t key_len,
                     const void *data, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!out || !out_len)
        return dk__fail(DK_ERR_INVALID, func, "out or out_len is NULL");
    if (!data && len)
        return dk__fail(DK_ERR_INVALID, func, "data is NULL");
    size_t size = dk_hash_size(type);
    if (size == 0)
        return dk__fail(DK_ERR_INVALID, func, "unknown hash type %d", (int)type);
    if (cap < size) {
        *out_len = size;
        return dk__fail(DK_ERR_BUFFER_TOO_SMALL, func, "%s needs %zu bytes, the buffer has %zu",
                        hash_name(type), size, cap);
    }
    md m = {0};
    dk_err e = md_start(&m, func, type, key, key_len);
    if (e == DK_OK)
        e = md_update(&m, func, data, len);
    if (e == DK_OK)
        e = md_finish(&m, func, out, cap, out_len);
    md_release(&m);
    return e;
}

dk_err dk_hash_digest(dk_hash_type type, const void *data, size_t len, uint8_t *out, size_t cap,
                      size_t *out_len)
{
    return digest(__func__, type, NULL, 0, data, len, out, cap, out_len);
}

dk_err dk_hmac_digest(dk_hash_type type, const void *key, size_t key_len, const void *data,
                      size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    dk_err e = check_key(__func__, key, key_len);
    if (e != DK_OK)
        return e;
    return digest(__func__, type, key, key_len, data, len, out, cap, out_len);
}

/* ------------------------------------------------------------ comparison */

bool dk_constant_time_compare(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if (a_len != b_len)
        return false;
    if ((!a || !b) && a_len) {
        DK_FAIL(DK_ERR_INVALID, "NULL with a length of %zu", a_len);
        return false;
    }
    /* Every byte is read whatever the earlier ones were; the volatile
     * accumulator keeps the compiler from stopping at the first
     * difference. */
    const volatile uint8_t *x = a, *y = b;
    volatile uint8_t diff = 0;
    for (size_t i = 0; i < a_len; i++)
        diff |= (uint8_t)(x[i] ^ y[i]);
    return diff == 0;
}
