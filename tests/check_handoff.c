/* The core's record layer and the hand-off from the TLS library: keys
 * derived by the core agree with the library's in both directions, the
 * anti-replay window, records that fail authentication, alerts,
 * renegotiation attempts, the final flight kept and resent, records
 * behind the Finished, nonces never reused, and what an idle session
 * costs. Reaches into the core (dtls_internal.h, record.h) to seal records
 * as a peer would. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dtls_internal.h"
#include "rawdtls.h"
#include "record.h"
#include "relay.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_MEASURABLE 0 /* ASan's allocator does not answer mallinfo2 */
#else
#define HEAP_MEASURABLE 1
#endif

/* A connected pair; the server does not echo unless asked. */
typedef struct pair {
    tu_server *s;
    dk_tls_options *o;
    dk_dtls_peer *c;  /* client session */
    dk_dtls_peer *sp; /* the server's session with it */
} pair;

static void pair_open(pair *p, bool echo)
{
    p->s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    p->s->echo = echo;
    p->o = tu_client_opts();
    p->c = tu_client("127.0.0.1", p->s->port, "localhost", p->o);
    ck_assert_msg(tu_handshake(p->s, &p->c, 1, 10000) == 1, "handshake: %s",
                  dk_dtls_peer_get_error_reason(p->c));
    ck_assert_int_eq(p->s->npeers, 1);
    p->sp = p->s->peers[0];
    ck_assert_int_eq(dk_dtls_peer_get_status(p->sp), DK_DTLS_CONNECTED);
}

static void pair_close(pair *p)
{
    dk_dtls_peer_free(p->c);
    dk_tls_options_free(p->o);
    tu_server_free(p->s);
}

/* Sends through the client's own socket: what the client's record layer
 * would send, or an attacker who knows its address. */
static void send_as_client(dk_dtls_peer *c, const void *d, size_t n)
{
    ck_assert_int_eq(send(dk_dtls_peer_get_fd(c), d, n, 0), (ssize_t)n);
}

/* A record of `type` sealed with the client's keys at sequence `seq`
 * (the client's write counter is left where it was). */
static size_t client_record(dk_dtls_peer *c, uint8_t type, uint64_t seq, const void *data,
                            size_t len, uint8_t *out)
{
    uint64_t saved = c->rec.write_seq;
    c->rec.write_seq = seq;
    size_t n = 0;
    ck_assert_dk_ok(dk__record_seal(&c->rec, type, data, len, out, &n));
    c->rec.write_seq = saved;
    return n;
}

static dk_dtls_peer_stats stats(dk_dtls_peer *p)
{
    dk_dtls_peer_stats st;
    ck_assert_dk_ok(dk_dtls_peer_get_stats(p, &st));
    return st;
}

/* Runs the pair for `ms` and returns how many packets the server session
 * has queued. */
static int settle(pair *p, int ms)
{
    tu_run_for(p->s, &p->c, 1, ms);
    return dk_dtls_peer_get_available_packet_count(p->sp);
}

static void expect_packet(dk_dtls_peer *p, const char *what)
{
    char buf[256];
    size_t n = 0;
    ck_assert_dk_ok(dk_dtls_peer_get_packet(p, buf, sizeof buf, &n));
    ck_assert_uint_eq(n, strlen(what));
    ck_assert_int_eq(memcmp(buf, what, n), 0);
}

/* ------------------------------------------------------- the hand-off */

/* Both sides hand over: the peer's Finished opens under the keys the core
 * derived, a record the core seals as the peer is read back by the live
 * library, and the library's session is gone. */
