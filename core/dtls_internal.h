/* Internal: DTLS server and session objects. */
#ifndef DK_CORE_DTLS_INTERNAL_H
#define DK_CORE_DTLS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include <dtlskit/dtls.h>

#include "admission.h"
#include "cookie.h"
#include "gate.h"
#include "pktbuf.h"
#include "record.h"
#include "server_sessions.h"
#include "tls_ctx.h"

#define DK__DEFAULT_HS_TIMEOUT_MS  30000
#define DK__DEFAULT_RTO_INITIAL_MS 1000
/* The doubling stops at 2 s, not RFC 6347's 60 s: at 30% loss each way,
 * 60 s leaves room for too few retransmissions (83 of 100 handshakes
 * completed on OpenSSL within 30 s, 95 within 120 s), 2 s completes 99-100
 * of 100 on every backend (bench/lossy_handshakes, README). A dead peer
 * costs about 15 small datagrams over the 30 s handshake timeout. */
#define DK__DEFAULT_RTO_MAX_MS 2000
#define DK__DEFAULT_MTU        1280
/* Server sessions: RFC 4787 recommends 5 minutes for a NAT's idle UDP
 * mapping; a client silent for longer is usually unreachable anyway. */
#define DK__DEFAULT_SERVER_IDLE_MS 300000

/* Settings copied into each session when it starts. */
typedef struct dk__session_cfg {
    int hs_timeout_ms;
    int rto_initial_ms;
    int rto_max_ms;
    int mtu;
    int idle_timeout_ms;
} dk__session_cfg;

struct dk_dtls_peer {
    dk_dtls_status status;
    /* The library's session, during the handshake only (NULL after the
     * hand-off to the core's record layer). */
    dk_bk_session *bs;
    /* After the hand-off: keys, sequence numbers, replay window. */
    dk__record rec;
    /* The final flight this side sent, kept until the peer proves it has it
     * (RFC 6347 4.2.4): datagrams as [2-byte length][bytes]... */
    uint8_t *flight;
    uint32_t flight_len, flight_cap;
    bool capture;       /* io_send appends to `flight` (the completing step) */
    bool flight_kept;   /* `flight` is the final flight, resent on demand */
    bool flight_final;  /* a captured datagram held our epoch-1 Finished */
    bool sent_epoch1;   /* the library sent an epoch-1 record */
    uint64_t sent_seq1; /* highest epoch-1 sequence number it sent */
    dk_cert *peer_cert; /* the peer's chain, where the application may ask */
    uint64_t rec_rejected, rec_replayed, flight_resent;
    dk_err error;
    dk__session_cfg cfg;
    dk_udp_peer *udp;
    dk__ctx *ctx;
    dk__pktq app; /* decrypted packets, buffers from the UDP peer's pool */
    uint64_t hs_deadline;
    uint64_t last_rx; /* last authenticated record (idle timer) */
    dk__gate gate;
    /* The server ledger counting this session against its caps. */
    dk__ledger *ledger;
    uint8_t ledger_state;  /* dk__ledger_state */
    uint8_t ledger_prefix; /* IPv6 prefix it was counted with */
    /* Server sessions: the start of the ClientHello's random, to tell a
     * duplicate of it from a client that restarted on the same port. */
    uint8_t hello_random[8];
    const char *cipher; /* static string from the backend */
    uint16_t suite;     /* IANA id, once connected */
    /* PSK: the identity the client sent (server) or ours (client), kept
     * from the lookup (server) or the hand-off (client) until the object is
     * reused; psk_state says what became of it. */
    char *psk_identity;
    uint8_t psk_state; /* dk__psk_state */
    /* Client: the server name it connects to (connect_to_peer's host name,
     * "" for none), the session to offer (set_session), the session this
     * connection can be resumed with (after the hand-off), and whether the
     * handshake was an abbreviated one. */
    char *server_name;
    dk_dtls_session *offer;
    dk_dtls_session *session;
    bool reused;
    char *reason; /* allocated when there is one */
    int max_payload;
    void *user_data;
    /* Tracking by the DTLS server that took the session in admission mode
     * (server_sessions.c owns these links). */
    dk__sessions_link trk;
};

