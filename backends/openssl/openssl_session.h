/* OpenSSL backend: the session state the core allocates for it, for the
 * handshake only. */
#ifndef DK_OPENSSL_SESSION_H
#define DK_OPENSSL_SESSION_H

#include <openssl/ssl.h>

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
    unsigned rto_initial_ms, rto_max_ms;
    bool server;
    bool listened; /* server: DTLSv1_listen accepted the ClientHello */
    uint8_t cookie_len;
    uint8_t cookie[DK_OSSL_COOKIE_MAX]; /* the cookie the core verified */
    char alert[48];                     /* last alert received, for reasons */
};

/* Sends the records collected so far as one datagram. Every session call
 * ends with it. */
void dk_ossl_flush(dk_bk_session *s);

#endif
