/* dk_udp_server: one socket, demultiplexed by source address. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "library.h"
#include "udp_internal.h"
#include "udp_socket.h"

static void flush_tx(dk_udp_server *s);
static void unready(dk_udp_server *s, dk_udp_peer *p);

#define PEER_OF(n) ((dk_udp_peer *)(void *)((char *)(n)-offsetof(dk_udp_peer, node)))

static void list_append(dk__peer_list *l, dk_udp_peer *p)
{
    p->next = NULL;
    p->prev = l->tail;
    if (l->tail)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
    l->count++;
}

static void list_remove(dk__peer_list *l, dk_udp_peer *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        l->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        l->tail = p->prev;
    p->prev = p->next = NULL;
    l->count--;
}

dk_udp_server *dk_udp_server_new(dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    dk_udp_server *s = calloc(1, sizeof *s);
    if (!s) {
        dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "out of memory"));
        return NULL;
    }
    if (dk__table_init(&s->table) != DK_OK) {
        free(s);
        dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "cannot allocate the peer table"));
        return NULL;
    }
    dk__pool_init(&s->pool, DK__POOL_CACHE_SERVER);
    s->refs = 1;
    s->fd = -1;
    s->max_pending = DK__DEFAULT_MAX_PENDING;
    s->pending_timeout_ms = DK__DEFAULT_PENDING_TIMEOUT_MS;
    s->q_max_packets = DK__DEFAULT_QUEUE_PACKETS;
    s->q_max_bytes = DK__DEFAULT_QUEUE_BYTES;
    dk__set_err(err, DK_OK);
    return s;
}

static void destroy_pending(dk_udp_server *s, dk_udp_peer *p)
{
    list_remove(&s->pending, p);
    dk__table_remove(&s->table, &p->node);
    dk__pktq_clear(&p->queue, &s->pool);
    free(p);
}

void dk_udp_server_stop(dk_udp_server *s)
{
    if (!s)
        return;
    while (s->pending.head)
        destroy_pending(s, s->pending.head);
    /* Taken peers stay valid objects owned by the user; they only lose the
     * socket. They keep their reference on the server until freed. */
    flush_tx(s);
    while (s->taken.head)
        dk__udp_server_release_peer(s, s->taken.head);
    dk__sock_close(s->fd);
    s->fd = -1;
    s->port = 0;
    if (s->filter && s->filter->stopped)
        s->filter->stopped(s->filter_ctx);
}

void dk__udp_server_unref(dk_udp_server *s)
{
    if (--s->refs > 0)
        return;
    dk__table_destroy(&s->table);
    dk__pool_destroy(&s->pool);
    free(s->tx);
    free(s);
}

void dk_udp_server_free(dk_udp_server *s)
{
    if (!s || s->user_freed)
        return;
    dk__udp_server_set_filter(s, NULL, NULL);
    dk_udp_server_stop(s);
    s->user_freed = true;
    dk__udp_server_unref(s);
}

dk_err dk_udp_server_set_reuse_port(dk_udp_server *s, bool enable)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (s->fd >= 0)
        return DK_FAIL(DK_ERR_STATE, "already listening; set before listen");
    s->reuse_port = enable;
    return DK_OK;
}

dk_err dk_udp_server_set_recv_buffer_size(dk_udp_server *s, int bytes)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (bytes < 0)
        return DK_FAIL(DK_ERR_INVALID, "buffer size %d is negative", bytes);
    if (s->fd >= 0)
        return DK_FAIL(DK_ERR_STATE, "already listening; set before listen");
    s->rcvbuf = bytes;
    return DK_OK;
}

dk_err dk_udp_server_listen(dk_udp_server *s, int port, const char *bind_address)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (!dk__port_valid(port))
        return DK_FAIL(DK_ERR_INVALID, "port %d outside 0..65535", port);
    if (s->fd >= 0)
        return DK_FAIL(DK_ERR_STATE, "already listening on port %d", s->port);
    int fd, family;
    dk_err e = dk__sock_open(__func__, bind_address, port, AF_UNSPEC, s->reuse_port, s->rcvbuf, &fd,
                             &family);
    if (e != DK_OK)
        return e;
    s->fd = fd;
    s->family = family;
    s->port = dk__sock_local_port(fd);
    return DK_OK;
}

