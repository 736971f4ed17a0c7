/* Unit tests of the core's internal pieces: hashing, the peer table, packet
 * buffers, addresses, PEM armour, errors and logging. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtlskit/backend.h>

#include "addr.h"
#include "admission.h"
#include "clienthello.h"
#include "clock.h"
#include "cookie.h"
#include "error.h"
#include "gate.h"
#include "kdf.h"
#include "peer_table.h"
#include "pem.h"
#include "pktbuf.h"
#include "siphash.h"
#include "tickets.h"
#include "testutil.h"

START_TEST(siphash_known_answers)
{
    /* SipHash-1-3 with the all-zero key, as published by implementations
     * that use it. */
    uint8_t key[16] = {0};
    ck_assert_uint_eq(dk__siphash13(key, "", 0), 0xd1fba762150c532cULL);
    ck_assert_uint_eq(dk__siphash13(key, "siphash", 7), 0x8264ceeccb16bcbeULL);
    /* Every input length goes through the tail path once. */
    uint8_t k2[16], msg[40];
    for (int i = 0; i < 16; i++)
        k2[i] = (uint8_t)i;
    for (int i = 0; i < 40; i++)
        msg[i] = (uint8_t)i;
    uint64_t prev = 0;
    for (size_t len = 0; len < sizeof msg; len++) {
        uint64_t h = dk__siphash13(k2, msg, len);
        ck_assert_uint_ne(h, prev);
        ck_assert_uint_eq(h, dk__siphash13(k2, msg, len));
        prev = h;
    }
    k2[0] ^= 1;
    ck_assert_uint_ne(dk__siphash13(k2, msg, 18), dk__siphash13(key, msg, 18));
}
END_TEST

typedef struct item {
    dk__tnode node;
    int id;
} item;

START_TEST(peer_table_many)
{
    dk__table t;
    ck_assert_dk_ok(dk__table_init(&t));
    enum { N = 10000 };
    item *items = calloc(N, sizeof *items);
    for (int i = 0; i < N; i++) {
        dk__addr a;
        char ip[32];
        snprintf(ip, sizeof ip, "127.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        ck_assert_dk_ok(dk__addr_parse(ip, 1000 + i % 7, &a));
        dk__table_key(&t, &a, &items[i].node);
        items[i].id = i;
        ck_assert_ptr_null(dk__table_find(&t, &items[i].node));
        ck_assert_dk_ok(dk__table_insert(&t, &items[i].node));
    }
    ck_assert_uint_eq(t.count, N);
    ck_assert_uint_ge(t.mask + 1, N / 2); /* grew */
    for (int i = 0; i < N; i++) {
        dk__tnode *n = dk__table_find(&t, &items[i].node);
        ck_assert_ptr_eq(n, &items[i].node);
    }
    for (int i = 0; i < N; i += 2)
        dk__table_remove(&t, &items[i].node);
    ck_assert_uint_eq(t.count, N / 2);
    for (int i = 0; i < N; i++) {
        dk__tnode *n = dk__table_find(&t, &items[i].node);
        if (i % 2)
            ck_assert_ptr_eq(n, &items[i].node);
        else
            ck_assert_ptr_null(n);
    }
    dk__table_destroy(&t);
    free(items);
}
END_TEST

START_TEST(pool_reuses_buffers)
{
    dk__pool pool;
    dk__pool_init(&pool, 1 << 20);
    dk__pktq q;
    dk__pktq_init(&q);
    /* Warm up, then every later get must come from the free list. */
    dk__pkt *seen[8];
    for (int i = 0; i < 8; i++) {
        seen[i] = dk__pool_get(&pool, 1200);
        ck_assert_ptr_nonnull(seen[i]);
        dk__pktq_push(&q, seen[i]);
    }
    ck_assert_uint_eq(q.count, 8);
    ck_assert_uint_eq(q.bytes, 8 * 1200);
    dk__pktq_clear(&q, &pool);
    ck_assert_uint_eq(pool.outstanding, 0);
    for (int round = 0; round < 100; round++) {
        dk__pkt *p = dk__pool_get(&pool, 1100 + (size_t)round);
        bool reused = false;
        for (int i = 0; i < 8; i++)
            reused |= p == seen[i];
        ck_assert(reused);
        dk__pool_put(&pool, p);
    }
    /* Size classes: tiny, exact powers and the 64 KiB ceiling. */
    dk__pkt *a = dk__pool_get(&pool, 0), *b = dk__pool_get(&pool, 65536);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_null(dk__pool_get(&pool, 65537));
    dk__pool_put(&pool, a);
    dk__pool_put(&pool, b);
    /* The cache limit frees what does not fit. */
    dk__pool small;
    dk__pool_init(&small, 1000);
    dk__pkt *c = dk__pool_get(&small, 2000);
    dk__pool_put(&small, c);
    ck_assert_uint_eq(small.cached_bytes, 0);
    dk__pool_destroy(&small);
    dk__pool_destroy(&pool);
}
END_TEST

START_TEST(addresses)
{
    dk__addr a, b, m;
    char s[64];
    ck_assert_dk_ok(dk__addr_parse("127.0.0.1", 4242, &a));
    ck_assert_int_eq(a.u.sa.sa_family, AF_INET);
    ck_assert_int_eq(dk__addr_port(&a), 4242);
    ck_assert(dk__addr_for_family(&a, AF_INET6, &m));
    ck_assert_int_eq(m.u.sa.sa_family, AF_INET6);
    dk__addr_ip_string(&m, s, sizeof s);
    ck_assert_str_eq(s, "127.0.0.1");  /* mapped shown as IPv4 */
    ck_assert(dk__addr_equal(&a, &m)); /* same transport id */
    ck_assert(dk__addr_for_family(&m, AF_INET, &b));
    ck_assert(dk__addr_equal(&a, &b));
    ck_assert_dk_ok(dk__addr_parse("::1", 1, &b));
    ck_assert(!dk__addr_for_family(&b, AF_INET, &m));
    dk__addr_ip_string(&b, s, sizeof s);
    ck_assert_str_eq(s, "::1");
    uint8_t id[DK__TRANSPORT_ID_LEN];
    dk__addr_transport_id(&a, id);
    ck_assert_int_eq(id[10], 0xff);
    ck_assert_int_eq(id[12], 127);
    ck_assert_int_eq(id[16], 4242 >> 8);
    ck_assert_int_eq(id[17], 4242 & 255);
    ck_assert_int_eq(dk__addr_parse("localhost", 1, &a), DK_ERR_INVALID);
    ck_assert_int_eq(dk__addr_parse("1.2.3", 1, &a), DK_ERR_INVALID);
    ck_assert_int_eq(dk__addr_parse("fe80::1%nosuchif0", 1, &a), DK_ERR_INVALID);
    ck_assert_dk_ok(dk__addr_resolve("t", "localhost", 80, AF_INET, false, &a));
    ck_assert_int_eq(a.u.sa.sa_family, AF_INET);
    ck_assert_dk_ok(dk__addr_resolve("t", "127.0.0.1", 80, AF_INET6, true, &a));
    ck_assert_int_eq(a.u.sa.sa_family, AF_INET6);
    ck_assert_int_eq(dk__addr_resolve("t", "::1", 80, AF_INET, true, &a), DK_ERR_INVALID);
    ck_assert_int_eq(dk__addr_resolve("t", "nosuch.invalid", 80, AF_UNSPEC, false, &a),
                     DK_ERR_RESOLVE);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "nosuch.invalid"));
}
END_TEST

