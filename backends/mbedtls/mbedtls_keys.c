/* mbedTLS backend: private and public keys. mbedtls_pk_parse_key reads
 * PKCS#8 (plain and encrypted), SEC1 and PKCS#1 in PEM and DER; encrypted
 * PKCS#8 with AES, which 2.28 cannot decrypt, goes through mbedtls_pkcs8.c. */
#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs12.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls_backend.h"

/* Largest encoding written: an 8192-bit RSA private key in PEM is ~6.5 kB. */
#define KEY_BUF_MAX 65536

static bool looks_pem(const uint8_t *d, size_t n)
{
    static const char tag[] = "-----BEGIN ";
    for (size_t i = 0; i + sizeof tag - 1 <= n; i++)
        if (memcmp(d + i, tag, sizeof tag - 1) == 0)
            return true;
    return false;
}

static dk_bk_key *key_new(bool public_only)
{
    dk_bk_key *k = calloc(1, sizeof *k);
    if (k) {
        mbedtls_pk_init(&k->pk);
        k->public_only = public_only;
    }
    return k;
}

static void key_free(dk_bk_key *k)
{
    if (!k)
        return;
    mbedtls_pk_free(&k->pk);
    free(k);
}

/* Private key from `buf` (PEM with its NUL counted in `n`, or DER). */
static int parse_private(mbedtls_pk_context *pk, const uint8_t *buf, size_t n, const char *password)
{
    int ret = dk_mbed_pkcs8_parse(pk, buf, n, password);
    if (ret != MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE)
        return ret;
    const unsigned char *pwd = (const unsigned char *)password;
    return mbedtls_pk_parse_key(pk, buf, n, pwd, password ? strlen(password) : 0);
}

/* SubjectPublicKeyInfo DER of `pk` into `der` (`cap` bytes); returns the
 * length, written at the start of `der`, or a negative mbedTLS error. */
static int public_der(const mbedtls_pk_context *pk, uint8_t *der, size_t cap)
{
    int len = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)pk, der, cap);
    if (len > 0)
        memmove(der, der + cap - (size_t)len, (size_t)len);
    return len;
}

/* Replaces a private key with a copy of its public part only. */
static int drop_private(mbedtls_pk_context *pk)
{
    uint8_t der[4096]; /* 8192-bit RSA public key: ~1.1 kB */
    int len = public_der(pk, der, sizeof der);
    if (len < 0)
        return len;
    mbedtls_pk_context pub;
    mbedtls_pk_init(&pub);
    int ret = mbedtls_pk_parse_public_key(&pub, der, (size_t)len);
    mbedtls_pk_free(pk);
    *pk = pub; /* a plain struct copy: the context owns heap data only */
    return ret;
}

static dk_err key_parse(const uint8_t *data, size_t len, const char *password, bool public_only,
                        dk_bk_key **out, char *reason, size_t cap)
{
    /* PEM parsers want a NUL-terminated buffer, NUL included in the length. */
    bool pem = looks_pem(data, len);
    size_t n = pem ? len + 1 : len;
    uint8_t *buf = malloc(n);
    dk_bk_key *k = key_new(public_only);
    if (!buf || !k) {
        free(buf);
        key_free(k);
        return DK_ERR_NOMEM;
    }
    memcpy(buf, data, len);
    if (pem)
        buf[len] = '\0';
    int ret = parse_private(&k->pk, buf, n, password);
    if (ret == 0 && public_only)
        ret = drop_private(&k->pk);
    int priv_ret = ret;
    if (ret != 0 && public_only && !dk_mbed_is_password_error(ret)) {
        mbedtls_pk_free(&k->pk);
        mbedtls_pk_init(&k->pk);
        ret = mbedtls_pk_parse_public_key(&k->pk, buf, n);
    }
    mbedtls_platform_zeroize(buf, n);
    free(buf);
    if (ret == 0) {
        *out = k;
        return DK_OK;
    }
    key_free(k);
    if (dk_mbed_is_password_error(priv_ret)) {
        snprintf(reason, cap, "%s",
                 password ? "wrong password for the encrypted key"
                          : "the key is encrypted: a password is needed");
        return DK_ERR_PASSWORD;
    }
    if (priv_ret == MBEDTLS_ERR_PK_ALLOC_FAILED || ret == MBEDTLS_ERR_PK_ALLOC_FAILED)
        return DK_ERR_NOMEM;
    if (priv_ret == MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE ||
        priv_ret == MBEDTLS_ERR_PKCS12_FEATURE_UNAVAILABLE) {
        dk_mbed_reason(priv_ret, "the key is encrypted with an unsupported algorithm", reason, cap);
        return DK_ERR_PARSE;
    }
    dk_mbed_reason(priv_ret, "not a PEM or DER key", reason, cap);
    return DK_ERR_PARSE;
}

