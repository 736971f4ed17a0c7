/* Handshakes over a lossy network: how many of N seeded handshakes complete
 * under the retransmission and handshake timeouts (the library's defaults
 * unless given), for the README's loss figure.
 *
 *   lossy_handshakes [--handshakes N] [--rto-initial MS] [--rto-max MS]
 *                    [--hs-timeout MS] [--loss P] [--duplicate P]
 *                    [--reorder P] [--delay MS] [--resume] [--warm]
 *                    [--seed-base S] [--certs DIR] [--verbose]
 *
 * One in-process dtlskit echo server on 127.0.0.1 (admission mode, driven by
 * dk_dtls_server_poll()) and N clients, client i through its own relay
 * (tests/relay.c) seeded with seed-base + i, which drops (default 30%),
 * duplicates (10%) and reorders (10%) the datagrams of each direction, and
 * delays each by --delay MS (default 0; one way, so a round trip takes
 * 2 * MS more). All handshakes start together and run in one loop, which
 * ends when every client has left DK_DTLS_HANDSHAKING or at the handshake
 * timeout plus 5 s. --resume: each client first connects once directly to
 * the server (no relay, all together, bounded by the handshake timeout) and
 * keeps the session (RFC 5077 ticket), then offers it in the measured
 * handshake through the relay. --warm: the same direct connections first,
 * but no session offered after them: a full handshake measured under the
 * same conditions as a resumed one (the libraries' one-time costs, such as
 * wolfSSL's first ECC tables, paid before). Prints one line:
 *
 *   lossy BACKEND rto I/M hs T loss P dup P reorder P seeds A..B:
 *     completed C/N median MS p90 MS max MS t99 MS datagrams D
 *     [delay MS] [warm] [resumed R/C offered O]
 *
 * (delay only with --delay, warm with --warm, resumed with --resume: R of
 * the C completed handshakes resumed a session, O clients had one to offer;
 * handshake times from the start to the client's DK_DTLS_CONNECTED; t99:
 * the time by which 99% of the N had completed, "-" when fewer did;
 * datagrams: sent by clients and server, before the relay's impairments).
 * Failures are listed on stderr with their reason; --verbose adds the
 * library's log and the server sessions that ended. */
#include <arpa/inet.h>
#include <dtlskit/dtlskit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtls_internal.h" /* the defaults, to print them */
#include "relay.h"
#include "testutil.h"

#ifndef TU_CERTS_DIR
#define TU_CERTS_DIR "tests/certs"
#endif

/* tests/relay.c asserts with Check's macros, whose library reports to a
 * test runner: outside one, a passing assertion does nothing and a failing
 * one ends the program. */
void _mark_point(const char *file, int line)
{
}

void _ck_assert_failed(const char *file, int line, const char *expr, const char *msg, ...)
{
    fprintf(stderr, "lossy_handshakes: %s:%d: %s\n", file, line, expr);
    exit(1);
}

/* ... and resolves its addresses with this testutil function. */
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

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(int ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void die(const char *what)
{
    fprintf(stderr, "lossy_handshakes: %s: %s\n", what, dk_last_error());
    exit(1);
}

typedef struct client {
    tu_relay *relay;
    dk_dtls_peer *peer;
    dk_dtls_status status;
    uint64_t ms;              /* handshake time when connected */
    dk_dtls_session *session; /* --resume: from the direct connection */
} client;

/* Server sessions: kept until they end, application packets echoed. */
typedef struct sessions {
    dk_dtls_peer **v;
    int n, cap;
} sessions;

static bool verbose;

static void log_line(dk_log_level level, const char *message, void *user)
{
    fprintf(stderr, "log %d: %s\n", (int)level, message);
}

static void serve(sessions *s, dk_dtls_peer *p)
{
    int i = 0;
    while (i < s->n && s->v[i] != p)
        i++;
    if (i == s->n) {
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 128;
            s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
            if (!s->v)
                exit(1);
        }
        s->v[s->n++] = p;
    }
    dk_dtls_status st = dk_dtls_peer_get_status(p);
    if (st != DK_DTLS_HANDSHAKING && st != DK_DTLS_CONNECTED) {
        if (verbose)
            fprintf(stderr, "server session ended (status %d): %s\n", (int)st,
                    dk_dtls_peer_get_error_reason(p));
        s->v[i] = s->v[--s->n];
        dk_dtls_peer_free(p);
        return;
    }
    uint8_t buf[2048];
    size_t n;
    while (dk_dtls_peer_get_packet(p, buf, sizeof buf, &n) == DK_OK)
        (void)dk_dtls_peer_put_packet(p, buf, n);
}