START_TEST(handoff_keys_agree)
{
    dk__handoff_selftest = true;
    pair p;
    pair_open(&p, true);
    ck_assert_uint_eq(atomic_load(&dk__handoff_stats.finished_checked), 2);
    ck_assert_uint_eq(atomic_load(&dk__handoff_stats.finished_unseen), 0);
    ck_assert_uint_eq(atomic_load(&dk__handoff_stats.selftest_ok), 2);
    ck_assert_uint_eq(atomic_load(&dk__handoff_stats.selftest_failed), 0);
    ck_assert_ptr_null(p.c->bs);
    ck_assert_ptr_null(p.sp->bs);
    ck_assert_ptr_nonnull(p.c->rec.suite);
    fprintf(stderr, "%s: suite 0x%04X (%s) handed over\n", dk_backend_name(), p.c->rec.suite->id,
            dk_dtls_peer_get_cipher(p.c));
    /* The client kept the server's chain; the plain server kept none. */
    dk_err e;
    dk_cert *chain = dk_dtls_peer_get_peer_certificate(p.c, &e);
    ck_assert_ptr_nonnull(chain);
    dk_cert_free(chain);
    ck_assert_ptr_null(dk_dtls_peer_get_peer_certificate(p.sp, &e));
    ck_assert_ptr_null(p.sp->peer_cert);
    ck_assert_dk_ok(dk_dtls_peer_put_packet(p.c, "after", 5));
    ck_assert(tu_wait_packet(p.s, p.c, 3000));
    expect_packet(p.c, "after");
    pair_close(&p);
}
END_TEST

/* Keys that do not match the library's (a corrupted export) fail the
 * hand-off on the peer's Finished instead of producing a session that
 * cannot talk. */
START_TEST(handoff_wrong_keys_caught)
{
    dk__handoff_corrupt = true;
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 0);
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_ERROR);
    ck_assert_msg(strstr(dk_dtls_peer_get_error_reason(c), "does not open with the derived keys"),
                  "client: %s", dk_dtls_peer_get_error_reason(c));
    ck_assert_int_eq(dk_dtls_peer_get_error(c), DK_ERR_INTERNAL);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* Every suite the core knows, on this backend's primitives: each side
 * opens what the other sealed, and nonces never repeat. */
START_TEST(every_suite_round_trip)
{
    static const uint16_t ids[] = {0xC02F, 0xC030, 0xCCA8, 0xC0AE};
    dk_bk_secrets sec;
    for (size_t i = 0; i < sizeof sec.master_secret; i++)
        sec.master_secret[i] = (uint8_t)i;
    memset(sec.client_random, 0xC1, 32);
    memset(sec.server_random, 0x5E, 32);
    int done = 0;
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        sec.suite = ids[k];
        dk__record cl, sv;
        dk_err e = dk__record_init(&cl, NULL, false, &sec, 0);
        if (e == DK_ERR_UNAVAILABLE) {
            fprintf(stderr, "%s: suite 0x%04X unavailable\n", dk_backend_name(), ids[k]);
            continue;
        }
        ck_assert_dk_ok(e);
        ck_assert_dk_ok(dk__record_init(&sv, NULL, true, &sec, 0));
        uint8_t a[128], b[128], plain[128];
        size_t an, bn, pn;
        ck_assert_dk_ok(dk__record_seal(&cl, 23, (const uint8_t *)"hello", 5, a, &an));
        ck_assert_dk_ok(dk__record_seal(&cl, 23, (const uint8_t *)"hello", 5, b, &bn));
        ck_assert_uint_eq(an, bn);
        ck_assert_uint_eq(an, 5 + dk__record_overhead(&cl));
        /* Same plaintext twice: the ciphertexts (tags aside, which cover the
         * header) differ only if the nonces do. */
        size_t ex = cl.suite->explicit_len;
        ck_assert_msg(memcmp(a + 13 + ex, b + 13 + ex, 5) != 0, "suite 0x%04X: nonce reused",
                      ids[k]);
        ck_assert_int_eq(dk__record_open(&sv, a, an, plain, &pn), DK__OPEN_OK);
        ck_assert_uint_eq(pn, 5);
        ck_assert_int_eq(memcmp(plain, "hello", 5), 0);
        ck_assert_int_eq(dk__record_open(&sv, a, an, plain, &pn), DK__OPEN_REPLAY);
        ck_assert_int_eq(dk__record_open(&sv, b, bn, plain, &pn), DK__OPEN_OK);
        /* The other way, and the client cannot open its own records. */
        ck_assert_dk_ok(dk__record_seal(&sv, 23, (const uint8_t *)"", 0, a, &an));
        ck_assert_int_eq(dk__record_open(&cl, a, an, plain, &pn), DK__OPEN_OK);
        ck_assert_uint_eq(pn, 0);
        ck_assert_dk_ok(dk__record_seal(&cl, 23, (const uint8_t *)"x", 1, a, &an));
        ck_assert_int_eq(dk__record_open(&cl, a, an, plain, &pn), DK__OPEN_BAD);
        /* The header is authenticated: another type or sequence fails. */
        ck_assert_dk_ok(dk__record_seal(&cl, 23, (const uint8_t *)"y", 1, a, &an));
        a[0] = 21;
        ck_assert_int_eq(dk__record_open(&sv, a, an, plain, &pn), DK__OPEN_BAD);
        a[0] = 23;
        a[10] ^= 1;
        ck_assert_int_eq(dk__record_open(&sv, a, an, plain, &pn), DK__OPEN_BAD);
        a[10] ^= 1;
        ck_assert_int_eq(dk__record_open(&sv, a, an, plain, &pn), DK__OPEN_OK);
        dk__record_clear(&cl);
        dk__record_clear(&sv);
        done++;
    }
    /* GCM-128 and ChaCha20 are what the backends negotiate by default. */
    ck_assert_int_ge(done, 2);
}
END_TEST

