/* Internal: names and dates of X.509 certificates, read and written by the
 * core from the DER (see x509_name.h). The text format is RFC 4514's
 * escaping in certificate order with ", " between RDNs, as dk_cert's
 * documentation promises. */
#include "x509_name.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------ attribute keys */

enum { OID_MAX = 32 };

/* Keys the parser accepts: mbedTLS 2.28's x509_attrs table (with its
 * default string types) and the other short names OpenSSL prints. The
 * first key listed for an OID is the one printed. */
static const struct key {
    const char *name;
    uint8_t oid_len;
    uint8_t oid[10];
    uint8_t tag; /* the string type the parser writes */
} keys[] = {
#define AT(n)                                                                                      \
    3,                                                                                             \
    {                                                                                              \
        0x55, 0x04, n                                                                              \
    }
    {"CN", AT(0x03), DK__DER_UTF8},
    {"commonName", AT(0x03), DK__DER_UTF8},
    {"SN", AT(0x04), DK__DER_UTF8},
    {"surName", AT(0x04), DK__DER_UTF8},
    {"surname", AT(0x04), DK__DER_UTF8},
    {"serialNumber", AT(0x05), DK__DER_PRINTABLE},
    {"C", AT(0x06), DK__DER_PRINTABLE},
    {"countryName", AT(0x06), DK__DER_PRINTABLE},
    {"L", AT(0x07), DK__DER_UTF8},
    {"locality", AT(0x07), DK__DER_UTF8},
    {"localityName", AT(0x07), DK__DER_UTF8},
    {"ST", AT(0x08), DK__DER_UTF8},
    {"stateOrProvinceName", AT(0x08), DK__DER_UTF8},
    {"street", AT(0x09), DK__DER_UTF8},
    {"streetAddress", AT(0x09), DK__DER_UTF8},
    {"O", AT(0x0a), DK__DER_UTF8},
    {"organizationName", AT(0x0a), DK__DER_UTF8},
    {"OU", AT(0x0b), DK__DER_UTF8},
    {"organizationalUnitName", AT(0x0b), DK__DER_UTF8},
    {"title", AT(0x0c), DK__DER_UTF8},
    {"description", AT(0x0d), DK__DER_UTF8},
    {"businessCategory", AT(0x0f), DK__DER_UTF8},
    {"postalAddress", AT(0x10), DK__DER_PRINTABLE},
    {"postalCode", AT(0x11), DK__DER_PRINTABLE},
    {"GN", AT(0x2a), DK__DER_UTF8},
    {"givenName", AT(0x2a), DK__DER_UTF8},
    {"initials", AT(0x2b), DK__DER_UTF8},
    {"generationQualifier", AT(0x2c), DK__DER_UTF8},
    {"dnQualifier", AT(0x2e), DK__DER_PRINTABLE},
    {"pseudonym", AT(0x41), DK__DER_UTF8},
    {"organizationIdentifier", AT(0x61), DK__DER_UTF8},
#undef AT
    {"emailAddress", 9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, DK__DER_IA5},
    /* mbedTLS 2.28 maps "R" to emailAddress: kept for the names Godot
     * users wrote for it. */
    {"R", 9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, DK__DER_IA5},
    {"DC", 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}, DK__DER_IA5},
    {"domainComponent",
     10,
     {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19},
     DK__DER_IA5},
    {"UID", 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}, DK__DER_UTF8},
    {"userId", 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}, DK__DER_UTF8},
};
enum { NKEYS = sizeof keys / sizeof keys[0] };

static const struct key *key_by_oid(const uint8_t *oid, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].oid_len == len && memcmp(keys[i].oid, oid, len) == 0)
            return &keys[i];
    return NULL;
}

static const struct key *key_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
            return &keys[i];
    return NULL;
}

/* ------------------------------------------------------------- reading */

