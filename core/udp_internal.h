/* Internal: the UDP server and peer objects, shared by udp_server.c,
 * udp_peer.c and the DTLS layer above them. */
#ifndef DK_CORE_UDP_INTERNAL_H
#define DK_CORE_UDP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <dtlskit/udp.h>

#include "addr.h"
#include "peer_table.h"
#include "pktbuf.h"

#define DK__DEFAULT_MAX_PENDING        16
#define DK__DEFAULT_PENDING_TIMEOUT_MS 10000
#define DK__DEFAULT_QUEUE_PACKETS      256
#define DK__DEFAULT_QUEUE_BYTES        (256 * 1024)
#define DK__POOL_CACHE_SERVER          (4u * 1024u * 1024u)
#define DK__POOL_CACHE_PEER            (256u * 1024u)
/* Batches read per poll: bounds the time one poll spends under a flood. */
#define DK__SERVER_BATCHES_PER_POLL 64
#define DK__PEER_BATCHES_PER_READ   8

/* Admission filter: consulted for each datagram from a source that has no
 * peer. Returns true to create a pending connection for it; false drops it
 * (the filter may have answered it through dk__udp_server_send()). */
typedef struct dk__udp_filter {
    bool (*admit)(void *ctx, dk_udp_server *server, const dk__addr *src, const uint8_t *data,
                  size_t len);
    /* The server is going away or another filter replaces this one. */
    void (*detached)(void *ctx);
    /* The server stopped listening: its taken peers have lost the socket. */
    void (*stopped)(void *ctx);
} dk__udp_filter;

typedef struct dk__peer_list {
    dk_udp_peer *head, *tail;
    uint32_t count;
} dk__peer_list;

struct dk_udp_server {
    int refs;        /* the user's handle + every taken peer */
    bool user_freed; /* the user's handle is gone */
    bool reuse_port;
    int rcvbuf;
    int fd;
    int family;
    int port;
    dk__table table; /* pending and taken peers by source */
    dk__pool pool;
    dk__peer_list pending; /* oldest first */
    dk__peer_list taken;
    int max_pending;
    int pending_timeout_ms;
    int q_max_packets;
    int q_max_bytes;
    const dk__udp_filter *filter;
    void *filter_ctx;
    /* Send batching: datagrams collect in `tx` while `cork` > 0 (inside a
     * poll) or while `batching` is on, and leave with one sendmmsg. */
    struct dk__txq *tx;
    uint64_t tx_since_us; /* when the oldest batched datagram was queued */
    int cork;
    bool batching;
    /* Taken peers with an owner (a DTLS session tracked by a DTLS server)
     * that received datagrams since the owner last looked. */
    dk_udp_peer *ready_head;
    dk_udp_stats stats;
};

typedef enum dk__peer_kind {
    DK__PEER_STANDALONE = 0,
    DK__PEER_PENDING,  /* in the server's pending queue */
    DK__PEER_TAKEN,    /* handed to the user, still registered */
    DK__PEER_DETACHED, /* the server stopped; the peer only reports CLOSED */
} dk__peer_kind;

typedef struct dk__peer_counters {
    uint64_t rx, rx_bytes, tx, tx_bytes, dropped_queue_full, dropped_oversized;
} dk__peer_counters;

struct dk_udp_peer {
    uint8_t kind;
    bool bound;
    bool connected;
    bool has_dest;
    bool claimed; /* owned by a DTLS session */
    /* errno of the last ICMP error reported on a standalone peer's socket
     * (ECONNREFUSED...), 0 when none; the DTLS layer reads and clears it. */
    uint8_t unreachable;
    /* Standalone: SO_BROADCAST, kept across close() and set on every socket
     * the peer opens (Godot: the `broadcast` member). */
    bool broadcast;
    /* Fields of one kind only share memory: a server holds thousands of
     * slots, each as small as it can be. */
    union {
        struct { /* standalone */
            int fd;
            int family;
        };
        uint64_t created_ms; /* server slot: when it became pending */
    };
    dk_udp_server *server; /* server slot only */
    union {
        dk__tnode node;        /* server slot: entry in server->table */
        struct {               /* standalone (no larger than `node`) */
            dk__addr last_src; /* source of the last get_packet() */
            /* Multicast groups joined before the socket exists, joined
             * when it opens; NULL when none. */
            struct dk__udp_groups *kept_groups;
        };
    };
    dk_udp_peer *prev, *next;
    dk__addr remote; /* server slot: source; standalone: destination */
    dk__pktq queue;
    uint32_t q_max_packets;
    uint32_t q_max_bytes;
    dk__pool *pool; /* the server's, or the peer's own */
    void *owner;    /* server slot: the DTLS session tracking it, or NULL */
    dk_udp_peer *ready_next;
    bool in_ready;
    dk__peer_counters st;
};

