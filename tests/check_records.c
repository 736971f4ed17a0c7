/* Record-level behaviour every backend must share: empty application
 * records (keepalives) go out and come in as 0-byte packets, and a host
 * name mismatch names both sides. Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A connected pair; the server does not echo, so that each side sees only
 * what the other sent. */
typedef struct pair {
    tu_server *s;
    dk_tls_options *o;
    dk_dtls_peer *c;  /* client session */
    dk_dtls_peer *sp; /* the server's session with it */
} pair;

static void pair_open(pair *p)
{
    p->s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    p->s->echo = false;
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

/* Polls both sides until `to` has `n` packets queued or 5 s pass. */
static bool wait_count(pair *p, dk_dtls_peer *to, int n)
{
    uint64_t end = tu_now_ms() + 5000;
    while (dk_dtls_peer_get_available_packet_count(to) < n && tu_now_ms() < end) {
        tu_server_step(p->s);
        dk_dtls_peer_poll(p->c);
        tu_sleep_ms(1);
    }
    return dk_dtls_peer_get_available_packet_count(to) == n;
}

static uint64_t sent_by(dk_dtls_peer *d)
{
    dk_udp_stats st;
    ck_assert_dk_ok(dk_udp_peer_get_stats(dk_dtls_peer_get_udp_peer(d), &st));
    return st.datagrams_sent;
}

static uint64_t received_by(dk_dtls_peer *d)
{
    dk_udp_stats st;
    ck_assert_dk_ok(dk_udp_peer_get_stats(dk_dtls_peer_get_udp_peer(d), &st));
    return st.datagrams_received;
}

/* `from` sends `n` empty records, each as one datagram; `to` gets `n`
 * packets of 0 bytes, then a non-empty one: the session is intact. */
static void empty_records(pair *p, dk_dtls_peer *from, dk_dtls_peer *to, int n)
{
    uint64_t tx = sent_by(from);
    for (int i = 0; i < n; i++)
        ck_assert_dk_ok(dk_dtls_peer_put_packet(from, "", 0));
    ck_assert_uint_eq(sent_by(from), tx + (uint64_t)n);
    ck_assert_msg(wait_count(p, to, n), "%d of %d empty records received",
                  dk_dtls_peer_get_available_packet_count(to), n);
    for (int i = 0; i < n; i++) {
        char buf[16];
        size_t got = 99;
        ck_assert_dk_ok(dk_dtls_peer_get_packet(to, buf, sizeof buf, &got));
        ck_assert_uint_eq(got, 0);
    }
    ck_assert_dk_ok(dk_dtls_peer_put_packet(from, "after", 5));
    ck_assert(wait_count(p, to, 1));
    char buf[16];
    size_t got = 0;
    ck_assert_dk_ok(dk_dtls_peer_get_packet(to, buf, sizeof buf, &got));
    ck_assert_uint_eq(got, 5);
    ck_assert_int_eq(memcmp(buf, "after", 5), 0);
    ck_assert_int_eq(dk_dtls_peer_get_status(from), DK_DTLS_CONNECTED);
    ck_assert_int_eq(dk_dtls_peer_get_status(to), DK_DTLS_CONNECTED);
}

START_TEST(empty_client_to_server)
{
    pair p;
    pair_open(&p);
    empty_records(&p, p.c, p.sp, 1);
    pair_close(&p);
}
END_TEST

START_TEST(empty_server_to_client)
{
    pair p;
    pair_open(&p);
    uint64_t rx = received_by(p.c);
    empty_records(&p, p.sp, p.c, 1);
    ck_assert_uint_eq(received_by(p.c), rx + 2);
    pair_close(&p);
}
END_TEST

/* A session kept alive by empty records only: no limit on how many come
 * in a row (mbedTLS takes a fourth one in a row for an attack). */
START_TEST(empty_many_in_a_row)
{
    pair p;
    pair_open(&p);
    empty_records(&p, p.c, p.sp, 8);
    empty_records(&p, p.sp, p.c, 8);
    for (int i = 0; i < 6; i++) { /* one at a time, as keepalives come */
        ck_assert_dk_ok(dk_dtls_peer_put_packet(p.c, "", 0));
        ck_assert(wait_count(&p, p.sp, 1));
        size_t got = 99;
        ck_assert_dk_ok(dk_dtls_peer_get_packet(p.sp, NULL, 0, &got));
        ck_assert_uint_eq(got, 0);
    }
    pair_close(&p);
}
END_TEST

/* Connects to a server with `chain`/`key` expecting a name mismatch and
 * returns the reason in `why`. */
static void mismatch(const char *chain, const char *key, const char *hostname, char *why,
                     size_t cap)
{
    tu_server *s = tu_server_start("127.0.0.1", chain, key, true);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, hostname, o);
    tu_handshake(s, &c, 1, 10000);
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_ERROR_HOSTNAME_MISMATCH);
    ck_assert_int_eq(dk_dtls_peer_get_error(c), DK_ERR_HOSTNAME);
    snprintf(why, cap, "%s", dk_dtls_peer_get_error_reason(c));
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}

/* The same sentence on every backend: the certificate's CN and
 * subjectAltName entries, then the name that was expected. */
START_TEST(hostname_mismatch_reason)
{
    char why[512];
    mismatch("server-chain.pem", "server.key", "wrong.example", why, sizeof why);
    ck_assert_str_eq(why, "hostname mismatch: certificate is for CN=localhost, DNS:localhost, "
                          "IP:127.0.0.1, IP:::1, not 'wrong.example'");
    mismatch("other-chain.pem", "other.key", "localhost", why, sizeof why);
    ck_assert_str_eq(why, "hostname mismatch: certificate is for CN=other.example, "
                          "DNS:other.example, not 'localhost'");
    /* An IP literal is checked against the iPAddress entries. */
    mismatch("other-chain.pem", "other.key", "127.0.0.1", why, sizeof why);
    ck_assert_str_eq(why, "hostname mismatch: certificate is for CN=other.example, "
                          "DNS:other.example, not '127.0.0.1'");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("records");
    TCase *tc = tcase_create("records");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, empty_client_to_server);
    tcase_add_test(tc, empty_server_to_client);
    tcase_add_test(tc, empty_many_in_a_row);
    tcase_add_test(tc, hostname_mismatch_reason);
    suite_add_tcase(s, tc);
    printf("backend: %s (%s)\n", dk_backend_name(), dk_backend_version());
    return tu_run(s);
}
