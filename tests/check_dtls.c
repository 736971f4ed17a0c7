/* Backend conformance: DTLS sessions over loopback. Every test uses the
 * public API only and runs unchanged against each backend, except the
 * `timers` case, which drives the core's clock (core/clock.h) to check
 * retransmission times exactly. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "crypto_internal.h"
#include "relay.h"
#include "testutil.h"

/* Handshakes `n` clients with a server (admission on or off) and echoes one
 * message through each. */
static void echo_clients(int n, bool admission)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", admission);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer **c = calloc((size_t)n, sizeof *c);
    for (int i = 0; i < n; i++)
        c[i] = tu_client("127.0.0.1", s->port, "localhost", o);
    int ok = tu_handshake(s, c, n, 30000);
    ck_assert_msg(ok == n, "%d of %d connected; first error: %s", ok, n,
                  dk_dtls_peer_get_error_reason(c[0]));
    ck_assert_int_eq(s->npeers, n);
    for (int i = 0; i < n; i++) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "hello from client %d", i);
        ck_assert_dk_ok(dk_dtls_peer_put_packet(c[i], msg, (size_t)len));
    }
    for (int i = 0; i < n; i++) {
        ck_assert_msg(tu_wait_packet(s, c[i], 10000), "no echo for client %d", i);
        char buf[128], msg[64];
        size_t got;
        int len = snprintf(msg, sizeof msg, "hello from client %d", i);
        ck_assert_dk_ok(dk_dtls_peer_get_packet(c[i], buf, sizeof buf, &got));
        ck_assert_uint_eq(got, (size_t)len);
        ck_assert_int_eq(memcmp(buf, msg, got), 0);
    }
    for (int i = 0; i < s->npeers; i++)
        ck_assert_int_eq(dk_dtls_peer_get_status(s->peers[i]), DK_DTLS_CONNECTED);
    dk_dtls_server_stats st;
    ck_assert_dk_ok(dk_dtls_server_get_stats(s->dtls, &st));
    ck_assert_uint_eq(st.cookies_accepted, (uint64_t)n);
    ck_assert_uint_ge(st.hello_verify_sent, (uint64_t)n);
    if (admission) {
        /* Every taken peer was handshaking: no cookie failure reached the
         * accept loop. */
        ck_assert_int_eq(s->taken, n);
        ck_assert_int_eq(s->taken_errors, 0);
    } else {
        /* Godot's behaviour: each client's first ClientHello comes back as
         * a peer in ERROR ("50% of connections fail"). */
        ck_assert_int_ge(s->taken_errors, n);
        ck_assert_int_eq(s->taken - s->taken_errors, n);
    }
    for (int i = 0; i < n; i++)
        dk_dtls_peer_free(c[i]);
    free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}

START_TEST(echo_1)
{
    echo_clients(1, true);
}
END_TEST

START_TEST(echo_10)
{
    echo_clients(10, true);
}
END_TEST

START_TEST(echo_200)
{
    echo_clients(200, true);
}
END_TEST

START_TEST(godot_cookie_mode)
{
    echo_clients(10, false);
}
END_TEST

START_TEST(session_details)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_HANDSHAKING);
    int t = dk_dtls_peer_get_timeout_ms(c);
    ck_assert(t >= 0 && t <= 1000); /* retransmission timer armed */
    ck_assert_int_ge(dk_dtls_peer_get_fd(c), 0);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
    ck_assert_str_ne(dk_dtls_peer_get_cipher(c), "");
    ck_assert_str_eq(dk_dtls_peer_get_cipher(c), dk_dtls_peer_get_cipher(s->peers[0]));
    ck_assert_int_eq(dk_dtls_peer_get_error(c), DK_OK);
    ck_assert_str_eq(dk_dtls_peer_get_error_reason(c), "");
    int max = dk_dtls_peer_get_max_packet_size(c);
    ck_assert_msg(max > 1100 && max < 1252, "max packet %d", max);
    /* The server's chain as the client saw it: leaf and intermediate. */
    dk_err err;
    dk_cert *chain = dk_dtls_peer_get_peer_certificate(c, &err);
    ck_assert_msg(chain != NULL, "%s", dk_last_error());
    ck_assert_int_ge(dk_cert_count(chain), 1);
    char subj[128];
    ck_assert_dk_ok(dk_cert_get_subject(chain, 0, subj, sizeof subj));
    ck_assert_str_eq(subj, "CN=localhost");
    dk_cert_free(chain);
    /* The server's peer knows who it talks to. */
    char ip[DK_IP_STRLEN];
    int port;
    ck_assert_dk_ok(dk_udp_peer_get_remote_address(dk_dtls_peer_get_udp_peer(s->peers[0]), ip,
                                                   sizeof ip, &port));
    ck_assert_str_eq(ip, "127.0.0.1");
    ck_assert_int_eq(port, dk_udp_peer_get_local_port(dk_dtls_peer_get_udp_peer(c)));
    /* A client that sent no certificate has none on the server. */
    ck_assert_ptr_null(dk_dtls_peer_get_peer_certificate(s->peers[0], &err));
    ck_assert_int_eq(err, DK_ERR_WOULD_BLOCK);
    /* Packets of every size up to the maximum go through intact. */
    uint8_t big[2048], back[2048];
    for (int i = 0; i < max; i++)
        big[i] = (uint8_t)(i * 31);
    int sizes[] = {1, 64, 512, max};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        ck_assert_dk_ok(dk_dtls_peer_put_packet(c, big, (size_t)sizes[k]));
        ck_assert(tu_wait_packet(s, c, 5000));
        size_t n;
        ck_assert_dk_ok(dk_dtls_peer_get_packet(c, back, sizeof back, &n));
        ck_assert_uint_eq(n, (size_t)sizes[k]);
        ck_assert_int_eq(memcmp(big, back, n), 0);
    }
    ck_assert_int_eq(dk_dtls_peer_put_packet(c, big, (size_t)max + 1), DK_ERR_TOO_BIG);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "MTU"));
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* Client `hostname` against a server using `chain`/`key`; returns the
 * client's final status and fills its error. */
static dk_dtls_status try_connect(const char *chain, const char *key, const char *hostname,
                                  const dk_tls_options *o, dk_err *err, char *reason, size_t cap,
                                  dk_dtls_status *server_status)
{
    tu_server *s = tu_server_start("127.0.0.1", chain, key, true);
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, hostname, o);
    tu_handshake(s, &c, 1, 10000);
    /* Give the server time to read the client's alert. */
    for (int i = 0;
         i < 50 && s->npeers && dk_dtls_peer_get_status(s->peers[0]) == DK_DTLS_HANDSHAKING; i++) {
        tu_server_step(s);
        tu_sleep_ms(2);
    }
    dk_dtls_status st = dk_dtls_peer_get_status(c);
    *err = dk_dtls_peer_get_error(c);
    snprintf(reason, cap, "%s", dk_dtls_peer_get_error_reason(c));
    if (server_status)
        *server_status = s->npeers ? dk_dtls_peer_get_status(s->peers[0]) : DK_DTLS_DISCONNECTED;
    dk_dtls_peer_free(c);
    tu_server_free(s);
    return st;
}

