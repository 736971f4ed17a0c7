/* The TLS 1.2 PRF (see prf.h). */
#include "prf.h"

#include <string.h>

#include "library.h"

#define PRF_MAX_OUT 256

static dk_err hmac(bool sha384, const uint8_t *key, size_t key_len, const dk_bk_iov *parts,
                   size_t n, uint8_t *out)
{
    if (!sha384)
        return DK__BK->library->hmac_sha256(key, key_len, parts, n, out);
    if (!DK__BK_HAS(library, hmac_sha384))
        return DK_ERR_UNAVAILABLE;
    return DK__BK->library->hmac_sha384(key, key_len, parts, n, out);
}

dk_err dk__prf(bool sha384, const uint8_t *secret, size_t secret_len, const char *label,
               const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
               uint8_t *out, size_t out_len)
{
    if (out_len > PRF_MAX_OUT)
        return DK_ERR_INVALID;
    size_t hlen = sha384 ? 48 : 32;
    /* P_hash: A(0) = seed, A(i) = HMAC(secret, A(i-1)),
     * output = HMAC(secret, A(1) || seed) || HMAC(secret, A(2) || seed) ... */
    const dk_bk_iov seed[3] = {{label, strlen(label)}, {seed1, seed1_len}, {seed2, seed2_len}};
    uint8_t a[48], block[48];
    dk_err e = hmac(sha384, secret, secret_len, seed, 3, a);
    size_t done = 0;
    while (e == DK_OK && done < out_len) {
        const dk_bk_iov parts[4] = {{a, hlen}, seed[0], seed[1], seed[2]};
        e = hmac(sha384, secret, secret_len, parts, 4, block);
        if (e != DK_OK)
            break;
        size_t n = out_len - done < hlen ? out_len - done : hlen;
        memcpy(out + done, block, n);
        done += n;
        if (done < out_len) {
            const dk_bk_iov next = {a, hlen};
            e = hmac(sha384, secret, secret_len, &next, 1, block); /* no aliasing */
            memcpy(a, block, hlen);
        }
    }
    explicit_bzero(a, sizeof a);
    explicit_bzero(block, sizeof block);
    return e;
}