/* The window itself (RFC 6347 4.1.2.6), record by record. */
START_TEST(replay_window_unit)
{
    dk_bk_secrets sec = {.suite = 0xC02F};
    memset(sec.master_secret, 7, sizeof sec.master_secret);
    dk__record cl, sv;
    ck_assert_dk_ok(dk__record_init(&cl, NULL, false, &sec, 0));
    ck_assert_dk_ok(dk__record_init(&sv, NULL, true, &sec, 0));
    uint8_t rec[200][64], plain[64];
    size_t len[200], n;
    for (int i = 0; i < 200; i++)
        ck_assert_dk_ok(dk__record_seal(&cl, 23, (const uint8_t *)"r", 1, rec[i], &len[i]));
    ck_assert_uint_eq(cl.write_seq, 200);
    /* Far ahead first, then back inside the window, then too old. */
    ck_assert_int_eq(dk__record_open(&sv, rec[100], len[100], plain, &n), DK__OPEN_OK);
    ck_assert_int_eq(dk__record_open(&sv, rec[100], len[100], plain, &n), DK__OPEN_REPLAY);
    ck_assert_int_eq(dk__record_open(&sv, rec[37], len[37], plain, &n), DK__OPEN_OK);
    ck_assert_int_eq(dk__record_open(&sv, rec[36], len[36], plain, &n), DK__OPEN_REPLAY);
    ck_assert_int_eq(dk__record_open(&sv, rec[37], len[37], plain, &n), DK__OPEN_REPLAY);
    /* The window slides: 101..164 are new, 100 stays seen, 37 is now far
     * too old. */
    ck_assert_int_eq(dk__record_open(&sv, rec[164], len[164], plain, &n), DK__OPEN_OK);
    ck_assert_int_eq(dk__record_open(&sv, rec[101], len[101], plain, &n), DK__OPEN_OK);
    ck_assert_int_eq(dk__record_open(&sv, rec[100], len[100], plain, &n), DK__OPEN_REPLAY);
    ck_assert_int_eq(dk__record_open(&sv, rec[150], len[150], plain, &n), DK__OPEN_OK);
    ck_assert_int_eq(dk__record_open(&sv, rec[150], len[150], plain, &n), DK__OPEN_REPLAY);
    /* A forged record does not move the window: the genuine one with the
     * same number still opens. */
    uint8_t bad[64];
    memcpy(bad, rec[199], len[199]);
    bad[len[199] - 1] ^= 0x80;
    ck_assert_int_eq(dk__record_open(&sv, bad, len[199], plain, &n), DK__OPEN_BAD);
    ck_assert_uint_eq(sv.rx_top, 164);
    ck_assert_int_eq(dk__record_open(&sv, rec[199], len[199], plain, &n), DK__OPEN_OK);
    ck_assert_uint_eq(sv.rx_top, 199);
    /* Shorter than nonce and tag. */
    ck_assert_int_eq(dk__record_open(&sv, rec[198], 13 + 20, plain, &n), DK__OPEN_BAD);
    dk__record_clear(&cl);
    dk__record_clear(&sv);
}
END_TEST