dk_err dk_udp_server_adopt_socket(dk_udp_server *s, int fd)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (s->fd >= 0)
        return DK_FAIL(DK_ERR_STATE, "already listening on port %d", s->port);
    int family;
    dk_err e = dk__sock_adopt(__func__, fd, &family);
    if (e != DK_OK)
        return e;
    s->fd = fd;
    s->family = family;
    s->port = dk__sock_local_port(fd);
    return DK_OK;
}

bool dk_udp_server_is_listening(const dk_udp_server *s)
{
    return s && s->fd >= 0;
}

int dk_udp_server_get_local_port(const dk_udp_server *s)
{
    return s && s->fd >= 0 ? s->port : 0;
}

int dk_udp_server_get_fd(const dk_udp_server *s)
{
    return s ? s->fd : -1;
}

dk_err dk_udp_server_set_max_pending_connections(dk_udp_server *s, int max)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (max < 0)
        return DK_FAIL(DK_ERR_INVALID, "max_pending_connections %d is negative", max);
    s->max_pending = max;
    while (s->pending.count > (uint32_t)max) {
        s->stats.dropped_pending_full++;
        destroy_pending(s, s->pending.tail);
    }
    return DK_OK;
}

int dk_udp_server_get_max_pending_connections(const dk_udp_server *s)
{
    return s ? s->max_pending : 0;
}

dk_err dk_udp_server_set_pending_timeout(dk_udp_server *s, int ms)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (ms <= 0)
        return DK_FAIL(DK_ERR_INVALID, "pending timeout %d ms must be positive", ms);
    s->pending_timeout_ms = ms;
    return DK_OK;
}

dk_err dk_udp_server_set_queue_limits(dk_udp_server *s, int max_packets, int max_bytes)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (max_packets < 1 || max_bytes < 1)
        return DK_FAIL(DK_ERR_INVALID, "queue limits %d packets, %d bytes must be positive",
                       max_packets, max_bytes);
    s->q_max_packets = max_packets;
    s->q_max_bytes = max_bytes;
    return DK_OK;
}

static void expire_pending(dk_udp_server *s, uint64_t now)
{
    while (s->pending.head &&
           now - s->pending.head->created_ms >= (uint64_t)s->pending_timeout_ms) {
        s->stats.pending_expired++;
        destroy_pending(s, s->pending.head);
    }
}

int dk_udp_server_get_timeout_ms(const dk_udp_server *s)
{
    if (!s || s->fd < 0)
        return -1;
    if (s->tx && s->tx->n)
        return 0; /* batched datagrams wait for the next poll */
    if (!s->pending.head)
        return -1;
    return dk__ms_until(s->pending.head->created_ms + (uint64_t)s->pending_timeout_ms,
                        dk__now_ms());
}

/* A datagram from a source without a peer: filter, then a new pending peer. */
static void new_source(dk_udp_server *s, const dk__tnode *probe, const dk__rx *rx, uint64_t now)
{
    if (s->filter && !s->filter->admit(s->filter_ctx, s, &rx->src, rx->data, rx->len)) {
        s->stats.dropped_filtered++;
        return;
    }
    if (s->pending.count >= (uint32_t)s->max_pending) {
        s->stats.dropped_pending_full++;
        return;
    }
    dk_udp_peer *p = calloc(1, sizeof *p);
    if (!p) {
        s->stats.dropped_pending_full++;
        return;
    }
    p->kind = DK__PEER_PENDING;
    p->server = s;
    p->remote = rx->src;
    p->node = *probe;
    p->created_ms = now;
    p->pool = &s->pool;
    p->q_max_packets = (uint32_t)s->q_max_packets;
    p->q_max_bytes = (uint32_t)s->q_max_bytes;
    dk__pktq_init(&p->queue);
    if (dk__table_insert(&s->table, &p->node) != DK_OK) {
        free(p);
        s->stats.dropped_pending_full++;
        return;
    }
    list_append(&s->pending, p);
    if (!dk__udp_peer_enqueue(p, &rx->src, rx->data, rx->len))
        s->stats.dropped_queue_full++;
}