static dk_err collect(void *user, const uint8_t *der, size_t len)
{
    size_t *total = user;
    *total += len;
    return der[0] == 0x30 ? DK_OK : DK_ERR_PARSE;
}

START_TEST(pem_round_trip)
{
    uint8_t der[300];
    for (size_t i = 0; i < sizeof der; i++)
        der[i] = (uint8_t)(i * 7);
    der[0] = 0x30;
    char *buf = NULL;
    size_t len = 0;
    /* Lengths 298..300 cover every base64 padding case. */
    for (size_t n = 298; n <= 300; n++)
        ck_assert_dk_ok(dk__pem_append(&buf, &len, "CERTIFICATE", der, n));
    ck_assert_dk_ok(dk__pem_append(&buf, &len, "OTHER", der, 10));
    ck_assert(dk__pem_detect(buf, len));
    size_t total = 0;
    ck_assert_int_eq(dk__pem_each(buf, len, "CERTIFICATE", collect, &total), 3);
    ck_assert_uint_eq(total, 298 + 299 + 300);
    free(buf);
    const char *bad_char = "-----BEGIN CERTIFICATE-----\nMII*AAAA\n-----END CERTIFICATE-----\n";
    ck_assert_int_eq(dk__pem_each(bad_char, strlen(bad_char), "CERTIFICATE", collect, &total),
                     DK_ERR_PARSE);
    const char *cut = "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n";
    ck_assert_int_eq(dk__pem_each(cut, strlen(cut), "CERTIFICATE", collect, &total), DK_ERR_PARSE);
    const char *mismatch = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END KEY-----\n";
    ck_assert_int_eq(dk__pem_each(mismatch, strlen(mismatch), "CERTIFICATE", collect, &total),
                     DK_ERR_PARSE);
    const char *badpad = "-----BEGIN CERTIFICATE-----\nMI=B\n-----END CERTIFICATE-----\n";
    ck_assert_int_eq(dk__pem_each(badpad, strlen(badpad), "CERTIFICATE", collect, &total),
                     DK_ERR_PARSE);
    ck_assert(!dk__pem_detect("\x30\x82", 2));
}
END_TEST

static int log_lines;
static void count_log(dk_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)msg;
    *(int *)user += 1;
}

