/* wolfSSL backend: private and public keys. Every key is decoded into a
 * wolfCrypt RSA or EC key and written back as PKCS#8 and
 * SubjectPublicKeyInfo, so that one key always has one encoding. */
#include "wolfssl_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "wolfssl_der.h"

/* Room for the DER of any key this build handles (RSA_MAX_SIZE bits). */
#define KEY_DER_MAX 8192

void dk_wolf_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

static void free_secret(uint8_t *p, size_t n)
{
    dk_wolf_wipe(p, n);
    free(p);
}

static bool contains(const uint8_t *d, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(d + i, s, k) == 0)
            return true;
    return false;
}

void dk_wolf_pkey_free(dk_wolf_pkey *pk)
{
    if (pk->type == DK_KEY_RSA)
        wc_FreeRsaKey(&pk->rsa);
    else if (pk->type == DK_KEY_EC)
        wc_ecc_free(&pk->ecc);
    pk->type = (dk_key_type)0;
}

/* An EC key stored without its public point gets it computed. */
static int ensure_ec_public(ecc_key *k)
{
    if (k->type != ECC_PRIVATEKEY_ONLY)
        return 0;
    WC_RNG *rng = dk_wolf_rng_acquire();
    int rc = wc_ecc_make_pub_ex(k, NULL, rng);
    dk_wolf_rng_release();
    return rc;
}

typedef int (*ecc_decode_fn)(const byte *, word32 *, ecc_key *, word32);
typedef int (*rsa_decode_fn)(const byte *, word32 *, RsaKey *, word32);

/* Tries EC then RSA with the given decoders; the whole input must be one
 * key. Returns 0 or a wolfCrypt error (the EC one when both fail). */
static int decode_key(const uint8_t *der, size_t len, dk_wolf_pkey *pk, ecc_decode_fn ecc_dec,
                      rsa_decode_fn rsa_dec, int is_private)
{
    memset(pk, 0, sizeof *pk);
    word32 idx = 0;
    int rc = wc_ecc_init(&pk->ecc);
    if (rc != 0)
        return rc;
    rc = ecc_dec(der, &idx, &pk->ecc, (word32)len);
    if (rc == 0 && idx == len && (!is_private || (rc = ensure_ec_public(&pk->ecc)) == 0)) {
        pk->type = DK_KEY_EC;
        return 0;
    }
    wc_ecc_free(&pk->ecc);
    int rrc = wc_InitRsaKey(&pk->rsa, NULL);
    if (rrc != 0)
        return rrc;
    idx = 0;
    rrc = rsa_dec(der, &idx, &pk->rsa, (word32)len);
    if (rrc == 0 && idx == len) {
        pk->type = DK_KEY_RSA;
        return 0;
    }
    wc_FreeRsaKey(&pk->rsa);
    return rc ? rc : ASN_PARSE_E;
}

/* PKCS#8 or traditional (RFC 5915 / PKCS#1) private key. */
static int decode_private(const uint8_t *der, size_t len, dk_wolf_pkey *pk)
{
    return decode_key(der, len, pk, wc_EccPrivateKeyDecode, wc_RsaPrivateKeyDecode, 1);
}

/* SubjectPublicKeyInfo (or a PKCS#1 RSAPublicKey). */
static int decode_public(const uint8_t *der, size_t len, dk_wolf_pkey *pk)
{
    return decode_key(der, len, pk, wc_EccPublicKeyDecode, wc_RsaPublicKeyDecode, 0);
}

static int ec_bits(ecc_key *k)
{
    int id = wc_ecc_get_curve_id(k->idx);
    if (id == ECC_SECP521R1)
        return 521;
    return wc_ecc_size(k) * 8;
}

/* The modulus' exact size (wc_RsaEncryptSize() counts whole bytes). */
static int rsa_bits(RsaKey *k)
{
#ifdef WOLFSSL_PUBLIC_MP
    return mp_count_bits(&k->n);
#else
    return wc_RsaEncryptSize(k) * 8;
#endif
}

