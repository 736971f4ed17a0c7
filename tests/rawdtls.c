/* Hand-built DTLS records (see rawdtls.h). */
#include "rawdtls.h"

#include <string.h>

void tu_put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void tu_put24(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

void tu_put48(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 6; i++)
        p[i] = (uint8_t)(v >> (40 - 8 * i));
}

size_t tu_rec_hdr(uint8_t *b, uint8_t type, unsigned epoch, uint64_t seq, size_t len)
{
    b[0] = type;
    tu_put16(b + 1, 0xfefd);
    tu_put16(b + 3, epoch);
    tu_put48(b + 5, seq);
    tu_put16(b + 11, (unsigned)len);
    return 13;
}

size_t tu_client_hello(uint8_t *b, const uint8_t random[32], const uint8_t *cookie,
                       size_t cookie_len, unsigned msg_seq, uint64_t rec_seq)
{
    static const uint8_t suites[] = {0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c,
                                     0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8};
    static const uint8_t ext[] = {
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17,             /* groups */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                                     /* point formats */
        0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, /* sigalgs */
        0x00, 0x17, 0x00, 0x00,       /* extended master secret */
        0xff, 0x01, 0x00, 0x01, 0x00, /* renegotiation_info */
    };
    uint8_t body[512];
    size_t n = 0;
    tu_put16(body, 0xfefd);
    n += 2;
    memcpy(body + n, random, 32);
    n += 32;
    body[n++] = 0; /* session id */
    body[n++] = (uint8_t)cookie_len;
    if (cookie_len) /* memcpy from NULL is undefined even for 0 bytes */
        memcpy(body + n, cookie, cookie_len);
    n += cookie_len;
    tu_put16(body + n, sizeof suites);
    n += 2;
    memcpy(body + n, suites, sizeof suites);
    n += sizeof suites;
    body[n++] = 1;
    body[n++] = 0; /* null compression */
    tu_put16(body + n, sizeof ext);
    n += 2;
    memcpy(body + n, ext, sizeof ext);
    n += sizeof ext;
    size_t h = tu_rec_hdr(b, 22, 0, rec_seq, 12 + n);
    b[h] = 1; /* client_hello */
    tu_put24(b + h + 1, (unsigned)n);
    tu_put16(b + h + 4, msg_seq);
    tu_put24(b + h + 6, 0);
    tu_put24(b + h + 9, (unsigned)n);
    memcpy(b + h + 12, body, n);
    return h + 12 + n;
}
