/* Backend conformance on real networks and under hostile input: loss,
 * duplication, reordering, MTU, idle and dead peers, and a spoofed-source
 * ClientHello flood. Impairments come from a seeded relay, so a failure
 * replays exactly. */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloccount.h"
#include "relay.h"
#include "testutil.h"

/* Moves the relay, the server and the client once. */
static void step_all(tu_relay *r, tu_server *s, dk_dtls_peer *c)
{
    tu_relay_step(r);
    tu_server_step(s);
    if (c)
        dk_dtls_peer_poll(c);
    tu_relay_step(r);
}

static bool handshake_via(tu_relay *r, tu_server *s, dk_dtls_peer *c, int ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)ms;
    while (dk_dtls_peer_get_status(c) == DK_DTLS_HANDSHAKING && tu_now_ms() < end) {
        step_all(r, s, c);
        tu_sleep_ms(1);
    }
    /* The server's last flight may still be on its way. */
    for (int i = 0; i < 20; i++)
        step_all(r, s, c);
    return dk_dtls_peer_get_status(c) == DK_DTLS_CONNECTED;
}

/* Echo of `count` numbered messages, each resent every `retry_ms` until its
 * echo arrives (DTLS does not retransmit application data). Returns how
 * many echoes matched; fails the test on a corrupt one. */
static int echo_with_resend(tu_relay *r, tu_server *s, dk_dtls_peer *c, int count, int retry_ms,
                            int total_ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)total_ms;
    int matched = 0;
    uint64_t sent_at = 0;
    while (matched < count && tu_now_ms() < end &&
           dk_dtls_peer_get_status(c) == DK_DTLS_CONNECTED) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "message %04d of the impaired echo", matched);
        if (!sent_at || tu_now_ms() - sent_at >= (uint64_t)retry_ms) {
            ck_assert_dk_ok(dk_dtls_peer_put_packet(c, msg, (size_t)len));
            sent_at = tu_now_ms();
        }
        step_all(r, s, c);
        char buf[128];
        size_t n;
        while (dk_dtls_peer_get_packet(c, buf, sizeof buf, &n) == DK_OK) {
            int id = -1;
            buf[n < sizeof buf ? n : sizeof buf - 1] = '\0';
            ck_assert_msg(sscanf(buf, "message %d of the impaired echo", &id) == 1 &&
                              n == (size_t)len,
                          "corrupt echo: %s", buf);
            if (id == matched) {
                matched++;
                sent_at = 0;
                break;
            }
        }
        tu_sleep_ms(1);
    }
    return matched;
}

static void impaired_echo(double loss, uint32_t seed)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    ck_assert_dk_ok(dk_dtls_server_set_retransmit(s->dtls, 50, 800));
    tu_relay *r = tu_relay_new("127.0.0.1", s->port, false, seed);
    tu_impair *ways[2] = {tu_relay_up(r), tu_relay_down(r)};
    for (int i = 0; i < 2; i++) {
        ways[i]->loss = loss;
        ways[i]->duplicate = 0.10;
        ways[i]->reorder = 0.10;
    }
    dk_tls_options *o = tu_client_opts();
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, "127.0.0.1", tu_relay_port(r)));
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    ck_assert_dk_ok(dk_dtls_peer_set_retransmit(c, 50, 800));
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, "localhost", o));
    ck_assert_msg(handshake_via(r, s, c, 30000), "no handshake at %.0f%% loss: %s", loss * 100,
                  dk_dtls_peer_get_error_reason(c));
    int got = echo_with_resend(r, s, c, 100, 150, 60000);
    printf("loss %.0f%%: up %llu seen %llu dropped %llu duplicated %llu reordered; "
           "down %llu/%llu/%llu/%llu; %d/100 echoed\n",
           loss * 100, (unsigned long long)ways[0]->seen, (unsigned long long)ways[0]->dropped,
           (unsigned long long)ways[0]->duplicated, (unsigned long long)ways[0]->reordered,
           (unsigned long long)ways[1]->seen, (unsigned long long)ways[1]->dropped,
           (unsigned long long)ways[1]->duplicated, (unsigned long long)ways[1]->reordered, got);
    ck_assert_int_eq(got, 100);
    ck_assert_uint_gt(ways[0]->dropped, 0);
    ck_assert_uint_gt(ways[1]->duplicated + ways[1]->reordered, 0);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_relay_free(r);
    tu_server_free(s);
}

