/* dk_tls_options: client, unsafe client and server configurations. */
#include <stdlib.h>
#include <string.h>

#include "crypto_internal.h"
#include "dtls_internal.h"
#include "error.h"
#include "library.h"
#include "suites.h"
#include "tls_ctx.h"

static dk_tls_options *alloc_options(const char *func, dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    dk_tls_options *o = calloc(1, sizeof *o);
    if (!o)
        dk__set_err(err, dk__fail(DK_ERR_NOMEM, func, "out of memory"));
    else
        pthread_mutex_init(&o->lock, NULL);
    return o;
}

void dk__tls_options_invalidate(dk_tls_options *o)
{
    pthread_mutex_lock(&o->lock);
    dk__ctx_unref(o->cached);
    o->cached = NULL;
    pthread_mutex_unlock(&o->lock);
}

dk_tls_options *dk_tls_options_client(const dk_cert *trusted_chain,
                                      const char *common_name_override, dk_err *err)
{
    if (trusted_chain && trusted_chain->n == 0) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "trusted chain is empty"));
        return NULL;
    }
    dk_tls_options *o = alloc_options(__func__, err);
    if (!o)
        return NULL;
    if (common_name_override && *common_name_override) {
        o->cn_override = strdup(common_name_override);
        if (!o->cn_override) {
            free(o);
            dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "out of memory"));
            return NULL;
        }
    }
    if (trusted_chain)
        o->trusted = dk__cert_ref(trusted_chain);
    dk__set_err(err, DK_OK);
    return o;
}

dk_tls_options *dk_tls_options_client_unsafe(const dk_cert *trusted_chain, dk_err *err)
{
    dk_tls_options *o = dk_tls_options_client(trusted_chain, NULL, err);
    if (o)
        o->unsafe = true;
    return o;
}

dk_tls_options *dk_tls_options_server(const dk_key *key, const dk_cert *own_certificate,
                                      dk_err *err)
{
    if (!key || !own_certificate) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "key or certificate is NULL"));
        return NULL;
    }
    if (own_certificate->n == 0) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "certificate chain is empty"));
        return NULL;
    }
    if (dk_key_is_public_only(key)) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "server key is public-only: a private key "
                                                 "is needed"));
        return NULL;
    }
    if (DK__BK_HAS(cert, key_matches) &&
        !DK__BK->cert->key_matches(key->bk, own_certificate->certs[0])) {
        dk__set_err(
            err, DK_FAIL(DK_ERR_KEY_MISMATCH, "private key does not match the first certificate"));
        return NULL;
    }
    dk_tls_options *o = alloc_options(__func__, err);
    if (!o)
        return NULL;
    o->server = true;
    o->key = dk__key_ref(key);
    o->own = dk__cert_ref(own_certificate);
    dk__set_err(err, DK_OK);
    return o;
}

dk_err dk_tls_options_set_client_auth(dk_tls_options *o, dk_client_auth mode, const dk_cert *ca)
{
    if (!o)
        return DK_FAIL(DK_ERR_INVALID, "options are NULL");
    if (!o->server)
        return DK_FAIL(DK_ERR_INVALID, "client authentication is set on server options");
    if (mode != DK_CLIENT_AUTH_NONE && mode != DK_CLIENT_AUTH_OPTIONAL &&
        mode != DK_CLIENT_AUTH_REQUIRED)
        return DK_FAIL(DK_ERR_INVALID, "unknown mode %d", (int)mode);
    if (mode != DK_CLIENT_AUTH_NONE && (!ca || ca->n == 0))
        return DK_FAIL(DK_ERR_INVALID, "a CA chain is needed to verify client certificates");
    if (!DK__BK_HAS(ctx, create) || !(dk_backend_caps() & DK_CAP_CLIENT_AUTH))
        return DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' has no client authentication",
                       DK__BK->name);
    dk_cert_free(o->client_ca);
    o->client_ca = mode != DK_CLIENT_AUTH_NONE ? dk__cert_ref(ca) : NULL;
    o->auth = mode;
    dk__tls_options_invalidate(o);
    return DK_OK;
}

