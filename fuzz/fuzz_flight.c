/* Fuzz target: a real dtlskit client and a real dtlskit server in one
 * process, on 127.0.0.1, every datagram between them passing through a UDP
 * relay the input drives. Fresh client, server and relay per input; the
 * options (certificates from tests/certs) are made once.
 *
 * Input: [config] then ops, one byte each (op % 16), some with parameters.
 * config: bit 0 admission mode (dk_dtls_server_poll(); else Godot's accept
 * loop), bit 1 MTU 576 on both sides (more fragments), bit 2 send batching
 * on the server's socket, bit 3 short timers (retransmit 100..400 ms,
 * handshake timeout 3 s, idle 10 s).
 * The relay queues what either side sends, in the order it arrives; "head"
 * is the oldest queued datagram, whichever way it goes.
 *   0 deliver head          1 drop head             2 duplicate head
 *   3 reorder: hold head behind the next one
 *   4 mutate head and deliver: [n] then 1 + (n & 3) times [off:2][v],
 *     byte at off % len xored with v, or set to v when n & 4
 *   5 truncate head and deliver: [v:2], new length v % len
 *   6 deliver every queued datagram
 *   7 client put_packet [len][bytes]   8 server put_packet [len][bytes]
 *   9 client disconnect (close_notify) 10 server disconnect
 *  11 advance the clock [t]: ((t & 127) + 1) * (t & 128 ? 2000 : 25) ms
 *  12 replay an earlier delivered datagram [i] (history of 8)
 *  13 reflect head: back to the side that sent it
 *  14 large put_packet [d][len:2]: client when d is even, else server
 *  15 nothing (both sides polled, as after every op)
 * A missing parameter byte ends the input. At most MAX_OPS ops, QUEUE_CAP
 * queued and MAX_DGRAMS relayed datagrams per input; no sleeping (a
 * datagram sent on loopback is waited for with poll(), bounded).
 *
 * Checks: every application packet a side receives is one the other side
 * put in this input, and none is received twice.
 *
 * DK_FUZZ_STATES set: prints at exit how many inputs reached each state
 * (DK_FUZZ_STATES=each: also which states, input by input, on stderr). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <dtlskit/dtlskit.h>

#include "clock.h"

#ifndef FUZZ_CERTS
#define FUZZ_CERTS "tests/certs"
#endif

enum { MAX_OPS = 200, QUEUE_CAP = 64, MAX_DGRAMS = 128, SLOT = 16384, HIST = 8, MAX_SESS = 4 };
enum { MAX_SENT = MAX_OPS, DELIVERY_WAIT_MS = 200 };

typedef struct dgram {
    bool up; /* client to server */
    size_t len;
    uint8_t data[SLOT];
} dgram;

typedef struct sent {
    size_t len;
    uint64_t hash;
    bool received;
} sent;

/* states reached, one bit each */
enum {
    ST_HANDSHAKING,
    ST_CLIENT_CONNECTED,
    ST_SERVER_CONNECTED,
    ST_DATA_C2S,
    ST_DATA_S2C,
    ST_CLOSE_CLIENT, /* the client received close_notify */
    ST_CLOSE_SERVER,
    ST_ERROR,
    ST_TIMEOUT,
    ST_COUNT
};
static const char *const state_names[ST_COUNT] = {
    "handshaking", "client_connected",         "server_connected",         "data_c2s",
    "data_s2c",    "close_received_by_client", "close_received_by_server", "error",
    "timeout"};
static unsigned long state_counts[ST_COUNT], inputs;
static bool verbose; /* DK_FUZZ_STATES=each: one line per input */

typedef struct run {
    const uint8_t *in;
    size_t left;
    bool admission, batching;
    dk_udp_server *udp;
    dk_dtls_server *dtls;
    dk_dtls_peer *client;
    dk_dtls_peer *sess[MAX_SESS];
    int nsess;
    int relay;
    struct sockaddr_in relay_addr, server_addr, client_addr;
    bool client_known, client_closed_here, server_closed_here;
    int queued, relayed;
    sent c2s[MAX_SENT], s2c[MAX_SENT];
    int nc2s, ns2c;
    unsigned states;
} run;

