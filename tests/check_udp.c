/* UDP layer: dk_udp_server and dk_udp_peer over loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "udp_internal.h"

static dk_udp_server *listen_on(const char *addr)
{
    dk_err err;
    dk_udp_server *s = dk_udp_server_new(&err);
    ck_assert_ptr_nonnull(s);
    ck_assert_dk_ok(dk_udp_server_listen(s, 0, addr));
    ck_assert_int_gt(dk_udp_server_get_local_port(s), 0);
    return s;
}

static dk_udp_peer *client_to(const char *host, int port)
{
    dk_udp_peer *p = dk_udp_peer_new(NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(p, host, port));
    return p;
}

/* Takes the next pending connection, polling for up to 2 s. */
static dk_udp_peer *take(dk_udp_server *s)
{
    ck_assert(TU_POLL_UNTIL(s, dk_udp_server_is_connection_available(s), 2000));
    dk_err err;
    dk_udp_peer *p = dk_udp_server_take_connection(s, &err);
    ck_assert_msg(p != NULL, "take_connection: %s", dk_last_error());
    return p;
}

static size_t get(dk_udp_peer *p, char *buf, size_t cap)
{
    size_t n = 0;
    ck_assert_dk_ok(dk_udp_peer_wait(p, 2000));
    ck_assert_dk_ok(dk_udp_peer_get_packet(p, buf, cap - 1, &n));
    buf[n] = '\0';
    return n;
}

START_TEST(server_lifecycle)
{
    dk_udp_server *s = dk_udp_server_new(NULL);
    ck_assert(!dk_udp_server_is_listening(s));
    ck_assert_int_eq(dk_udp_server_get_local_port(s), 0);
    ck_assert_int_eq(dk_udp_server_get_fd(s), -1);
    ck_assert_int_eq(dk_udp_server_get_max_pending_connections(s), 16);
    ck_assert_int_eq(dk_udp_server_poll(s), DK_ERR_STATE);
    ck_assert(!dk_udp_server_is_connection_available(s));
    ck_assert_dk_ok(dk_udp_server_listen(s, 0, "127.0.0.1"));
    ck_assert(dk_udp_server_is_listening(s));
    ck_assert_int_ge(dk_udp_server_get_fd(s), 0);
    int port = dk_udp_server_get_local_port(s);
    ck_assert_int_gt(port, 0);
    ck_assert_int_eq(dk_udp_server_listen(s, 0, "127.0.0.1"), DK_ERR_STATE);
    ck_assert_int_eq(dk_udp_server_get_timeout_ms(s), -1);
    dk_udp_server_stop(s);
    ck_assert(!dk_udp_server_is_listening(s));
    /* Listening again after stop works, on the same port. */
    ck_assert_dk_ok(dk_udp_server_listen(s, port, "127.0.0.1"));
    ck_assert_int_eq(dk_udp_server_get_local_port(s), port);
    /* A second server on the same port is refused. */
    dk_udp_server *s2 = dk_udp_server_new(NULL);
    ck_assert_int_eq(dk_udp_server_listen(s2, port, "127.0.0.1"), DK_ERR_ADDR_IN_USE);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "in use"));
    dk_udp_server_free(s2);
    dk_udp_server_free(s);
    dk_udp_server_free(NULL);
}
END_TEST

START_TEST(server_bad_input)
{
    dk_udp_server *s = dk_udp_server_new(NULL);
    ck_assert_int_eq(dk_udp_server_listen(NULL, 0, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_server_listen(s, -1, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_server_listen(s, 65536, NULL), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "65536"));
    ck_assert_int_eq(dk_udp_server_listen(s, 0, "not-an-address"), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_server_listen(s, 0, "256.1.1.1"), DK_ERR_INVALID);
    ck_assert(!dk_udp_server_is_listening(s));
    ck_assert_int_eq(dk_udp_server_poll(NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_server_set_max_pending_connections(s, -1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_server_set_pending_timeout(s, 0), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_server_set_queue_limits(s, 0, 10), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_server_get_stats(s, NULL), DK_ERR_INVALID);
    dk_err err = DK_OK;
    ck_assert_ptr_null(dk_udp_server_take_connection(s, &err));
    ck_assert_int_eq(err, DK_ERR_STATE);
    ck_assert_ptr_null(dk_udp_server_take_connection(NULL, &err));
    ck_assert_int_eq(err, DK_ERR_INVALID);
    ck_assert_dk_ok(dk_udp_server_listen(s, 0, "127.0.0.1"));
    ck_assert_ptr_null(dk_udp_server_take_connection(s, &err));
    ck_assert_int_eq(err, DK_ERR_WOULD_BLOCK);
    ck_assert_int_eq(dk_udp_server_set_reuse_port(s, true), DK_ERR_STATE);
    dk_udp_server_free(s);
}
END_TEST

START_TEST(echo_ipv4)
{
    dk_udp_server *s = listen_on("127.0.0.1");
    int port = dk_udp_server_get_local_port(s);
    dk_udp_peer *c = client_to("127.0.0.1", port);
    ck_assert(dk_udp_peer_is_bound(c));
    ck_assert(dk_udp_peer_is_socket_connected(c));
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "hello", 5));
    dk_udp_peer *p = take(s);
    ck_assert(dk_udp_peer_is_bound(p));
    ck_assert(dk_udp_peer_is_socket_connected(p));
    ck_assert_int_eq(dk_udp_peer_get_local_port(p), port);
    ck_assert_int_eq(dk_udp_peer_get_fd(p), dk_udp_server_get_fd(s));
    ck_assert_int_eq(dk_udp_peer_get_available_packet_count(p), 1);
    char buf[64], ip[DK_IP_STRLEN];
    ck_assert_uint_eq(get(p, buf, sizeof buf), 5);
    ck_assert_str_eq(buf, "hello");
    ck_assert_dk_ok(dk_udp_peer_get_packet_ip(p, ip, sizeof ip));
    ck_assert_str_eq(ip, "127.0.0.1");
    ck_assert_int_eq(dk_udp_peer_get_packet_port(p), dk_udp_peer_get_local_port(c));
    int rport = 0;
    ck_assert_dk_ok(dk_udp_peer_get_remote_address(p, ip, sizeof ip, &rport));
    ck_assert_int_eq(rport, dk_udp_peer_get_local_port(c));
    /* A second datagram goes to the taken peer, not to a new pending one. */
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "again", 5));
    ck_assert_dk_ok(dk_udp_peer_wait(p, 2000));
    ck_assert(!dk_udp_server_is_connection_available(s));
    ck_assert_uint_eq(get(p, buf, sizeof buf), 5);
    ck_assert_str_eq(buf, "again");
    /* Reply through the server's socket. */
    ck_assert_dk_ok(dk_udp_peer_put_packet(p, "world!", 6));
    ck_assert_uint_eq(get(c, buf, sizeof buf), 6);
    ck_assert_str_eq(buf, "world!");
    ck_assert_int_eq(dk_udp_peer_get_packet_port(c), port);
    /* Zero-length datagrams are datagrams too. */
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "", 0));
    ck_assert_dk_ok(dk_udp_peer_wait(p, 2000));
    size_t n = 99;
    ck_assert_dk_ok(dk_udp_peer_get_packet(p, NULL, 0, &n));
    ck_assert_uint_eq(n, 0);
    dk_udp_stats st;
    ck_assert_dk_ok(dk_udp_server_get_stats(s, &st));
    ck_assert_uint_eq(st.datagrams_received, 3);
    ck_assert_uint_eq(st.datagrams_sent, 1);
    ck_assert_uint_eq(st.peers, 1);
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_dk_ok(dk_udp_peer_get_stats(p, &st));
    ck_assert_uint_eq(st.datagrams_received, 3);
    ck_assert_uint_eq(st.bytes_received, 10);
    dk_udp_peer_free(p);
    dk_udp_peer_free(c);
    dk_udp_server_free(s);
}
END_TEST

