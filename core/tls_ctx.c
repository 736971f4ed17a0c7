/* Backend contexts made from dk_tls_options. */
#include "tls_ctx.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_internal.h"
#include "error.h"
#include "library.h"
#include "suites.h"

/* The system's CA bundle (Debian's ca-certificates), for backends that
 * load one file; a build for another layout defines it in CPPFLAGS. */
#ifndef DK__SYSTEM_CA_FILE
#define DK__SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#endif

void dk__ctx_unref(dk__ctx *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    DK__BK->ctx->free(c->bk);
    dk_key_free(c->key);
    dk_cert_free(c->chain);
    dk_cert_free(c->trusted);
    free(c->psk_identity);
    if (c->tickets) {
        dk__ticket_keys_clear(c->tickets);
        free(c->tickets);
    }
    free(c);
}

dk__ctx *dk__ctx_ref(dk__ctx *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

static void fail_create(dk__ctx *c, const char *func, dk_err e, const char *why, dk_err *err)
{
    dk_key_free(c->key);
    dk_cert_free(c->chain);
    dk_cert_free(c->trusted);
    free(c->psk_identity);
    if (c->tickets) {
        dk__ticket_keys_clear(c->tickets);
        free(c->tickets);
    }
    free(c);
    dk__set_err(err, dk__fail(e, func, "%s", why));
}

static dk__ctx *build(const char *func, const dk_tls_options *o, dk_bk_role role,
                      const dk__ticket_cfg *tk, dk_err *err)
{
    if (!DK__BK_HAS(ctx, create) || !DK__BK_HAS(session, init)) {
        dk__set_err(err, dk__fail(DK_ERR_UNAVAILABLE, func, "backend '%s' has no DTLS sessions",
                                  DK__BK->name));
        return NULL;
    }
    dk__ctx *c = calloc(1, sizeof *c);
    if (!c) {
        dk__set_err(err, dk__fail(DK_ERR_NOMEM, func, "out of memory"));
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->role = role;
    c->aead_cache.cap = DK__AEAD_CACHE_DEFAULT;
    dk_bk_ctx_params p = {.role = role};
    if (role == DK_BK_SERVER) {
        if (o->key) { /* NULL: a PSK-only server */
            c->key = dk__key_ref(o->key);
            c->chain = dk__cert_ref(o->own);
        }
        if (o->auth != DK_CLIENT_AUTH_NONE) {
            c->trusted = dk__cert_ref(o->client_ca);
            p.verify_peer = true;
            p.require_peer_cert = o->auth == DK_CLIENT_AUTH_REQUIRED;
        }
    } else {
        p.verify_peer = !o || !o->unsafe;
        if (o && o->trusted)
            c->trusted = dk__cert_ref(o->trusted);
        else
            p.use_system_ca = p.verify_peer;
        if (o && o->key) {
            c->key = dk__key_ref(o->key);
            c->chain = dk__cert_ref(o->own);
        }
    }
    dk__creds creds = {.server = role == DK_BK_SERVER};
    if (role == DK_BK_SERVER) {
        creds.cert = c->key != NULL;
        creds.key_type = c->key ? (int)dk_key_get_type(c->key) : 0;
        creds.psk = o->psk_lookup != NULL;
        p.psk_server = creds.psk;
        p.psk_hint = o->psk_hint;
        c->psk_lookup = o->psk_lookup;
        c->psk_user = o->psk_user;
    } else if (o && o->psk_identity) {
        /* A PSK client offers PSK suites only: there is no certificate to
         * verify. */
        creds.psk = true;
        p.verify_peer = false;
        p.use_system_ca = false;
        p.psk_identity = o->psk_identity;
        p.psk_key = o->psk_key;
        p.psk_key_len = o->psk_key_len;
        c->psk_identity = strdup(o->psk_identity);
        if (!c->psk_identity) {
            fail_create(c, func, DK_ERR_NOMEM, "out of memory", err);
            return NULL;
        }
    } else {
        creds.cert = true;
    }
    uint16_t suites[DK__SUITES_MAX];
    p.suites = suites;
    p.suites_len =
        dk__suites_select(o && o->nsuites ? o->suites : NULL, o ? o->nsuites : 0, &creds, suites);
    if (p.suites_len == 0) {
        fail_create(c, func, DK_ERR_INVALID,
                    "no cipher suite fits these options' credentials (key type, PSK) "
                    "among those the library has",
                    err);
        return NULL;
    }
    if (role == DK_BK_CLIENT) {
        p.tickets = true; /* ask for one: resuming is the application's choice */
    } else if (tk && tk->enabled && (dk_backend_caps() & DK_CAP_TICKETS)) {
        c->tickets = calloc(1, sizeof *c->tickets);
        if (!c->tickets) {
            fail_create(c, func, DK_ERR_NOMEM, "out of memory", err);
            return NULL;
        }
        c->tickets->cfg = *tk;
        p.tickets = true;
        p.ticket_lifetime_s = tk->lifetime_s;
        p.ticket_key = dk__ticket_key;
        p.ticket_user = c->tickets;
    }
    c->verify_peer = p.verify_peer;
    p.system_ca_file = p.use_system_ca ? DK__SYSTEM_CA_FILE : NULL;
    if (c->key)
        p.key = c->key->bk;
    if (c->chain) {
        p.chain = (const dk_bk_cert *const *)c->chain->certs;
        p.chain_len = c->chain->n;
    }
    if (c->trusted) {
        p.trusted = (const dk_bk_cert *const *)c->trusted->certs;
        p.trusted_len = c->trusted->n;
    }
    char reason[DK__REASON_CAP] = "";
    dk_err e = DK__BK->ctx->create(&p, &c->bk, reason, sizeof reason);
    if (e != DK_OK) {
        c->bk = NULL;
        char why[DK__REASON_CAP + 40];
        snprintf(why, sizeof why, "TLS configuration refused: %s",
                 reason[0] ? reason : dk_strerror(e));
        fail_create(c, func, e, why, err);
        return NULL;
    }
    dk__set_err(err, DK_OK);
    return c;
}

dk__ctx *dk__ctx_create(const char *func, const dk_tls_options *o, dk_bk_role role, dk_err *err)
{
    return build(func, o, role, NULL, err);
}

dk__ctx *dk__ctx_create_server(const char *func, const dk_tls_options *o, const dk__ticket_cfg *tk,
                               dk_err *err)
{
    return build(func, o, DK_BK_SERVER, tk, err);
}

/* The options behind connect_to_peer(..., NULL): made once per process. */
static dk_tls_options *default_client;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void make_default_client(void)
{
    default_client = dk_tls_options_client(NULL, NULL, NULL);
}

dk__ctx *dk__ctx_for_client(const char *func, const dk_tls_options *opts, dk_err *err)
{
    dk_tls_options *o = (dk_tls_options *)opts;
    if (!o) {
        pthread_once(&default_once, make_default_client);
        o = default_client;
        if (!o)
            return dk__ctx_create(func, NULL, DK_BK_CLIENT, err);
    }
    pthread_mutex_lock(&o->lock);
    dk__ctx *c = o->cached;
    if (c) {
        dk__ctx_ref(c);
    } else {
        c = dk__ctx_create(func, o, DK_BK_CLIENT, err);
        if (c)
            o->cached = dk__ctx_ref(c);
    }
    pthread_mutex_unlock(&o->lock);
    if (c)
        dk__set_err(err, DK_OK);
    return c;
}
