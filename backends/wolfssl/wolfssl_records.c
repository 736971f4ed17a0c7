/* wolfSSL backend: a fatal alert wolfSSL 5.5.4 does not send during the
 * handshake (see dk_wolf_send_fatal_alert), and the record numbers it needs;
 * the PSK identity of a ClientKeyExchange as received. */
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
    (void)s->io.send(s->io.user, rec, sizeof rec);
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

/* A ClientKeyExchange of a PSK suite (RFC 4279 section 2, and RFC 5489
 * section 2 for ECDHE_PSK) starts with the identity and its 2-byte length:
 * noted when its first fragment holds all of it. */
void dk_wolf_records_received(dk_bk_session *s, const uint8_t *d, size_t n)
{
    if (!s->server || !s->io.psk_key)
        return;
    while (n >= 13) {
        size_t len = (size_t)(d[11] << 8 | d[12]);
        if (len > n - 13)
            break;
        const uint8_t *h = d + 13; /* handshake header: 12 bytes in DTLS */
        bool cke = d[0] == 22 /* handshake */ && d[3] == 0 && d[4] == 0 /* epoch 0 */ &&
                   len >= 14 && h[0] == 16 /* client_key_exchange */ && h[6] == 0 && h[7] == 0 &&
                   h[8] == 0 /* fragment_offset */;
        if (cke) {
            size_t frag = (size_t)(h[9] << 16 | h[10] << 8 | h[11]);
            size_t id_len = (size_t)(h[12] << 8 | h[13]);
            if (frag <= len - 12 && id_len <= DK_WOLF_PSK_ID_MAX && 2 + id_len <= frag) {
                memcpy(s->psk_id, h + 14, id_len);
                s->psk_id_len = (uint8_t)id_len;
                s->psk_id_seen = true;
            }
        }
        d += 13 + len;
        n -= 13 + len;
    }
}
