/* OpenSSL backend: the session state the core allocates for it. */
#ifndef DK_OPENSSL_SESSION_H
#define DK_OPENSSL_SESSION_H

#include <openssl/ssl.h>

#include <dtlskit/backend.h>

#define DK_OSSL_COOKIE_MAX 64

struct dk_bk_session {
    SSL *ssl;
    dk_bk_io io;
    const uint8_t *in; /* the datagram fed and not yet read, or NULL */
    size_t in_len;
    unsigned mtu;
    unsigned rto_initial_ms, rto_max_ms;
    bool server;
    bool listened; /* server: DTLSv1_listen accepted the ClientHello */
    bool close_sent;
    bool verify_peer;
    uint8_t cookie_len;
    uint8_t cookie[DK_OSSL_COOKIE_MAX]; /* the cookie the core verified */
    char alert[48];                     /* last alert received, for reasons */
};

#endif