bool dk__x509_read(const uint8_t *der, size_t len, dk__x509_fields *out)
{
    dk__der d = {der, len}, cert, tbs, el, validity;
    uint8_t tag;
    if (!dk__der_expect(&d, DK__DER_SEQ, &cert) || d.n != 0 ||
        !dk__der_expect(&cert, DK__DER_SEQ, &tbs))
        return false;
    /* version [0] EXPLICIT (optional), serialNumber, signature */
    if (!dk__der_next(&tbs, &tag, &el, NULL))
        return false;
    if (tag == 0xa0 && !dk__der_next(&tbs, &tag, &el, NULL))
        return false;
    if (tag != DK__DER_INTEGER || !dk__der_expect(&tbs, DK__DER_SEQ, &el))
        return false;
    if (!dk__der_next(&tbs, &tag, &el, &out->issuer) || tag != DK__DER_SEQ)
        return false;
    if (!dk__der_expect(&tbs, DK__DER_SEQ, &validity) ||
        !dk__der_next(&validity, &out->not_before_tag, &out->not_before, NULL) ||
        !dk__der_next(&validity, &out->not_after_tag, &out->not_after, NULL) || validity.n != 0)
        return false;
    return dk__der_next(&tbs, &tag, &el, &out->subject) && tag == DK__DER_SEQ;
}

/* Text written like snprintf: what does not fit is counted, not written. */
typedef struct text_out {
    char *buf;
    size_t cap, used;
} text_out;

static void put(text_out *o, const char *s, size_t n)
{
    if (o->used < o->cap) {
        size_t room = o->cap - o->used - 1;
        size_t k = n < room ? n : room;
        memcpy(o->buf + o->used, s, k);
        o->buf[o->used + k] = '\0';
    }
    o->used += n;
}

static void putf(text_out *o, const char *fmt, ...)
{
    char tmp[32];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Dotted form of an OID's contents; false when malformed (empty, a
 * subidentifier with a leading 0x80 or cut off, or from 2^56 on, which the
 * parser refuses too). */
static bool put_dotted(text_out *o, const uint8_t *p, size_t n)
{
    if (n == 0 || (p[n - 1] & 0x80))
        return false;
    bool first = true;
    for (size_t i = 0; i < n;) {
        if (p[i] == 0x80)
            return false; /* not the shortest form */
        uint64_t v = 0;
        do {
            if (v >> 49)
                return false; /* subidentifiers stay below 2^56 */
            v = v << 7 | (p[i] & 0x7f);
        } while (p[i++] & 0x80);
        if (first) {
            unsigned arc = v < 40 ? 0 : v < 80 ? 1 : 2;
            putf(o, "%u.%llu", arc, (unsigned long long)(v - 40 * arc));
            first = false;
        } else {
            putf(o, ".%llu", (unsigned long long)v);
        }
    }
    return true;
}