START_TEST(errors_and_log)
{
    for (int e = 0; e >= DK_ERR_INTERNAL; e--)
        ck_assert_str_ne(dk_strerror((dk_err)e), "unknown error");
    ck_assert_str_eq(dk_strerror((dk_err)-999), "unknown error");
    ck_assert_int_eq(DK_FAIL(DK_ERR_INVALID, "value %d", 7), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "value 7"));
    ck_assert_ptr_nonnull(strstr(dk_last_error(), __func__));
    /* Logging is off until a callback is set, then honours the level. */
    log_lines = 0;
    DK_FAIL(DK_ERR_INVALID, "quiet");
    ck_assert_int_eq(log_lines, 0);
    dk_set_log_callback(count_log, DK_LOG_DEBUG, &log_lines);
    DK_FAIL(DK_ERR_INVALID, "loud");
    ck_assert_int_eq(log_lines, 1);
    dk_set_log_callback(count_log, DK_LOG_ERROR, &log_lines);
    DK_FAIL(DK_ERR_INVALID, "filtered");
    ck_assert_int_eq(log_lines, 1);
    dk_set_log_callback(NULL, DK_LOG_ERROR, NULL);
}
END_TEST

/* A DTLS 1.2 ClientHello built by hand: record seq 5, message_seq 0,
 * session id of 2 bytes, cookie of `cookie_len` bytes, two suites, one
 * compression method, one empty extension. */
static size_t build_hello(uint8_t *out, const uint8_t *cookie, size_t cookie_len)
{
    uint8_t body[256];
    size_t b = 0;
    body[b++] = 0xfe;
    body[b++] = 0xfd;
    for (int i = 0; i < 32; i++)
        body[b++] = (uint8_t)i;
    body[b++] = 2;
    body[b++] = 0xaa;
    body[b++] = 0xbb;
    body[b++] = (uint8_t)cookie_len;
    memcpy(body + b, cookie, cookie_len);
    b += cookie_len;
    body[b++] = 0;
    body[b++] = 4;
    body[b++] = 0xc0;
    body[b++] = 0x2b;
    body[b++] = 0xc0;
    body[b++] = 0x2f;
    body[b++] = 1;
    body[b++] = 0;
    body[b++] = 0; /* extensions: 4 bytes */
    body[b++] = 4;
    body[b++] = 0xff;
    body[b++] = 0x01;
    body[b++] = 0;
    body[b++] = 0;
    size_t n = 0;
    out[n++] = 22;
    out[n++] = 0xfe;
    out[n++] = 0xff;
    out[n++] = 0;
    out[n++] = 0;
    uint8_t seq[6] = {0, 0, 0, 0, 0, 5};
    memcpy(out + n, seq, 6);
    n += 6;
    out[n++] = (uint8_t)((12 + b) >> 8);
    out[n++] = (uint8_t)(12 + b);
    out[n++] = 1;
    out[n++] = 0;
    out[n++] = (uint8_t)(b >> 8);
    out[n++] = (uint8_t)b;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = (uint8_t)(b >> 8);
    out[n++] = (uint8_t)b;
    memcpy(out + n, body, b);
    return n + b;
}

START_TEST(client_hello_parser)
{
    uint8_t d[512];
    size_t n = build_hello(d, (const uint8_t *)"", 0);
    dk__client_hello ch;
    ck_assert_int_eq(dk__client_hello_parse(d, n, &ch), DK__CH_OK);
    ck_assert_uint_eq(ch.record_version, 0xfeff);
    ck_assert_int_eq(ch.record_seq[5], 5);
    ck_assert_uint_eq(ch.session_id.len, 2);
    ck_assert_uint_eq(ch.cookie.len, 0);
    ck_assert_uint_eq(ch.cipher_suites.len, 4);
    ck_assert_uint_eq(ch.compression_methods.len, 1);
    ck_assert_uint_eq(ch.extensions.len, 4);
    /* Every truncation is refused, and so is a byte too many. */
    for (size_t cut = 0; cut < n; cut++)
        ck_assert_int_ne(dk__client_hello_parse(d, cut, &ch), DK__CH_OK);
    ck_assert_int_eq(dk__client_hello_parse(NULL, 0, &ch), DK__CH_NOT_HANDSHAKE);
    uint8_t e[512];
    memcpy(e, d, n);
    e[0] = 23; /* application data */
    ck_assert_int_eq(dk__client_hello_parse(e, n, &ch), DK__CH_NOT_HANDSHAKE);
    memcpy(e, d, n);
    e[4] = 1; /* epoch 1 */
    ck_assert_int_eq(dk__client_hello_parse(e, n, &ch), DK__CH_NOT_HANDSHAKE);
    memcpy(e, d, n);
    e[13] = 2; /* server hello */
    ck_assert_int_eq(dk__client_hello_parse(e, n, &ch), DK__CH_NOT_HELLO);
    memcpy(e, d, n);
    e[1] = 0x03; /* TLS record version */
    ck_assert_int_eq(dk__client_hello_parse(e, n, &ch), DK__CH_MALFORMED);
    memcpy(e, d, n);
    e[20] = 1; /* fragment offset 1 */
    ck_assert_int_eq(dk__client_hello_parse(e, n, &ch), DK__CH_FRAGMENTED);
    memcpy(e, d, n);
    e[13 + 12 + 34] = 33; /* session id longer than 32 */
    ck_assert_int_eq(dk__client_hello_parse(e, n, &ch), DK__CH_MALFORMED);
    memcpy(e, d, n);
    e[n - 1] = 9; /* extension body longer than the vector */
    ck_assert_int_eq(dk__client_hello_parse(e, n, &ch), DK__CH_MALFORMED);
    /* HelloVerifyRequest: sequence number copied, 60 bytes for 32. */
    uint8_t hvr[128], cookie[32];
    memset(cookie, 7, sizeof cookie);
    ck_assert_int_eq(dk__client_hello_parse(d, n, &ch), DK__CH_OK);
    size_t h = dk__hvr_write(&ch, cookie, 32, hvr, sizeof hvr);
    ck_assert_uint_eq(h, 60);
    ck_assert_uint_lt(h, n);
    ck_assert_int_eq(memcmp(hvr + 5, d + 5, 6), 0);
    ck_assert_int_eq(hvr[13], 3);
    ck_assert_int_eq(hvr[27], 32);
    ck_assert_uint_eq(dk__hvr_write(&ch, cookie, 32, hvr, 59), 0);
}
END_TEST

