/* Socket system calls for the UDP layer. */
#include "udp_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

/* ---- per-thread receive scratch: one batch of buffers per thread, shared by
 * every socket that thread reads, so a peer or server costs no receive
 * buffer of its own. */
typedef struct rx_scratch {
    struct mmsghdr msgs[DK__RX_BATCH];
    struct iovec iov[DK__RX_BATCH];
    dk__rx rx[DK__RX_BATCH];
    uint8_t buf[DK__RX_BATCH][DK__RX_SLOT];
} rx_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    free(p);
}

static void scratch_key_init(void)
{
    (void)pthread_key_create(&scratch_key, scratch_free);
}

static rx_scratch *scratch_get(void)
{
    pthread_once(&scratch_once, scratch_key_init);
    rx_scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = malloc(sizeof *s);
        if (!s)
            return NULL;
        for (int i = 0; i < DK__RX_BATCH; i++) {
            s->iov[i].iov_base = s->buf[i];
            s->iov[i].iov_len = DK__RX_SLOT;
            s->rx[i].data = s->buf[i];
        }
        if (pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    return s;
}

static dk_err set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return DK_ERR_SOCKET;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return DK_ERR_SOCKET;
    return DK_OK;
}

static int open_family(int family, bool v6only)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    if (family == AF_INET6) {
        int on = v6only ? 1 : 0;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) < 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* Linux doubles the SO_RCVBUF value set (the second half pays for its
 * bookkeeping) and reports the doubled value; other systems keep it. */
#ifdef __linux__
#define RCVBUF_REPORTED_PER_BYTE_SET 2
#else
#define RCVBUF_REPORTED_PER_BYTE_SET 1
#endif

/* Raises the receive buffer of the fresh socket `fd` to `bytes`; never
 * lowers it below what the system gives a new socket (rmem_default on
 * Linux). The system may cap the value (net.core.rmem_max). */
static void raise_rcvbuf(int fd, int bytes)
{
    int cur = 0;
    socklen_t sl = sizeof cur;
    if (bytes <= 0 || getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, &sl) < 0)
        return;
    if (bytes > cur / RCVBUF_REPORTED_PER_BYTE_SET)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

dk_err dk__sock_open(const char *func, const char *bind_address, int port, int remote_family,
                     bool reuse_port, int rcvbuf, int *fd_out, int *family_out)
{
    dk__addr local;
    int fd = -1;
    bool wildcard = !bind_address || strcmp(bind_address, "*") == 0;
    if (!wildcard) {
        if (dk__addr_parse(bind_address, port, &local) != DK_OK)
            return dk__fail(DK_ERR_INVALID, func,
                            "bind address '%s' is not an IPv4 or IPv6 literal (or \"*\")",
                            bind_address);
        if (remote_family != AF_UNSPEC && remote_family != local.u.sa.sa_family &&
            !(remote_family == AF_INET && local.u.sa.sa_family == AF_INET6))
            return dk__fail(DK_ERR_INVALID, func, "bind address '%s' cannot reach an IPv%d host",
                            bind_address, remote_family == AF_INET ? 4 : 6);
        fd = open_family(local.u.sa.sa_family,
                         local.u.sa.sa_family == AF_INET6 && remote_family != AF_INET);
    } else if (remote_family == AF_INET) {
        dk__addr_any(AF_INET, port, &local);
        fd = open_family(AF_INET, false);
    } else if (remote_family == AF_INET6) {
        dk__addr_any(AF_INET6, port, &local);
        fd = open_family(AF_INET6, false);
    } else {
        /* Dual-stack first; a system without IPv6 gets IPv4. */
        dk__addr_any(AF_INET6, port, &local);
        fd = open_family(AF_INET6, false);
        if (fd < 0) {
            dk__addr_any(AF_INET, port, &local);
            fd = open_family(AF_INET, false);
        }
    }
    if (fd < 0)
        return dk__fail(dk__errno_to_err(errno), func, "socket: %s", strerror(errno));
    if (set_nonblock_cloexec(fd) != DK_OK) {
        int e = errno;
        close(fd);
        return dk__fail(DK_ERR_SOCKET, func, "fcntl: %s", strerror(e));
    }
    if (reuse_port) {
        int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0) {
            int e = errno;
            close(fd);
            return dk__fail(DK_ERR_UNAVAILABLE, func, "SO_REUSEPORT: %s", strerror(e));
        }
    }
    raise_rcvbuf(fd, rcvbuf);
    if (bind(fd, &local.u.sa, local.len) < 0) {
        int e = errno;
        close(fd);
        dk_err err = dk__errno_to_err(e);
        if (err == DK_ERR_WOULD_BLOCK)
            err = DK_ERR_SOCKET;
        char ip[64];
        dk__addr_ip_string(&local, ip, sizeof ip);
        return dk__fail(err, func, "bind %s port %d: %s", ip, port, strerror(e));
    }
    *fd_out = fd;
    *family_out = local.u.sa.sa_family;
    return DK_OK;
}