START_TEST(loss_10)
{
    impaired_echo(0.10, 1010);
}
END_TEST

START_TEST(loss_30)
{
    impaired_echo(0.30, 3030);
}
END_TEST

/* A datagram the network duplicates reaches the application once: the
 * record layer's replay window must drop the copy. */
START_TEST(duplicates_delivered_once)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    s->echo = false;
    tu_relay *r = tu_relay_new("127.0.0.1", s->port, false, 77);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", tu_relay_port(r), "localhost", o);
    ck_assert(handshake_via(r, s, c, 10000));
    ck_assert_int_eq(s->npeers, 1);
    tu_relay_up(r)->duplicate = 1.0;
    tu_relay_down(r)->duplicate = 1.0;
    enum { N = 50 };
    for (int i = 0; i < N; i++) {
        char m[32];
        int n = snprintf(m, sizeof m, "once %d", i);
        ck_assert_dk_ok(dk_dtls_peer_put_packet(c, m, (size_t)n));
        ck_assert_dk_ok(dk_dtls_peer_put_packet(s->peers[0], m, (size_t)n));
    }
    for (int i = 0; i < 200; i++) {
        step_all(r, s, c);
        tu_sleep_ms(1);
    }
    ck_assert_uint_ge(tu_relay_up(r)->duplicated, N);
    ck_assert_uint_ge(tu_relay_down(r)->duplicated, N);
    ck_assert_int_eq(dk_dtls_peer_get_available_packet_count(s->peers[0]), N);
    ck_assert_int_eq(dk_dtls_peer_get_available_packet_count(c), N);
    for (int i = 0; i < N; i++) {
        char m[32], a[32], b[32];
        size_t na, nb;
        snprintf(m, sizeof m, "once %d", i);
        ck_assert_dk_ok(dk_dtls_peer_get_packet(s->peers[0], a, sizeof a, &na));
        ck_assert_dk_ok(dk_dtls_peer_get_packet(c, b, sizeof b, &nb));
        ck_assert(na == strlen(m) && !memcmp(a, m, na));
        ck_assert(nb == strlen(m) && !memcmp(b, m, nb));
    }
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_CONNECTED);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_relay_free(r);
    tu_server_free(s);
}
END_TEST

/* A chain bigger than any MTU (RSA-4096 leaf and two intermediates, about
 * 5.6 KiB) is fragmented at the DTLS layer: no datagram exceeds the MTU. */