/* 1,000 clients on distinct 127.x.y.z source addresses, each routed to its
 * own peer and answered through it. */
/* SO_REUSEPORT: two servers on one port (workers); a third without the
 * option is refused; the kernel spreads 64 sources over both (all on one
 * has probability 2^-63); once one closes, the other gets everything. */
START_TEST(reuse_port_group)
{
    enum { N = 64 };
    dk_udp_server *a = dk_udp_server_new(NULL), *b = dk_udp_server_new(NULL),
                  *c = dk_udp_server_new(NULL);
    ck_assert_int_eq(dk_udp_server_set_reuse_port(NULL, true), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_udp_server_set_reuse_port(a, true));
    ck_assert_dk_ok(dk_udp_server_set_reuse_port(b, true));
    ck_assert_dk_ok(dk_udp_server_listen(a, 0, "127.0.0.1"));
    int port = dk_udp_server_get_local_port(a);
    ck_assert_dk_ok(dk_udp_server_listen(b, port, "127.0.0.1"));
    ck_assert_int_eq(dk_udp_server_listen(c, port, "127.0.0.1"), DK_ERR_ADDR_IN_USE);
    ck_assert_dk_ok(dk_udp_server_set_max_pending_connections(a, N));
    ck_assert_dk_ok(dk_udp_server_set_max_pending_connections(b, N));
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = tu_socket("127.0.0.1");
        tu_sendto(fds[i], "127.0.0.1", port, "hello", 5);
    }
    dk_udp_stats sa, sb;
    uint64_t end = tu_now_ms() + 5000;
    do {
        dk_udp_server_poll(a);
        dk_udp_server_poll(b);
        dk_udp_server_get_stats(a, &sa);
        dk_udp_server_get_stats(b, &sb);
        if (sa.pending + sb.pending < N)
            tu_sleep_ms(1);
    } while (sa.pending + sb.pending < N && tu_now_ms() < end);
    printf("reuse_port: %u / %u of %d sources\n", (unsigned)sa.pending, (unsigned)sb.pending, N);
    ck_assert_uint_eq(sa.pending + sb.pending, N);
    ck_assert_uint_gt(sa.pending, 0);
    ck_assert_uint_gt(sb.pending, 0);
    dk_udp_server_free(a);
    for (int i = 0; i < N; i++)
        tu_sendto(fds[i], "127.0.0.1", port, "again", 5);
    /* b's own sources send again: not new; a's sources are new to b. */
    ck_assert(TU_POLL_UNTIL(b, (dk_udp_server_get_stats(b, &sb), sb.pending == N), 5000));
    for (int i = 0; i < N; i++)
        close(fds[i]);
    dk_udp_server_free(b);
    dk_udp_server_free(c);
}
END_TEST

/* A bound UDP socket made elsewhere (socket activation, a parent that
 * keeps its workers' sockets). */
static int bound_udp(const char *ip, int port, bool reuse)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    int on = 1;
    if (reuse)
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static int local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    return ntohs(a.sin_port);
}

/* Takes the pending connections of `s` whose payload is "id K", marking
 * seen[K], until `want` were taken or `ms` passed (one pass at least). */
static int drain_sources(dk_udp_server *s, int n, bool *seen, int want, int ms)
{
    int got = 0;
    uint64_t end = tu_now_ms() + (uint64_t)ms;
    do {
        dk_udp_server_poll(s);
        dk_udp_peer *p;
        while ((p = dk_udp_server_take_connection(s, NULL)) != NULL) {
            char buf[32];
            size_t len = 0;
            int id = -1;
            ck_assert_dk_ok(dk_udp_peer_get_packet(p, buf, sizeof buf - 1, &len));
            buf[len] = '\0';
            ck_assert_int_eq(sscanf(buf, "id %d", &id), 1);
            ck_assert(id >= 0 && id < n);
            seen[id] = true;
            got++;
            dk_udp_peer_free(p);
        }
        if (got < want)
            tu_sleep_ms(1);
    } while (got < want && tu_now_ms() < end);
    return got;
}

START_TEST(adopt_socket)
{
    dk_udp_server *s = dk_udp_server_new(NULL);
    /* Bad descriptors stay the caller's. */
    ck_assert_int_eq(dk_udp_server_adopt_socket(NULL, 0), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_server_adopt_socket(s, -1), DK_ERR_INVALID);
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(dk_udp_server_adopt_socket(s, tcp), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "not an IPv4 or IPv6 UDP socket"));
    int unbound = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(dk_udp_server_adopt_socket(s, unbound), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "not bound"));
    int conn = bound_udp("127.0.0.1", 0, false);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    ck_assert_int_eq(connect(conn, (struct sockaddr *)&to, sizeof to), 0);
    ck_assert_int_eq(dk_udp_server_adopt_socket(s, conn), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "connected"));
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    ck_assert_int_eq(dk_udp_server_adopt_socket(s, pipefd[0]), DK_ERR_INVALID);
    ck_assert(!dk_udp_server_is_listening(s));
    ck_assert_int_ne(fcntl(tcp, F_GETFD), -1); /* not closed by the refusals */
    close(tcp);
    close(unbound);
    close(conn);
    close(pipefd[0]);
    close(pipefd[1]);

    /* A good one: listening on its port, echoing. */
    int fd = bound_udp("127.0.0.1", 0, false);
    ck_assert_dk_ok(dk_udp_server_adopt_socket(s, fd));
    ck_assert(dk_udp_server_is_listening(s));
    ck_assert_int_eq(dk_udp_server_get_local_port(s), local_port(fd));
    ck_assert_int_eq(dk_udp_server_get_fd(s), fd);
    ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    ck_assert_int_eq(dk_udp_server_adopt_socket(s, fd), DK_ERR_STATE);
    dk_udp_peer *c = client_to("127.0.0.1", dk_udp_server_get_local_port(s));
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "ping", 4));
    dk_udp_peer *p = take(s);
    char buf[16];
    size_t n = 0;
    ck_assert_dk_ok(dk_udp_peer_get_packet(p, buf, sizeof buf, &n));
    ck_assert_uint_eq(n, 4);
    dk_udp_peer_free(p);
    dk_udp_peer_free(c);
    dk_udp_server_free(s);
    ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* the server closed it */
}
END_TEST

/* The point of adopting: a parent keeps a copy of each worker's socket in
 * an SO_REUSEPORT group. When worker A exits, its socket stays in the group,
 * datagrams for A's sources wait in it, the restarted A' gets them, and
 * worker B never sees A's sources (with its own socket closed, B would). */
START_TEST(adopted_sockets_keep_the_group)
{
    enum { N = 64 };
    int fa = bound_udp("127.0.0.1", 0, true);
    int port = local_port(fa);
    int fb = bound_udp("127.0.0.1", port, true);
    dk_udp_server *a = dk_udp_server_new(NULL), *b = dk_udp_server_new(NULL);
    ck_assert_dk_ok(dk_udp_server_adopt_socket(a, dup(fa)));
    ck_assert_dk_ok(dk_udp_server_adopt_socket(b, dup(fb)));
    ck_assert_dk_ok(dk_udp_server_set_max_pending_connections(a, N));
    ck_assert_dk_ok(dk_udp_server_set_max_pending_connections(b, N));
    int fds[N];
    char msg[16];
    for (int i = 0; i < N; i++) {
        fds[i] = tu_socket("127.0.0.1");
        int len = snprintf(msg, sizeof msg, "id %d", i);
        tu_sendto(fds[i], "127.0.0.1", port, msg, (size_t)len);
    }
    bool on_a[N] = {false}, on_b[N] = {false};
    int na = 0, nb = 0;
    uint64_t end = tu_now_ms() + 5000;
    while (na + nb < N && tu_now_ms() < end) {
        na += drain_sources(a, N, on_a, 0, 0);
        nb += drain_sources(b, N, on_b, 0, 0);
        tu_sleep_ms(1);
    }
    ck_assert_int_eq(na + nb, N);
    ck_assert_int_gt(na, 0);
    ck_assert_int_gt(nb, 0);
    /* Worker A exits: its copy closes, the parent's stays in the group. */
    dk_udp_server_free(a);
    for (int i = 0; i < N; i++) {
        int len = snprintf(msg, sizeof msg, "id %d", i);
        tu_sendto(fds[i], "127.0.0.1", port, msg, (size_t)len);
    }
    /* B gets its own sources again (freed peers are forgotten), none of A's. */
    bool again_b[N] = {false}, again_a[N] = {false};
    ck_assert_int_eq(drain_sources(b, N, again_b, nb + 1, 300), nb);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(again_b[i], on_b[i]);
    /* The restarted A' adopts the parent's socket: A's datagrams waited. */
    dk_udp_server *a2 = dk_udp_server_new(NULL);
    ck_assert_dk_ok(dk_udp_server_set_max_pending_connections(a2, N));
    ck_assert_dk_ok(dk_udp_server_adopt_socket(a2, dup(fa)));
    ck_assert_int_eq(drain_sources(a2, N, again_a, na, 3000), na);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(again_a[i], on_a[i]);
    printf("adopted sockets: %d / %d sources; after a restart of A, A' got its %d back, B "
           "none of them\n",
           na, nb, na);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    dk_udp_server_free(a2);
    dk_udp_server_free(b);
    close(fa);
    close(fb);
}
END_TEST

