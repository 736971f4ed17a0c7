/* wolfSSL backend: records sent on wolfSSL's behalf, where wolfSSL 5.5.4
 * leaves a DTLS peer waiting (see wolfssl_session.h): the server's last
 * flight again, and a fatal alert wolfSSL does not send. */
#include "wolfssl_session.h"

#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

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

/* Empty application records. wolfSSL 5.5.4 writes nothing for 0 bytes
 * (wolfSSL_write returns 0 and sends no record), so a keepalive cannot
 * come from it. The session writes one byte instead and io_send swaps that
 * record for an empty one encrypted here with the same epoch, sequence
 * number and nonce: wolfSSL's counters move on as for any record, and the
 * one-byte ciphertext never leaves, so no nonce is used twice on the wire.
 * The keys come from wolfSSL's ATOMIC_USER getters; only the suites the
 * contexts allow are handled: AES-GCM (RFC 5288) and ChaCha20-Poly1305
 * (RFC 7905). */
#define HEADER   13
#define TAG      16
#define EXPLICIT 8

size_t dk_wolf_empty_record(dk_bk_session *s, const uint8_t *rec, size_t n,
                            uint8_t out[DK_WOLF_EMPTY_MAX])
{
    if (n < HEADER || rec[0] != 23 /* application_data */)
        return 0;
    int bulk = wolfSSL_GetBulkCipher(s->ssl);
    int key_len = wolfSSL_GetKeySize(s->ssl), iv_len = wolfSSL_GetIVSize(s->ssl);
    const unsigned char *key =
        s->server ? wolfSSL_GetServerWriteKey(s->ssl) : wolfSSL_GetClientWriteKey(s->ssl);
    const unsigned char *iv =
        s->server ? wolfSSL_GetServerWriteIV(s->ssl) : wolfSSL_GetClientWriteIV(s->ssl);
    bool gcm = bulk == wolfssl_aes_gcm && iv_len == 4 && n >= HEADER + EXPLICIT;
    bool chacha = bulk == wolfssl_chacha && iv_len == 12 && key_len == 32;
    if (!key || !iv || key_len <= 0 || (!gcm && !chacha))
        return 0;
    /* Additional data: epoch and sequence number, type, version,
     * plaintext length 0 (RFC 5246 6.2.3.3, RFC 6347 4.1.2.1). */
    uint8_t aad[13];
    memcpy(aad, rec + 3, 8);
    memcpy(aad + 8, rec, 3);
    aad[11] = aad[12] = 0;
    uint8_t nonce[12], none[1] = {0}, none_out[1];
    memcpy(out, rec, HEADER);
    size_t body = 0;
    int rc;
    if (gcm) {
        /* fixed IV + the explicit nonce wolfSSL chose for this record */
        memcpy(nonce, iv, 4);
        memcpy(nonce + 4, rec + HEADER, EXPLICIT);
        memcpy(out + HEADER, rec + HEADER, EXPLICIT);
        body = EXPLICIT;
        Aes aes;
        rc = wc_AesInit(&aes, NULL, INVALID_DEVID);
        if (rc == 0) {
            rc = wc_AesGcmSetKey(&aes, key, (word32)key_len);
            if (rc == 0)
                rc = wc_AesGcmEncrypt(&aes, none_out, none, 0, nonce, sizeof nonce,
                                      out + HEADER + body, TAG, aad, sizeof aad);
            wc_AesFree(&aes);
        }
    } else {
        /* IV xor the 64-bit epoch and sequence number */
        memcpy(nonce, iv, 12);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= rec[3 + i];
        rc = wc_ChaCha20Poly1305_Encrypt(key, nonce, aad, sizeof aad, none, 0, none_out,
                                         out + HEADER + body);
    }
    if (rc != 0)
        return 0;
    size_t len = HEADER + body + TAG;
    out[11] = (uint8_t)((len - HEADER) >> 8);
    out[12] = (uint8_t)(len - HEADER);
    return len;
}