dk_err dk__sock_adopt(const char *func, int fd, int *family_out)
{
    int type = 0;
    socklen_t tl = sizeof type;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
        return dk__fail(DK_ERR_INVALID, func, "descriptor %d is not an open socket", fd);
    dk__addr local;
    local.len = sizeof local.u;
    if (type != SOCK_DGRAM || getsockname(fd, &local.u.sa, &local.len) < 0 ||
        (local.u.sa.sa_family != AF_INET && local.u.sa.sa_family != AF_INET6))
        return dk__fail(DK_ERR_INVALID, func, "descriptor %d is not an IPv4 or IPv6 UDP socket",
                        fd);
    if (dk__addr_port(&local) == 0)
        return dk__fail(DK_ERR_INVALID, func, "socket %d is not bound to a port", fd);
    dk__addr peer;
    peer.len = sizeof peer.u;
    if (getpeername(fd, &peer.u.sa, &peer.len) == 0)
        return dk__fail(DK_ERR_INVALID, func,
                        "socket %d is connected to one peer: a server needs every source", fd);
    if (set_nonblock_cloexec(fd) != DK_OK)
        return dk__fail(DK_ERR_SOCKET, func, "fcntl: %s", strerror(errno));
    *family_out = local.u.sa.sa_family;
    return DK_OK;
}

int dk__sock_local_port(int fd)
{
    dk__addr a;
    a.len = sizeof a.u;
    if (fd < 0 || getsockname(fd, &a.u.sa, &a.len) < 0)
        return 0;
    return dk__addr_port(&a);
}

int dk__sock_recv_batch(int fd, dk__rx **rx)
{
    rx_scratch *s = scratch_get();
    if (!s)
        return DK_ERR_NOMEM;
    for (int i = 0; i < DK__RX_BATCH; i++) {
        struct msghdr *h = &s->msgs[i].msg_hdr;
        memset(h, 0, sizeof *h);
        h->msg_name = &s->rx[i].src.u;
        h->msg_namelen = sizeof s->rx[i].src.u;
        h->msg_iov = &s->iov[i];
        h->msg_iovlen = 1;
        s->msgs[i].msg_len = 0;
    }
    int n;
    do {
        n = recvmmsg(fd, s->msgs, DK__RX_BATCH, MSG_DONTWAIT, NULL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        /* ICMP errors queued on the socket (port unreachable after a send to
         * a closed port) surface here; they are not fatal for a UDP server. */
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
            return DK__RX_UNREACHABLE;
        return DK_ERR_SOCKET;
    }
    for (int i = 0; i < n; i++) {
        s->rx[i].len = s->msgs[i].msg_len;
        s->rx[i].truncated = (s->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        s->rx[i].src.len = s->msgs[i].msg_hdr.msg_namelen;
    }
    *rx = s->rx;
    return n;
}

dk_err dk__sock_send(int fd, const dk__addr *to, const void *data, size_t len, int *sys_errno)
{
    ssize_t n;
    do {
        n = to ? sendto(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, &to->u.sa, to->len)
               : send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0)
        return DK_OK;
    if (sys_errno)
        *sys_errno = errno;
    return dk__errno_to_err(errno);
}

void dk__txq_add(dk__txq *q, const dk__addr *to, const void *data, size_t len)
{
    int i = q->n++;
    uint8_t *slot = q->arena + q->used;
    memcpy(slot, data, len);
    q->used += len;
    q->to[i] = *to;
    q->iov[i].iov_base = slot;
    q->iov[i].iov_len = len;
    struct msghdr *h = &q->msgs[i].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_name = &q->to[i].u;
    h->msg_namelen = to->len;
    h->msg_iov = &q->iov[i];
    h->msg_iovlen = 1;
}

int dk__txq_flush(dk__txq *q, int fd)
{
    int i = 0, delivered = 0;
    while (i < q->n) {
        int r = sendmmsg(fd, q->msgs + i, (unsigned)(q->n - i), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break; /* socket buffer full: the rest is lost */
            i++;       /* this one cannot go (unreachable...): skip it */
            continue;
        }
        i += r;
        delivered += r;
    }
    q->n = 0;
    q->used = 0;
    return delivered;
}

int dk__sock_wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;
    do {
        n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return DK_ERR_SOCKET;
    return n > 0 ? 1 : 0;
}

void dk__sock_close(int fd)
{
    if (fd >= 0)
        close(fd);
}
