/* Benchmark server on dtlskit: the DTLS echo server of bench/PROTOCOL.md.
 *
 *   dk_server --port N --cert FILE --key FILE [--mtu BYTES]
 *             [--loop server|seed] [--batch on|off] [--reuse-port]
 *             [--master-secret HEX | --master-secret-file PATH]
 *
 * --loop server (default): the accept loop plus dk_dtls_server_poll(), whose
 * cost follows the active sessions; --loop seed: Godot's loop, which polls
 * every session each round. --batch on (default) writes replies with one
 * sendmmsg per round. The stats line carries five extra fields after the
 * protocol's six (bench/PROTOCOL.md): HelloVerifyRequests queued, datagrams
 * that left the socket, datagrams that did not (send errors), datagrams
 * received, and the handshakes counted that resumed a session (RFC 5077
 * ticket; counted with the handshake, so they are part of HANDSHAKES).
 *
 * Workers (bench/PROTOCOL.md, "Several processes on one port"): with
 * --reuse-port several dk_server processes listen on one port (the first
 * may take --port 0, the others the port it printed) and the kernel spreads
 * clients over them by address and port; --master-secret (32 to 128 hex
 * digits) or --master-secret-file gives them the same cookie and ticket
 * keys, so that any of them accepts a cookie or ticket another one made. */
#include <ctype.h>
#include <dtlskit/dtlskit.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_stats.h"

typedef struct sessions {
    dk_dtls_peer **v;
    int n, cap;
} sessions;

static void add(sessions *s, dk_dtls_peer *p)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
        if (!s->v)
            exit(1);
    }
    s->v[s->n++] = p;
}

static void drop(sessions *s, dk_dtls_peer *p)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i] == p) {
            s->v[i] = s->v[--s->n];
            break;
        }
    dk_dtls_peer_free(p);
}

static unsigned long long handshakes, resumed, echoed;

/* bench/PROTOCOL.md: a handshake counts once, when the server side reached
 * connected, also if the session has ended again by the time the server
 * looks at it (a client that closes right after its Finished: the status
 * then reads disconnected). The negotiated cipher is set exactly when a
 * session becomes connected and stays set afterwards. */
static void count_handshake(dk_dtls_peer *p)
{
    if (dk_dtls_peer_get_user_data(p) != &handshakes && dk_dtls_peer_get_cipher(p)[0]) {
        handshakes++;
        resumed += dk_dtls_peer_is_session_reused(p);
        dk_dtls_peer_set_user_data(p, &handshakes); /* counted */
    }
}

/* Echoes what a session holds; returns false when the session ended. */
static bool serve(dk_dtls_peer *p, uint8_t *buf, size_t cap)
{
    count_handshake(p);
    dk_dtls_status st = dk_dtls_peer_get_status(p);
    if (st != DK_DTLS_CONNECTED && st != DK_DTLS_HANDSHAKING)
        return false;
    size_t n;
    while (dk_dtls_peer_get_packet(p, buf, cap, &n) == DK_OK)
        if (dk_dtls_peer_put_packet(p, buf, n) == DK_OK)
            echoed++;
    return true;
}

