/** @file
 * dtlskit — DTLS server and sessions.
 *
 * dk_dtls_server (Godot: DTLSServer) holds the server options and the cookie
 * secret, and turns a dk_udp_peer taken from a dk_udp_server into a
 * dk_dtls_peer. dk_dtls_peer (Godot: PacketPeerDTLS) is one DTLS 1.2 session,
 * server or client side, with the status machine
 *
 *   DISCONNECTED -> HANDSHAKING -> CONNECTED -> DISCONNECTED (close_notify,
 *                                                idle timeout, disconnect)
 *   HANDSHAKING -> DISCONNECTED (disconnect, UDP server stopped)
 *   HANDSHAKING -> ERROR | ERROR_HOSTNAME_MISMATCH (client's host name check)
 *   CONNECTED -> ERROR (fatal alert)
 *
 * docs/CONCEPTS.md has every transition with its cause and error code.
 *
 * Nothing blocks. poll() reads what arrived, advances the handshake, runs
 * retransmission and timeouts, and queues application data; get_timeout_ms()
 * says when poll() is next needed. DTLS does not retransmit application
 * data: a lost datagram is lost, as with UDP.
 *
 * Cookies (RFC 6347 4.2.1): the server answers a ClientHello without a valid
 * cookie with a HelloVerifyRequest and keeps no state for it. Two ways:
 *  - Godot's: take_connection() on a peer whose first datagram has no valid
 *    cookie sends the HelloVerifyRequest and returns a peer in DK_DTLS_ERROR
 *    ("50% of connections fail"); the client's second ClientHello arrives as
 *    a new pending connection.
 *  - admission: dk_dtls_server_attach() makes the server the UDP server's
 *    filter. Cookie-less ClientHellos are answered inside dk_udp_server_poll()
 *    without allocating anything, other datagrams from unknown sources are
 *    dropped, and only clients with a valid cookie become pending
 *    connections: every taken peer is handshaking.
 */
#ifndef DTLSKIT_DTLS_H
#define DTLSKIT_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/crypto.h>
#include <dtlskit/error.h>
#include <dtlskit/export.h>
#include <dtlskit/udp.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A DTLS server: options, cookie exchange and the sessions it accepts
 *  (opaque; Godot: DTLSServer). Freed with dk_dtls_server_free(). */
typedef struct dk_dtls_server dk_dtls_server;
/** One DTLS session, client or server side (opaque; Godot:
 *  PacketPeerDTLS). Freed with dk_dtls_peer_free(). */
typedef struct dk_dtls_peer dk_dtls_peer;
/** A saved session for resumption by a later client session (opaque). */
typedef struct dk_dtls_session dk_dtls_session;

/** Godot: PacketPeerDTLS.Status, same order. */
typedef enum dk_dtls_status {
    /** Not connected: not started yet, or closed. */
    DK_DTLS_DISCONNECTED = 0,
    /** The handshake is in progress; keep polling. */
    DK_DTLS_HANDSHAKING = 1,
    /** The handshake completed; packets flow both ways. */
    DK_DTLS_CONNECTED = 2,
    /** The handshake or the session failed; dk_last_error() says why. */
    DK_DTLS_ERROR = 3,
    /** The server's certificate is valid but not for the expected host name. */
    DK_DTLS_ERROR_HOSTNAME_MISMATCH = 4
} dk_dtls_status;

/** Name of a status ("connected"); never NULL. */
DK_API const char *dk_dtls_status_name(dk_dtls_status status);

/** Cookie-exchange counters of a server. */
typedef struct dk_dtls_server_stats {
    uint64_t hello_verify_sent; /**< HelloVerifyRequests sent */
    uint64_t cookies_accepted;  /**< ClientHellos whose cookie verified */
    uint64_t cookies_rejected;  /**< ClientHellos with a wrong or stale cookie */
    uint64_t not_client_hello;  /**< datagrams from unknown sources that were
                                     not a well-formed ClientHello */
    /** times the cookie secret was rotated */
    uint64_t secret_rotations;
    uint64_t handshakes;                  /**< sessions handshaking now */
    uint64_t sessions;                    /**< sessions connected now */
    uint64_t refused_handshakes_total;    /**< valid ClientHellos refused: global
                                               handshake cap reached */
    uint64_t refused_handshakes_per_addr; /**< ... the source's handshake cap */
    uint64_t refused_sessions_total;      /**< ... the global session cap */
    uint64_t refused_sessions_per_addr;   /**< ... the source's session cap */
    uint64_t sessions_replaced;           /**< sessions ended by a new handshake from the
                                               same address and port (a client that
                                               restarted, RFC 6347 4.2.8) */
} dk_dtls_server_stats;

