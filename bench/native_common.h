/* Shared plumbing of the native benchmark servers (bench/native_*.c): the
 * command line, the UDP socket with recvmmsg/sendmmsg batches, a hash table
 * from IPv4 source address to session, a timer heap, signals and the stats
 * line of bench/PROTOCOL.md. Nothing here knows about TLS; each server keeps
 * its library's calls in its own file. Header-only, single-threaded. */
#ifndef NATIVE_COMMON_H
#define NATIVE_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NC_RX_BATCH    32    /* datagrams per recvmmsg */
#define NC_RX_SLOT     65536 /* any UDP datagram fits: no truncation */
#define NC_RX_ROUNDS   64    /* recvmmsg calls per wake-up at most */
#define NC_TX_MAX      64    /* datagrams per sendmmsg */
#define NC_TX_ARENA    (256 * 1024)
#define NC_TX_DELAY_US 250 /* a queued reply waits at most about this long */
#define NC_POLL_MS     10  /* PROTOCOL.md: stats within 10 ms */
#define NC_DEFAULT_MTU 1280
#define NC_IP_UDP_HDR  28
#define NC_RCVBUF      (8 << 20) /* SO_RCVBUF asked for, as bench/dk_server.c */

#define NC_CONTAINER(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void nc_die(const char *what)
{
    fprintf(stderr, "%s\n", what);
    exit(1);
}

static inline void *nc_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        nc_die("out of memory");
    return p;
}

/* ---- command line ------------------------------------------------------ */

struct nc_opts {
    int port;
    const char *cert;
    const char *key;
    int mtu; /* path MTU with IP and UDP headers */
};

static inline void nc_usage(const char *argv0)
{
    fprintf(stderr, "usage: %s --port N --cert FILE --key FILE [--mtu BYTES]\n", argv0);
    exit(2);
}

static inline void nc_parse_args(int argc, char **argv, struct nc_opts *o)
{
    o->port = 0;
    o->cert = o->key = NULL;
    o->mtu = NC_DEFAULT_MTU;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            nc_usage(argv[0]);
        if (!strcmp(a, "--port"))
            o->port = atoi(v);
        else if (!strcmp(a, "--cert"))
            o->cert = v;
        else if (!strcmp(a, "--key"))
            o->key = v;
        else if (!strcmp(a, "--mtu"))
            o->mtu = atoi(v);
        else
            nc_usage(argv[0]);
    }
    if (!o->cert || !o->key || o->port < 0 || o->port > 65535 || o->mtu < 256 || o->mtu > 65535)
        nc_usage(argv[0]);
}

/* ---- clock ------------------------------------------------------------- */

static inline uint64_t nc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- signals and stats ------------------------------------------------- */

static volatile sig_atomic_t nc_stats_wanted;
static volatile sig_atomic_t nc_stop_wanted;

static void nc_on_usr1(int sig)
{
    (void)sig;
    nc_stats_wanted = 1;
}

static void nc_on_term(int sig)
{
    (void)sig;
    nc_stop_wanted = 1;
}

static inline void nc_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = nc_on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = nc_on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* What bench/PROTOCOL.md asks of every server. A handshake counts when the
 * library reports the server side complete (its last flight written); a
 * session is "held" from the valid cookie until it is freed, and "connected"
 * once its handshake counted. */
struct nc_stats {
    uint64_t handshakes; /* server handshakes completed since start */
    uint64_t datagrams;  /* application datagrams echoed */
    uint64_t sessions;   /* connected sessions held now */
    uint64_t pending;    /* sessions held now, still handshaking */
};

/* A held session's handshake completed (pending -> connected). */
static inline void nc_stats_connected(struct nc_stats *s)
{
    s->handshakes++;
    s->pending--;
    s->sessions++;
}

/* A held session is freed; `connected`: its handshake had counted. */
static inline void nc_stats_freed(struct nc_stats *s, bool connected)
{
    if (connected)
        s->sessions--;
    else
        s->pending--;
}

