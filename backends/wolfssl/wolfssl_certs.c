/* wolfSSL backend: X.509 certificates, one DER certificate at a time,
 * read through wolfSSL's X509 calls. */
#include "wolfssl_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    .self_signed = dk_wolf_cert_self_signed,
    .key_matches = cert_key_matches,
    .free = cert_free,
};