/** What the core refused from a session's peer: the gate in front of the
 *  TLS library during the handshake, the core's record layer after it. */
typedef struct dk_dtls_peer_stats {
    uint64_t datagrams_refused;   /**< dropped whole: empty, malformed, or out of
                                       place (far-future epoch or message, an
                                       unauthenticated alert on a connected
                                       session, over a handshake's budget) */
    uint64_t datagrams_trimmed;   /**< fed only up to their first bad record */
    uint64_t records_rejected;    /**< records of a connected session that failed
                                       authentication (dropped silently) */
    uint64_t records_replayed;    /**< duplicates, or older than the 64-record
                                       anti-replay window (dropped) */
    uint64_t final_flight_resent; /**< the peer missed our final flight and
                                       it was sent again */
    /** always zero; room for future counters without changing the size */
    uint64_t reserved[3];
} dk_dtls_peer_stats;

/* ------------------------------------------------------------- server */

/** A new server without options. */
DK_API dk_dtls_server *dk_dtls_server_new(dk_err *err);

/** Releases the server. It detaches from its UDP server; peers already taken
 *  keep working (they hold what they need). NULL is ignored. */
DK_API void dk_dtls_server_free(dk_dtls_server *server);

/** Sets the server options (see dk_tls_options_server()). May be called
 *  again; sessions taken afterwards use the new options. Errors:
 *  DK_ERR_INVALID (NULL or client options), DK_ERR_TLS (the library refused
 *  the key or certificate). Godot: setup(server_options). */
DK_API dk_err dk_dtls_server_setup(dk_dtls_server *server, const dk_tls_options *server_options);

/** Starts a DTLS session on a peer taken from a UDP server. On return the
 *  dk_dtls_peer owns `udp_peer` (do not free it separately), whatever its
 *  status: DK_DTLS_HANDSHAKING when the peer's first datagram was a
 *  ClientHello with a valid cookie, DK_DTLS_ERROR otherwise (a cookie-less
 *  ClientHello has then been answered with a HelloVerifyRequest). Returns
 *  NULL, leaving `udp_peer` with the caller, for DK_ERR_INVALID (NULL,
 *  peer not taken from a server), DK_ERR_STATE (no setup), DK_ERR_NOMEM, or
 *  the error of rebuilding the server's TLS context after a secret or
 *  ticket setting changed (DK_ERR_TLS, DK_ERR_UNAVAILABLE).
 *  Godot: take_connection(udp_peer). */
DK_API dk_dtls_peer *dk_dtls_server_take_connection(dk_dtls_server *server, dk_udp_peer *udp_peer,
                                                    dk_err *err);

/** Admission mode: makes this server the filter of `udp_server` (see the top
 *  of this file). One DTLS server per UDP server; NULL detaches. The DTLS
 *  server must outlive the attachment. */
DK_API dk_err dk_dtls_server_attach(dk_dtls_server *server, dk_udp_server *udp_server);

/** Sets the cookie secret explicitly (16 to 64 bytes), so that several
 *  processes sharing a port accept each other's cookies. The previous
 *  secret stays valid for one rotation interval, or, with rotation off
 *  (interval 0), until the next call. */
DK_API dk_err dk_dtls_server_set_cookie_secret(dk_dtls_server *server, const void *secret,
                                               size_t len);

/** How often the cookie secret is replaced by a fresh random one (default
 *  60000 ms; 0: never, e.g. with an explicit shared secret). Cookies made
 *  with the current and the previous secret are accepted. With a master
 *  secret (dk_dtls_server_set_master_secret()) this is the length of the
 *  wall-clock period each derived cookie secret belongs to (0: one secret). */
DK_API dk_err dk_dtls_server_set_cookie_rotation(dk_dtls_server *server, int interval_ms);

/** A master secret (16 to 64 bytes) from which the server derives, for
 *  each rotation period, its cookie secret and its session ticket keys
 *  (HKDF-SHA256, RFC 5869, over the period number read from the wall
 *  clock). Every process and host given the same master secret accepts the
 *  others' cookies and resumes the others' tickets, and all rotate in step
 *  without exchanging anything: what several workers on one port
 *  (dk_udp_server_set_reuse_port()) or several hosts behind a UDP load
 *  balancer need. Cookies of the current, previous and next period are
 *  accepted (the cookie rotation interval is the period; "next" absorbs
 *  clocks that differ by less than a period), tickets likewise with the
 *  ticket rotation. Replaces the cookie and ticket secrets set before;
 *  dk_dtls_server_set_cookie_secret() or _set_ticket_secret() afterwards
 *  replace one of them again. */
