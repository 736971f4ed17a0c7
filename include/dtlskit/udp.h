/** @file
 * dtlskit — UDP server and datagram peers.
 *
 * dk_udp_server (Godot: UDPServer) owns one non-blocking socket. poll()
 * drains it in batches and routes every datagram by its source address
 * through a hash table: a known source goes to its peer's queue, an unknown
 * one becomes a pending connection that take_connection() hands out.
 *
 * dk_udp_peer (Godot: PacketPeerUDP) is either a standalone socket (bind,
 * connect_to_host, set_dest_address) or a slot of a server's socket returned
 * by take_connection(). Both queue received datagrams in bounded queues
 * (packets and bytes); overflow drops the newest datagram and counts it.
 *
 * Ports are ints so that out-of-range values are reported, not truncated.
 * Addresses are text ("127.0.0.1", "::1", host names where noted).
 * Threads: one object is used by one thread at a time; a server and the
 * peers taken from it count as one object.
 */
#ifndef DTLSKIT_UDP_H
#define DTLSKIT_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/error.h>
#include <dtlskit/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A UDP server: one bound socket whose new sources become pending
 *  connections (opaque; Godot: UDPServer). Freed with dk_udp_server_free(). */
typedef struct dk_udp_server dk_udp_server;
/** A datagram peer: a connection taken from a server, or a standalone
 *  socket (opaque; Godot: PacketPeerUDP). Freed with dk_udp_peer_free(). */
typedef struct dk_udp_peer dk_udp_peer;

/** Buffer size that holds any textual IP address dtlskit returns. */
#define DK_IP_STRLEN 46

/** Largest UDP payload dtlskit accepts (IPv4's limit). */
#define DK_UDP_MAX_DATAGRAM 65507

/** Multicast groups a standalone peer keeps while it has no socket (see
 *  dk_udp_peer_join_multicast_group()). */
#define DK_UDP_MAX_KEPT_GROUPS 16

/** Counters, since the object was created. */
typedef struct dk_udp_stats {
    uint64_t datagrams_received; /**< read from the socket */
    /** payload bytes of the datagrams received */
    uint64_t bytes_received;
    uint64_t datagrams_sent; /**< handed to the socket */
    /** payload bytes of the datagrams sent */
    uint64_t bytes_sent;
    uint64_t dropped_pending_full; /**< new source, pending queue full */
    uint64_t dropped_queue_full;   /**< a peer's queue was full */
    uint64_t dropped_oversized;    /**< larger than DK_UDP_MAX_DATAGRAM */
    uint64_t dropped_filtered;     /**< refused by the admission filter (DTLS) */
    uint64_t dropped_closed;       /**< for a peer already closed by the user */
    uint64_t pending_expired;      /**< pending connections never taken */
    uint64_t hello_verify_sent;    /**< HelloVerifyRequests answered statelessly */
    uint64_t send_errors;          /**< sendto/sendmmsg failures */
    uint32_t pending;              /**< pending connections now */
    uint32_t peers;                /**< taken peers registered now */
    /** always zero; room for future counters without changing the size */
    uint64_t reserved[6];
} dk_udp_stats;

/* ------------------------------------------------------------- server */

/** A new, stopped server. */
DK_API dk_udp_server *dk_udp_server_new(dk_err *err);

/** Stops the server and releases it. Peers already taken stay valid objects
 *  (their calls report DK_ERR_CLOSED) and are freed by their owner. */
DK_API void dk_udp_server_free(dk_udp_server *server);

/** Opens the socket. `bind_address`: NULL or "*" listens on every address,
 *  IPv6 and IPv4 together where the system allows (IPv4 only otherwise); an
 *  IPv4 literal binds IPv4 only, an IPv6 literal IPv6 only. `port` 0 picks a
 *  free port (see dk_udp_server_get_local_port()). Errors: DK_ERR_INVALID
 *  (port outside 0..65535, address not a literal), DK_ERR_STATE (already
 *  listening), DK_ERR_ADDR_IN_USE, DK_ERR_SOCKET. Godot: listen(port,
 *  bind_address). */
DK_API dk_err dk_udp_server_listen(dk_udp_server *server, int port, const char *bind_address);

/** Listens on a UDP socket opened and bound elsewhere: inherited from a
 *  parent process or handed over by systemd socket activation. The server
 *  owns `fd` once this succeeds (it is made non-blocking and close-on-exec,
 *  and closed by dk_udp_server_stop() and _free()); on failure it stays the
 *  caller's. A parent that keeps its own copy of each worker's socket
 *  (SO_REUSEPORT group) keeps the group unchanged when a worker dies:
 *  datagrams wait in the socket for the restarted worker, and no other
 *  worker's clients move (see docs/DEPLOYMENT.md). Errors: DK_ERR_INVALID
 *  (not an open, bound, unconnected IPv4/IPv6 UDP socket), DK_ERR_STATE
 *  (already listening). */