START_TEST(thousand_sources)
{
    enum { N = 1000 };
    dk_udp_server *s = dk_udp_server_new(NULL);
    ck_assert_int_eq(dk_udp_server_set_recv_buffer_size(s, -1), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_udp_server_set_recv_buffer_size(s, 4 << 20));
    ck_assert_dk_ok(dk_udp_server_listen(s, 0, "127.0.0.1"));
    int port = dk_udp_server_get_local_port(s);
    ck_assert_dk_ok(dk_udp_server_set_max_pending_connections(s, N));
    int *fds = malloc(N * sizeof *fds);
    char ip[DK_IP_STRLEN];
    for (int i = 0; i < N; i++) {
        snprintf(ip, sizeof ip, "127.1.%d.%d", i / 200, i % 200 + 1);
        fds[i] = tu_socket(ip);
        char msg[32];
        int len = snprintf(msg, sizeof msg, "id %d", i);
        tu_sendto(fds[i], "127.0.0.1", port, msg, (size_t)len);
        if (i % 100 == 99) /* stay within the kernel's buffer where it is capped */
            dk_udp_server_poll(s);
    }
    dk_udp_stats st;
    ck_assert(TU_POLL_UNTIL(s, (dk_udp_server_get_stats(s, &st), st.pending == N), 5000));
    dk_udp_peer **peers = calloc(N, sizeof *peers);
    for (int i = 0; i < N; i++) {
        dk_udp_peer *p = dk_udp_server_take_connection(s, NULL);
        ck_assert_ptr_nonnull(p);
        char buf[64];
        size_t n;
        ck_assert_dk_ok(dk_udp_peer_get_packet(p, buf, sizeof buf - 1, &n));
        buf[n] = '\0';
        int id = -1;
        ck_assert_int_eq(sscanf(buf, "id %d", &id), 1);
        ck_assert(id >= 0 && id < N && !peers[id]);
        /* The payload names the source address it came from. */
        char expect[DK_IP_STRLEN];
        snprintf(expect, sizeof expect, "127.1.%d.%d", id / 200, id % 200 + 1);
        ck_assert_dk_ok(dk_udp_peer_get_packet_ip(p, ip, sizeof ip));
        ck_assert_str_eq(ip, expect);
        peers[id] = p;
    }
    ck_assert(!dk_udp_server_is_connection_available(s));
    /* Second round: every datagram must land on the right taken peer. */
    for (int i = N - 1; i >= 0; i--) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "second %d", i);
        tu_sendto(fds[i], "127.0.0.1", port, msg, (size_t)len);
        if (i % 100 == 0)
            dk_udp_server_poll(s);
    }
    ck_assert(
        TU_POLL_UNTIL(s, (dk_udp_server_get_stats(s, &st), st.datagrams_received == 2 * N), 5000));
    for (int i = 0; i < N; i++) {
        char buf[64], expect[32];
        size_t n;
        ck_assert_dk_ok(dk_udp_peer_get_packet(peers[i], buf, sizeof buf - 1, &n));
        buf[n] = '\0';
        snprintf(expect, sizeof expect, "second %d", i);
        ck_assert_str_eq(buf, expect);
        ck_assert_dk_ok(dk_udp_peer_put_packet(peers[i], expect, strlen(expect)));
    }
    ck_assert(!dk_udp_server_is_connection_available(s));
    for (int i = 0; i < N; i++) {
        char buf[64], expect[32];
        int n = tu_recv(fds[i], buf, sizeof buf - 1, 2000);
        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
        snprintf(expect, sizeof expect, "second %d", i);
        ck_assert_str_eq(buf, expect);
        close(fds[i]);
        dk_udp_peer_free(peers[i]);
    }
    ck_assert_dk_ok(dk_udp_server_get_stats(s, &st));
    ck_assert_uint_eq(st.peers, 0);
    ck_assert_uint_eq(st.dropped_pending_full + st.dropped_queue_full, 0);
    free(peers);
    free(fds);
    dk_udp_server_free(s);
}
END_TEST

START_TEST(pending_limit)
{
    dk_udp_server *s = listen_on("127.0.0.1");
    int port = dk_udp_server_get_local_port(s);
    ck_assert_dk_ok(dk_udp_server_set_max_pending_connections(s, 4));
    int fds[10];
    for (int i = 0; i < 10; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.2.0.%d", i + 1);
        fds[i] = tu_socket(ip);
        tu_sendto(fds[i], "127.0.0.1", port, "x", 1);
    }
    dk_udp_stats st;
    ck_assert(
        TU_POLL_UNTIL(s, (dk_udp_server_get_stats(s, &st), st.datagrams_received == 10), 2000));
    ck_assert_uint_eq(st.pending, 4);
    ck_assert_uint_eq(st.dropped_pending_full, 6);
    /* Lowering the limit drops the newest pending connections. */
    ck_assert_dk_ok(dk_udp_server_set_max_pending_connections(s, 2));
    ck_assert_dk_ok(dk_udp_server_get_stats(s, &st));
    ck_assert_uint_eq(st.pending, 2);
    ck_assert_uint_eq(st.dropped_pending_full, 8);
    /* Oldest first: the first two sources are the ones still pending. */
    for (int i = 0; i < 2; i++) {
        dk_udp_peer *p = dk_udp_server_take_connection(s, NULL);
        ck_assert_ptr_nonnull(p);
        char ip[DK_IP_STRLEN], expect[32];
        dk_udp_peer_get_remote_address(p, ip, sizeof ip, NULL);
        snprintf(expect, sizeof expect, "127.2.0.%d", i + 1);
        ck_assert_str_eq(ip, expect);
        dk_udp_peer_free(p);
    }
    for (int i = 0; i < 10; i++)
        close(fds[i]);
    dk_udp_server_free(s);
}
END_TEST

START_TEST(pending_expiry)
{
    dk_udp_server *s = listen_on("127.0.0.1");
    int port = dk_udp_server_get_local_port(s);
    ck_assert_dk_ok(dk_udp_server_set_pending_timeout(s, 150));
    int fd = tu_socket("127.0.0.1");
    tu_sendto(fd, "127.0.0.1", port, "x", 1);
    ck_assert(TU_POLL_UNTIL(s, dk_udp_server_is_connection_available(s), 2000));
    int t = dk_udp_server_get_timeout_ms(s);
    ck_assert(t >= 0 && t <= 150);
    tu_sleep_ms(200);
    ck_assert(!dk_udp_server_is_connection_available(s));
    dk_udp_stats st;
    ck_assert_dk_ok(dk_udp_server_get_stats(s, &st));
    ck_assert_uint_eq(st.pending_expired, 1);
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_int_eq(dk_udp_server_get_timeout_ms(s), -1);
    /* The same source is welcome again afterwards. */
    tu_sendto(fd, "127.0.0.1", port, "y", 1);
    dk_udp_peer *p = take(s);
    char buf[8];
    ck_assert_uint_eq(get(p, buf, sizeof buf), 1);
    ck_assert_str_eq(buf, "y");
    dk_udp_peer_free(p);
    close(fd);
    dk_udp_server_free(s);
}
END_TEST