/* wolfCrypt's PKCS#8 writers return the length, or 0 with *sz set. */
static int pkcs8_len(int rc, word32 sz)
{
    return rc > 0 ? rc : rc == 0 ? (int)sz : rc;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* The DER encodings of `pk` into a new backend key. */
static dk_err export_pkey(dk_wolf_pkey *pk, bool public_only, dk_bk_key **out, char *reason,
                          size_t cap)
{
    uint8_t *buf = malloc(KEY_DER_MAX), *tmp = malloc(KEY_DER_MAX);
    dk_bk_key *k = calloc(1, sizeof *k);
    if (!buf || !tmp || !k) {
        free(buf);
        free(tmp);
        free(k);
        return DK_ERR_NOMEM;
    }
    int n, rc = 0;
    word32 sz = KEY_DER_MAX;
    k->type = pk->type;
    k->public_only = public_only;
    if (pk->type == DK_KEY_EC) {
        k->bits = ec_bits(&pk->ecc);
        n = wc_EccPublicKeyToDer(&pk->ecc, buf, KEY_DER_MAX, 1);
        if (n > 0 && (k->pub = dup_bytes(buf, (size_t)n)))
            k->pub_len = (size_t)n;
        if (n > 0 && !public_only) {
            rc = pkcs8_len(wc_EccKeyToPKCS8(&pk->ecc, buf, &sz), sz);
            if (rc > 0 && (k->priv = dup_bytes(buf, (size_t)rc)))
                k->priv_len = (size_t)rc;
        }
    } else {
        k->bits = rsa_bits(&pk->rsa);
        n = wc_RsaKeyToPublicDer(&pk->rsa, buf, KEY_DER_MAX);
        if (n > 0 && (k->pub = dup_bytes(buf, (size_t)n)))
            k->pub_len = (size_t)n;
        if (n > 0 && !public_only) {
            int t = wc_RsaKeyToDer(&pk->rsa, tmp, KEY_DER_MAX);
            rc = t > 0 ? pkcs8_len(wc_CreatePKCS8Key(buf, &sz, tmp, (word32)t, RSAk, NULL, 0), sz)
                       : t;
            if (rc > 0 && (k->priv = dup_bytes(buf, (size_t)rc)))
                k->priv_len = (size_t)rc;
        }
    }
    dk_wolf_wipe(buf, KEY_DER_MAX);
    dk_wolf_wipe(tmp, KEY_DER_MAX);
    free(buf);
    free(tmp);
    if (n <= 0 || rc < 0 || !k->pub || (!public_only && !k->priv)) {
        dk_err e = n <= 0 || rc < 0 ? DK_ERR_TLS : DK_ERR_NOMEM;
        dk_wolf_reason(reason, cap, n <= 0 ? n : rc, "cannot encode the key");
        free(k->pub);
        free_secret(k->priv, k->priv_len);
        free(k);
        return e;
    }
    *out = k;
    return DK_OK;
}

static dk_err password_error(const char *password, char *reason, size_t cap)
{
    snprintf(reason, cap, "%s",
             password ? "wrong password for the encrypted key"
                      : "the key is encrypted: a password is needed");
    return DK_ERR_PASSWORD;
}

/* The length of the DER element at the start of `der`: wolfSSL leaves the
 * cipher padding after a key it decrypted from a DES-EDE3 PEM. */
static size_t first_element(const uint8_t *der, size_t len)
{
    dk_der d = {der, len}, content;
    uint8_t tag;
    return dk_der_next(&d, &tag, &content) ? len - d.n : len;
}

/* PEM: private (PKCS#8, encrypted PKCS#8, traditional, encrypted
 * traditional), or with public_only also a public key. */
static int parse_pem(const uint8_t *data, size_t len, const char *password, bool public_only,
                     dk_wolf_pkey *pk, bool *is_public, bool *encrypted)
{
    *encrypted = contains(data, len, "ENCRYPTED");
    uint8_t *der = malloc(len);
    if (!der)
        return MEMORY_E;
    int n = wc_KeyPemToDer(data, (int)len, der, (int)len, password);
    int rc = n > 0 ? decode_private(der, first_element(der, (size_t)n), pk) : n ? n : ASN_PARSE_E;
    if (rc != 0 && public_only && !*encrypted) {
        n = wc_PubKeyPemToDer(data, (int)len, der, (int)len);
        rc = n > 0 ? decode_public(der, (size_t)n, pk) : n ? n : ASN_PARSE_E;
        *is_public = rc == 0;
    }
    free_secret(der, len);
    return rc;
}

/* DER: encrypted PKCS#8, plain PKCS#8 or traditional private key, or with
 * public_only also a SubjectPublicKeyInfo. */
static int parse_der(const uint8_t *data, size_t len, const char *password, bool public_only,
                     dk_wolf_pkey *pk, bool *is_public, bool *encrypted)
{
    *encrypted = dk_der_is_encrypted_pkcs8(data, len);
    if (*encrypted) {
        if (!password)
            return BAD_FUNC_ARG;
        uint8_t *copy = dup_bytes(data, len);
        if (!copy)
            return MEMORY_E;
        /* Decrypts in place and returns the PrivateKeyInfo's length. */
        int n = wc_DecryptPKCS8Key(copy, (word32)len, password, (int)strlen(password));
        int rc = n > 0 ? decode_private(copy, (size_t)n, pk) : n ? n : ASN_PARSE_E;
        free_secret(copy, len);
        return rc;
    }
    int rc = decode_private(data, len, pk);
    if (rc != 0 && public_only) {
        rc = decode_public(data, len, pk);
        *is_public = rc == 0;
    }
    return rc;
}

static dk_err key_parse(const uint8_t *data, size_t len, const char *password, bool public_only,
                        dk_bk_key **out, char *reason, size_t cap)
{
    static const char tag[] = "-----BEGIN ";
    if (len > INT32_MAX) {
        snprintf(reason, cap, "key data too large");
        return DK_ERR_PARSE;
    }
    dk_wolf_pkey pk;
    bool is_public = false, encrypted = false;
    int rc = contains(data, len, tag)
                 ? parse_pem(data, len, password, public_only, &pk, &is_public, &encrypted)
                 : parse_der(data, len, password, public_only, &pk, &is_public, &encrypted);
    if (rc == MEMORY_E)
        return DK_ERR_NOMEM;
    if (rc != 0) {
        if (encrypted)
            return password_error(password, reason, cap);
        char lib[120];
        dk_wolf_reason(lib, sizeof lib, rc, "unsupported encoding");
        snprintf(reason, cap, "not a PEM or DER key (%s)", lib);
        return DK_ERR_PARSE;
    }
    dk_err e = export_pkey(&pk, public_only || is_public, out, reason, cap);
    dk_wolf_pkey_free(&pk);
    return e;
}

static dk_err key_write(const dk_bk_key *k, dk_format format, bool public_only, uint8_t **out,
                        size_t *out_len)
{
    bool pub = public_only || k->public_only;
    const uint8_t *der = pub ? k->pub : k->priv;
    size_t len = pub ? k->pub_len : k->priv_len;
    if (format == DK_FORMAT_DER) {
        if (!(*out = dup_bytes(der, len)))
            return DK_ERR_NOMEM;
        *out_len = len;
        return DK_OK;
    }
    /* Base64 grows by 4/3, plus a newline every 64 characters and the two
     * armour lines. */
    size_t cap = len * 2 + 128;
    uint8_t *pem = malloc(cap);
    if (!pem)
        return DK_ERR_NOMEM;
    int n = wc_DerToPem(der, (word32)len, pem, (word32)cap,
                        pub ? PUBLICKEY_TYPE : PKCS8_PRIVATEKEY_TYPE);
    if (n <= 0) {
        free_secret(pem, cap);
        return DK_ERR_TLS;
    }
    *out = pem;
    *out_len = (size_t)n;
    return DK_OK;
}

static dk_err key_generate_rsa(int bits, dk_bk_key **out, char *reason, size_t cap)
{
#ifdef RSA_MAX_SIZE
    if (bits > RSA_MAX_SIZE) {
        snprintf(reason, cap, "this wolfSSL build handles RSA keys of at most %d bits",
                 RSA_MAX_SIZE);
        return DK_ERR_UNAVAILABLE;
    }
#endif
    dk_wolf_pkey pk;
    memset(&pk, 0, sizeof pk);
    int rc = wc_InitRsaKey(&pk.rsa, NULL);
    if (rc != 0) {
        dk_wolf_reason(reason, cap, rc, "RSA key generation failed");
        return DK_ERR_TLS;
    }
    pk.type = DK_KEY_RSA;
    WC_RNG *rng = dk_wolf_rng_acquire();
    rc = wc_MakeRsaKey(&pk.rsa, bits, WC_RSA_EXPONENT, rng);
    dk_wolf_rng_release();
    dk_err e = DK_ERR_TLS;
    if (rc == 0)
        e = export_pkey(&pk, false, out, reason, cap);
    else
        dk_wolf_reason(reason, cap, rc, "RSA key generation failed");
    dk_wolf_pkey_free(&pk);
    return e;
}

static dk_err key_generate_ec(dk_ec_curve curve, dk_bk_key **out, char *reason, size_t cap)
{
    dk_wolf_pkey pk;
    memset(&pk, 0, sizeof pk);
    int rc = wc_ecc_init(&pk.ecc);
    if (rc != 0) {
        dk_wolf_reason(reason, cap, rc, "EC key generation failed");
        return DK_ERR_TLS;
    }
    pk.type = DK_KEY_EC;
    bool p384 = curve == DK_EC_P384;
    WC_RNG *rng = dk_wolf_rng_acquire();
    rc = wc_ecc_make_key_ex(rng, p384 ? 48 : 32, &pk.ecc, p384 ? ECC_SECP384R1 : ECC_SECP256R1);
    dk_wolf_rng_release();
    dk_err e = DK_ERR_TLS;
    if (rc == 0)
        e = export_pkey(&pk, false, out, reason, cap);
    else
        dk_wolf_reason(reason, cap, rc, "EC key generation failed");
    dk_wolf_pkey_free(&pk);
    return e;
}

dk_err dk_wolf_pkey_decode(const dk_bk_key *key, dk_wolf_pkey *out)
{
    if (!key->priv)
        return DK_ERR_INVALID;
    return decode_private(key->priv, key->priv_len, out) == 0 ? DK_OK : DK_ERR_TLS;
}

dk_err dk_wolf_spki_canonical(const uint8_t *spki, size_t len, uint8_t **out, size_t *out_len)
{
    dk_wolf_pkey pk;
    if (decode_public(spki, len, &pk) != 0)
        return DK_ERR_PARSE;
    dk_bk_key *k = NULL;
    char ignored[8];
    dk_err e = export_pkey(&pk, true, &k, ignored, sizeof ignored);
    dk_wolf_pkey_free(&pk);
    if (e != DK_OK)
        return e;
    *out = k->pub;
    *out_len = k->pub_len;
    free(k);
    return DK_OK;
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

static void key_free(dk_bk_key *k)
{
    if (!k)
        return;
    free_secret(k->priv, k->priv_len);
    free(k->pub);
    free(k);
}

const dk_bk_key_ops dk_wolf_key_ops = {
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