static inline long nc_rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Instruction counts (bench/PROTOCOL.md, "Instructions"), as
 * bench/bench_stats.h does for the dtlskit server: callgrind's counters are
 * zeroed once the server is set up and dumped at every stats line. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define NC_CALLGRIND 1
#endif
#endif

static inline void nc_measure_start(void)
{
#ifdef NC_CALLGRIND
    CALLGRIND_ZERO_STATS;
#endif
}

static inline void nc_measure_dump(void)
{
#ifdef NC_CALLGRIND
    CALLGRIND_DUMP_STATS;
#endif
}

static inline void nc_print_stats(const struct nc_stats *s)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t cpu = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
                   (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
    printf("stats %llu %ld %llu %llu %llu %llu\n", (unsigned long long)cpu, nc_rss_kb(),
           (unsigned long long)s->handshakes, (unsigned long long)s->datagrams,
           (unsigned long long)s->sessions, (unsigned long long)s->pending);
    fflush(stdout);
    nc_measure_dump();
}

/* ---- socket ------------------------------------------------------------ */

/* One non-blocking IPv4 UDP socket on 127.0.0.1; returns the fd and the
 * bound port. The receive buffer is asked for NC_RCVBUF bytes, as
 * bench/dk_server.c asks for its socket (the kernel caps it at
 * net.core.rmem_max): the default rides out no burst of a busy server. */
static inline int nc_open_socket(int port, int *bound_port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    int rcvbuf = NC_RCVBUF;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("bind");
        exit(1);
    }
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *bound_port = ntohs(sa.sin_port);
    return fd;
}

static inline void nc_announce(int port)
{
    printf("ready %d\n", port);
    fflush(stdout);
}

/* ---- receive batch ----------------------------------------------------- */

struct nc_rx {
    struct mmsghdr msgs[NC_RX_BATCH];
    struct iovec iov[NC_RX_BATCH];
    struct sockaddr_in from[NC_RX_BATCH];
    uint8_t *buf; /* NC_RX_BATCH slots of NC_RX_SLOT bytes */
};

static inline void nc_rx_init(struct nc_rx *rx)
{
    rx->buf = nc_xcalloc(NC_RX_BATCH, NC_RX_SLOT);
    for (int i = 0; i < NC_RX_BATCH; i++) {
        rx->iov[i].iov_base = rx->buf + (size_t)i * NC_RX_SLOT;
        rx->iov[i].iov_len = NC_RX_SLOT;
    }
}

static inline void nc_rx_free(struct nc_rx *rx)
{
    free(rx->buf);
    rx->buf = NULL;
}

/* Reads up to NC_RX_BATCH datagrams; returns how many (0 when none). */
static inline int nc_rx_recv(struct nc_rx *rx, int fd)
{
    for (int i = 0; i < NC_RX_BATCH; i++) {
        struct msghdr *h = &rx->msgs[i].msg_hdr;
        h->msg_name = &rx->from[i];
        h->msg_namelen = sizeof rx->from[i];
        h->msg_iov = &rx->iov[i];
        h->msg_iovlen = 1;
        h->msg_control = NULL;
        h->msg_controllen = 0;
        h->msg_flags = 0;
    }
    int n;
    do {
        n = recvmmsg(fd, rx->msgs, NC_RX_BATCH, MSG_DONTWAIT, NULL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED ||
            errno == EHOSTUNREACH || errno == ENETUNREACH)
            return 0;
        perror("recvmmsg");
        exit(1);
    }
    return n;
}

/* ---- send batch -------------------------------------------------------- */

/* Datagrams written by the TLS library during one round of processing are
 * copied here (the libraries reuse their output buffers) and leave together
 * with one sendmmsg. */
struct nc_tx {
    int fd;
    int n;
    size_t used;
    uint64_t since; /* when the oldest queued datagram was queued */
    struct mmsghdr msgs[NC_TX_MAX];
    struct iovec iov[NC_TX_MAX];
    struct sockaddr_in to[NC_TX_MAX];
    uint8_t *arena;
};