/* queue[0] is the head; slots come from pool through spare. */
static dgram pool[QUEUE_CAP], hist[HIST];
static dgram *queue[QUEUE_CAP], *spare[QUEUE_CAP];
static int nspare;
static int hist_n, hist_next;
static uint8_t buf[DK_UDP_MAX_DATAGRAM + 1], big[65536];
static dk_tls_options *server_opts, *client_opts;

static uint64_t fnv(const uint8_t *d, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 0x100000001b3u;
    return h;
}

static bool take(run *r, uint8_t *b)
{
    if (!r->left)
        return false;
    *b = *r->in++;
    r->left--;
    return true;
}

static void print_states(void)
{
    printf("fuzz_flight states: runs=%lu", inputs);
    for (int i = 0; i < ST_COUNT; i++)
        printf(" %s=%lu", state_names[i], state_counts[i]);
    printf("\n");
    fflush(stdout);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    dk_init();
    dk_key *k = dk_key_load(FUZZ_CERTS "/server.key", NULL, false, NULL);
    dk_cert *c = dk_cert_load(FUZZ_CERTS "/server-chain.pem", NULL);
    dk_cert *ca = dk_cert_load(FUZZ_CERTS "/ca.pem", NULL);
    server_opts = k && c ? dk_tls_options_server(k, c, NULL) : NULL;
    client_opts = ca ? dk_tls_options_client(ca, NULL, NULL) : NULL;
    dk_key_free(k);
    dk_cert_free(c);
    dk_cert_free(ca);
    if (!server_opts || !client_opts) {
        fprintf(stderr, "fuzz_flight: cannot load %s: %s\n", FUZZ_CERTS, dk_last_error());
        abort();
    }
    const char *env = getenv("DK_FUZZ_STATES");
    if (env) {
        atexit(print_states);
        verbose = strcmp(env, "each") == 0;
    }
    return 0;
}

/* The clock hook moves the core's clock, which the mbedtls and wolfssl
 * backends' timers read (io.now_ms). OpenSSL's DTLS retransmission timer
 * reads gettimeofday() itself: this definition, which the process's
 * libraries bind to, moves it by as much, so that a clock jump fires
 * retransmissions on every backend. Certificate validity (time()) is not
 * moved. */
static _Atomic uint64_t advanced_ms;

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    uint64_t us =
        (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u + advanced_ms * 1000u;
    tv->tv_sec = (time_t)(us / 1000000u);
    tv->tv_usec = (suseconds_t)(us % 1000000u);
    return 0;
}

static void advance(uint64_t ms)
{
    advanced_ms += ms;
    dk__clock_advance_ms(ms);
}

/* ------------------------------------------------------------ the relay */

static void wait_readable(int fd)
{
    if (fd < 0)
        return;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    (void)poll(&p, 1, DELIVERY_WAIT_MS);
}

static void send_to(run *r, bool up, const uint8_t *d, size_t n)
{
    if (!up && !r->client_known)
        return;
    const struct sockaddr_in *to = up ? &r->server_addr : &r->client_addr;
    if (sendto(r->relay, d, n, 0, (const struct sockaddr *)to, sizeof *to) < 0)
        return;
    if (up)
        wait_readable(dk_udp_server_get_fd(r->udp));
    else if (r->client)
        wait_readable(dk_dtls_peer_get_fd(r->client));
}

/* Moves what the relay received into the queue. */
static void collect(run *r)
{
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n =
            recvfrom(r->relay, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 0)
            return;
        bool up = from.sin_port != r->server_addr.sin_port;
        if (up && !r->client_known) {
            r->client_addr = from;
            r->client_known = true;
        }
        if (r->queued == QUEUE_CAP || r->relayed == MAX_DGRAMS || n > SLOT)
            continue; /* lost */
        r->relayed++;
        dgram *g = spare[--nspare];
        queue[r->queued++] = g;
        g->up = up;
        g->len = (size_t)n;
        memcpy(g->data, buf, (size_t)n);
    }
}