static dk__addr addr_of(const char *ip, int port)
{
    dk__addr a;
    ck_assert_dk_ok(dk__addr_parse(ip, port, &a));
    return a;
}

/* Per-address counts: an IPv6 host counts by its prefix, IPv4 the same
 * whether it arrives plain or mapped, and entries go when their counts do. */
START_TEST(admission_ledger)
{
    dk__ledger *l = dk__ledger_new();
    ck_assert_ptr_nonnull(l);
    dk__caps caps;
    dk__caps_default(&caps);
    caps.handshakes_per_addr = 2;
    caps.sessions_per_addr = 3;
    dk__addr a1 = addr_of("2001:db8:1:2::1", 1000), a2 = addr_of("2001:db8:1:2:ffff::9", 2000),
             other = addr_of("2001:db8:1:3::1", 1000), v4 = addr_of("192.0.2.7", 5),
             mapped = addr_of("::ffff:192.0.2.7", 6);
    ck_assert_int_eq(dk__ledger_check(l, &caps, &a1), DK__CAP_OK);
    ck_assert(dk__ledger_add(l, &a1, caps.ipv6_prefix));
    ck_assert(dk__ledger_add(l, &a2, caps.ipv6_prefix)); /* same /64 */
    ck_assert_int_eq(dk__ledger_check(l, &caps, &a1), DK__CAP_HANDSHAKES_ADDR);
    ck_assert_int_eq(dk__ledger_check(l, &caps, &other), DK__CAP_OK);
    /* With a /128 prefix they would be two hosts. */
    caps.ipv6_prefix = 128;
    ck_assert_int_eq(dk__ledger_check(l, &caps, &a1), DK__CAP_OK);
    caps.ipv6_prefix = 64;
    dk__ledger_promote(l, &a1, 64);
    dk__ledger_promote(l, &a2, 64);
    ck_assert(dk__ledger_add(l, &a1, 64));
    ck_assert_int_eq(dk__ledger_check(l, &caps, &a2), DK__CAP_SESSIONS_ADDR); /* 2 + 1 */
    ck_assert(dk__ledger_add(l, &v4, 64));
    ck_assert(dk__ledger_add(l, &mapped, 64));
    ck_assert_int_eq(dk__ledger_check(l, &caps, &v4), DK__CAP_HANDSHAKES_ADDR);
    uint32_t hs, sess;
    dk__ledger_totals(l, &hs, &sess);
    ck_assert_uint_eq(hs, 3);
    ck_assert_uint_eq(sess, 2);
    caps.handshakes = 3;
    ck_assert_int_eq(dk__ledger_check(l, &caps, &other), DK__CAP_HANDSHAKES);
    caps.handshakes = 0;
    caps.sessions = 5;
    ck_assert_int_eq(dk__ledger_check(l, &caps, &other), DK__CAP_SESSIONS);
    /* Many sources: the table grows and shrinks back to empty. */
    for (int i = 0; i < 300; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 200, i % 200);
        dk__addr a = addr_of(ip, 1);
        ck_assert(dk__ledger_add(l, &a, 64));
    }
    for (int i = 0; i < 300; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 200, i % 200);
        dk__addr a = addr_of(ip, 1);
        dk__ledger_remove(l, &a, 64, DK__LS_HANDSHAKE);
    }
    dk__ledger_remove(l, &a1, 64, DK__LS_SESSION);
    dk__ledger_remove(l, &a2, 64, DK__LS_SESSION);
    dk__ledger_remove(l, &a1, 64, DK__LS_HANDSHAKE);
    dk__ledger_remove(l, &v4, 64, DK__LS_HANDSHAKE);
    dk__ledger_remove(l, &mapped, 64, DK__LS_HANDSHAKE);
    dk__ledger_totals(l, &hs, &sess);
    ck_assert_uint_eq(hs, 0);
    ck_assert_uint_eq(sess, 0);
    caps.handshakes_per_addr = 1;
    ck_assert_int_eq(dk__ledger_check(l, &caps, &a1), DK__CAP_OK);
    dk__ledger_unref(l);
}
END_TEST

/* The gate on hand-made records: what passes, what is trimmed, what is
 * refused, and the budget of a handshake. */