static inline void nc_tx_init(struct nc_tx *tx, int fd)
{
    tx->fd = fd;
    tx->n = 0;
    tx->used = 0;
    tx->arena = nc_xcalloc(1, NC_TX_ARENA);
}

static inline void nc_tx_free(struct nc_tx *tx)
{
    free(tx->arena);
    tx->arena = NULL;
}

static inline void nc_tx_flush(struct nc_tx *tx)
{
    int i = 0;
    while (i < tx->n) {
        int r = sendmmsg(tx->fd, tx->msgs + i, (unsigned)(tx->n - i), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break; /* socket buffer full: drop the rest, DTLS copes */
            i++;       /* this destination refused: skip it */
            continue;
        }
        i += r;
    }
    tx->n = 0;
    tx->used = 0;
}

/* Queues one datagram; false if it can never fit (then it is dropped). */
static inline bool nc_tx_add(struct nc_tx *tx, const struct sockaddr_in *to, const void *data,
                             size_t len)
{
    if (len > NC_TX_ARENA)
        return false;
    if (tx->n == NC_TX_MAX || tx->used + len > NC_TX_ARENA)
        nc_tx_flush(tx);
    if (tx->n == 0)
        tx->since = nc_now_us();
    int i = tx->n++;
    uint8_t *slot = tx->arena + tx->used;
    memcpy(slot, data, len);
    tx->used += (len + 15) & ~(size_t)15;
    if (tx->used > NC_TX_ARENA)
        tx->used = NC_TX_ARENA;
    tx->to[i] = *to;
    tx->iov[i].iov_base = slot;
    tx->iov[i].iov_len = len;
    struct msghdr *h = &tx->msgs[i].msg_hdr;
    h->msg_name = &tx->to[i];
    h->msg_namelen = sizeof tx->to[i];
    h->msg_iov = &tx->iov[i];
    h->msg_iovlen = 1;
    h->msg_control = NULL;
    h->msg_controllen = 0;
    h->msg_flags = 0;
    return true;
}

/* ---- hash table: IPv4 address and port -> session ---------------------- */

/* Open addressing with linear probing and backward-shift deletion. The key
 * packs address and port into 48 bits; a seeded 64-bit mix spreads it. */
struct nc_slot {
    uint64_t key;
    void *val; /* NULL: empty */
};

struct nc_table {
    struct nc_slot *slots;
    size_t mask;
    size_t count;
    uint64_t seed;
};

static inline uint64_t nc_addr_key(const struct sockaddr_in *a)
{
    return ((uint64_t)a->sin_addr.s_addr << 16) | a->sin_port;
}

static inline size_t nc_table_hash(const struct nc_table *t, uint64_t key)
{
    uint64_t z = key ^ t->seed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (size_t)z & t->mask;
}

static inline void nc_table_init(struct nc_table *t)
{
    t->mask = 1023;
    t->count = 0;
    t->slots = nc_xcalloc(t->mask + 1, sizeof *t->slots);
    if (getrandom(&t->seed, sizeof t->seed, 0) != sizeof t->seed)
        t->seed = (uint64_t)nc_now_us() * 0x9e3779b97f4a7c15ull;
}

/* Any one value of the table, or NULL when it is empty (for teardown). */
static inline void *nc_table_any(const struct nc_table *t)
{
    for (size_t i = 0; i <= t->mask; i++)
        if (t->slots[i].val)
            return t->slots[i].val;
    return NULL;
}

static inline void nc_table_free(struct nc_table *t)
{
    free(t->slots);
    t->slots = NULL;
}

static inline void *nc_table_find(const struct nc_table *t, uint64_t key)
{
    for (size_t i = nc_table_hash(t, key);; i = (i + 1) & t->mask) {
        const struct nc_slot *s = &t->slots[i];
        if (!s->val)
            return NULL;
        if (s->key == key)
            return s->val;
    }
}

