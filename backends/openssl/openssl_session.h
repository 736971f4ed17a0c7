/* OpenSSL backend: the session state the core allocates for it, for the
 * handshake only. */
#ifndef DK_OPENSSL_SESSION_H
#define DK_OPENSSL_SESSION_H

#include <openssl/ssl.h>
#include <stdint.h>
#include <sys/time.h>

#include <dtlskit/backend.h>

#define DK_OSSL_COOKIE_MAX 64
#define DK_OSSL_PACK_MAX   65536

struct dk_bk_session {
    SSL *ssl;
    dk_bk_io io;
    const uint8_t *in; /* the datagram fed and not yet read, or NULL */
    size_t in_len;
    uint8_t *pack;   /* records waiting to leave as one datagram */
    size_t pack_len; /* (the buffer is per thread: see openssl_bio.c) */
    unsigned mtu;
    /* The retransmission timer, on the core's clock (openssl_session.c,
     * timer_cb): the current timeout (0: stopped) and when it expires in
     * io.now_ms. OpenSSL's own timer, on its own clock, is set out of
     * reach and made expired when the core says so, through
     * `ossl_deadline`: OpenSSL 3.0's deadline, as its timer hands it to
     * the BIO (BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT). Without `core_clock`
     * (another OpenSSL version) OpenSSL's timer is used as it is. */
    unsigned rto_initial_ms, rto_max_ms;
    unsigned rto_ms;
    uint64_t rto_deadline;
    bool core_clock;
    struct timeval *ossl_deadline;
    bool server;
    bool listened; /* server: DTLSv1_listen accepted the ClientHello */
    uint8_t cookie_len;
    uint8_t cookie[DK_OSSL_COOKIE_MAX]; /* the cookie the core verified */
    char alert[48];                     /* last alert received, for reasons */
};

/* Sends the records collected so far as one datagram. Every session call
 * ends with it. */
void dk_ossl_flush(dk_bk_session *s);

/* OpenSSL's timer moved (BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT): `deadline` is
 * its new deadline, zero when it stopped. */
void dk_ossl_timer_moved(dk_bk_session *s, struct timeval *deadline);

#endif