START_TEST(gate_records)
{
    dk__gate g = {0};
    uint8_t d[256] = {0};
    /* A handshake fragment: Certificate, claims 100 bytes, seq 2. */
    const uint8_t rec[] = {22, 0xfe, 0xfd, 0,   0, 0, 0, 0, 0, 0, 1, 0, 13,
                           11, 0,    0,    100, 0, 2, 0, 0, 0, 0, 0, 1, 7};
    memcpy(d, rec, sizeof rec);
    ck_assert_uint_eq(dk__gate_filter(&g, false, d, sizeof rec), sizeof rec);
    ck_assert_uint_eq(g.claimed, 100);
    /* The same message again costs nothing more. */
    ck_assert_uint_eq(dk__gate_filter(&g, false, d, sizeof rec), sizeof rec);
    ck_assert_uint_eq(g.claimed, 100);
    /* A good record followed by a truncated one: only the first is fed. */
    memcpy(d + sizeof rec, rec, 13);
    ck_assert_uint_eq(dk__gate_filter(&g, false, d, sizeof rec + 13), sizeof rec);
    ck_assert_uint_eq(g.trimmed, 1);
    /* Truncated although what is there would pass: an alert claiming 10
     * bytes and carrying its 2. */
    const uint8_t cut[] = {21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 10, 1, 0};
    memcpy(d + sizeof rec, cut, sizeof cut);
    ck_assert_uint_eq(dk__gate_filter(&g, false, d, sizeof rec + sizeof cut), sizeof rec);
    ck_assert_uint_eq(g.trimmed, 2);
    /* Empty, a far message_seq, an over-long claim, epoch 2: refused. */
    ck_assert_uint_eq(dk__gate_filter(&g, false, d, 0), 0);
    d[18] = 16; /* message_seq 16 */
    ck_assert_uint_eq(dk__gate_filter(&g, false, d, sizeof rec), 0);
    d[18] = 3;
    d[15] = 0x41; /* claims 0x4100 + 100 > 16 KB */
    ck_assert_uint_eq(dk__gate_filter(&g, false, d, sizeof rec), 0);
    d[15] = 0x3f;
    d[16] = 0xc0; /* 16320: within one message, over the 16284 left */
    ck_assert_uint_eq(dk__gate_filter(&g, false, d, sizeof rec), 0);
    d[15] = 0;
    d[16] = 100;
    d[4] = 2;
    ck_assert_uint_eq(dk__gate_filter(&g, false, d, sizeof rec), 0);
    d[4] = 0;
    ck_assert_uint_eq(g.dropped, 5);
    /* Epoch 1 during the handshake: only after the peer's CCS, only one. */
    uint8_t e1[13 + 24] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 24};
    ck_assert_uint_eq(dk__gate_filter(&g, false, e1, sizeof e1), 0);
    const uint8_t ccs[] = {20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 1};
    ck_assert_uint_eq(dk__gate_filter(&g, false, ccs, sizeof ccs), sizeof ccs);
    ck_assert_uint_eq(dk__gate_filter(&g, false, e1, sizeof e1), sizeof e1);
    ck_assert_uint_eq(dk__gate_filter(&g, false, e1, sizeof e1), 0);
    /* Connected: epoch 1 passes; plaintext alerts and data never do. */
    ck_assert_uint_eq(dk__gate_filter(&g, true, e1, sizeof e1), sizeof e1);
    const uint8_t alert[] = {21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 3, 0, 2, 2, 40};
    ck_assert_uint_eq(dk__gate_filter(&g, false, alert, sizeof alert), sizeof alert);
    ck_assert_uint_eq(dk__gate_filter(&g, true, alert, sizeof alert), 0);
    e1[4] = 0;
    ck_assert_uint_eq(dk__gate_filter(&g, true, e1, sizeof e1), 0);
}
END_TEST

/* The contract's record reader (backend.h), which backends walk datagrams
 * with: fields, a record cut short, and too few bytes for a header. */
START_TEST(backend_record_reader)
{
    const uint8_t d[] = {22, 0xfe, 0xfd, 0,    1, 0, 0,    0,    0,    1,    2,    0,    3, 1,  2,
                         3,  21,   0xfe, 0xfd, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 10, 9};
    dk_bk_record r;
    ck_assert_uint_eq(dk_bk_record_next(d, sizeof d, &r), 16);
    ck_assert_uint_eq(r.type, DK_BK_CT_HANDSHAKE);
    ck_assert_uint_eq(r.epoch, 1);
    ck_assert_uint_eq(r.seq, 0x102);
    ck_assert_ptr_eq(r.fragment, d + DK_BK_REC_HEADER_LEN);
    ck_assert_uint_eq(r.len, 3);
    ck_assert(r.whole);
    ck_assert_uint_eq(dk_bk_record_next(d + 16, sizeof d - 16, &r), sizeof d - 16);
    ck_assert_uint_eq(r.type, DK_BK_CT_ALERT);
    ck_assert_uint_eq(r.seq, 0xFFFFFFFFFFFFull);
    ck_assert_uint_eq(r.len, 1);
    ck_assert(!r.whole);
    ck_assert_uint_eq(dk_bk_record_next(d, DK_BK_REC_HEADER_LEN - 1, &r), 0);
}
END_TEST

