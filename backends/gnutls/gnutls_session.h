/* GnuTLS backend: the context and the session state the core allocates,
 * for the handshake only (the core's record layer takes over after it). */
#ifndef DK_GNUTLS_SESSION_H
#define DK_GNUTLS_SESSION_H

#include "gnutls_backend.h"

#include <gnutls/dtls.h>

/* Longest pre-shared key kept (RFC 4279 practice; the core asks at most
 * psk_key_max). */
#define DK_GNU_PSK_MAX 64
/* Most suites a context enables (the core offers at most 32). */
#define DK_GNU_SUITES_MAX 32

struct dk_bk_ctx {
    dk_bk_role role;
    gnutls_priority_t prio;
    gnutls_certificate_credentials_t cert; /* NULL: no certificate side */
    gnutls_psk_server_credentials_t psk_server;
    gnutls_psk_client_credentials_t psk_client;
    char *psk_identity; /* client */
    uint8_t psk_key[DK_GNU_PSK_MAX];
    size_t psk_key_len;
    bool verify_peer;
    bool require_peer_cert;
    bool tickets;
    /* The suites asked for: GnuTLS builds its list as key exchanges times
     * ciphers, which may add a combination (checked after the hello). */
    uint16_t suites[DK_GNU_SUITES_MAX];
    size_t suites_len;
};

struct dk_bk_session {
    gnutls_session_t g;
    dk_bk_ctx *ctx;
    dk_bk_io io;
    bool server;
    bool done;
    /* Input: the datagram fed and not yet read, or NULL. */
    const uint8_t *in;
    size_t in_len;
    unsigned fed_records; /* records in it */
    /* Highest handshake message_seq of the peer given to GnuTLS (-1: none):
     * epoch-0 fragments beyond the next one are kept from it (gnutls_io.c). */
    int rx_max;
    uint8_t rx_type;    /* the type of message rx_max */
    int ch_seq;         /* server: message_seq of the client's ClientHello */
    bool cr_sent;       /* server: a CertificateRequest left */
    bool prestate_done; /* server: the ClientHello's numbers are set */
    /* Retransmission (gnutls_io.c): `forced` while handle_timeout() runs,
     * `pushed` when a flight left since GnuTLS last polled for input. */
    bool forced;
    bool pushed;
    unsigned sent; /* datagrams sent during the current call */
    /* Retransmission timer on io.now_ms; rto_ms 0 means stopped. */
    unsigned rto_initial_ms, rto_max_ms, rto_ms;
    uint64_t rto_deadline;
    /* Client: what the server's certificate must match. */
    char *host;
    uint8_t ip[16];
    gnutls_typed_vdata_st vdata[2];
    unsigned vdata_len;
    /* Verification result of the verify function (gnutls_verify.c). */
    bool verify_ran;
    bool no_peer_cert;
    unsigned verify_status;
    int verify_err;
    /* Seen in what was fed: an epoch-0 close_notify. */
    bool peer_closed;
    bool psk_refused;       /* server: the core knew no key for the identity */
    uint16_t suite_refused; /* a suite chosen outside the asked list */
};

/* Transport callbacks (gnutls_io.c). */
void dk_gnu_io_install(dk_bk_session *s);
/* Server: numbers of the first datagram (the core's verified ClientHello)
 * given to gnutls_dtls_prestate_set. False when it is no ClientHello. */
bool dk_gnu_io_prestate(dk_bk_session *s, const uint8_t *d, size_t n);

/* Cipher suites (gnutls_ctx.c): the IANA id of GnuTLS's algorithms. */
uint16_t dk_gnu_suite_id(gnutls_kx_algorithm_t kx, gnutls_cipher_algorithm_t cipher,
                         gnutls_mac_algorithm_t mac);
bool dk_gnu_suite_allowed(const dk_bk_ctx *ctx, uint16_t id);

/* Verification (gnutls_verify.c). */
int dk_gnu_verify_cb(gnutls_session_t g);
/* The failure to report after a handshake error, when it was the
 * verification's: DK_ERR_CERT_VERIFY or DK_ERR_HOSTNAME with the reason;
 * DK_OK when the verification did not fail. */
dk_err dk_gnu_verify_failure(dk_bk_session *s, int err, char *reason, size_t cap);

/* Calls sink for each certificate the peer sent (leaf first) until it
 * fails (gnutls_verify.c). */
dk_err dk_gnu_peer_ders(dk_bk_session *s, dk_bk_der_sink sink, void *user);

#endif
