/* wolfSSL backend: the few DER reads and writes wolfSSL has no call for
 * (telling an encrypted PKCS#8 key apart, a certificate's exact length, its
 * iPAddress names; the dates of a generated certificate). */
#ifndef DK_WOLFSSL_DER_H
#define DK_WOLFSSL_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A window on DER bytes still to read. */
typedef struct dk_der {
    const uint8_t *p;
    size_t n;
} dk_der;

/* Reads the next element (single-byte tag, definite length) into its tag
 * and contents and advances `d`. False when malformed or empty. */
bool dk_der_next(dk_der *d, uint8_t *tag, dk_der *content);

/* True when `der` is exactly one element of tag `tag`. */
bool dk_der_is_one(const uint8_t *der, size_t len, uint8_t tag);

/* True for an EncryptedPrivateKeyInfo (PKCS#8 with a PKCS#5 or PKCS#12
 * password-based scheme). */
bool dk_der_is_encrypted_pkcs8(const uint8_t *der, size_t len);

/* The GeneralNames of certificate `der`'s subjectAltName (each element
 * keeps its context tag: 0x82 dNSName, 0x87 iPAddress). False when none. */
bool dk_der_cert_san(const uint8_t *der, size_t len, dk_der *names);

/* True when certificate `der` lists `ip` (4 or 16 bytes) among the
 * iPAddress entries of its subjectAltName. */
bool dk_der_cert_has_ip(const uint8_t *der, size_t len, const uint8_t *ip, size_t ip_len);

/* Growing output buffer for the writers; `ok` turns false on overflow. */
typedef struct dk_der_out {
    uint8_t *buf;
    size_t cap, len;
    bool ok;
} dk_der_out;

/* Appends tag, length and `content`. */
void dk_der_put(dk_der_out *o, uint8_t tag, const void *content, size_t len);

/* UTCTime up to 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
bool dk_der_time(dk_der_out *o, int64_t t);

#endif
