/* dk_udp_peer: a standalone socket, or a slot of a server's socket. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "library.h"
#include "udp_internal.h"
#include "udp_socket.h"

/* A standalone peer's slot fields share memory with a server slot's table
 * entry; the kept-groups pointer must not make every slot larger. */
_Static_assert(sizeof(dk__addr) + sizeof(void *) <= sizeof(dk__tnode),
               "a standalone peer's fields must fit in a slot's table entry");

/* A multicast group joined before the peer has a socket. */
typedef struct dk__udp_group {
    dk__addr addr;
    unsigned ifindex; /* 0: the system's choice */
    char ifname[IF_NAMESIZE];
} dk__udp_group;

struct dk__udp_groups {
    int n;
    dk__udp_group g[DK_UDP_MAX_KEPT_GROUPS];
};

dk_udp_peer *dk_udp_peer_new(dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    dk_udp_peer *p = calloc(1, sizeof *p);
    if (!p) {
        dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "out of memory"));
        return NULL;
    }
    p->kind = DK__PEER_STANDALONE;
    p->fd = -1;
    p->q_max_packets = DK__DEFAULT_QUEUE_PACKETS;
    p->q_max_bytes = DK__DEFAULT_QUEUE_BYTES;
    dk__pktq_init(&p->queue);
    dk__set_err(err, DK_OK);
    return p;
}

/* A standalone peer's own pool, made when it gets a socket. */
static dk_err ensure_own_pool(dk_udp_peer *p)
{
    if (p->pool)
        return DK_OK;
    p->pool = malloc(sizeof *p->pool);
    if (!p->pool)
        return DK_ERR_NOMEM;
    dk__pool_init(p->pool, DK__POOL_CACHE_PEER);
    return DK_OK;
}

void dk_udp_peer_close(dk_udp_peer *p)
{
    if (!p)
        return;
    if (p->kind == DK__PEER_STANDALONE) {
        dk__sock_close(p->fd);
        free(p->kept_groups); /* memberships go with the socket, kept ones too */
        if (p->pool) {
            dk__pktq_clear(&p->queue, p->pool);
            dk__pool_destroy(p->pool);
            free(p->pool);
        }
    } else {
        /* A pending peer is never in the user's hands, so this is a taken or
         * detached one: leave the server, which may free it. */
        dk_udp_server *s = p->server;
        dk__udp_server_release_peer(s, p);
        p->server = NULL;
        dk__udp_server_unref(s);
        p->kind = DK__PEER_STANDALONE;
    }
    p->pool = NULL;
    p->fd = -1;
    p->family = 0;
    memset(&p->last_src, 0, sizeof p->last_src); /* was a slot's table entry */
    p->kept_groups = NULL;
    p->bound = p->connected = p->has_dest = false;
    dk__pktq_init(&p->queue);
    memset(&p->remote, 0, sizeof p->remote);
}

void dk_udp_peer_free(dk_udp_peer *p)
{
    if (!p)
        return;
    dk_udp_peer_close(p);
    free(p);
}

/* Joins or leaves group `g` on socket `fd` of address family `family`.
 * `kept`: a group joined before the socket existed, joined now that it
 * opens (said in the error). Errors are recorded against `func`. */
static dk_err group_apply(const char *func, int fd, int family, const dk__addr *g, unsigned idx,
                          const char *ifname, bool join, bool kept)
{
    char ip[DK_IP_STRLEN];
    dk__addr_ip_string(g, ip, sizeof ip);
    const char *on = ifname && *ifname ? " on " : "";
    const char *name = ifname ? ifname : "";
    const char *when = kept ? " (group joined before the socket opened)" : "";
    int rc;
    if (g->u.sa.sa_family == AF_INET) {
        int v6only = 0;
        socklen_t sl = sizeof v6only;
        if (family == AF_INET6 && getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &sl) == 0 &&
            v6only)
            return dk__fail(DK_ERR_INVALID, func,
                            "IPv4 group %s%s%s cannot be joined by an IPv6-only socket%s", ip, on,
                            name, when);
        struct ip_mreqn m;
        memset(&m, 0, sizeof m);
        m.imr_multiaddr = g->u.in4.sin_addr;
        m.imr_ifindex = (int)idx;
        rc =
            setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
    } else {
        if (family != AF_INET6)
            return dk__fail(DK_ERR_INVALID, func,
                            "IPv6 group %s%s%s needs an IPv6 socket; this one is IPv4%s", ip, on,
                            name, when);
        struct ipv6_mreq m;
        memset(&m, 0, sizeof m);
        m.ipv6mr_multiaddr = g->u.in6.sin6_addr;
        m.ipv6mr_interface = idx;
        rc = setsockopt(fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &m,
                        sizeof m);
    }
    if (rc < 0) {
        int e = errno;
        return dk__fail(dk__errno_to_err(e), func, "%s %s%s%s%s: %s", join ? "join" : "leave", ip,
                        on, name, when, strerror(e));
    }
    return DK_OK;
}

