/* GnuTLS backend: library information, randomness and the HMACs of the
 * core (cookies, PRF, HKDF).
 *
 * gnutls_hmac_init() allocates (the handle and the MAC state), so a cookie
 * HMAC per ClientHello cannot make one per call. Each thread keeps a few
 * keyed handles per algorithm instead: gnutls_hmac_output() writes the MAC
 * and resets the handle to its keyed initial state (nettle's HMAC digest
 * does, both the generic and the x86 accelerated one in GnuTLS 3.7), so a
 * handle is reused for as long as its key is asked for. A key not in the
 * thread's slots replaces the least recently used one (one allocation);
 * the cookie secrets (current and previous) stay, while PRF and HKDF keys
 * pass through. Slots are freed, keys wiped, when the thread exits. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtlskit/dtlskit.h>

#include "gnutls_backend.h"

void dk_gnu_reason(char *reason, size_t cap, const char *what, int err)
{
    if (reason && cap)
        snprintf(reason, cap, "%s: %s", what, gnutls_strerror(err));
}

/* ------------------------------------------------------------- library */

static char version_buf[48];
static pthread_key_t hmac_key;
static bool hmac_key_ok;

static void hmac_cache_destroy(void *p);

static dk_err gnu_init(void)
{
    int rc = gnutls_global_init();
    if (rc < 0)
        return DK_ERR_TLS;
    /* Filled here, where the core serialises the call. */
    const char *v = gnutls_check_version(NULL);
    snprintf(version_buf, sizeof version_buf, "GnuTLS %s", v ? v : "?");
    /* Both fill a static array on their first call without a lock ("not
     * thread safe"): fill them now, so that suite_supported() only reads. */
    (void)gnutls_cipher_list();
    (void)gnutls_kx_list();
    hmac_key_ok = pthread_key_create(&hmac_key, hmac_cache_destroy) == 0;
    return DK_OK;
}

static const char *gnu_version(void)
{
    return version_buf;
}

static bool listed_cipher(gnutls_cipher_algorithm_t c)
{
    for (const gnutls_cipher_algorithm_t *p = gnutls_cipher_list(); *p; p++)
        if (*p == c)
            return true;
    return false;
}

static bool listed_kx(gnutls_kx_algorithm_t k)
{
    for (const gnutls_kx_algorithm_t *p = gnutls_kx_list(); *p; p++)
        if (*p == k)
            return true;
    return false;
}

static uint32_t gnu_caps(void)
{
    /* Key generation, self-signed certificates, encrypted PKCS#8 keys and
     * client certificates are in every GnuTLS 3.7 build; gnutls_dtls_set_mtu
     * makes it fragment its handshake to the MTU. No DTLS 1.3 (GnuTLS 3.7
     * has TLS 1.3 only) and no connection IDs. */
    uint32_t caps = DK_CAP_KEYGEN_RSA | DK_CAP_KEYGEN_EC | DK_CAP_SELF_SIGNED | DK_CAP_CLIENT_AUTH |
                    DK_CAP_ENCRYPTED_KEYS | DK_CAP_MTU;
    if (listed_cipher(GNUTLS_CIPHER_CHACHA20_POLY1305))
        caps |= DK_CAP_CHACHA20;
    return caps;
}

/* GnuTLS 3.7 reseeds its generators in a forked child by itself: a fork
 * handler (or, without one, a getpid() comparison) changes the fork id
 * its per-thread generator checks on every draw (lib/nettle/rnd.c). */
static dk_err gnu_random(void *out, size_t len)
{
    if (len == 0)
        return DK_OK;
    /* The RANDOM level: cookie secrets, ticket keys and serials are
     * secrets, but no long-term private keys, for which KEY would add a
     * reseed per draw. */
    return gnutls_rnd(GNUTLS_RND_RANDOM, out, len) == 0 ? DK_OK : DK_ERR_TLS;
}

/* Whether GnuTLS knows `iana` as a DTLS 1.2 suite with an AEAD cipher this
 * build implements and a key exchange it has. The TLS 1.3 suites are listed
 * too, with no key exchange (GNUTLS_KX_UNKNOWN): they fail the kx check. */
static bool gnu_suite_supported(uint16_t iana)
{
    unsigned char id[2];
    gnutls_kx_algorithm_t kx;
    gnutls_cipher_algorithm_t cipher;
    gnutls_mac_algorithm_t mac;
    gnutls_protocol_t min;
    for (size_t i = 0; gnutls_cipher_suite_info(i, id, &kx, &cipher, &mac, &min); i++) {
        if ((uint16_t)(id[0] << 8 | id[1]) != iana)
            continue;
        switch (kx) {
        case GNUTLS_KX_ECDHE_ECDSA:
        case GNUTLS_KX_ECDHE_RSA:
        case GNUTLS_KX_PSK:
        case GNUTLS_KX_ECDHE_PSK: break;
        default: return false;
        }
        /* The AEAD suites of TLS 1.2 are DTLS 1.2 suites too. */
        return mac == GNUTLS_MAC_AEAD && min <= GNUTLS_TLS1_2 && listed_kx(kx) &&
               listed_cipher(cipher);
    }
    return false;
}