/* --------------------------------------------- a live session, on the wire */

/* Genuine records replayed, too old, far ahead; a flipped bit; records
 * that lie about their length; an alert with data in one datagram. */
START_TEST(replay_and_forgery_on_the_wire)
{
    pair p;
    pair_open(&p, false);
    uint8_t d[3][256];
    uint64_t base = p.c->rec.write_seq;
    size_t n0 = client_record(p.c, 23, base, "one", 3, d[0]);
    send_as_client(p.c, d[0], n0);
    send_as_client(p.c, d[0], n0); /* duplicate */
    ck_assert_int_eq(settle(&p, 100), 1);
    expect_packet(p.sp, "one");
    ck_assert_uint_eq(stats(p.sp).records_replayed, 1);
    /* Far ahead, then one just inside the window, then one older. */
    size_t n1 = client_record(p.c, 23, base + 1000, "ahead", 5, d[1]);
    send_as_client(p.c, d[1], n1);
    size_t n2 = client_record(p.c, 23, base + 1000 - 63, "inside", 6, d[2]);
    send_as_client(p.c, d[2], n2);
    ck_assert_int_eq(settle(&p, 100), 2);
    expect_packet(p.sp, "ahead");
    expect_packet(p.sp, "inside");
    size_t n3 = client_record(p.c, 23, base + 1000 - 64, "old", 3, d[0]);
    send_as_client(p.c, d[0], n3);
    ck_assert_int_eq(settle(&p, 100), 0);
    ck_assert_uint_eq(stats(p.sp).records_replayed, 2);
    /* A flipped bit: dropped and counted; the session goes on. */
    size_t n4 = client_record(p.c, 23, base + 1001, "flip", 4, d[0]);
    d[0][n4 - 3] ^= 4;
    send_as_client(p.c, d[0], n4);
    ck_assert_int_eq(settle(&p, 100), 0);
    ck_assert_uint_eq(stats(p.sp).records_rejected, 1);
    d[0][n4 - 3] ^= 4;
    send_as_client(p.c, d[0], n4);
    ck_assert_int_eq(settle(&p, 100), 1);
    expect_packet(p.sp, "flip");
    /* Too short for nonce and tag; a length past the datagram's end; a
     * record over the RFC's ciphertext limit: none reaches a queue. */
    uint64_t refused = stats(p.sp).datagrams_refused;
    size_t n5 = tu_rec_hdr(d[0], 23, 1, base + 2000, 10);
    memset(d[0] + n5, 9, 10);
    send_as_client(p.c, d[0], n5 + 10);
    size_t n6 = client_record(p.c, 23, base + 2001, "lie", 3, d[1]);
    tu_put16(d[1] + 11, (unsigned)(n6 - 13 + 1));
    send_as_client(p.c, d[1], n6);
    uint8_t big[16384 + 2048 + 64];
    tu_rec_hdr(big, 23, 1, base + 2002, 16384 + 2049);
    memset(big + 13, 1, 16384 + 2049);
    send_as_client(p.c, big, 13 + 16384 + 2049);
    ck_assert_int_eq(settle(&p, 150), 0);
    ck_assert_uint_eq(stats(p.sp).records_rejected, 2);
    ck_assert_uint_eq(stats(p.sp).datagrams_refused, refused + 2);
    ck_assert_int_eq(dk_dtls_peer_get_status(p.sp), DK_DTLS_CONNECTED);
    /* Data, a warning alert and more data in one datagram: both packets
     * arrive, the warning changes nothing. */
    uint8_t glued[256];
    size_t g = client_record(p.c, 23, base + 3000, "d1", 2, glued);
    const uint8_t warn[2] = {1, 100};
    g += client_record(p.c, 21, base + 3001, warn, 2, glued + g);
    g += client_record(p.c, 23, base + 3002, "d2", 2, glued + g);
    send_as_client(p.c, glued, g);
    ck_assert_int_eq(settle(&p, 100), 2);
    expect_packet(p.sp, "d1");
    expect_packet(p.sp, "d2");
    ck_assert_int_eq(dk_dtls_peer_get_status(p.sp), DK_DTLS_CONNECTED);
    /* Data and close_notify in one datagram: the data is delivered, then
     * the session ends. */
    const uint8_t close_notify[2] = {1, 0};
    g = client_record(p.c, 23, base + 3003, "last", 4, glued);
    g += client_record(p.c, 21, base + 3004, close_notify, 2, glued + g);
    send_as_client(p.c, glued, g);
    settle(&p, 100);
    ck_assert_int_eq(dk_dtls_peer_get_status(p.sp), DK_DTLS_DISCONNECTED);
    expect_packet(p.sp, "last");
    pair_close(&p);
}
END_TEST

