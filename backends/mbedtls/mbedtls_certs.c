/* mbedTLS backend: X.509 certificates, one DER certificate per object. */
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mbedtls_backend.h"

/* Room for a self-signed certificate with an 8192-bit RSA key (~2.5 kB). */
#define CERT_BUF 8192

dk_err dk_mbed_cert_from_der(const uint8_t *der, size_t len, dk_bk_cert **out, char *reason,
                             size_t cap)
{
    dk_bk_cert *c = calloc(1, sizeof *c);
    if (!c)
        return DK_ERR_NOMEM;
    mbedtls_x509_crt_init(&c->crt);
    int ret = mbedtls_x509_crt_parse_der(&c->crt, der, len);
    /* mbedTLS ignores bytes after the certificate; OpenSSL does not. */
    if (ret == 0 && c->crt.raw.len != len) {
        mbedtls_x509_crt_free(&c->crt);
        free(c);
        snprintf(reason, cap, "not a DER certificate (trailing bytes)");
        return DK_ERR_PARSE;
    }
    if (ret != 0) {
        mbedtls_x509_crt_free(&c->crt);
        free(c);
        if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED)
            return DK_ERR_NOMEM;
        dk_mbed_reason(ret, "not a DER certificate", reason, cap);
        return DK_ERR_PARSE;
    }
    *out = c;
    return DK_OK;
}

static dk_err cert_to_der(const dk_bk_cert *c, const uint8_t **der, size_t *len)
{
    *der = c->crt.raw.p;
    *len = c->crt.raw.len;
    return DK_OK;
}

/* "YYYYMMDDhhmmss", as mbedtls_x509write_crt_set_validity wants it. */
static bool time_string(int64_t t, char out[16])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return false;
    return snprintf(out, 16, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) == 14;
}

/* subjectAltName with one dNSName: mbedTLS 2.28 has no writer for it.
 *   SubjectAltName ::= SEQUENCE { [2] IMPLICIT IA5String }
 * Written backwards from the end of `buf`, as the asn1write functions do. */
static int san_extension(const char *dns_name, unsigned char *buf, size_t cap,
                         unsigned char **start)
{
    unsigned char *p = buf + cap;
    size_t len = 0;
    int ret;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(
                                  &p, buf, (const unsigned char *)dns_name, strlen(dns_name)));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    *start = p;
    return (int)len;
}

/* Prepends one attribute, allocated the way
 * mbedtls_asn1_free_named_data_list releases it. */
static int prepend(mbedtls_asn1_named_data **head, const mbedtls_asn1_buf *oid,
                   const mbedtls_asn1_buf *val)
{
    mbedtls_asn1_named_data *a = mbedtls_calloc(1, sizeof *a);
    if (!a)
        return MBEDTLS_ERR_X509_ALLOC_FAILED;
    a->oid = *oid;
    a->val = *val;
    a->oid.p = mbedtls_calloc(1, oid->len);
    a->val.p = mbedtls_calloc(1, val->len ? val->len : 1);
    if (!a->oid.p || !a->val.p) {
        mbedtls_free(a->oid.p);
        mbedtls_free(a->val.p);
        mbedtls_free(a);
        return MBEDTLS_ERR_X509_ALLOC_FAILED;
    }
    memcpy(a->oid.p, oid->p, oid->len);
    memcpy(a->val.p, val->p, val->len);
    a->next = *head;
    *head = a;
    return 0;
}

/* The writer's list for the core's DER Name. mbedtls_x509_write_names
 * writes the list back to front, hence prepend. It puts every attribute in
 * an RDN of its own: a multi-valued RDN is refused. */
static int name_list(const uint8_t *der, size_t len, mbedtls_asn1_named_data **head)
{
    const int seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
    const int set = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET;
    unsigned char *p = (unsigned char *)der, *end = p + len;
    size_t n;
    int ret = mbedtls_asn1_get_tag(&p, end, &n, seq);
    while (ret == 0 && p < end) {
        mbedtls_asn1_buf oid = {.tag = MBEDTLS_ASN1_OID}, val = {0};
        if ((ret = mbedtls_asn1_get_tag(&p, end, &n, set)) != 0)
            break;
        unsigned char *rdn_end = p + n;
        if ((ret = mbedtls_asn1_get_tag(&p, rdn_end, &n, seq)) != 0 ||
            (ret = mbedtls_asn1_get_tag(&p, rdn_end, &oid.len, MBEDTLS_ASN1_OID)) != 0)
            break;
        oid.p = p;
        p += oid.len;
        if (p >= rdn_end)
            return MBEDTLS_ERR_X509_INVALID_NAME;
        val.tag = *p++;
        if ((ret = mbedtls_asn1_get_len(&p, rdn_end, &val.len)) != 0)
            break;
        val.p = p;
        p += val.len;
        if (p != rdn_end)
            return MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE; /* a second attribute */
        ret = prepend(head, &oid, &val);
    }
    return ret;
}