/* Runs the server until every handshaking client of `cl` has finished or
 * `deadline` passed; with relays, steps them too and records each client's
 * handshake time from t0. Returns how many are still handshaking. */
static int run_until_done(dk_dtls_server *dtls, sessions *srv, client *cl, int count, bool relays,
                          uint64_t t0, uint64_t deadline)
{
    int pending = 0;
    for (int i = 0; i < count; i++)
        pending += cl[i].status == DK_DTLS_HANDSHAKING;
    dk_dtls_peer *ready[256];
    while (pending > 0 && now_ms() < deadline) {
        if (relays)
            for (int i = 0; i < count; i++)
                tu_relay_step(cl[i].relay);
        int n;
        do {
            n = dk_dtls_server_poll(dtls, ready, 256);
            for (int i = 0; i < n; i++)
                serve(srv, ready[i]);
        } while (n == 256);
        for (int i = 0; i < count; i++) {
            if (cl[i].status != DK_DTLS_HANDSHAKING)
                continue;
            dk_dtls_peer_poll(cl[i].peer);
            cl[i].status = dk_dtls_peer_get_status(cl[i].peer);
            if (cl[i].status != DK_DTLS_HANDSHAKING) {
                cl[i].ms = now_ms() - t0;
                pending--;
            }
        }
        nap_ms(1);
    }
    return pending;
}