DK_API dk_err dk_dtls_server_set_master_secret(dk_dtls_server *server, const void *secret,
                                               size_t len);

/** dk_dtls_server_set_master_secret() with the secret read from a file the
 *  operator distributes: either 32 to 128 hex digits (`openssl rand -hex 32`;
 *  a final newline is allowed) or 16 to 64 raw bytes (`head -c 32
 *  /dev/urandom`). The file must be a regular file (symbolic links are
 *  followed), owned by the process's effective user or by root, and
 *  without any group or other permission bit (0600, 0400): DK_ERR_PERMISSION names
 *  the mode otherwise. DK_ERR_IO when it cannot be read, DK_ERR_PARSE when
 *  its length fits neither form. */
DK_API dk_err dk_dtls_server_load_master_secret(dk_dtls_server *server, const char *path);

/** Handshake total timeout for sessions taken from now on (default 30000
 *  ms): a handshake not finished by then ends in DK_DTLS_ERROR. */
DK_API dk_err dk_dtls_server_set_handshake_timeout(dk_dtls_server *server, int ms);

/** Handshake retransmission timer for sessions taken from now on: first
 *  timeout `initial_ms` (default 1000), doubled after each retransmission up
 *  to `max_ms` (default 2000: see README, "Handshakes under loss"). */
DK_API dk_err dk_dtls_server_set_retransmit(dk_dtls_server *server, int initial_ms, int max_ms);

/** Path MTU in bytes (IP + UDP headers included) for sessions taken from now
 *  on (default 1280: every IPv6 path carries it). Handshake messages are
 *  fragmented to fit; larger application packets are refused. Range 576 to
 *  65535. */
DK_API dk_err dk_dtls_server_set_mtu(dk_dtls_server *server, int mtu);

/** Idle timeout for connected sessions taken from now on: a session that
 *  receives no authenticated record for `ms` ends in DK_DTLS_DISCONNECTED
 *  with reason "idle timeout" (default 300000, five minutes: RFC 4787
 *  recommends that NATs keep an idle UDP mapping for 5 minutes, so a client
 *  silent for longer is usually unreachable anyway, while a session
 *  abandoned without close_notify no longer holds its memory forever; 0:
 *  off). Garbage or forged datagrams never refresh it. */
DK_API dk_err dk_dtls_server_set_idle_timeout(dk_dtls_server *server, int ms);

/** Caps on concurrent handshakes, checked when a ClientHello's cookie has
 *  verified and before the TLS library does any work or any memory is
 *  allocated for it: `total` over all sources (default 1024), `per_address`
 *  per source address (default 32; an IPv6 source counts by its prefix, see
 *  dk_dtls_server_set_ipv6_prefix()). A ClientHello over a cap gets no
 *  answer (the client retransmits it later) and is counted in the
 *  statistics. 0 removes a cap. */
DK_API dk_err dk_dtls_server_set_handshake_limits(dk_dtls_server *server, int total,
                                                  int per_address);

/** Caps on sessions, handshaking or connected (a handshake counts as the
 *  session it will become): `total` (default 16384) and `per_address`
 *  (default 1024: enough for the clients of one NAT; behind a UDP load
 *  balancer every client has the balancer's address, so raise it there).
 *  0 removes a cap. */
DK_API dk_err dk_dtls_server_set_session_limits(dk_dtls_server *server, int total, int per_address);

/** How many of the server's connected sessions keep their AEAD keys
 *  expanded (key schedules, GHASH tables: up to about 2 KB a session,
 *  depending on the backend): the most recently active ones (default 1024).
 *  The others keep only their raw keys (about 100 bytes) and expand them
 *  again on their next record, a microsecond or so. 0 to 1048576; 0 keeps
 *  only the session at work. Any time; takes effect at once. */
DK_API dk_err dk_dtls_server_set_key_cache(dk_dtls_server *server, int sessions);