START_TEST(queue_overflow)
{
    dk_udp_server *s = listen_on("127.0.0.1");
    int port = dk_udp_server_get_local_port(s);
    ck_assert_dk_ok(dk_udp_server_set_queue_limits(s, 4, 1 << 20));
    int fd = tu_socket("127.0.0.1");
    tu_sendto(fd, "127.0.0.1", port, "0", 1);
    dk_udp_peer *p = take(s);
    for (int i = 1; i < 10; i++) {
        char c = (char)('0' + i);
        tu_sendto(fd, "127.0.0.1", port, &c, 1);
    }
    dk_udp_stats st;
    ck_assert(
        TU_POLL_UNTIL(s, (dk_udp_server_get_stats(s, &st), st.datagrams_received == 10), 2000));
    ck_assert_uint_eq(st.dropped_queue_full, 6);
    ck_assert_int_eq(dk_udp_peer_get_available_packet_count(p), 4);
    /* The oldest are kept, the newest dropped. */
    char buf[8];
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(get(p, buf, sizeof buf), 1);
        ck_assert_int_eq(buf[0], '0' + i);
    }
    ck_assert_dk_ok(dk_udp_peer_get_stats(p, &st));
    ck_assert_uint_eq(st.dropped_queue_full, 6);
    /* A byte bound too: 3 x 400 bytes fit in 1000 only twice. */
    ck_assert_dk_ok(dk_udp_peer_set_queue_limits(p, 100, 1000));
    char big[400];
    memset(big, 'b', sizeof big);
    for (int i = 0; i < 3; i++)
        tu_sendto(fd, "127.0.0.1", port, big, sizeof big);
    ck_assert(
        TU_POLL_UNTIL(s, (dk_udp_server_get_stats(s, &st), st.datagrams_received == 13), 2000));
    ck_assert_int_eq(dk_udp_peer_get_available_packet_count(p), 2);
    ck_assert_dk_ok(dk_udp_peer_get_stats(p, &st));
    ck_assert_uint_eq(st.dropped_queue_full, 7);
    dk_udp_peer_free(p);
    close(fd);
    dk_udp_server_free(s);
}
END_TEST

START_TEST(ipv6_and_dual_stack)
{
    /* IPv6 only. */
    dk_udp_server *s6 = listen_on("::1");
    dk_udp_peer *c6 = client_to("::1", dk_udp_server_get_local_port(s6));
    ck_assert_dk_ok(dk_udp_peer_put_packet(c6, "six", 3));
    dk_udp_peer *p6 = take(s6);
    char buf[16], ip[DK_IP_STRLEN];
    get(p6, buf, sizeof buf);
    ck_assert_str_eq(buf, "six");
    ck_assert_dk_ok(dk_udp_peer_get_packet_ip(p6, ip, sizeof ip));
    ck_assert_str_eq(ip, "::1");
    ck_assert_dk_ok(dk_udp_peer_put_packet(p6, "ok6", 3));
    get(c6, buf, sizeof buf);
    ck_assert_str_eq(buf, "ok6");
    dk_udp_peer_free(p6);
    dk_udp_peer_free(c6);
    dk_udp_server_free(s6);

    /* Dual stack: one "*" server hears IPv4 and IPv6 clients. */
    dk_udp_server *s = listen_on("*");
    int port = dk_udp_server_get_local_port(s);
    dk_udp_peer *c4 = client_to("127.0.0.1", port);
    c6 = client_to("::1", port);
    ck_assert_dk_ok(dk_udp_peer_put_packet(c4, "v4", 2));
    dk_udp_peer *a = take(s);
    ck_assert_dk_ok(dk_udp_peer_put_packet(c6, "v6", 2));
    dk_udp_peer *b = take(s);
    get(a, buf, sizeof buf);
    ck_assert_str_eq(buf, "v4");
    ck_assert_dk_ok(dk_udp_peer_get_packet_ip(a, ip, sizeof ip));
    ck_assert_str_eq(ip, "127.0.0.1"); /* not ::ffff:127.0.0.1 */
    get(b, buf, sizeof buf);
    ck_assert_str_eq(buf, "v6");
    ck_assert_dk_ok(dk_udp_peer_put_packet(a, "r4", 2));
    ck_assert_dk_ok(dk_udp_peer_put_packet(b, "r6", 2));
    get(c4, buf, sizeof buf);
    ck_assert_str_eq(buf, "r4");
    get(c6, buf, sizeof buf);
    ck_assert_str_eq(buf, "r6");
    dk_udp_peer_free(a);
    dk_udp_peer_free(b);
    dk_udp_peer_free(c4);
    dk_udp_peer_free(c6);
    dk_udp_server_free(s);

    /* An IPv4 literal binds IPv4 only: an IPv6 client cannot reach it. */
    dk_udp_server *s4 = listen_on("127.0.0.1");
    dk_udp_peer *x = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_bind(x, 0, "::1", 0));
    ck_assert_int_eq(dk_udp_peer_connect_to_host(x, "127.0.0.1", 9), DK_ERR_INVALID);
    dk_udp_peer_free(x);
    dk_udp_server_free(s4);
}
END_TEST

