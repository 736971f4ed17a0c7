/* mbedTLS backend: the session state the core allocates for it. */
#ifndef DK_MBEDTLS_SESSION_H
#define DK_MBEDTLS_SESSION_H

#include <mbedtls/ssl.h>

#include <dtlskit/backend.h>

struct dk_bk_session {
    mbedtls_ssl_context ssl; /* lives here: the core's memory does not move */
    dk_bk_io io;
    const uint8_t *in; /* the datagram fed and not yet read, or NULL */
    size_t in_len;
    /* The retransmission timer mbedTLS drives through set/get callbacks,
     * in the core's clock. */
    bool timer_on;
    uint64_t int_at, fin_at;
    unsigned rto_initial_ms, rto_max_ms;
    bool done;       /* the handshake completed */
    bool alert_sent; /* an alert record went out */
    /* Master secret and randoms from mbedTLS's key export callback
     * (mbedtls_session.c), kept for export_secrets. */
    bool have_secrets;
    dk_bk_secrets secrets;
    /* Server with optional client certificates: one that is sent must
     * still verify (OpenSSL's SSL_VERIFY_PEER), which mbedTLS's OPTIONAL
     * mode does not enforce. */
    bool strict_optional;
    /* Client: the name the certificate must match (NULL: none), checked by
     * the verify callback when mbedTLS cannot (own_name_check). */
    char *verify_name;
    bool own_name_check;
    uint32_t vflags; /* verification flags collected by the callback */
    char *mismatch;  /* client: the names the certificate is for, on a mismatch */
    /* Whether the keys came from a resumed session (handshake->resume
     * when mbedTLS derived them: the handshake state is freed later). */
    bool reused;
    /* Server resuming from a ticket (mbedtls_session.c): the ticket's issue
     * time (carried into a renewed ticket), its suite, and whether its key
     * is an older one, so that a new ticket is issued. */
    bool ticket_resumed;
    bool ticket_renew;
    int ticket_suite;
    uint64_t ticket_issued;
    /* Client offering a session: a hash of its ticket, to tell a new ticket
     * from the stale one a full handshake leaves in place. */
    bool offered;
    uint8_t offered_hash[32];
    /* Client offering a session: the session id its first ClientHello
     * carried, repeated in the one answering a HelloVerifyRequest. */
    bool hello_id_set;
    uint8_t hello_id[32];
};

/* Datagram and timer callbacks (mbedtls_io.c). */
void dk_mbed_session_io(dk_bk_session *s);
/* Milliseconds until the timer's final delay, 0 when expired, -1 off. */
int dk_mbed_timer_left(const dk_bk_session *s);

/* Certificate verification callback (mbedtls_verify.c), and the error a
 * failed handshake maps to, with its reason. */
int dk_mbed_verify_cb(void *session, mbedtls_x509_crt *crt, int depth, uint32_t *flags);
/* True once the handshake has chosen a PSK suite. */
bool dk_mbed_psk_negotiated(const dk_bk_session *s);
dk_err dk_mbed_handshake_error(dk_bk_session *s, int ret, char *reason, size_t cap);

#endif
