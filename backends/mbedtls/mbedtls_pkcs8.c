/* mbedTLS backend: encrypted PKCS#8 keys with PBES2 (RFC 8018).
 *
 * mbedTLS 2.28 decrypts PBES2 with DES and 3DES only, while OpenSSL 3 (and
 * most tools today) encrypts with AES-256-CBC: such a key fails with
 * MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE whatever the password, and in DER
 * the error is not even reported. This file decrypts PBES2 (PBKDF2 with any
 * HMAC mbedTLS knows; AES, Camellia, DES or 3DES in CBC mode) with mbedTLS
 * primitives and
 * hands the plain PKCS#8 to mbedtls_pk_parse_key. Other schemes (PKCS#12
 * PBE) stay with mbedTLS. */
#include <mbedtls/asn1.h>
#include <mbedtls/cipher.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls_backend.h"

#define OID_AES128_CBC MBEDTLS_OID_AES "\x02"
#define OID_AES192_CBC MBEDTLS_OID_AES "\x16"
#define OID_AES256_CBC MBEDTLS_OID_AES "\x2a"
/* 1.2.392.200011.61.1.1.1.{2,3,4}: camellia{128,192,256}-cbc (RFC 3657) */
#define OID_CAMELLIA_CBC "\x2a\x83\x08\x8c\x9a\x4b\x3d\x01\x01\x01"

#define SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)

/* Not encrypted PKCS#8 of ours: the caller lets mbedTLS try. */
#define NOT_MINE MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE

static bool oid_is(const mbedtls_asn1_buf *oid, const char *want, size_t want_len)
{
    return oid->len == want_len && memcmp(oid->p, want, want_len) == 0;
}

#define OID_IS(oid, name) oid_is(oid, name, MBEDTLS_OID_SIZE(name))

/* What PBES2-params says. */
typedef struct pbes2 {
    mbedtls_asn1_buf salt;
    int iterations;
    int key_len; /* 0: not given */
    mbedtls_md_type_t prf;
    mbedtls_cipher_type_t cipher;
    mbedtls_asn1_buf iv;
} pbes2;

static int parse_pbkdf2(const mbedtls_asn1_buf *params, pbes2 *out)
{
    if (params->tag != SEQ)
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    unsigned char *p = params->p, *end = params->p + params->len;
    size_t len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0)
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    out->salt.p = p;
    out->salt.len = len;
    p += len;
    if (mbedtls_asn1_get_int(&p, end, &out->iterations) != 0 || out->iterations <= 0)
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    out->key_len = 0;
    if (p < end && *p == MBEDTLS_ASN1_INTEGER &&
        (mbedtls_asn1_get_int(&p, end, &out->key_len) != 0 || out->key_len <= 0))
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    out->prf = MBEDTLS_MD_SHA1; /* the DEFAULT of RFC 8018 */
    if (p < end) {
        mbedtls_asn1_buf prf, prf_params;
        if (mbedtls_asn1_get_alg(&p, end, &prf, &prf_params) != 0)
            return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
        if (mbedtls_oid_get_md_hmac(&prf, &out->prf) != 0)
            return MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE;
    }
    return p == end ? 0 : MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
}

/* The last arc of the OID picks the key size. */
static bool camellia_cbc(const mbedtls_asn1_buf *oid, mbedtls_cipher_type_t *out)
{
#if defined(MBEDTLS_CAMELLIA_C)
    const size_t prefix = sizeof OID_CAMELLIA_CBC - 1;
    if (oid->len != prefix + 1 || memcmp(oid->p, OID_CAMELLIA_CBC, prefix) != 0)
        return false;
    switch (oid->p[prefix]) {
    case 2: *out = MBEDTLS_CIPHER_CAMELLIA_128_CBC; return true;
    case 3: *out = MBEDTLS_CIPHER_CAMELLIA_192_CBC; return true;
    case 4: *out = MBEDTLS_CIPHER_CAMELLIA_256_CBC; return true;
    default: return false;
    }
#else
    (void)oid;
    (void)out;
    return false;
#endif
}

/* The CBC ciphers of PBES2: mbedTLS's OID table knows DES and 3DES only. */
static bool cipher_of(const mbedtls_asn1_buf *oid, mbedtls_cipher_type_t *out)
{
    if (OID_IS(oid, OID_AES128_CBC))
        *out = MBEDTLS_CIPHER_AES_128_CBC;
    else if (OID_IS(oid, OID_AES192_CBC))
        *out = MBEDTLS_CIPHER_AES_192_CBC;
    else if (OID_IS(oid, OID_AES256_CBC))
        *out = MBEDTLS_CIPHER_AES_256_CBC;
    else
        return camellia_cbc(oid, out) || mbedtls_oid_get_cipher_alg(oid, out) == 0;
    return true;
}

static int parse_scheme(const mbedtls_asn1_buf *oid, const mbedtls_asn1_buf *params, pbes2 *out)
{
    if (!cipher_of(oid, &out->cipher))
        return MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE;
    if (params->tag != MBEDTLS_ASN1_OCTET_STRING)
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    out->iv = *params;
    return 0;
}