void dk__udp_server_reinject(dk_udp_server *s, const dk__addr *src, const uint8_t *data, size_t len)
{
    if (s->fd < 0)
        return;
    dk__tnode probe;
    dk__table_key(&s->table, src, &probe);
    if (dk__table_find(&s->table, &probe))
        return; /* the address has a peer again: nothing to start */
    dk__rx rx = {.src = *src, .data = (uint8_t *)(uintptr_t)data, .len = len};
    new_source(s, &probe, &rx, dk__now_ms());
}

dk_err dk__udp_server_drain(dk_udp_server *s)
{
    uint64_t now = dk__now_ms();
    expire_pending(s, now);
    for (int b = 0; b < DK__SERVER_BATCHES_PER_POLL; b++) {
        dk__rx *rx;
        int n = dk__sock_recv_batch(s->fd, &rx);
        if (n == DK__RX_UNREACHABLE)
            continue; /* an earlier reply's ICMP error: not the server's */
        if (n < 0)
            return DK_FAIL((dk_err)n, "recvmmsg: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            s->stats.datagrams_received++;
            s->stats.bytes_received += rx[i].len;
            if (rx[i].truncated || rx[i].len > DK_UDP_MAX_DATAGRAM) {
                s->stats.dropped_oversized++;
                continue;
            }
            dk__tnode probe;
            dk__table_key(&s->table, &rx[i].src, &probe);
            dk__tnode *hit = dk__table_find(&s->table, &probe);
            if (hit) {
                dk_udp_peer *p = PEER_OF(hit);
                if (!dk__udp_peer_enqueue(p, &rx[i].src, rx[i].data, rx[i].len))
                    s->stats.dropped_queue_full++;
                else if (p->owner && !p->in_ready) {
                    p->in_ready = true;
                    p->ready_next = s->ready_head;
                    s->ready_head = p;
                }
            } else {
                new_source(s, &probe, &rx[i], now);
            }
        }
        /* HelloVerifyRequests of this batch leave together. */
        if (!s->batching)
            flush_tx(s);
        if (n < DK__RX_BATCH)
            break;
    }
    return DK_OK;
}

dk_err dk_udp_server_poll(dk_udp_server *s)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (s->fd < 0)
        return DK_FAIL(DK_ERR_STATE, "server is not listening");
    dk__udp_server_cork(s);
    dk_err e = dk__udp_server_drain(s);
    if (s->batching)
        flush_tx(s); /* poll is where batched sends leave */
    dk__udp_server_uncork(s);
    return e;
}

bool dk_udp_server_is_connection_available(dk_udp_server *s)
{
    if (!s || s->fd < 0)
        return false;
    (void)dk_udp_server_poll(s);
    return s->pending.count > 0;
}

dk_udp_peer *dk_udp_server_take_connection(dk_udp_server *s, dk_err *err)
{
    if (!s) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "server is NULL"));
        return NULL;
    }
    if (s->fd < 0) {
        dk__set_err(err, DK_FAIL(DK_ERR_STATE, "server is not listening"));
        return NULL;
    }
    expire_pending(s, dk__now_ms());
    dk_udp_peer *p = dk__udp_server_take_pending(s);
    if (!p) {
        dk__set_err(err, DK_FAIL(DK_ERR_WOULD_BLOCK, "no pending connection"));
        return NULL;
    }
    dk__set_err(err, DK_OK);
    return p;
}

dk_udp_peer *dk__udp_server_take_pending(dk_udp_server *s)
{
    dk_udp_peer *p = s->pending.head;
    if (!p)
        return NULL;
    list_remove(&s->pending, p);
    list_append(&s->taken, p);
    p->kind = DK__PEER_TAKEN;
    p->bound = true;
    p->connected = true;
    s->refs++;
    return p;
}

