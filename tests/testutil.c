/* Test helpers. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int tu_fill_addr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *len = sizeof *s4;
        return AF_INET;
    }
    if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *len = sizeof *s6;
        return AF_INET6;
    }
    return -1;
}

int tu_socket(const char *ip)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int family = tu_fill_addr(ip, 0, &ss, &len);
    ck_assert_msg(family > 0, "bad ip %s", ip);
    int fd = socket(family, SOCK_DGRAM, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    ck_assert_msg(bind(fd, (struct sockaddr *)&ss, len) == 0, "bind %s: %s", ip, strerror(errno));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

void tu_sendto(int fd, const char *ip, int port, const void *data, size_t len)
{
    /* No ck_assert on the success path: each one allocates (Check marks
     * the location), and the flood test counts allocations. */
    struct sockaddr_storage ss;
    socklen_t slen;
    if (tu_fill_addr(ip, port, &ss, &slen) <= 0)
        ck_abort_msg("bad address %s", ip);
    ssize_t n = sendto(fd, data, len, 0, (struct sockaddr *)&ss, slen);
    if (n != (ssize_t)len)
        ck_abort_msg("sendto %s:%d: %s", ip, port, strerror(errno));
}

int tu_recv(int fd, void *buf, size_t cap, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    ssize_t n = recv(fd, buf, cap, 0);
    return n < 0 ? -1 : (int)n;
}

uint64_t tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void tu_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---------------------------------------------------------------- DTLS */

const char *tu_cert_path(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", TU_CERTS_DIR, name);
    return buf;
}

dk_key *tu_key(const char *name)
{
    dk_key *k = dk_key_load(tu_cert_path(name), NULL, false, NULL);
    ck_assert_msg(k != NULL, "key %s: %s", name, dk_last_error());
    return k;
}

dk_cert *tu_cert(const char *name)
{
    dk_cert *c = dk_cert_load(tu_cert_path(name), NULL);
    ck_assert_msg(c != NULL, "cert %s: %s", name, dk_last_error());
    return c;
}

tu_server *tu_server_start_opts(const char *bind, const dk_tls_options *opts, bool admission)
{
    tu_server *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    s->udp = dk_udp_server_new(NULL);
    s->dtls = dk_dtls_server_new(NULL);
    ck_assert_ptr_nonnull(s->udp);
    ck_assert_ptr_nonnull(s->dtls);
    ck_assert_dk_ok(dk_udp_server_set_recv_buffer_size(s->udp, 4 << 20));
    ck_assert_dk_ok(dk_udp_server_set_max_pending_connections(s->udp, TU_MAX_PEERS));
    ck_assert_dk_ok(dk_udp_server_listen(s->udp, 0, bind));
    ck_assert_dk_ok(dk_dtls_server_setup(s->dtls, opts));
    /* Every test client comes from 127.0.0.1 or ::1, which a real server
     * would see as hundreds of hosts: the per-address caps are lifted here
     * and tested on their own (tests/check_hostile.c). */
    ck_assert_dk_ok(dk_dtls_server_set_handshake_limits(s->dtls, 0, 0));
    if (admission)
        ck_assert_dk_ok(dk_dtls_server_attach(s->dtls, s->udp));
    s->port = dk_udp_server_get_local_port(s->udp);
    s->echo = true;
    return s;
}

tu_server *tu_server_start(const char *bind, const char *chain, const char *key, bool admission)
{
    dk_key *k = tu_key(key);
    dk_cert *c = tu_cert(chain);
    dk_tls_options *o = dk_tls_options_server(k, c, NULL);
    ck_assert_msg(o != NULL, "server options: %s", dk_last_error());
    tu_server *s = tu_server_start_opts(bind, o, admission);
    dk_tls_options_free(o);
    dk_key_free(k);
    dk_cert_free(c);
    return s;
}

void tu_server_step(tu_server *s)
{
    if (!s)
        return;
    /* The seed's _process(), verbatim in spirit. */
    while (dk_udp_server_is_connection_available(s->udp)) {
        dk_udp_peer *peer = dk_udp_server_take_connection(s->udp, NULL);
        ck_assert_ptr_nonnull(peer);
        dk_dtls_peer *dp = dk_dtls_server_take_connection(s->dtls, peer, NULL);
        s->taken++;
        if (!dp) {
            s->taken_null++;
            dk_udp_peer_free(peer);
            continue;
        }
        if (dk_dtls_peer_get_status(dp) != DK_DTLS_HANDSHAKING || s->npeers == TU_MAX_PEERS) {
            s->taken_errors++;
            dk_dtls_peer_free(dp);
            continue;
        }
        s->peers[s->npeers++] = dp;
    }
    uint8_t buf[DK_UDP_MAX_DATAGRAM];
    for (int i = 0; i < s->npeers; i++) {
        dk_dtls_peer *p = s->peers[i];
        dk_dtls_peer_poll(p);
        if (!s->echo)
            continue;
        while (dk_dtls_peer_get_status(p) == DK_DTLS_CONNECTED &&
               dk_dtls_peer_get_available_packet_count(p) > 0) {
            size_t n;
            if (dk_dtls_peer_get_packet(p, buf, sizeof buf, &n) != DK_OK)
                break;
            dk_dtls_peer_put_packet(p, buf, n);
        }
    }
}

void tu_server_free(tu_server *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->npeers; i++)
        dk_dtls_peer_free(s->peers[i]);
    dk_dtls_server_free(s->dtls);
    dk_udp_server_free(s->udp);
    free(s);
}

dk_tls_options *tu_client_opts(void)
{
    dk_cert *ca = tu_cert("ca.pem");
    dk_tls_options *o = dk_tls_options_client(ca, NULL, NULL);
    ck_assert_ptr_nonnull(o);
    dk_cert_free(ca);
    return o;
}

dk_dtls_peer *tu_client(const char *host, int port, const char *hostname,
                        const dk_tls_options *opts)
{
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    ck_assert_ptr_nonnull(udp);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, host, port));
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, hostname, opts));
    return c;
}

static void nap(void)
{
    tu_sleep_ms(1);
}

int tu_handshake(tu_server *s, dk_dtls_peer **clients, int n, int ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)ms;
    int connected = 0;
    for (;;) {
        tu_server_step(s);
        int pending = 0;
        connected = 0;
        for (int i = 0; i < n; i++) {
            dk_dtls_peer_poll(clients[i]);
            dk_dtls_status st = dk_dtls_peer_get_status(clients[i]);
            pending += st == DK_DTLS_HANDSHAKING;
            connected += st == DK_DTLS_CONNECTED;
        }
        if (!pending || tu_now_ms() >= end)
            break;
        nap();
    }
    /* Let the server see the final flight's effects too. */
    for (int k = 0; k < 3; k++)
        tu_server_step(s);
    return connected;
}

bool tu_wait_packet(tu_server *s, dk_dtls_peer *c, int ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)ms;
    for (;;) {
        tu_server_step(s);
        dk_dtls_peer_poll(c);
        if (dk_dtls_peer_get_available_packet_count(c) > 0)
            return true;
        if (tu_now_ms() >= end)
            return false;
        nap();
    }
}

void tu_run_for(tu_server *s, dk_dtls_peer **clients, int n, int ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)ms;
    while (tu_now_ms() < end) {
        tu_server_step(s);
        for (int i = 0; i < n; i++)
            dk_dtls_peer_poll(clients[i]);
        nap();
    }
}
