/* mbedTLS backend: what stands between a session and the core. The send
 * callback hands each datagram to the core, the receive callback returns
 * the one datagram the core fed, and the timer callbacks run mbedTLS's
 * retransmission timer on the core's clock. No socket, no sleep. */
#include <limits.h>
#include <mbedtls/ssl.h>
#include <string.h>

#include "mbedtls_backend.h"
#include "mbedtls_session.h"

/* Remembers whether an alert left, so that a failed handshake sends one
 * only when mbedTLS did not. The record type is in clear in DTLS 1.2. */
static void note_alerts(dk_bk_session *s, const uint8_t *d, size_t n)
{
    dk_bk_record r;
    for (size_t k; (k = dk_bk_record_next(d, n, &r)) != 0; d += k, n -= k)
        s->alert_sent |= r.type == DK_BK_CT_ALERT;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    dk_bk_session *s = ctx;
    note_alerts(s, buf, len);
    s->io.send(s->io.user, buf, len);
    return len > INT_MAX ? INT_MAX : (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t cap)
{
    dk_bk_session *s = ctx;
    const uint8_t *d = s->in;
    size_t n = s->in_len;
    s->in = NULL;
    s->in_len = 0;
    if (!d)
        return MBEDTLS_ERR_SSL_WANT_READ;
    /* Like recv() on a UDP socket: a short buffer truncates the datagram. */
    if (n > cap)
        n = cap;
    memcpy(buf, d, n);
    return n > INT_MAX ? INT_MAX : (int)n;
}

/* mbedTLS asks for `fin_ms` = its current retransmission timeout: the
 * configuration's base doubled once per retransmission of the flight, and
 * without limit (see mbedtls_ctx.c). The session's own timeout is its
 * initial value doubled as many times, up to its maximum; the
 * intermediate delay keeps mbedTLS's ratio (a quarter). */
static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    dk_bk_session *s = ctx;
    (void)int_ms;
    if (fin_ms == 0) {
        s->timer_on = false;
        return;
    }
    unsigned ms = s->rto_initial_ms;
    for (uint64_t v = DK_MBED_RTO_BASE_MS; v < fin_ms && ms < s->rto_max_ms; v *= 2)
        ms = dk_bk_rto_next(ms, s->rto_initial_ms, s->rto_max_ms);
    uint64_t now = s->io.now_ms(s->io.user);
    s->int_at = now + ms / 4;
    s->fin_at = now + ms;
    s->timer_on = true;
}

static int timer_get(void *ctx)
{
    const dk_bk_session *s = ctx;
    if (!s->timer_on)
        return -1;
    uint64_t now = s->io.now_ms(s->io.user);
    /* mbedTLS looks at the timer before reading: a datagram waiting is
     * read first, so that an answer that came late does not also cost a
     * retransmission. */
    if (now >= s->fin_at && !s->in)
        return 2;
    return now >= s->int_at ? 1 : 0;
}

int dk_mbed_timer_left(const dk_bk_session *s)
{
    if (!s->timer_on)
        return -1;
    uint64_t now = s->io.now_ms(s->io.user);
    if (now >= s->fin_at)
        return 0;
    uint64_t left = s->fin_at - now;
    return left > INT_MAX ? INT_MAX : (int)left;
}

void dk_mbed_session_io(dk_bk_session *s)
{
    mbedtls_ssl_set_bio(&s->ssl, s, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_timer_cb(&s->ssl, s, timer_set, timer_get);
}
