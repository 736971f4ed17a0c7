/* The core's DTLS 1.2 record layer after the hand-off (see record.h). */
#include "record.h"

#include <string.h>

#include "gate.h"
#include "library.h"
#include "prf.h"

/* AEAD suites the core protects, in the default order of preference
 * (core/suites.c filters it). */
static const dk__suite suites[] = {
    {0xC02B, DK_BK_AES_128_GCM, 16, 4, 8, 16, false, DK__AUTH_ECDSA,
     "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xC02F, DK_BK_AES_128_GCM, 16, 4, 8, 16, false, DK__AUTH_RSA,
     "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xCCA9, DK_BK_CHACHA20_POLY1305, 32, 12, 0, 16, false, DK__AUTH_ECDSA,
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xCCA8, DK_BK_CHACHA20_POLY1305, 32, 12, 0, 16, false, DK__AUTH_RSA,
     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xC02C, DK_BK_AES_256_GCM, 32, 4, 8, 16, true, DK__AUTH_ECDSA,
     "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xC030, DK_BK_AES_256_GCM, 32, 4, 8, 16, true, DK__AUTH_RSA,
     "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xC0AE, DK_BK_AES_128_CCM_8, 16, 4, 8, 8, false, DK__AUTH_ECDSA,
     "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"},
    {0xCCAC, DK_BK_CHACHA20_POLY1305, 32, 12, 0, 16, false, DK__AUTH_ECDHE_PSK,
     "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0x00A8, DK_BK_AES_128_GCM, 16, 4, 8, 16, false, DK__AUTH_PSK,
     "TLS_PSK_WITH_AES_128_GCM_SHA256"},
    {0xC0A8, DK_BK_AES_128_CCM_8, 16, 4, 8, 8, false, DK__AUTH_PSK, "TLS_PSK_WITH_AES_128_CCM_8"},
    {0xCCAB, DK_BK_CHACHA20_POLY1305, 32, 12, 0, 16, false, DK__AUTH_PSK,
     "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"},
};

size_t dk__record_suite_count(void)
{
    return sizeof suites / sizeof suites[0];
}

const dk__suite *dk__record_suite_at(size_t i)
{
    return i < dk__record_suite_count() ? &suites[i] : NULL;
}

