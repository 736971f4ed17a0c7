/* PEM encoding and decoding for certificate bundles. */
#include "pem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *find(const char *hay, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; p + n <= end; p++)
        if (*p == needle[0] && memcmp(p, needle, n) == 0)
            return p;
    return NULL;
}

bool dk__pem_detect(const void *data, size_t len)
{
    return data && find(data, (const char *)data + len, "-----BEGIN ") != NULL;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict base64 body decoder: whitespace is skipped, '=' only at the end. */
static dk_err b64_decode(const char *s, const char *end, uint8_t **out, size_t *out_len)
{
    uint8_t *buf = malloc((size_t)(end - s) / 4 * 3 + 3);
    if (!buf)
        return DK_ERR_NOMEM;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0, pads = 0, quads = 0;
    for (const char *p = s; p < end; p++) {
        char c = *p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pads++;
            quads++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pads) {
            free(buf);
            return DK_ERR_PARSE;
        }
        quads++;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (uint8_t)(acc >> bits);
        }
    }
    if (quads % 4 != 0 || pads > 2 || n == 0) {
        free(buf);
        return DK_ERR_PARSE;
    }
    *out = buf;
    *out_len = n;
    return DK_OK;
}

int dk__pem_each(const void *data, size_t len, const char *label,
                 dk_err (*fn)(void *user, const uint8_t *der, size_t der_len), void *user)
{
    const char *p = data, *end = p + len;
    int count = 0;
    for (;;) {
        const char *begin = find(p, end, "-----BEGIN ");
        if (!begin)
            return count;
        const char *lab = begin + 11;
        const char *lab_end = find(lab, end, "-----");
        if (!lab_end)
            return DK_ERR_PARSE;
        size_t lab_len = (size_t)(lab_end - lab);
        const char *body = lab_end + 5;
        const char *stop = find(body, end, "-----END ");
        if (!stop)
            return DK_ERR_PARSE;
        const char *stop_end = find(stop + 9, end, "-----");
        if (!stop_end || (size_t)(stop_end - (stop + 9)) != lab_len ||
            memcmp(stop + 9, lab, lab_len) != 0)
            return DK_ERR_PARSE;
        p = stop_end + 5;
        if (lab_len != strlen(label) || memcmp(lab, label, lab_len) != 0)
            continue;
        uint8_t *der;
        size_t der_len;
        dk_err e = b64_decode(body, stop, &der, &der_len);
        if (e != DK_OK)
            return e;
        e = fn(user, der, der_len);
        free(der);
        if (e != DK_OK)
            return e;
        count++;
    }
}

dk_err dk__pem_append(char **buf, size_t *len, const char *label, const uint8_t *der,
                      size_t der_len)
{
    size_t b64_len = (der_len + 2) / 3 * 4;
    size_t need = *len + 2 * (strlen(label) + 20) + b64_len + b64_len / 64 + 2;
    char *nb = realloc(*buf, need + 1);
    if (!nb)
        return DK_ERR_NOMEM;
    *buf = nb;
    char *o = nb + *len;
    o += sprintf(o, "-----BEGIN %s-----\n", label);
    int col = 0;
    for (size_t i = 0; i < der_len; i += 3) {
        uint32_t v = (uint32_t)der[i] << 16;
        size_t rem = der_len - i;
        if (rem > 1)
            v |= (uint32_t)der[i + 1] << 8;
        if (rem > 2)
            v |= der[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        *o++ = rem > 1 ? b64[(v >> 6) & 63] : '=';
        *o++ = rem > 2 ? b64[v & 63] : '=';
        col += 4;
        if (col == 64) {
            *o++ = '\n';
            col = 0;
        }
    }
    if (col)
        *o++ = '\n';
    o += sprintf(o, "-----END %s-----\n", label);
    *len = (size_t)(o - nb);
    return DK_OK;
}