dk_err dk_tls_options_set_client_certificate(dk_tls_options *o, const dk_key *key,
                                             const dk_cert *own_certificate)
{
    if (!o || !key || !own_certificate)
        return DK_FAIL(DK_ERR_INVALID, "options, key or certificate is NULL");
    if (o->server)
        return DK_FAIL(DK_ERR_INVALID, "a client certificate is set on client options");
    if (own_certificate->n == 0 || dk_key_is_public_only(key))
        return DK_FAIL(DK_ERR_INVALID, "empty chain or public-only key");
    if (DK__BK_HAS(cert, key_matches) &&
        !DK__BK->cert->key_matches(key->bk, own_certificate->certs[0]))
        return DK_FAIL(DK_ERR_KEY_MISMATCH, "private key does not match the first certificate");
    dk_key_free(o->key);
    dk_cert_free(o->own);
    o->key = dk__key_ref(key);
    o->own = dk__cert_ref(own_certificate);
    dk__tls_options_invalidate(o);
    return DK_OK;
}

/* ------------------------------------------------------ pre-shared keys */

static dk_err psk_available(const char *func)
{
    if (!(dk_backend_caps() & DK_CAP_PSK))
        return dk__fail(DK_ERR_UNAVAILABLE, func, "backend '%s' has no pre-shared key suites",
                        DK__BK->name);
    return DK_OK;
}

static dk_err set_server_psk(const char *func, dk_tls_options *o, const char *hint,
                             dk_psk_lookup lookup, void *user)
{
    if (!lookup)
        return dk__fail(DK_ERR_INVALID, func, "the PSK lookup callback is NULL");
    size_t hl = hint ? strlen(hint) : 0;
    if (hl > DK_PSK_IDENTITY_MAX)
        return dk__fail(DK_ERR_INVALID, func, "identity hint is %zu bytes, over %d", hl,
                        DK_PSK_IDENTITY_MAX);
    dk_err e = psk_available(func);
    if (e != DK_OK)
        return e;
    char *h = NULL;
    if (hl && !(h = strdup(hint)))
        return dk__fail(DK_ERR_NOMEM, func, "out of memory");
    free(o->psk_hint);
    o->psk_hint = h;
    o->psk_lookup = lookup;
    o->psk_user = user;
    dk__tls_options_invalidate(o);
    return DK_OK;
}

dk_tls_options *dk_tls_options_server_psk(const char *identity_hint, dk_psk_lookup lookup,
                                          void *user, dk_err *err)
{
    dk_tls_options *o = alloc_options(__func__, err);
    if (!o)
        return NULL;
    o->server = true;
    dk_err e = set_server_psk(__func__, o, identity_hint, lookup, user);
    if (e != DK_OK) {
        dk_tls_options_free(o);
        dk__set_err(err, e);
        return NULL;
    }
    dk__set_err(err, DK_OK);
    return o;
}

dk_err dk_tls_options_set_psk(dk_tls_options *o, const char *identity_hint, dk_psk_lookup lookup,
                              void *user)
{
    if (!o)
        return DK_FAIL(DK_ERR_INVALID, "options are NULL");
    if (!o->server)
        return DK_FAIL(DK_ERR_INVALID, "PSK lookup set on client options: clients use "
                                       "dk_tls_options_client_psk()");
    return set_server_psk(__func__, o, identity_hint, lookup, user);
}

dk_tls_options *dk_tls_options_client_psk(const char *identity, const uint8_t *key, size_t key_len,
                                          dk_err *err)
{
    size_t il = identity ? strlen(identity) : 0;
    if (il == 0 || !key || key_len == 0) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "PSK identity or key is NULL or empty"));
        return NULL;
    }
    if (il > DK_PSK_IDENTITY_MAX) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "PSK identity is %zu bytes, over %d", il,
                                 DK_PSK_IDENTITY_MAX));
        return NULL;
    }
    for (size_t i = 0; i < il; i++) {
        unsigned char c = (unsigned char)identity[i];
        if (c < 0x20 || c == 0x7f) {
            dk__set_err(err, DK_FAIL(DK_ERR_INVALID,
                                     "PSK identity has a control character "
                                     "at byte %zu (RFC 4279: text)",
                                     i));
            return NULL;
        }
    }
    if (key_len > DK_PSK_KEY_MAX) {
        dk__set_err(
            err, DK_FAIL(DK_ERR_INVALID, "PSK key is %zu bytes, over %d", key_len, DK_PSK_KEY_MAX));
        return NULL;
    }
    dk_err e = psk_available(__func__);
    if (e == DK_OK && key_len > dk__psk_key_max())
        e = DK_FAIL(DK_ERR_UNAVAILABLE, "PSK key is %zu bytes; backend '%s' takes %zu at most",
                    key_len, DK__BK->name, dk__psk_key_max());
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    dk_tls_options *o = alloc_options(__func__, err);
    if (!o)
        return NULL;
    if (!(o->psk_identity = strdup(identity))) {
        dk_tls_options_free(o);
        dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "out of memory"));
        return NULL;
    }
    memcpy(o->psk_key, key, key_len);
    o->psk_key_len = key_len;
    dk__set_err(err, DK_OK);
    return o;
}

