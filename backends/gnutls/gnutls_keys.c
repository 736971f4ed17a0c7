/* GnuTLS backend: private and public keys. gnutls_x509_privkey_import2()
 * reads PKCS#8 (plain and encrypted), the traditional RSA and EC forms and
 * OpenSSL's encrypted PEM (DEK-Info), in PEM and DER; gnutls_pubkey_import()
 * reads SubjectPublicKeyInfo. Private keys are written as PKCS#8, public
 * keys as SubjectPublicKeyInfo, as the other backends write them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnutls_backend.h"

static bool contains(const uint8_t *d, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(d + i, s, k) == 0)
            return true;
    return false;
}

/* Pin callback of every key we import. Without a password GnuTLS asks the
 * key's pin callback, or else the process-wide one an application may have
 * set with gnutls_pkcs11_set_pin_function() (which may prompt on a
 * terminal); ours overrides it: a missing password is an error. */
static int no_pin(void *user, int attempt, const char *token_url, const char *token_label,
                  unsigned flags, char *pin, size_t pin_max)
{
    (void)user;
    (void)attempt;
    (void)token_url;
    (void)token_label;
    (void)flags;
    (void)pin;
    (void)pin_max;
    return GNUTLS_E_DECRYPTION_FAILED;
}

static void key_free(dk_bk_key *k)
{
    if (!k)
        return;
    /* priv references x509 (imported without a copy): release it first. */
    if (k->priv)
        gnutls_privkey_deinit(k->priv);
    if (k->x509)
        gnutls_x509_privkey_deinit(k->x509);
    if (k->pub)
        gnutls_pubkey_deinit(k->pub);
    free(k);
}

/* The type and size of `k->pub`; false for algorithms other than RSA and
 * ECDSA (EdDSA, DSA, RSA-PSS, GOST), which the core has no type for. */
static bool describe(dk_bk_key *k, char *reason, size_t cap)
{
    unsigned bits = 0;
    int alg = gnutls_pubkey_get_pk_algorithm(k->pub, &bits);
    if (alg == GNUTLS_PK_RSA)
        k->type = DK_KEY_RSA;
    else if (alg == GNUTLS_PK_ECDSA)
        k->type = DK_KEY_EC;
    else {
        const char *name = alg > 0 ? gnutls_pk_get_name((gnutls_pk_algorithm_t)alg) : NULL;
        snprintf(reason, cap, "unsupported key algorithm %s (RSA and EC keys only)",
                 name ? name : "?");
        return false;
    }
    k->bits = (int)bits;
    return true;
}

/* A backend key around `x509` (taken over, freed on failure): the abstract
 * private key wrapping it and the public key. With `public_only` only the
 * public key stays. */
