/* GnuTLS backend: X.509 certificates, one DER certificate per object, and
 * self-signed certificates.
 *
 * GnuTLS 3.7 has no call that sets a certificate's subject or issuer from
 * a DER Name: gnutls_x509_crt_set_dn_by_oid() appends one RDN of one
 * attribute per call (no multi-valued RDNs) and the string setters
 * re-encode. So GnuTLS builds and signs the certificate with a placeholder
 * name, and we put the core's Name, unchanged, in place of its issuer and
 * subject and sign the new TBSCertificate with the same algorithm
 * (gnutls_privkey_sign_data2). Everything else (serial, validity, key,
 * extensions, signature algorithm) is GnuTLS's encoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gnutls_backend.h"

/* ---------------------------------------------------------------- DER */

/* The element at the start of `p` (`n` bytes): single-byte tag, definite
 * length. Sets the header's and the contents' lengths; false when
 * malformed or longer than `n`. */
static bool der_element(const uint8_t *p, size_t n, size_t *hdr, size_t *len)
{
    if (n < 2 || (p[0] & 0x1f) == 0x1f)
        return false;
    size_t l = p[1], h = 2;
    if (l & 0x80) {
        size_t k = l & 0x7f;
        if (k == 0 || k > 4 || n - 2 < k)
            return false;
        l = 0;
        for (size_t i = 0; i < k; i++)
            l = l << 8 | p[2 + i];
        h += k;
    }
    if (l > n - h)
        return false;
    *hdr = h;
    *len = l;
    return true;
}

/* Writes the tag and length of an element of `len` content bytes into
 * `out` (6 bytes at most) and returns its size. */
static size_t der_header(uint8_t tag, size_t len, uint8_t *out)
{
    size_t n = 0, k = 0;
    out[n++] = tag;
    if (len < 0x80) {
        out[n++] = (uint8_t)len;
        return n;
    }
    for (size_t t = len; t; t >>= 8)
        k++;
    out[n++] = (uint8_t)(0x80 | k);
    while (k--)
        out[n++] = (uint8_t)(len >> (8 * k));
    return n;
}

/* --------------------------------------------------------- certificates */

static void cert_free(dk_bk_cert *c)
{
    if (!c)
        return;
    if (c->crt)
        gnutls_x509_crt_deinit(c->crt);
    free(c->der);
    free(c);
}

static dk_err cert_from_der(const uint8_t *der, size_t len, dk_bk_cert **out, char *reason,
                            size_t cap)
{
    size_t hdr, body;
    /* Exactly one element: GnuTLS would not tell us about bytes after it. */
    if (len > UINT32_MAX || !der_element(der, len, &hdr, &body) || der[0] != 0x30 ||
        hdr + body != len) {
        snprintf(reason, cap, "not a DER certificate (%s)",
                 len > UINT32_MAX ? "too large" : "not one DER SEQUENCE");
        return DK_ERR_PARSE;
    }
    dk_bk_cert *c = calloc(1, sizeof *c);
    if (!c || !(c->der = malloc(len))) {
        free(c);
        return DK_ERR_NOMEM;
    }
    memcpy(c->der, der, len);
    c->der_len = len;
    gnutls_datum_t d = {c->der, (unsigned)len};
    int rc = gnutls_x509_crt_init(&c->crt);
    if (rc >= 0)
        rc = gnutls_x509_crt_import(c->crt, &d, GNUTLS_X509_FMT_DER);
    if (rc < 0) {
        cert_free(c);
        if (rc == GNUTLS_E_MEMORY_ERROR)
            return DK_ERR_NOMEM;
        dk_gnu_reason(reason, cap, "not a DER certificate", rc);
        return DK_ERR_PARSE;
    }
    *out = c;
    return DK_OK;
}

static dk_err cert_to_der(const dk_bk_cert *c, const uint8_t **der, size_t *len)
{
    *der = c->der;
    *len = c->der_len;
    return DK_OK;
}

/* True when `key` has a private part and the certificate's public key is
 * its public key (compared by SHA-256 key identifiers, which GnuTLS
 * computes from the decoded key, whatever its encoding). */