DK_API dk_err dk_udp_server_adopt_socket(dk_udp_server *server, int fd);

/** Allows several processes to listen on the same port (SO_REUSEPORT), for
 *  workers that share a cookie secret. Call before listen. */
DK_API dk_err dk_udp_server_set_reuse_port(dk_udp_server *server, bool enable);

/** Kernel receive buffer of the socket in bytes (SO_RCVBUF; 0: the system
 *  default). A busy server wants more than the default to ride out bursts.
 *  Call before listen. The buffer is only ever raised: a size below what the
 *  system gives a new socket (net.core.rmem_default on Linux) leaves that.
 *  The system may cap it (net.core.rmem_max). Linux doubles the value set,
 *  the second half paying for its bookkeeping, and getsockopt(SO_RCVBUF)
 *  reports the doubled value: `bytes` is compared with half of what a new
 *  socket reports, and a raised buffer reads back as 2 * `bytes`. */
DK_API dk_err dk_udp_server_set_recv_buffer_size(dk_udp_server *server, int bytes);

/** Drains the socket (in batches, without blocking), routes datagrams to
 *  their peers, queues new sources as pending connections and expires
 *  pending connections never taken. Errors: DK_ERR_STATE (not listening),
 *  DK_ERR_SOCKET. Godot: poll(). */
DK_API dk_err dk_udp_server_poll(dk_udp_server *server);

/** Send batching (default off: each datagram is written at once). With it
 *  on, datagrams sent through the server's socket (its taken peers, and the
 *  DTLS sessions over them) are collected and written together with one
 *  sendmmsg at the next poll, at dk_udp_server_flush(), or when 32 are
 *  waiting; get_timeout_ms() returns 0 while some wait, so an event loop
 *  does not sleep on them. Datagrams a poll itself sends (HelloVerifyRequests,
 *  handshake flights during dk_dtls_server_poll()) are always batched within
 *  that poll. */
DK_API dk_err dk_udp_server_set_send_batching(dk_udp_server *server, bool enable);

/** Writes the batched datagrams now. */
DK_API dk_err dk_udp_server_flush(dk_udp_server *server);

/** True when a pending connection can be taken. It polls first, so the Godot
 *  accept loop `while (is_connection_available()) take_connection()` works
 *  without a separate poll. False when not listening. */
DK_API bool dk_udp_server_is_connection_available(dk_udp_server *server);

/** Takes the oldest pending connection: a peer that shares the server's
 *  socket, holds the datagrams its source sent so far and receives the next
 *  ones at each poll. The caller owns it (dk_udp_peer_free() unregisters it;
 *  a later datagram from that source is a new pending connection).
 *  Errors: DK_ERR_STATE (not listening), DK_ERR_WOULD_BLOCK (none pending).
 *  Godot: take_connection(). */
DK_API dk_udp_peer *dk_udp_server_take_connection(dk_udp_server *server, dk_err *err);

/** Closes the socket, drops pending connections and detaches taken peers
 *  (they report DK_ERR_CLOSED). The server can listen again. Godot: stop(). */
DK_API void dk_udp_server_stop(dk_udp_server *server);

/** Godot: is_listening(). */
DK_API bool dk_udp_server_is_listening(const dk_udp_server *server);

/** The bound port, or 0 when not listening. Godot: get_local_port(). */
DK_API int dk_udp_server_get_local_port(const dk_udp_server *server);

/** Bound on pending connections (default 16). Datagrams from further new
 *  sources are dropped and counted. Lowering it below the current count
 *  drops the newest pending connections. Godot: max_pending_connections. */
DK_API dk_err dk_udp_server_set_max_pending_connections(dk_udp_server *server, int max);
/** The bound on pending connections; 0 for NULL. */
DK_API int dk_udp_server_get_max_pending_connections(const dk_udp_server *server);

/** Milliseconds a pending connection waits to be taken before it is dropped
 *  (default 10000). */
DK_API dk_err dk_udp_server_set_pending_timeout(dk_udp_server *server, int ms);

/** Per-peer receive queue bounds for pending and taken peers (defaults: 256
 *  packets, 256 KiB). Applies to datagrams queued from now on. */
DK_API dk_err dk_udp_server_set_queue_limits(dk_udp_server *server, int max_packets, int max_bytes);

