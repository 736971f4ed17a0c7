/* Session ticket keys (see tickets.h). */
#include "tickets.h"

#include <string.h>

#include "clock.h"
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

static dk_err derive_one(const dk__ticket_cfg *cfg, uint64_t gen, const char *label,
                         uint8_t out[32])
{
    static const char tag[] = "dtlskit ticket";
    uint8_t g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (uint8_t)(gen >> (56 - 8 * i));
    dk_bk_iov parts[3] = {{tag, sizeof tag - 1}, {g, sizeof g}, {label, strlen(label)}};
    return DK__BK->library->hmac_sha256(cfg->secret, cfg->secret_len, parts, 3, out);
}

static dk_err derive(const dk__ticket_cfg *cfg, uint64_t gen, dk_bk_ticket_key *k)
{
    uint8_t name[32];
    dk_err e = derive_one(cfg, gen, "name", name);
    if (e == DK_OK)
        e = derive_one(cfg, gen, "aes", k->aes_key);
    if (e == DK_OK)
        e = derive_one(cfg, gen, "hmac", k->hmac_key);
    memcpy(k->name, name, sizeof k->name);
    explicit_bzero(name, sizeof name);
    return e;
}

/* Brings the two keys up to the current period. */
static bool refresh(dk__ticket_keys *k)
{
    uint64_t gen = dk__wall_ms() / (uint64_t)k->cfg.interval_ms;
    if (k->have && k->gen == gen)
        return true;
    if (k->have && k->gen + 1 == gen) {
        k->prev = k->cur;
    } else if (gen == 0 || derive(&k->cfg, gen - 1, &k->prev) != DK_OK) {
        k->have = false;
        return false;
    }
    if (derive(&k->cfg, gen, &k->cur) != DK_OK) {
        k->have = false;
        return false;
    }
    k->gen = gen;
    k->have = true;
    return true;
}

int dk__ticket_key(void *user, const uint8_t *name, dk_bk_ticket_key *out)
{
    dk__ticket_keys *k = user;
    if (!k || !out || !k->cfg.enabled || !refresh(k))
        return 0;
    if (!name || memcmp(name, k->cur.name, sizeof k->cur.name) == 0) {
        *out = k->cur;
        return 1;
    }
    if (memcmp(name, k->prev.name, sizeof k->prev.name) == 0) {
        *out = k->prev;
        return 2; /* accepted; the library issues a ticket under the current key */
    }
    return 0;
}

void dk__ticket_keys_clear(dk__ticket_keys *k)
{
    explicit_bzero(k, sizeof *k);
}
