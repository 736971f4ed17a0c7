/* wolfSSL backend: records sent on wolfSSL's behalf, where wolfSSL 5.5.4
 * leaves a DTLS peer waiting (see wolfssl_session.h): the server's last
 * flight again, and a fatal alert wolfSSL does not send. */
#include "wolfssl_session.h"

#include <stdlib.h>
#include <string.h>

/* Notes the epoch and sequence number of each record in an outgoing
 * datagram (RFC 6347 4.1: type, version, epoch, 48-bit sequence, length). */
static void note_records(dk_bk_session *s, const uint8_t *d, size_t n)
{
    while (n >= 13) {
        uint16_t epoch = (uint16_t)(d[3] << 8 | d[4]);
        uint64_t seq = 0;
        for (int i = 5; i < 11; i++)
            seq = seq << 8 | d[i];
        size_t len = (size_t)(d[11] << 8 | d[12]);
        if (!s->tx_seen || epoch > s->tx_epoch || (epoch == s->tx_epoch && seq > s->tx_seq)) {
            s->tx_epoch = epoch;
            s->tx_seq = seq;
            s->tx_seen = true;
        }
        if (len > n - 13)
            break;
        d += 13 + len;
        n -= 13 + len;
    }
}

void dk_wolf_send_fatal_alert(dk_bk_session *s, uint8_t description)
{
    if (!s->tx_seen || s->tx_epoch != 0)
        return;
    uint64_t seq = ++s->tx_seq;
    uint8_t rec[15] = {21 /* alert */, 0xfe, 0xfd /* DTLS 1.2 */, 0, 0 /* epoch */};
    for (int i = 0; i < 6; i++)
        rec[5 + i] = (uint8_t)(seq >> (40 - 8 * i));
    rec[12] = 2; /* length */
    rec[13] = 2; /* fatal */
    rec[14] = description;
    (void)s->io.send(s->io.user, rec, sizeof rec);
}

/* Appends one datagram (length, then bytes) to the captured flight. */
static void capture(dk_bk_session *s, const uint8_t *d, size_t n)
{
    if (n > 0xffff)
        return;
    if (s->flight_cap - s->flight_len < n + 2) {
        /* Exactly what is needed: the last flight stays allocated for as
         * long as the session waits for the client's first record, which
         * for an idle client is forever. */
        size_t cap = s->flight_len + n + 2;
        uint8_t *p = realloc(s->flight, cap);
        if (!p)
            return; /* no resend then, as without the workaround */
        s->flight = p;
        s->flight_cap = cap;
    }
    s->flight[s->flight_len++] = (uint8_t)(n >> 8);
    s->flight[s->flight_len++] = (uint8_t)n;
    memcpy(s->flight + s->flight_len, d, n);
    s->flight_len += n;
}

void dk_wolf_final_flight_resend(dk_bk_session *s)
{
    for (size_t i = 0; i + 2 <= s->flight_len;) {
        size_t n = (size_t)(s->flight[i] << 8 | s->flight[i + 1]);
        (void)s->io.send(s->io.user, s->flight + i + 2, n);
        i += 2 + n;
    }
}

void dk_wolf_final_flight_trim(dk_bk_session *s)
{
    if (!s->flight || s->flight_cap == s->flight_len)
        return;
    if (!s->flight_len) {
        dk_wolf_final_flight_free(s);
        return;
    }
    uint8_t *p = realloc(s->flight, s->flight_len);
    if (p) {
        s->flight = p;
        s->flight_cap = s->flight_len;
    }
}

void dk_wolf_final_flight_free(dk_bk_session *s)
{
    free(s->flight);
    s->flight = NULL;
    s->flight_len = s->flight_cap = 0;
}

void dk_wolf_records_sent(dk_bk_session *s, const uint8_t *d, size_t n)
{
    note_records(s, d, n);
    if (s->capture)
        capture(s, d, n);
}