/** Session tickets (RFC 5077; Godot has no resumption): on by default. A
 *  client that presents a ticket this server issued resumes its session in
 *  an abbreviated handshake (no key exchange, no signature, one round trip
 *  less); a ticket that does not decrypt, or has expired, leads to a full
 *  handshake, never a failure. The server keeps no state per ticket. These
 *  settings apply to sessions taken afterwards. Servers that accept
 *  pre-shared keys have tickets off unless this turns them on: a resumed
 *  session does not consult the PSK lookup again (an identity revoked there
 *  resumes until its ticket expires) and reports no PSK identity. Where
 *  dk_backend_caps() lacks DK_CAP_TICKETS tickets are off, and turning them
 *  on fails with DK_ERR_UNAVAILABLE. */
DK_API dk_err dk_dtls_server_set_tickets(dk_dtls_server *server, bool enabled);

/** The secret ticket keys are derived from (16 to 64 bytes; default: random
 *  per server). Servers given the same secret, in one process or on several
 *  hosts, resume each other's clients: keys are derived per rotation period
 *  from the wall clock, so they rotate in step without talking. */
DK_API dk_err dk_dtls_server_set_ticket_secret(dk_dtls_server *server, const void *secret,
                                               size_t len);

/** Ticket key rotation period (ms, at least 1000; default 2 hours). A
 *  ticket is accepted while the key that sealed it is the previous, the
 *  current or the next period's (the next: a host whose clock is ahead),
 *  and within its lifetime. */
DK_API dk_err dk_dtls_server_set_ticket_rotation(dk_dtls_server *server, int interval_ms);

/** Ticket lifetime in seconds (1 to 604800, RFC 5077's 7 days; default
 *  7200): older tickets get a full handshake. */
DK_API dk_err dk_dtls_server_set_ticket_lifetime(dk_dtls_server *server, int seconds);

/** Prefix length that makes an IPv6 source one "address" for the per-address
 *  caps (default 64: one host usually holds a whole /64). 1 to 128. */
DK_API dk_err dk_dtls_server_set_ipv6_prefix(dk_dtls_server *server, int bits);

/** Milliseconds until the server needs a call: the earliest timer of the
 *  sessions dk_dtls_server_poll() drives, batched datagrams or pending
 *  expiry on the attached UDP server; 0 when sessions wait to be handed over;
 *  -1 when nothing is due. The cookie secret rotates when a ClientHello
 *  needs it, so an idle server never wakes for it. */
DK_API int dk_dtls_server_get_timeout_ms(const dk_dtls_server *server);

/** Runs a server in admission mode at the cost of its active sessions only
 *  (Godot's loop polls every session, idle or not): reads the attached UDP
 *  server's socket; takes its pending connections (each passed the cookie
 *  check) as new sessions; processes the sessions that received datagrams
 *  and those whose timer is due; sends what they produced with sendmmsg; and
 *  stores in `ready` up to `max` sessions that need the caller: a new session
 *  (reported once, usually DK_DTLS_HANDSHAKING but already in an error status
 *  when its first step failed: the caller owns it from then on and frees
 *  it), packets to read, or a new status (connected, disconnected,
 *  error). A session is reported once per change: read all its packets.
 *  Sessions not yet reported stay queued for the next call; sessions taken
 *  with dk_dtls_server_take_connection() in admission mode are driven too.
 *  dk_udp_server_stop() ends every session (DK_DTLS_DISCONNECTED,
 *  DK_ERR_CLOSED); they are reported like any other change, also while the
 *  UDP server is not listening. Does not change dk_last_error() unless it
 *  fails. Returns the count, or a negative dk_err: DK_ERR_STATE (not
 *  attached, or not listening with nothing to report), DK_ERR_INVALID.
 *  dk_dtls_server_get_timeout_ms() says when to call again. */
DK_API int dk_dtls_server_poll(dk_dtls_server *server, dk_dtls_peer **ready, int max);

/** Copies the cookie counters. */
DK_API dk_err dk_dtls_server_get_stats(const dk_dtls_server *server, dk_dtls_server_stats *out);

/* --------------------------------------------------------------- peer */

/** A new, disconnected session object (client side; server sessions come
 *  from dk_dtls_server_take_connection()). */
DK_API dk_dtls_peer *dk_dtls_peer_new(dk_err *err);

/** Releases the session and the UDP peer it owns, without sending
 *  close_notify (call disconnect_from_peer() first for a clean close).
 *  NULL is ignored. */
DK_API void dk_dtls_peer_free(dk_dtls_peer *peer);

/** Starts a client handshake over `udp_peer` (connected with
 *  dk_udp_peer_connect_to_host()). `hostname` is sent as SNI and checked
 *  against the server certificate unless the options override it.
 *  `client_options`: NULL verifies against the system CA store. On success
 *  the session owns `udp_peer` and is DK_DTLS_HANDSHAKING. Errors:
 *  DK_ERR_INVALID (NULL peer, unconnected udp peer, server options, missing
 *  host name while verifying), DK_ERR_STATE (already started), DK_ERR_TLS.
 *  Godot: connect_to_peer(packet_peer, hostname, client_options). */
