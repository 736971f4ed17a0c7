/* wolfSSL backend: a fatal alert wolfSSL 5.5.4 does not send during the
 * handshake (see dk_wolf_send_fatal_alert), and the record numbers it needs. */
#include "wolfssl_session.h"

#include <string.h>

void dk_wolf_records_sent(dk_bk_session *s, const uint8_t *d, size_t n)
{
    dk_bk_record r;
    for (size_t k; (k = dk_bk_record_next(d, n, &r)) != 0; d += k, n -= k) {
        if (!s->tx_seen || r.epoch > s->tx_epoch || (r.epoch == s->tx_epoch && r.seq > s->tx_seq)) {
            s->tx_epoch = r.epoch;
            s->tx_seq = r.seq;
            s->tx_seen = true;
        }
    }
}

void dk_wolf_send_fatal_alert(dk_bk_session *s, uint8_t description)
{
    if (!s->tx_seen || s->tx_epoch != 0)
        return;
    uint64_t seq = ++s->tx_seq;
    uint8_t rec[DK_BK_REC_HEADER_LEN + 2] = {DK_BK_CT_ALERT, 0xfe, 0xfd /* DTLS 1.2 */, 0,
                                             0 /* epoch */};
    for (int i = 0; i < 6; i++)
        rec[5 + i] = (uint8_t)(seq >> (40 - 8 * i));
    rec[12] = 2;                   /* length */
    rec[DK_BK_REC_HEADER_LEN] = 2; /* fatal */
    rec[DK_BK_REC_HEADER_LEN + 1] = description;
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
    dk_bk_record r;
    for (size_t k; (k = dk_bk_record_next(d, n, &r)) != 0 && r.whole; d += k, n -= k) {
        if (r.type == DK_BK_CT_CCS || (r.type == DK_BK_CT_HANDSHAKE && r.epoch != 0)) {
            s->verdict = DK_WOLF_RESUMED;
        } else if (r.type == DK_BK_CT_HANDSHAKE && r.len >= 12) {
            switch (r.fragment[0]) {
            case 2: /* server_hello */ hello = true; break;
            case 4: /* new_session_ticket */ s->verdict = DK_WOLF_RESUMED; break;
            case 11: /* certificate */
            case 12: /* server_key_exchange */
            case 13: /* certificate_request */
            case 14: /* server_hello_done */ s->verdict = DK_WOLF_FULL; break;
            default: break;
            }
        }
    }
    return hello;
}