/** The socket descriptor for an event loop (readable: call poll), or -1. */
DK_API int dk_udp_server_get_fd(const dk_udp_server *server);

/** Milliseconds until poll() must run again for timers (pending expiry), 0
 *  when batched datagrams wait to be sent, or -1 when nothing is due. */
DK_API int dk_udp_server_get_timeout_ms(const dk_udp_server *server);

/** Copies the counters. */
DK_API dk_err dk_udp_server_get_stats(const dk_udp_server *server, dk_udp_stats *out);

/* --------------------------------------------------------------- peer */

/** A new standalone peer with no socket yet. */
DK_API dk_udp_peer *dk_udp_peer_new(dk_err *err);

/** Closes and releases the peer; a peer taken from a server is unregistered
 *  from it. NULL is ignored. */
DK_API void dk_udp_peer_free(dk_udp_peer *peer);

/** Binds a standalone peer's socket to `port` (0: any free port) on
 *  `bind_address` (NULL or "*": every address, dual-stack where possible).
 *  `recv_buf_size` raises the kernel receive buffer to that many bytes,
 *  never below the system's default (0: the default; see
 *  dk_udp_server_set_recv_buffer_size() for Linux's doubling). Opening the
 *  socket applies what was set before it existed (broadcast, multicast
 *  groups): when that fails, so does bind, with the error naming the group,
 *  and the peer stays unbound with those settings unchanged. The same holds
 *  for connect_to_host() and set_dest_address() when they open the socket.
 *  Errors: DK_ERR_INVALID, DK_ERR_STATE (already bound, or a server's peer),
 *  DK_ERR_ADDR_IN_USE, DK_ERR_SOCKET. Godot: bind(port, bind_address,
 *  recv_buf_size), whose recv_buf_size sizes Godot's own queue instead. */
DK_API dk_err dk_udp_peer_bind(dk_udp_peer *peer, int port, const char *bind_address,
                               int recv_buf_size);

/** Connects a standalone peer to `host` (name or literal, IPv4 or IPv6):
 *  datagrams go there, datagrams from elsewhere are discarded by the kernel,
 *  and set_dest_address() is no longer allowed. Binds an ephemeral port
 *  first when needed. Errors: DK_ERR_INVALID, DK_ERR_RESOLVE, DK_ERR_STATE
 *  (a server's peer), DK_ERR_SOCKET. Godot: connect_to_host(host, port). */
DK_API dk_err dk_udp_peer_connect_to_host(dk_udp_peer *peer, const char *host, int port);

/** Sets where put_packet() sends on an unconnected standalone peer.
 *  Errors: DK_ERR_INVALID, DK_ERR_RESOLVE, DK_ERR_STATE (connected).
 *  Godot: set_dest_address(host, port). */
DK_API dk_err dk_udp_peer_set_dest_address(dk_udp_peer *peer, const char *host, int port);

/** Sends one datagram. Errors: DK_ERR_INVALID, DK_ERR_TOO_BIG (over
 *  DK_UDP_MAX_DATAGRAM), DK_ERR_STATE (no destination), DK_ERR_CLOSED,
 *  DK_ERR_WOULD_BLOCK (socket buffer full), DK_ERR_PERMISSION (broadcast
 *  without set_broadcast_enabled), DK_ERR_SOCKET. Godot: put_packet(). */
DK_API dk_err dk_udp_peer_put_packet(dk_udp_peer *peer, const void *data, size_t len);

/** Copies the oldest queued datagram into `buf` and removes it from the
 *  queue; `*out_len` gets its length. A standalone peer reads its socket
 *  first. Errors: DK_ERR_INVALID, DK_ERR_WOULD_BLOCK (nothing queued),
 *  DK_ERR_BUFFER_TOO_SMALL (`*out_len` gets the size needed; the datagram
 *  stays queued), DK_ERR_CLOSED. Godot: get_packet(). */
DK_API dk_err dk_udp_peer_get_packet(dk_udp_peer *peer, void *buf, size_t cap, size_t *out_len);

/** Number of datagrams queued (a standalone peer reads its socket first);
 *  0 on error. Godot: get_available_packet_count(). */
DK_API int dk_udp_peer_get_available_packet_count(dk_udp_peer *peer);

/** Source address of the datagram last returned by get_packet(), as text
 *  (IPv4-mapped IPv6 addresses are shown as IPv4). Godot: get_packet_ip(). */
DK_API dk_err dk_udp_peer_get_packet_ip(const dk_udp_peer *peer, char *buf, size_t cap);

/** Source port of the datagram last returned by get_packet(), or 0.
 *  Godot: get_packet_port(). */
DK_API int dk_udp_peer_get_packet_port(const dk_udp_peer *peer);

