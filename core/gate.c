/* The gate in front of the TLS library (see gate.h). */
#include "gate.h"

#include <dtlskit/backend.h>

/* Backends walk records with the contract's names for the same layout. */
_Static_assert(DK__REC_HDR == DK_BK_REC_HEADER_LEN && DK__CT_CCS == DK_BK_CT_CCS &&
                   DK__CT_ALERT == DK_BK_CT_ALERT && DK__CT_HANDSHAKE == DK_BK_CT_HANDSHAKE &&
                   DK__CT_APP_DATA == DK_BK_CT_APPDATA,
               "core/gate.h and include/dtlskit/backend.h disagree on the record layout");

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Handshake types a DTLS 1.2 peer sends in the clear: no hello_request
 * (that would be renegotiation), no Finished (always encrypted). */
static bool plain_hs_type(uint8_t t)
{
    switch (t) {
    case 1:  /* client_hello */
    case 2:  /* server_hello */
    case 3:  /* hello_verify_request */
    case 4:  /* new_session_ticket */
    case 11: /* certificate */
    case 12: /* server_key_exchange */
    case 13: /* certificate_request */
    case 14: /* server_hello_done */
    case 15: /* certificate_verify */
    case 16: /* client_key_exchange */ return true;
    default: return false;
    }
}

/* Checks the handshake fragments of one epoch-0 record and charges new
 * messages to the handshake's budget (on a copy: the caller commits it only
 * if the whole record passes). */
static bool handshake_ok(dk__gate *g, const uint8_t *p, size_t n)
{
    if (n < DK__HS_HDR)
        return false;
    while (n) {
        if (n < DK__HS_HDR)
            return false;
        uint32_t msg_len = be24(p + 1), seq = be16(p + 4), off = be24(p + 6), frag = be24(p + 9);
        if (!plain_hs_type(p[0]) || seq > DK__GATE_MAX_SEQ || msg_len > DK__GATE_MAX_MESSAGE ||
            off > msg_len || frag > msg_len - off || frag > n - DK__HS_HDR)
            return false;
        uint16_t bit = (uint16_t)(1u << seq);
        if (!(g->seqs_seen & bit)) {
            if (msg_len > DK__GATE_HS_BUDGET - g->claimed)
                return false;
            g->seqs_seen |= bit;
            g->claimed += msg_len;
        }
        p += DK__HS_HDR + frag;
        n -= DK__HS_HDR + frag;
    }
    return true;
}

/* One record: its header is complete and its body within the datagram. */
static bool record_ok(dk__gate *g, bool connected, const uint8_t *r, size_t body)
{
    uint8_t type = r[0];
    uint32_t version = be16(r + 1), epoch = be16(r + 3);
    /* DTLS 1.2; DTLS 1.0 only as the record version of a first flight. */
    if (version != 0xfefd && !(version == 0xfeff && epoch == 0))
        return false;
    if (body > DK__REC_MAX_CIPHERED)
        return false;
    const uint8_t *b = r + DK__REC_HDR;
    if (epoch == 0) {
        switch (type) {
        case DK__CT_HANDSHAKE: return handshake_ok(g, b, body);
        case DK__CT_CCS:
            if (body != 1 || b[0] != 1)
                return false;
            g->peer_ccs = true;
            return true;
        case DK__CT_ALERT:
            /* Unauthenticated: may end a handshake (as the RFC allows),
             * never a connected session. */
            return !connected && body == 2;
        default: return false; /* no data before keys exist */
        }
    }
    if (epoch != 1 || body == 0)
        return false; /* renegotiation is off: no later epochs */
    if (type != DK__CT_HANDSHAKE && type != DK__CT_ALERT && type != DK__CT_APP_DATA)
        return false;
    if (connected)
        return true;
    /* Before the peer's ChangeCipherSpec the library would have to buffer
     * an epoch-1 record (OpenSSL keeps a whole read buffer for each). */
    if (!g->peer_ccs || g->epoch1 >= DK__GATE_HS_EPOCH1)
        return false;
    g->epoch1++;
    return true;
}

size_t dk__gate_filter(dk__gate *g, bool connected, const uint8_t *d, size_t len)
{
    size_t off = 0;
    int records = 0;
    while (len - off >= DK__REC_HDR && records < DK__GATE_DGRAM_RECORDS) {
        const uint8_t *r = d + off;
        size_t body = be16(r + 11);
        if (body > len - off - DK__REC_HDR)
            break;
        if (!connected && g->records >= DK__GATE_HS_RECORDS)
            break;
        dk__gate trial = *g;
        if (!record_ok(&trial, connected, r, body))
            break;
        *g = trial;
        if (!connected)
            g->records++;
        records++;
        off += DK__REC_HDR + body;
    }
    if (off == 0)
        g->dropped++;
    else if (off < len)
        g->trimmed++;
    return off;
}