START_TEST(verify_failures)
{
    dk_tls_options *o = tu_client_opts();
    dk_err err;
    char why[256];
    dk_dtls_status sst;
    /* Untrusted: self-signed and in no store. */
    ck_assert_int_eq(
        try_connect("untrusted.pem", "untrusted.key", "localhost", o, &err, why, sizeof why, &sst),
        DK_DTLS_ERROR);
    ck_assert_int_eq(err, DK_ERR_CERT_VERIFY);
    ck_assert_msg(strlen(why) > 20, "reason: %s", why);
    ck_assert_msg(sst == DK_DTLS_ERROR, "server status %d", sst);
    /* Expired. */
    ck_assert_int_eq(try_connect("expired-chain.pem", "expired.key", "localhost", o, &err, why,
                                 sizeof why, NULL),
                     DK_DTLS_ERROR);
    ck_assert_int_eq(err, DK_ERR_CERT_VERIFY);
    ck_assert_msg(strcasestr(why, "expired"), "reason: %s", why);
    /* Valid chain, wrong name: a status of its own (Godot's is unreachable). */
    ck_assert_int_eq(
        try_connect("other-chain.pem", "other.key", "localhost", o, &err, why, sizeof why, NULL),
        DK_DTLS_ERROR_HOSTNAME_MISMATCH);
    ck_assert_int_eq(err, DK_ERR_HOSTNAME);
    ck_assert_msg(strcasestr(why, "hostname"), "reason: %s", why);
    /* Missing intermediate: the server sends its leaf only. */
    ck_assert_int_eq(
        try_connect("server.pem", "server.key", "localhost", o, &err, why, sizeof why, NULL),
        DK_DTLS_ERROR);
    ck_assert_int_eq(err, DK_ERR_CERT_VERIFY);
    /* The system store does not know our test CA. */
    ck_assert_int_eq(try_connect("server-chain.pem", "server.key", "localhost", NULL, &err, why,
                                 sizeof why, NULL),
                     DK_DTLS_ERROR);
    ck_assert_int_eq(err, DK_ERR_CERT_VERIFY);
    dk_tls_options_free(o);
}
END_TEST

START_TEST(verify_successes)
{
    dk_err err;
    char why[256];
    /* client_unsafe accepts anything. */
    dk_tls_options *u = dk_tls_options_client_unsafe(NULL, NULL);
    ck_assert_int_eq(
        try_connect("untrusted.pem", "untrusted.key", "localhost", u, &err, why, sizeof why, NULL),
        DK_DTLS_CONNECTED);
    ck_assert_int_eq(
        try_connect("expired-chain.pem", "expired.key", NULL, u, &err, why, sizeof why, NULL),
        DK_DTLS_CONNECTED);
    dk_tls_options_free(u);
    /* A trusted self-signed certificate. */
    dk_cert *self = tu_cert("untrusted.pem");
    dk_tls_options *t = dk_tls_options_client(self, NULL, NULL);
    ck_assert_int_eq(
        try_connect("untrusted.pem", "untrusted.key", "localhost", t, &err, why, sizeof why, NULL),
        DK_DTLS_CONNECTED);
    dk_tls_options_free(t);
    dk_cert_free(self);
    /* RSA certificate with intermediate. */
    dk_tls_options *o = tu_client_opts();
    ck_assert_int_eq(
        try_connect("rsa-chain.pem", "rsa.key", "localhost", o, &err, why, sizeof why, NULL),
        DK_DTLS_CONNECTED);
    dk_tls_options_free(o);
    /* Common-name override: the server is reached as "127.0.0.1" but must
     * be "other.example"; and an override that does not match. */
    dk_cert *ca = tu_cert("ca.pem");
    dk_tls_options *ov = dk_tls_options_client(ca, "other.example", NULL);
    ck_assert_int_eq(
        try_connect("other-chain.pem", "other.key", "127.0.0.1", ov, &err, why, sizeof why, NULL),
        DK_DTLS_CONNECTED);
    ck_assert_int_eq(
        try_connect("server-chain.pem", "server.key", "localhost", ov, &err, why, sizeof why, NULL),
        DK_DTLS_ERROR_HOSTNAME_MISMATCH);
    dk_tls_options_free(ov);
    /* An IP literal is checked against the certificate's iPAddress names. */
    dk_tls_options *ip = tu_client_opts();
    ck_assert_int_eq(
        try_connect("server-chain.pem", "server.key", "127.0.0.1", ip, &err, why, sizeof why, NULL),
        DK_DTLS_CONNECTED);
    ck_assert_int_eq(
        try_connect("server-chain.pem", "server.key", "127.0.0.2", ip, &err, why, sizeof why, NULL),
        DK_DTLS_ERROR_HOSTNAME_MISMATCH);
    dk_tls_options_free(ip);
    dk_cert_free(ca);
}
END_TEST

/* A verification never depends on earlier connections: after a server that
 * sent its intermediate, one that omits it is still refused, on the client
 * side and, for client certificates, on the server side. */
