/* wolfSSL backend: a fatal alert wolfSSL 5.5.4 does not send during the
 * handshake (see dk_wolf_send_fatal_alert), and the record numbers it needs. */
#include "wolfssl_session.h"

#include <string.h>

/* RFC 6347 4.1: type, version, epoch, 48-bit sequence, length. */
void dk_wolf_records_sent(dk_bk_session *s, const uint8_t *d, size_t n)
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
    s->io.send(s->io.user, rec, sizeof rec);
}

/* RFC 5077 3.4: a client that offered a ticket with an empty session ID
 * (as wolfSSL 5.5.4 does) learns whether the server resumes from the
 * message after the ServerHello: ChangeCipherSpec or NewSessionTicket for
 * an abbreviated handshake, Certificate, ServerKeyExchange,
 * CertificateRequest or ServerHelloDone for a full one. */
bool dk_wolf_records_verdict(dk_bk_session *s, const uint8_t *d, size_t n)
{
    bool hello = false;
    while (n >= 13) {
        size_t len = (size_t)(d[11] << 8 | d[12]);
        if (len > n - 13)
            break;
        bool epoch0 = d[3] == 0 && d[4] == 0;
        if (d[0] == 20 /* change_cipher_spec */ || (d[0] == 22 && !epoch0)) {
            s->verdict = DK_WOLF_RESUMED;
        } else if (d[0] == 22 && len >= 12) {
            switch (d[13]) {
            case 2: /* server_hello */ hello = true; break;
            case 4: /* new_session_ticket */ s->verdict = DK_WOLF_RESUMED; break;
            case 11: /* certificate */
            case 12: /* server_key_exchange */
            case 13: /* certificate_request */
            case 14: /* server_hello_done */ s->verdict = DK_WOLF_FULL; break;
            default: break;
            }
        }
        d += 13 + len;
        n -= 13 + len;
    }
    return hello;
}