static void pop(run *r)
{
    spare[nspare++] = queue[0];
    memmove(&queue[0], &queue[1], (size_t)(r->queued - 1) * sizeof queue[0]);
    r->queued--;
}

/* Sends the head (as it is now) to its side and pops it. */
static void deliver_head(run *r, int times)
{
    dgram *g = queue[0];
    for (int i = 0; i < times; i++)
        send_to(r, g->up, g->data, g->len);
    hist[hist_next].up = g->up;
    hist[hist_next].len = g->len;
    memcpy(hist[hist_next].data, g->data, g->len);
    hist_next = (hist_next + 1) % HIST;
    if (hist_n < HIST)
        hist_n++;
    pop(r);
}

/* --------------------------------------------------------- the two sides */

static void add_session(run *r, dk_dtls_peer *p)
{
    for (int i = 0; i < r->nsess; i++)
        if (r->sess[i] == p)
            return;
    if (r->nsess == MAX_SESS) {
        dk_dtls_peer_free(p);
        return;
    }
    r->sess[r->nsess++] = p;
}

static dk_dtls_peer *newest_session(run *r)
{
    return r->nsess ? r->sess[r->nsess - 1] : NULL;
}

static void server_step(run *r)
{
    if (r->admission) {
        dk_dtls_peer *ready[8];
        int n = dk_dtls_server_poll(r->dtls, ready, 8);
        for (int i = 0; i < n; i++)
            add_session(r, ready[i]);
    } else {
        dk_udp_server_poll(r->udp);
        while (dk_udp_server_is_connection_available(r->udp)) {
            dk_udp_peer *up = dk_udp_server_take_connection(r->udp, NULL);
            if (!up)
                break;
            dk_dtls_peer *p = dk_dtls_server_take_connection(r->dtls, up, NULL);
            if (!p) {
                dk_udp_peer_free(up);
                continue;
            }
            if (dk_dtls_peer_get_status(p) != DK_DTLS_HANDSHAKING) {
                dk_dtls_peer_free(p); /* answered with a HelloVerifyRequest */
                continue;
            }
            add_session(r, p);
        }
        for (int i = 0; i < r->nsess; i++)
            dk_dtls_peer_poll(r->sess[i]);
    }
    if (r->batching)
        dk_udp_server_flush(r->udp);
}

static void check_received(sent *list, int n, const uint8_t *d, size_t len)
{
    uint64_t h = fnv(d, len);
    for (int i = 0; i < n; i++)
        if (!list[i].received && list[i].len == len && list[i].hash == h) {
            list[i].received = true;
            return;
        }
    fprintf(stderr, "fuzz_flight: received a packet (%zu bytes) never sent, or twice\n", len);
    abort();
}

static void drain(run *r, dk_dtls_peer *p, bool server_side)
{
    size_t n;
    for (int k = 0; k < 256; k++) {
        dk_err e = dk_dtls_peer_get_packet(p, buf, sizeof buf, &n);
        if (e != DK_OK)
            return;
        if (server_side) {
            check_received(r->c2s, r->nc2s, buf, n);
            r->states |= 1u << ST_DATA_C2S;
        } else {
            check_received(r->s2c, r->ns2c, buf, n);
            r->states |= 1u << ST_DATA_S2C;
        }
    }
}

static void observe(run *r, dk_dtls_peer *p, bool server_side)
{
    dk_dtls_status st = dk_dtls_peer_get_status(p);
    dk_err e = dk_dtls_peer_get_error(p);
    if (st == DK_DTLS_HANDSHAKING && server_side)
        r->states |= 1u << ST_HANDSHAKING;
    if (st == DK_DTLS_CONNECTED)
        r->states |= 1u << (server_side ? ST_SERVER_CONNECTED : ST_CLIENT_CONNECTED);
    if (st == DK_DTLS_DISCONNECTED && e == DK_ERR_CLOSED &&
        !(server_side ? r->server_closed_here : r->client_closed_here))
        r->states |= 1u << (server_side ? ST_CLOSE_SERVER : ST_CLOSE_CLIENT);
    if (st == DK_DTLS_ERROR || st == DK_DTLS_ERROR_HOSTNAME_MISMATCH)
        r->states |= 1u << ST_ERROR;
    if (e == DK_ERR_TIMEOUT)
        r->states |= 1u << ST_TIMEOUT;
}