const dk__suite *dk__record_suite(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

/* ------------------------------------------------------ key cache (LRU) */

static void lru_unlink(dk__record *r)
{
    dk__aead_cache *c = r->cache;
    if (!r->in_lru)
        return;
    if (r->lru_prev)
        r->lru_prev->lru_next = r->lru_next;
    else
        c->head = r->lru_next;
    if (r->lru_next)
        r->lru_next->lru_prev = r->lru_prev;
    else
        c->tail = r->lru_prev;
    r->lru_prev = r->lru_next = NULL;
    r->in_lru = false;
    c->count--;
}

static void drop_expanded(dk__record *r)
{
    if (r->w.aead)
        DK__BK->aead->free(r->w.aead);
    if (r->r.aead)
        DK__BK->aead->free(r->r.aead);
    r->w.aead = r->r.aead = NULL;
}

static void lru_evict_to(dk__aead_cache *c, unsigned cap)
{
    while (c->count > cap && c->tail) {
        dk__record *victim = c->tail;
        lru_unlink(victim);
        drop_expanded(victim);
    }
}

void dk__aead_cache_set_cap(dk__aead_cache *c, unsigned cap)
{
    c->cap = cap;
    lru_evict_to(c, cap);
}

/* Marks `r` most recently used (making room for it first). */
static void lru_touch(dk__record *r)
{
    dk__aead_cache *c = r->cache;
    if (!c || (r->in_lru && c->head == r))
        return;
    if (r->in_lru) {
        lru_unlink(r);
    } else {
        lru_evict_to(c, c->cap ? c->cap - 1 : 0);
    }
    r->lru_prev = NULL;
    r->lru_next = c->head;
    if (c->head)
        c->head->lru_prev = r;
    c->head = r;
    if (!c->tail)
        c->tail = r;
    r->in_lru = true;
    c->count++;
}

/* The expanded key of one direction, built on first use. */
static dk_bk_aead *expanded(dk__record *r, dk__rec_dir *d)
{
    lru_touch(r);
    if (!d->aead && DK__BK->aead->create((dk_bk_aead_alg)r->suite->alg, d->key, r->suite->key_len,
                                         &d->aead) != DK_OK)
        d->aead = NULL;
    return d->aead;
}

/* ------------------------------------------------------------- set-up */

dk_err dk__record_init(dk__record *r, dk__aead_cache *cache, bool server, const dk_bk_secrets *sec,
                       uint64_t write_seq)
{
    memset(r, 0, sizeof *r);
    const dk__suite *s = dk__record_suite(sec->suite);
    if (!s || !DK__BK_HAS(aead, create))
        return DK_ERR_UNAVAILABLE;
    /* key_block = PRF(master, "key expansion", server_random +
     * client_random): client key, server key, client IV, server IV (AEAD
     * suites have no MAC keys). */
    uint8_t kb[2 * 32 + 2 * 12];
    size_t kl = s->key_len, il = s->fixed_iv_len;
    dk_err e = dk__prf(s->sha384, sec->master_secret, sizeof sec->master_secret, "key expansion",
                       sec->server_random, 32, sec->client_random, 32, kb, 2 * (kl + il));
    if (e != DK_OK) {
        explicit_bzero(kb, sizeof kb);
        return e;
    }
    dk__rec_dir *cw = server ? &r->r : &r->w, *sw = server ? &r->w : &r->r;
    memcpy(cw->key, kb, kl);
    memcpy(sw->key, kb + kl, kl);
    memcpy(cw->iv, kb + 2 * kl, il);
    memcpy(sw->iv, kb + 2 * kl + il, il);
    explicit_bzero(kb, sizeof kb);
    r->suite = s;
    r->cache = cache;
    r->write_seq = write_seq;
    /* Expanding both keys now proves the backend has the algorithm before
     * the session depends on it. */
    if (!expanded(r, &r->w) || !expanded(r, &r->r)) {
        dk__record_clear(r);
        return DK_ERR_UNAVAILABLE;
    }
    return DK_OK;
}

void dk__record_clear(dk__record *r)
{
    if (r->cache)
        lru_unlink(r);
    if (r->suite)
        drop_expanded(r);
    explicit_bzero(r, sizeof *r);
}

size_t dk__record_overhead(const dk__record *r)
{
    return DK__REC_HDR + r->suite->explicit_len + r->suite->tag_len;
}

/* ------------------------------------------------------------ records */

static void put48(uint8_t *p, uint64_t v)
{
    for (int i = 5; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get48(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | p[i];
    return v;
}

/* The per-record nonce: salt || explicit part (GCM, CCM: RFC 5288 3,
 * RFC 6655 3) or the fixed IV xor the 64-bit epoch||seq (RFC 7905 2). */
static void make_nonce(const dk__suite *s, const dk__rec_dir *d, const uint8_t seq8[8],
                       const uint8_t *explicit_part, uint8_t nonce[12])
{
    if (s->explicit_len) {
        memcpy(nonce, d->iv, 4);
        memcpy(nonce + 4, explicit_part, 8);
        return;
    }
    memcpy(nonce, d->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= seq8[i];
}

/* Additional data: epoch||seq, type, version, plaintext length (RFC 5246
 * 6.2.3.3 with DTLS's 8-byte sequence, RFC 6347 4.1.2.1). */
static void make_aad(const uint8_t seq8[8], uint8_t type, size_t plain_len, uint8_t aad[13])
{
    memcpy(aad, seq8, 8);
    aad[8] = type;
    aad[9] = 0xfe;
    aad[10] = 0xfd;
    aad[11] = (uint8_t)(plain_len >> 8);
    aad[12] = (uint8_t)plain_len;
}

static dk_err seal_with(dk__record *r, dk__rec_dir *d, uint8_t type, uint64_t seq,
                        const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
    const dk__suite *s = r->suite;
    if (len > DK__REC_PLAIN_MAX)
        return DK_ERR_TOO_BIG;
    dk_bk_aead *a = expanded(r, d);
    if (!a)
        return DK_ERR_NOMEM;
    uint8_t seq8[8] = {0, 1}; /* epoch 1 */
    put48(seq8 + 2, seq);
    size_t body = s->explicit_len + len + s->tag_len;
    out[0] = type;
    out[1] = 0xfe;
    out[2] = 0xfd;
    memcpy(out + 3, seq8, 8);
    out[11] = (uint8_t)(body >> 8);
    out[12] = (uint8_t)body;
    /* The explicit nonce is the record's own epoch||seq: unique per key. */
    memcpy(out + DK__REC_HDR, seq8, s->explicit_len);
    uint8_t nonce[12], aad[13];
    make_nonce(s, d, seq8, seq8, nonce);
    make_aad(seq8, type, len, aad);
    dk_err e =
        DK__BK->aead->seal(a, nonce, aad, sizeof aad, in, len, out + DK__REC_HDR + s->explicit_len);
    if (e != DK_OK)
        return e;
    *out_len = DK__REC_HDR + body;
    return DK_OK;
}

dk_err dk__record_seal(dk__record *r, uint8_t type, const uint8_t *in, size_t len, uint8_t *out,
                       size_t *out_len)
{
    if (r->write_seq > DK__REC_SEQ_MAX)
        return DK_ERR_CLOSED;
    dk_err e = seal_with(r, &r->w, type, r->write_seq, in, len, out, out_len);
    if (e == DK_OK)
        r->write_seq++; /* never reused, even if the datagram is lost */
    return e;
}

dk_err dk__record_seal_as_peer(dk__record *r, uint8_t type, uint64_t seq, const uint8_t *in,
                               size_t len, uint8_t *out, size_t *out_len)
{
    return seal_with(r, &r->r, type, seq, in, len, out, out_len);
}

/* RFC 6347 4.1.2.6: a sliding window over the highest number seen. */
static bool replayed(const dk__record *r, uint64_t seq)
{
    if (!r->rx_any || seq > r->rx_top)
        return false;
    uint64_t back = r->rx_top - seq;
    return back >= DK__REC_WINDOW || (r->rx_bits >> back & 1);
}

void dk__record_mark(dk__record *r, uint64_t seq)
{
    if (!r->rx_any) {
        r->rx_any = true;
        r->rx_top = seq;
        r->rx_bits = 1;
    } else if (seq > r->rx_top) {
        uint64_t shift = seq - r->rx_top;
        r->rx_bits = shift >= DK__REC_WINDOW ? 1 : r->rx_bits << shift | 1;
        r->rx_top = seq;
    } else if (r->rx_top - seq < DK__REC_WINDOW) {
        r->rx_bits |= 1ull << (r->rx_top - seq);
    }
}

dk__open_result dk__record_open(dk__record *r, const uint8_t *rec, size_t rec_len, uint8_t *out,
                                size_t *out_len)
{
    const dk__suite *s = r->suite;
    if (rec_len < DK__REC_HDR + (size_t)s->explicit_len + s->tag_len || rec[3] != 0 || rec[4] != 1)
        return DK__OPEN_BAD;
    uint64_t seq = get48(rec + 5);
    if (replayed(r, seq))
        return DK__OPEN_REPLAY;
    dk_bk_aead *a = expanded(r, &r->r);
    if (!a)
        return DK__OPEN_NOMEM;
    size_t ct = rec_len - DK__REC_HDR - s->explicit_len; /* ciphertext and tag */
    size_t plain = ct - s->tag_len;
    uint8_t nonce[12], aad[13];
    make_nonce(s, &r->r, rec + 3, rec + DK__REC_HDR, nonce);
    make_aad(rec + 3, rec[0], plain, aad);
    if (DK__BK->aead->open(a, nonce, aad, sizeof aad, rec + DK__REC_HDR + s->explicit_len, ct,
                           out) != DK_OK)
        return DK__OPEN_BAD;
    dk__record_mark(r, seq);
    *out_len = plain;
    return DK__OPEN_OK;
}