static void big_chain_at_mtu(int mtu)
{
    dk_key *k = tu_key("big-server.key");
    dk_cert *chain = tu_cert("big-server-chain.pem");
    dk_tls_options *so = dk_tls_options_server(k, chain, NULL);
    ck_assert_ptr_nonnull(so);
    tu_server *s = tu_server_start_opts("127.0.0.1", so, true);
    ck_assert_dk_ok(dk_dtls_server_set_mtu(s->dtls, mtu));
    tu_relay *r = tu_relay_new("127.0.0.1", s->port, false, 5);
    dk_cert *ca = tu_cert("big-ca.pem");
    dk_tls_options *o = dk_tls_options_client(ca, NULL, NULL);
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, "127.0.0.1", tu_relay_port(r)));
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    ck_assert_dk_ok(dk_dtls_peer_set_mtu(c, mtu));
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, "localhost", o));
    ck_assert_msg(handshake_via(r, s, c, 20000), "MTU %d: %s", mtu,
                  dk_dtls_peer_get_error_reason(c));
    size_t up = tu_relay_largest(r, true), down = tu_relay_largest(r, false);
    printf("MTU %d: largest datagram up %zu, down %zu bytes (IPv4 budget %d)\n", mtu, up, down,
           mtu - 28);
    if (dk_backend_caps() & DK_CAP_MTU) {
        ck_assert_uint_le(up, (size_t)mtu - 28);
        ck_assert_uint_le(down, (size_t)mtu - 28);
    } else {
        printf("SKIP: datagram size check at MTU %d: backend %s cannot fragment to an MTU "
               "(no DK_CAP_MTU)\n",
               mtu, dk_backend_name());
    }
    ck_assert_uint_gt(down, 200); /* the chain really went through */
    /* Application data: the largest packet fits, one byte more is refused. */
    int max = dk_dtls_peer_get_max_packet_size(c);
    ck_assert_int_gt(max, 0);
    if (dk_backend_caps() & DK_CAP_MTU)
        ck_assert_int_le(max, mtu - 28 - 13);
    uint8_t buf[2048];
    memset(buf, 'm', sizeof buf);
    ck_assert_dk_ok(dk_dtls_peer_put_packet(c, buf, (size_t)max));
    ck_assert_int_eq(dk_dtls_peer_put_packet(c, buf, (size_t)max + 1), DK_ERR_TOO_BIG);
    uint64_t end = tu_now_ms() + 5000;
    while (dk_dtls_peer_get_available_packet_count(c) == 0 && tu_now_ms() < end) {
        step_all(r, s, c);
        tu_sleep_ms(1);
    }
    size_t n;
    ck_assert_dk_ok(dk_dtls_peer_get_packet(c, buf, sizeof buf, &n));
    ck_assert_uint_eq(n, (size_t)max);
    if (dk_backend_caps() & DK_CAP_MTU)
        ck_assert_uint_le(tu_relay_largest(r, false), (size_t)mtu - 28);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    dk_tls_options_free(so);
    dk_cert_free(ca);
    dk_cert_free(chain);
    dk_key_free(k);
    tu_relay_free(r);
    tu_server_free(s);
}

START_TEST(mtu_576)
{
    big_chain_at_mtu(576);
}
END_TEST

START_TEST(mtu_1280)
{
    big_chain_at_mtu(1280);
}
END_TEST

START_TEST(idle_timeout)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    ck_assert_dk_ok(dk_dtls_server_set_idle_timeout(s->dtls, 300));
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
    dk_dtls_peer *sp = s->peers[0];
    /* Traffic keeps it alive. */
    uint64_t last_put = 0;
    for (int i = 0; i < 6; i++) {
        ck_assert_dk_ok(dk_dtls_peer_put_packet(c, "ping", 4));
        last_put = tu_now_ms();
        tu_run_for(s, &c, 1, 100);
    }
    ck_assert_int_eq(dk_dtls_peer_get_status(sp), DK_DTLS_CONNECTED);
    int t = dk_dtls_peer_get_timeout_ms(sp);
    ck_assert(t >= 0 && t <= 300);
    /* The client vanishes without close_notify. */
    dk_dtls_peer_free(c);
    uint64_t t0 = tu_now_ms();
    while (dk_dtls_peer_get_status(sp) == DK_DTLS_CONNECTED && tu_now_ms() - t0 < 3000) {
        tu_server_step(s);
        tu_sleep_ms(5);
    }
    uint64_t took = tu_now_ms() - t0;
    ck_assert_int_eq(dk_dtls_peer_get_status(sp), DK_DTLS_DISCONNECTED);
    ck_assert_int_eq(dk_dtls_peer_get_error(sp), DK_ERR_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(dk_dtls_peer_get_error_reason(sp), "idle"));
    /* Not before 300 ms after the last record it received (sent no
     * earlier than last_put), however slow the machine. */
    uint64_t since_last = tu_now_ms() - last_put;
    ck_assert_msg(since_last >= 295 && took < 1000, "idle timeout %llu ms after the last packet",
                  (unsigned long long)since_last);
    dk_udp_stats us;
    dk_udp_server_get_stats(s->udp, &us);
    ck_assert_uint_eq(us.peers, 0); /* its address left the table */
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* A client that starts a handshake and vanishes: the server's session ends
 * at its handshake timeout and releases its backend state. */