START_TEST(peer_bad_input)
{
    dk_udp_peer *p = dk_udp_peer_new(NULL);
    char buf[8];
    size_t n;
    ck_assert_int_eq(dk_udp_peer_connect_to_host(NULL, "127.0.0.1", 1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_connect_to_host(p, NULL, 1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_connect_to_host(p, "127.0.0.1", 0), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_connect_to_host(p, "127.0.0.1", 70000), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_connect_to_host(p, "nosuch.invalid", 4242), DK_ERR_RESOLVE);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "nosuch.invalid"));
    ck_assert(!dk_udp_peer_is_bound(p));
    ck_assert_int_eq(dk_udp_peer_put_packet(p, "x", 1), DK_ERR_STATE);
    ck_assert_int_eq(dk_udp_peer_put_packet(p, NULL, 1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_get_packet(p, buf, sizeof buf, &n), DK_ERR_STATE);
    ck_assert_int_eq(dk_udp_peer_get_packet(p, buf, sizeof buf, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_get_packet(p, NULL, 8, &n), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_wait(p, 0), DK_ERR_STATE);
    ck_assert_int_eq(dk_udp_peer_bind(p, -5, NULL, 0), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_bind(p, 0, "garbage", 0), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_bind(p, 0, NULL, -1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_set_broadcast_enabled(NULL, true), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_get_packet_ip(p, NULL, 0), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_get_remote_address(p, buf, sizeof buf, NULL), DK_ERR_STATE);
    ck_assert_dk_ok(dk_udp_peer_bind(p, 0, "127.0.0.1", 65536));
    ck_assert_int_eq(dk_udp_peer_bind(p, 0, "127.0.0.1", 0), DK_ERR_STATE);
    ck_assert_int_eq(dk_udp_peer_put_packet(p, "x", 1), DK_ERR_STATE); /* no destination */
    ck_assert_int_eq(dk_udp_peer_get_packet(p, buf, sizeof buf, &n), DK_ERR_WOULD_BLOCK);
    /* Oversized packets are refused before any system call. */
    ck_assert_dk_ok(dk_udp_peer_set_dest_address(p, "127.0.0.1", 9));
    static char huge[DK_UDP_MAX_DATAGRAM + 1];
    ck_assert_int_eq(dk_udp_peer_put_packet(p, huge, sizeof huge), DK_ERR_TOO_BIG);
    /* Connect, then the destination is fixed. */
    dk_udp_peer *q = client_to("127.0.0.1", 9);
    ck_assert_int_eq(dk_udp_peer_set_dest_address(q, "127.0.0.1", 10), DK_ERR_STATE);
    ck_assert_int_eq(dk_udp_peer_connect_to_host(q, "127.0.0.1", 10), DK_ERR_STATE);
    ck_assert_int_eq(dk_udp_peer_bind(q, 0, NULL, 0), DK_ERR_STATE);
    dk_udp_peer_free(q);
    /* Address already in use. */
    dk_udp_peer *r = dk_udp_peer_new(NULL);
    ck_assert_int_eq(dk_udp_peer_bind(r, dk_udp_peer_get_local_port(p), "127.0.0.1", 0),
                     DK_ERR_ADDR_IN_USE);
    dk_udp_peer_free(r);
    dk_udp_peer_free(p);
    dk_udp_peer_free(NULL);
}
END_TEST

START_TEST(buffer_too_small_keeps_packet)
{
    dk_udp_peer *a = dk_udp_peer_new(NULL), *b = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_bind(a, 0, "127.0.0.1", 0));
    ck_assert_dk_ok(dk_udp_peer_bind(b, 0, "127.0.0.1", 0));
    ck_assert_dk_ok(dk_udp_peer_set_dest_address(a, "127.0.0.1", dk_udp_peer_get_local_port(b)));
    ck_assert_dk_ok(dk_udp_peer_put_packet(a, "0123456789", 10));
    ck_assert_dk_ok(dk_udp_peer_put_packet(a, "next", 4));
    ck_assert_dk_ok(dk_udp_peer_wait(b, 2000));
    char buf[32];
    size_t n = 0;
    ck_assert_int_eq(dk_udp_peer_get_packet(b, buf, 4, &n), DK_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(n, 10);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "10 bytes"));
    /* Nothing was lost: the same packet comes with a larger buffer. */
    ck_assert_dk_ok(dk_udp_peer_get_packet(b, buf, sizeof buf, &n));
    ck_assert_uint_eq(n, 10);
    ck_assert_int_eq(memcmp(buf, "0123456789", 10), 0);
    ck_assert_int_eq(dk_udp_peer_get_packet_port(b), dk_udp_peer_get_local_port(a));
    ck_assert_dk_ok(dk_udp_peer_wait(b, 2000));
    ck_assert_dk_ok(dk_udp_peer_get_packet(b, buf, sizeof buf, &n));
    ck_assert_uint_eq(n, 4);
    char ip[4];
    ck_assert_int_eq(dk_udp_peer_get_packet_ip(b, ip, sizeof ip), DK_ERR_BUFFER_TOO_SMALL);
    dk_udp_peer_free(a);
    dk_udp_peer_free(b);
}
END_TEST

START_TEST(use_after_stop)
{
    dk_udp_server *s = listen_on("127.0.0.1");
    int port = dk_udp_server_get_local_port(s);
    dk_udp_peer *c = client_to("127.0.0.1", port);
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "a", 1));
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "b", 1));
    dk_udp_peer *p = take(s);
    dk_udp_server_stop(s);
    ck_assert(!dk_udp_peer_is_bound(p));
    ck_assert(!dk_udp_peer_is_socket_connected(p));
    ck_assert_int_eq(dk_udp_peer_put_packet(p, "x", 1), DK_ERR_CLOSED);
    char buf[8];
    size_t n;
    ck_assert_int_eq(dk_udp_peer_get_packet(p, buf, sizeof buf, &n), DK_ERR_CLOSED);
    ck_assert_int_eq(dk_udp_peer_wait(p, 10), DK_ERR_CLOSED);
    ck_assert_int_eq(dk_udp_peer_get_fd(p), -1);
    dk_err err;
    ck_assert_ptr_null(dk_udp_server_take_connection(s, &err));
    ck_assert_int_eq(err, DK_ERR_STATE);
    /* Freeing the server before its taken peer is safe. */
    ck_assert_dk_ok(dk_udp_server_listen(s, 0, "127.0.0.1"));
    dk_udp_peer *c2 = client_to("127.0.0.1", dk_udp_server_get_local_port(s));
    ck_assert_dk_ok(dk_udp_peer_put_packet(c2, "z", 1));
    dk_udp_peer *p2 = take(s);
    dk_udp_server_free(s);
    ck_assert_int_eq(dk_udp_peer_put_packet(p2, "x", 1), DK_ERR_CLOSED);
    /* A closed taken peer becomes a plain peer that can bind again. */
    dk_udp_peer_close(p2);
    ck_assert_dk_ok(dk_udp_peer_bind(p2, 0, "127.0.0.1", 0));
    dk_udp_peer_free(p2);
    dk_udp_peer_free(p);
    dk_udp_peer_free(c);
    dk_udp_peer_free(c2);
}
END_TEST

START_TEST(freed_peer_becomes_pending_again)
{
    dk_udp_server *s = listen_on("127.0.0.1");
    int port = dk_udp_server_get_local_port(s);
    dk_udp_peer *c = client_to("127.0.0.1", port);
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "1", 1));
    dk_udp_peer *p = take(s);
    dk_udp_peer_free(p);
    dk_udp_stats st;
    dk_udp_server_get_stats(s, &st);
    ck_assert_uint_eq(st.peers, 0);
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "2", 1));
    p = take(s);
    char buf[4];
    get(p, buf, sizeof buf);
    ck_assert_str_eq(buf, "2");
    dk_udp_peer_free(p);
    dk_udp_peer_free(c);
    dk_udp_server_free(s);
}
END_TEST

START_TEST(wait_timeouts)
{
    dk_udp_peer *a = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_bind(a, 0, "127.0.0.1", 0));
    uint64_t t0 = tu_now_ms();
    ck_assert_int_eq(dk_udp_peer_wait(a, 100), DK_ERR_TIMEOUT);
    uint64_t dt = tu_now_ms() - t0;
    ck_assert_uint_ge(dt, 90);
    ck_assert_uint_lt(dt, 2000);
    ck_assert_int_eq(dk_udp_peer_wait(a, 0), DK_ERR_TIMEOUT);
    /* A server's peer waits on the server's socket. */
    dk_udp_server *s = listen_on("127.0.0.1");
    dk_udp_peer *c = client_to("127.0.0.1", dk_udp_server_get_local_port(s));
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "1", 1));
    dk_udp_peer *p = take(s);
    char buf[4];
    get(p, buf, sizeof buf);
    ck_assert_int_eq(dk_udp_peer_wait(p, 50), DK_ERR_TIMEOUT);
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "2", 1));
    ck_assert_dk_ok(dk_udp_peer_wait(p, 2000));
    dk_udp_peer_free(p);
    dk_udp_peer_free(c);
    dk_udp_peer_free(a);
    dk_udp_server_free(s);
}
END_TEST