/* Sets what the peer kept for its socket on `fd`, just opened: broadcast,
 * then the groups in the order they were joined. */
static dk_err apply_kept(const dk_udp_peer *p, const char *func, int fd, int family)
{
    if (p->broadcast) {
        int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) < 0)
            return dk__fail(dk__errno_to_err(errno), func,
                            "SO_BROADCAST (enabled before the socket opened): %s", strerror(errno));
    }
    const struct dk__udp_groups *l = p->kept_groups;
    for (int i = 0; l && i < l->n; i++) {
        dk_err e = group_apply(func, fd, family, &l->g[i].addr, l->g[i].ifindex, l->g[i].ifname,
                               true, true);
        if (e != DK_OK)
            return e;
    }
    return DK_OK;
}

static dk_err open_socket(dk_udp_peer *p, const char *func, const char *bind_address, int port,
                          int remote_family, int rcvbuf)
{
    int fd, family;
    dk_err e = dk__sock_open(func, bind_address, port, remote_family, false, rcvbuf, &fd, &family);
    if (e != DK_OK)
        return e;
    e = apply_kept(p, func, fd, family);
    if (e != DK_OK) {
        dk__sock_close(fd); /* the peer stays closed, its settings kept */
        return e;
    }
    if (ensure_own_pool(p) != DK_OK) {
        dk__sock_close(fd);
        return dk__fail(DK_ERR_NOMEM, func, "out of memory");
    }
    p->fd = fd;
    p->family = family;
    p->bound = true;
    free(p->kept_groups); /* the socket holds them now */
    p->kept_groups = NULL;
    return DK_OK;
}

dk_err dk_udp_peer_bind(dk_udp_peer *p, int port, const char *bind_address, int recv_buf_size)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    if (!dk__port_valid(port))
        return DK_FAIL(DK_ERR_INVALID, "port %d outside 0..65535", port);
    if (recv_buf_size < 0)
        return DK_FAIL(DK_ERR_INVALID, "recv_buf_size %d is negative", recv_buf_size);
    if (p->kind != DK__PEER_STANDALONE)
        return DK_FAIL(DK_ERR_STATE, "peer belongs to a UDP server");
    if (p->bound)
        return DK_FAIL(DK_ERR_STATE, "peer is already bound");
    return open_socket(p, __func__, bind_address, port, AF_UNSPEC, recv_buf_size);
}

/* Resolves `host` for this peer, opening an ephemeral socket of the
 * resolved family when the peer has none yet. */
static dk_err resolve_for_peer(dk_udp_peer *p, const char *func, const char *host, int port,
                               dk__addr *out)
{
    if (!host)
        return dk__fail(DK_ERR_INVALID, func, "host is NULL");
    if (!dk__port_valid(port) || port == 0)
        return dk__fail(DK_ERR_INVALID, func, "port %d outside 1..65535", port);
    if (p->bound) {
        int v6only = 0;
        socklen_t sl = sizeof v6only;
        if (p->family == AF_INET6)
            (void)getsockopt(p->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &sl);
        return dk__addr_resolve(func, host, port, p->family, !v6only, out);
    }
    dk_err e = dk__addr_resolve(func, host, port, AF_UNSPEC, false, out);
    if (e != DK_OK)
        return e;
    return open_socket(p, func, NULL, 0, out->u.sa.sa_family, 0);
}

