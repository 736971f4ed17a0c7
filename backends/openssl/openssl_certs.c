/* OpenSSL backend: X.509 certificates, one DER certificate at a time. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "openssl_backend.h"

dk_err dk_ossl_cert_wrap(X509 *x, dk_bk_cert **out)
{
    dk_bk_cert *c = calloc(1, sizeof *c);
    if (!c)
        return DK_ERR_NOMEM;
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n <= 0) {
        free(c);
        return DK_ERR_TLS;
    }
    if (!X509_up_ref(x)) {
        OPENSSL_free(der);
        free(c);
        return DK_ERR_TLS;
    }
    c->x509 = x;
    c->der = der;
    c->der_len = (size_t)n;
    *out = c;
    return DK_OK;
}

static dk_err cert_from_der(const uint8_t *der, size_t len, dk_bk_cert **out, char *reason,
                            size_t cap)
{
    ERR_clear_error();
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x || p != der + len) {
        X509_free(x);
        char lib[120];
        dk_ossl_reason(lib, sizeof lib, "trailing bytes");
        snprintf(reason, cap, "not a DER certificate (%s)", lib);
        return DK_ERR_PARSE;
    }
    dk_err e = dk_ossl_cert_wrap(x, out);
    X509_free(x);
    return e;
}

static dk_err cert_to_der(const dk_bk_cert *c, const uint8_t **der, size_t *len)
{
    *der = c->der;
    *len = c->der_len;
    return DK_OK;
}

static bool add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return false;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1;
}

static dk_err cert_self_signed(const dk_bk_key *key, const uint8_t *name_der, size_t name_len,
                               const char *dns_name, int64_t not_before, int64_t not_after,
                               const uint8_t serial[16], dk_bk_cert **out, char *reason, size_t cap)
{
    ERR_clear_error();
    const unsigned char *np = name_der;
    X509_NAME *name = d2i_X509_NAME(NULL, &np, (long)name_len);
    X509 *x = X509_new();
    BIGNUM *bn = BN_bin2bn(serial, 16, NULL);
    bool ok = name && x && bn && X509_set_version(x, 2) &&
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
              ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) &&
              ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) &&
              X509_set_pubkey(x, key->pkey) && X509_set_subject_name(x, name) &&
              X509_set_issuer_name(x, name) &&
              /* Self-signed: it is its own CA, as Godot's are. */
              add_ext(x, NID_basic_constraints, "critical,CA:TRUE") &&
              add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign,keyEncipherment") &&
              add_ext(x, NID_subject_key_identifier, "hash");
    if (ok && dns_name) {
        char san[300];
        snprintf(san, sizeof san, "DNS:%s", dns_name);
        ok = add_ext(x, NID_subject_alt_name, san);
    }
    ok = ok && X509_sign(x, key->pkey, EVP_sha256()) > 0;
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        dk_ossl_reason(reason, cap, "cannot create the certificate");
        return DK_ERR_TLS;
    }
    dk_err e = dk_ossl_cert_wrap(x, out);
    X509_free(x);
    return e;
}

static bool cert_key_matches(const dk_bk_key *key, const dk_bk_cert *c)
{
    bool ok = X509_check_private_key(c->x509, key->pkey) == 1;
    ERR_clear_error();
    return ok;
}

static void cert_free(dk_bk_cert *c)
{
    if (!c)
        return;
    X509_free(c->x509);
    OPENSSL_free(c->der);
    free(c);
}

const dk_bk_cert_ops dk_ossl_cert_ops = {
    .size = sizeof(dk_bk_cert_ops),
    .from_der = cert_from_der,
    .to_der = cert_to_der,
    .self_signed = cert_self_signed,
    .key_matches = cert_key_matches,
    .free = cert_free,
};
