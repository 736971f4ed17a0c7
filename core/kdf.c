/* HKDF-SHA256 and per-period keys (see kdf.h). */
#include "kdf.h"

#include <string.h>

#include "library.h"

dk_err dk__hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                        uint8_t prk[DK__HKDF_HASH_LEN])
{
    static const uint8_t zeros[DK__HKDF_HASH_LEN];
    if (!salt || !salt_len) { /* RFC 5869 2.2: HashLen zeros */
        salt = zeros;
        salt_len = sizeof zeros;
    }
    dk_bk_iov part = {ikm, ikm_len};
    return DK__BK->library->hmac_sha256(salt, salt_len, &part, 1, prk);
}

#define INFO_PARTS_MAX 4

dk_err dk__hkdf_expand(const uint8_t prk[DK__HKDF_HASH_LEN], const dk_bk_iov *info, size_t n,
                       uint8_t *out, size_t len)
{
    if (len > 255 * DK__HKDF_HASH_LEN || n > INFO_PARTS_MAX)
        return DK_ERR_INTERNAL;
    uint8_t t[DK__HKDF_HASH_LEN];
    size_t tlen = 0, done = 0;
    dk_err e = DK_OK;
    /* T(i) = HMAC(PRK, T(i-1) || info || i) */
    for (uint8_t i = 1; done < len && e == DK_OK; i++) {
        dk_bk_iov parts[INFO_PARTS_MAX + 2];
        size_t k = 0;
        parts[k++] = (dk_bk_iov){t, tlen};
        for (size_t j = 0; j < n; j++)
            parts[k++] = info[j];
        parts[k++] = (dk_bk_iov){&i, 1};
        e = DK__BK->library->hmac_sha256(prk, DK__HKDF_HASH_LEN, parts, k, t);
        tlen = sizeof t;
        size_t take = len - done < tlen ? len - done : tlen;
        memcpy(out + done, t, take);
        done += take;
    }
    explicit_bzero(t, sizeof t);
    return e;
}

dk_err dk__period_key(const uint8_t *secret, size_t secret_len, const char *purpose,
                      const char *label, uint64_t period, uint8_t out[DK__HKDF_HASH_LEN])
{
    static const char salt[] = "dtlskit";
    static const char tag[] = "dtlskit ";
    uint8_t prk[DK__HKDF_HASH_LEN], g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (uint8_t)(period >> (56 - 8 * i));
    char words[64];
    size_t pl = strlen(purpose), ll = strlen(label);
    if (pl + 1 + ll > sizeof words)
        return DK_ERR_INTERNAL;
    memcpy(words, purpose, pl);
    words[pl] = ' ';
    memcpy(words + pl + 1, label, ll);
    const dk_bk_iov info[3] = {{tag, sizeof tag - 1}, {words, pl + 1 + ll}, {g, sizeof g}};
    dk_err e = dk__hkdf_extract((const uint8_t *)salt, sizeof salt - 1, secret, secret_len, prk);
    if (e == DK_OK)
        e = dk__hkdf_expand(prk, info, 3, out, DK__HKDF_HASH_LEN);
    explicit_bzero(prk, sizeof prk);
    return e;
}
