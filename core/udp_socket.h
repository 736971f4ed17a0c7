/* Internal: the non-blocking UDP socket calls (open, bind, batched receive,
 * send). Everything that touches a socket descriptor lives here or in the
 * UDP server and peer. */
#ifndef DK_CORE_UDP_SOCKET_H
#define DK_CORE_UDP_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Datagrams read per recvmmsg call, and the buffer for each: large enough
 * for any UDP payload, so truncation means "over 64 KiB" only. */
#define DK__RX_BATCH 16
#define DK__RX_SLOT  65536

typedef struct dk__rx {
    uint8_t *data;
    size_t len;
    bool truncated;
    dk__addr src;
} dk__rx;

/* Opens a non-blocking socket bound to `bind_address` ("*" or NULL: IPv6
 * dual-stack, falling back to IPv4) and `port`. With `remote_family` set
 * (AF_INET / AF_INET6) and no bind address, opens that family instead.
 * Errors are recorded against `func`. */
dk_err dk__sock_open(const char *func, const char *bind_address, int port, int remote_family,
                     bool reuse_port, int rcvbuf, int *fd_out, int *family_out);

/* Checks that `fd` is a bound, unconnected IPv4 or IPv6 UDP socket and
 * makes it non-blocking and close-on-exec. Errors recorded against `func`. */
dk_err dk__sock_adopt(const char *func, int fd, int *family_out);

int dk__sock_local_port(int fd);

/* Reads up to DK__RX_BATCH datagrams into the calling thread's receive
 * scratch. Returns the count (0 when none is waiting), or a negative dk_err.
 * `*rx` points at the scratch entries, valid until the next call on this
 * thread. */
int dk__sock_recv_batch(int fd, dk__rx **rx);

/* Returned by dk__sock_recv_batch() instead of 0 when the kernel reported an
 * ICMP error (port or host unreachable) queued on the socket. */
#define DK__RX_UNREACHABLE (-1000)

/* Sends one datagram; `to` NULL on a connected socket. Returns DK_OK or the
 * dk_err for errno (DK_ERR_WOULD_BLOCK, DK_ERR_TOO_BIG, ...), and the errno
 * through `*sys_errno` when not NULL. */
dk_err dk__sock_send(int fd, const dk__addr *to, const void *data, size_t len, int *sys_errno);

/* A batch of datagrams to send with one sendmmsg: each is copied into the
 * batch's arena. */
#define DK__TX_BATCH 32
#define DK__TX_ARENA (64 * 1024)

typedef struct dk__txq {
    int n;
    size_t used;
    struct mmsghdr msgs[DK__TX_BATCH];
    struct iovec iov[DK__TX_BATCH];
    dk__addr to[DK__TX_BATCH];
    uint8_t arena[DK__TX_ARENA];
} dk__txq;

/* True when one more datagram of `len` bytes fits in the batch. */
static inline bool dk__txq_fits(const dk__txq *q, size_t len)
{
    return q->n < DK__TX_BATCH && q->used + len <= DK__TX_ARENA;
}

/* Appends a datagram (it must fit). */
void dk__txq_add(dk__txq *q, const dk__addr *to, const void *data, size_t len);

/* Writes the batch with sendmmsg and empties it. Returns how many
 * datagrams the kernel took; the others (socket buffer full, errors) are
 * lost, like any datagram on a network. */
int dk__txq_flush(dk__txq *q, int fd);

/* Waits until `fd` is readable or `timeout_ms` passes (-1: forever).
 * Returns 1 readable, 0 timeout, negative dk_err. */
int dk__sock_wait_readable(int fd, int timeout_ms);

void dk__sock_close(int fd);

#endif
