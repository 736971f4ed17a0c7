/* Test relay implementation. */
#include "relay.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 4096

typedef struct held {
    uint8_t *data;
    size_t len;
    uint64_t due;
    bool up;
} held;

struct tu_relay {
    int front, back, family;
    int port;
    struct sockaddr_storage client, server;
    socklen_t client_len, server_len;
    bool have_client;
    bool hold_down;
    uint8_t glued[65536];
    size_t glued_len;
    int glued_count;
    tu_impair up, down;
    uint64_t count_up, count_down;
    size_t largest_up, largest_down;
    uint64_t rng;
    held *queue;
    size_t nq;
    void (*tap)(void *user, bool up, const uint8_t *d, size_t n);
    void *tap_user;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* xorshift64*: small, seeded, reproducible. */
static double rnd(tu_relay *r)
{
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return (double)((r->rng * 2685821657736338717ULL) >> 11) / (double)(1ULL << 53);
}

static void set_addr(struct sockaddr_storage *ss, socklen_t *len, const char *ip, int port)
{
    ck_assert_msg(tu_fill_addr(ip, port, ss, len) > 0, "bad address %s", ip);
}

static int open_sock(int family, const char *ip)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    ck_assert(fd >= 0);
    struct sockaddr_storage ss;
    socklen_t len;
    set_addr(&ss, &len, ip, 0);
    ck_assert(bind(fd, (struct sockaddr *)&ss, len) == 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    return fd;
}

tu_relay *tu_relay_new(const char *server_ip, int server_port, bool ipv6, uint32_t seed)
{
    tu_relay *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    r->family = ipv6 ? AF_INET6 : AF_INET;
    const char *lo = ipv6 ? "::1" : "127.0.0.1";
    r->front = open_sock(r->family, lo);
    struct sockaddr_storage srv;
    socklen_t srv_len;
    set_addr(&srv, &srv_len, server_ip, server_port);
    r->back = open_sock(srv.ss_family, srv.ss_family == AF_INET6 ? "::1" : "127.0.0.1");
    r->server = srv;
    r->server_len = srv_len;
    struct sockaddr_storage me;
    socklen_t me_len = sizeof me;
    getsockname(r->front, (struct sockaddr *)&me, &me_len);
    r->port = ntohs(((struct sockaddr_in *)&me)->sin_port);
    r->rng = 0x9e3779b97f4a7c15ULL ^ seed;
    r->queue = calloc(MAX_HELD, sizeof *r->queue);
    return r;
}

int tu_relay_port(const tu_relay *r)
{
    return r->port;
}

static void deliver(tu_relay *r, bool up, const uint8_t *d, size_t n)
{
    if (up) {
        r->count_up++;
        (void)sendto(r->back, d, n, 0, (struct sockaddr *)&r->server, r->server_len);
    } else if (r->have_client) {
        if (r->hold_down) {
            if (r->glued_len + n <= sizeof r->glued) {
                memcpy(r->glued + r->glued_len, d, n);
                r->glued_len += n;
                r->glued_count++;
            }
            return;
        }
        r->count_down++;
        (void)sendto(r->front, d, n, 0, (struct sockaddr *)&r->client, r->client_len);
    }
}

static void enqueue(tu_relay *r, bool up, const uint8_t *d, size_t n, uint64_t due)
{
    if (r->nq == MAX_HELD)
        return; /* the network's buffer is full: lost */
    held *h = &r->queue[r->nq++];
    h->data = malloc(n ? n : 1);
    memcpy(h->data, d, n);
    h->len = n;
    h->due = due;
    h->up = up;
}

/* One datagram through the impairments of its direction. */
static void impair(tu_relay *r, bool up, const uint8_t *d, size_t n)
{
    if (r->tap)
        r->tap(r->tap_user, up, d, n);
    tu_impair *im = up ? &r->up : &r->down;
    im->seen++;
    size_t *largest = up ? &r->largest_up : &r->largest_down;
    if (n > *largest)
        *largest = n;
    if (im->loss > 0 && rnd(r) < im->loss) {
        im->dropped++;
        return;
    }
    int copies = 1;
    if (im->duplicate > 0 && rnd(r) < im->duplicate) {
        im->duplicated++;
        copies = 2;
    }
    uint64_t due = now_ms() + (uint64_t)im->delay_ms;
    for (int c = 0; c < copies; c++) {
        if (im->reorder > 0 && rnd(r) < im->reorder) {
            /* Held back: it leaves after the next datagram of its way. */
            im->reordered++;
            enqueue(r, up, d, n, UINT64_MAX);
            r->queue[r->nq - 1].due = UINT64_MAX - (up ? 1 : 2);
            continue;
        }
        if (im->delay_ms > 0)
            enqueue(r, up, d, n, due);
        else
            deliver(r, up, d, n);
        /* Release what was held back for reordering, now behind us. */
        for (size_t i = 0; i < r->nq; i++)
            if (r->queue[i].due == UINT64_MAX - (up ? 1 : 2))
                r->queue[i].due = due;
    }
}

static void drain(tu_relay *r, bool up)
{
    uint8_t buf[65536];
    for (int i = 0; i < 256; i++) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n =
            recvfrom(up ? r->front : r->back, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            return;
        if (up) {
            r->client = from;
            r->client_len = fl;
            r->have_client = true;
        }
        impair(r, up, buf, (size_t)n);
    }
}

void tu_relay_step(tu_relay *r)
{
    drain(r, true);
    drain(r, false);
    uint64_t now = now_ms();
    for (size_t i = 0; i < r->nq;) {
        if (r->queue[i].due <= now) {
            held h = r->queue[i];
            r->queue[i] = r->queue[--r->nq];
            deliver(r, h.up, h.data, h.len);
            free(h.data);
        } else {
            i++;
        }
    }
}

void tu_relay_hold_down(tu_relay *r, bool hold)
{
    r->hold_down = hold;
}

int tu_relay_release_glued(tu_relay *r)
{
    int n = r->glued_count;
    if (n && r->have_client) {
        r->count_down++;
        (void)sendto(r->front, r->glued, r->glued_len, 0, (struct sockaddr *)&r->client,
                     r->client_len);
    }
    r->glued_len = 0;
    r->glued_count = 0;
    return n;
}

int tu_relay_discard_glued(tu_relay *r)
{
    int n = r->glued_count;
    r->glued_len = 0;
    r->glued_count = 0;
    return n;
}

void tu_relay_tap(tu_relay *r, void (*fn)(void *user, bool up, const uint8_t *d, size_t n),
                  void *user)
{
    r->tap = fn;
    r->tap_user = user;
}

void tu_relay_retarget(tu_relay *r, const char *server_ip, int server_port)
{
    set_addr(&r->server, &r->server_len, server_ip, server_port);
}

tu_impair *tu_relay_up(tu_relay *r)
{
    return &r->up;
}

tu_impair *tu_relay_down(tu_relay *r)
{
    return &r->down;
}

size_t tu_relay_largest(const tu_relay *r, bool up)
{
    return up ? r->largest_up : r->largest_down;
}

uint64_t tu_relay_count(const tu_relay *r, bool up)
{
    return up ? r->count_up : r->count_down;
}

void tu_relay_free(tu_relay *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nq; i++)
        free(r->queue[i].data);
    free(r->queue);
    close(r->front);
    close(r->back);
    free(r);
}
