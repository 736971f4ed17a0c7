/* Cookie secrets, minting and verification. */
#include "cookie.h"

#include <string.h>

#include "clock.h"
#include "library.h"

static dk_err random_secret(dk__secret *s)
{
    s->len = 32;
    return DK__BK->library->random(s->key, s->len);
}

dk_err dk__cookie_jar_init(dk__cookie_jar *jar)
{
    memset(jar, 0, sizeof *jar);
    jar->interval_ms = DK__DEFAULT_ROTATION_MS;
    jar->rotated_at = dk__now_ms();
    return random_secret(&jar->current);
}

void dk__cookie_jar_set(dk__cookie_jar *jar, const void *key, size_t len, uint64_t now)
{
    jar->previous = jar->current;
    memcpy(jar->current.key, key, len);
    jar->current.len = len;
    jar->rotated_at = now;
}

void dk__cookie_jar_tick(dk__cookie_jar *jar, uint64_t now)
{
    if (jar->interval_ms <= 0 || now - jar->rotated_at < (uint64_t)jar->interval_ms)
        return;
    /* Rotation is lazy (an idle server has no timer for it): when two
     * periods have passed since the last change, the secret that was
     * current then is two rotations old and no longer accepted either. */
    bool stale = now - jar->rotated_at >= 2 * (uint64_t)jar->interval_ms;
    dk__secret fresh;
    if (random_secret(&fresh) != DK_OK)
        return; /* keep the old secret rather than none */
    dk__cookie_jar_set(jar, fresh.key, fresh.len, now);
    memset(&fresh, 0, sizeof fresh);
    if (stale)
        memset(&jar->previous, 0, sizeof jar->previous);
    jar->rotations++;
}

dk_err dk__cookie_mint(const dk__secret *secret, const uint8_t tid[DK__TRANSPORT_ID_LEN],
                       const dk__client_hello *ch, uint8_t out[DK__COOKIE_LEN])
{
    const dk_bk_iov parts[] = {
        {tid, DK__TRANSPORT_ID_LEN},
        {ch->client_version, 2},
        {ch->random, 32},
        {ch->session_id.p, ch->session_id.len},
        {ch->cipher_suites.p, ch->cipher_suites.len},
        {ch->compression_methods.p, ch->compression_methods.len},
    };
    return DK__BK->library->hmac_sha256(secret->key, secret->len, parts,
                                        sizeof parts / sizeof parts[0], out);
}

static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

const dk__secret *dk__cookie_verify(const dk__cookie_jar *jar,
                                    const uint8_t tid[DK__TRANSPORT_ID_LEN],
                                    const dk__client_hello *ch, const uint8_t *current)
{
    if (ch->cookie.len != DK__COOKIE_LEN)
        return NULL;
    const dk__secret *candidates[2] = {&jar->current, &jar->previous};
    for (int i = 0; i < 2; i++) {
        uint8_t buf[DK__COOKIE_LEN];
        const uint8_t *expect = i == 0 ? current : NULL;
        if (!candidates[i]->len)
            continue;
        if (!expect) {
            if (dk__cookie_mint(candidates[i], tid, ch, buf) != DK_OK)
                continue;
            expect = buf;
        }
        if (equal_ct(expect, ch->cookie.p, DK__COOKIE_LEN))
            return candidates[i];
    }
    return NULL;
}
