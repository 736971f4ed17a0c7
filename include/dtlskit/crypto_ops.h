/** @file
 * dtlskit — cryptographic operations: random bytes, hashing, HMAC,
 * signatures, RSA encryption, constant-time comparison.
 *
 * Godot equivalents: Crypto.generate_random_bytes (dk_random_bytes),
 * HashingContext (dk_hash_*), HMACContext and Crypto.hmac_digest
 * (dk_hmac_*), Crypto.sign / verify (dk_key_sign / dk_key_verify),
 * Crypto.encrypt / decrypt (dk_key_encrypt / dk_key_decrypt) and
 * Crypto.constant_time_compare (dk_constant_time_compare). Everything but the
 * comparison is done by the TLS library the build selected.
 *
 * Every call checks its arguments before doing anything: a NULL pointer, an
 * unknown hash type, a hash whose length does not match its type, a call on a
 * finished context... fails with DK_ERR_INVALID or DK_ERR_STATE, a sentence
 * for dk_last_error(), and no change to any object. A hash type the linked
 * library build lacks gives DK_ERR_UNAVAILABLE. Buffers returned through
 * `void **out` are released with dk_free().
 *
 * Contexts are used by one thread at a time; separate contexts may be used
 * from separate threads.
 */
#ifndef DTLSKIT_CRYPTO_OPS_H
#define DTLSKIT_CRYPTO_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/crypto.h>
#include <dtlskit/error.h>
#include <dtlskit/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Hash algorithms. Godot's HashingContext.HashType has MD5, SHA1 and
 *  SHA256; SHA-384 and SHA-512 are extra. */
typedef enum dk_hash_type {
    /** MD5, 16 bytes (broken: for compatibility only). */
    DK_HASH_MD5 = 1,
    /** SHA-1, 20 bytes (weak: for compatibility only). */
    DK_HASH_SHA1 = 2,
    /** SHA-256, 32 bytes. */
    DK_HASH_SHA256 = 3,
    /** SHA-384, 48 bytes. */
    DK_HASH_SHA384 = 4,
    /** SHA-512, 64 bytes. */
    DK_HASH_SHA512 = 5
} dk_hash_type;

/** Largest digest of any dk_hash_type (SHA-512), for output buffers. */
#define DK_HASH_MAX_SIZE 64

/** Longest HMAC key accepted, in bytes (keys longer than the hash's block
 *  are hashed first, as RFC 2104 says). */
#define DK_HMAC_KEY_MAX 65536

/** Digest length of `type` in bytes (16, 20, 32, 48, 64); 0 for an unknown
 *  type. */
DK_API size_t dk_hash_size(dk_hash_type type);

/* ------------------------------------------------------------ randomness */

/** Fills `out` with `len` cryptographically secure random bytes from the
 *  backend's generator (reseeded in a forked child). Errors: DK_ERR_INVALID
 *  (NULL out, len 0), DK_ERR_TLS. Godot: Crypto.generate_random_bytes(size). */
DK_API dk_err dk_random_bytes(void *out, size_t len);

/* --------------------------------------------------------------- hashing */

/** A running hash computation (opaque; Godot: HashingContext), from
 *  dk_hash_start(), freed with dk_hash_free(). Not for concurrent use. */
typedef struct dk_hash_ctx dk_hash_ctx;

/** Starts a hash computation. Errors: DK_ERR_INVALID (unknown type),
 *  DK_ERR_UNAVAILABLE (the library build lacks it), DK_ERR_NOMEM.
 *  Godot: HashingContext.start(type). */
DK_API dk_hash_ctx *dk_hash_start(dk_hash_type type, dk_err *err);

/** Adds `len` bytes (`data` may be NULL when len is 0). Errors:
 *  DK_ERR_INVALID, DK_ERR_STATE (after dk_hash_finish() or a failure).
 *  Godot: HashingContext.update(chunk). */
DK_API dk_err dk_hash_update(dk_hash_ctx *ctx, const void *data, size_t len);

/** Writes the digest into `out` (`cap` bytes, at least dk_hash_size()) and
 *  its length into `*len`; the context is then finished: only
 *  dk_hash_free() remains. DK_ERR_BUFFER_TOO_SMALL (with *len set to the
 *  size needed) leaves the context running. Godot: HashingContext.finish(). */
DK_API dk_err dk_hash_finish(dk_hash_ctx *ctx, uint8_t *out, size_t cap, size_t *len);

/** Releases the context (running or finished). NULL is ignored. */
DK_API void dk_hash_free(dk_hash_ctx *ctx);

/** One-shot hash of `len` bytes, as start, update, finish. */
DK_API dk_err dk_hash_digest(dk_hash_type type, const void *data, size_t len, uint8_t *out,
                             size_t cap, size_t *out_len);

/* ------------------------------------------------------------------ HMAC */

