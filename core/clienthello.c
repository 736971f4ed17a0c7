/* DTLS ClientHello parsing (RFC 6347 4.1, 4.2.2, 4.2.1; RFC 5246 7.4.1.2). */
#include "clienthello.h"

#include <string.h>

#define REC_HDR                 13
#define HS_HDR                  12
#define CT_HANDSHAKE            22
#define HT_CLIENT_HELLO         1
#define HT_HELLO_VERIFY_REQUEST 3

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Cursor over a bounded range: every take checks what is left. */
typedef struct cursor {
    const uint8_t *p;
    size_t left;
} cursor;

static bool take(cursor *c, size_t n, const uint8_t **out)
{
    if (c->left < n)
        return false;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return true;
}

static bool take_vec(cursor *c, size_t len_bytes, size_t min, size_t max, dk__span *out)
{
    const uint8_t *l;
    if (!take(c, len_bytes, &l))
        return false;
    size_t n = len_bytes == 1 ? l[0] : be16(l);
    if (n < min || n > max)
        return false;
    out->len = n;
    return take(c, n, &out->p);
}

dk__ch_result dk__client_hello_parse(const uint8_t *data, size_t len, dk__client_hello *out)
{
    memset(out, 0, sizeof *out);
    if (!data || len < REC_HDR)
        return DK__CH_NOT_HANDSHAKE;
    if (data[0] != CT_HANDSHAKE)
        return DK__CH_NOT_HANDSHAKE;
    out->record_version = (uint16_t)be16(data + 1);
    if (out->record_version != 0xfeff && out->record_version != 0xfefd)
        return DK__CH_MALFORMED;
    if (be16(data + 3) != 0) /* epoch 0: nothing is encrypted yet */
        return DK__CH_NOT_HANDSHAKE;
    memcpy(out->record_seq, data + 5, 6);
    size_t rec_len = be16(data + 11);
    if (rec_len > len - REC_HDR)
        return DK__CH_MALFORMED;
    const uint8_t *hs = data + REC_HDR;
    if (rec_len < HS_HDR)
        return DK__CH_MALFORMED;
    if (hs[0] != HT_CLIENT_HELLO)
        return DK__CH_NOT_HELLO;
    size_t msg_len = be24(hs + 1);
    out->message_seq = (uint16_t)be16(hs + 4);
    size_t frag_off = be24(hs + 6), frag_len = be24(hs + 9);
    if (frag_len > rec_len - HS_HDR)
        return DK__CH_MALFORMED;
    if (frag_off != 0 || frag_len != msg_len)
        return DK__CH_FRAGMENTED;
    /* A record holds exactly the fragment (no trailing handshake bytes). */
    if (frag_len != rec_len - HS_HDR)
        return DK__CH_MALFORMED;

    cursor c = {hs + HS_HDR, frag_len};
    const uint8_t *v;
    if (!take(&c, 2, &out->client_version) || !take(&c, 32, &out->random))
        return DK__CH_MALFORMED;
    v = out->client_version;
    if (v[0] != 0xfe) /* DTLS versions are 0xfeXX */
        return DK__CH_MALFORMED;
    if (!take_vec(&c, 1, 0, 32, &out->session_id) || !take_vec(&c, 1, 0, 255, &out->cookie) ||
        !take_vec(&c, 2, 2, 0xfffe, &out->cipher_suites) ||
        !take_vec(&c, 1, 1, 255, &out->compression_methods))
        return DK__CH_MALFORMED;
    if (out->cipher_suites.len % 2)
        return DK__CH_MALFORMED;
    if (c.left == 0)
        return DK__CH_OK; /* no extensions */
    if (!take_vec(&c, 2, 0, 0xffff, &out->extensions) || c.left != 0)
        return DK__CH_MALFORMED;
    /* Each extension's header and body must fit exactly. */
    cursor e = {out->extensions.p, out->extensions.len};
    while (e.left) {
        const uint8_t *type;
        dk__span body;
        if (!take(&e, 2, &type) || !take_vec(&e, 2, 0, 0xffff, &body))
            return DK__CH_MALFORMED;
    }
    return DK__CH_OK;
}

size_t dk__hvr_write(const dk__client_hello *ch, const uint8_t *cookie, size_t cookie_len,
                     uint8_t *out, size_t cap)
{
    size_t body = 3 + cookie_len, total = DK__HVR_LEN(cookie_len);
    if (cookie_len > 255 || cap < total)
        return 0;
    uint8_t *p = out;
    *p++ = CT_HANDSHAKE;
    *p++ = 0xfe;
    *p++ = 0xff;
    *p++ = 0; /* epoch */
    *p++ = 0;
    memcpy(p, ch->record_seq, 6);
    p += 6;
    *p++ = (uint8_t)((HS_HDR + body) >> 8);
    *p++ = (uint8_t)(HS_HDR + body);
    *p++ = HT_HELLO_VERIFY_REQUEST;
    *p++ = 0; /* length, 24 bits */
    *p++ = (uint8_t)(body >> 8);
    *p++ = (uint8_t)body;
    *p++ = 0; /* message_seq 0 for a HelloVerifyRequest */
    *p++ = 0;
    *p++ = 0; /* fragment_offset */
    *p++ = 0;
    *p++ = 0;
    *p++ = 0; /* fragment_length == length */
    *p++ = (uint8_t)(body >> 8);
    *p++ = (uint8_t)body;
    *p++ = 0xfe; /* server_version: DTLS 1.0, as RFC 6347 recommends */
    *p++ = 0xff;
    *p++ = (uint8_t)cookie_len;
    memcpy(p, cookie, cookie_len);
    p += cookie_len;
    return (size_t)(p - out);
}