/* PBES2-params ::= SEQUENCE { keyDerivationFunc, encryptionScheme } */
static int parse_pbes2(const mbedtls_asn1_buf *params, pbes2 *out)
{
    if (params->tag != SEQ)
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    unsigned char *p = params->p, *end = params->p + params->len;
    mbedtls_asn1_buf kdf, kdf_params, enc, enc_params;
    if (mbedtls_asn1_get_alg(&p, end, &kdf, &kdf_params) != 0 ||
        mbedtls_asn1_get_alg(&p, end, &enc, &enc_params) != 0 || p != end)
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    if (!OID_IS(&kdf, MBEDTLS_OID_PKCS5_PBKDF2))
        return MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE;
    int ret = parse_pbkdf2(&kdf_params, out);
    return ret ? ret : parse_scheme(&enc, &enc_params, out);
}

/* A plausible PrivateKeyInfo: one SEQUENCE over all of it, starting with
 * the version INTEGER. Tells a wrong password from an odd key. */
static bool looks_like_pkcs8(const uint8_t *d, size_t n)
{
    unsigned char *p = (unsigned char *)d, *end = (unsigned char *)d + n;
    size_t len;
    int version;
    return mbedtls_asn1_get_tag(&p, end, &len, SEQ) == 0 && p + len == end &&
           mbedtls_asn1_get_int(&p, end, &version) == 0 && (version == 0 || version == 1);
}

static int decrypt(const pbes2 *a, const char *password, const uint8_t *enc, size_t enc_len,
                   uint8_t *plain, size_t *plain_len)
{
    const mbedtls_cipher_info_t *ci = mbedtls_cipher_info_from_type(a->cipher);
    const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(a->prf);
    if (!ci || !mi)
        return MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE;
    size_t key_len = ci->key_bitlen / 8;
    if ((a->key_len && (size_t)a->key_len != key_len) || a->iv.len != ci->iv_size || enc_len == 0 ||
        enc_len % ci->block_size)
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    uint8_t key[32];
    mbedtls_md_context_t md;
    mbedtls_cipher_context_t cipher;
    mbedtls_md_init(&md);
    mbedtls_cipher_init(&cipher);
    int ret = mbedtls_md_setup(&md, mi, 1);
    if (ret == 0)
        ret = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, strlen(password),
                                        a->salt.p, a->salt.len, (unsigned)a->iterations,
                                        (uint32_t)key_len, key);
    if (ret == 0)
        ret = mbedtls_cipher_setup(&cipher, ci);
    if (ret == 0)
        ret = mbedtls_cipher_setkey(&cipher, key, (int)ci->key_bitlen, MBEDTLS_DECRYPT);
    if (ret == 0)
        ret = mbedtls_cipher_set_padding_mode(&cipher, MBEDTLS_PADDING_PKCS7);
    if (ret == 0)
        ret = mbedtls_cipher_crypt(&cipher, a->iv.p, a->iv.len, enc, enc_len, plain, plain_len);
    mbedtls_platform_zeroize(key, sizeof key);
    mbedtls_cipher_free(&cipher);
    mbedtls_md_free(&md);
    /* A wrong key almost always shows as bad padding. */
    return ret == MBEDTLS_ERR_CIPHER_INVALID_PADDING ? MBEDTLS_ERR_PK_PASSWORD_MISMATCH : ret;
}

/* EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm, encryptedData } */
static int parse_epki(mbedtls_pk_context *pk, const uint8_t *der, size_t der_len,
                      const char *password)
{
    unsigned char *p = (unsigned char *)der, *end = (unsigned char *)der + der_len;
    size_t len;
    mbedtls_asn1_buf alg, params;
    if (mbedtls_asn1_get_tag(&p, end, &len, SEQ) != 0 || p + len != end ||
        mbedtls_asn1_get_alg(&p, end, &alg, &params) != 0 ||
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0 || p + len != end)
        return NOT_MINE;
    /* Encrypted, whatever the scheme: no password is a password error. */
    if (!password || !*password)
        return MBEDTLS_ERR_PK_PASSWORD_REQUIRED;
    if (!OID_IS(&alg, MBEDTLS_OID_PKCS5_PBES2))
        return NOT_MINE; /* PKCS#12 schemes: mbedTLS decrypts them */
    pbes2 a;
    int ret = parse_pbes2(&params, &a);
    if (ret != 0)
        return ret;
    uint8_t *plain = malloc(len + 32);
    if (!plain)
        return MBEDTLS_ERR_PK_ALLOC_FAILED;
    size_t plain_len = 0;
    ret = decrypt(&a, password, p, len, plain, &plain_len);
    if (ret == 0) {
        if (!looks_like_pkcs8(plain, plain_len))
            ret = MBEDTLS_ERR_PK_PASSWORD_MISMATCH;
        else
            ret = mbedtls_pk_parse_key(pk, plain, plain_len, NULL, 0);
    }
    mbedtls_platform_zeroize(plain, len + 32);
    free(plain);
    return ret;
}

int dk_mbed_pkcs8_parse(mbedtls_pk_context *pk, const uint8_t *data, size_t len,
                        const char *password)
{
    if (len && data[len - 1] == '\0') {
        mbedtls_pem_context pem;
        mbedtls_pem_init(&pem);
        size_t used;
        int ret =
            mbedtls_pem_read_buffer(&pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----",
                                    "-----END ENCRYPTED PRIVATE KEY-----", data, NULL, 0, &used);
        if (ret == 0)
            ret = parse_epki(pk, pem.buf, pem.buflen, password);
        mbedtls_pem_free(&pem);
        if (ret != MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT)
            return ret;
        /* Other PEM, or DER that happens to end with a zero byte. */
    }
    return parse_epki(pk, data, len, password);
}