static bool cert_key_matches(const dk_bk_key *key, const dk_bk_cert *c)
{
    if (key->public_only || !key->priv)
        return false;
    uint8_t a[32], b[32];
    size_t alen = sizeof a, blen = sizeof b;
    if (gnutls_pubkey_get_key_id(key->pub, GNUTLS_KEYID_USE_SHA256, a, &alen) < 0 ||
        gnutls_x509_crt_get_key_id(c->crt, GNUTLS_KEYID_USE_SHA256, b, &blen) < 0)
        return false;
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* ------------------------------------------------ self-signed certificates */

/* GnuTLS's certificate for the key with a placeholder name: v3, serial,
 * validity, basicConstraints CA:TRUE, keyUsage, subjectKeyIdentifier,
 * subjectAltName, signed with SHA-256. Returns a GnuTLS error code. */
static int build(const dk_bk_key *key, const char *dns_name, time_t nb, time_t na,
                 const uint8_t serial[16], gnutls_x509_crt_t crt)
{
    /* A DER INTEGER has no redundant leading zero byte. */
    size_t skip = 0;
    while (skip < 15 && serial[skip] == 0 && serial[skip + 1] < 0x80)
        skip++;
    uint8_t kid[20];
    size_t kid_len = sizeof kid;
    int rc = gnutls_x509_crt_set_version(crt, 3);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_serial(crt, serial + skip, 16 - skip);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_activation_time(crt, nb);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_expiration_time(crt, na);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_pubkey(crt, key->pub);
    /* Replaced by the core's Name afterwards. */
    if (rc >= 0)
        rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "-", 1);
    /* A self-signed certificate is its own CA (as Godot's are). */
    if (rc >= 0)
        rc = gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
                                                    GNUTLS_KEY_KEY_CERT_SIGN |
                                                    GNUTLS_KEY_KEY_ENCIPHERMENT);
    /* RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
    if (rc >= 0)
        rc = gnutls_pubkey_get_key_id(key->pub, GNUTLS_KEYID_USE_SHA1, kid, &kid_len);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len);
    if (rc >= 0 && dns_name)
        rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, dns_name,
                                                  (unsigned)strlen(dns_name), GNUTLS_FSAN_SET);
    if (rc >= 0)
        rc = gnutls_x509_crt_privkey_sign(crt, crt, key->priv, GNUTLS_DIG_SHA256, 0);
    return rc;
}

/* One element of a TBSCertificate. */
typedef struct part {
    const uint8_t *p;
    size_t n;
} part;

/* The certificate `der` with `name` as its issuer and subject, signed again
 * with `alg` by `priv`. *out is malloc'd. */