/* Fills `w` for a self-signed CA certificate (what the OpenSSL backend
 * makes): v3, SHA-256, CA:TRUE, key usage, key identifier, optional SAN. */
static int describe(mbedtls_x509write_cert *w, mbedtls_mpi *serial, const dk_bk_key *key,
                    const uint8_t *name_der, size_t name_len, const char *dns_name, int64_t nb,
                    int64_t na, const uint8_t serial_bytes[16])
{
    char from[16], to[16];
    if (!time_string(nb, from) || !time_string(na, to))
        return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
    mbedtls_pk_context *pk = (mbedtls_pk_context *)&key->pk;
    mbedtls_x509write_crt_set_version(w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(w, pk);
    mbedtls_x509write_crt_set_issuer_key(w, pk);
    int ret = mbedtls_mpi_read_binary(serial, serial_bytes, 16);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_serial(w, serial);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_validity(w, from, to);
    /* Issuer and subject are the same name, each in its own list. */
    if (ret == 0)
        ret = name_list(name_der, name_len, &w->subject);
    if (ret == 0)
        ret = name_list(name_der, name_len, &w->issuer);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_basic_constraints(w, 1, -1);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_key_usage(w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
                                                         MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                         MBEDTLS_X509_KU_KEY_ENCIPHERMENT);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_subject_key_identifier(w);
    if (ret == 0 && dns_name) {
        unsigned char san[300], *start;
        int len = san_extension(dns_name, san, sizeof san, &start);
        ret = len < 0 ? len
                      : mbedtls_x509write_crt_set_extension(
                            w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                            MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, start, (size_t)len);
    }
    return ret;
}

static dk_err cert_self_signed(const dk_bk_key *key, const uint8_t *name_der, size_t name_len,
                               const char *dns_name, int64_t not_before, int64_t not_after,
                               const uint8_t serial[16], dk_bk_cert **out, char *reason, size_t cap)
{
    unsigned char *buf = malloc(CERT_BUF);
    if (!buf)
        return DK_ERR_NOMEM;
    mbedtls_x509write_cert w;
    mbedtls_mpi sn;
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&sn);
    int ret = describe(&w, &sn, key, name_der, name_len, dns_name, not_before, not_after, serial);
    if (ret == 0)
        ret = mbedtls_x509write_crt_der(&w, buf, CERT_BUF, mbedtls_ctr_drbg_random, dk_mbed_drbg());
    dk_err e = DK_OK;
    if (ret == MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE) {
        snprintf(reason, cap,
                 "mbedTLS 2.28 writes one attribute per RDN: no multi-valued RDNs ('+')");
        e = DK_ERR_UNAVAILABLE;
    } else if (ret < 0) {
        dk_mbed_reason(ret, "cannot create the certificate", reason, cap);
        e = DK_ERR_TLS;
    } else {
        e = dk_mbed_cert_from_der(buf + CERT_BUF - ret, (size_t)ret, out, reason, cap);
    }
    mbedtls_mpi_free(&sn);
    mbedtls_x509write_crt_free(&w);
    free(buf);
    return e;
}

static bool cert_key_matches(const dk_bk_key *key, const dk_bk_cert *c)
{
    return !key->public_only && mbedtls_pk_check_pair(&c->crt.pk, &key->pk) == 0;
}

static void cert_free(dk_bk_cert *c)
{
    if (!c)
        return;
    mbedtls_x509_crt_free(&c->crt);
    free(c);
}

static dk_err cert_from_der(const uint8_t *der, size_t len, dk_bk_cert **out, char *reason,
                            size_t cap)
{
    return dk_mbed_cert_from_der(der, len, out, reason, cap);
}

const dk_bk_cert_ops dk_mbed_cert_ops = {
    .size = sizeof(dk_bk_cert_ops),
    .from_der = cert_from_der,
    .to_der = cert_to_der,
    .self_signed = cert_self_signed,
    .key_matches = cert_key_matches,
    .free = cert_free,
};