/* Hex digits to bytes; returns the length, 0 if `hex` is not an even
 * number of hex digits fitting `cap`. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap)
        return 0;
    for (size_t i = 0; i < n; i += 2) {
        if (!isxdigit((unsigned char)hex[i]) || !isxdigit((unsigned char)hex[i + 1]))
            return 0;
        char pair[3] = {hex[i], hex[i + 1], 0};
        out[i / 2] = (uint8_t)strtoul(pair, NULL, 16);
    }
    return n / 2;
}

int main(int argc, char **argv)
{
    int port = 0, mtu = 1280;
    bool reuse_port = false;
    const char *cert_file = NULL, *key_file = NULL, *loop = "server", *batch = "on";
    const char *secret_hex = NULL, *secret_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reuse-port")) {
            reuse_port = true;
            continue;
        }
        if (i + 1 == argc)
            break;
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--cert"))
            cert_file = argv[i + 1];
        else if (!strcmp(argv[i], "--key"))
            key_file = argv[i + 1];
        else if (!strcmp(argv[i], "--mtu"))
            mtu = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--loop"))
            loop = argv[i + 1];
        else if (!strcmp(argv[i], "--batch"))
            batch = argv[i + 1];
        else if (!strcmp(argv[i], "--master-secret"))
            secret_hex = argv[i + 1];
        else if (!strcmp(argv[i], "--master-secret-file"))
            secret_file = argv[i + 1];
        i++;
    }
    uint8_t secret[64];
    size_t secret_len = secret_hex ? unhex(secret_hex, secret, sizeof secret) : 0;
    if (!cert_file || !key_file || (secret_hex && secret_len < 16) || (secret_hex && secret_file)) {
        fprintf(stderr,
                "usage: %s --port N --cert FILE --key FILE [--mtu N] "
                "[--loop server|seed] [--batch on|off] [--reuse-port] "
                "[--master-secret HEX(32-128 digits) | --master-secret-file PATH]\n",
                argv[0]);
        return 2;
    }
    bool seed = !strcmp(loop, "seed");
    bench_signals();

    dk_key *key = dk_key_load(key_file, NULL, false, NULL);
    dk_cert *cert = dk_cert_load(cert_file, NULL);
    dk_tls_options *opts = key && cert ? dk_tls_options_server(key, cert, NULL) : NULL;
    dk_udp_server *udp = dk_udp_server_new(NULL);
    dk_dtls_server *dtls = dk_dtls_server_new(NULL);
    if (!opts || !udp || !dtls || dk_dtls_server_setup(dtls, opts) != DK_OK ||
        dk_dtls_server_set_mtu(dtls, mtu) != DK_OK ||
        /* The load generator is one address standing for many hosts. */
        dk_dtls_server_set_handshake_limits(dtls, 0, 0) != DK_OK ||
        dk_dtls_server_set_session_limits(dtls, 0, 0) != DK_OK ||
        dk_udp_server_set_recv_buffer_size(udp, 8 << 20) != DK_OK ||
        dk_udp_server_set_max_pending_connections(udp, 4096) != DK_OK ||
        dk_udp_server_set_reuse_port(udp, reuse_port) != DK_OK ||
        (secret_len && dk_dtls_server_set_master_secret(dtls, secret, secret_len) != DK_OK) ||
        (secret_file && dk_dtls_server_load_master_secret(dtls, secret_file) != DK_OK) ||
        dk_udp_server_listen(udp, port, "127.0.0.1") != DK_OK ||
        dk_dtls_server_attach(dtls, udp) != DK_OK ||
        dk_udp_server_set_send_batching(udp, !strcmp(batch, "on")) != DK_OK) {
        fprintf(stderr, "dk_server: %s\n", dk_last_error());
        return 1;
    }
    bench_measure_start();
    printf("ready %d\n", dk_udp_server_get_local_port(udp));
    fflush(stdout);

    sessions all = {0};
    static uint8_t buf[DK_UDP_MAX_DATAGRAM];
    dk_dtls_peer *ready[256];
    while (!stop) {
        /* dk_dtls_server_poll() takes new clients itself. */
        while (seed && dk_udp_server_is_connection_available(udp)) {
            dk_udp_peer *peer = dk_udp_server_take_connection(udp, NULL);
            dk_dtls_peer *p = dk_dtls_server_take_connection(dtls, peer, NULL);
            if (!p)
                dk_udp_peer_free(peer);
            else if (dk_dtls_peer_get_status(p) != DK_DTLS_HANDSHAKING)
                dk_dtls_peer_free(p);
            else
                add(&all, p);
        }
        if (seed) {
            for (int i = 0; i < all.n; i++) {
                dk_dtls_peer *p = all.v[i];
                dk_dtls_peer_poll(p);
                if (!serve(p, buf, sizeof buf)) {
                    drop(&all, p);
                    i--;
                }
            }
            dk_udp_server_flush(udp);
        } else {
            int n = dk_dtls_server_poll(dtls, ready, 256);
            for (int i = 0; i < n; i++) {
                dk_dtls_peer *p = ready[i];
                if (dk_dtls_peer_get_user_data(p) == NULL &&
                    dk_dtls_peer_get_status(p) == DK_DTLS_HANDSHAKING) {
                    add(&all, p); /* a new session */
                    dk_dtls_peer_set_user_data(p, &all);
                    continue;
                }
                if (!serve(p, buf, sizeof buf))
                    drop(&all, p);
            }
        }
        if (want_stats) {
            want_stats = 0;
            dk_udp_stats us;
            dk_dtls_server_stats ds;
            dk_udp_server_get_stats(udp, &us);
            dk_dtls_server_get_stats(dtls, &ds);
            /* Sessions as the core holds them (its admission ledger), not
             * as this program thinks it does. */
            printf("stats %lld %ld %llu %llu %llu %llu %llu %llu %llu %llu %llu\n", cpu_us(),
                   rss_kb(), handshakes, echoed, (unsigned long long)ds.sessions,
                   (unsigned long long)ds.handshakes, (unsigned long long)ds.hello_verify_sent,
                   (unsigned long long)us.datagrams_sent, (unsigned long long)us.send_errors,
                   (unsigned long long)us.datagrams_received, resumed);
            fflush(stdout);
            bench_measure_dump();
        }
        int t = seed ? dk_udp_server_get_timeout_ms(udp) : dk_dtls_server_get_timeout_ms(dtls);
        if (t == 0)
            continue;
        if (t < 0 || t > 10)
            t = 10;
        struct pollfd pfd = {.fd = dk_udp_server_get_fd(udp), .events = POLLIN};
        poll(&pfd, 1, t);
    }
    for (int i = 0; i < all.n; i++)
        dk_dtls_peer_free(all.v[i]);
    free(all.v);
    dk_dtls_server_free(dtls);
    dk_udp_server_free(udp);
    dk_tls_options_free(opts);
    dk_key_free(key);
    dk_cert_free(cert);
    return 0;
}