START_TEST(oversized_datagrams)
{
    /* IPv6 carries UDP payloads up to 65527 bytes, above the 65507 limit. */
    dk_udp_server *s = listen_on("::1");
    int port = dk_udp_server_get_local_port(s);
    int fd = tu_socket("::1");
    int sz = 1 << 20;
    setsockopt(dk_udp_server_get_fd(s), SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    static char big[65520];
    tu_sendto(fd, "::1", port, big, sizeof big);
    tu_sendto(fd, "::1", port, "ok", 2);
    dk_udp_stats st;
    ck_assert(
        TU_POLL_UNTIL(s, (dk_udp_server_get_stats(s, &st), st.datagrams_received == 2), 2000));
    ck_assert_uint_eq(st.dropped_oversized, 1);
    dk_udp_peer *p = dk_udp_server_take_connection(s, NULL);
    ck_assert_ptr_nonnull(p);
    char buf[8];
    get(p, buf, sizeof buf);
    ck_assert_str_eq(buf, "ok");
    /* The largest legal datagram goes through whole. */
    static char max[DK_UDP_MAX_DATAGRAM], in[DK_UDP_MAX_DATAGRAM];
    for (size_t i = 0; i < sizeof max; i++)
        max[i] = (char)i;
    tu_sendto(fd, "::1", port, max, sizeof max);
    ck_assert_dk_ok(dk_udp_peer_wait(p, 2000));
    size_t n;
    ck_assert_dk_ok(dk_udp_peer_get_packet(p, in, sizeof in, &n));
    ck_assert_uint_eq(n, sizeof max);
    ck_assert_int_eq(memcmp(in, max, n), 0);
    dk_udp_peer_free(p);
    close(fd);
    dk_udp_server_free(s);
}
END_TEST

START_TEST(broadcast_and_multicast)
{
    dk_udp_peer *p = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_bind(p, 0, "0.0.0.0", 0));
    ck_assert_dk_ok(dk_udp_peer_set_dest_address(p, "255.255.255.255", 9));
    ck_assert_int_eq(dk_udp_peer_put_packet(p, "b", 1), DK_ERR_PERMISSION);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "broadcast"));
    ck_assert_dk_ok(dk_udp_peer_set_broadcast_enabled(p, true));
    ck_assert_dk_ok(dk_udp_peer_set_broadcast_enabled(p, false));
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, "10.0.0.1", NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, "not-ip", NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, "239.1.2.3", "nosuchif0"), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, NULL, NULL), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(p, "239.1.2.3", "lo"));
    ck_assert_dk_ok(dk_udp_peer_leave_multicast_group(p, "239.1.2.3", "lo"));
    ck_assert_int_ne(dk_udp_peer_leave_multicast_group(p, "239.1.2.3", "lo"), DK_OK);
    /* Joining twice on the same interface is refused by the system. */
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(p, "239.1.2.3", "lo"));
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, "239.1.2.3", "lo"), DK_ERR_ADDR_IN_USE);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "239.1.2.3 on lo"));
    dk_udp_peer_free(p);
}
END_TEST

START_TEST(send_batching)
{
    dk_udp_server *s = listen_on("127.0.0.1");
    dk_udp_peer *c = client_to("127.0.0.1", dk_udp_server_get_local_port(s));
    ck_assert_dk_ok(dk_udp_peer_put_packet(c, "hi", 2));
    dk_udp_peer *p = take(s);
    ck_assert_int_eq(dk_udp_server_set_send_batching(NULL, true), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_server_flush(NULL), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_udp_server_set_send_batching(s, true));
    for (int i = 0; i < 5; i++) {
        char m[16];
        snprintf(m, sizeof m, "b%d", i);
        ck_assert_dk_ok(dk_udp_peer_put_packet(p, m, strlen(m)));
    }
    /* Held back: nothing arrives, and the server asks to be polled now. */
    ck_assert_int_eq(dk_udp_server_get_timeout_ms(s), 0);
    ck_assert_int_eq(dk_udp_peer_wait(c, 50), DK_ERR_TIMEOUT);
    dk_udp_stats st;
    dk_udp_server_get_stats(s, &st);
    ck_assert_uint_eq(st.datagrams_sent, 0);
    ck_assert_dk_ok(dk_udp_server_flush(s));
    dk_udp_server_get_stats(s, &st);
    ck_assert_uint_eq(st.datagrams_sent, 5);
    ck_assert_int_eq(dk_udp_server_get_timeout_ms(s), -1);
    for (int i = 0; i < 5; i++) {
        char buf[16], m[16];
        snprintf(m, sizeof m, "b%d", i);
        get(c, buf, sizeof buf);
        ck_assert_str_eq(buf, m); /* in order */
    }
    /* More than one batch's worth goes out in order too, partly on its own
     * (a full batch is written at once), the rest at the next poll. */
    for (int i = 0; i < 70; i++) {
        char m[16];
        snprintf(m, sizeof m, "c%d", i);
        ck_assert_dk_ok(dk_udp_peer_put_packet(p, m, strlen(m)));
    }
    ck_assert_dk_ok(dk_udp_server_poll(s));
    for (int i = 0; i < 70; i++) {
        char buf[16], m[16];
        snprintf(m, sizeof m, "c%d", i);
        get(c, buf, sizeof buf);
        ck_assert_str_eq(buf, m);
    }
    /* Turning batching off flushes. */
    ck_assert_dk_ok(dk_udp_peer_put_packet(p, "last", 4));
    ck_assert_dk_ok(dk_udp_server_set_send_batching(s, false));
    char buf[8];
    get(c, buf, sizeof buf);
    ck_assert_str_eq(buf, "last");
    dk_udp_peer_free(p);
    dk_udp_peer_free(c);
    dk_udp_server_free(s);
}
END_TEST

/* The admission filter hook the DTLS layer uses: refused datagrams from new
 * sources allocate nothing and are counted. */
static int filter_calls;
static bool admit_if_starts_with_ok(void *ctx, dk_udp_server *s, const dk__addr *src,
                                    const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)s;
    (void)src;
    filter_calls++;
    return len >= 2 && !memcmp(data, "ok", 2);
}
static int detached_calls;
static void on_detached(void *ctx)
{
    (void)ctx;
    detached_calls++;
}
static int stopped_calls;
static void on_stopped(void *ctx)
{
    (void)ctx;
    stopped_calls++;
}
static const dk__udp_filter test_filter = {admit_if_starts_with_ok, on_detached, on_stopped};

START_TEST(admission_filter)
{
    dk_udp_server *s = listen_on("127.0.0.1");
    int port = dk_udp_server_get_local_port(s);
    filter_calls = detached_calls = stopped_calls = 0;
    dk__udp_server_set_filter(s, &test_filter, NULL);
    int fd = tu_socket("127.0.0.1");
    for (int i = 0; i < 5; i++)
        tu_sendto(fd, "127.0.0.1", port, "no", 2);
    tu_sendto(fd, "127.0.0.1", port, "ok!", 3);
    tu_sendto(fd, "127.0.0.1", port, "no", 2); /* known source now: not filtered */
    dk_udp_stats st;
    ck_assert(
        TU_POLL_UNTIL(s, (dk_udp_server_get_stats(s, &st), st.datagrams_received == 7), 2000));
    ck_assert_int_eq(filter_calls, 6);
    ck_assert_uint_eq(st.dropped_filtered, 5);
    ck_assert_uint_eq(st.pending, 1);
    dk_udp_peer *p = dk_udp_server_take_connection(s, NULL);
    ck_assert_int_eq(dk_udp_peer_get_available_packet_count(p), 2);
    /* Stopping tells the filter once the taken peers have lost the socket. */
    dk_udp_server_stop(s);
    ck_assert_int_eq(stopped_calls, 1);
    ck_assert_int_eq(dk_udp_peer_put_packet(p, "x", 1), DK_ERR_CLOSED);
    dk_udp_peer_free(p);
    close(fd);
    dk_udp_server_free(s);
    ck_assert_int_eq(detached_calls, 1);
    ck_assert_int_eq(stopped_calls, 1); /* freeing removes the filter first */
}
END_TEST

/* ------------------------------------------- flags set before the socket */

static int sockopt_int(int fd, int level, int name)
{
    int v = -1;
    socklen_t l = sizeof v;
    ck_assert_int_eq(getsockopt(fd, level, name, &v, &l), 0);
    return v;
}

static int broadcast_of(const dk_udp_peer *p)
{
    ck_assert_int_ge(dk_udp_peer_get_fd(p), 0);
    return sockopt_int(dk_udp_peer_get_fd(p), SOL_SOCKET, SO_BROADCAST);
}