static void unready(dk_udp_server *s, dk_udp_peer *p)
{
    if (!p->in_ready)
        return;
    for (dk_udp_peer **pp = &s->ready_head; *pp; pp = &(*pp)->ready_next) {
        if (*pp == p) {
            *pp = p->ready_next;
            break;
        }
    }
    p->ready_next = NULL;
    p->in_ready = false;
}

void dk__udp_server_release_peer(dk_udp_server *s, dk_udp_peer *p)
{
    unready(s, p);
    p->owner = NULL;
    if (p->kind == DK__PEER_TAKEN) {
        list_remove(&s->taken, p);
        dk__table_remove(&s->table, &p->node);
        dk__pktq_clear(&p->queue, &s->pool);
    }
    p->kind = DK__PEER_DETACHED;
}

static void flush_tx(dk_udp_server *s)
{
    if (!s->tx || !s->tx->n || s->fd < 0)
        return;
    int n = s->tx->n;
    int ok = dk__txq_flush(s->tx, s->fd);
    s->stats.datagrams_sent += (uint64_t)ok;
    s->stats.send_errors += (uint64_t)(n - ok);
}

dk_err dk__udp_server_send(dk_udp_server *s, const dk__addr *to, const void *data, size_t len)
{
    if (s->fd < 0)
        return DK_ERR_CLOSED;
    if (s->cork > 0 || s->batching) {
        if (!s->tx) {
            if (!(s->tx = malloc(sizeof *s->tx)))
                goto direct;
            s->tx->n = 0;
            s->tx->used = 0;
        }
        if (!dk__txq_fits(s->tx, len))
            flush_tx(s);
        if (dk__txq_fits(s->tx, len)) {
            if (!s->tx->n)
                s->tx_since_us = dk__now_us();
            dk__txq_add(s->tx, to, data, len);
            s->stats.bytes_sent += len;
            return DK_OK;
        }
    }
direct:
    flush_tx(s); /* keep the order of datagrams */
    int sys = 0;
    dk_err e = dk__sock_send(s->fd, to, data, len, &sys);
    if (e != DK_OK) {
        s->stats.send_errors++;
        errno = sys;
        return e;
    }
    s->stats.datagrams_sent++;
    s->stats.bytes_sent += len;
    return DK_OK;
}

void dk__udp_server_flush_stale(dk_udp_server *s, uint64_t max_us)
{
    if (s->tx && s->tx->n && dk__now_us() - s->tx_since_us >= max_us)
        flush_tx(s);
}

void dk__udp_server_cork(dk_udp_server *s)
{
    s->cork++;
}

void dk__udp_server_uncork(dk_udp_server *s)
{
    if (--s->cork == 0 && !s->batching)
        flush_tx(s);
}

dk_err dk_udp_server_set_send_batching(dk_udp_server *s, bool enable)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    s->batching = enable;
    if (!enable && !s->cork)
        flush_tx(s);
    return DK_OK;
}

dk_err dk_udp_server_flush(dk_udp_server *s)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    flush_tx(s);
    return DK_OK;
}

dk_udp_peer *dk__udp_server_next_ready(dk_udp_server *s)
{
    dk_udp_peer *p = s->ready_head;
    if (p) {
        s->ready_head = p->ready_next;
        p->ready_next = NULL;
        p->in_ready = false;
    }
    return p;
}

void dk__udp_server_set_filter(dk_udp_server *s, const dk__udp_filter *filter, void *ctx)
{
    const dk__udp_filter *old = s->filter;
    void *old_ctx = s->filter_ctx;
    s->filter = filter;
    s->filter_ctx = ctx;
    if (old && old->detached && (old != filter || old_ctx != ctx))
        old->detached(old_ctx);
}

dk_err dk_udp_server_get_stats(const dk_udp_server *s, dk_udp_stats *out)
{
    if (!s || !out)
        return DK_FAIL(DK_ERR_INVALID, "server or out is NULL");
    *out = s->stats;
    out->pending = s->pending.count;
    out->peers = s->taken.count;
    return DK_OK;
}
