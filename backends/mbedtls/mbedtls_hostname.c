/* mbedTLS backend: matching a certificate against a name the way OpenSSL's
 * X509_check_host / X509_check_ip do. mbedTLS 2.28 checks one hostname,
 * the same one it sends as SNI, and knows nothing of iPAddress names: the
 * session uses this when the name to verify is not the SNI name or is an
 * IP literal. */
#include <arpa/inet.h>
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "mbedtls_backend.h"

#define SAN_DNS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2) /* dNSName [2] IA5String */
#define SAN_IP  (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) /* iPAddress [7] OCTET STRING */

/* Parses an IPv4 or IPv6 literal into `addr`; returns its length or 0. */
static size_t ip_bytes(const char *name, uint8_t addr[16])
{
    if (inet_pton(AF_INET, name, addr) == 1)
        return 4;
    if (inet_pton(AF_INET6, name, addr) == 1)
        return 16;
    return 0;
}

bool dk_mbed_is_ip_literal(const char *name)
{
    uint8_t addr[16];
    return name && ip_bytes(name, addr) > 0;
}

static bool equal_nocase(const unsigned char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && strncasecmp((const char *)a, b, alen) == 0;
}

/* `pattern` from the certificate against `host`: exact (ignoring case), or
 * "*.rest" standing for exactly one leftmost label, with at least two
 * labels in "rest" (no "*.com"). */
static bool host_matches(const unsigned char *pattern, size_t plen, const char *host)
{
    size_t hlen = strlen(host);
    if (hlen && host[hlen - 1] == '.')
        hlen--; /* "example.org." is "example.org" */
    if (memchr(pattern, '\0', plen))
        return false; /* an embedded NUL is an attack, not a name */
    if (equal_nocase(pattern, plen, host, hlen))
        return true;
    if (plen < 3 || pattern[0] != '*' || pattern[1] != '.')
        return false;
    const unsigned char *rest = pattern + 1; /* ".example.org" */
    size_t rlen = plen - 1;
    if (!memchr(rest + 1, '.', rlen - 1))
        return false;
    const char *dot = memchr(host, '.', hlen);
    if (!dot || dot == host)
        return false;
    return equal_nocase(rest, rlen, dot, hlen - (size_t)(dot - host));
}

static bool cn_matches(const mbedtls_x509_name *subject, const char *host)
{
    for (const mbedtls_x509_name *n = subject; n; n = n->next)
        if (n->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 &&
            host_matches(n->val.p, n->val.len, host))
            return true;
    return false;
}

bool dk_mbed_cert_matches_name(const mbedtls_x509_crt *crt, const char *name)
{
    uint8_t addr[16];
    size_t alen = ip_bytes(name, addr);
    bool any_dns = false;
    /* 2.28 keeps every GeneralName raw: the tag tells the kind. */
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
        if (alen) {
            if (s->buf.tag == SAN_IP && s->buf.len == alen && memcmp(s->buf.p, addr, alen) == 0)
                return true;
        } else if (s->buf.tag == SAN_DNS) {
            any_dns = true;
            if (host_matches(s->buf.p, s->buf.len, name))
                return true;
        }
    }
    /* The CN counts for host names when no dNSName is given; never for IP
     * addresses (RFC 6125). */
    return !alen && !any_dns && cn_matches(&crt->subject, name);
}

/* Appends to `buf` (capacity `cap`, used `*len`), truncating. */
static void put(char *buf, size_t cap, size_t *len, const void *text, size_t n)
{
    if (*len + 1 >= cap)
        return;
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, text, n);
    *len += n;
    buf[*len] = '\0';
}

static void put_name(char *buf, size_t cap, size_t *len, const char **sep, const char *kind,
                     const void *value, size_t n)
{
    put(buf, cap, len, *sep, strlen(*sep));
    put(buf, cap, len, kind, strlen(kind));
    put(buf, cap, len, value, n);
    *sep = ", ";
}

void dk_mbed_mismatch_text(const mbedtls_x509_crt *crt, const char *name, char *buf, size_t cap)
{
    size_t len = 0;
    const char *sep = "certificate is for ";
    if (!cap)
        return;
    buf[0] = '\0';
    for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next)
        if (n->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
            put_name(buf, cap, &len, &sep, "CN=", n->val.p, n->val.len);
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
        char text[INET6_ADDRSTRLEN];
        int af = s->buf.len == 4 ? AF_INET : s->buf.len == 16 ? AF_INET6 : 0;
        if (s->buf.tag == SAN_DNS)
            put_name(buf, cap, &len, &sep, "DNS:", s->buf.p, s->buf.len);
        else if (s->buf.tag == SAN_IP && af && inet_ntop(af, s->buf.p, text, sizeof text))
            put_name(buf, cap, &len, &sep, "IP:", text, strlen(text));
    }
    if (!len)
        put(buf, cap, &len, "certificate names no host", 25);
    put(buf, cap, &len, ", not '", 7);
    put(buf, cap, &len, name, strlen(name));
    put(buf, cap, &len, "'", 1);
}
