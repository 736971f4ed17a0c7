/* Session ticket keys (see tickets.h). */
#include "tickets.h"

#include <string.h>

#include "clock.h"
#include "kdf.h"
#include "library.h"

dk_err dk__ticket_cfg_init(dk__ticket_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->enabled = true;
    cfg->interval_ms = DK__TICKET_DEFAULT_INTERVAL_MS;
    cfg->lifetime_s = DK__TICKET_DEFAULT_LIFETIME_S;
    cfg->secret_len = 32;
    return DK__BK->library->random(cfg->secret, cfg->secret_len);
}

static dk_err derive(const dk__ticket_cfg *cfg, uint64_t gen, dk_bk_ticket_key *k)
{
    uint8_t name[DK__HKDF_HASH_LEN];
    const uint8_t *sec = cfg->secret;
    size_t n = cfg->secret_len;
    dk_err e = dk__period_key(sec, n, "ticket", "name", gen, name);
    if (e == DK_OK)
        e = dk__period_key(sec, n, "ticket", "aes", gen, k->aes_key);
    if (e == DK_OK)
        e = dk__period_key(sec, n, "ticket", "hmac", gen, k->hmac_key);
    memcpy(k->name, name, sizeof k->name);
    explicit_bzero(name, sizeof name);
    return e;
}

/* Brings the three keys up to the current period. */
static bool refresh(dk__ticket_keys *k, uint64_t wall_ms)
{
    uint64_t gen = wall_ms / (uint64_t)k->cfg.interval_ms;
    if (k->have && k->gen == gen)
        return true;
    bool ok;
    if (k->have && k->gen + 1 == gen) {
        k->prev = k->cur;
        k->cur = k->next;
        ok = derive(&k->cfg, gen + 1, &k->next) == DK_OK;
    } else {
        ok = gen > 0 && derive(&k->cfg, gen - 1, &k->prev) == DK_OK &&
             derive(&k->cfg, gen, &k->cur) == DK_OK && derive(&k->cfg, gen + 1, &k->next) == DK_OK;
    }
    k->have = ok;
    k->gen = gen;
    return ok;
}

int dk__ticket_key(void *user, const uint8_t *name, dk_bk_ticket_key *out)
{
    return dk__ticket_key_at(user, name, out, dk__wall_ms());
}

int dk__ticket_key_at(dk__ticket_keys *k, const uint8_t *name, dk_bk_ticket_key *out,
                      uint64_t wall_ms)
{
    if (!k || !out || !k->cfg.enabled || !refresh(k, wall_ms))
        return 0;
    if (!name || memcmp(name, k->cur.name, sizeof k->cur.name) == 0) {
        *out = k->cur;
        return 1;
    }
    /* The previous period's key, or the next one's (sealed by a host whose
     * clock is ahead): accepted, and the library issues a ticket under the
     * current key. */
    if (memcmp(name, k->prev.name, sizeof k->prev.name) == 0) {
        *out = k->prev;
        return 2;
    }
    if (memcmp(name, k->next.name, sizeof k->next.name) == 0) {
        *out = k->next;
        return 2;
    }
    return 0;
}

void dk__ticket_keys_clear(dk__ticket_keys *k)
{
    explicit_bzero(k, sizeof *k);
}