/* -------------------------------------------------------- cipher suites */

dk_err dk_tls_options_set_cipher_suites(dk_tls_options *o, const uint16_t *suites, size_t n)
{
    if (!o)
        return DK_FAIL(DK_ERR_INVALID, "options are NULL");
    if (n > 0 && !suites)
        return DK_FAIL(DK_ERR_INVALID, "suites is NULL with n = %zu", n);
    if (n > sizeof o->suites / sizeof o->suites[0])
        return DK_FAIL(DK_ERR_INVALID, "%zu suites, over %zu", n,
                       sizeof o->suites / sizeof o->suites[0]);
    for (size_t i = 0; i < n; i++) {
        if (!dk_cipher_suite_name(suites[i]))
            return DK_FAIL(DK_ERR_INVALID, "suite 0x%04X is not one the core protects", suites[i]);
        if (!dk__suite_available(suites[i]))
            return DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' does not negotiate %s", DK__BK->name,
                           dk_cipher_suite_name(suites[i]));
    }
    if (n > 0) {
        dk__creds creds = {.server = o->server,
                           .cert = o->server ? o->key != NULL : !o->psk_identity,
                           .key_type = o->key ? (int)dk_key_get_type(o->key) : 0,
                           .psk = o->server ? o->psk_lookup != NULL : o->psk_identity != NULL};
        uint16_t out[DK__SUITES_MAX];
        if (dk__suites_select(suites, n, &creds, out) == 0)
            return DK_FAIL(DK_ERR_INVALID,
                           "none of these suites fits the options' "
                           "credentials (%s)",
                           creds.psk && creds.cert ? "certificate and PSK"
                           : creds.psk             ? "PSK"
                           : o->server && creds.key_type == DK_KEY_RSA
                               ? "certificate with an RSA key"
                               : "certificate");
    }
    if (n)
        memcpy(o->suites, suites, n * sizeof *suites);
    o->nsuites = n;
    dk__tls_options_invalidate(o);
    return DK_OK;
}

bool dk_tls_options_is_server(const dk_tls_options *o)
{
    return o && o->server;
}

bool dk_tls_options_is_unsafe_client(const dk_tls_options *o)
{
    return o && !o->server && o->unsafe;
}

const char *dk_tls_options_get_common_name_override(const dk_tls_options *o)
{
    return o && o->cn_override ? o->cn_override : "";
}

const dk_cert *dk_tls_options_get_own_certificate(const dk_tls_options *o)
{
    return o ? o->own : NULL;
}

const dk_key *dk_tls_options_get_private_key(const dk_tls_options *o)
{
    return o ? o->key : NULL;
}

const dk_cert *dk_tls_options_get_trusted_ca_chain(const dk_tls_options *o)
{
    return o ? o->trusted : NULL;
}

dk_tls_options *dk__tls_options_clone(const dk_tls_options *src)
{
    dk_tls_options *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    *o = *src;
    pthread_mutex_init(&o->lock, NULL);
    o->cached = NULL;
    o->cn_override = o->psk_hint = o->psk_identity = NULL;
    if ((src->cn_override && !(o->cn_override = strdup(src->cn_override))) ||
        (src->psk_hint && !(o->psk_hint = strdup(src->psk_hint))) ||
        (src->psk_identity && !(o->psk_identity = strdup(src->psk_identity)))) {
        free(o->cn_override);
        free(o->psk_hint);
        free(o->psk_identity);
        explicit_bzero(o->psk_key, sizeof o->psk_key);
        pthread_mutex_destroy(&o->lock);
        free(o);
        return NULL;
    }
    if (o->key)
        dk__key_ref(o->key);
    if (o->own)
        dk__cert_ref(o->own);
    if (o->trusted)
        dk__cert_ref(o->trusted);
    if (o->client_ca)
        dk__cert_ref(o->client_ca);
    return o;
}

void dk_tls_options_free(dk_tls_options *o)
{
    if (!o)
        return;
    dk__ctx_unref(o->cached);
    pthread_mutex_destroy(&o->lock);
    free(o->cn_override);
    free(o->psk_hint);
    free(o->psk_identity);
    explicit_bzero(o->psk_key, sizeof o->psk_key);
    dk_key_free(o->key);
    dk_cert_free(o->own);
    dk_cert_free(o->trusted);
    dk_cert_free(o->client_ca);
    free(o);
}
