/* Cookie secrets, minting and verification. */
#include "cookie.h"

#include <string.h>

#include "clock.h"
#include "kdf.h"
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
    explicit_bzero(&jar->master, sizeof jar->master);
    explicit_bzero(&jar->next, sizeof jar->next);
    jar->previous = jar->current;
    memcpy(jar->current.key, key, len);
    jar->current.len = len;
    jar->rotated_at = now;
}

static dk_err derive(const dk__cookie_jar *jar, uint64_t period, dk__secret *out)
{
    out->len = DK__HKDF_HASH_LEN;
    dk_err e =
        dk__period_key(jar->master.key, jar->master.len, "cookie", "secret", period, out->key);
    if (e != DK_OK)
        out->len = 0;
    return e;
}

/* Moves a derived jar to the wall clock's period; false when a derivation
 * failed (the jar keeps what it had). */
static bool derive_period(dk__cookie_jar *jar, bool force)
{
    uint64_t p = jar->interval_ms > 0 ? dk__wall_ms() / (uint64_t)jar->interval_ms : 0;
    if (!force && p == jar->period)
        return true;
    dk__secret prev = {{0}, 0}, cur, next;
    bool ok;
    if (!force && jar->next.len && p == jar->period + 1) {
        prev = jar->current;
        cur = jar->next;
        ok = derive(jar, p + 1, &next) == DK_OK;
    } else {
        ok = (p == 0 || derive(jar, p - 1, &prev) == DK_OK) && derive(jar, p, &cur) == DK_OK &&
             derive(jar, p + 1, &next) == DK_OK;
    }
    if (ok) {
        jar->previous = prev;
        jar->current = cur;
        jar->next = next;
        jar->period = p;
    }
    explicit_bzero(&prev, sizeof prev);
    explicit_bzero(&cur, sizeof cur);
    explicit_bzero(&next, sizeof next);
    return ok;
}

dk_err dk__cookie_jar_set_master(dk__cookie_jar *jar, const void *master, size_t len)
{
    if (len < 16 || len > DK__SECRET_MAX)
        return DK_ERR_INVALID;
    dk__cookie_jar saved = *jar;
    memcpy(jar->master.key, master, len);
    jar->master.len = len;
    bool ok = derive_period(jar, true);
    if (!ok)
        *jar = saved;
    explicit_bzero(&saved, sizeof saved);
    return ok ? DK_OK : DK_ERR_TLS;
}

void dk__cookie_jar_set_interval(dk__cookie_jar *jar, int interval_ms)
{
    jar->interval_ms = interval_ms;
    /* Other periods: derived secrets are made again (on failure, the next
     * tick tries again with every secret made anew). */
    if (jar->master.len && !derive_period(jar, true))
        explicit_bzero(&jar->next, sizeof jar->next);
}

void dk__cookie_jar_tick(dk__cookie_jar *jar, uint64_t now)
{
    if (jar->master.len) {
        uint64_t before = jar->period;
        if (derive_period(jar, false) && jar->period != before)
            jar->rotations++;
        return;
    }
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
    const dk__secret *candidates[3] = {&jar->current, &jar->previous, &jar->next};
    for (int i = 0; i < 3; i++) {
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