/** A running HMAC computation (opaque; Godot: HMACContext), from
 *  dk_hmac_start(), freed with dk_hmac_free(). Not for concurrent use. */
typedef struct dk_hmac_ctx dk_hmac_ctx;

/** Starts an HMAC (RFC 2104) of `type` under `key` (1 to DK_HMAC_KEY_MAX
 *  bytes, copied). Errors: DK_ERR_INVALID (unknown type, NULL or empty or
 *  oversized key), DK_ERR_UNAVAILABLE, DK_ERR_NOMEM.
 *  Godot: HMACContext.start(hash_type, key). */
DK_API dk_hmac_ctx *dk_hmac_start(dk_hash_type type, const void *key, size_t key_len, dk_err *err);

/** As dk_hash_update(). Godot: HMACContext.update(data). */
DK_API dk_err dk_hmac_update(dk_hmac_ctx *ctx, const void *data, size_t len);

/** As dk_hash_finish(). Godot: HMACContext.finish(). */
DK_API dk_err dk_hmac_finish(dk_hmac_ctx *ctx, uint8_t *out, size_t cap, size_t *len);

/** Releases the context and wipes its key material. NULL is ignored. */
DK_API void dk_hmac_free(dk_hmac_ctx *ctx);

/** One-shot HMAC. Godot: Crypto.hmac_digest(hash_type, key, msg). */
DK_API dk_err dk_hmac_digest(dk_hash_type type, const void *key, size_t key_len, const void *data,
                             size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* ------------------------------------------------------------ signatures */

/** Signs `hash`, a digest the caller computed with `type` (DK_HASH_SHA256,
 *  _SHA384 or _SHA512; `hash_len` must be dk_hash_size(type)), with a
 *  private key: RSA keys make an RSASSA-PKCS1-v1_5 signature (RFC 8017,
 *  with the DigestInfo of `type`), EC keys an ECDSA signature encoded as
 *  DER (SEQUENCE of r and s); a hash longer than the curve's order is
 *  truncated to its leftmost bits, as SEC 1 says (SHA-512 on P-256 uses
 *  the first 256 bits). `*sig` is freed with dk_free(). Errors:
 *  DK_ERR_INVALID (NULL, public-only key, MD5 or SHA-1, wrong hash length),
 *  DK_ERR_UNAVAILABLE, DK_ERR_TLS. Godot: Crypto.sign(hash_type, hash,
 *  key). */
DK_API dk_err dk_key_sign(const dk_key *key, dk_hash_type type, const void *hash, size_t hash_len,
                          void **sig, size_t *sig_len);

/** Checks a signature made as dk_key_sign() describes, with a private or
 *  public-only key. DK_OK when it verifies, DK_ERR_SIGNATURE when it does
 *  not (including a malformed signature); DK_ERR_INVALID as dk_key_sign()
 *  (a public-only key is fine here). Godot: Crypto.verify(hash_type, hash,
 *  signature, key), which returns a bool. */
DK_API dk_err dk_key_verify(const dk_key *key, dk_hash_type type, const void *hash, size_t hash_len,
                            const void *sig, size_t sig_len);

/* -------------------------------------------------------- RSA encryption */

/** Encrypts `len` bytes (1 to the key's size in bytes minus 11) with an RSA
 *  key's public part, RSAES-PKCS1-v1_5 (RFC 8017 section 7.2). `*out` holds
 *  as many bytes as the modulus and is freed with dk_free(). Errors:
 *  DK_ERR_INVALID (NULL, empty input, EC key), DK_ERR_TOO_BIG (input
 *  longer than the key allows), DK_ERR_TLS. Godot: Crypto.encrypt(key,
 *  plaintext). */
DK_API dk_err dk_key_encrypt(const dk_key *key, const void *in, size_t len, void **out,
                             size_t *out_len);

/** Decrypts what dk_key_encrypt() produced, with the RSA private key.
 *  Errors: DK_ERR_INVALID (NULL, public-only or EC key, `len` other than
 *  the key's size in bytes), DK_ERR_TLS (the ciphertext does not decrypt
 *  under this key: wrong key, corrupted bytes; dk_last_error() gives the
 *  same sentence for every such failure, not the padding check that
 *  failed). Godot: Crypto.decrypt(key,
 *  ciphertext). */
DK_API dk_err dk_key_decrypt(const dk_key *key, const void *in, size_t len, void **out,
                             size_t *out_len);

/* ------------------------------------------------------------ comparison */

/** True when the two byte strings are equal, in a time that depends on the
 *  lengths only, never on the contents (for MACs and tokens). Different
 *  lengths give false at once, as in Godot; NULL is allowed only with a
 *  length of 0. Godot: Crypto.constant_time_compare(trusted, received). */
DK_API bool dk_constant_time_compare(const void *a, size_t a_len, const void *b, size_t b_len);

#ifdef __cplusplus
}
#endif

#endif