static dk_err rename_and_sign(const gnutls_datum_t *der, const uint8_t *name, size_t name_len,
                              gnutls_privkey_t priv, gnutls_sign_algorithm_t alg, uint8_t **out,
                              size_t *out_len, char *reason, size_t cap)
{
    /* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
     * signatureValue }; TBSCertificate ::= SEQUENCE { [0] version, serial,
     * signature, issuer, validity, subject, subjectPublicKeyInfo,
     * [3] extensions } as GnuTLS wrote it (no unique identifiers). */
    enum { ISSUER = 3, SUBJECT = 5, MAX_PARTS = 8 };
    const uint8_t *p = der->data;
    size_t n = der->size, hdr, len, tbs_hdr, tbs_len, alg_hdr, alg_len;
    part parts[MAX_PARTS];
    size_t nparts = 0;
    if (!der_element(p, n, &hdr, &len) || p[0] != 0x30)
        goto malformed;
    p += hdr;
    n = len;
    if (!der_element(p, n, &tbs_hdr, &tbs_len) || p[0] != 0x30)
        goto malformed;
    const uint8_t *tbs = p + tbs_hdr, *sigalg = p + tbs_hdr + tbs_len;
    if (!der_element(sigalg, n - tbs_hdr - tbs_len, &alg_hdr, &alg_len) || sigalg[0] != 0x30)
        goto malformed;
    for (size_t off = 0; off < tbs_len; nparts++) {
        if (nparts == MAX_PARTS || !der_element(tbs + off, tbs_len - off, &hdr, &len))
            goto malformed;
        parts[nparts] = (part){tbs + off, hdr + len};
        off += hdr + len;
    }
    if (nparts <= SUBJECT || parts[0].p[0] != 0xa0)
        goto malformed;
    parts[ISSUER] = parts[SUBJECT] = (part){name, name_len};

    size_t body = 0;
    for (size_t i = 0; i < nparts; i++)
        body += parts[i].n;
    uint8_t head[6];
    size_t head_n = der_header(0x30, body, head);
    uint8_t *new_tbs = malloc(head_n + body);
    if (!new_tbs)
        return DK_ERR_NOMEM;
    memcpy(new_tbs, head, head_n);
    size_t at = head_n;
    for (size_t i = 0; i < nparts; i++) {
        memcpy(new_tbs + at, parts[i].p, parts[i].n);
        at += parts[i].n;
    }
    gnutls_datum_t tbs_d = {new_tbs, (unsigned)at}, sig = {NULL, 0};
    int rc = gnutls_privkey_sign_data2(priv, alg, 0, &tbs_d, &sig);
    if (rc < 0) {
        free(new_tbs);
        dk_gnu_reason(reason, cap, "cannot sign the certificate", rc);
        return rc == GNUTLS_E_MEMORY_ERROR ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    /* signatureValue: BIT STRING with no unused bits. */
    uint8_t bits_head[6];
    size_t bits_n = der_header(0x03, sig.size + 1, bits_head);
    size_t cert_body = at + alg_hdr + alg_len + bits_n + 1 + sig.size;
    head_n = der_header(0x30, cert_body, head);
    uint8_t *cert = malloc(head_n + cert_body);
    if (cert) {
        uint8_t *w = cert;
        memcpy(w, head, head_n);
        w += head_n;
        memcpy(w, new_tbs, at);
        w += at;
        memcpy(w, sigalg, alg_hdr + alg_len);
        w += alg_hdr + alg_len;
        memcpy(w, bits_head, bits_n);
        w += bits_n;
        *w++ = 0;
        memcpy(w, sig.data, sig.size);
        *out = cert;
        *out_len = head_n + cert_body;
    }
    gnutls_free(sig.data);
    free(new_tbs);
    return cert ? DK_OK : DK_ERR_NOMEM;

malformed:
    snprintf(reason, cap, "unexpected certificate layout from GnuTLS");
    return DK_ERR_TLS;
}

static dk_err cert_self_signed(const dk_bk_key *key, const uint8_t *name_der, size_t name_len,
                               const char *dns_name, int64_t not_before, int64_t not_after,
                               const uint8_t serial[16], dk_bk_cert **out, char *reason, size_t cap)
{
    if (key->public_only || !key->priv) {
        snprintf(reason, cap, "a public-only key cannot sign");
        return DK_ERR_INVALID;
    }
    size_t hdr, len;
    if (!der_element(name_der, name_len, &hdr, &len) || name_der[0] != 0x30 ||
        hdr + len != name_len) {
        snprintf(reason, cap, "the Name is not one DER SEQUENCE");
        return DK_ERR_INVALID;
    }
    time_t nb = (time_t)not_before, na = (time_t)not_after;
    if ((int64_t)nb != not_before || (int64_t)na != not_after) {
        snprintf(reason, cap, "validity dates beyond this platform's time_t");
        return DK_ERR_UNAVAILABLE;
    }
    gnutls_x509_crt_t crt;
    int rc = gnutls_x509_crt_init(&crt);
    if (rc < 0) {
        dk_gnu_reason(reason, cap, "cannot create the certificate", rc);
        return DK_ERR_NOMEM;
    }
    gnutls_datum_t der = {NULL, 0};
    rc = build(key, dns_name, nb, na, serial, crt);
    if (rc >= 0)
        rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);
    int alg = rc >= 0 ? gnutls_x509_crt_get_signature_algorithm(crt) : rc;
    gnutls_x509_crt_deinit(crt);
    if (rc < 0 || alg < 0) {
        gnutls_free(der.data);
        dk_gnu_reason(reason, cap, "cannot create the certificate", rc < 0 ? rc : alg);
        return rc == GNUTLS_E_MEMORY_ERROR ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    dk_err e = rename_and_sign(&der, name_der, name_len, key->priv, (gnutls_sign_algorithm_t)alg,
                               &cert, &cert_len, reason, cap);
    gnutls_free(der.data);
    if (e != DK_OK)
        return e;
    dk_bk_cert *c = NULL;
    e = cert_from_der(cert, cert_len, &c, reason, cap);
    free(cert);
    if (e != DK_OK)
        return e == DK_ERR_NOMEM ? e : DK_ERR_TLS;
    /* GnuTLS read back the Name we wrote. */
    gnutls_datum_t subject = {NULL, 0}, issuer = {NULL, 0};
    bool same = gnutls_x509_crt_get_raw_dn(c->crt, &subject) >= 0 &&
                gnutls_x509_crt_get_raw_issuer_dn(c->crt, &issuer) >= 0 &&
                subject.size == name_len && memcmp(subject.data, name_der, name_len) == 0 &&
                issuer.size == name_len && memcmp(issuer.data, name_der, name_len) == 0;
    gnutls_free(subject.data);
    gnutls_free(issuer.data);
    if (!same) {
        cert_free(c);
        snprintf(reason, cap, "GnuTLS does not read back the certificate's Name unchanged");
        return DK_ERR_TLS;
    }
    *out = c;
    return DK_OK;
}

const dk_bk_cert_ops dk_gnu_cert_ops = {
    .size = sizeof(dk_bk_cert_ops),
    .from_der = cert_from_der,
    .to_der = cert_to_der,
    .self_signed = cert_self_signed,
    .key_matches = cert_key_matches,
    .free = cert_free,
};