/* A new client session with the timers asked for, connecting over `up`. */
static dk_dtls_peer *new_client(dk_udp_peer *up, const dk_tls_options *copts, bool set_rto,
                                int initial, int max, int hs_timeout,
                                const dk_dtls_session *session)
{
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    if (!c)
        die("dk_dtls_peer_new");
    if (set_rto && dk_dtls_peer_set_retransmit(c, initial, max) != DK_OK)
        die("dk_dtls_peer_set_retransmit");
    if (hs_timeout > 0 && dk_dtls_peer_set_handshake_timeout(c, hs_timeout) != DK_OK)
        die("dk_dtls_peer_set_handshake_timeout");
    if (session && dk_dtls_peer_set_session(c, session) != DK_OK)
        die("dk_dtls_peer_set_session");
    /* The same host name both times: a session is offered only to the name
     * it came from. */
    if (dk_dtls_peer_connect_to_peer(c, up, "localhost", copts) != DK_OK)
        die("dk_dtls_peer_connect_to_peer");
    return c;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--handshakes N] [--rto-initial MS] [--rto-max MS] [--hs-timeout MS]\n"
            "          [--loss P] [--duplicate P] [--reorder P] [--delay MS] [--resume]\n"
            "          [--warm] [--seed-base S] [--certs DIR] [--verbose]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    int count = 100, rto_initial = 0, rto_max = 0, hs_timeout = 0, delay = 0;
    bool resume = false, warm = false;
    double loss = 0.30, duplicate = 0.10, reorder = 0.10;
    unsigned long seed_base = 0;
    const char *certs = TU_CERTS_DIR;
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--verbose")) {
            verbose = true;
            dk_set_log_callback(log_line, DK_LOG_DEBUG, NULL);
            i--;
            continue;
        }
        if (!strcmp(argv[i], "--resume") || !strcmp(argv[i], "--warm")) {
            resume = resume || !strcmp(argv[i], "--resume");
            warm = true;
            i--;
            continue;
        }
        if (i + 1 >= argc)
            usage(argv[0]);
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--handshakes"))
            count = atoi(v);
        else if (!strcmp(k, "--rto-initial"))
            rto_initial = atoi(v);
        else if (!strcmp(k, "--rto-max"))
            rto_max = atoi(v);
        else if (!strcmp(k, "--hs-timeout"))
            hs_timeout = atoi(v);
        else if (!strcmp(k, "--loss"))
            loss = atof(v);
        else if (!strcmp(k, "--duplicate"))
            duplicate = atof(v);
        else if (!strcmp(k, "--reorder"))
            reorder = atof(v);
        else if (!strcmp(k, "--delay"))
            delay = atoi(v);
        else if (!strcmp(k, "--seed-base"))
            seed_base = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--certs"))
            certs = v;
        else
            usage(argv[0]);
    }
    if (count < 1 || count > 4096 || delay < 0 || delay > 10000)
        usage(argv[0]);
    /* Given alone, one retransmission bound keeps the other's default. */
    bool set_rto = rto_initial > 0 || rto_max > 0;
    int eff_initial = rto_initial > 0 ? rto_initial : DK__DEFAULT_RTO_INITIAL_MS;
    int eff_max = rto_max > 0 ? rto_max : DK__DEFAULT_RTO_MAX_MS;
    int eff_hs = hs_timeout > 0 ? hs_timeout : DK__DEFAULT_HS_TIMEOUT_MS;

    char path[1024];
    snprintf(path, sizeof path, "%s/server.key", certs);
    dk_key *key = dk_key_load(path, NULL, false, NULL);
    snprintf(path, sizeof path, "%s/server-chain.pem", certs);
    dk_cert *chain = dk_cert_load(path, NULL);
    snprintf(path, sizeof path, "%s/ca.pem", certs);
    dk_cert *ca = dk_cert_load(path, NULL);
    if (!key || !chain || !ca)
        die("certificates");
    dk_tls_options *sopts = dk_tls_options_server(key, chain, NULL);
    dk_tls_options *copts = dk_tls_options_client(ca, NULL, NULL);
    if (!sopts || !copts)
        die("options");

    dk_udp_server *udp = dk_udp_server_new(NULL);
    dk_dtls_server *dtls = dk_dtls_server_new(NULL);
    if (!udp || !dtls || dk_udp_server_set_recv_buffer_size(udp, 4 << 20) != DK_OK ||
        dk_udp_server_set_max_pending_connections(udp, count + 16) != DK_OK ||
        dk_udp_server_listen(udp, 0, "127.0.0.1") != DK_OK ||
        dk_dtls_server_setup(dtls, sopts) != DK_OK || dk_dtls_server_attach(dtls, udp) != DK_OK ||
        dk_udp_server_set_send_batching(udp, true) != DK_OK)
        die("server");
    /* Every client comes from 127.0.0.1: no per-address cap on handshakes. */
    if (dk_dtls_server_set_handshake_limits(dtls, 0, 0) != DK_OK)
        die("dk_dtls_server_set_handshake_limits");
    if (set_rto && dk_dtls_server_set_retransmit(dtls, eff_initial, eff_max) != DK_OK)
        die("dk_dtls_server_set_retransmit");
    if (hs_timeout > 0 && dk_dtls_server_set_handshake_timeout(dtls, hs_timeout) != DK_OK)
        die("dk_dtls_server_set_handshake_timeout");
    int port = dk_udp_server_get_local_port(udp);

    client *cl = calloc((size_t)count, sizeof *cl);
    if (!cl)
        return 1;
    sessions srv = {0};
    int offered = 0;
    if (warm) {
        /* Sessions to resume (--resume; --warm only warms up): one direct
         * handshake per client, no relay. */
        for (int i = 0; i < count; i++) {
            dk_udp_peer *up = dk_udp_peer_new(NULL);
            if (!up || dk_udp_peer_connect_to_host(up, "127.0.0.1", port) != DK_OK)
                die("client");
            cl[i].peer = new_client(up, copts, set_rto, eff_initial, eff_max, hs_timeout, NULL);
            cl[i].status = DK_DTLS_HANDSHAKING;
        }
        uint64_t p0 = now_ms();
        int left = run_until_done(dtls, &srv, cl, count, false, p0, p0 + (uint64_t)eff_hs + 5000);
        for (int i = 0; i < count; i++) {
            if (cl[i].status == DK_DTLS_CONNECTED) {
                dk_err e = DK_OK;
                cl[i].session = dk_dtls_peer_get_session(cl[i].peer, &e);
                if (!cl[i].session && verbose)
                    fprintf(stderr, "client %d: no session to resume (error %d): %s\n", i, (int)e,
                            dk_last_error());
                offered += cl[i].session != NULL;
            } else if (verbose) {
                fprintf(stderr, "client %d: direct handshake failed: %s\n", i,
                        dk_dtls_peer_get_error_reason(cl[i].peer));
            }
            dk_dtls_peer_disconnect_from_peer(cl[i].peer);
            dk_dtls_peer_free(cl[i].peer);
            cl[i].peer = NULL;
            cl[i].status = DK_DTLS_DISCONNECTED;
            cl[i].ms = 0;
        }
        /* Let the server see the close_notify alerts and free those
         * sessions, so that they do not weigh on the measured loop. */
        for (uint64_t end = now_ms() + 100; now_ms() < end;) {
            dk_dtls_peer *ready[256];
            int n = dk_dtls_server_poll(dtls, ready, 256);
            for (int i = 0; i < n; i++)
                serve(&srv, ready[i]);
            nap_ms(1);
        }
        if (left && verbose)
            fprintf(stderr, "%d direct handshakes still running at their deadline\n", left);
    }
    for (int i = 0; i < count; i++) {
        cl[i].relay = tu_relay_new("127.0.0.1", port, false, (uint32_t)(seed_base + (unsigned)i));
        tu_impair *ways[2] = {tu_relay_up(cl[i].relay), tu_relay_down(cl[i].relay)};
        for (int w = 0; w < 2; w++) {
            ways[w]->loss = loss;
            ways[w]->duplicate = duplicate;
            ways[w]->reorder = reorder;
            ways[w]->delay_ms = delay;
        }
    }
    uint64_t t0 = now_ms();
    for (int i = 0; i < count; i++) {
        dk_udp_peer *up = dk_udp_peer_new(NULL);
        if (!up ||
            dk_udp_peer_connect_to_host(up, "127.0.0.1", tu_relay_port(cl[i].relay)) != DK_OK)
            die("client");
        cl[i].peer = new_client(up, copts, set_rto, eff_initial, eff_max, hs_timeout,
                                resume ? cl[i].session : NULL);
        cl[i].status = DK_DTLS_HANDSHAKING;
    }
    run_until_done(dtls, &srv, cl, count, true, t0, t0 + (uint64_t)eff_hs + 5000);

    int completed = 0, resumed = 0;
    uint64_t *times = calloc((size_t)count, sizeof *times);
    uint64_t sent = 0;
    for (int i = 0; i < count; i++) {
        sent += tu_relay_up(cl[i].relay)->seen + tu_relay_down(cl[i].relay)->seen;
        unsigned long seed = seed_base + (unsigned)i;
        if (cl[i].status == DK_DTLS_CONNECTED) {
            times[completed++] = cl[i].ms;
            resumed += dk_dtls_peer_is_session_reused(cl[i].peer);
        } else if (cl[i].status == DK_DTLS_HANDSHAKING)
            fprintf(stderr, "seed %lu: still handshaking at the deadline\n", seed);
        else
            fprintf(stderr, "seed %lu: status %d after %llu ms: %s\n", seed, (int)cl[i].status,
                    (unsigned long long)cl[i].ms, dk_dtls_peer_get_error_reason(cl[i].peer));
    }
    qsort(times, (size_t)completed, sizeof *times, cmp_u64);
    unsigned long long med = completed ? times[(completed - 1) / 2] : 0;
    unsigned long long p90 = completed ? times[(completed * 9 + 9) / 10 - 1] : 0;
    unsigned long long max = completed ? times[completed - 1] : 0;
    /* The time by which 99% of all the handshakes had completed: the
     * smallest handshake timeout that would have given 99% here. */
    int k99 = (count * 99 + 99) / 100;
    char t99[32] = "-";
    if (completed >= k99)
        snprintf(t99, sizeof t99, "%llu", (unsigned long long)times[k99 - 1]);
    printf("lossy %s rto %d/%d hs %d%s loss %.2f dup %.2f reorder %.2f seeds %lu..%lu: "
           "completed %d/%d median %llu p90 %llu max %llu t99 %s ms datagrams %llu",
           dk_backend_name(), eff_initial, eff_max, eff_hs,
           set_rto || hs_timeout > 0 ? "" : " (defaults)", loss, duplicate, reorder, seed_base,
           seed_base + (unsigned long)count - 1, completed, count, med, p90, max, t99,
           (unsigned long long)sent);
    if (delay > 0)
        printf(" delay %d", delay);
    if (warm && !resume)
        printf(" warm");
    if (resume)
        printf(" resumed %d/%d offered %d", resumed, completed, offered);
    printf("\n");
    fflush(stdout);

    for (int i = 0; i < count; i++) {
        dk_dtls_peer_free(cl[i].peer);
        dk_dtls_session_free(cl[i].session);
        tu_relay_free(cl[i].relay);
    }
    for (int i = 0; i < srv.n; i++)
        dk_dtls_peer_free(srv.v[i]);
    free(srv.v);
    free(cl);
    free(times);
    dk_dtls_server_free(dtls);
    dk_udp_server_free(udp);
    dk_tls_options_free(sopts);
    dk_tls_options_free(copts);
    dk_key_free(key);
    dk_cert_free(chain);
    dk_cert_free(ca);
    return 0;
}