START_TEST(cookies)
{
    ck_assert_dk_ok(dk_init());
    dk__cookie_jar jar;
    ck_assert_dk_ok(dk__cookie_jar_init(&jar));
    dk__addr a, b;
    ck_assert_dk_ok(dk__addr_parse("127.0.0.1", 5000, &a));
    ck_assert_dk_ok(dk__addr_parse("127.0.0.1", 5001, &b));
    uint8_t tid_a[DK__TRANSPORT_ID_LEN], tid_b[DK__TRANSPORT_ID_LEN];
    dk__addr_transport_id(&a, tid_a);
    dk__addr_transport_id(&b, tid_b);
    uint8_t d[512], cookie[DK__COOKIE_LEN];
    size_t n = build_hello(d, (const uint8_t *)"", 0);
    dk__client_hello ch;
    ck_assert_int_eq(dk__client_hello_parse(d, n, &ch), DK__CH_OK);
    ck_assert_ptr_null(dk__cookie_verify(&jar, tid_a, &ch, NULL)); /* no cookie */
    ck_assert_dk_ok(dk__cookie_mint(&jar.current, tid_a, &ch, cookie));
    n = build_hello(d, cookie, sizeof cookie);
    ck_assert_int_eq(dk__client_hello_parse(d, n, &ch), DK__CH_OK);
    ck_assert_ptr_eq(dk__cookie_verify(&jar, tid_a, &ch, NULL), &jar.current);
    ck_assert_ptr_eq(dk__cookie_verify(&jar, tid_a, &ch, cookie), &jar.current); /* premade */
    /* Another port, another cookie. */
    ck_assert_ptr_null(dk__cookie_verify(&jar, tid_b, &ch, NULL));
    /* The cookie covers the ClientHello fields: change the random. */
    d[13 + 12 + 2 + 5] ^= 1;
    ck_assert_int_eq(dk__client_hello_parse(d, n, &ch), DK__CH_OK);
    ck_assert_ptr_null(dk__cookie_verify(&jar, tid_a, &ch, NULL));
    d[13 + 12 + 2 + 5] ^= 1;
    ck_assert_int_eq(dk__client_hello_parse(d, n, &ch), DK__CH_OK);
    /* One rotation: still accepted through the previous secret; two: not. */
    uint64_t now = dk__now_ms();
    jar.interval_ms = 10;
    uint64_t t0 = jar.rotated_at;
    dk__cookie_jar_tick(&jar, t0 + 15);
    ck_assert_ptr_eq(dk__cookie_verify(&jar, tid_a, &ch, NULL), &jar.previous);
    uint8_t fresh[DK__COOKIE_LEN]; /* what a server mints for its answer now */
    ck_assert_dk_ok(dk__cookie_mint(&jar.current, tid_a, &ch, fresh));
    ck_assert_mem_ne(fresh, cookie, sizeof cookie);
    ck_assert_ptr_eq(dk__cookie_verify(&jar, tid_a, &ch, fresh), &jar.previous);
    dk__cookie_jar_tick(&jar, t0 + 26);
    ck_assert_ptr_null(dk__cookie_verify(&jar, tid_a, &ch, NULL));
    ck_assert_uint_eq(jar.rotations, 2);
    /* Lazy rotation: nothing asked for two periods, then a ClientHello whose
     * cookie the secret of that time minted: two rotations old, refused. */
    ck_assert_dk_ok(dk__cookie_mint(&jar.current, tid_a, &ch, cookie));
    n = build_hello(d, cookie, sizeof cookie);
    ck_assert_int_eq(dk__client_hello_parse(d, n, &ch), DK__CH_OK);
    ck_assert_ptr_eq(dk__cookie_verify(&jar, tid_a, &ch, NULL), &jar.current);
    dk__cookie_jar_tick(&jar, jar.rotated_at + 20);
    ck_assert_ptr_null(dk__cookie_verify(&jar, tid_a, &ch, NULL));
    ck_assert_uint_eq(jar.rotations, 3);
    /* An explicit secret gives the same cookie anywhere. */
    dk__cookie_jar other;
    ck_assert_dk_ok(dk__cookie_jar_init(&other));
    dk__cookie_jar_set(&jar, "0123456789abcdef", 16, now);
    dk__cookie_jar_set(&other, "0123456789abcdef", 16, now);
    uint8_t c1[DK__COOKIE_LEN], c2[DK__COOKIE_LEN];
    ck_assert_dk_ok(dk__cookie_mint(&jar.current, tid_a, &ch, c1));
    ck_assert_dk_ok(dk__cookie_mint(&other.current, tid_a, &ch, c2));
    ck_assert_int_eq(memcmp(c1, c2, sizeof c1), 0);
    /* The formula, pinned: HMAC-SHA256(secret, transport id || version ||
     * random || session id || suites || compression), as wolfSSL computes
     * it (value from Python's hmac module). */
    static const uint8_t pinned[32] = {0x4a, 0xdf, 0xc5, 0xe4, 0xa6, 0x38, 0xb4, 0x32,
                                       0xe5, 0x3b, 0xbb, 0x77, 0x03, 0x00, 0xa7, 0x36,
                                       0xed, 0x48, 0x29, 0x5e, 0x1e, 0x43, 0xa9, 0xfe,
                                       0xc3, 0x61, 0x92, 0x3a, 0x24, 0x31, 0x98, 0x2c};
    ck_assert_int_eq(memcmp(c1, pinned, sizeof pinned), 0);
}
END_TEST

