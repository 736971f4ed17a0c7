/* wolfSSL backend: self-signed certificates with wolfCrypt's certificate
 * generator. The subject goes in raw (sbjRaw/issRaw), because wolfCrypt's
 * CertName fields would be written in its own fixed order (C, ST, L, O,
 * OU, CN...) rather than in the order the caller gave. */
#include "wolfssl_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/asn_public.h>

#include "wolfssl_der.h"

/* Large enough for any certificate made here (RSA_MAX_SIZE, a subject of
 * at most sizeof(Cert.sbjRaw), one DNS name). */
#define CERT_DER_MAX 16384

/* Subject and issuer: the contents of the core's Name (its RDN sets),
 * which is what sbjRaw and issRaw hold. wolfCrypt copies them up to their
 * first NUL byte (it takes their length with strlen), so a Name whose
 * encoding holds a zero byte (a length of exactly 256, 512...) cannot be
 * carried. wc_SetSubjectRaw() (WOLFSSL_CERT_EXT, which Debian's build has)
 * copies the subject of another certificate, not a Name, and has the same
 * limit. */
static bool set_name(Cert *cert, const uint8_t *name_der, size_t name_len)
{
    dk_der d = {name_der, name_len}, rdns;
    uint8_t tag;
    if (!dk_der_next(&d, &tag, &rdns) || tag != 0x30 || rdns.n == 0 ||
        rdns.n >= sizeof cert->sbjRaw || memchr(rdns.p, 0, rdns.n))
        return false;
    memcpy(cert->sbjRaw, rdns.p, rdns.n);
    cert->sbjRaw[rdns.n] = 0;
    memcpy(cert->issRaw, rdns.p, rdns.n);
    cert->issRaw[rdns.n] = 0;
    return true;
}

static bool set_dates(Cert *cert, int64_t not_before, int64_t not_after)
{
    dk_der_out b = {cert->beforeDate, sizeof cert->beforeDate, 0, true};
    dk_der_out a = {cert->afterDate, sizeof cert->afterDate, 0, true};
    if (!dk_der_time(&b, not_before) || !dk_der_time(&a, not_after))
        return false;
    cert->beforeDateSz = (int)b.len;
    cert->afterDateSz = (int)a.len;
    return true;
}

/* subjectAltName: GeneralNames holding one dNSName. */
static bool set_dns_name(Cert *cert, const char *dns_name)
{
    uint8_t name[300];
    dk_der_out n = {name, sizeof name, 0, true};
    dk_der_put(&n, 0x82, dns_name, strlen(dns_name)); /* [2] dNSName */
    dk_der_out o = {cert->altNames, sizeof cert->altNames, 0, true};
    dk_der_put(&o, 0x30, name, n.len);
    if (!n.ok || !o.ok)
        return false;
    cert->altNamesSz = (int)o.len;
    return true;
}

static dk_err fill(Cert *cert, dk_wolf_pkey *pk, const uint8_t *name_der, size_t name_len,
                   const char *dns_name, int64_t not_before, int64_t not_after,
                   const uint8_t serial[16], char *reason, size_t cap)
{
    int rc = wc_InitCert(cert);
    if (rc != 0) {
        dk_wolf_reason(reason, cap, rc, "cannot initialise the certificate");
        return DK_ERR_TLS;
    }
    if (!set_name(cert, name_der, name_len)) {
        snprintf(reason, cap,
                 "wolfSSL's certificate generator cannot carry this name (%zu bytes at most, "
                 "no zero byte in its DER: no value or RDN of exactly 256, 512... bytes)",
                 sizeof cert->sbjRaw - 1);
        return DK_ERR_INVALID;
    }
    if (!set_dates(cert, not_before, not_after)) {
        snprintf(reason, cap, "validity dates cannot be encoded");
        return DK_ERR_INVALID;
    }
    if (dns_name && !set_dns_name(cert, dns_name)) {
        snprintf(reason, cap, "host name '%s' is too long", dns_name);
        return DK_ERR_INVALID;
    }
    cert->version = 2; /* X.509 v3 */
    memcpy(cert->serial, serial, 16);
    cert->serialSz = 16;
    cert->selfSigned = 1;
    /* Self-signed: it is its own CA, as Godot's are. */
    cert->isCA = 1;
    bool rsa = pk->type == DK_KEY_RSA;
    cert->sigType = rsa ? CTC_SHA256wRSA : CTC_SHA256wECDSA;
    rc = wc_SetKeyUsage(cert, "digitalSignature,keyCertSign,keyEncipherment");
    if (rc == 0)
        rc = wc_SetSubjectKeyIdFromPublicKey_ex(cert, rsa ? RSA_TYPE : ECC_TYPE,
                                                rsa ? (void *)&pk->rsa : (void *)&pk->ecc);
    if (rc != 0) {
        dk_wolf_reason(reason, cap, rc, "cannot set the certificate extensions");
        return DK_ERR_TLS;
    }
    return DK_OK;
}

dk_err dk_wolf_cert_self_signed(const dk_bk_key *key, const uint8_t *name_der, size_t name_len,
                                const char *dns_name, int64_t not_before, int64_t not_after,
                                const uint8_t serial[16], dk_bk_cert **out, char *reason,
                                size_t cap)
{
    dk_wolf_pkey pk;
    if (dk_wolf_pkey_decode(key, &pk) != DK_OK) {
        snprintf(reason, cap, "the key has no usable private part");
        return DK_ERR_INVALID;
    }
    Cert *cert = malloc(sizeof *cert);
    uint8_t *der = malloc(CERT_DER_MAX);
    if (!cert || !der) {
        free(cert);
        free(der);
        dk_wolf_pkey_free(&pk);
        return DK_ERR_NOMEM;
    }
    dk_err e =
        fill(cert, &pk, name_der, name_len, dns_name, not_before, not_after, serial, reason, cap);
    if (e == DK_OK) {
        RsaKey *rsa = pk.type == DK_KEY_RSA ? &pk.rsa : NULL;
        ecc_key *ecc = pk.type == DK_KEY_EC ? &pk.ecc : NULL;
        WC_RNG *rng = dk_wolf_rng_acquire();
        int rc = wc_MakeCert(cert, der, CERT_DER_MAX, rsa, ecc, rng);
        if (rc > 0)
            rc = wc_SignCert(cert->bodySz, cert->sigType, der, CERT_DER_MAX, rsa, ecc, rng);
        dk_wolf_rng_release();
        if (rc > 0) {
            e = dk_wolf_cert_new(der, (size_t)rc, out, reason, cap);
        } else {
            dk_wolf_reason(reason, cap, rc, "cannot create the certificate");
            e = DK_ERR_TLS;
        }
    }
    free(der);
    free(cert);
    dk_wolf_pkey_free(&pk);
    return e;
}
