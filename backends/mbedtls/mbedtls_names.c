/* mbedTLS backend: distinguished names, read and written.
 *
 * Reading: mbedtls_x509_dn_gets escapes RFC 1779 specials ("\,") and turns
 * every non-ASCII byte into '?', so names would read differently from the
 * OpenSSL backend; this formatter prints each attribute as "KEY=value" in
 * certificate order with the value converted to UTF-8, like OpenSSL's
 * ASN1_STRING_to_UTF8.
 *
 * Writing: mbedtls_x509_string_to_names keeps one attribute per key (a
 * second "OU=" replaces the first) and rejects any backslash, so the list
 * for mbedtls_x509write_crt is built here. */
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls_backend.h"

/* Short names OpenSSL uses where mbedTLS has another one or none. */
static const struct {
    const char *oid;
    size_t len;
    const char *sn;
} openssl_names[] = {
#define N(oid, sn)                                                                                 \
    {                                                                                              \
        oid, sizeof oid - 1, sn                                                                    \
    }
    N(MBEDTLS_OID_AT_UNIQUE_IDENTIFIER, "x500UniqueIdentifier"),
    N("\x55\x04\x09", "street"),
    N("\x55\x04\x0d", "description"),
    N("\x55\x04\x0f", "businessCategory"),
    N("\x55\x04\x61", "organizationIdentifier"),
    N("\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01", "UID"),
    N("\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x01", "jurisdictionL"),
    N("\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x02", "jurisdictionST"),
    N("\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x03", "jurisdictionC"),
#undef N
};

/* Appends like snprintf, counting what does not fit. */
typedef struct text {
    char *buf;
    size_t cap, used;
} text;

static void put(text *o, const char *s, size_t n)
{
    if (o->used < o->cap) {
        size_t room = o->cap - o->used - 1;
        memcpy(o->buf + o->used, s, n < room ? n : room);
        o->buf[o->used + (n < room ? n : room)] = '\0';
    }
    o->used += n;
}

static void put_cp(text *o, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    put(o, u, n);
}

static void put_key(text *o, const mbedtls_asn1_buf *oid)
{
    for (size_t i = 0; i < sizeof openssl_names / sizeof openssl_names[0]; i++)
        if (oid->len == openssl_names[i].len &&
            memcmp(oid->p, openssl_names[i].oid, oid->len) == 0) {
            put(o, openssl_names[i].sn, strlen(openssl_names[i].sn));
            return;
        }
    const char *sn = NULL;
    if (mbedtls_oid_get_attr_short_name(oid, &sn) == 0 && sn) {
        put(o, sn, strlen(sn));
        return;
    }
    char dotted[64];
    int n = mbedtls_oid_get_numeric_string(dotted, sizeof dotted, oid);
    put(o, n > 0 ? dotted : "?", n > 0 ? (size_t)n : 1);
}

/* The value as UTF-8: BMPString and UniversalString are UCS-2/UCS-4,
 * UTF8String is copied, the 8-bit types are read as Latin-1. */
static bool put_value(text *o, const mbedtls_asn1_buf *v)
{
    size_t width = v->tag == MBEDTLS_ASN1_BMP_STRING         ? 2
                   : v->tag == MBEDTLS_ASN1_UNIVERSAL_STRING ? 4
                                                             : 1;
    if (v->tag == MBEDTLS_ASN1_UTF8_STRING) {
        put(o, (const char *)v->p, v->len);
        return true;
    }
    if (v->len % width)
        return false;
    for (size_t i = 0; i < v->len; i += width) {
        uint32_t cp = 0;
        for (size_t k = 0; k < width; k++)
            cp = cp << 8 | v->p[i + k];
        if (cp > 0x10ffff)
            return false;
        put_cp(o, cp);
    }
    return true;
}

