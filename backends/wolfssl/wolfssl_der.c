/* wolfSSL backend: minimal DER reader and writer (see wolfssl_der.h). */
#include "wolfssl_der.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum {
    TAG_INTEGER = 0x02,
    TAG_BIT_STRING = 0x03,
    TAG_OCTET_STRING = 0x04,
    TAG_OID = 0x06,
    TAG_UTCTIME = 0x17,
    TAG_GENTIME = 0x18,
    TAG_SEQ = 0x30,
    TAG_CTX0 = 0xa0, /* [0] constructed: version */
    TAG_CTX3 = 0xa3, /* [3] constructed: extensions */
    TAG_SAN_IP = 0x87,
};

bool dk_der_next(dk_der *d, uint8_t *tag, dk_der *content)
{
    if (d->n < 2)
        return false;
    const uint8_t *p = d->p;
    size_t n = d->n, i = 2, len = p[1];
    if ((p[0] & 0x1f) == 0x1f)
        return false; /* multi-byte tags: none in what we read */
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0 || k > 4 || n < 2 + k)
            return false;
        len = 0;
        for (size_t j = 0; j < k; j++)
            len = len << 8 | p[2 + j];
        i += k;
    }
    if (len > n - i)
        return false;
    *tag = p[0];
    content->p = p + i;
    content->n = len;
    d->p = p + i + len;
    d->n = n - i - len;
    return true;
}

bool dk_der_is_one(const uint8_t *der, size_t len, uint8_t tag)
{
    dk_der d = {der, len}, c;
    uint8_t t;
    return dk_der_next(&d, &t, &c) && t == tag && d.n == 0;
}

bool dk_der_is_encrypted_pkcs8(const uint8_t *der, size_t len)
{
    /* pkcs-5 (1.2.840.113549.1.5) and pkcs-12 PBE (1.2.840.113549.1.12.1) */
    static const uint8_t pkcs5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05};
    static const uint8_t pkcs12[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01};
    dk_der d = {der, len}, info, alg, oid, data;
    uint8_t tag;
    if (!dk_der_next(&d, &tag, &info) || tag != TAG_SEQ || d.n != 0)
        return false;
    if (!dk_der_next(&info, &tag, &alg) || tag != TAG_SEQ)
        return false;
    if (!dk_der_next(&info, &tag, &data) || tag != TAG_OCTET_STRING || info.n != 0)
        return false;
    if (!dk_der_next(&alg, &tag, &oid) || tag != TAG_OID)
        return false;
    return (oid.n > sizeof pkcs5 && memcmp(oid.p, pkcs5, sizeof pkcs5) == 0) ||
           (oid.n > sizeof pkcs12 && memcmp(oid.p, pkcs12, sizeof pkcs12) == 0);
}

/* The subjectAltName extension value (GeneralNames) of a certificate. */
static bool find_san(const uint8_t *der, size_t len, dk_der *names)
{
    static const uint8_t san_oid[] = {0x55, 0x1d, 0x11}; /* 2.5.29.17 */
    dk_der d = {der, len}, cert, tbs, el;
    uint8_t tag;
    if (!dk_der_next(&d, &tag, &cert) || tag != TAG_SEQ || !dk_der_next(&cert, &tag, &tbs) ||
        tag != TAG_SEQ)
        return false;
    /* version, serial, signature, issuer, validity, subject, key, then
     * optional unique ids and [3] extensions. */
    while (dk_der_next(&tbs, &tag, &el)) {
        if (tag != TAG_CTX3)
            continue;
        dk_der exts, ext;
        if (!dk_der_next(&el, &tag, &exts) || tag != TAG_SEQ)
            return false;
        while (dk_der_next(&exts, &tag, &ext)) {
            dk_der oid, v;
            if (tag != TAG_SEQ || !dk_der_next(&ext, &tag, &oid) || tag != TAG_OID)
                return false;
            if (oid.n != sizeof san_oid || memcmp(oid.p, san_oid, sizeof san_oid) != 0)
                continue;
            do { /* skip the optional critical flag */
                if (!dk_der_next(&ext, &tag, &v))
                    return false;
            } while (tag != TAG_OCTET_STRING);
            return dk_der_next(&v, &tag, names) && tag == TAG_SEQ;
        }
        return false;
    }
    return false;
}

bool dk_der_cert_san(const uint8_t *der, size_t len, dk_der *names)
{
    return find_san(der, len, names);
}

bool dk_der_cert_has_ip(const uint8_t *der, size_t len, const uint8_t *ip, size_t ip_len)
{
    dk_der names, name;
    uint8_t tag;
    if (!find_san(der, len, &names))
        return false;
    while (dk_der_next(&names, &tag, &name))
        if (tag == TAG_SAN_IP && name.n == ip_len && memcmp(name.p, ip, ip_len) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------- writer */

/* Writes a tag and length into hdr; returns its size, 0 when too long. */
static size_t header(uint8_t hdr[4], uint8_t tag, size_t len)
{
    hdr[0] = tag;
    if (len < 0x80) {
        hdr[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xff) {
        hdr[1] = 0x81;
        hdr[2] = (uint8_t)len;
        return 3;
    }
    if (len <= 0xffff) {
        hdr[1] = 0x82;
        hdr[2] = (uint8_t)(len >> 8);
        hdr[3] = (uint8_t)len;
        return 4;
    }
    return 0;
}

void dk_der_put(dk_der_out *o, uint8_t tag, const void *content, size_t len)
{
    uint8_t hdr[4];
    size_t h = header(hdr, tag, len);
    if (!o->ok || !h || o->cap - o->len < h + len) {
        o->ok = false;
        return;
    }
    memcpy(o->buf + o->len, hdr, h);
    if (len)
        memcpy(o->buf + o->len + h, content, len);
    o->len += h + len;
}

bool dk_der_time(dk_der_out *o, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return false;
    char s[24];
    int year = tm.tm_year + 1900;
    bool utc = year >= 1950 && year < 2050;
    int n = snprintf(s, sizeof s, "%0*d%02d%02d%02d%02d%02dZ", utc ? 2 : 4, utc ? year % 100 : year,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n <= 0 || (size_t)n >= sizeof s)
        return false;
    dk_der_put(o, utc ? TAG_UTCTIME : TAG_GENTIME, s, (size_t)n);
    return o->ok;
}