static size_t utf8_encode(uint32_t cp, char u[4])
{
    if (cp < 0x80) {
        u[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    u[0] = (char)(0xf0 | cp >> 18);
    u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    u[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (shortest form, no surrogates,
 * at most U+10FFFF), 0 when invalid. */
static size_t utf8_valid(const uint8_t *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t k = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (k == 0 || p[0] > 0xf4 || n < k)
        return 0;
    uint32_t cp = p[0] & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp < 0xe000))
        return 0;
    return k;
}

/* The value as UTF-8 in `u` (`cap` bytes). False when it is not a string
 * we print as text, or is longer than `cap`. */
static bool value_utf8(uint8_t tag, const dk__der *v, char *u, size_t cap, size_t *len)
{
    size_t width = tag == DK__DER_BMP ? 2 : tag == DK__DER_UNIVERSAL ? 4 : 1;
    size_t out = 0;
    if (v->n % width)
        return false;
    for (size_t i = 0; i < v->n;) {
        char enc[4];
        size_t k;
        if (tag == DK__DER_UTF8) {
            k = utf8_valid(v->p + i, v->n - i);
            if (k == 0)
                return false;
            memcpy(enc, v->p + i, k);
            i += k;
        } else {
            uint32_t cp = 0;
            for (size_t j = 0; j < width; j++)
                cp = cp << 8 | v->p[i + j];
            i += width;
            if (tag != DK__DER_T61 && width == 1 && cp >= 0x80)
                return false; /* the ASCII types */
            if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
                return false;
            k = utf8_encode(cp, enc);
        }
        if (enc[0] == 0 || cap - out < k)
            return false; /* NUL or too long: #hex */
        memcpy(u + out, enc, k);
        out += k;
    }
    *len = out;
    return true;
}

static bool is_text_tag(uint8_t tag)
{
    switch (tag) {
    case DK__DER_UTF8:
    case DK__DER_NUMERIC:
    case DK__DER_PRINTABLE:
    case DK__DER_T61:
    case DK__DER_IA5:
    case DK__DER_VISIBLE:
    case DK__DER_UNIVERSAL:
    case DK__DER_BMP: return true;
    default: return false;
    }
}

/* RFC 4514 2.4 escaping of one value. */
static void put_escaped(text_out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            putf(o, "\\%02X", c);
        else if (strchr("\"+,;<>\\", c) || (i == 0 && (c == ' ' || c == '#')) ||
                 (i == n - 1 && c == ' ')) {
            put(o, "\\", 1);
            put(o, (const char *)&c, 1);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
}

static bool printable_char(uint8_t c);

/* True when the parser takes `u` as a literal value of a key whose string
 * type is `tag` (else the value prints as #hex, which it takes). */
static bool parses_back(uint8_t tag, const char *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)u[i];
        if ((tag == DK__DER_PRINTABLE && !printable_char(c)) || (tag == DK__DER_IA5 && c >= 0x80))
            return false;
    }
    return true;
}

static bool put_attribute(text_out *o, dk__der *rdn)
{
    dk__der atv, oid, value, whole;
    uint8_t tag;
    if (!dk__der_expect(rdn, DK__DER_SEQ, &atv) || !dk__der_expect(&atv, DK__DER_OID, &oid) ||
        !dk__der_next(&atv, &tag, &value, &whole) || atv.n != 0)
        return false;
    const struct key *k = key_by_oid(oid.p, oid.n);
    if (k)
        put(o, k->name, strlen(k->name));
    else if (!put_dotted(o, oid.p, oid.n))
        return false;
    put(o, "=", 1);
    char u[DK__NAME_VALUE_MAX]; /* longer values would not parse back: #hex */
    size_t ulen;
    if (k && is_text_tag(tag) && value.n > 0 && value_utf8(tag, &value, u, sizeof u, &ulen) &&
        parses_back(k->tag, u, ulen)) {
        put_escaped(o, u, ulen);
        return true;
    }
    put(o, "#", 1);
    for (size_t i = 0; i < whole.n; i++)
        putf(o, "%02X", whole.p[i]);
    return true;
}

dk_err dk__x509_name_text(const uint8_t *name, size_t len, char *buf, size_t cap)
{
    text_out o = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    dk__der d = {name, len}, rdns, rdn;
    if (!dk__der_expect(&d, DK__DER_SEQ, &rdns) || d.n != 0)
        return DK_ERR_PARSE;
    for (bool first = true; rdns.n; first = false) {
        if (!dk__der_expect(&rdns, DK__DER_SET, &rdn) || rdn.n == 0)
            return DK_ERR_PARSE;
        if (!first)
            put(&o, ", ", 2);
        for (bool one = true; rdn.n; one = false) {
            if (!one)
                put(&o, "+", 1);
            if (!put_attribute(&o, &rdn))
                return DK_ERR_PARSE;
        }
    }
    return o.used < cap ? DK_OK : DK_ERR_BUFFER_TOO_SMALL;
}

static bool digits(const uint8_t *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool dk__x509_time(uint8_t tag, const uint8_t *s, size_t n, int64_t *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t yl = tag == DK__DER_UTCTIME ? 2 : tag == DK__DER_GENTIME ? 4 : 0;
    if (yl == 0 || n != yl + 11 || s[n - 1] != 'Z')
        return false;
    int y, mo, d, h, mi, se;
    if (!digits(s, yl, &y) || !digits(s + yl, 2, &mo) || !digits(s + yl + 2, 2, &d) ||
        !digits(s + yl + 4, 2, &h) || !digits(s + yl + 6, 2, &mi) || !digits(s + yl + 8, 2, &se))
        return false;
    if (yl == 2)
        y += y < 50 ? 2000 : 1900; /* RFC 5280 4.1.2.5.1 */
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
        se > 59)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

/* ------------------------------------------------------------- writing */

typedef struct parser {
    const char *s; /* the whole text */
    const char *p; /* next character */
    char *why;
    size_t why_cap;
} parser;

static dk_err bad(parser *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->why, ps->why_cap, fmt, ap);
    va_end(ap);
    return DK_ERR_INVALID;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A dotted OID ("1.2.3") to its DER contents; 0 when malformed. */
static size_t oid_from_dotted(const char *s, size_t n, uint8_t out[OID_MAX])
{
    uint64_t arcs[OID_MAX];
    size_t na = 0;
    for (size_t i = 0; i < n;) {
        if (na == OID_MAX || s[i] < '0' || s[i] > '9' ||
            (s[i] == '0' && i + 1 < n && s[i + 1] != '.'))
            return 0;
        uint64_t v = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (v >> 56)
                return 0;
            v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (v >> 56)
            return 0;
        arcs[na++] = v;
        if (i < n && (s[i] != '.' || i + 1 == n))
            return 0;
        i += i < n;
    }
    if (na < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39))
        return 0;
    arcs[1] += 40 * arcs[0];
    if (arcs[1] >> 56)
        return 0; /* subidentifiers stay below 2^56, as the printer wants */
    size_t len = 0;
    for (size_t a = 1; a < na; a++) {
        uint8_t tmp[10];
        size_t k = 0;
        uint64_t v = arcs[a];
        do {
            tmp[k++] = (uint8_t)(v & 0x7f);
            v >>= 7;
        } while (v);
        if (len + k > OID_MAX)
            return 0;
        while (k--)
            out[len++] = (uint8_t)(tmp[k] | (k ? 0x80 : 0));
    }
    return len;
}

/* The key of an attribute ("CN", "1.2.3.4") at ps->p, up to '='. */
typedef struct akey {
    const struct key *k; /* NULL: dotted OID */
    uint8_t oid[OID_MAX];
    size_t oid_len;
    const char *name;
    size_t name_len;
} akey;

/* Reads "KEY=" at `p` into `a` without complaint; returns what follows the
 * '=', NULL when `p` does not start with a key we know and an '='. */
static const char *read_key(const char *p, akey *a)
{
    while (*p == ' ')
        p++;
    const char *start = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '.' || *p == '-')
        p++;
    a->name = start;
    a->name_len = (size_t)(p - start);
    if (*p != '=' || p == start)
        return NULL;
    a->k = key_by_name(start, a->name_len);
    if (a->k) {
        a->oid_len = a->k->oid_len;
        memcpy(a->oid, a->k->oid, a->oid_len);
    } else {
        a->oid_len = oid_from_dotted(start, a->name_len, a->oid);
        if (a->oid_len == 0)
            return NULL;
    }
    return p + 1;
}