static inline void nc_table_put_nogrow(struct nc_table *t, uint64_t key, void *val)
{
    size_t i = nc_table_hash(t, key);
    while (t->slots[i].val && t->slots[i].key != key)
        i = (i + 1) & t->mask;
    if (!t->slots[i].val)
        t->count++;
    t->slots[i].key = key;
    t->slots[i].val = val;
}

static inline void nc_table_put(struct nc_table *t, uint64_t key, void *val)
{
    if ((t->count + 1) * 2 > t->mask + 1) {
        struct nc_slot *old = t->slots;
        size_t old_n = t->mask + 1;
        t->mask = old_n * 2 - 1;
        t->slots = nc_xcalloc(old_n * 2, sizeof *t->slots);
        t->count = 0;
        for (size_t i = 0; i < old_n; i++)
            if (old[i].val)
                nc_table_put_nogrow(t, old[i].key, old[i].val);
        free(old);
    }
    nc_table_put_nogrow(t, key, val);
}

static inline void nc_table_del(struct nc_table *t, uint64_t key)
{
    size_t i = nc_table_hash(t, key);
    while (t->slots[i].val && t->slots[i].key != key)
        i = (i + 1) & t->mask;
    if (!t->slots[i].val)
        return;
    t->count--;
    /* Backward shift: pull later members of the run into the hole. */
    size_t hole = i;
    for (size_t j = (i + 1) & t->mask; t->slots[j].val; j = (j + 1) & t->mask) {
        size_t home = nc_table_hash(t, t->slots[j].key);
        /* j may move to hole unless its home lies cyclically in (hole, j]. */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole].val = NULL;
    t->slots[hole].key = 0;
}

/* ---- timer heap -------------------------------------------------------- */

/* A binary min-heap of deadlines; each timer knows its index, so arming,
 * re-arming and cancelling are O(log n) with no allocation once the array
 * has grown. */
struct nc_timer {
    uint64_t when; /* monotonic microseconds */
    size_t idx;    /* position in the heap + 1; 0: not armed */
};

struct nc_heap {
    struct nc_timer **items;
    size_t n, cap;
};

static inline void nc_heap_swap(struct nc_heap *h, size_t a, size_t b)
{
    struct nc_timer *t = h->items[a];
    h->items[a] = h->items[b];
    h->items[b] = t;
    h->items[a]->idx = a + 1;
    h->items[b]->idx = b + 1;
}

static inline void nc_heap_up(struct nc_heap *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->items[p]->when <= h->items[i]->when)
            break;
        nc_heap_swap(h, p, i);
        i = p;
    }
}

static inline void nc_heap_down(struct nc_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->items[l]->when < h->items[m]->when)
            m = l;
        if (r < h->n && h->items[r]->when < h->items[m]->when)
            m = r;
        if (m == i)
            break;
        nc_heap_swap(h, i, m);
        i = m;
    }
}

static inline void nc_timer_cancel(struct nc_heap *h, struct nc_timer *t)
{
    if (!t->idx)
        return;
    size_t i = t->idx - 1, last = h->n - 1;
    t->idx = 0;
    if (i != last) {
        h->items[i] = h->items[last];
        h->items[i]->idx = i + 1;
        h->n--;
        nc_heap_down(h, i);
        nc_heap_up(h, i);
    } else {
        h->n--;
    }
}

static inline void nc_timer_arm(struct nc_heap *h, struct nc_timer *t, uint64_t when)
{
    if (t->idx) {
        uint64_t old = t->when;
        t->when = when;
        if (when < old)
            nc_heap_up(h, t->idx - 1);
        else
            nc_heap_down(h, t->idx - 1);
        return;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 256;
        h->items = realloc(h->items, h->cap * sizeof *h->items);
        if (!h->items)
            nc_die("out of memory");
    }
    t->when = when;
    h->items[h->n] = t;
    t->idx = ++h->n;
    nc_heap_up(h, h->n - 1);
}

static inline void nc_heap_free(struct nc_heap *h)
{
    free(h->items);
    h->items = NULL;
    h->n = h->cap = 0;
}

