/* OpenSSL backend: private and public keys. Decoding goes through
 * OSSL_DECODER, which understands PKCS#8 (plain and encrypted), the
 * traditional RSA/EC forms and SubjectPublicKeyInfo, in PEM and DER. */
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "openssl_backend.h"

void dk_ossl_reason(char *reason, size_t cap, const char *fallback)
{
    unsigned long e = ERR_peek_error();
    if (reason && cap) {
        if (e) {
            const char *r = ERR_reason_error_string(e);
            snprintf(reason, cap, "%s", r ? r : fallback);
        } else {
            snprintf(reason, cap, "%s", fallback);
        }
    }
    ERR_clear_error();
}

static bool looks_pem(const uint8_t *d, size_t n)
{
    static const char tag[] = "-----BEGIN ";
    for (size_t i = 0; i + sizeof tag - 1 <= n; i++)
        if (memcmp(d + i, tag, sizeof tag - 1) == 0)
            return true;
    return false;
}

static bool contains(const uint8_t *d, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(d + i, s, k) == 0)
            return true;
    return false;
}

/* Encrypted PEM ("ENCRYPTED PRIVATE KEY", "Proc-Type: 4,ENCRYPTED") or
 * encrypted PKCS#8 DER (an X509_SIG structure). */
static bool is_encrypted(const uint8_t *d, size_t n)
{
    if (looks_pem(d, n))
        return contains(d, n, "ENCRYPTED");
    const unsigned char *p = d;
    X509_SIG *sig = d2i_X509_SIG(NULL, &p, (long)n);
    bool enc = sig && p == d + n;
    X509_SIG_free(sig);
    ERR_clear_error();
    return enc;
}

/* Never prompt on a terminal: no password means failure. */
static int no_passphrase(char *buf, size_t size, size_t *len, const OSSL_PARAM params[], void *arg)
{
    (void)buf;
    (void)size;
    (void)len;
    (void)params;
    (void)arg;
    return 0;
}

static EVP_PKEY *decode(const uint8_t *d, size_t n, int selection, const char *password)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, looks_pem(d, n) ? "PEM" : "DER",
                                                           NULL, NULL, selection, NULL, NULL);
    if (!dctx)
        return NULL;
    if (password)
        OSSL_DECODER_CTX_set_passphrase(dctx, (const unsigned char *)password, strlen(password));
    else
        OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL);
    const unsigned char *p = d;
    size_t left = n;
    if (!OSSL_DECODER_from_data(dctx, &p, &left)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

/* A public-only copy of `pkey`, through SubjectPublicKeyInfo. */
static EVP_PKEY *public_copy(EVP_PKEY *pkey)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(pkey, &der);
    if (len <= 0)
        return NULL;
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, len);
    OPENSSL_free(der);
    return pub;
}

static dk_err wrap(EVP_PKEY *pkey, bool public_only, dk_bk_key **out)
{
    dk_bk_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return DK_ERR_NOMEM;
    }
    k->pkey = pkey;
    k->public_only = public_only;
    *out = k;
    return DK_OK;
}

static dk_err key_parse(const uint8_t *data, size_t len, const char *password, bool public_only,
                        dk_bk_key **out, char *reason, size_t cap)
{
    ERR_clear_error();
    EVP_PKEY *pkey = decode(data, len, OSSL_KEYMGMT_SELECT_KEYPAIR, password);
    if (!pkey && public_only)
        pkey = decode(data, len, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, NULL);
    if (!pkey) {
        if (is_encrypted(data, len)) {
            ERR_clear_error();
            snprintf(reason, cap, "%s",
                     password ? "wrong password for the encrypted key"
                              : "the key is encrypted: a password is needed");
            return DK_ERR_PASSWORD;
        }
        char lib[120];
        dk_ossl_reason(lib, sizeof lib, "unsupported encoding");
        snprintf(reason, cap, "not a PEM or DER key (%s)", lib);
        return DK_ERR_PARSE;
    }
    if (public_only) {
        EVP_PKEY *pub = public_copy(pkey);
        EVP_PKEY_free(pkey);
        if (!pub) {
            dk_ossl_reason(reason, cap, "cannot extract the public key");
            return DK_ERR_TLS;
        }
        pkey = pub;
    }
    return wrap(pkey, public_only, out);
}

static dk_err key_write(const dk_bk_key *k, dk_format format, bool public_only, uint8_t **out,
                        size_t *out_len)
{
    ERR_clear_error();
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return DK_ERR_NOMEM;
    bool pub = public_only || k->public_only;
    int ok;
    if (format == DK_FORMAT_PEM)
        ok = pub ? PEM_write_bio_PUBKEY(b, k->pkey)
                 : PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL);
    else
        ok = pub ? i2d_PUBKEY_bio(b, k->pkey)
                 : i2d_PKCS8PrivateKey_bio(b, k->pkey, NULL, NULL, 0, NULL, NULL);
    char *mem;
    long n = BIO_get_mem_data(b, &mem);
    if (!ok || n <= 0 || !(*out = malloc((size_t)n))) {
        BIO_free(b);
        ERR_clear_error();
        return ok ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    memcpy(*out, mem, (size_t)n);
    *out_len = (size_t)n;
    BIO_free(b);
    return DK_OK;
}

static dk_err key_generate_rsa(int bits, dk_bk_key **out, char *reason, size_t cap)
{
    ERR_clear_error();
    EVP_PKEY *pkey = EVP_RSA_gen((unsigned)bits);
    if (!pkey) {
        dk_ossl_reason(reason, cap, "RSA key generation failed");
        return DK_ERR_TLS;
    }
    return wrap(pkey, false, out);
}

static dk_err key_generate_ec(dk_ec_curve curve, dk_bk_key **out, char *reason, size_t cap)
{
    ERR_clear_error();
    EVP_PKEY *pkey = EVP_EC_gen(curve == DK_EC_P384 ? "P-384" : "P-256");
    if (!pkey) {
        dk_ossl_reason(reason, cap, "EC key generation failed");
        return DK_ERR_TLS;
    }
    return wrap(pkey, false, out);
}

static bool key_is_public_only(const dk_bk_key *k)
{
    return k->public_only;
}

static dk_key_type key_type(const dk_bk_key *k)
{
    switch (EVP_PKEY_get_base_id(k->pkey)) {
    case EVP_PKEY_RSA: return DK_KEY_RSA;
    case EVP_PKEY_EC: return DK_KEY_EC;
    default: return (dk_key_type)0;
    }
}

static int key_bits(const dk_bk_key *k)
{
    return EVP_PKEY_get_bits(k->pkey);
}

static void key_free(dk_bk_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

const dk_bk_key_ops dk_ossl_key_ops = {
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