/* A fatal alert ends the session and names itself. */
START_TEST(fatal_alert_named)
{
    pair p;
    pair_open(&p, false);
    uint8_t d[64];
    const uint8_t fatal[2] = {2, 40};
    size_t n = client_record(p.c, 21, p.c->rec.write_seq + 10, fatal, 2, d);
    send_as_client(p.c, d, n);
    settle(&p, 100);
    ck_assert_int_eq(dk_dtls_peer_get_status(p.sp), DK_DTLS_ERROR);
    ck_assert_ptr_nonnull(strstr(dk_dtls_peer_get_error_reason(p.sp), "handshake_failure"));
    pair_close(&p);
}
END_TEST

/* An encrypted ClientHello on a connected session is renegotiation: the
 * server declines with a warning and both sides go on. */
START_TEST(renegotiation_declined)
{
    pair p;
    pair_open(&p, true);
    uint8_t hello[512], d[600];
    uint8_t random[32] = {1, 2, 3};
    size_t hn = tu_client_hello(hello, random, NULL, 0, 8, 0);
    /* The handshake message without its record header, in epoch 1. */
    size_t n = client_record(p.c, 22, p.c->rec.write_seq, hello + 13, hn - 13, d);
    p.c->rec.write_seq++;
    send_as_client(p.c, d, n);
    settle(&p, 150);
    ck_assert_int_eq(dk_dtls_peer_get_status(p.sp), DK_DTLS_CONNECTED);
    ck_assert_int_eq(dk_dtls_peer_get_status(p.c), DK_DTLS_CONNECTED);
    ck_assert_uint_eq(stats(p.c).records_rejected, 0); /* the warning opened */
    ck_assert_dk_ok(dk_dtls_peer_put_packet(p.c, "still", 5));
    ck_assert(tu_wait_packet(p.s, p.c, 3000));
    expect_packet(p.c, "still");
    pair_close(&p);
}
END_TEST

/* 2^48 records is the end of a DTLS 1.2 session: refused, never wrapped. */
START_TEST(sequence_exhausted)
{
    pair p;
    pair_open(&p, false);
    p.c->rec.write_seq = DK__REC_SEQ_MAX;
    ck_assert_dk_ok(dk_dtls_peer_put_packet(p.c, "z", 1));
    ck_assert_int_eq(dk_dtls_peer_put_packet(p.c, "z", 1), DK_ERR_CLOSED);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "rekey"));
    pair_close(&p);
}
END_TEST