START_TEST(broadcast_before_open)
{
    /* Kept, and set by whichever call opens the socket. */
    dk_udp_peer *a = dk_udp_peer_new(NULL), *b = dk_udp_peer_new(NULL), *c = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_set_broadcast_enabled(a, true));
    ck_assert_dk_ok(dk_udp_peer_set_broadcast_enabled(b, true));
    ck_assert_dk_ok(dk_udp_peer_set_broadcast_enabled(c, true));
    ck_assert(!dk_udp_peer_is_bound(a));
    ck_assert_dk_ok(dk_udp_peer_bind(a, 0, "0.0.0.0", 0));
    ck_assert_int_eq(broadcast_of(a), 1);
    ck_assert_dk_ok(dk_udp_peer_set_dest_address(b, "255.255.255.255", 9));
    ck_assert_int_eq(broadcast_of(b), 1);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(c, "127.0.0.1", 9));
    ck_assert_int_eq(broadcast_of(c), 1);
    /* The flag outlives close(), like Godot's; turned off before the next
     * socket, that one has it off. */
    dk_udp_peer_close(a);
    ck_assert_dk_ok(dk_udp_peer_bind(a, 0, "0.0.0.0", 0));
    ck_assert_int_eq(broadcast_of(a), 1);
    dk_udp_peer_close(a);
    ck_assert_dk_ok(dk_udp_peer_set_broadcast_enabled(a, false));
    ck_assert_dk_ok(dk_udp_peer_bind(a, 0, "0.0.0.0", 0));
    ck_assert_int_eq(broadcast_of(a), 0);
    /* On an open socket it applies at once, both ways. */
    ck_assert_dk_ok(dk_udp_peer_set_broadcast_enabled(a, true));
    ck_assert_int_eq(broadcast_of(a), 1);
    ck_assert_dk_ok(dk_udp_peer_set_broadcast_enabled(a, false));
    ck_assert_int_eq(broadcast_of(a), 0);
    /* A fresh peer has it off. */
    dk_udp_peer *d = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_bind(d, 0, "0.0.0.0", 0));
    ck_assert_int_eq(broadcast_of(d), 0);
    /* A server's peer shares the server's socket: refused, socket untouched. */
    dk_udp_server *s = listen_on("127.0.0.1");
    dk_udp_peer *e = client_to("127.0.0.1", dk_udp_server_get_local_port(s));
    ck_assert_dk_ok(dk_udp_peer_put_packet(e, "hi", 2));
    dk_udp_peer *t = take(s);
    ck_assert_int_eq(dk_udp_peer_set_broadcast_enabled(t, true), DK_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "server"));
    ck_assert_int_eq(sockopt_int(dk_udp_server_get_fd(s), SOL_SOCKET, SO_BROADCAST), 0);
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(t, "239.1.2.3", "lo"), DK_ERR_STATE);
    ck_assert_int_eq(dk_udp_peer_leave_multicast_group(t, "239.1.2.3", "lo"), DK_ERR_STATE);
    dk_udp_peer_free(t);
    dk_udp_peer_free(e);
    dk_udp_server_free(s);
    dk_udp_peer_free(a);
    dk_udp_peer_free(b);
    dk_udp_peer_free(c);
    dk_udp_peer_free(d);
}
END_TEST

#define MC_GROUP "239.255.77.1"

/* A socket that sends to MC_GROUP out of lo, looping its datagrams back. */
static int mc_sender(void)
{
    int fd = tu_socket("127.0.0.1");
    struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
    unsigned char loop = 1;
    ck_assert_int_eq(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo), 0);
    ck_assert_int_eq(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop), 0);
    return fd;
}

/* Sends to MC_GROUP:port; false when the system has no route for it. */
static bool mc_send(int fd, int port, const char *msg)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, MC_GROUP, &to.sin_addr);
    return sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof to) ==
           (ssize_t)strlen(msg);
}

/* Whether multicast on lo reaches a plain socket that joined MC_GROUP there:
 * some systems (lo without multicast, a sandbox) do not deliver it, and the
 * tests that need it skip there. */
static bool mc_loopback_works(void)
{
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(r, 0);
    struct sockaddr_in any = {.sin_family = AF_INET};
    ck_assert_int_eq(bind(r, (struct sockaddr *)&any, sizeof any), 0);
    struct ip_mreqn m = {.imr_ifindex = (int)if_nametoindex("lo")};
    inet_pton(AF_INET, MC_GROUP, &m.imr_multiaddr);
    bool ok = false;
    if (setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0) {
        int s = mc_sender();
        char buf[16];
        ok = mc_send(s, local_port(r), "probe") && tu_recv(r, buf, sizeof buf, 1000) == 5;
        close(s);
    }
    close(r);
    if (!ok)
        printf("SKIP: multicast over lo does not reach a socket that joined " MC_GROUP "\n");
    return ok;
}

START_TEST(multicast_before_bind)
{
    if (!mc_loopback_works())
        return;
    int snd = mc_sender();
    char buf[32];
    /* Joined before bind: bind joins it, and the group's datagrams arrive. */
    dk_udp_peer *r = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(r, MC_GROUP, "lo"));
    ck_assert(!dk_udp_peer_is_bound(r));
    ck_assert_dk_ok(dk_udp_peer_bind(r, 0, "0.0.0.0", 0));
    ck_assert(mc_send(snd, dk_udp_peer_get_local_port(r), "to the group"));
    ck_assert_uint_eq(get(r, buf, sizeof buf), 12);
    ck_assert_str_eq(buf, "to the group");
    /* The socket holds the membership: joining again is refused by it,
     * leaving works once. */
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(r, MC_GROUP, "lo"), DK_ERR_ADDR_IN_USE);
    ck_assert_dk_ok(dk_udp_peer_leave_multicast_group(r, MC_GROUP, "lo"));
    ck_assert_int_eq(dk_udp_peer_leave_multicast_group(r, MC_GROUP, "lo"), DK_ERR_INVALID);
    dk_udp_peer_free(r);

    /* Joined then left before bind: nothing joined, nothing arrives. */
    r = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(r, MC_GROUP, "lo"));
    ck_assert_dk_ok(dk_udp_peer_leave_multicast_group(r, MC_GROUP, "lo"));
    ck_assert_dk_ok(dk_udp_peer_bind(r, 0, "0.0.0.0", 0));
    ck_assert(mc_send(snd, dk_udp_peer_get_local_port(r), "nobody"));
    ck_assert_int_eq(dk_udp_peer_wait(r, 300), DK_ERR_TIMEOUT);
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(r, MC_GROUP, "lo")); /* not joined before */
    dk_udp_peer_free(r);

    /* Close leaves kept groups too: the next socket has none. */
    r = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(r, MC_GROUP, "lo"));
    dk_udp_peer_close(r);
    ck_assert_int_eq(dk_udp_peer_leave_multicast_group(r, MC_GROUP, "lo"), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_udp_peer_bind(r, 0, "0.0.0.0", 0));
    ck_assert(mc_send(snd, dk_udp_peer_get_local_port(r), "nobody"));
    ck_assert_int_eq(dk_udp_peer_wait(r, 300), DK_ERR_TIMEOUT);
    dk_udp_peer_free(r);

    /* connect_to_host opens the socket too and joins the kept group. */
    r = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(r, MC_GROUP, "lo"));
    ck_assert_dk_ok(dk_udp_peer_set_dest_address(r, "127.0.0.1", 9));
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(r, MC_GROUP, "lo"), DK_ERR_ADDR_IN_USE);
    dk_udp_peer_free(r);
    close(snd);
}
END_TEST