START_TEST(verification_has_no_memory)
{
    dk_tls_options *o = tu_client_opts();
    dk_err err;
    char why[256];
    ck_assert_int_eq(
        try_connect("server-chain.pem", "server.key", "localhost", o, &err, why, sizeof why, NULL),
        DK_DTLS_CONNECTED);
    ck_assert_int_eq(
        try_connect("server.pem", "server.key", "localhost", o, &err, why, sizeof why, NULL),
        DK_DTLS_ERROR);
    ck_assert_int_eq(err, DK_ERR_CERT_VERIFY);
    dk_tls_options_free(o);
    if (!(dk_backend_caps() & DK_CAP_CLIENT_AUTH)) {
        printf("SKIP: client certificates: backend %s lacks them\n", dk_backend_name());
        return;
    }
    dk_key *k = tu_key("server.key"), *ck = tu_key("client.key");
    dk_cert *c = tu_cert("server-chain.pem"), *ca = tu_cert("ca.pem");
    dk_cert *full = tu_cert("client-chain.pem"), *leaf = tu_cert("client.pem");
    dk_tls_options *so = dk_tls_options_server(k, c, NULL);
    ck_assert_dk_ok(dk_tls_options_set_client_auth(so, DK_CLIENT_AUTH_REQUIRED, ca));
    tu_server *s = tu_server_start_opts("127.0.0.1", so, true);
    dk_tls_options *with_chain = tu_client_opts(), *leaf_only = tu_client_opts();
    ck_assert_dk_ok(dk_tls_options_set_client_certificate(with_chain, ck, full));
    ck_assert_dk_ok(dk_tls_options_set_client_certificate(leaf_only, ck, leaf));
    dk_dtls_peer *a = tu_client("127.0.0.1", s->port, "localhost", with_chain);
    ck_assert_int_eq(tu_handshake(s, &a, 1, 10000), 1);
    dk_dtls_peer *b = tu_client("127.0.0.1", s->port, "localhost", leaf_only);
    tu_handshake(s, &b, 1, 10000);
    tu_run_for(s, &b, 1, 100);
    ck_assert_int_eq(s->npeers, 2);
    ck_assert_int_eq(dk_dtls_peer_get_status(s->peers[1]), DK_DTLS_ERROR);
    ck_assert_int_eq(dk_dtls_peer_get_error(s->peers[1]), DK_ERR_CERT_VERIFY);
    ck_assert_int_ne(dk_dtls_peer_get_status(b), DK_DTLS_CONNECTED);
    dk_dtls_peer_free(a);
    dk_dtls_peer_free(b);
    tu_server_free(s);
    dk_tls_options_free(with_chain);
    dk_tls_options_free(leaf_only);
    dk_tls_options_free(so);
    dk_key_free(k);
    dk_key_free(ck);
    dk_cert_free(c);
    dk_cert_free(ca);
    dk_cert_free(full);
    dk_cert_free(leaf);
}
END_TEST

START_TEST(client_auth)
{
    dk_key *k = tu_key("server.key");
    dk_cert *c = tu_cert("server-chain.pem"), *ca = tu_cert("ca.pem");
    dk_tls_options *so = dk_tls_options_server(k, c, NULL);
    if (!(dk_backend_caps() & DK_CAP_CLIENT_AUTH)) {
        printf("SKIP: client authentication: backend %s lacks it\n", dk_backend_name());
        return;
    }
    ck_assert_dk_ok(dk_tls_options_set_client_auth(so, DK_CLIENT_AUTH_REQUIRED, ca));
    tu_server *s = tu_server_start_opts("127.0.0.1", so, true);
    /* Without a client certificate: refused on both sides. */
    dk_tls_options *plain = tu_client_opts();
    dk_dtls_peer *c1 = tu_client("127.0.0.1", s->port, "localhost", plain);
    tu_handshake(s, &c1, 1, 10000);
    tu_run_for(s, &c1, 1, 100);
    ck_assert_int_eq(dk_dtls_peer_get_status(c1), DK_DTLS_ERROR);
    ck_assert_int_eq(s->npeers, 1);
    ck_assert_int_eq(dk_dtls_peer_get_status(s->peers[0]), DK_DTLS_ERROR);
    ck_assert_msg(dk_dtls_peer_get_error(s->peers[0]) == DK_ERR_CERT_VERIFY ||
                      dk_dtls_peer_get_error(s->peers[0]) == DK_ERR_HANDSHAKE,
                  "server error %d: %s", dk_dtls_peer_get_error(s->peers[0]),
                  dk_dtls_peer_get_error_reason(s->peers[0]));
    /* With one: accepted, and the server sees who it is. */
    dk_tls_options *withcert = tu_client_opts();
    dk_key *ck = tu_key("client.key");
    dk_cert *cc = tu_cert("client-chain.pem");
    ck_assert_dk_ok(dk_tls_options_set_client_certificate(withcert, ck, cc));
    dk_dtls_peer *c2 = tu_client("127.0.0.1", s->port, "localhost", withcert);
    ck_assert_int_eq(tu_handshake(s, &c2, 1, 10000), 1);
    ck_assert_int_eq(s->npeers, 2);
    ck_assert_int_eq(dk_dtls_peer_get_status(s->peers[1]), DK_DTLS_CONNECTED);
    dk_cert *seen = dk_dtls_peer_get_peer_certificate(s->peers[1], NULL);
    ck_assert_ptr_nonnull(seen);
    char subj[128];
    ck_assert_dk_ok(dk_cert_get_subject(seen, 0, subj, sizeof subj));
    ck_assert_str_eq(subj, "CN=dtlskit test client");
    dk_cert_free(seen);
    dk_dtls_peer_free(c1);
    dk_dtls_peer_free(c2);
    dk_tls_options_free(plain);
    dk_tls_options_free(withcert);
    dk_tls_options_free(so);
    dk_key_free(ck);
    dk_cert_free(cc);
    dk_key_free(k);
    dk_cert_free(c);
    dk_cert_free(ca);
    tu_server_free(s);
}
END_TEST