/** The address a server's peer talks to, or a connected peer's host.
 *  DK_ERR_STATE when there is none. */
DK_API dk_err dk_udp_peer_get_remote_address(const dk_udp_peer *peer, char *buf, size_t cap,
                                             int *port);

/** Waits up to `timeout_ms` (-1: without limit) until a datagram is queued.
 *  Returns DK_OK, DK_ERR_TIMEOUT, DK_ERR_STATE (no socket) or DK_ERR_CLOSED.
 *  For a server's peer it polls the server while waiting. Godot: wait(). */
DK_API dk_err dk_udp_peer_wait(dk_udp_peer *peer, int timeout_ms);

/** Allows sending to broadcast addresses (SO_BROADCAST; standalone peers;
 *  default off). Without a socket the flag is kept and set on the socket when
 *  one opens (bind, connect_to_host, set_dest_address). The flag survives
 *  dk_udp_peer_close(): the next socket gets it too. Errors: DK_ERR_INVALID,
 *  DK_ERR_STATE (a server's peer: it shares the server's socket). Godot:
 *  set_broadcast_enabled(), likewise kept and applied at bind (Godot's
 *  connect_to_host forgets it; dtlskit does not). */
DK_API dk_err dk_udp_peer_set_broadcast_enabled(dk_udp_peer *peer, bool enabled);

/** Joins the multicast group `group` (IPv4 or IPv6 literal) on the interface
 *  named `interface_name` (NULL or "": the system's choice). The group and
 *  the interface are checked at the call (DK_ERR_INVALID: not a multicast
 *  literal, no such interface), whether or not the peer has a socket.
 *
 *  A peer without a socket keeps the group (up to DK_UDP_MAX_KEPT_GROUPS;
 *  DK_ERR_QUEUE_FULL beyond) and joins it when its socket opens (bind,
 *  connect_to_host, set_dest_address), after the socket is bound and in the
 *  order of the calls; a join the system refuses then (IPv6 group on an IPv4
 *  socket, interface gone) fails the opening call. Godot instead opens an
 *  unbound socket of the group's family, after which bind() is refused.
 *
 *  Joining a group already joined on the same interface (kept or on the
 *  socket) is DK_ERR_ADDR_IN_USE. dk_udp_peer_close() leaves every group,
 *  kept ones included: a socket's memberships end with it, as in Godot.
 *  Errors also: DK_ERR_STATE (a server's peer: it shares the server's
 *  socket), DK_ERR_INVALID (IPv6 group on an IPv4 socket, IPv4 group on an
 *  IPv6-only one), DK_ERR_SOCKET. Godot: join_multicast_group(). */
DK_API dk_err dk_udp_peer_join_multicast_group(dk_udp_peer *peer, const char *group,
                                               const char *interface_name);

/** Leaves a group joined before with the same interface name. Without a
 *  socket, removes a kept group. DK_ERR_INVALID when not joined (or for a bad
 *  literal or interface). Godot: leave_multicast_group(), which needs a
 *  socket. */
DK_API dk_err dk_udp_peer_leave_multicast_group(dk_udp_peer *peer, const char *group,
                                                const char *interface_name);

/** Closes the socket (standalone) or unregisters from the server (taken
 *  peer) and drops queued datagrams. The peer can be bound again. Multicast
 *  memberships end (kept ones too); the broadcast flag stays.
 *  Godot: close(). */
DK_API void dk_udp_peer_close(dk_udp_peer *peer);

/** Godot: is_bound(). A server's peer counts as bound while the server
 *  listens. */
DK_API bool dk_udp_peer_is_bound(const dk_udp_peer *peer);

/** Godot: is_socket_connected(). True for a connected standalone peer and
 *  for a server's peer while the server listens. */
DK_API bool dk_udp_peer_is_socket_connected(const dk_udp_peer *peer);

/** The local port, or 0 when unbound. Godot: get_local_port(). */
DK_API int dk_udp_peer_get_local_port(const dk_udp_peer *peer);

/** The socket descriptor (shared with the server for a taken peer), or -1. */
DK_API int dk_udp_peer_get_fd(const dk_udp_peer *peer);

/** Receive queue bounds (defaults: 256 packets, 256 KiB; a taken peer starts
 *  with its server's). */
DK_API dk_err dk_udp_peer_set_queue_limits(dk_udp_peer *peer, int max_packets, int max_bytes);

/** Copies the counters. A taken peer reports its own datagrams only. */
DK_API dk_err dk_udp_peer_get_stats(const dk_udp_peer *peer, dk_udp_stats *out);

#ifdef __cplusplus
}
#endif

#endif