static bool printable_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr(" '()+,-./:=?", c) != NULL);
}

/* "#hex" value: the whole text up to the end of the attribute is an even
 * number of hex digits that decode to exactly one DER element. Returns the
 * end of the hex, NULL when it is not one (then the '#' is literal). */
static const char *hex_value(const char *p, uint8_t *out, size_t cap, size_t *len)
{
    const char *h = p + 1;
    size_t n = 0;
    while (hexval(h[n]) >= 0)
        n++;
    const char *end = h + n;
    while (*end == ' ')
        end++;
    if (n == 0 || n % 2 || n / 2 > cap || (*end && *end != ',' && *end != '+'))
        return NULL;
    for (size_t i = 0; i < n / 2; i++)
        out[i] = (uint8_t)(hexval(h[2 * i]) << 4 | hexval(h[2 * i + 1]));
    if (!dk__der_is_one(out, n / 2))
        return NULL;
    *len = n / 2;
    return end;
}

/* Every backend's writer takes these (OpenSSL refuses an INTEGER...). */
static bool string_tag(uint8_t tag)
{
    return is_text_tag(tag);
}

/* One value, unescaped, up to an unescaped ',' or end, or a '+' followed
 * by another "KEY=". */
static dk_err read_value(parser *ps, const akey *a, uint8_t *v, size_t *vlen)
{
    size_t n = 0;
    const char *p = ps->p;
    for (;;) {
        uint8_t c = (uint8_t)*p;
        if (c == '\0' || c == ',')
            break;
        if (c == '+') {
            akey next;
            if (read_key(p + 1, &next))
                break;
        }
        if (c == '\\') {
            p++;
            if (*p == '\0')
                return bad(ps, "'%.*s': dangling backslash at the end", (int)a->name_len, a->name);
            if (hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
                c = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
                p++;
                if (c == 0)
                    return bad(ps, "'%.*s': a value cannot hold \\00", (int)a->name_len, a->name);
            } else if (*p && strchr(" \"#+,;<=>\\", *p)) {
                c = (uint8_t)*p;
            } else {
                return bad(ps,
                           "'%.*s': bad escape '\\%c' (escape one of \" #+,;<=>\\ or two hex "
                           "digits)",
                           (int)a->name_len, a->name, *p);
            }
        }
        if (n == DK__NAME_VALUE_MAX)
            return bad(ps, "'%.*s': value longer than %d bytes", (int)a->name_len, a->name,
                       DK__NAME_VALUE_MAX);
        v[n++] = c;
        p++;
    }
    ps->p = p;
    *vlen = n;
    return DK_OK;
}

