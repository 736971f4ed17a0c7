/* Internal: the TLS 1.2 pseudo-random function (RFC 5246 section 5), over
 * the backend's HMAC, and the key block of an AEAD suite (section 6.3). */
#ifndef DK_CORE_PRF_H
#define DK_CORE_PRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/error.h>

/* PRF(secret, label, seed1 || seed2) -> out_len bytes, with P_SHA256, or
 * P_SHA384 when `sha384`. DK_ERR_UNAVAILABLE when the backend lacks that
 * HMAC; out_len at most 256. */
dk_err dk__prf(bool sha384, const uint8_t *secret, size_t secret_len, const char *label,
               const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
               uint8_t *out, size_t out_len);

#endif