/* One encoding attempt into `buf` of `cap` bytes: the length of the result
 * moved to the start of `buf`, or a negative mbedTLS error. */
static int encode(mbedtls_pk_context *pk, dk_format format, bool pub, uint8_t *buf, size_t cap)
{
    if (format == DK_FORMAT_PEM) {
        int ret = pub ? mbedtls_pk_write_pubkey_pem(pk, buf, cap)
                      : mbedtls_pk_write_key_pem(pk, buf, cap);
        return ret == 0 ? (int)strlen((const char *)buf) : ret;
    }
    int len =
        pub ? mbedtls_pk_write_pubkey_der(pk, buf, cap) : mbedtls_pk_write_key_der(pk, buf, cap);
    if (len > 0)
        memmove(buf, buf + cap - (size_t)len, (size_t)len);
    return len;
}

static dk_err key_write(const dk_bk_key *k, dk_format format, bool public_only, uint8_t **out,
                        size_t *out_len)
{
    bool pub = public_only || k->public_only;
    mbedtls_pk_context *pk = (mbedtls_pk_context *)&k->pk; /* 2.28's writers are not const */
    for (size_t cap = 4096; cap <= KEY_BUF_MAX; cap *= 2) {
        uint8_t *buf = malloc(cap);
        if (!buf)
            return DK_ERR_NOMEM;
        int len = encode(pk, format, pub, buf, cap);
        if (len > 0) {
            /* PEM text without its NUL, in a buffer of the exact size. */
            uint8_t *res = malloc((size_t)len);
            if (res)
                memcpy(res, buf, (size_t)len);
            mbedtls_platform_zeroize(buf, cap);
            free(buf);
            if (!res)
                return DK_ERR_NOMEM;
            *out = res;
            *out_len = (size_t)len;
            return DK_OK;
        }
        mbedtls_platform_zeroize(buf, cap);
        free(buf);
        if (len != MBEDTLS_ERR_ASN1_BUF_TOO_SMALL && len != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
            return DK_ERR_TLS;
    }
    return DK_ERR_TLS;
}

static dk_err key_generate_rsa(int bits, dk_bk_key **out, char *reason, size_t cap)
{
    dk_bk_key *k = key_new(false);
    if (!k)
        return DK_ERR_NOMEM;
    int ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    if (ret == 0)
        ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(k->pk), mbedtls_ctr_drbg_random, dk_mbed_drbg(),
                                  (unsigned)bits, 65537);
    if (ret != 0) {
        key_free(k);
        dk_mbed_reason(ret, "RSA key generation failed", reason, cap);
        return DK_ERR_TLS;
    }
    *out = k;
    return DK_OK;
}

static dk_err key_generate_ec(dk_ec_curve curve, dk_bk_key **out, char *reason, size_t cap)
{
    dk_bk_key *k = key_new(false);
    if (!k)
        return DK_ERR_NOMEM;
    mbedtls_ecp_group_id gid =
        curve == DK_EC_P384 ? MBEDTLS_ECP_DP_SECP384R1 : MBEDTLS_ECP_DP_SECP256R1;
    int ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0)
        ret =
            mbedtls_ecp_gen_key(gid, mbedtls_pk_ec(k->pk), mbedtls_ctr_drbg_random, dk_mbed_drbg());
    if (ret != 0) {
        key_free(k);
        dk_mbed_reason(ret, "EC key generation failed", reason, cap);
        return DK_ERR_TLS;
    }
    *out = k;
    return DK_OK;
}

static bool key_is_public_only(const dk_bk_key *k)
{
    return k->public_only;
}

static dk_key_type key_type(const dk_bk_key *k)
{
    switch (mbedtls_pk_get_type(&k->pk)) {
    case MBEDTLS_PK_RSA: return DK_KEY_RSA;
    case MBEDTLS_PK_ECKEY:
    case MBEDTLS_PK_ECKEY_DH:
    case MBEDTLS_PK_ECDSA: return DK_KEY_EC;
    default: return (dk_key_type)0;
    }
}

static int key_bits(const dk_bk_key *k)
{
    return (int)mbedtls_pk_get_bitlen(&k->pk);
}

const dk_bk_key_ops dk_mbed_key_ops = {
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