/* Both sides run what they received and what is due; the relay collects
 * what they sent. */
static void pump(run *r)
{
    for (int round = 0; round < 2; round++) {
        server_step(r);
        dk_dtls_peer_poll(r->client);
    }
    collect(r);
    drain(r, r->client, false);
    observe(r, r->client, false);
    for (int i = 0; i < r->nsess; i++) {
        drain(r, r->sess[i], true);
        observe(r, r->sess[i], true);
    }
}

static void put(run *r, bool server_side, const uint8_t *d, size_t n)
{
    dk_dtls_peer *p = server_side ? newest_session(r) : r->client;
    if (!p)
        return;
    if (dk_dtls_peer_put_packet(p, d, n) != DK_OK)
        return;
    sent *list = server_side ? r->s2c : r->c2s;
    int *cnt = server_side ? &r->ns2c : &r->nc2s;
    if (*cnt < MAX_SENT) /* one put per op at most */
        list[(*cnt)++] = (sent){.len = n, .hash = fnv(d, n)};
}

/* One op; false when the input ends. */
static bool op(run *r)
{
    uint8_t o, a, b, n;
    if (!take(r, &o))
        return false;
    switch (o % 16) {
    case 0:
    case 1:
    case 2:
        if (r->queued && o % 16 == 1)
            pop(r);
        else if (r->queued)
            deliver_head(r, o % 16 == 2 ? 2 : 1);
        break;
    case 3:
        if (r->queued >= 2) {
            dgram *t = queue[0];
            queue[0] = queue[1];
            queue[1] = t;
        }
        break;
    case 4:
        if (!take(r, &n))
            return false;
        for (int i = 0; i < 1 + (n & 3); i++) {
            uint8_t v;
            if (!take(r, &a) || !take(r, &b) || !take(r, &v))
                return false;
            if (!r->queued || !queue[0]->len)
                continue;
            uint8_t *p = &queue[0]->data[((size_t)a << 8 | b) % queue[0]->len];
            *p = (n & 4) ? v : (uint8_t)(*p ^ v);
        }
        if (r->queued)
            deliver_head(r, 1);
        break;
    case 5:
        if (!take(r, &a) || !take(r, &b))
            return false;
        if (r->queued) {
            if (queue[0]->len)
                queue[0]->len = ((size_t)a << 8 | b) % queue[0]->len;
            deliver_head(r, 1);
        }
        break;
    case 6:
        for (int k = r->queued; k > 0 && r->queued; k--)
            deliver_head(r, 1);
        break;
    case 7:
    case 8: {
        if (!take(r, &n))
            return false;
        size_t len = n <= r->left ? n : r->left;
        put(r, o % 16 == 8, r->in, len);
        r->in += len;
        r->left -= len;
        break;
    }
    case 9:
        r->client_closed_here = true;
        dk_dtls_peer_disconnect_from_peer(r->client);
        break;
    case 10:
        if (newest_session(r)) {
            r->server_closed_here = true;
            dk_dtls_peer_disconnect_from_peer(newest_session(r));
        }
        break;
    case 11:
        if (!take(r, &n))
            return false;
        advance((uint64_t)((n & 127) + 1) * (n & 128 ? 2000 : 25));
        break;
    case 12:
        if (!take(r, &n))
            return false;
        if (hist_n) {
            dgram *g = &hist[n % hist_n];
            send_to(r, g->up, g->data, g->len);
        }
        break;
    case 13:
        if (r->queued) {
            queue[0]->up = !queue[0]->up;
            deliver_head(r, 1);
        }
        break;
    case 14: {
        if (!take(r, &n) || !take(r, &a) || !take(r, &b))
            return false;
        size_t len = (size_t)a << 8 | b;
        memset(big, 'A' + n % 26, len);
        put(r, n & 1, big, len);
        break;
    }
    default: break;
    }
    pump(r);
    return true;
}