dk_err dk_udp_peer_connect_to_host(dk_udp_peer *p, const char *host, int port)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    if (p->kind != DK__PEER_STANDALONE)
        return DK_FAIL(DK_ERR_STATE, "peer belongs to a UDP server");
    if (p->connected)
        return DK_FAIL(DK_ERR_STATE, "peer is already connected");
    dk__addr to = {.len = 0};
    dk_err e = resolve_for_peer(p, __func__, host, port, &to);
    if (e != DK_OK)
        return e;
    if (connect(p->fd, &to.u.sa, to.len) < 0)
        return DK_FAIL(dk__errno_to_err(errno), "connect to %s port %d: %s", host, port,
                       strerror(errno));
    p->remote = to;
    p->connected = true;
    p->has_dest = true;
    return DK_OK;
}

dk_err dk_udp_peer_set_dest_address(dk_udp_peer *p, const char *host, int port)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    if (p->kind != DK__PEER_STANDALONE)
        return DK_FAIL(DK_ERR_STATE, "peer belongs to a UDP server");
    if (p->connected)
        return DK_FAIL(DK_ERR_STATE, "peer is connected; its destination is fixed");
    dk__addr to = {.len = 0};
    dk_err e = resolve_for_peer(p, __func__, host, port, &to);
    if (e != DK_OK)
        return e;
    p->remote = to;
    p->has_dest = true;
    return DK_OK;
}

dk_err dk__udp_peer_send(dk_udp_peer *p, const void *data, size_t len, int *sys_errno)
{
    dk_err e;
    int sys = 0;
    if (dk__udp_peer_is_server_slot(p)) {
        e = dk__udp_server_send(p->server, &p->remote, data, len);
        if (e != DK_OK)
            sys = errno;
    } else if (p->kind == DK__PEER_DETACHED ||
               (p->kind == DK__PEER_STANDALONE && p->fd < 0 && p->has_dest)) {
        e = DK_ERR_CLOSED;
    } else if (!p->bound || !p->has_dest) {
        e = DK_ERR_STATE;
    } else {
        e = dk__sock_send(p->fd, p->connected ? NULL : &p->remote, data, len, &sys);
    }
    if (e != DK_OK) {
        if (sys_errno)
            *sys_errno = sys;
        return e;
    }
    p->st.tx++;
    p->st.tx_bytes += len;
    return DK_OK;
}

dk_err dk_udp_peer_put_packet(dk_udp_peer *p, const void *data, size_t len)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    if (!data && len)
        return DK_FAIL(DK_ERR_INVALID, "data is NULL");
    if (len > DK_UDP_MAX_DATAGRAM)
        return DK_FAIL(DK_ERR_TOO_BIG, "%zu bytes is over the %d-byte datagram limit", len,
                       DK_UDP_MAX_DATAGRAM);
    int sys = 0;
    dk_err e = dk__udp_peer_send(p, data, len, &sys);
    switch (e) {
    case DK_OK: return DK_OK;
    case DK_ERR_CLOSED: return DK_FAIL(e, "the peer's socket is closed or its server stopped");
    case DK_ERR_STATE:
        return DK_FAIL(e, "no destination: call connect_to_host or set_dest_address");
    case DK_ERR_PERMISSION:
        if (sys == EACCES)
            return DK_FAIL(e, "send refused: %s (broadcast needs set_broadcast_enabled)",
                           strerror(sys));
        return DK_FAIL(e, "send: %s", strerror(sys));
    default: return DK_FAIL(e, "send: %s", strerror(sys));
    }
}

void dk__udp_peer_shutdown(dk_udp_peer *p)
{
    if (dk__udp_peer_is_server_slot(p)) {
        dk__udp_server_release_peer(p->server, p);
    } else if (p->kind == DK__PEER_STANDALONE) {
        if (p->pool)
            dk__pktq_clear(&p->queue, p->pool);
        dk__sock_close(p->fd);
        p->fd = -1;
        p->bound = p->connected = false;
    }
}

bool dk__udp_peer_enqueue(dk_udp_peer *p, const dk__addr *src, const uint8_t *data, size_t len)
{
    p->st.rx++;
    p->st.rx_bytes += len;
    if (p->queue.count >= p->q_max_packets || p->queue.bytes + len > p->q_max_bytes) {
        p->st.dropped_queue_full++;
        return false;
    }
    dk__pkt *pkt = dk__pool_get(p->pool, len);
    if (!pkt) {
        p->st.dropped_queue_full++;
        return false;
    }
    memcpy(pkt->data, data, len);
    pkt->src = *src;
    dk__pktq_push(&p->queue, pkt);
    return true;
}