DK_API dk_err dk_dtls_peer_connect_to_peer(dk_dtls_peer *peer, dk_udp_peer *udp_peer,
                                           const char *hostname,
                                           const dk_tls_options *client_options);

/** Reads what arrived, advances the handshake, retransmits and applies
 *  timeouts. Every record of every datagram received is processed (not one
 *  per call). Returns DK_OK while the session is usable, or the error that
 *  ended it (see get_error()). Godot: poll(). */
DK_API dk_err dk_dtls_peer_poll(dk_dtls_peer *peer);

/** Godot: get_status(). */
DK_API dk_dtls_status dk_dtls_peer_get_status(const dk_dtls_peer *peer);

/** Encrypts and sends one packet. Errors: DK_ERR_INVALID, DK_ERR_STATE (not
 *  connected), DK_ERR_TOO_BIG (over get_max_packet_size()), DK_ERR_CLOSED
 *  (the UDP server is gone, or the record sequence is exhausted),
 *  DK_ERR_NOMEM, DK_ERR_TLS.
 *  Godot: put_packet(). */
DK_API dk_err dk_dtls_peer_put_packet(dk_dtls_peer *peer, const void *data, size_t len);

/** Copies the oldest received application packet into `buf`. Errors:
 *  DK_ERR_INVALID, DK_ERR_STATE (not connected and nothing queued),
 *  DK_ERR_WOULD_BLOCK,
 *  DK_ERR_BUFFER_TOO_SMALL (`*out_len` gets the size; the packet stays).
 *  Packets received before a close stay readable. Godot: get_packet(). */
DK_API dk_err dk_dtls_peer_get_packet(dk_dtls_peer *peer, void *buf, size_t cap, size_t *out_len);

/** Number of received application packets queued. Godot:
 *  get_available_packet_count(). */
DK_API int dk_dtls_peer_get_available_packet_count(const dk_dtls_peer *peer);

/** Sends close_notify (when connected) and ends in DK_DTLS_DISCONNECTED.
 *  Godot: disconnect_from_peer(). */
DK_API void dk_dtls_peer_disconnect_from_peer(dk_dtls_peer *peer);

/** Milliseconds until poll() is needed for a timer, 0 when now, -1 when no
 *  timer is armed. Readiness of the socket is separate (dk_dtls_peer_get_fd). */
DK_API int dk_dtls_peer_get_timeout_ms(const dk_dtls_peer *peer);

/** The socket descriptor to wait on (the server's, for a server session). */
DK_API int dk_dtls_peer_get_fd(const dk_dtls_peer *peer);

/** Why the session ended in an error or was disconnected: DK_OK while none,
 *  else DK_ERR_CERT_VERIFY, DK_ERR_HOSTNAME, DK_ERR_HANDSHAKE,
 *  DK_ERR_TIMEOUT (handshake or idle), DK_ERR_CLOSED (close_notify or a
 *  fatal alert received, UDP server stopped or freed, session replaced by a
 *  new handshake), DK_ERR_SOCKET (client: an ICMP error before any answer),
 *  DK_ERR_QUEUE_FULL (over a server cap), DK_ERR_TLS... */
DK_API dk_err dk_dtls_peer_get_error(const dk_dtls_peer *peer);

/** The reason in words ("certificate verify failed: certificate has
 *  expired", "no valid cookie: HelloVerifyRequest sent", "handshake timeout
 *  after 30000 ms"); "" while none. Owned by the peer. */
DK_API const char *dk_dtls_peer_get_error_reason(const dk_dtls_peer *peer);

/** Largest application packet put_packet() accepts under the current MTU and
 *  cipher (before the handshake: an estimate for the configured MTU). */
DK_API int dk_dtls_peer_get_max_packet_size(const dk_dtls_peer *peer);

/** Client sessions: handshake total timeout (default 30000 ms). Call before
 *  connect_to_peer(). */
DK_API dk_err dk_dtls_peer_set_handshake_timeout(dk_dtls_peer *peer, int ms);

/** Client sessions: retransmission timer (default 1000 ms doubling to
 *  2000 ms). Call before connect_to_peer(). */
DK_API dk_err dk_dtls_peer_set_retransmit(dk_dtls_peer *peer, int initial_ms, int max_ms);