static void unhex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* RFC 5869 A.1 and A.3 (no salt, no info), and the per-period key pinned
 * (value from Python's hmac module): other implementations sharing a
 * master secret with dtlskit can compute the same keys. */
START_TEST(hkdf_known_answers)
{
    ck_assert_dk_ok(dk_init());
    uint8_t ikm[22], salt[13], info[10], prk[32], okm[42], want[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++)
        salt[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++)
        info[i] = (uint8_t)(0xf0 + i);
    ck_assert_dk_ok(dk__hkdf_extract(salt, sizeof salt, ikm, sizeof ikm, prk));
    unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", want, 32);
    ck_assert_mem_eq(prk, want, 32);
    const dk_bk_iov parts[2] = {{info, 4}, {info + 4, 6}};
    ck_assert_dk_ok(dk__hkdf_expand(prk, parts, 2, okm, sizeof okm));
    unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
          want, 42);
    ck_assert_mem_eq(okm, want, 42);
    ck_assert_dk_ok(dk__hkdf_extract(NULL, 0, ikm, sizeof ikm, prk));
    ck_assert_dk_ok(dk__hkdf_expand(prk, NULL, 0, okm, sizeof okm));
    unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
          want, 42);
    ck_assert_mem_eq(okm, want, 42);
    static const uint8_t pinned[32] = {0xc1, 0xbe, 0xd7, 0xf7, 0xcb, 0xfa, 0xc4, 0x07,
                                       0x9e, 0xd5, 0x15, 0x6f, 0x50, 0x36, 0xb7, 0x48,
                                       0xe4, 0x1d, 0xce, 0xd8, 0xb3, 0x1c, 0x48, 0x96,
                                       0x53, 0xde, 0x1c, 0xda, 0xdc, 0x0f, 0xdd, 0xe3};
    uint8_t key[32];
    ck_assert_dk_ok(dk__period_key((const uint8_t *)"0123456789abcdef0123456789abcdef", 32,
                                   "cookie", "secret", 1000, key));
    ck_assert_mem_eq(key, pinned, 32);
    ck_assert_dk_ok(dk__period_key((const uint8_t *)"0123456789abcdef0123456789abcdef", 32,
                                   "cookie", "secret", 1001, key));
    ck_assert_mem_ne(key, pinned, 32);
}
END_TEST

/* Cookie secrets derived from a master secret: two jars (two hosts) agree
 * in every period; the previous and next period's cookies are accepted
 * (a host whose clock is one period behind the minting host still
 * accepts), two periods apart are not; an explicit secret ends derivation. */
START_TEST(derived_cookies)
{
    ck_assert_dk_ok(dk_init());
    static const char master[] = "a master secret of 32 bytes ....";
    const int period = 3600000; /* long: real time crossing a boundary mid-test is unlikely */
    dk__addr a;
    ck_assert_dk_ok(dk__addr_parse("127.0.0.1", 5000, &a));
    uint8_t tid[DK__TRANSPORT_ID_LEN], d[512], cookie[DK__COOKIE_LEN];
    dk__addr_transport_id(&a, tid);
    dk__client_hello ch;
    size_t n = build_hello(d, (const uint8_t *)"", 0);
    ck_assert_int_eq(dk__client_hello_parse(d, n, &ch), DK__CH_OK);

    dk__cookie_jar behind, ahead, other;
    ck_assert_dk_ok(dk__cookie_jar_init(&behind));
    ck_assert_dk_ok(dk__cookie_jar_init(&ahead));
    ck_assert_dk_ok(dk__cookie_jar_init(&other));
    dk__cookie_jar_set_interval(&behind, period);
    dk__cookie_jar_set_interval(&ahead, period);
    ck_assert_int_eq(dk__cookie_jar_set_master(&behind, master, 15), DK_ERR_INVALID);
    ck_assert_dk_ok(dk__cookie_jar_set_master(&behind, master, 32));
    ck_assert_dk_ok(dk__cookie_jar_set_master(&other, "another master secret", 21));
    /* One period later on the clock: `ahead` starts there, `behind` is not
     * ticked (its clock lags). */
    dk__clock_advance_ms((uint64_t)period);
    ck_assert_dk_ok(dk__cookie_jar_set_master(&ahead, master, 32));
    ck_assert_uint_eq(ahead.period, behind.period + 1);
    ck_assert_mem_eq(ahead.previous.key, behind.current.key, 32);
    ck_assert_dk_ok(dk__cookie_mint(&ahead.current, tid, &ch, cookie));
    n = build_hello(d, cookie, sizeof cookie);
    ck_assert_int_eq(dk__client_hello_parse(d, n, &ch), DK__CH_OK);
    ck_assert_ptr_eq(dk__cookie_verify(&ahead, tid, &ch, NULL), &ahead.current);
    ck_assert_ptr_eq(dk__cookie_verify(&behind, tid, &ch, NULL), &behind.next);
    ck_assert_ptr_null(dk__cookie_verify(&other, tid, &ch, NULL));
    /* `behind` catches up: the cookie is its current one; one more period:
     * previous; two more: refused. */
    uint64_t before = behind.rotations;
    dk__cookie_jar_tick(&behind, dk__now_ms());
    ck_assert_uint_eq(behind.rotations, before + 1);
    ck_assert_ptr_eq(dk__cookie_verify(&behind, tid, &ch, NULL), &behind.current);
    dk__clock_advance_ms((uint64_t)period);
    dk__cookie_jar_tick(&behind, dk__now_ms());
    ck_assert_ptr_eq(dk__cookie_verify(&behind, tid, &ch, NULL), &behind.previous);
    dk__clock_advance_ms((uint64_t)period);
    dk__cookie_jar_tick(&behind, dk__now_ms());
    ck_assert_ptr_null(dk__cookie_verify(&behind, tid, &ch, NULL));
    /* Jumping periods (an idle server): all three made anew, in step. */
    dk__clock_advance_ms(5 * (uint64_t)period);
    dk__cookie_jar_tick(&behind, dk__now_ms());
    dk__cookie_jar_tick(&ahead, dk__now_ms());
    ck_assert_uint_eq(behind.period, ahead.period);
    ck_assert_mem_eq(behind.previous.key, ahead.previous.key, 32);
    ck_assert_mem_eq(behind.current.key, ahead.current.key, 32);
    ck_assert_mem_eq(behind.next.key, ahead.next.key, 32);
    /* An explicit secret ends derivation: no next secret, no master. */
    dk__cookie_jar_set(&behind, "0123456789abcdef", 16, dk__now_ms());
    ck_assert_uint_eq(behind.master.len, 0);
    ck_assert_uint_eq(behind.next.len, 0);
}
END_TEST