dk_err dk__udp_peer_fill(dk_udp_peer *p)
{
    if (p->kind != DK__PEER_STANDALONE || p->fd < 0)
        return DK_OK;
    for (int b = 0; b < DK__PEER_BATCHES_PER_READ; b++) {
        dk__rx *rx;
        int n = dk__sock_recv_batch(p->fd, &rx);
        if (n == DK__RX_UNREACHABLE) {
            p->unreachable = errno;
            continue;
        }
        if (n < 0)
            return (dk_err)n;
        for (int i = 0; i < n; i++) {
            if (rx[i].truncated || rx[i].len > DK_UDP_MAX_DATAGRAM) {
                p->st.rx++;
                p->st.dropped_oversized++;
                continue;
            }
            (void)dk__udp_peer_enqueue(p, &rx[i].src, rx[i].data, rx[i].len);
        }
        if (n < DK__RX_BATCH)
            break;
    }
    return DK_OK;
}

dk__pkt *dk__udp_peer_pop(dk_udp_peer *p)
{
    return dk__pktq_pop(&p->queue);
}

void dk__udp_peer_release(dk_udp_peer *p, dk__pkt *pkt)
{
    dk__pool_put(p->pool, pkt);
}

dk_err dk_udp_peer_get_packet(dk_udp_peer *p, void *buf, size_t cap, size_t *out_len)
{
    if (!p || !out_len)
        return DK_FAIL(DK_ERR_INVALID, "peer or out_len is NULL");
    if (!buf && cap)
        return DK_FAIL(DK_ERR_INVALID, "buf is NULL");
    dk_err e = dk__udp_peer_fill(p);
    if (e != DK_OK && !p->queue.head)
        return DK_FAIL(e, "recvmmsg: %s", strerror(errno));
    dk__pkt *head = p->queue.head;
    if (!head) {
        *out_len = 0;
        if (p->kind == DK__PEER_DETACHED)
            return DK_FAIL(DK_ERR_CLOSED, "the server this peer came from has stopped");
        if (p->kind == DK__PEER_STANDALONE && !p->bound)
            return DK_FAIL(DK_ERR_STATE, "peer has no socket");
        return DK_ERR_WOULD_BLOCK;
    }
    if (head->len > cap) {
        *out_len = head->len;
        return DK_FAIL(DK_ERR_BUFFER_TOO_SMALL, "next packet has %u bytes, buffer holds %zu",
                       head->len, cap);
    }
    dk__pkt *pkt = dk__pktq_pop(&p->queue);
    if (pkt->len && buf) /* len <= cap, so buf is set when len is not 0 */
        memcpy(buf, pkt->data, pkt->len);
    *out_len = pkt->len;
    if (p->kind == DK__PEER_STANDALONE) /* a slot's source is its remote */
        p->last_src = pkt->src;
    dk__pool_put(p->pool, pkt);
    return DK_OK;
}

int dk_udp_peer_get_available_packet_count(dk_udp_peer *p)
{
    if (!p)
        return 0;
    (void)dk__udp_peer_fill(p);
    return (int)p->queue.count;
}

dk_err dk_udp_peer_get_packet_ip(const dk_udp_peer *p, char *buf, size_t cap)
{
    if (!p || !buf)
        return DK_FAIL(DK_ERR_INVALID, "peer or buf is NULL");
    char tmp[DK_IP_STRLEN];
    dk__addr_ip_string(p->kind == DK__PEER_STANDALONE ? &p->last_src : &p->remote, tmp, sizeof tmp);
    if (strlen(tmp) >= cap)
        return DK_FAIL(DK_ERR_BUFFER_TOO_SMALL, "address needs %zu bytes", strlen(tmp) + 1);
    memcpy(buf, tmp, strlen(tmp) + 1);
    return DK_OK;
}

int dk_udp_peer_get_packet_port(const dk_udp_peer *p)
{
    if (!p)
        return 0;
    return dk__addr_port(p->kind == DK__PEER_STANDALONE ? &p->last_src : &p->remote);
}