/* ------------------------------------------- final flight, read-ahead */

/* Records the server sends, by epoch-1 sequence number: the same number
 * must never carry two different records (a second writer reusing a
 * nonce). */
typedef struct wire_log {
    uint64_t seq[256];
    uint32_t sum[256];
    int n, reused, epoch1;
} wire_log;

static void tap(void *user, bool up, const uint8_t *d, size_t n)
{
    wire_log *w = user;
    if (up)
        return;
    for (size_t off = 0; n - off >= 13;) {
        const uint8_t *r = d + off;
        size_t rl = 13 + ((size_t)r[11] << 8 | r[12]);
        if (rl > n - off)
            break;
        if (r[3] == 0 && r[4] == 1) {
            uint64_t seq = 0;
            for (int i = 5; i < 11; i++)
                seq = seq << 8 | r[i];
            uint32_t sum = 2166136261u;
            for (size_t i = 0; i < rl; i++)
                sum = (sum ^ r[i]) * 16777619u;
            w->epoch1++;
            int k = 0;
            while (k < w->n && w->seq[k] != seq)
                k++;
            if (k < w->n)
                w->reused += w->sum[k] != sum;
            else if (w->n < 256) {
                w->seq[w->n] = seq;
                w->sum[w->n++] = sum;
            }
        }
        off += rl;
    }
}

/* A client through a relay, with a fast retransmission timer. */
static dk_dtls_peer *relay_client(tu_relay *r, const dk_tls_options *o)
{
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    ck_assert_ptr_nonnull(udp);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, "127.0.0.1", tu_relay_port(r)));
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    ck_assert_dk_ok(dk_dtls_peer_set_retransmit(c, 100, 200));
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, "localhost", o));
    return c;
}

/* Steps relay, server and client until the server's session is connected
 * (it has just sent its final flight, still in the relay's socket). */
static dk_dtls_peer *until_server_connected(tu_server *s, tu_relay *r, dk_dtls_peer *c)
{
    uint64_t end = tu_now_ms() + 10000;
    while (tu_now_ms() < end) {
        tu_relay_step(r);
        tu_server_step(s);
        if (s->npeers && dk_dtls_peer_get_status(s->peers[0]) == DK_DTLS_CONNECTED)
            return s->peers[0];
        dk_dtls_peer_poll(c);
        tu_sleep_ms(1);
    }
    ck_abort_msg("server session never connected");
    return NULL;
}

/* The server's final flight is lost: the client retransmits its flight,
 * the server's core answers with the kept flight, and the handshake
 * completes. No epoch-1 sequence number carries two different records. */
