/* Handshake and session counts per source, for the admission caps. An open
 * addressing table (linear probing, backward-shift deletion) keyed by the
 * source address or IPv6 prefix under a random SipHash key: sources are
 * chosen by the attacker, but only a source that completed the cookie
 * exchange (and so owns its address) ever gets an entry. */
#include "admission.h"

#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "sysrand.h"

typedef struct akey {
    uint8_t family; /* 4 or 6; 0: empty slot */
    uint8_t bytes[16];
} akey;

typedef struct aslot {
    akey key;
    uint32_t handshakes, sessions;
} aslot;

struct dk__ledger {
    int refs;
    uint8_t seed[16];
    aslot *slots;
    uint32_t cap, used; /* cap: a power of two, or 0 */
    uint32_t handshakes, sessions;
};

void dk__caps_default(dk__caps *caps)
{
    caps->handshakes = DK__DEFAULT_MAX_HANDSHAKES;
    caps->handshakes_per_addr = DK__DEFAULT_MAX_HANDSHAKES_PER_ADDR;
    caps->sessions = DK__DEFAULT_MAX_SESSIONS;
    caps->sessions_per_addr = DK__DEFAULT_MAX_SESSIONS_PER_ADDR;
    caps->ipv6_prefix = DK__DEFAULT_IPV6_PREFIX;
}

dk__ledger *dk__ledger_new(void)
{
    dk__ledger *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    if (dk__sys_random(l->seed, sizeof l->seed) != DK_OK) {
        free(l);
        return NULL;
    }
    l->refs = 1;
    return l;
}

dk__ledger *dk__ledger_ref(dk__ledger *l)
{
    l->refs++;
    return l;
}

void dk__ledger_unref(dk__ledger *l)
{
    if (!l || --l->refs > 0)
        return;
    free(l->slots);
    free(l);
}

/* IPv4 (also IPv4-mapped) as its 4 bytes; IPv6 masked to `prefix` bits. */
static void make_key(const dk__addr *a, int prefix, akey *k)
{
    memset(k, 0, sizeof *k);
    dk__addr v4;
    if (a->u.sa.sa_family == AF_INET || dk__addr_for_family(a, AF_INET, &v4)) {
        const dk__addr *x = a->u.sa.sa_family == AF_INET ? a : &v4;
        k->family = 4;
        memcpy(k->bytes, &x->u.in4.sin_addr, 4);
        return;
    }
    k->family = 6;
    memcpy(k->bytes, &a->u.in6.sin6_addr, 16);
    if (prefix < 0 || prefix > 128)
        prefix = 128;
    for (int i = 0; i < 16; i++) {
        int keep = prefix - 8 * i;
        if (keep <= 0)
            k->bytes[i] = 0;
        else if (keep < 8)
            k->bytes[i] &= (uint8_t)(0xff << (8 - keep));
    }
}

static uint32_t home(const dk__ledger *l, const akey *k)
{
    return (uint32_t)dk__siphash13(l->seed, k, sizeof *k) & (l->cap - 1);
}

/* The slot holding `k`, or NULL. */
static aslot *find(const dk__ledger *l, const akey *k)
{
    if (!l->cap)
        return NULL;
    for (uint32_t i = home(l, k);; i = (i + 1) & (l->cap - 1)) {
        aslot *s = &l->slots[i];
        if (!s->key.family)
            return NULL;
        if (memcmp(&s->key, k, sizeof *k) == 0)
            return s;
    }
}

static aslot *insert(dk__ledger *l, const akey *k)
{
    uint32_t i = home(l, k);
    while (l->slots[i].key.family)
        i = (i + 1) & (l->cap - 1);
    l->slots[i].key = *k;
    l->slots[i].handshakes = l->slots[i].sessions = 0;
    l->used++;
    return &l->slots[i];
}

static bool grow(dk__ledger *l)
{
    uint32_t ncap = l->cap ? l->cap * 2 : 16;
    aslot *old = l->slots;
    uint32_t ocap = l->cap;
    aslot *fresh = calloc(ncap, sizeof *fresh);
    if (!fresh)
        return false;
    l->slots = fresh;
    l->cap = ncap;
    l->used = 0;
    for (uint32_t i = 0; i < ocap; i++) {
        if (!old[i].key.family)
            continue;
        aslot *s = insert(l, &old[i].key);
        s->handshakes = old[i].handshakes;
        s->sessions = old[i].sessions;
    }
    free(old);
    return true;
}

/* Empties a slot, shifting back the entries of its probe run. */
static void erase(dk__ledger *l, const aslot *s)
{
    uint32_t mask = l->cap - 1, hole = (uint32_t)(s - l->slots);
    for (uint32_t j = (hole + 1) & mask; l->slots[j].key.family; j = (j + 1) & mask) {
        uint32_t h = home(l, &l->slots[j].key);
        /* Moves back when its home is not in (hole, j]. */
        bool between = hole < j ? (h > hole && h <= j) : (h > hole || h <= j);
        if (!between) {
            l->slots[hole] = l->slots[j];
            hole = j;
        }
    }
    memset(&l->slots[hole], 0, sizeof l->slots[hole]);
    l->used--;
}

dk__cap_verdict dk__ledger_check(const dk__ledger *l, const dk__caps *caps, const dk__addr *src)
{
    if (caps->handshakes && l->handshakes >= caps->handshakes)
        return DK__CAP_HANDSHAKES;
    if (caps->sessions && l->handshakes + l->sessions >= caps->sessions)
        return DK__CAP_SESSIONS;
    akey k;
    make_key(src, caps->ipv6_prefix, &k);
    const aslot *s = find(l, &k);
    if (!s)
        return DK__CAP_OK;
    if (caps->handshakes_per_addr && s->handshakes >= caps->handshakes_per_addr)
        return DK__CAP_HANDSHAKES_ADDR;
    if (caps->sessions_per_addr && s->handshakes + s->sessions >= caps->sessions_per_addr)
        return DK__CAP_SESSIONS_ADDR;
    return DK__CAP_OK;
}

bool dk__ledger_add(dk__ledger *l, const dk__addr *src, int prefix)
{
    akey k;
    make_key(src, prefix, &k);
    aslot *s = find(l, &k);
    if (!s) {
        if ((l->used + 1) * 2 > l->cap && !grow(l))
            return false;
        s = insert(l, &k);
    }
    s->handshakes++;
    l->handshakes++;
    return true;
}

void dk__ledger_promote(dk__ledger *l, const dk__addr *src, int prefix)
{
    akey k;
    make_key(src, prefix, &k);
    aslot *s = find(l, &k);
    if (!s || !s->handshakes)
        return;
    s->handshakes--;
    s->sessions++;
    l->handshakes--;
    l->sessions++;
}

void dk__ledger_remove(dk__ledger *l, const dk__addr *src, int prefix, dk__ledger_state state)
{
    akey k;
    make_key(src, prefix, &k);
    aslot *s = find(l, &k);
    if (!s)
        return;
    if (state == DK__LS_HANDSHAKE && s->handshakes) {
        s->handshakes--;
        l->handshakes--;
    } else if (state == DK__LS_SESSION && s->sessions) {
        s->sessions--;
        l->sessions--;
    }
    if (!s->handshakes && !s->sessions)
        erase(l, s);
}

void dk__ledger_totals(const dk__ledger *l, uint32_t *handshakes, uint32_t *sessions)
{
    *handshakes = l->handshakes;
    *sessions = l->sessions;
}