dk_err dk_mbed_name_format(const mbedtls_x509_name *name, char *buf, size_t cap)
{
    text o = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    for (const mbedtls_x509_name *n = name; n; n = n->next) {
        if (!n->oid.p)
            continue; /* an empty name */
        if (o.used)
            put(&o, ", ", 2);
        put_key(&o, &n->oid);
        put(&o, "=", 1);
        if (!put_value(&o, &n->val))
            return DK_ERR_TLS;
    }
    return o.used < cap ? DK_OK : DK_ERR_BUFFER_TOO_SMALL;
}

/* The keys the core accepts, with the string type OpenSSL gives each. */
static const struct {
    const char *key;
    const char *oid;
    size_t oid_len;
    int tag;
} name_keys[] = {
#define K(key, oid, tag)                                                                           \
    {                                                                                              \
        key, oid, sizeof oid - 1, tag                                                              \
    }
    K("CN", MBEDTLS_OID_AT_CN, MBEDTLS_ASN1_UTF8_STRING),
    K("O", MBEDTLS_OID_AT_ORGANIZATION, MBEDTLS_ASN1_UTF8_STRING),
    K("OU", MBEDTLS_OID_AT_ORG_UNIT, MBEDTLS_ASN1_UTF8_STRING),
    K("C", MBEDTLS_OID_AT_COUNTRY, MBEDTLS_ASN1_PRINTABLE_STRING),
    K("ST", MBEDTLS_OID_AT_STATE, MBEDTLS_ASN1_UTF8_STRING),
    K("L", MBEDTLS_OID_AT_LOCALITY, MBEDTLS_ASN1_UTF8_STRING),
    K("emailAddress", MBEDTLS_OID_PKCS9_EMAIL, MBEDTLS_ASN1_IA5_STRING),
#undef K
};

/* One attribute, allocated the way mbedtls_asn1_free_named_data_list
 * releases it. */
static int attribute(const char *key, size_t klen, const char *value, size_t vlen,
                     mbedtls_asn1_named_data **out)
{
    for (size_t i = 0; i < sizeof name_keys / sizeof name_keys[0]; i++) {
        if (strlen(name_keys[i].key) != klen || memcmp(name_keys[i].key, key, klen) != 0)
            continue;
        mbedtls_asn1_named_data *a = mbedtls_calloc(1, sizeof *a);
        if (!a)
            return MBEDTLS_ERR_X509_ALLOC_FAILED;
        a->oid.tag = MBEDTLS_ASN1_OID;
        a->oid.len = name_keys[i].oid_len;
        a->oid.p = mbedtls_calloc(1, a->oid.len);
        a->val.tag = name_keys[i].tag;
        a->val.len = vlen;
        a->val.p = mbedtls_calloc(1, vlen ? vlen : 1);
        if (!a->oid.p || !a->val.p) {
            mbedtls_free(a->oid.p);
            mbedtls_free(a->val.p);
            mbedtls_free(a);
            return MBEDTLS_ERR_X509_ALLOC_FAILED;
        }
        memcpy(a->oid.p, name_keys[i].oid, a->oid.len);
        memcpy(a->val.p, value, vlen);
        *out = a;
        return 0;
    }
    return MBEDTLS_ERR_X509_INVALID_NAME;
}

int dk_mbed_name_build(const char *subject, mbedtls_asn1_named_data **head)
{
    *head = NULL;
    for (const char *p = subject; *p;) {
        const char *comma = strchr(p, ',');
        if (!comma)
            comma = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(comma - p));
        mbedtls_asn1_named_data *a = NULL;
        int ret = eq ? attribute(p, (size_t)(eq - p), eq + 1, (size_t)(comma - eq - 1), &a)
                     : MBEDTLS_ERR_X509_INVALID_NAME;
        if (ret != 0) {
            mbedtls_asn1_free_named_data_list(head);
            return ret;
        }
        /* The writer emits the list back to front: prepend to keep the
         * order of the string. */
        a->next = *head;
        *head = a;
        p = *comma ? comma + 1 : comma;
    }
    return *head ? 0 : MBEDTLS_ERR_X509_INVALID_NAME;
}
