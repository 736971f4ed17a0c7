/* wolfSSL backend: the I/O callbacks between a session and the core. A send
 * is one datagram handed to the core; a receive returns the one datagram
 * the core fed, then "want read". */
#include "wolfssl_session.h"

#include <string.h>

/* A record header (13 bytes) then a handshake header whose first byte is
 * the message type. */
static bool is_hello_verify_request(const uint8_t *d, size_t n)
{
    return n > 13 && d[0] == 22 /* handshake */ && d[13] == 3 /* hello_verify_request */;
}

int dk_wolf_io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    dk_bk_session *s = ctx;
    if (!s->in || s->in_len == 0 || sz <= 0) {
        s->in = NULL;
        return WOLFSSL_CBIO_ERR_WANT_READ;
    }
    /* Like recv() on a UDP socket: a short buffer truncates the datagram.
     * (session_handshake makes wolfSSL offer 16 KB during the handshake
     * too, not its compiled-in 1400-byte MTU.) */
    size_t n = s->in_len < (size_t)sz ? s->in_len : (size_t)sz;
    memcpy(buf, s->in, n);
    dk_wolf_records_received(s, s->in, n);
    s->in = NULL;
    s->in_len = 0;
    return (int)n;
}

int dk_wolf_io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    dk_bk_session *s = ctx;
    if (sz <= 0)
        return 0;
    /* HelloVerifyRequests come from the core. wolfSSL sends one of its own
     * only when it did not recognise the core's cookie; the handshake then
     * fails (see session_handshake) rather than confuse the client. */
    if (s->server && !s->cookie_ok && is_hello_verify_request((const uint8_t *)buf, (size_t)sz))
        return sz;
    s->sent++;
    dk_wolf_records_sent(s, (const uint8_t *)buf, (size_t)sz);
    /* A send that fails is a datagram lost on the way: retransmission
     * covers it, so report success. */
    (void)s->io.send(s->io.user, (const uint8_t *)buf, (size_t)sz);
    return sz;
}