/* The earliest timer if it is due at `now`, else NULL. */
static inline struct nc_timer *nc_heap_due(const struct nc_heap *h, uint64_t now)
{
    return h->n && h->items[0]->when <= now ? h->items[0] : NULL;
}

/* Poll timeout: at most NC_POLL_MS, less when a timer is due sooner. */
static inline int nc_poll_timeout(const struct nc_heap *h, uint64_t now)
{
    if (!h->n)
        return NC_POLL_MS;
    uint64_t when = h->items[0]->when;
    if (when <= now)
        return 0;
    uint64_t ms = (when - now + 999) / 1000;
    return ms < NC_POLL_MS ? (int)ms : NC_POLL_MS;
}

/* Waits for the socket to be readable or the next timer; true if readable. */
static inline bool nc_wait(int fd, const struct nc_heap *h)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, nc_poll_timeout(h, nc_now_us()));
    if (r < 0 && errno != EINTR) {
        perror("poll");
        exit(1);
    }
    return r > 0 && (p.revents & (POLLIN | POLLERR));
}

/* ---- the main loop ----------------------------------------------------- */

static inline void nc_stats_if_wanted(const struct nc_stats *stats)
{
    if (nc_stats_wanted) {
        nc_stats_wanted = 0;
        nc_print_stats(stats);
    }
}

/* Serves until SIGTERM/SIGINT: waits for datagrams or the next timer (at
 * most NC_POLL_MS), drains the socket in batches of NC_RX_BATCH, hands each
 * datagram to on_datagram, sends each round's replies with one sendmmsg
 * (sooner if some have waited NC_TX_DELAY_US), then runs the due timers. The stats line is printed
 * between datagrams too, so that a server busy with handshakes still answers SIGUSR1 within a few
 * milliseconds. */
static inline void nc_serve(int fd, struct nc_rx *rx, struct nc_tx *tx, struct nc_heap *timers,
                            const struct nc_stats *stats,
                            void (*on_datagram)(const struct sockaddr_in *, const uint8_t *,
                                                size_t),
                            void (*on_timers)(void))
{
    while (!nc_stop_wanted) {
        nc_stats_if_wanted(stats);
        if (nc_wait(fd, timers)) {
            for (int round = 0; round < NC_RX_ROUNDS && !nc_stop_wanted; round++) {
                int n = nc_rx_recv(rx, fd);
                for (int i = 0; i < n; i++) {
                    if (!(rx->msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
                        on_datagram(&rx->from[i], rx->iov[i].iov_base, rx->msgs[i].msg_len);
                    /* Handshake steps take 0.1 to several ms: send what
                     * waits rather than hold it for the whole batch. */
                    if (tx->n && nc_now_us() - tx->since > NC_TX_DELAY_US)
                        nc_tx_flush(tx);
                    nc_stats_if_wanted(stats);
                }
                nc_tx_flush(tx);
                if (n < NC_RX_BATCH)
                    break;
            }
        }
        on_timers();
        nc_tx_flush(tx);
    }
}

/* A native server's life once its library is set up: the socket, the
 * announcement, nc_serve until SIGTERM, then every connection freed with
 * free_conn (which must take it out of the table) and the shared state
 * released, so that leak checkers see a clean exit. */
static inline void nc_run(int want_port, struct nc_tx *tx, struct nc_table *table,
                          struct nc_heap *timers, const struct nc_stats *stats,
                          void (*on_datagram)(const struct sockaddr_in *, const uint8_t *, size_t),
                          void (*on_timers)(void), void (*free_conn)(void *))
{
    int port;
    int fd = nc_open_socket(want_port, &port);
    struct nc_rx rx;
    nc_rx_init(&rx);
    nc_tx_init(tx, fd);
    nc_table_init(table);
    nc_measure_start();
    nc_announce(port);

    nc_serve(fd, &rx, tx, timers, stats, on_datagram, on_timers);

    for (void *c; (c = nc_table_any(table));)
        free_conn(c);
    nc_table_free(table);
    nc_heap_free(timers);
    nc_tx_free(tx);
    nc_rx_free(&rx);
    close(fd);
}

#endif