/* Ticket keys of hosts whose clocks differ by less than a period: a ticket
 * sealed under the key of the period ahead opens (renewed), two apart not. */
START_TEST(ticket_keys_across_clocks)
{
    ck_assert_dk_ok(dk_init());
    dk__ticket_keys a, b;
    memset(&a, 0, sizeof a);
    ck_assert_dk_ok(dk__ticket_cfg_init(&a.cfg));
    memcpy(a.cfg.secret, "a ticket secret of 32 bytes ....", 32);
    a.cfg.secret_len = 32;
    a.cfg.interval_ms = 3600000;
    b = a;
    const uint64_t t = 1000ull * 3600000 + 5;
    dk_bk_ticket_key ka, kb, got;
    ck_assert_int_eq(dk__ticket_key_at(&a, NULL, &ka, t), 1);
    ck_assert_int_eq(dk__ticket_key_at(&b, NULL, &kb, t + 3600000), 1); /* b runs ahead */
    ck_assert_mem_ne(ka.name, kb.name, sizeof ka.name);
    ck_assert_int_eq(dk__ticket_key_at(&a, kb.name, &got, t), 2);
    ck_assert_mem_eq(got.aes_key, kb.aes_key, sizeof got.aes_key);
    ck_assert_int_eq(dk__ticket_key_at(&b, ka.name, &got, t + 3600000), 2);
    ck_assert_mem_eq(got.hmac_key, ka.hmac_key, sizeof got.hmac_key);
    dk__ticket_keys c = a;
    ck_assert_int_eq(dk__ticket_key_at(&c, NULL, &got, t + 2 * 3600000), 1);
    ck_assert_int_eq(dk__ticket_key_at(&c, ka.name, &got, t + 2 * 3600000), 0);
    ck_assert_int_eq(dk__ticket_key_at(&a, got.name, &got, t), 0);
    dk__ticket_keys_clear(&a);
    dk__ticket_keys_clear(&b);
    dk__ticket_keys_clear(&c);
}
END_TEST

START_TEST(library_info)
{
    ck_assert_dk_ok(dk_init());
    ck_assert_str_eq(dk_version(), DK_VERSION_STRING);
    const char *name = dk_backend_name();
    ck_assert(!strcmp(name, "openssl") || !strcmp(name, "mbedtls") || !strcmp(name, "wolfssl") ||
              !strcmp(name, "gnutls"));
    const char *expect = getenv("BACKEND");
    if (expect && *expect)
        ck_assert_str_eq(name, expect);
    ck_assert_uint_gt(strlen(dk_backend_version()), 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("tables");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, siphash_known_answers);
    tcase_add_test(tc, peer_table_many);
    tcase_add_test(tc, pool_reuses_buffers);
    tcase_add_test(tc, addresses);
    tcase_add_test(tc, admission_ledger);
    suite_add_tcase(s, tc);
    tc = tcase_create("parsers");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, pem_round_trip);
    tcase_add_test(tc, client_hello_parser);
    tcase_add_test(tc, gate_records);
    tcase_add_test(tc, backend_record_reader);
    suite_add_tcase(s, tc);
    tc = tcase_create("secrets");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, cookies);
    tcase_add_test(tc, hkdf_known_answers);
    tcase_add_test(tc, derived_cookies);
    tcase_add_test(tc, ticket_keys_across_clocks);
    suite_add_tcase(s, tc);
    tc = tcase_create("library");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, errors_and_log);
    tcase_add_test(tc, library_info);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