START_TEST(final_flight_lost)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    s->echo = false;
    tu_relay *r = tu_relay_new("127.0.0.1", s->port, false, 5);
    wire_log w = {0};
    tu_relay_tap(r, tap, &w);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = relay_client(r, o);
    dk_dtls_peer *sp = until_server_connected(s, r, c);
    ck_assert(sp->flight_kept);
    tu_relay_hold_down(r, true);
    for (int i = 0; i < 20; i++) {
        tu_relay_step(r);
        tu_sleep_ms(1);
    }
    ck_assert_int_ge(tu_relay_discard_glued(r), 1);
    tu_relay_hold_down(r, false);
    uint64_t end = tu_now_ms() + 10000;
    while (dk_dtls_peer_get_status(c) == DK_DTLS_HANDSHAKING && tu_now_ms() < end) {
        tu_relay_step(r);
        tu_server_step(s);
        dk_dtls_peer_poll(c);
        tu_sleep_ms(1);
    }
    ck_assert_msg(dk_dtls_peer_get_status(c) == DK_DTLS_CONNECTED, "client: %s",
                  dk_dtls_peer_get_error_reason(c));
    ck_assert_uint_ge(stats(sp).final_flight_resent, 1);
    /* The client's first record proves it has the flight: dropped. */
    ck_assert_dk_ok(dk_dtls_peer_put_packet(c, "hi", 2));
    end = tu_now_ms() + 3000;
    while (dk_dtls_peer_get_available_packet_count(sp) == 0 && tu_now_ms() < end) {
        tu_relay_step(r);
        tu_server_step(s);
        tu_sleep_ms(1);
    }
    expect_packet(sp, "hi");
    ck_assert(!sp->flight_kept);
    ck_assert_ptr_null(sp->flight);
    ck_assert_dk_ok(dk_dtls_peer_put_packet(sp, "ho", 2));
    end = tu_now_ms() + 3000;
    while (dk_dtls_peer_get_available_packet_count(c) == 0 && tu_now_ms() < end) {
        tu_relay_step(r);
        dk_dtls_peer_poll(c);
        tu_sleep_ms(1);
    }
    expect_packet(c, "ho");
    ck_assert_int_ge(w.epoch1, 3); /* Finished, resent Finished, "ho" */
    ck_assert_int_eq(w.reused, 0);
    dk_dtls_peer_free(c);
    tu_relay_free(r);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* The server's first application record travels in the same datagram as
 * its Finished: the library stops at the Finished, the core opens the
 * rest after the hand-off and delivers it. */
START_TEST(data_behind_finished)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    s->echo = false;
    tu_relay *r = tu_relay_new("127.0.0.1", s->port, false, 6);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = relay_client(r, o);
    dk_dtls_peer *sp = until_server_connected(s, r, c);
    tu_relay_hold_down(r, true);
    ck_assert_dk_ok(dk_dtls_peer_put_packet(sp, "early", 5));
    for (int i = 0; i < 20; i++) {
        tu_relay_step(r);
        tu_sleep_ms(1);
    }
    ck_assert_int_ge(tu_relay_release_glued(r), 2); /* final flight + "early" */
    tu_relay_hold_down(r, false);
    uint64_t end = tu_now_ms() + 3000;
    while (dk_dtls_peer_get_available_packet_count(c) == 0 && tu_now_ms() < end) {
        tu_relay_step(r);
        dk_dtls_peer_poll(c);
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_CONNECTED);
    expect_packet(c, "early");
    ck_assert_uint_eq(stats(c).datagrams_trimmed, 1); /* the library saw the Finished only */
    dk_dtls_peer_free(c);
    tu_relay_free(r);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* A key cache of 2 sessions on a server with 6 active clients: expanded
 * keys are dropped and rebuilt as sessions take turns, and every echo
 * still arrives. */