/** Path MTU (default 1280; see dk_dtls_server_set_mtu()). Before
 *  connect_to_peer() for client sessions; any time for an established one. */
DK_API dk_err dk_dtls_peer_set_mtu(dk_dtls_peer *peer, int mtu);

/** Idle timeout for the connected session: it ends when no authenticated
 *  record arrives for `ms` (client default 0: off; a server session starts
 *  with its server's setting). */
DK_API dk_err dk_dtls_peer_set_idle_timeout(dk_dtls_peer *peer, int ms);

/** Attaches an application pointer to the session (dtlskit never reads
 *  it), e.g. the game object behind a session returned by
 *  dk_dtls_server_poll(). */
DK_API void dk_dtls_peer_set_user_data(dk_dtls_peer *peer, void *data);
/** The pointer set with dk_dtls_peer_set_user_data(); NULL when none or
 *  for a NULL peer. */
DK_API void *dk_dtls_peer_get_user_data(const dk_dtls_peer *peer);

/** The UDP peer the session runs over (borrowed; for its address). */
DK_API dk_udp_peer *dk_dtls_peer_get_udp_peer(const dk_dtls_peer *peer);

/** The certificate chain the other side presented, as a new dk_cert owned by
 *  the caller. DK_ERR_STATE before the handshake, DK_ERR_WOULD_BLOCK when
 *  the other side sent none. */
DK_API dk_cert *dk_dtls_peer_get_peer_certificate(const dk_dtls_peer *peer, dk_err *err);

/** Copies what the core's gate refused from the other side during this
 *  session (counters restart with each connect_to_peer()). */
DK_API dk_err dk_dtls_peer_get_stats(const dk_dtls_peer *peer, dk_dtls_peer_stats *out);

/** Negotiated cipher suite name (backend's naming), "" before connecting. */
DK_API const char *dk_dtls_peer_get_cipher(const dk_dtls_peer *peer);

/** Whether the last handshake resumed a session (an abbreviated handshake
 *  on a ticket) rather than a full one. */
DK_API bool dk_dtls_peer_is_session_reused(const dk_dtls_peer *peer);

/** Client, connected (or after): the session to resume the next connection
 *  to the same server with, as a new object (free it with
 *  dk_dtls_session_free()). Errors: DK_ERR_INVALID (NULL, a server
 *  session), DK_ERR_STATE (no handshake completed), DK_ERR_UNAVAILABLE (the
 *  server issued no ticket). */
DK_API dk_dtls_session *dk_dtls_peer_get_session(const dk_dtls_peer *peer, dk_err *err);

/** Client: offer `session` (copied; NULL: none) in the next
 *  dk_dtls_peer_connect_to_peer(), which consumes it. It is offered only
 *  when that call's host name is the one the session came from; otherwise
 *  the handshake is a full one. Errors: DK_ERR_INVALID (NULL peer, a
 *  session saved by another backend), DK_ERR_STATE (handshaking or
 *  connected). */
DK_API dk_err dk_dtls_peer_set_session(dk_dtls_peer *peer, const dk_dtls_session *session);

/** A session as bytes, for a file or a database (it holds the session's
 *  master secret: store it as you would a key). *out is freed with
 *  dk_free(). */
DK_API dk_err dk_dtls_session_save(const dk_dtls_session *session, uint8_t **out, size_t *len);

/** A session saved by dk_dtls_session_save(). Errors: DK_ERR_PARSE
 *  (malformed), DK_ERR_UNAVAILABLE (saved by another backend: a ticket is
 *  only readable by the library that issued it). */
DK_API dk_dtls_session *dk_dtls_session_load(const void *data, size_t len, dk_err *err);

/** The server name a session came from ("" when connected without one). */
DK_API const char *dk_dtls_session_get_server_name(const dk_dtls_session *session);

/** Wipes and frees a session. NULL is ignored. */
DK_API void dk_dtls_session_free(dk_dtls_session *session);

/** Negotiated cipher suite, IANA id (0xC0A8...; see dk_cipher_suite_name()),
 *  0 before the handshake completes. */
DK_API uint16_t dk_dtls_peer_get_cipher_suite(const dk_dtls_peer *peer);

/** The PSK identity of a session that negotiated a PSK suite: the one the
 *  client sent (server side) or its own (client side); "" otherwise, and
 *  before the handshake completes. Owned by the session. */
DK_API const char *dk_dtls_peer_get_psk_identity(const dk_dtls_peer *peer);

#ifdef __cplusplus
}
#endif

#endif