START_TEST(close_notify_both_ways)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c[2] = {tu_client("127.0.0.1", s->port, "localhost", o),
                          tu_client("127.0.0.1", s->port, "localhost", o)};
    ck_assert_int_eq(tu_handshake(s, c, 2, 10000), 2);
    /* Client closes: the server's session ends DISCONNECTED / CLOSED. */
    dk_udp_peer *u0 = dk_dtls_peer_get_udp_peer(c[0]);
    int port0 = dk_udp_peer_get_local_port(u0);
    dk_dtls_peer_disconnect_from_peer(c[0]);
    ck_assert_int_eq(dk_dtls_peer_get_status(c[0]), DK_DTLS_DISCONNECTED);
    ck_assert_int_eq(dk_dtls_peer_get_error(c[0]), DK_OK);
    dk_dtls_peer *sp0 = NULL, *sp1 = NULL;
    for (int i = 0; i < s->npeers; i++) {
        int port;
        char ip[DK_IP_STRLEN];
        dk_udp_peer_get_remote_address(dk_dtls_peer_get_udp_peer(s->peers[i]), ip, sizeof ip,
                                       &port);
        if (port == port0)
            sp0 = s->peers[i];
        else
            sp1 = s->peers[i];
    }
    ck_assert_ptr_nonnull(sp0);
    ck_assert_ptr_nonnull(sp1);
    for (int i = 0; i < 500 && dk_dtls_peer_get_status(sp0) == DK_DTLS_CONNECTED; i++) {
        tu_server_step(s);
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(dk_dtls_peer_get_status(sp0), DK_DTLS_DISCONNECTED);
    ck_assert_int_eq(dk_dtls_peer_get_error(sp0), DK_ERR_CLOSED);
    ck_assert_ptr_nonnull(strstr(dk_dtls_peer_get_error_reason(sp0), "close_notify"));
    /* Server closes: the client's session ends, and data sent before the
     * close stays readable. */
    ck_assert_dk_ok(dk_dtls_peer_put_packet(sp1, "last words", 10));
    dk_dtls_peer_disconnect_from_peer(sp1);
    for (int i = 0; i < 500 && dk_dtls_peer_get_status(c[1]) == DK_DTLS_CONNECTED; i++) {
        dk_dtls_peer_poll(c[1]);
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(dk_dtls_peer_get_status(c[1]), DK_DTLS_DISCONNECTED);
    ck_assert_int_eq(dk_dtls_peer_get_error(c[1]), DK_ERR_CLOSED);
    char buf[32];
    size_t n;
    ck_assert_int_eq(dk_dtls_peer_get_available_packet_count(c[1]), 1);
    ck_assert_dk_ok(dk_dtls_peer_get_packet(c[1], buf, sizeof buf, &n));
    ck_assert_uint_eq(n, 10);
    ck_assert_int_eq(dk_dtls_peer_get_packet(c[1], buf, sizeof buf, &n), DK_ERR_STATE);
    ck_assert_int_eq(dk_dtls_peer_put_packet(c[1], "x", 1), DK_ERR_STATE);
    ck_assert_int_eq(dk_dtls_peer_poll(c[1]), DK_ERR_CLOSED);
    ck_assert_int_eq(dk_dtls_peer_get_timeout_ms(c[1]), -1);
    /* Closed sessions left the UDP server's table. */
    dk_udp_stats us;
    dk_udp_server_get_stats(s->udp, &us);
    ck_assert_uint_eq(us.peers, 0);
    dk_dtls_peer_free(c[0]);
    dk_dtls_peer_free(c[1]);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

START_TEST(wrong_states_and_bad_input)
{
    dk_err err;
    dk_dtls_peer *p = dk_dtls_peer_new(&err);
    ck_assert_int_eq(dk_dtls_peer_get_status(p), DK_DTLS_DISCONNECTED);
    char buf[16];
    size_t n;
    ck_assert_int_eq(dk_dtls_peer_put_packet(p, "x", 1), DK_ERR_STATE);
    ck_assert_int_eq(dk_dtls_peer_get_packet(p, buf, sizeof buf, &n), DK_ERR_STATE);
    ck_assert_int_eq(dk_dtls_peer_put_packet(NULL, "x", 1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_get_packet(p, buf, sizeof buf, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_poll(NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_poll(p), DK_OK);
    ck_assert_int_eq(dk_dtls_peer_get_timeout_ms(p), -1);
    ck_assert_int_eq(dk_dtls_peer_get_fd(p), -1);
    ck_assert_ptr_null(dk_dtls_peer_get_peer_certificate(p, &err));
    ck_assert_int_eq(err, DK_ERR_STATE);
    ck_assert_int_eq(dk_dtls_peer_set_mtu(p, 100), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_set_retransmit(p, 0, 10), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_set_retransmit(p, 100, 50), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_set_handshake_timeout(p, 0), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_set_idle_timeout(p, -1), DK_ERR_INVALID);
    /* connect_to_peer: NULLs, unconnected UDP peer, server options, no host. */
    dk_udp_peer *u = dk_udp_peer_new(NULL);
    ck_assert_int_eq(dk_dtls_peer_connect_to_peer(p, NULL, "x", NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_connect_to_peer(p, u, "localhost", NULL), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(u, "127.0.0.1", 9));
    dk_key *k = tu_key("server.key");
    dk_cert *c = tu_cert("server.pem");
    dk_tls_options *so = dk_tls_options_server(k, c, NULL);
    ck_assert_int_eq(dk_dtls_peer_connect_to_peer(p, u, "localhost", so), DK_ERR_INVALID);
    dk_tls_options *o = tu_client_opts();
    ck_assert_int_eq(dk_dtls_peer_connect_to_peer(p, u, NULL, o), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "host name"));
    ck_assert_int_eq(dk_dtls_peer_connect_to_peer(p, u, "", o), DK_ERR_INVALID);
    /* Still ours after the failures: now it works, and a second connect is
     * refused while the first runs. */
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(p, u, "localhost", o));
    dk_udp_peer *u2 = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(u2, "127.0.0.1", 9));
    ck_assert_int_eq(dk_dtls_peer_connect_to_peer(p, u2, "localhost", o), DK_ERR_STATE);
    ck_assert_int_eq(dk_dtls_peer_put_packet(p, "x", 1), DK_ERR_STATE); /* handshaking */
    ck_assert_int_eq(dk_dtls_peer_set_retransmit(p, 100, 200), DK_ERR_STATE);
    dk_dtls_peer_disconnect_from_peer(p);
    ck_assert_int_eq(dk_dtls_peer_get_status(p), DK_DTLS_DISCONNECTED);
    /* Reusing the object for a new connection works. */
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(p, u2, "localhost", o));
    dk_dtls_peer_free(p);

    /* Server: setup and take_connection misuse. */
    dk_dtls_server *s = dk_dtls_server_new(NULL);
    ck_assert_int_eq(dk_dtls_server_setup(s, o), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_setup(s, NULL), DK_ERR_INVALID);
    dk_udp_peer *lone = dk_udp_peer_new(NULL);
    ck_assert_ptr_null(dk_dtls_server_take_connection(s, lone, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_dtls_server_take_connection(s, NULL, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_cookie_secret(s, "short", 5), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_mtu(s, 70000), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_cookie_rotation(s, -1), DK_ERR_INVALID);
    /* No setup yet: a taken peer cannot become a session. */
    dk_udp_server *us = dk_udp_server_new(NULL);
    ck_assert_dk_ok(dk_udp_server_listen(us, 0, "127.0.0.1"));
    int fd = tu_socket("127.0.0.1");
    tu_sendto(fd, "127.0.0.1", dk_udp_server_get_local_port(us), "hi", 2);
    ck_assert(TU_POLL_UNTIL(us, dk_udp_server_is_connection_available(us), 2000));
    dk_udp_peer *taken = dk_udp_server_take_connection(us, NULL);
    ck_assert_ptr_null(dk_dtls_server_take_connection(s, taken, &err));
    ck_assert_int_eq(err, DK_ERR_STATE);
    /* With setup: a datagram that is no ClientHello gives an ERROR peer. */
    ck_assert_dk_ok(dk_dtls_server_setup(s, so));
    dk_dtls_peer *dp = dk_dtls_server_take_connection(s, taken, &err);
    ck_assert_ptr_nonnull(dp);
    ck_assert_int_eq(dk_dtls_peer_get_status(dp), DK_DTLS_ERROR);
    ck_assert_ptr_nonnull(strstr(dk_dtls_peer_get_error_reason(dp), "ClientHello"));
    dk_dtls_peer_free(dp);
    close(fd);
    dk_udp_peer_free(lone);
    dk_udp_server_free(us);
    dk_dtls_server_free(s);
    dk_tls_options_free(so);
    dk_tls_options_free(o);
    dk_key_free(k);
    dk_cert_free(c);
}
END_TEST

/* Garbage, truncated and forged ClientHellos at a listening server in
 * admission mode: nothing is allocated, everything is counted, and real
 * clients still get through. */
START_TEST(garbage_to_server)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    /* A genuine ClientHello, captured through a relay. */
    tu_relay *r = tu_relay_new("127.0.0.1", s->port, false, 1);
    dk_tls_options *o = tu_client_opts();
    int capture = tu_socket("127.0.0.1");
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(capture, (struct sockaddr *)&a, &al);
    dk_dtls_peer *cap = tu_client("127.0.0.1", ntohs(a.sin_port), "localhost", o);
    uint8_t hello[2048];
    int hlen = tu_recv(capture, hello, sizeof hello, 2000);
    ck_assert_int_gt(hlen, 60);
    dk_dtls_peer_free(cap);

    int fd = tu_socket("127.0.0.1");
    uint32_t seed = 12345;
    int sent = 0;
    for (int i = 0; i < 300; i++) {
        uint8_t junk[512];
        size_t n = 1 + (seed % sizeof junk);
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            junk[k] = (uint8_t)(seed >> 16);
        }
        if (i % 3 == 0)
            junk[0] = 22; /* looks like a handshake record */
        tu_sendto(fd, "127.0.0.1", s->port, junk, n);
        sent++;
    }
    /* Every truncation of a real ClientHello. */
    for (int cut = 1; cut < hlen; cut++) {
        tu_sendto(fd, "127.0.0.1", s->port, hello, (size_t)cut);
        sent++;
        if (cut % 50 == 0)
            tu_server_step(s);
    }
    /* A complete ClientHello with a forged cookie gets a HelloVerifyRequest
     * no larger than itself, and nothing else. */
    int hv = tu_socket("127.0.0.1");
    tu_sendto(hv, "127.0.0.1", s->port, hello, (size_t)hlen);
    sent++;
    dk_udp_stats us;
    ck_assert(TU_POLL_UNTIL(
        s->udp, (dk_udp_server_get_stats(s->udp, &us), us.datagrams_received == (uint64_t)sent),
        5000));
    uint8_t reply[2048];
    int rn = tu_recv(hv, reply, sizeof reply, 2000);
    ck_assert_int_gt(rn, 0);
    ck_assert_int_le(rn, hlen);
    ck_assert_int_eq(reply[0], 22);
    ck_assert_int_eq(reply[13], 3);            /* hello_verify_request */
    ck_assert_mem_eq(reply + 5, hello + 5, 6); /* record sequence number copied */
    ck_assert_uint_eq(us.pending, 0);
    ck_assert_uint_eq(us.dropped_filtered, (uint64_t)sent); /* answered or not, dropped */
    ck_assert_uint_eq(us.hello_verify_sent, 1);
    ck_assert_int_eq(s->taken, 0);
    dk_dtls_server_stats ds;
    dk_dtls_server_get_stats(s->dtls, &ds);
    ck_assert_uint_eq(ds.not_client_hello, (uint64_t)sent - 1);
    /* A real client still gets through. */
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
    dk_dtls_peer_free(c);
    close(fd);
    close(hv);
    close(capture);
    tu_relay_free(r);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* Several records in one datagram, and several datagrams per poll, are all
 * delivered (Godot delivers one packet per poll). */
START_TEST(records_and_datagrams_per_poll)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    tu_relay *r = tu_relay_new("127.0.0.1", s->port, false, 7);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", tu_relay_port(r), "localhost", o);
    uint64_t end = tu_now_ms() + 10000;
    while (dk_dtls_peer_get_status(c) == DK_DTLS_HANDSHAKING && tu_now_ms() < end) {
        tu_relay_step(r);
        tu_server_step(s);
        dk_dtls_peer_poll(c);
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_CONNECTED);
    for (int i = 0; i < 20 && s->npeers < 1; i++) {
        tu_server_step(s);
        tu_relay_step(r);
    }
    ck_assert_int_eq(s->npeers, 1);
    dk_dtls_peer *sp = s->peers[0];
    for (int i = 0; i < 10 && dk_dtls_peer_get_status(sp) != DK_DTLS_CONNECTED; i++) {
        tu_relay_step(r);
        tu_server_step(s);
        tu_sleep_ms(2);
    }
    ck_assert_int_eq(dk_dtls_peer_get_status(sp), DK_DTLS_CONNECTED);
    /* Five records glued into one datagram by the relay. */
    tu_relay_hold_down(r, true);
    for (int i = 0; i < 5; i++) {
        char m[24];
        int n = snprintf(m, sizeof m, "glued %d", i);
        ck_assert_dk_ok(dk_dtls_peer_put_packet(sp, m, (size_t)n));
    }
    for (int i = 0; i < 50; i++)
        tu_relay_step(r);
    ck_assert_int_eq(tu_relay_release_glued(r), 5);
    tu_relay_hold_down(r, false);
    uint64_t before = tu_relay_count(r, false);
    for (int i = 0; i < 200 && dk_dtls_peer_get_available_packet_count(c) < 5; i++) {
        tu_sleep_ms(1);
        dk_dtls_peer_poll(c);
    }
    ck_assert_int_eq(dk_dtls_peer_get_available_packet_count(c), 5);
    ck_assert_uint_eq(tu_relay_count(r, false), before);
    for (int i = 0; i < 5; i++) {
        char buf[32], want[24];
        size_t n;
        snprintf(want, sizeof want, "glued %d", i);
        ck_assert_dk_ok(dk_dtls_peer_get_packet(c, buf, sizeof buf, &n));
        ck_assert_uint_eq(n, strlen(want));
        ck_assert_int_eq(memcmp(buf, want, n), 0);
    }
    /* Twenty datagrams waiting: one poll delivers them all. */
    for (int i = 0; i < 20; i++)
        ck_assert_dk_ok(dk_dtls_peer_put_packet(sp, "x", 1));
    for (int i = 0; i < 100; i++)
        tu_relay_step(r);
    tu_sleep_ms(20);
    dk_dtls_peer_poll(c);
    ck_assert_int_eq(dk_dtls_peer_get_available_packet_count(c), 20);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_relay_free(r);
    tu_server_free(s);
}
END_TEST

/* Two servers with one explicit secret accept each other's cookies: the
 * client's first ClientHello goes to A, its second to B. */
START_TEST(shared_cookie_secret)
{
    tu_server *a = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    tu_server *b = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    const char secret[] = "0123456789abcdef0123456789abcdef";
    ck_assert_dk_ok(dk_dtls_server_set_cookie_secret(a->dtls, secret, 32));
    ck_assert_dk_ok(dk_dtls_server_set_cookie_secret(b->dtls, secret, 32));
    ck_assert_dk_ok(dk_dtls_server_set_cookie_rotation(a->dtls, 0));
    ck_assert_dk_ok(dk_dtls_server_set_cookie_rotation(b->dtls, 0));
    ck_assert_int_eq(dk_dtls_server_get_timeout_ms(a->dtls), -1);
    tu_relay *r = tu_relay_new("127.0.0.1", a->port, false, 3);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", tu_relay_port(r), "localhost", o);
    dk_dtls_server_stats st;
    uint64_t end = tu_now_ms() + 5000;
    do {
        tu_relay_step(r);
        tu_server_step(a);
        dk_dtls_server_get_stats(a->dtls, &st);
        tu_sleep_ms(1);
    } while (st.hello_verify_sent == 0 && tu_now_ms() < end);
    ck_assert_uint_eq(st.hello_verify_sent, 1);
    tu_relay_retarget(r, "127.0.0.1", b->port);
    end = tu_now_ms() + 10000;
    while (dk_dtls_peer_get_status(c) == DK_DTLS_HANDSHAKING && tu_now_ms() < end) {
        dk_dtls_peer_poll(c);
        tu_relay_step(r);
        tu_server_step(b);
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_CONNECTED);
    dk_dtls_server_get_stats(b->dtls, &st);
    ck_assert_uint_eq(st.cookies_accepted, 1);
    ck_assert_uint_eq(st.hello_verify_sent, 0);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_relay_free(r);
    tu_server_free(a);
    tu_server_free(b);
}
END_TEST

START_TEST(cookie_rotation)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    ck_assert_dk_ok(dk_dtls_server_set_cookie_rotation(s->dtls, 30));
    /* Rotation is lazy: an idle server has no timer for it. */
    ck_assert_int_eq(dk_dtls_server_get_timeout_ms(s->dtls), -1);
    dk_tls_options *o = tu_client_opts();
    for (int round = 0; round < 3; round++) {
        dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
        ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
        dk_dtls_peer_free(c);
        tu_sleep_ms(40);
    }
    dk_dtls_server_stats st;
    dk_dtls_server_get_stats(s->dtls, &st);
    ck_assert_uint_ge(st.secret_rotations, 2);
    ck_assert_uint_eq(st.cookies_accepted, 3);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

START_TEST(ipv6_session)
{
    tu_server *s = tu_server_start("::1", "server-chain.pem", "server.key", true);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("::1", s->port, "localhost", o);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
    ck_assert_dk_ok(dk_dtls_peer_put_packet(c, "six", 3));
    ck_assert(tu_wait_packet(s, c, 5000));
    /* The IPv6 path has 20 more header bytes than IPv4. */
    ck_assert_int_lt(dk_dtls_peer_get_max_packet_size(c), 1280 - 48 - 13);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* dk_dtls_server_poll(): the server drives its sessions and reports only
 * those that need the caller. */
START_TEST(server_poll)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    dk_dtls_peer *ready[64];
    ck_assert_int_eq(dk_dtls_server_poll(NULL, ready, 1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_poll(s->dtls, NULL, 1), DK_ERR_INVALID);
    dk_dtls_server *lone = dk_dtls_server_new(NULL);
    ck_assert_int_eq(dk_dtls_server_poll(lone, ready, 1), DK_ERR_STATE);
    dk_dtls_server_free(lone);
    ck_assert_dk_ok(dk_udp_server_set_send_batching(s->udp, true));
    enum { N = 20 };
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c[N];
    for (int i = 0; i < N; i++)
        c[i] = tu_client("127.0.0.1", s->port, "localhost", o);
    dk_dtls_peer *sess[N];
    int nsess = 0, connected_reports = 0;
    uint64_t end = tu_now_ms() + 10000;
    /* No accept loop: the server takes its clients itself and hands each
     * new session over once, handshaking, then once connected. */
    while (connected_reports < N && tu_now_ms() < end) {
        int n = dk_dtls_server_poll(s->dtls, ready, 64);
        ck_assert_int_ge(n, 0);
        for (int i = 0; i < n; i++) {
            dk_dtls_status st = dk_dtls_peer_get_status(ready[i]);
            if (!dk_dtls_peer_get_user_data(ready[i])) {
                ck_assert_int_eq(st, DK_DTLS_HANDSHAKING);
                ck_assert_int_lt(nsess, N);
                sess[nsess++] = ready[i];
                dk_dtls_peer_set_user_data(ready[i], s);
                continue;
            }
            ck_assert_int_eq(st, DK_DTLS_CONNECTED);
            connected_reports++;
        }
        for (int i = 0; i < N; i++)
            dk_dtls_peer_poll(c[i]);
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(nsess, N);
    ck_assert_int_eq(connected_reports, N); /* each reported once */
    /* Only the sessions that receive something are reported. */
    for (int i = 0; i < N; i += 4)
        ck_assert_dk_ok(dk_dtls_peer_put_packet(c[i], "ping", 4));
    int got = 0;
    end = tu_now_ms() + 5000;
    while (got < N / 4 && tu_now_ms() < end) {
        int n = dk_dtls_server_poll(s->dtls, ready, 64);
        for (int i = 0; i < n; i++) {
            char buf[16];
            size_t len;
            while (dk_dtls_peer_get_packet(ready[i], buf, sizeof buf, &len) == DK_OK) {
                ck_assert_dk_ok(dk_dtls_peer_put_packet(ready[i], buf, len));
                got++;
            }
        }
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(got, N / 4);
    ck_assert_dk_ok(dk_udp_server_flush(s->udp));
    for (int i = 0; i < N; i += 4)
        ck_assert(tu_wait_packet(NULL, c[i], 5000));
    /* Nothing happens: nothing is reported, and nothing is due soon. */
    tu_sleep_ms(20);
    ck_assert_int_eq(dk_dtls_server_poll(s->dtls, ready, 64), 0);
    int t = dk_dtls_server_get_timeout_ms(s->dtls);
    ck_assert_msg(t == -1 || t > 1000, "timeout %d", t);
    /* A close is reported with its new status; a freed session is
     * forgotten. */
    dk_dtls_peer_disconnect_from_peer(c[1]);
    dk_dtls_peer_free(c[2]);
    int closed = 0;
    end = tu_now_ms() + 5000;
    while (!closed && tu_now_ms() < end) {
        int n = dk_dtls_server_poll(s->dtls, ready, 64);
        for (int i = 0; i < n; i++) {
            ck_assert_int_eq(dk_dtls_peer_get_status(ready[i]), DK_DTLS_DISCONNECTED);
            closed++;
        }
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(closed, 1);
    for (int i = 0; i < nsess; i++)
        dk_dtls_peer_free(sess[i]);
    ck_assert_int_eq(dk_dtls_server_poll(s->dtls, ready, 64), 0);
    for (int i = 0; i < N; i++)
        if (i != 2)
            dk_dtls_peer_free(c[i]);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* Polls the server and the clients until `want` sessions have reported
 * `status`; new sessions (first report) are stored in sess[]. */
static int poll_until(tu_server *s, dk_dtls_peer **c, int nc, dk_dtls_peer **sess, int *nsess,
                      dk_dtls_status status, int want)
{
    dk_dtls_peer *ready[16];
    int seen = 0;
    uint64_t end = tu_now_ms() + 10000;
    while (seen < want && tu_now_ms() < end) {
        int n = dk_dtls_server_poll(s->dtls, ready, 16);
        ck_assert_int_ge(n, 0);
        for (int i = 0; i < n; i++) {
            if (!dk_dtls_peer_get_user_data(ready[i])) {
                dk_dtls_peer_set_user_data(ready[i], s);
                sess[(*nsess)++] = ready[i];
            } else if (dk_dtls_peer_get_status(ready[i]) == status) {
                seen++;
            }
        }
        for (int i = 0; i < nc; i++)
            dk_dtls_peer_poll(c[i]);
        tu_sleep_ms(1);
    }
    return seen;
}

/* Stopping the UDP server ends every session it carried, timer or not;
 * dk_dtls_server_poll() reports each, even before the server listens again,
 * and a poll that succeeds leaves dk_last_error() alone. */
START_TEST(server_poll_stop)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    enum { N = 3 };
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c[N + 1], *sess[N + 1], *ready[16];
    int nsess = 0;
    for (int i = 0; i < N; i++)
        c[i] = tu_client("127.0.0.1", s->port, "localhost", o);
    ck_assert_int_eq(poll_until(s, c, N, sess, &nsess, DK_DTLS_CONNECTED, N), N);
    ck_assert_int_eq(nsess, N);

    ck_assert_int_eq(dk_udp_server_listen(NULL, 0, NULL), DK_ERR_INVALID);
    char before[256];
    snprintf(before, sizeof before, "%s", dk_last_error());
    ck_assert_int_eq(dk_dtls_server_poll(s->dtls, ready, 16), 0);
    ck_assert_str_eq(dk_last_error(), before);

    dk_udp_server_stop(s->udp);
    ck_assert_int_eq(dk_dtls_server_poll(s->dtls, ready, 16), N);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(dk_dtls_peer_get_status(ready[i]), DK_DTLS_DISCONNECTED);
        ck_assert_int_eq(dk_dtls_peer_get_error(ready[i]), DK_ERR_CLOSED);
        ck_assert_ptr_nonnull(strstr(dk_dtls_peer_get_error_reason(ready[i]), "stopped"));
        ck_assert_int_eq(dk_dtls_peer_put_packet(ready[i], "x", 1), DK_ERR_STATE);
    }
    ck_assert_int_eq(dk_dtls_server_poll(s->dtls, ready, 16), DK_ERR_STATE); /* all told */

    /* The server listens again and takes new clients. */
    ck_assert_dk_ok(dk_udp_server_listen(s->udp, s->port, "127.0.0.1"));
    c[N] = tu_client("127.0.0.1", s->port, "localhost", o);
    ck_assert_int_eq(poll_until(s, &c[N], 1, sess, &nsess, DK_DTLS_CONNECTED, 1), 1);
    ck_assert_int_eq(nsess, N + 1);
    for (int i = 0; i <= N; i++) {
        dk_dtls_peer_free(sess[i]);
        dk_dtls_peer_free(c[i]);
    }
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

START_TEST(server_freed_before_sessions)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
    dk_dtls_peer *sp = s->peers[0];
    s->npeers = 0;
    /* The DTLS and UDP servers go away; the session object stays valid. */
    dk_dtls_server_free(s->dtls);
    s->dtls = NULL;
    ck_assert_dk_ok(dk_dtls_peer_put_packet(sp, "still here", 10));
    ck_assert(tu_wait_packet(NULL, c, 5000));
    dk_udp_server_free(s->udp);
    s->udp = NULL;
    ck_assert_int_eq(dk_dtls_peer_put_packet(sp, "gone", 4), DK_ERR_CLOSED);
    ck_assert_int_eq(dk_dtls_peer_get_status(sp), DK_DTLS_DISCONNECTED);
    ck_assert_int_eq(dk_dtls_peer_poll(sp), DK_ERR_CLOSED);
    dk_dtls_peer_free(sp);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    free(s);
}
END_TEST

/* ------------------------------------------------------------- timers */

/* A raw socket standing in for a server that hears and never answers. */
static int silent_server(int *port)
{
    int fd = tu_socket("127.0.0.1");
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static dk_dtls_peer *timed_client(int port, int hs_ms, int initial_ms, int max_ms,
                                  const dk_tls_options *o)
{
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    ck_assert_ptr_nonnull(udp);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, "127.0.0.1", port));
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_dk_ok(dk_dtls_peer_set_handshake_timeout(c, hs_ms));
    ck_assert_dk_ok(dk_dtls_peer_set_retransmit(c, initial_ms, max_ms));
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, "localhost", o));
    return c;
}

/* Datagrams that reach `fd` now: the `expect` ones the test knows were sent
 * (loopback delivers them before sendto() returns; up to 2 s are allowed
 * for a loaded machine), then any more that are already there. */
static int received(int fd, int expect)
{
    uint8_t buf[2048];
    int n = 0;
    while (n < expect && tu_recv(fd, buf, sizeof buf, 2000) > 0)
        n++;
    while (n < 64 && tu_recv(fd, buf, sizeof buf, 0) > 0)
        n++;
    return n;
}

/* A fragment of a Certificate message far ahead in the server's message
 * sequence, sent to the client from the silent server: every library
 * buffers or drops it without answering, but reads it, and a read is where
 * a library that retransmits by its own clock would do so. */
static void stray_fragment(int fd, dk_dtls_peer *c, unsigned msg_seq)
{
    uint8_t d[13 + 12 + 10] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, (uint8_t)(msg_seq + 100)};
    d[12] = 12 + 10;
    uint8_t *h = d + 13;
    h[0] = 11;               /* certificate */
    h[3] = 100;              /* length 100 */
    h[5] = (uint8_t)msg_seq; /* message_seq */
    h[11] = 10;              /* fragment: offset 0, 10 bytes */
    memset(h + 12, 0x5a, 10);
    int port = dk_udp_peer_get_local_port(dk_dtls_peer_get_udp_peer(c));
    tu_sendto(fd, "127.0.0.1", port, d, sizeof d);
}

/* One point of a schedule: `at` ms after the first ClientHello, the client
 * has sent `total` ClientHellos and its next timer is due in `next` ms;
 * `stray`: a stray datagram reaches it at that moment. */
typedef struct point {
    int at, total, next;
    bool stray;
} point;

/* Moves the core's clock through `pts` (frozen otherwise), polling the
 * client twice at each point (the second poll must send nothing), and
 * checks the ClientHellos the silent server has seen. Returns the time of
 * the last point. */
static int run_schedule(int fd, dk_dtls_peer *c, const point *pts, size_t n)
{
    int now = 0, got = received(fd, 1), strays = 0;
    ck_assert_int_eq(got, 1);
    for (size_t i = 0; i < n; i++) {
        dk__clock_advance_ms((uint64_t)(pts[i].at - now));
        now = pts[i].at;
        if (pts[i].stray)
            stray_fragment(fd, c, 5 + (unsigned)strays++);
        dk_dtls_peer_poll(c);
        dk_dtls_peer_poll(c);
        got += received(fd, pts[i].total - got);
        ck_assert_msg(got == pts[i].total, "at +%d ms: %d ClientHellos, want %d", now, got,
                      pts[i].total);
        ck_assert_msg(dk_dtls_peer_get_status(c) == DK_DTLS_HANDSHAKING, "at +%d ms: %s", now,
                      dk_dtls_peer_get_error_reason(c));
        ck_assert_msg(dk_dtls_peer_get_timeout_ms(c) == pts[i].next, "at +%d ms: next in %d ms",
                      now, dk_dtls_peer_get_timeout_ms(c));
    }
    return now;
}

/* The handshake timeout ends a client at exactly `at` ms, and nothing more
 * leaves. */
static void gives_up_at(int fd, dk_dtls_peer *c, int now, int at)
{
    dk__clock_advance_ms((uint64_t)(at - now));
    dk_dtls_peer_poll(c);
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_ERROR);
    ck_assert_int_eq(dk_dtls_peer_get_error(c), DK_ERR_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(dk_dtls_peer_get_error_reason(c), "timeout"));
    uint8_t buf[2048];
    ck_assert_int_lt(tu_recv(fd, buf, sizeof buf, 50), 0);
}

