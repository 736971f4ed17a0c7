/* Internal: the gate in front of the TLS library. Every datagram a session
 * receives passes through it before the library sees a byte, so that only
 * what a DTLS 1.2 handshake or a connected session can need reaches the
 * library: whole records of known types and versions, no far-future epochs
 * or message sequence numbers, handshake messages bounded in claimed length
 * and in total per handshake. Everything here runs on unauthenticated input;
 * it never allocates. */
#ifndef DK_CORE_GATE_H
#define DK_CORE_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DTLS record and handshake layout (RFC 6347 4.1, 4.2.2). */
#define DK__REC_HDR          13
#define DK__HS_HDR           12
#define DK__CT_CCS           20
#define DK__CT_ALERT         21
#define DK__CT_HANDSHAKE     22
#define DK__CT_APP_DATA      23
#define DK__REC_MAX_CIPHERED (16384 + 2048) /* RFC 5246 6.2.3 */

/* The whole record starting at d[*off] (header included): its length, with
 * *off moved past it; 0 at the end or when the rest is not a whole record. */
static inline size_t dk__rec_next(const uint8_t *d, size_t len, size_t *off)
{
    if (len - *off < DK__REC_HDR)
        return 0;
    size_t rl = DK__REC_HDR + ((size_t)d[*off + 11] << 8 | d[*off + 12]);
    if (rl > len - *off)
        return 0;
    *off += rl;
    return rl;
}

static inline bool dk__rec_epoch1(const uint8_t *r)
{
    return r[3] == 0 && r[4] == 1;
}

/* Limits on what a handshake may feed the library. A full DTLS 1.2
 * handshake uses message_seq 0..7 on either side; a peer's messages,
 * certificate chain included, add up to a few kilobytes. */
#define DK__GATE_MAX_SEQ       15    /* highest message_seq accepted */
#define DK__GATE_MAX_MESSAGE   16384 /* claimed length of one message */
#define DK__GATE_HS_BUDGET     16384 /* claimed lengths of a peer's messages */
#define DK__GATE_HS_RECORDS    400   /* records fed during one handshake */
#define DK__GATE_DGRAM_RECORDS 32    /* records fed from one datagram */
#define DK__GATE_HS_EPOCH1     1     /* epoch-1 records fed during a handshake */

/* Per-session gate state: a few bytes, kept for the session's life. */
typedef struct dk__gate {
    uint16_t seqs_seen; /* bit n: the peer's message_seq n was fed */
    uint16_t records;   /* records fed during the handshake */
    uint32_t claimed;   /* claimed lengths of those messages, summed */
    uint8_t epoch1;     /* epoch-1 records fed during the handshake */
    bool peer_ccs;      /* the peer's ChangeCipherSpec was fed */
    uint32_t dropped;   /* datagrams refused whole */
    uint32_t trimmed;   /* datagrams fed only in part */
} dk__gate;

/* Returns how many leading bytes of `d` may be fed to the library: whole
 * records up to the first one that fails a check; 0 to drop the datagram.
 * `connected`: the session completed its handshake (epoch 0 then only
 * carries handshake retransmissions, never alerts or data). */
size_t dk__gate_filter(dk__gate *g, bool connected, const uint8_t *d, size_t len);

#endif
