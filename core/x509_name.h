/* Internal: certificate fields read from the DER by the core, so that every
 * backend prints the same text: subject and issuer names, the validity
 * period; and the Name writer behind dk_cert_generate_self_signed(). No
 * TLS library is involved. */
#ifndef DK_CORE_X509_NAME_H
#define DK_CORE_X509_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/error.h>

#include "der.h"

/* Longest value of one attribute the parser accepts, in bytes (mbedTLS
 * 2.28's limit, MBEDTLS_X509_MAX_DN_NAME_SIZE - 1). */
#define DK__NAME_VALUE_MAX 255
/* Largest DER Name the parser writes. */
#define DK__NAME_DER_MAX 2048

/* Windows on a certificate's DER: the whole issuer and subject Name
 * elements, and the contents and tags of notBefore / notAfter. */
typedef struct dk__x509_fields {
    dk__der issuer, subject;
    dk__der not_before, not_after;
    uint8_t not_before_tag, not_after_tag;
} dk__x509_fields;

/* Walks Certificate / TBSCertificate to the fields. False when the DER is
 * not one well-formed certificate up to the subject. */
bool dk__x509_read(const uint8_t *der, size_t len, dk__x509_fields *out);

/* A Name (the whole SEQUENCE element) as one line: RDNs in certificate
 * order joined by ", ", the attributes of a multi-valued RDN joined by
 * "+", each "KEY=value" with the value escaped as RFC 4514 says (and
 * control characters as \XX); attributes without a short name as dotted
 * OIDs, values that are not text as #hex of their DER (RFC 4514 2.4).
 * NUL-terminated, truncated when `cap` is short. DK_ERR_PARSE (malformed),
 * DK_ERR_BUFFER_TOO_SMALL. */
dk_err dk__x509_name_text(const uint8_t *name, size_t len, char *buf, size_t cap);

/* UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) contents to
 * seconds since the epoch. False when malformed. */
bool dk__x509_time(uint8_t tag, const uint8_t *s, size_t n, int64_t *out);

/* Parses a name such as "CN=a, O=b\, c, C=IT" (the text
 * dk__x509_name_text() writes, and the syntax mbedTLS accepts) into a DER
 * Name in `der` (DK__NAME_DER_MAX bytes are enough). `cn` receives the
 * value of the last CN ("" when none, or when it does not fit). On error,
 * DK_ERR_INVALID with the reason in `why`. */
dk_err dk__x509_name_parse(const char *text, uint8_t *der, size_t cap, size_t *der_len, char *cn,
                           size_t cn_cap, char *why, size_t why_cap);

#endif