/* RFC 6347 4.2.4.1 on the core's clock: first timeout 1000 ms, doubled up
 * to 8000 ms: ClientHellos at +0, +1000, +3000, +7000, +15000, +23000 and
 * none at a millisecond before; the handshake timeout (30 s) ends it. */
START_TEST(client_retransmits_at_exact_times)
{
    dk__clock_freeze(true);
    int port, fd = silent_server(&port);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = timed_client(port, 30000, 1000, 8000, o);
    static const point pts[] = {
        {0, 1, 1000, false},    {999, 1, 1, false},      {1000, 2, 2000, false},
        {2999, 2, 1, false},    {3000, 3, 4000, false},  {6999, 3, 1, false},
        {7000, 4, 8000, false}, {14999, 4, 1, false},    {15000, 5, 8000, false},
        {22999, 5, 1, false},   {23000, 6, 7000, false}, {29999, 6, 1, false},
    };
    int now = run_schedule(fd, c, pts, sizeof pts / sizeof pts[0]);
    gives_up_at(fd, c, now, 30000);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    close(fd);
    dk__clock_freeze(false);
}
END_TEST

/* A small timer (100 ms doubling to 400 ms, handshake timeout 1 s), with
 * datagrams reaching the client between its deadlines: ClientHellos at
 * exactly +0, +100, +300, +700, never at a read. */