typedef enum dk__psk_state {
    DK__PSK_NONE = 0,
    DK__PSK_UNKNOWN = 1,      /* server: the lookup knew no key for the identity */
    DK__PSK_BAD_IDENTITY = 2, /* server: refused before the lookup */
    DK__PSK_KEY_TOO_LONG = 3, /* server: the lookup returned more than allowed */
    DK__PSK_FOUND = 4,        /* server: a key was found (handshake not done) */
    DK__PSK_USED = 5,         /* a PSK suite was negotiated */
} dk__psk_state;

struct dk_dtls_server {
    dk_tls_options *opts; /* private clone, so the context can be rebuilt */
    dk__ctx *ctx;         /* NULL until setup, or after a setting changed */
    dk__cookie_jar jar;
    dk__session_cfg cfg;
    dk__caps caps;
    unsigned key_cache; /* sessions keeping expanded AEAD keys */
    dk__ticket_cfg tickets;
    dk__ledger *ledger;
    dk_udp_server *attached;
    dk_dtls_server_stats stats;
    dk__sessions sessions; /* sessions taken in admission mode */
};

/* Hand-off checks, for tests: the peer's Finished opened with the derived
 * keys (or was not in the completing datagram), and with
 * dk__handoff_selftest set, a record sealed by the core as the peer would
 * that the library read back (or did not). */
typedef struct dk__handoff_counters {
    atomic_ullong finished_checked, finished_unseen, selftest_ok, selftest_failed;
} dk__handoff_counters;
extern bool dk__handoff_selftest;
/* Test hook: flips a bit of every exported master secret, which the check
 * of the peer's Finished must catch. */
extern bool dk__handoff_corrupt;
extern dk__handoff_counters dk__handoff_stats;

/* A new session object able to hold a backend session. */
dk_dtls_peer *dk__dtls_peer_alloc(const char *func, dk_err *err);

/* Starts a backend session on `p` (which owns `udp` from now on) and moves
 * it to HANDSHAKING. Errors are recorded against `func`. */
dk_err dk__dtls_peer_start(dk_dtls_peer *p, const char *func, dk_udp_peer *udp, dk__ctx *ctx,
                           const dk__session_cfg *cfg, const dk_bk_session_params *params);

/* Counts a session that starts handshaking against `ledger`; false without
 * memory. */
bool dk__dtls_peer_count(dk_dtls_peer *p, dk__ledger *ledger, int prefix);

/* Ends the session with `status` (ERROR...) and a reason. */
void dk__dtls_peer_fail(dk_dtls_peer *p, dk_dtls_status status, dk_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Recomputes a tracked session's timer and queues it for the caller's
 * attention when it has packets or a new status. No-op when untracked. */
void dk__dtls_peer_touch(dk_dtls_peer *p);

/* A connected session tracked by `s` received a datagram starting with a
 * ClientHello of another random (RFC 6347 4.2.8: the client restarted on
 * the same address and port). Answers it statelessly; with a valid cookie
 * the old session ends and the datagram starts a new one. Returns true
 * when the datagram was consumed. */
bool dk__dtls_server_rehello(dk_dtls_server *s, dk_dtls_peer *p, const uint8_t *data, size_t len);

/* A server session whose UDP server stopped has lost its socket: ends it
 * (DISCONNECTED, DK_ERR_CLOSED) and returns true; false otherwise. */
bool dk__dtls_peer_transport_lost(dk_dtls_peer *p);

/* The absolute deadline of the session's next timer, or 0. */
uint64_t dk__dtls_peer_deadline(const dk_dtls_peer *p, uint64_t now);

/* Checks session settings; records errors against `func`. */
dk_err dk__session_cfg_check_mtu(const char *func, int mtu);
dk_err dk__session_cfg_check_retransmit(const char *func, int initial_ms, int max_ms);
dk_err dk__session_cfg_check_timeout(const char *func, int ms, bool zero_ok);
void dk__session_cfg_default(dk__session_cfg *cfg);

/* A client session to resume (core/session.c): which backend's library
 * serialised it, for which server name, and the library's bytes. */
struct dk_dtls_session {
    char backend[16];
    char *server_name;
    uint8_t *data;
    size_t len;
};

/* A session of `len` bytes of `data` (copied) for `server_name`; NULL
 * without memory. */
dk_dtls_session *dk__session_new(const char *server_name, const uint8_t *data, size_t len);
dk_dtls_session *dk__session_dup(const dk_dtls_session *s);

/* Duplicates options, sharing their keys and certificates. */
dk_tls_options *dk__tls_options_clone(const dk_tls_options *opts);

#endif
