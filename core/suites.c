/* The cipher suite policy (see suites.h): one list for every backend. */
#include "suites.h"

#include <stddef.h>

#include <dtlskit/dtlskit.h>

#include "error.h"
#include "library.h"
#include "record.h"

bool dk__suite_available(uint16_t id)
{
    return dk__record_suite(id) && dk_init() == DK_OK && DK__BK_HAS(library, suite_supported) &&
           DK__BK->library->suite_supported(id);
}

bool dk__suite_is_psk(uint16_t id)
{
    const dk__suite *s = dk__record_suite(id);
    return s && (s->auth == DK__AUTH_PSK || s->auth == DK__AUTH_ECDHE_PSK);
}

/* Whether credentials `c` can complete a handshake with suite `s`. */
static bool usable(const dk__suite *s, const dk__creds *c)
{
    switch (s->auth) {
    case DK__AUTH_PSK:
    case DK__AUTH_ECDHE_PSK: return c->psk;
    case DK__AUTH_ECDSA: return c->cert && (!c->server || c->key_type == DK_KEY_EC);
    case DK__AUTH_RSA: return c->cert && (!c->server || c->key_type == DK_KEY_RSA);
    default: return false;
    }
}

size_t dk__suites_select(const uint16_t *wanted, size_t n, const dk__creds *creds,
                         uint16_t out[DK__SUITES_MAX])
{
    size_t k = 0;
    size_t total = wanted ? n : dk__record_suite_count();
    for (size_t i = 0; i < total && k < DK__SUITES_MAX; i++) {
        const dk__suite *s = wanted ? dk__record_suite(wanted[i]) : dk__record_suite_at(i);
        if (!s || !usable(s, creds) || !dk__suite_available(s->id))
            continue;
        bool dup = false;
        for (size_t j = 0; j < k; j++)
            dup |= out[j] == s->id;
        if (!dup)
            out[k++] = s->id;
    }
    return k;
}

size_t dk__psk_key_max(void)
{
    const dk_bk_library_ops *l = DK__BK->library;
    if (dk_init() != DK_OK ||
        offsetof(dk_bk_library_ops, psk_key_max) + sizeof l->psk_key_max > l->size)
        return 0;
    return l->psk_key_max < DK_PSK_KEY_MAX ? l->psk_key_max : DK_PSK_KEY_MAX;
}

uint32_t dk__suites_caps(void)
{
    uint32_t caps = 0;
    if (dk__suite_available(0xC0AE))
        caps |= DK_CAP_CCM8;
    if (dk__psk_key_max() > 0) {
        for (size_t i = 0; i < dk__record_suite_count(); i++)
            if (dk__suite_is_psk(dk__record_suite_at(i)->id) &&
                dk__suite_available(dk__record_suite_at(i)->id))
                caps |= DK_CAP_PSK;
    }
    return caps;
}

const char *dk_cipher_suite_name(uint16_t suite)
{
    const dk__suite *s = dk__record_suite(suite);
    return s ? s->name : NULL;
}

bool dk_cipher_suite_available(uint16_t suite)
{
    return dk__suite_available(suite);
}