START_TEST(handshake_timeout_and_retransmission)
{
    dk__clock_freeze(true);
    int port, fd = silent_server(&port);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = timed_client(port, 1000, 100, 400, o);
    static const point pts[] = {
        {50, 1, 50, true},    {99, 1, 1, false},    {100, 2, 200, false}, {101, 2, 199, true},
        {299, 2, 1, true},    {300, 3, 400, false}, {500, 3, 200, true},  {699, 3, 1, false},
        {700, 4, 300, false}, {999, 4, 1, true},
    };
    int now = run_schedule(fd, c, pts, sizeof pts / sizeof pts[0]);
    gives_up_at(fd, c, now, 1000);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    close(fd);
    dk__clock_freeze(false);
}
END_TEST

/* The timer is a session parameter: clients with different timers share
 * their options' context, and each runs its own timer. */
START_TEST(timer_settings_share_the_context)
{
    dk__clock_freeze(true);
    int port, fd = silent_server(&port);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *a = timed_client(port, 30000, 100, 400, o);
    struct dk__ctx *ctx = o->cached;
    ck_assert_ptr_nonnull(ctx);
    dk_dtls_peer *b = timed_client(port, 5000, 1000, 8000, o);
    ck_assert_ptr_eq(o->cached, ctx);
    ck_assert_int_eq(received(fd, 2), 2);
    ck_assert_int_eq(dk_dtls_peer_get_timeout_ms(a), 100);
    ck_assert_int_eq(dk_dtls_peer_get_timeout_ms(b), 1000);
    dk__clock_advance_ms(100);
    dk_dtls_peer_poll(a);
    dk_dtls_peer_poll(b);
    ck_assert_int_eq(received(fd, 1), 1);
    ck_assert_int_eq(dk_dtls_peer_get_timeout_ms(a), 200);
    ck_assert_int_eq(dk_dtls_peer_get_timeout_ms(b), 900);
    dk_dtls_peer_free(a);
    dk_dtls_peer_free(b);
    dk_tls_options_free(o);
    close(fd);
    dk__clock_freeze(false);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dtls");
    TCase *tc = tcase_create("echo");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, echo_1);
    tcase_add_test(tc, echo_10);
    tcase_add_test(tc, echo_200);
    tcase_add_test(tc, records_and_datagrams_per_poll);
    tcase_add_test(tc, ipv6_session);
    suite_add_tcase(s, tc);
    tc = tcase_create("verify");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, session_details);
    tcase_add_test(tc, verify_failures);
    tcase_add_test(tc, verify_successes);
    tcase_add_test(tc, client_auth);
    tcase_add_test(tc, verification_has_no_memory);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, close_notify_both_ways);
    tcase_add_test(tc, wrong_states_and_bad_input);
    tcase_add_test(tc, garbage_to_server);
    tcase_add_test(tc, server_freed_before_sessions);
    suite_add_tcase(s, tc);
    tc = tcase_create("cookies");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, godot_cookie_mode);
    tcase_add_test(tc, shared_cookie_secret);
    tcase_add_test(tc, cookie_rotation);
    suite_add_tcase(s, tc);
    tc = tcase_create("server_poll");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, server_poll);
    tcase_add_test(tc, server_poll_stop);
    suite_add_tcase(s, tc);
    tc = tcase_create("timers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, client_retransmits_at_exact_times);
    tcase_add_test(tc, handshake_timeout_and_retransmission);
    tcase_add_test(tc, timer_settings_share_the_context);
    suite_add_tcase(s, tc);
    printf("backend: %s (%s)\n", dk_backend_name(), dk_backend_version());
    return tu_run(s);
}