dk_err dk_udp_peer_get_remote_address(const dk_udp_peer *p, char *buf, size_t cap, int *port)
{
    if (!p || !buf)
        return DK_FAIL(DK_ERR_INVALID, "peer or buf is NULL");
    if (!dk__udp_peer_is_server_slot(p) && p->kind != DK__PEER_DETACHED && !p->has_dest)
        return DK_FAIL(DK_ERR_STATE, "peer has no remote address");
    char tmp[DK_IP_STRLEN];
    dk__addr_ip_string(&p->remote, tmp, sizeof tmp);
    if (strlen(tmp) >= cap)
        return DK_FAIL(DK_ERR_BUFFER_TOO_SMALL, "address needs %zu bytes", strlen(tmp) + 1);
    memcpy(buf, tmp, strlen(tmp) + 1);
    if (port)
        *port = dk__addr_port(&p->remote);
    return DK_OK;
}

dk_err dk_udp_peer_wait(dk_udp_peer *p, int timeout_ms)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    uint64_t deadline = timeout_ms < 0 ? 0 : dk__now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int fd;
        if (dk__udp_peer_is_server_slot(p)) {
            (void)dk_udp_server_poll(p->server);
            fd = p->server->fd;
        } else if (p->kind == DK__PEER_DETACHED) {
            return p->queue.head ? DK_OK : DK_FAIL(DK_ERR_CLOSED, "the server has stopped");
        } else {
            if (p->fd < 0)
                return DK_FAIL(DK_ERR_STATE, "peer has no socket");
            (void)dk__udp_peer_fill(p);
            fd = p->fd;
        }
        if (p->queue.head)
            return DK_OK;
        int left = timeout_ms < 0 ? -1 : dk__ms_until(deadline, dk__now_ms());
        if (left == 0)
            return DK_ERR_TIMEOUT;
        int r = dk__sock_wait_readable(fd, left);
        if (r < 0)
            return DK_FAIL((dk_err)r, "poll: %s", strerror(errno));
    }
}

dk_err dk_udp_peer_set_broadcast_enabled(dk_udp_peer *p, bool enabled)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    if (p->kind != DK__PEER_STANDALONE)
        return DK_FAIL(DK_ERR_STATE, "a server's peer shares the server's socket");
    if (p->fd >= 0) {
        int on = enabled ? 1 : 0;
        if (setsockopt(p->fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) < 0)
            return DK_FAIL(dk__errno_to_err(errno), "SO_BROADCAST: %s", strerror(errno));
    }
    p->broadcast = enabled; /* without a socket: set when one opens */
    return DK_OK;
}

static bool same_group(const dk__udp_group *k, const dk__addr *g, unsigned idx)
{
    if (k->ifindex != idx || k->addr.u.sa.sa_family != g->u.sa.sa_family)
        return false;
    if (g->u.sa.sa_family == AF_INET)
        return k->addr.u.in4.sin_addr.s_addr == g->u.in4.sin_addr.s_addr;
    return memcmp(&k->addr.u.in6.sin6_addr, &g->u.in6.sin6_addr, sizeof g->u.in6.sin6_addr) == 0;
}

/* Join or leave before the socket exists: the peer's list of kept groups. */
static dk_err keep_group(dk_udp_peer *p, const char *func, const char *group, const dk__addr *g,
                         unsigned idx, const char *iface, bool join)
{
    struct dk__udp_groups *l = p->kept_groups;
    const char *on = iface && *iface ? " on " : "";
    const char *name = iface ? iface : "";
    int i = 0;
    while (l && i < l->n && !same_group(&l->g[i], g, idx))
        i++;
    bool found = l && i < l->n;
    if (!join) {
        if (!found)
            return dk__fail(DK_ERR_INVALID, func, "leave %s%s%s: not joined", group, on, name);
        memmove(&l->g[i], &l->g[i + 1], (size_t)(l->n - i - 1) * sizeof l->g[0]);
        if (--l->n == 0) {
            free(l);
            p->kept_groups = NULL;
        }
        return DK_OK;
    }
    if (found)
        return dk__fail(DK_ERR_ADDR_IN_USE, func, "join %s%s%s: already joined", group, on, name);
    if (l && l->n == DK_UDP_MAX_KEPT_GROUPS)
        return dk__fail(DK_ERR_QUEUE_FULL, func,
                        "join %s%s%s: %d groups wait for the socket already, the most a peer "
                        "keeps (bind first, then join more)",
                        group, on, name, DK_UDP_MAX_KEPT_GROUPS);
    if (!l) {
        l = calloc(1, sizeof *l);
        if (!l)
            return dk__fail(DK_ERR_NOMEM, func, "out of memory");
        p->kept_groups = l;
    }
    dk__udp_group *k = &l->g[l->n++];
    k->addr = *g;
    k->ifindex = idx;
    memcpy(k->ifname, name, strlen(name) + 1); /* checked shorter than IF_NAMESIZE */
    return DK_OK;
}