/* Sends a datagram from the server's socket; counted in its statistics. */
dk_err dk__udp_server_send(dk_udp_server *server, const dk__addr *to, const void *data, size_t len);

/* Holds sends in the batch until the matching uncork (nestable); uncork
 * flushes when the count returns to zero and batching is off. */
void dk__udp_server_cork(dk_udp_server *server);
void dk__udp_server_uncork(dk_udp_server *server);

/* Sends the batch when its oldest datagram has waited `max_us`: a poll that
 * runs many expensive handshakes must not hold the first answers back. */
void dk__udp_server_flush_stale(dk_udp_server *server, uint64_t max_us);

/* Reads the socket as dk_udp_server_poll() does, without the argument
 * checks (the caller holds a cork). */
dk_err dk__udp_server_drain(dk_udp_server *server);

/* The first taken peer with an owner that received datagrams since it was
 * last returned, removed from that list; NULL when none. */
dk_udp_peer *dk__udp_server_next_ready(dk_udp_server *server);

/* The oldest pending connection, taken, or NULL; unlike
 * dk_udp_server_take_connection() it neither expires nor reports. */
dk_udp_peer *dk__udp_server_take_pending(dk_udp_server *server);

/* Installs (or with NULL removes) the admission filter. The previous
 * filter's detached() is called. */
void dk__udp_server_set_filter(dk_udp_server *server, const dk__udp_filter *filter, void *ctx);

/* Handles `data` as if it had just arrived from `src` (the admission filter
 * runs again): for a datagram that a session gave back because it starts a
 * new connection. */
void dk__udp_server_reinject(dk_udp_server *server, const dk__addr *src, const uint8_t *data,
                             size_t len);

/* Drops one reference; frees the server when none is left. */
void dk__udp_server_unref(dk_udp_server *server);

/* A taken peer leaves the server (freed, closed, or the server stopped):
 * it keeps its reference on the server and loses the socket. */
void dk__udp_server_release_peer(dk_udp_server *server, dk_udp_peer *peer);

/* Queues `len` bytes from `src` on `peer`, applying its bounds. Returns false
 * (and counts the drop) when the queue is full or memory is short. */
bool dk__udp_peer_enqueue(dk_udp_peer *peer, const dk__addr *src, const uint8_t *data, size_t len);

/* Reads a standalone peer's socket into its queue (no-op for a server slot,
 * whose server's poll fills it). */
dk_err dk__udp_peer_fill(dk_udp_peer *peer);

/* The oldest queued datagram, removed from the queue, or NULL. Give it back
 * with dk__udp_peer_release(). */
dk__pkt *dk__udp_peer_pop(dk_udp_peer *peer);
void dk__udp_peer_release(dk_udp_peer *peer, dk__pkt *pkt);

/* Sends one datagram to the peer's destination without recording an error
 * message (the DTLS layer's send path: a failed send is a lost datagram).
 * `*sys_errno` receives errno on failure when not NULL. */
dk_err dk__udp_peer_send(dk_udp_peer *peer, const void *data, size_t len, int *sys_errno);

/* Stops receiving: a server slot leaves the server's table (its source may
 * become a new pending connection) but keeps the server, and with it the
 * buffer pool, alive; a standalone peer closes its socket but keeps its
 * pool. Queued datagrams are dropped; buffers taken from the pool stay
 * valid until the peer is freed. */
void dk__udp_peer_shutdown(dk_udp_peer *peer);

/* The peer's remote address (server slot) or destination (standalone). */
static inline const dk__addr *dk__udp_peer_remote(const dk_udp_peer *peer)
{
    return &peer->remote;
}

/* True when the peer is a (live) slot of a server socket. */
static inline bool dk__udp_peer_is_server_slot(const dk_udp_peer *peer)
{
    return peer->kind == DK__PEER_PENDING || peer->kind == DK__PEER_TAKEN;
}

#endif