/* ----------------------------------------------------------- set-up */

static bool start(run *r, uint8_t cfg)
{
    r->admission = cfg & 1;
    r->batching = cfg & 4;
    int mtu = (cfg & 2) ? 576 : 1280;
    bool short_timers = cfg & 8;

    r->relay = socket(AF_INET, SOCK_DGRAM, 0);
    if (r->relay < 0)
        return false;
    r->relay_addr =
        (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof r->relay_addr;
    if (bind(r->relay, (struct sockaddr *)&r->relay_addr, sizeof r->relay_addr) < 0 ||
        getsockname(r->relay, (struct sockaddr *)&r->relay_addr, &al) < 0)
        return false;

    r->udp = dk_udp_server_new(NULL);
    r->dtls = dk_dtls_server_new(NULL);
    if (!r->udp || !r->dtls || dk_udp_server_listen(r->udp, 0, "127.0.0.1") != DK_OK ||
        dk_dtls_server_setup(r->dtls, server_opts) != DK_OK)
        return false;
    dk_dtls_server_set_mtu(r->dtls, mtu);
    if (short_timers) {
        dk_dtls_server_set_retransmit(r->dtls, 100, 400);
        dk_dtls_server_set_handshake_timeout(r->dtls, 3000);
        dk_dtls_server_set_idle_timeout(r->dtls, 10000);
    }
    if (r->batching)
        dk_udp_server_set_send_batching(r->udp, true);
    if (r->admission && dk_dtls_server_attach(r->dtls, r->udp) != DK_OK)
        return false;
    r->server_addr =
        (struct sockaddr_in){.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)dk_udp_server_get_local_port(r->udp)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    dk_udp_peer *up = dk_udp_peer_new(NULL);
    if (!up)
        return false;
    if (dk_udp_peer_connect_to_host(up, "127.0.0.1", ntohs(r->relay_addr.sin_port)) != DK_OK) {
        dk_udp_peer_free(up);
        return false;
    }
    r->client = dk_dtls_peer_new(NULL);
    if (!r->client) {
        dk_udp_peer_free(up);
        return false;
    }
    dk_dtls_peer_set_mtu(r->client, mtu);
    if (short_timers) {
        dk_dtls_peer_set_retransmit(r->client, 100, 400);
        dk_dtls_peer_set_handshake_timeout(r->client, 3000);
        dk_dtls_peer_set_idle_timeout(r->client, 10000);
    }
    if (dk_dtls_peer_connect_to_peer(r->client, up, "localhost", client_opts) != DK_OK) {
        dk_udp_peer_free(up);
        return false;
    }
    return true;
}

static void finish(run *r)
{
    dk_dtls_peer_free(r->client);
    for (int i = 0; i < r->nsess; i++)
        dk_dtls_peer_free(r->sess[i]);
    dk_dtls_server_free(r->dtls);
    dk_udp_server_free(r->udp);
    if (r->relay >= 0)
        close(r->relay);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static run r;
    memset(&r, 0, sizeof r);
    r.relay = -1;
    r.in = data + 1;
    r.left = size - 1;
    hist_n = hist_next = 0;
    for (nspare = 0; nspare < QUEUE_CAP; nspare++)
        spare[nspare] = &pool[nspare];
    if (!start(&r, data[0])) {
        fprintf(stderr, "fuzz_flight: set-up failed: %s\n", dk_last_error());
        abort();
    }
    pump(&r);
    for (int i = 0; i < MAX_OPS && op(&r); i++) {
    }
    inputs++;
    for (int i = 0; i < ST_COUNT; i++)
        if (r.states & 1u << i)
            state_counts[i]++;
    if (verbose) {
        fprintf(stderr, "fuzz_flight input %zu bytes, %zu left:", size, r.left);
        for (int i = 0; i < ST_COUNT; i++)
            if (r.states & 1u << i)
                fprintf(stderr, " %s", state_names[i]);
        fprintf(stderr, "\n");
    }
    finish(&r);
    return 0;
}