/* Sorts the attributes of one RDN written since `mark` (a DER SET OF is
 * in ascending order of the encodings) and wraps them in the SET. */
static bool close_rdn(dk__der_out *o, size_t mark, size_t count)
{
    if (count > 1) {
        dk__der items[16], d = {o->buf + mark, o->len - mark}, c;
        uint8_t tag, tmp[DK__NAME_DER_MAX];
        for (size_t i = 0; i < count; i++)
            if (!dk__der_next(&d, &tag, &c, &items[i]))
                return false;
        for (size_t i = 1; i < count; i++) /* insertion sort, shorter first on ties */
            for (size_t j = i; j > 0; j--) {
                dk__der x = items[j - 1], y = items[j];
                size_t m = x.n < y.n ? x.n : y.n;
                int r = memcmp(x.p, y.p, m);
                if (r < 0 || (r == 0 && x.n <= y.n))
                    break;
                items[j - 1] = y;
                items[j] = x;
            }
        size_t t = 0;
        for (size_t i = 0; i < count; i++) {
            memcpy(tmp + t, items[i].p, items[i].n);
            t += items[i].n;
        }
        memcpy(o->buf + mark, tmp, t);
    }
    dk__der_wrap(o, mark, DK__DER_SET);
    return o->ok;
}

dk_err dk__x509_name_parse(const char *text, uint8_t *der, size_t cap, size_t *der_len, char *cn,
                           size_t cn_cap, char *why, size_t why_cap)
{
    parser ps = {text, text, why, why_cap};
    dk__der_out o = {der, cap < DK__NAME_DER_MAX ? cap : DK__NAME_DER_MAX, 0, true};
    if (cn_cap)
        cn[0] = '\0';
    if (!text || !*text)
        return bad(&ps, "empty name");
    size_t rdn_mark = 0, in_rdn = 0;
    for (;;) {
        akey a;
        const char *after = read_key(ps.p, &a);
        if (!after) {
            if (a.name_len && a.name[a.name_len] == '=')
                return bad(&ps,
                           "unknown attribute key '%.*s' (known: CN, O, OU, C, ST, L, "
                           "emailAddress, serialNumber, title, SN, GN, DC, ..., or a dotted "
                           "OID)",
                           (int)a.name_len, a.name);
            if (a.name_len)
                return bad(&ps, "missing '=' after '%.*s'", (int)a.name_len, a.name);
            return bad(&ps, "expected KEY=value at '%.40s'", a.name);
        }
        ps.p = after;
        uint8_t v[DK__NAME_DER_MAX];
        size_t vlen = 0;
        const char *hex_end = *ps.p == '#' ? hex_value(ps.p, v, sizeof v, &vlen) : NULL;
        size_t atv = o.len;
        dk__der_put(&o, DK__DER_OID, a.oid, a.oid_len);
        if (hex_end) {
            if (!string_tag(v[0]))
                return bad(&ps, "'%.*s': a #hex value must encode a string (tag 0x%02x is not one)",
                           (int)a.name_len, a.name, v[0]);
            ps.p = hex_end;
            dk__der_raw(&o, v, vlen);
        } else {
            dk_err e = read_value(&ps, &a, v, &vlen);
            if (e != DK_OK)
                return e;
            if (vlen == 0)
                return bad(&ps, "'%.*s' has an empty value", (int)a.name_len, a.name);
            uint8_t tag = a.k ? a.k->tag : DK__DER_UTF8;
            for (size_t i = 0; i < vlen;) {
                size_t k = utf8_valid(v + i, vlen - i);
                if (k == 0)
                    return bad(&ps, "'%.*s': the value is not valid UTF-8", (int)a.name_len,
                               a.name);
                if (tag == DK__DER_PRINTABLE && (k > 1 || !printable_char(v[i])))
                    return bad(&ps,
                               "'%.*s' is a PrintableString: letters, digits, space and "
                               "'()+,-./:=? only",
                               (int)a.name_len, a.name);
                if (tag == DK__DER_IA5 && k > 1)
                    return bad(&ps, "'%.*s' is an IA5String: ASCII only", (int)a.name_len, a.name);
                i += k;
            }
            dk__der_put(&o, tag, v, vlen);
            if (a.k && a.k->oid_len == 3 && a.k->oid[2] == 0x03 && vlen < cn_cap) {
                memcpy(cn, v, vlen);
                cn[vlen] = '\0';
            }
        }
        dk__der_wrap(&o, atv, DK__DER_SEQ);
        if (!o.ok)
            return bad(&ps, "name longer than %d bytes in DER", DK__NAME_DER_MAX);
        if (++in_rdn > 16)
            return bad(&ps, "more than 16 attributes in one RDN");
        if (*ps.p == '+') {
            ps.p++;
            continue;
        }
        if (!close_rdn(&o, rdn_mark, in_rdn))
            return bad(&ps, "name longer than %d bytes in DER", DK__NAME_DER_MAX);
        in_rdn = 0;
        rdn_mark = o.len;
        if (*ps.p == '\0')
            break;
        ps.p++; /* ',' */
        if (*ps.p == '\0')
            return bad(&ps, "trailing comma");
    }
    dk__der_wrap(&o, 0, DK__DER_SEQ);
    if (!o.ok)
        return bad(&ps, "name longer than %d bytes in DER", DK__NAME_DER_MAX);
    *der_len = o.len;
    return DK_OK;
}
