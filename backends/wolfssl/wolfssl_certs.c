/* wolfSSL backend: X.509 certificates, one DER certificate at a time,
 * read through wolfSSL's X509 calls. */
#include "wolfssl_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/wolfcrypt/asn.h>

#include "wolfssl_der.h"

dk_err dk_wolf_cert_new(const uint8_t *der, size_t len, dk_bk_cert **out, char *reason, size_t cap)
{
    /* wolfSSL reads one certificate and ignores what follows: refuse
     * trailing bytes here, as a DER parser should. */
    if (len > INT32_MAX || !dk_der_is_one(der, len, 0x30)) {
        snprintf(reason, cap, "not a DER certificate (bad length or trailing bytes)");
        return DK_ERR_PARSE;
    }
    WOLFSSL_X509 *x = wolfSSL_X509_d2i(NULL, der, (int)len);
    if (!x) {
        snprintf(reason, cap, "not a DER certificate (wolfSSL cannot parse it)");
        wolfSSL_ERR_clear_error();
        return DK_ERR_PARSE;
    }
    dk_bk_cert *c = calloc(1, sizeof *c);
    uint8_t *copy = malloc(len);
    if (!c || !copy) {
        free(c);
        free(copy);
        wolfSSL_X509_free(x);
        return DK_ERR_NOMEM;
    }
    memcpy(copy, der, len);
    c->x509 = x;
    c->der = copy;
    c->der_len = len;
    *out = c;
    return DK_OK;
}

static dk_err cert_from_der(const uint8_t *der, size_t len, dk_bk_cert **out, char *reason,
                            size_t cap)
{
    return dk_wolf_cert_new(der, len, out, reason, cap);
}

static dk_err cert_to_der(const dk_bk_cert *c, const uint8_t **der, size_t *len)
{
    *der = c->der;
    *len = c->der_len;
    return DK_OK;
}

/* The short names the OpenSSL backend prints. */
static const char *short_name(int nid)
{
    switch (nid) {
    case NID_commonName: return "CN";
    case NID_organizationName: return "O";
    case NID_organizationalUnitName: return "OU";
    case NID_countryName: return "C";
    case NID_stateOrProvinceName: return "ST";
    case NID_localityName: return "L";
    case NID_emailAddress: return "emailAddress";
    default: {
        const char *sn = wolfSSL_OBJ_nid2sn(nid);
        return sn ? sn : "?";
    }
    }
}

/* "CN=x, O=y" in the order of the certificate. */
static dk_err name_string(WOLFSSL_X509_NAME *name, char *buf, size_t cap)
{
    size_t used = 0;
    if (cap)
        buf[0] = '\0';
    if (!name)
        return DK_ERR_PARSE;
    int count = wolfSSL_X509_NAME_entry_count(name);
    for (int i = 0; i < count; i++) {
        WOLFSSL_X509_NAME_ENTRY *e = wolfSSL_X509_NAME_get_entry(name, i);
        WOLFSSL_ASN1_STRING *v = e ? wolfSSL_X509_NAME_ENTRY_get_data(e) : NULL;
        if (!v)
            return DK_ERR_PARSE;
        int nid = wolfSSL_OBJ_obj2nid(wolfSSL_X509_NAME_ENTRY_get_object(e));
        const unsigned char *data = wolfSSL_ASN1_STRING_data(v);
        int vlen = wolfSSL_ASN1_STRING_length(v);
        int n = snprintf(buf + used, cap > used ? cap - used : 0, "%s%s=%.*s", i ? ", " : "",
                         short_name(nid), data ? vlen : 0, data ? (const char *)data : "");
        if (n < 0)
            return DK_ERR_PARSE;
        used += (size_t)n;
    }
    return used < cap ? DK_OK : DK_ERR_BUFFER_TOO_SMALL;
}

static dk_err cert_subject(const dk_bk_cert *c, char *buf, size_t cap)
{
    return name_string(wolfSSL_X509_get_subject_name(c->x509), buf, cap);
}

static dk_err cert_issuer(const dk_bk_cert *c, char *buf, size_t cap)
{
    return name_string(wolfSSL_X509_get_issuer_name(c->x509), buf, cap);
}

static bool to_epoch(const WOLFSSL_ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!t || wolfSSL_ASN1_TIME_to_tm(t, &tm) != WOLFSSL_SUCCESS)
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

static dk_err cert_validity(const dk_bk_cert *c, int64_t *nb, int64_t *na)
{
    if (!to_epoch(wolfSSL_X509_get_notBefore(c->x509), nb) ||
        !to_epoch(wolfSSL_X509_get_notAfter(c->x509), na))
        return DK_ERR_PARSE;
    return DK_OK;
}

/* Compares the certificate's public key with the key's, both in the
 * canonical SubjectPublicKeyInfo form. */
static bool cert_key_matches(const dk_bk_key *key, const dk_bk_cert *c)
{
    unsigned char spki[4096];
    int len = (int)sizeof spki;
    if (wolfSSL_X509_get_pubkey_buffer(c->x509, spki, &len) != WOLFSSL_SUCCESS || len <= 0)
        return false;
    uint8_t *canon = NULL;
    size_t clen = 0;
    if (dk_wolf_spki_canonical(spki, (size_t)len, &canon, &clen) != DK_OK)
        return false;
    bool same = clen == key->pub_len && memcmp(canon, key->pub, clen) == 0;
    free(canon);
    return same;
}

static void cert_free(dk_bk_cert *c)
{
    if (!c)
        return;
    wolfSSL_X509_free(c->x509);
    free(c->der);
    free(c);
}

const dk_bk_cert_ops dk_wolf_cert_ops = {
    .size = sizeof(dk_bk_cert_ops),
    .from_der = cert_from_der,
    .to_der = cert_to_der,
    .subject = cert_subject,
    .issuer = cert_issuer,
    .validity = cert_validity,
    .self_signed = dk_wolf_cert_self_signed,
    .key_matches = cert_key_matches,
    .free = cert_free,
};