static dk_err wrap_private(gnutls_x509_privkey_t x509, bool public_only, dk_bk_key **out,
                           char *reason, size_t cap)
{
    dk_bk_key *k = calloc(1, sizeof *k);
    if (!k) {
        gnutls_x509_privkey_deinit(x509);
        return DK_ERR_NOMEM;
    }
    k->x509 = x509;
    int rc = gnutls_privkey_init(&k->priv);
    if (rc >= 0)
        rc = gnutls_privkey_import_x509(k->priv, x509, 0);
    if (rc >= 0)
        rc = gnutls_pubkey_init(&k->pub);
    if (rc >= 0)
        rc = gnutls_pubkey_import_privkey(k->pub, k->priv, 0, 0);
    if (rc < 0) {
        dk_gnu_reason(reason, cap, "cannot use the key", rc);
        key_free(k);
        return rc == GNUTLS_E_MEMORY_ERROR ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    if (!describe(k, reason, cap)) {
        key_free(k);
        return DK_ERR_PARSE;
    }
    if (public_only) {
        gnutls_privkey_deinit(k->priv);
        gnutls_x509_privkey_deinit(k->x509);
        k->priv = NULL;
        k->x509 = NULL;
        k->public_only = true;
    }
    *out = k;
    return DK_OK;
}

/* One attempt at a private key, in a fresh object (a failed import may
 * leave the object half filled). */
static int import_private(const gnutls_datum_t *d, gnutls_x509_crt_fmt_t fmt, const char *password,
                          gnutls_x509_privkey_t *out)
{
    gnutls_x509_privkey_t x;
    int rc = gnutls_x509_privkey_init(&x);
    if (rc < 0)
        return rc;
    gnutls_x509_privkey_set_pin_function(x, no_pin, NULL);
    rc = gnutls_x509_privkey_import2(x, d, fmt, password, 0);
    if (rc < 0) {
        gnutls_x509_privkey_deinit(x);
        return rc;
    }
    *out = x;
    return 0;
}

static dk_err key_parse(const uint8_t *data, size_t len, const char *password, bool public_only,
                        dk_bk_key **out, char *reason, size_t cap)
{
    if (len > UINT32_MAX) {
        snprintf(reason, cap, "key data too large");
        return DK_ERR_PARSE;
    }
    bool pem = contains(data, len, "-----BEGIN ");
    gnutls_x509_crt_fmt_t fmt = pem ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
    gnutls_datum_t d = {(unsigned char *)data, (unsigned)len};
    gnutls_x509_privkey_t x509 = NULL;
    int rc = import_private(&d, fmt, password, &x509);
    /* With a password, DER is taken for an encrypted PKCS#8 key only: a
     * plain DER key fails to decode, so try it without. */
    if (rc < 0 && rc != GNUTLS_E_DECRYPTION_FAILED && rc != GNUTLS_E_MEMORY_ERROR && password &&
        !pem)
        rc = import_private(&d, fmt, NULL, &x509);
    if (rc >= 0)
        return wrap_private(x509, public_only, out, reason, cap);
    if (rc == GNUTLS_E_MEMORY_ERROR)
        return DK_ERR_NOMEM;
    /* A missing or wrong password is a decryption failure (for encrypted
     * traditional PEM, "Proc-Type: 4,ENCRYPTED", without a password: what
     * no_pin returned); also take any failure on an encrypted PEM for one. */
    if (rc == GNUTLS_E_DECRYPTION_FAILED || (pem && contains(data, len, "ENCRYPTED"))) {
        snprintf(reason, cap, "%s",
                 password ? "wrong password for the encrypted key"
                          : "the key is encrypted: a password is needed");
        return DK_ERR_PASSWORD;
    }
    if (public_only) {
        dk_bk_key *k = calloc(1, sizeof *k);
        if (!k)
            return DK_ERR_NOMEM;
        int prc = gnutls_pubkey_init(&k->pub);
        if (prc >= 0)
            prc = gnutls_pubkey_import(k->pub, &d, fmt);
        if (prc >= 0) {
            k->public_only = true;
            if (!describe(k, reason, cap)) {
                key_free(k);
                return DK_ERR_PARSE;
            }
            *out = k;
            return DK_OK;
        }
        key_free(k);
        if (prc == GNUTLS_E_MEMORY_ERROR)
            return DK_ERR_NOMEM;
    }
    snprintf(reason, cap, "not a PEM or DER %s (%s)", public_only ? "key" : "private key",
             gnutls_strerror(rc));
    return DK_ERR_PARSE;
}

static dk_err key_write(const dk_bk_key *k, dk_format format, bool public_only, uint8_t **out,
                        size_t *out_len)
{
    bool pub = public_only || k->public_only || !k->x509;
    gnutls_x509_crt_fmt_t fmt = format == DK_FORMAT_PEM ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
    gnutls_datum_t d = {NULL, 0};
    int rc = pub ? gnutls_pubkey_export2(k->pub, fmt, &d)
                 : gnutls_x509_privkey_export2_pkcs8(k->x509, fmt, NULL, GNUTLS_PKCS_PLAIN, &d);
    if (rc < 0)
        return rc == GNUTLS_E_MEMORY_ERROR ? DK_ERR_NOMEM : DK_ERR_TLS;
    size_t n = d.size;
    /* PEM is text: no terminating NUL in what we return. */
    while (fmt == GNUTLS_X509_FMT_PEM && n > 0 && d.data[n - 1] == '\0')
        n--;
    uint8_t *buf = malloc(n ? n : 1);
    if (buf)
        memcpy(buf, d.data, n);
    if (!pub)
        gnutls_memset(d.data, 0, d.size);
    gnutls_free(d.data);
    if (!buf)
        return DK_ERR_NOMEM;
    *out = buf;
    *out_len = n;
    return DK_OK;
}

static dk_err generate(gnutls_pk_algorithm_t alg, unsigned bits, dk_bk_key **out, char *reason,
                       size_t cap)
{
    gnutls_x509_privkey_t x509;
    int rc = gnutls_x509_privkey_init(&x509);
    if (rc < 0) {
        dk_gnu_reason(reason, cap, "key generation failed", rc);
        return DK_ERR_NOMEM;
    }
    /* RSA: GnuTLS uses e = 65537. */
    rc = gnutls_x509_privkey_generate2(x509, alg, bits, 0, NULL, 0);
    if (rc < 0) {
        gnutls_x509_privkey_deinit(x509);
        dk_gnu_reason(reason, cap, "key generation failed", rc);
        return rc == GNUTLS_E_MEMORY_ERROR ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    return wrap_private(x509, false, out, reason, cap);
}

static dk_err key_generate_rsa(int bits, dk_bk_key **out, char *reason, size_t cap)
{
    return generate(GNUTLS_PK_RSA, (unsigned)bits, out, reason, cap);
}

static dk_err key_generate_ec(dk_ec_curve curve, dk_bk_key **out, char *reason, size_t cap)
{
    gnutls_ecc_curve_t c;
    switch (curve) {
    case DK_EC_P256: c = GNUTLS_ECC_CURVE_SECP256R1; break;
    case DK_EC_P384: c = GNUTLS_ECC_CURVE_SECP384R1; break;
    default: snprintf(reason, cap, "unknown curve %d", (int)curve); return DK_ERR_INVALID;
    }
    return generate(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(c), out, reason, cap);
}

static bool key_is_public_only(const dk_bk_key *k)
{
    return k->public_only;
}

static dk_key_type key_type(const dk_bk_key *k)
{
    return k->type;
}

static int key_bits(const dk_bk_key *k)
{
    return k->bits;
}

const dk_bk_key_ops dk_gnu_key_ops = {
    .size = sizeof(dk_bk_key_ops),
    .parse = key_parse,
    .write = key_write,
    .generate_rsa = key_generate_rsa,
    .generate_ec = key_generate_ec,
    .is_public_only = key_is_public_only,
    .type = key_type,
    .bits = key_bits,
    .free = key_free,
};
