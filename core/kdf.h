/* Internal: HKDF-SHA256 (RFC 5869) over the backend's HMAC, and the
 * per-period keys that the cookie and ticket secrets are made of:
 *
 *   key(secret, purpose, label, g) =
 *       HKDF-Expand(HKDF-Extract("dtlskit", secret),
 *                   "dtlskit " purpose " " label || g (8 bytes, big-endian), 32)
 *
 * g being a rotation period number read from the wall clock, so that every
 * process and host holding `secret` computes the same key for a period
 * without talking to the others. */
#ifndef DK_CORE_KDF_H
#define DK_CORE_KDF_H

#include <stddef.h>
#include <stdint.h>

#include <dtlskit/backend.h>
#include <dtlskit/error.h>

#define DK__HKDF_HASH_LEN 32

dk_err dk__hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                        uint8_t prk[DK__HKDF_HASH_LEN]);

/* `info` is the concatenation of `n` parts; `len` at most 255 * 32. */
dk_err dk__hkdf_expand(const uint8_t prk[DK__HKDF_HASH_LEN], const dk_bk_iov *info, size_t n,
                       uint8_t *out, size_t len);

/* The key above. */
dk_err dk__period_key(const uint8_t *secret, size_t secret_len, const char *purpose,
                      const char *label, uint64_t period, uint8_t out[DK__HKDF_HASH_LEN]);

#endif