START_TEST(key_cache_bounded)
{
    enum { N = 6 };
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    ck_assert_int_eq(dk_dtls_server_set_key_cache(s->dtls, -1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_key_cache(NULL, 2), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_dtls_server_set_key_cache(s->dtls, 2));
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c[N];
    for (int i = 0; i < N; i++)
        c[i] = tu_client("127.0.0.1", s->port, "localhost", o);
    ck_assert_int_eq(tu_handshake(s, c, N, 10000), N);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
            char msg[48], buf[48];
            snprintf(msg, sizeof msg, "round %d client %d", round, i);
            ck_assert_dk_ok(dk_dtls_peer_put_packet(c[i], msg, strlen(msg)));
            ck_assert_msg(tu_wait_packet(s, c[i], 3000), "no echo: %s", msg);
            size_t n = 0;
            ck_assert_dk_ok(dk_dtls_peer_get_packet(c[i], buf, sizeof buf, &n));
            ck_assert_uint_eq(n, strlen(msg));
            ck_assert_ptr_nonnull(s->dtls->ctx);
            ck_assert_uint_le(s->dtls->ctx->aead_cache.count, 2);
        }
    int expanded = 0;
    for (int i = 0; i < s->npeers; i++)
        expanded += s->peers[i]->rec.w.aead != NULL;
    ck_assert_int_le(expanded, 2);
    /* Shrinking takes effect at once. */
    ck_assert_dk_ok(dk_dtls_server_set_key_cache(s->dtls, 0));
    ck_assert_uint_eq(s->dtls->ctx->aead_cache.count, 0);
    for (int i = 0; i < N; i++)
        dk_dtls_peer_free(c[i]);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* ---------------------------------------------------------- memory */

/* Established sessions whose clients went away: what each costs the server
 * in heap (session, UDP peer, table entries, keys), with the cache of
 * expanded keys held small so that it measures idle sessions. */
START_TEST(idle_session_heap)
{
    if (!HEAP_MEASURABLE)
        return;
    enum { N = 100 };
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    dk_tls_options *o = tu_client_opts();
    /* Warm-up: libraries fill bounded per-process caches during the first
     * handshakes (wolfSSL's fixed-point ECC tables: about 8 MB). */
    dk_dtls_peer *warm = NULL;
    for (int i = 0; i < 6; i++) {
        dk_dtls_peer_free(warm);
        warm = tu_client("127.0.0.1", s->port, "localhost", o);
        ck_assert_int_eq(tu_handshake(s, &warm, 1, 10000), 1);
    }
    ck_assert_dk_ok(dk_dtls_server_set_key_cache(s->dtls, 4));
    tu_run_for(s, &warm, 1, 20);
    dk_dtls_server_stats st0;
    dk_dtls_server_get_stats(s->dtls, &st0);
    size_t h0 = mallinfo2().uordblks;
    for (int i = 0; i < N; i++) {
        dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
        ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
        dk_dtls_peer_free(c); /* gone without close_notify: the session idles */
    }
    tu_run_for(s, NULL, 0, 20);
    dk_dtls_server_stats st;
    dk_dtls_server_get_stats(s->dtls, &st);
    /* A freed client's port may come back for a later one: that replaces
     * the first session (RFC 6347 4.2.8). */
    ck_assert_uint_eq(st.sessions + st.sessions_replaced, st0.sessions + st0.sessions_replaced + N);
    size_t held = (size_t)(st.sessions - st0.sessions);
    ck_assert_uint_ge(held, N / 2);
    for (int i = 0; i < s->npeers; i++) /* the flights are kept 30 s at most */
        if (s->peers[i]->flight_kept) {
            free(s->peers[i]->flight);
            s->peers[i]->flight = NULL;
            s->peers[i]->flight_kept = false;
        }
    size_t h1 = mallinfo2().uordblks;
    size_t per = h1 > h0 ? (h1 - h0) / held : 0;
    fprintf(stderr, "%s: %zu heap bytes per idle server session (dk_dtls_peer %zu)\n",
            dk_backend_name(), per, sizeof(dk_dtls_peer));
    ck_assert_msg(per <= 1536, "%zu bytes per idle session", per);
    dk_dtls_peer_free(warm);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("handoff");
    TCase *tc = tcase_create("records");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_suite_round_trip);
    tcase_add_test(tc, replay_window_unit);
    suite_add_tcase(s, tc);
    tc = tcase_create("session");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, handoff_keys_agree);
    tcase_add_test(tc, handoff_wrong_keys_caught);
    tcase_add_test(tc, replay_and_forgery_on_the_wire);
    tcase_add_test(tc, fatal_alert_named);
    tcase_add_test(tc, renegotiation_declined);
    tcase_add_test(tc, sequence_exhausted);
    tcase_add_test(tc, final_flight_lost);
    tcase_add_test(tc, data_behind_finished);
    tcase_add_test(tc, key_cache_bounded);
    tcase_add_test(tc, idle_session_heap);
    suite_add_tcase(s, tc);
    printf("backend: %s (%s)\n", dk_backend_name(), dk_backend_version());
    return tu_run(s);
}