static dk_err gnu_sha256(const void *data, size_t len, uint8_t out[32])
{
    static const uint8_t none[1];
    return gnutls_hash_fast(GNUTLS_DIG_SHA256, len ? data : none, len, out) == 0 ? DK_OK
                                                                                 : DK_ERR_TLS;
}

/* ---------------------------------------------------------------- HMAC */

/* Keys longer than this (none the core uses: cookie secrets are 32 bytes,
 * PRF secrets at most 132 with a 64-byte PSK) get a handle of their own for
 * the call. */
enum { SLOT_KEY_MAX = 160, SLOTS = 4 };

typedef struct hmac_slot {
    gnutls_hmac_hd_t h; /* NULL: empty */
    uint64_t used;      /* the cache's clock at the last use */
    size_t key_len;
    uint8_t key[SLOT_KEY_MAX];
} hmac_slot;

typedef struct hmac_cache {
    uint64_t clock;
    hmac_slot sha256[SLOTS];
    hmac_slot sha384[SLOTS];
} hmac_cache;

static void slot_clear(hmac_slot *s)
{
    if (s->h)
        gnutls_hmac_deinit(s->h, NULL);
    gnutls_memset(s, 0, sizeof *s);
}

static void hmac_cache_destroy(void *p)
{
    hmac_cache *c = p;
    for (size_t i = 0; i < SLOTS; i++) {
        slot_clear(&c->sha256[i]);
        slot_clear(&c->sha384[i]);
    }
    free(c);
}

/* The calling thread's cache, made on its first HMAC; NULL when it cannot
 * be made (the caller then uses a handle for the call). */
static hmac_cache *cache_get(void)
{
    if (!hmac_key_ok)
        return NULL;
    hmac_cache *c = pthread_getspecific(hmac_key);
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (c && pthread_setspecific(hmac_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

/* A handle keyed with `key`, from the slots or keyed into the least
 * recently used one. */
static gnutls_hmac_hd_t slot_handle(hmac_slot *slots, gnutls_mac_algorithm_t alg, uint64_t now,
                                    const void *key, size_t key_len)
{
    hmac_slot *victim = &slots[0];
    for (size_t i = 0; i < SLOTS; i++) {
        hmac_slot *s = &slots[i];
        if (s->h && s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
            s->used = now;
            return s->h;
        }
        if (!s->h || (victim->h && s->used < victim->used))
            victim = s;
    }
    slot_clear(victim);
    if (gnutls_hmac_init(&victim->h, alg, key, key_len) < 0) {
        victim->h = NULL;
        return NULL;
    }
    memcpy(victim->key, key, key_len);
    victim->key_len = key_len;
    victim->used = now;
    return victim->h;
}

static dk_err hmac(gnutls_mac_algorithm_t alg, const void *key, size_t key_len,
                   const dk_bk_iov *parts, size_t nparts, uint8_t *out)
{
    static const uint8_t none[1];
    if (key_len == 0)
        key = none; /* GnuTLS takes an empty key, but not a NULL pointer */
    hmac_cache *c = key_len <= SLOT_KEY_MAX ? cache_get() : NULL;
    gnutls_hmac_hd_t h = NULL;
    bool own = c == NULL;
    if (c)
        h = slot_handle(alg == GNUTLS_MAC_SHA256 ? c->sha256 : c->sha384, alg, ++c->clock, key,
                        key_len);
    else if (gnutls_hmac_init(&h, alg, key, key_len) < 0)
        h = NULL;
    if (!h)
        return DK_ERR_TLS;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nparts; i++)
        if (parts[i].len)
            rc = gnutls_hmac(h, parts[i].data, parts[i].len);
    /* Also after a failed update: it resets the handle for the next call. */
    gnutls_hmac_output(h, out);
    if (own)
        gnutls_hmac_deinit(h, NULL);
    if (rc < 0) {
        gnutls_memset(out, 0, gnutls_hmac_get_len(alg));
        return DK_ERR_TLS;
    }
    return DK_OK;
}

static dk_err gnu_hmac_sha256(const void *key, size_t key_len, const dk_bk_iov *parts,
                              size_t nparts, uint8_t out[32])
{
    return hmac(GNUTLS_MAC_SHA256, key, key_len, parts, nparts, out);
}

static dk_err gnu_hmac_sha384(const void *key, size_t key_len, const dk_bk_iov *parts,
                              size_t nparts, uint8_t out[48])
{
    return hmac(GNUTLS_MAC_SHA384, key, key_len, parts, nparts, out);
}

const dk_bk_library_ops dk_gnu_library_ops = {
    .size = sizeof(dk_bk_library_ops),
    .init = gnu_init,
    .version = gnu_version,
    .caps = gnu_caps,
    .random = gnu_random,
    .hmac_sha256 = gnu_hmac_sha256,
    .sha256 = gnu_sha256,
    .hmac_sha384 = gnu_hmac_sha384,
    .suite_supported = gnu_suite_supported,
    /* GnuTLS takes PSKs of any length; RFC 4279 keys in practice, and the
     * core's limit for every backend, are at most 64 bytes. */
    .psk_key_max = 64,
};