START_TEST(multicast_kept_errors)
{
    dk_udp_peer *p = dk_udp_peer_new(NULL);
    /* Bad input is reported at the call, before any socket, and keeps
     * nothing. */
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(NULL, MC_GROUP, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, NULL, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, "10.0.0.1", "lo"), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "'10.0.0.1' is not a multicast address"));
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, "fe80::1", "lo"), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, "not-ip", "lo"), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "'not-ip' is not an IP literal"));
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, MC_GROUP, "nosuchif0"), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "no interface named 'nosuchif0'"));
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, MC_GROUP, "a-name-longer-than-ifnamsiz"),
                     DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_leave_multicast_group(p, MC_GROUP, "lo"), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "not joined"));
    ck_assert_int_eq(dk_udp_peer_leave_multicast_group(p, "bad", "lo"), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_leave_multicast_group(p, MC_GROUP, "nosuchif0"), DK_ERR_INVALID);
    ck_assert_ptr_null(p->kept_groups);
    ck_assert(!dk_udp_peer_is_bound(p));

    /* Twice is refused as on a socket; another interface is another
     * membership. */
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(p, MC_GROUP, "lo"));
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, MC_GROUP, "lo"), DK_ERR_ADDR_IN_USE);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), MC_GROUP " on lo: already joined"));
    ck_assert_dk_ok(dk_udp_peer_leave_multicast_group(p, MC_GROUP, "lo"));
    ck_assert_int_eq(dk_udp_peer_leave_multicast_group(p, MC_GROUP, "lo"), DK_ERR_INVALID);

    /* Bounded: DK_UDP_MAX_KEPT_GROUPS, then DK_ERR_QUEUE_FULL; all are
     * joined by bind. */
    char g[32];
    for (int i = 0; i < DK_UDP_MAX_KEPT_GROUPS; i++) {
        snprintf(g, sizeof g, "239.1.0.%d", i + 1);
        ck_assert_dk_ok(dk_udp_peer_join_multicast_group(p, g, "lo"));
    }
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, "239.1.1.1", "lo"), DK_ERR_QUEUE_FULL);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "239.1.1.1"));
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, "239.1.0.1", "lo"), DK_ERR_ADDR_IN_USE);
    /* Leaving one from the middle keeps the others. */
    ck_assert_dk_ok(dk_udp_peer_leave_multicast_group(p, "239.1.0.5", "lo"));
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(p, "239.1.1.1", "lo"));
    ck_assert_dk_ok(dk_udp_peer_bind(p, 0, "0.0.0.0", 0));
    ck_assert_ptr_null(p->kept_groups);
    for (int i = 0; i < DK_UDP_MAX_KEPT_GROUPS; i++) {
        snprintf(g, sizeof g, "239.1.0.%d", i + 1);
        ck_assert_int_eq(dk_udp_peer_leave_multicast_group(p, g, "lo"),
                         i == 4 ? DK_ERR_INVALID : DK_OK);
    }
    ck_assert_dk_ok(dk_udp_peer_leave_multicast_group(p, "239.1.1.1", "lo"));
    /* Once bound the system bounds memberships, not dtlskit. */
    for (int i = 0; i < DK_UDP_MAX_KEPT_GROUPS + 1; i++) {
        snprintf(g, sizeof g, "239.1.2.%d", i + 1);
        ck_assert_dk_ok(dk_udp_peer_join_multicast_group(p, g, "lo"));
    }
    dk_udp_peer_free(p);

    /* A kept group the new socket cannot join fails the call that opens
     * it, naming the group; the peer stays closed, the group kept. */
    p = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_set_broadcast_enabled(p, true));
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(p, MC_GROUP, "lo"));
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(p, "ff02::1:3", "lo"));
    ck_assert_int_eq(dk_udp_peer_connect_to_host(p, "127.0.0.1", 9), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "dk_udp_peer_connect_to_host"));
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "IPv6 group ff02::1:3 on lo"));
    ck_assert(!dk_udp_peer_is_bound(p));
    ck_assert(!dk_udp_peer_is_socket_connected(p));
    ck_assert_int_eq(dk_udp_peer_get_fd(p), -1);
    ck_assert_int_eq(dk_udp_peer_set_dest_address(p, "127.0.0.1", 9), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_bind(p, 0, "127.0.0.1", 0), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "dk_udp_peer_bind"));
    ck_assert(!dk_udp_peer_is_bound(p));
    /* An IPv4 group cannot be joined by an IPv6-only socket either. */
    ck_assert_dk_ok(dk_udp_peer_leave_multicast_group(p, "ff02::1:3", "lo"));
    ck_assert_int_eq(dk_udp_peer_bind(p, 0, "::1", 0), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "IPv4 group " MC_GROUP " on lo"));
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "IPv6-only"));
    ck_assert(!dk_udp_peer_is_bound(p));
    /* Both still kept: once the IPv6 group is gone, the socket opens with
     * the rest. */
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(p, "127.0.0.1", 9));
    ck_assert_int_eq(broadcast_of(p), 1);
    ck_assert_int_eq(dk_udp_peer_join_multicast_group(p, MC_GROUP, "lo"), DK_ERR_ADDR_IN_USE);
    dk_udp_peer_free(p);

    /* Freeing a peer with kept groups releases them (ASan, valgrind). */
    p = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_join_multicast_group(p, MC_GROUP, NULL));
    dk_udp_peer_free(p);
}
END_TEST

/* What SO_RCVBUF a new socket of `family` reports. */
static int default_rcvbuf(int family)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    int v = sockopt_int(fd, SOL_SOCKET, SO_RCVBUF);
    close(fd);
    return v;
}

static int rcvbuf_of(int fd)
{
    return sockopt_int(fd, SOL_SOCKET, SO_RCVBUF);
}

START_TEST(recv_buffer_never_shrinks)
{
    int dflt = default_rcvbuf(AF_INET);
    /* A tiny request leaves the default: peer and server. */
    dk_udp_peer *p = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_bind(p, 0, "127.0.0.1", 1024));
    ck_assert_int_ge(rcvbuf_of(dk_udp_peer_get_fd(p)), dflt);
    dk_udp_peer_free(p);
    dk_udp_server *s = dk_udp_server_new(NULL);
    ck_assert_dk_ok(dk_udp_server_set_recv_buffer_size(s, 1024));
    ck_assert_dk_ok(dk_udp_server_listen(s, 0, "127.0.0.1"));
    ck_assert_int_ge(rcvbuf_of(dk_udp_server_get_fd(s)), dflt);
    dk_udp_server_free(s);
    /* A request just over half the default (Linux reports twice what is
     * set) raises it; the system caps it at rmem_max. */
    int want = dflt / 2 + 4096;
    p = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_bind(p, 0, "127.0.0.1", want));
    int got = rcvbuf_of(dk_udp_peer_get_fd(p));
    ck_assert_int_ge(got, dflt);
#ifdef __linux__
    FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
    int max = 0;
    if (f && fscanf(f, "%d", &max) == 1 && max > 0)
        ck_assert_int_eq(got, 2 * (want < max ? want : max));
    if (f)
        fclose(f);
#endif
    dk_udp_peer_free(p);
}
END_TEST

int main(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2048) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    Suite *s = suite_create("udp");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, server_lifecycle);
    tcase_add_test(tc, server_bad_input);
    tcase_add_test(tc, echo_ipv4);
    tcase_add_test(tc, thousand_sources);
    tcase_add_test(tc, ipv6_and_dual_stack);
    tcase_add_test(tc, use_after_stop);
    tcase_add_test(tc, wait_timeouts);
    tcase_add_test(tc, oversized_datagrams);
    tcase_add_test(tc, send_batching);
    suite_add_tcase(s, tc);
    tc = tcase_create("reuse_port");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reuse_port_group);
    tcase_add_test(tc, adopt_socket);
    tcase_add_test(tc, adopted_sockets_keep_the_group);
    suite_add_tcase(s, tc);
    tc = tcase_create("pending");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, pending_limit);
    tcase_add_test(tc, pending_expiry);
    tcase_add_test(tc, queue_overflow);
    tcase_add_test(tc, freed_peer_becomes_pending_again);
    tcase_add_test(tc, admission_filter);
    suite_add_tcase(s, tc);
    tc = tcase_create("peer");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, peer_bad_input);
    tcase_add_test(tc, buffer_too_small_keeps_packet);
    tcase_add_test(tc, broadcast_and_multicast);
    suite_add_tcase(s, tc);
    /* PacketPeerUDP's settings made before the socket exists. */
    TCase *before = tcase_create("before_open");
    tcase_set_timeout(before, 60);
    tcase_add_test(before, broadcast_before_open);
    tcase_add_test(before, multicast_before_bind);
    tcase_add_test(before, multicast_kept_errors);
    tcase_add_test(before, recv_buffer_never_shrinks);
    suite_add_tcase(s, before);
    return tu_run(s);
}