START_TEST(dead_handshakes_reaped)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    ck_assert_dk_ok(dk_dtls_server_set_handshake_timeout(s->dtls, 300));
    dk_tls_options *o = tu_client_opts();
    enum { N = 20 };
    dk_dtls_peer *c[N];
    for (int i = 0; i < N; i++)
        c[i] = tu_client("127.0.0.1", s->port, "localhost", o);
    /* The server answers every first ClientHello with a HelloVerifyRequest;
     * each client reads it once and sends its second ClientHello; the
     * server starts the sessions. The clients never read further. */
    tu_run_for(s, NULL, 0, 100);
    for (int i = 0; i < N; i++)
        dk_dtls_peer_poll(c[i]);
    uint64_t end = tu_now_ms() + 5000;
    while (s->npeers < N && tu_now_ms() < end) {
        tu_server_step(s);
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(s->npeers, N);
    for (int i = 0; i < N; i++)
        dk_dtls_peer_free(c[i]);
    struct mallinfo2 before = mallinfo2();
    end = tu_now_ms() + 3000;
    int live;
    do {
        tu_server_step(s);
        live = 0;
        for (int i = 0; i < s->npeers; i++)
            live += dk_dtls_peer_get_status(s->peers[i]) == DK_DTLS_HANDSHAKING;
        tu_sleep_ms(5);
    } while (live && tu_now_ms() < end);
    ck_assert_int_eq(live, 0);
    for (int i = 0; i < s->npeers; i++) {
        ck_assert_int_eq(dk_dtls_peer_get_status(s->peers[i]), DK_DTLS_ERROR);
        ck_assert_int_eq(dk_dtls_peer_get_error(s->peers[i]), DK_ERR_TIMEOUT);
    }
    struct mallinfo2 after = mallinfo2();
    /* Each session's TLS state (kilobytes) was released at the timeout. */
    printf("heap in use: %zu bytes before the timeouts, %zu after\n", before.uordblks,
           after.uordblks);
    if (before.uordblks) /* zero under sanitizers, which replace malloc */
        ck_assert_uint_lt(after.uordblks + (size_t)N * 1024, before.uordblks);
    dk_udp_stats us;
    dk_udp_server_get_stats(s->udp, &us);
    ck_assert_uint_eq(us.peers, 0);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* 100,000 ClientHellos from 1,000 spoofed loopback sources while 50 real
 * clients connect: every real client gets through, the flood allocates
 * nothing (not one malloc in the process, TLS library included) and never
 * reaches the pending queue, and every HelloVerifyRequest is no larger
 * than the ClientHello it answers. */
START_TEST(spoofed_flood)
{
    enum { SOURCES = 1000, PER_SOURCE = 100, CLIENTS = 50 };
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    /* A real ClientHello (no cookie) to replay. */
    int capture = tu_socket("127.0.0.1");
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(capture, (struct sockaddr *)&a, &al);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *cap = tu_client("127.0.0.1", ntohs(a.sin_port), "localhost", o);
    uint8_t hello[2048];
    int hlen = tu_recv(capture, hello, sizeof hello, 2000);
    ck_assert_int_gt(hlen, 60);
    dk_dtls_peer_free(cap);
    close(capture);
    int *fds = malloc(SOURCES * sizeof *fds);
    for (int i = 0; i < SOURCES; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.3.%d.%d", i / 250, i % 250 + 1);
        fds[i] = tu_socket(ip);
        int small = 4096; /* HelloVerifyRequests pile up here unread */
        setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    /* Warm up the pools, then the flood alone must allocate nothing. */
    for (int i = 0; i < 200; i++)
        tu_sendto(fds[i], "127.0.0.1", s->port, hello, (size_t)hlen);
    tu_run_for(s, NULL, 0, 20);
    uint64_t allocs = tu_alloc_count();
    long sent = 200;
    for (int round = 0; round < PER_SOURCE / 2; round++) {
        for (int i = 0; i < SOURCES; i++) {
            tu_sendto(fds[i], "127.0.0.1", s->port, hello, (size_t)hlen);
            sent++;
            if (i % 250 == 249)
                tu_server_step(s);
        }
    }
    tu_run_for(s, NULL, 0, 50);
    uint64_t flood_allocs = tu_alloc_count() - allocs;
    /* Now with real clients connecting through the second half. */
    dk_dtls_peer *c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        c[i] = tu_client("127.0.0.1", s->port, "localhost", o);
    for (int round = 0; round < PER_SOURCE / 2; round++) {
        for (int i = 0; i < SOURCES; i++) {
            tu_sendto(fds[i], "127.0.0.1", s->port, hello, (size_t)hlen);
            sent++;
            if (i % 250 == 249) {
                tu_server_step(s);
                for (int k = 0; k < CLIENTS; k++)
                    dk_dtls_peer_poll(c[k]);
            }
        }
    }
    int ok = tu_handshake(s, c, CLIENTS, 30000);
    ck_assert_msg(ok == CLIENTS, "%d of %d clients connected under the flood", ok, CLIENTS);
    for (int i = 0; i < CLIENTS; i++)
        ck_assert_dk_ok(dk_dtls_peer_put_packet(c[i], "real", 4));
    for (int i = 0; i < CLIENTS; i++)
        ck_assert(tu_wait_packet(s, c[i], 10000));
    /* HelloVerifyRequests are never larger than what they answer. */
    uint8_t hvr[2048];
    int n = tu_recv(fds[7], hvr, sizeof hvr, 1000);
    ck_assert_int_gt(n, 0);
    ck_assert_int_le(n, hlen);
    ck_assert_int_eq(hvr[13], 3);
    dk_udp_stats us;
    dk_dtls_server_stats ds;
    dk_udp_server_get_stats(s->udp, &us);
    dk_dtls_server_get_stats(s->dtls, &ds);
    printf("flood: %ld sent, %llu received, %llu HelloVerifyRequests, %llu allocations during "
           "the flood alone, %d/%d clients\n",
           sent, (unsigned long long)us.datagrams_received,
           (unsigned long long)ds.hello_verify_sent, (unsigned long long)flood_allocs, ok, CLIENTS);
    /* Nothing at all, in the whole process: core, libc and TLS library
     * (see alloccount.h; under a sanitizer, the core's calls only). */
    if (!tu_alloc_whole_process())
        printf("note: a sanitizer owns malloc; only the core's allocations are counted\n");
    ck_assert_uint_eq(flood_allocs, 0);
    ck_assert_int_eq(s->taken, CLIENTS);
    ck_assert_int_eq(s->taken_errors, 0);
    ck_assert_uint_eq(us.pending, 0);
    ck_assert_uint_eq(us.dropped_pending_full, 0);
    ck_assert_uint_ge(us.datagrams_received, (uint64_t)sent * 9 / 10);
    ck_assert_uint_ge(ds.hello_verify_sent + 1, us.dropped_filtered);
    ck_assert_uint_eq(ds.cookies_accepted, CLIENTS);
    for (int i = 0; i < CLIENTS; i++)
        dk_dtls_peer_free(c[i]);
    for (int i = 0; i < SOURCES; i++)
        close(fds[i]);
    free(fds);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("loss");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, loss_10);
    tcase_add_test(tc, loss_30);
    tcase_add_test(tc, duplicates_delivered_once);
    suite_add_tcase(s, tc);
    tc = tcase_create("mtu");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, mtu_576);
    tcase_add_test(tc, mtu_1280);
    suite_add_tcase(s, tc);
    tc = tcase_create("reaping");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, idle_timeout);
    tcase_add_test(tc, dead_handshakes_reaped);
    tcase_add_test(tc, spoofed_flood);
    suite_add_tcase(s, tc);
    printf("backend: %s (%s)\n", dk_backend_name(), dk_backend_version());
    return tu_run(s);
}