static dk_err multicast(dk_udp_peer *p, const char *func, const char *group, const char *iface,
                        bool join)
{
    if (!p || !group)
        return dk__fail(DK_ERR_INVALID, func, "peer or group is NULL");
    if (p->kind != DK__PEER_STANDALONE)
        return dk__fail(DK_ERR_STATE, func, "a server's peer shares the server's socket");
    unsigned idx = 0;
    if (iface && *iface) {
        if (strlen(iface) >= IF_NAMESIZE || !(idx = if_nametoindex(iface)))
            return dk__fail(DK_ERR_INVALID, func, "no interface named '%s'", iface);
    }
    dk__addr g;
    if (dk__addr_parse(group, 0, &g) != DK_OK)
        return dk__fail(DK_ERR_INVALID, func, "'%s' is not an IP literal", group);
    if (g.u.sa.sa_family == AF_INET ? !IN_MULTICAST(ntohl(g.u.in4.sin_addr.s_addr))
                                    : !IN6_IS_ADDR_MULTICAST(&g.u.in6.sin6_addr))
        return dk__fail(DK_ERR_INVALID, func, "'%s' is not a multicast address", group);
    if (p->fd < 0)
        return keep_group(p, func, group, &g, idx, iface, join);
    return group_apply(func, p->fd, p->family, &g, idx, iface, join, false);
}

dk_err dk_udp_peer_join_multicast_group(dk_udp_peer *p, const char *group, const char *iface)
{
    return multicast(p, __func__, group, iface, true);
}

dk_err dk_udp_peer_leave_multicast_group(dk_udp_peer *p, const char *group, const char *iface)
{
    return multicast(p, __func__, group, iface, false);
}

bool dk_udp_peer_is_bound(const dk_udp_peer *p)
{
    if (!p)
        return false;
    if (dk__udp_peer_is_server_slot(p))
        return p->server->fd >= 0;
    return p->kind == DK__PEER_STANDALONE && p->bound;
}

bool dk_udp_peer_is_socket_connected(const dk_udp_peer *p)
{
    if (!p)
        return false;
    if (dk__udp_peer_is_server_slot(p))
        return p->server->fd >= 0;
    return p->kind == DK__PEER_STANDALONE && p->connected;
}

int dk_udp_peer_get_local_port(const dk_udp_peer *p)
{
    if (!p)
        return 0;
    if (dk__udp_peer_is_server_slot(p))
        return p->server->port;
    return p->kind == DK__PEER_STANDALONE ? dk__sock_local_port(p->fd) : 0;
}

int dk_udp_peer_get_fd(const dk_udp_peer *p)
{
    if (!p)
        return -1;
    if (dk__udp_peer_is_server_slot(p))
        return p->server->fd;
    return p->kind == DK__PEER_STANDALONE ? p->fd : -1;
}

dk_err dk_udp_peer_set_queue_limits(dk_udp_peer *p, int max_packets, int max_bytes)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    if (max_packets < 1 || max_bytes < 1)
        return DK_FAIL(DK_ERR_INVALID, "queue limits %d packets, %d bytes must be positive",
                       max_packets, max_bytes);
    p->q_max_packets = (uint32_t)max_packets;
    p->q_max_bytes = (uint32_t)max_bytes;
    return DK_OK;
}

dk_err dk_udp_peer_get_stats(const dk_udp_peer *p, dk_udp_stats *out)
{
    if (!p || !out)
        return DK_FAIL(DK_ERR_INVALID, "peer or out is NULL");
    memset(out, 0, sizeof *out);
    out->datagrams_received = p->st.rx;
    out->bytes_received = p->st.rx_bytes;
    out->datagrams_sent = p->st.tx;
    out->bytes_sent = p->st.tx_bytes;
    out->dropped_queue_full = p->st.dropped_queue_full;
    out->dropped_oversized = p->st.dropped_oversized;
    return DK_OK;
}
