/* wolfSSL backend: the I/O callbacks between a session and the core. A send
 * is one datagram handed to the core; a receive returns the one datagram
 * the core fed, then "want read". */
#include "wolfssl_session.h"

#include <stdlib.h>
#include <string.h>

/* A record whose handshake message (its first byte: the type) is one. */
static bool is_hello_verify_request(const uint8_t *d, size_t n)
{
    dk_bk_record r;
    return dk_bk_record_next(d, n, &r) && r.type == DK_BK_CT_HANDSHAKE && r.len > 0 &&
           r.fragment[0] == 3 /* hello_verify_request */;
}

/* Hands wolfSSL one datagram, like recv() on a UDP socket: a short buffer
 * truncates it. (session_handshake makes wolfSSL offer 16 KB during the
 * handshake too, not its compiled-in 1400-byte MTU.) */
static int give(dk_bk_session *s, char *buf, int sz, const uint8_t *d, size_t len)
{
    size_t n = len < (size_t)sz ? len : (size_t)sz;
    memcpy(buf, d, n);
    return (int)n;
}

static int give_held(dk_bk_session *s, char *buf, int sz)
{
    int n = give(s, buf, sz, s->held, s->held_len);
    free(s->held);
    s->held = NULL;
    s->held_len = 0;
    return n;
}

/* A client that offered a ticket: wolfSSL 5.5.4 takes any ServerHello for
 * a resumption while it holds a ticket, and then fails on the Certificate
 * of a server that did not resume. So a datagram with the ServerHello
 * waits here until the server's messages tell (dk_wolf_records_verdict);
 * for a full handshake the ticket is dropped before wolfSSL reads the
 * ServerHello, and wolfSSL, comparing session IDs, runs a full handshake.
 * Returns true when the datagram fed is held. */
static bool hold_hello(dk_bk_session *s, WOLFSSL *ssl)
{
    bool hello = dk_wolf_records_verdict(s, s->in, s->in_len);
    if (s->verdict == DK_WOLF_FULL)
        (void)wolfSSL_set_SessionTicket(ssl, NULL, 0);
    if (s->verdict != DK_WOLF_UNKNOWN || !hello)
        return false;
    uint8_t *copy = malloc(s->in_len);
    if (!copy) /* wolfSSL reads it now, and resumes */
        return false;
    memcpy(copy, s->in, s->in_len);
    free(s->held); /* an earlier copy of the same flight */
    s->held = copy;
    s->held_len = s->in_len;
    s->in = NULL;
    s->in_len = 0;
    return true;
}

int dk_wolf_io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    dk_bk_session *s = ctx;
    if (sz <= 0)
        return WOLFSSL_CBIO_ERR_WANT_READ;
    if (s->held && s->verdict != DK_WOLF_UNKNOWN)
        return give_held(s, buf, sz);
    if (!s->in || s->in_len == 0) {
        s->in = NULL;
        return WOLFSSL_CBIO_ERR_WANT_READ;
    }
    if (s->ticket_offered && s->verdict == DK_WOLF_UNKNOWN) {
        if (hold_hello(s, ssl))
            return WOLFSSL_CBIO_ERR_WANT_READ;
        /* The held ServerHello first; the datagram fed comes next. */
        if (s->held && s->verdict != DK_WOLF_UNKNOWN)
            return give_held(s, buf, sz);
    }
    int n = give(s, buf, sz, s->in, s->in_len);
    s->in = NULL;
    s->in_len = 0;
    return n;
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
    s->io.send(s->io.user, (const uint8_t *)buf, (size_t)sz);
    return sz;
}
