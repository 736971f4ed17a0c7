/* Internal: strict DER reader and writer (see der.h). */
#include "der.h"

#include <string.h>

bool dk__der_next(dk__der *d, uint8_t *tag, dk__der *content, dk__der *whole)
{
    if (d->n < 2)
        return false;
    const uint8_t *p = d->p;
    size_t n = d->n, hdr = 2, len = p[1];
    if ((p[0] & 0x1f) == 0x1f)
        return false; /* high tag numbers: none in DER we read */
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0)
            return false; /* indefinite length: BER only */
        if (k > 4 || k > n - 2)
            return false;
        if (p[2] == 0)
            return false; /* not the shortest form */
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | p[2 + i];
        if (len < 0x80)
            return false; /* short form was required */
        hdr += k;
    }
    if (len > n - hdr)
        return false;
    *tag = p[0];
    content->p = p + hdr;
    content->n = len;
    if (whole) {
        whole->p = p;
        whole->n = hdr + len;
    }
    d->p = p + hdr + len;
    d->n = n - hdr - len;
    return true;
}

bool dk__der_expect(dk__der *d, uint8_t tag, dk__der *content)
{
    dk__der save = *d;
    uint8_t t;
    if (!dk__der_next(d, &t, content, NULL))
        return false;
    if (t != tag) {
        *d = save;
        return false;
    }
    return true;
}

bool dk__der_is_one(const uint8_t *der, size_t len)
{
    dk__der d = {der, len}, c;
    uint8_t t;
    return dk__der_next(&d, &t, &c, NULL) && d.n == 0;
}

/* Tag and length into hdr; its size, 0 when the length needs more than
 * four bytes. */
static size_t header(uint8_t hdr[6], uint8_t tag, size_t len)
{
    hdr[0] = tag;
    if (len < 0x80) {
        hdr[1] = (uint8_t)len;
        return 2;
    }
    size_t k = len <= 0xff ? 1 : len <= 0xffff ? 2 : len <= 0xffffff ? 3 : 4;
    if (len > 0xffffffffu)
        return 0;
    hdr[1] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        hdr[2 + i] = (uint8_t)(len >> (8 * (k - 1 - i)));
    return 2 + k;
}

void dk__der_raw(dk__der_out *o, const void *bytes, size_t len)
{
    if (!o->ok || o->cap - o->len < len) {
        o->ok = false;
        return;
    }
    if (len)
        memcpy(o->buf + o->len, bytes, len);
    o->len += len;
}

void dk__der_put(dk__der_out *o, uint8_t tag, const void *content, size_t len)
{
    uint8_t hdr[6];
    size_t h = header(hdr, tag, len);
    if (!h || !o->ok || o->cap - o->len < h || o->cap - o->len - h < len) {
        o->ok = false;
        return;
    }
    dk__der_raw(o, hdr, h);
    dk__der_raw(o, content, len);
}

void dk__der_wrap(dk__der_out *o, size_t mark, uint8_t tag)
{
    uint8_t hdr[6];
    if (!o->ok || mark > o->len) {
        o->ok = false;
        return;
    }
    size_t len = o->len - mark;
    size_t h = header(hdr, tag, len);
    if (!h || o->cap - o->len < h) {
        o->ok = false;
        return;
    }
    memmove(o->buf + mark + h, o->buf + mark, len);
    memcpy(o->buf + mark, hdr, h);
    o->len += h;
}
