/* wolfSSL backend: one WOLFSSL_CTX per context, DTLS 1.2 only, shared by
 * the sessions made from it. */
#include "wolfssl_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

/* Debian's bundle, for builds whose system-store loader finds nothing. */
static const char system_bundle[] = "/etc/ssl/certs/ca-certificates.crt";

/* The chain as PEM, the form wolfSSL's chain loader takes. */
static int use_chain(WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    size_t cap = 0;
    for (size_t i = 0; i < p->chain_len; i++)
        cap += p->chain[i]->der_len * 2 + 128;
    uint8_t *pem = malloc(cap), *w = pem;
    if (!pem)
        return MEMORY_E;
    int rc = 0;
    for (size_t i = 0; i < p->chain_len && rc >= 0; i++) {
        rc = wc_DerToPem(p->chain[i]->der, (word32)p->chain[i]->der_len, w,
                         (word32)(cap - (size_t)(w - pem)), CERT_TYPE);
        if (rc > 0)
            w += rc;
    }
    if (rc >= 0)
        rc = wolfSSL_CTX_use_certificate_chain_buffer_format(ctx, pem, (long)(w - pem),
                                                             WOLFSSL_FILETYPE_PEM);
    free(pem);
    return rc;
}

/* Own key and chain; WOLFSSL_SUCCESS or an error code. */
static int use_own(WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    if (!p->key || !p->chain_len)
        return WOLFSSL_SUCCESS;
    if (!p->key->priv)
        return BAD_FUNC_ARG;
    int rc = use_chain(ctx, p);
    if (rc == WOLFSSL_SUCCESS)
        rc = wolfSSL_CTX_use_PrivateKey_buffer(ctx, p->key->priv, (long)p->key->priv_len,
                                               WOLFSSL_FILETYPE_ASN1);
    if (rc == WOLFSSL_SUCCESS)
        rc = wolfSSL_CTX_check_private_key(ctx);
    return rc;
}

static int use_trust(dk_bk_ctx *c, WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    int rc = WOLFSSL_SUCCESS;
    if (p->trusted_len) {
        for (size_t i = 0; i < p->trusted_len && rc == WOLFSSL_SUCCESS; i++) {
            rc = wolfSSL_CTX_load_verify_buffer(
                ctx, p->trusted[i]->der, (long)p->trusted[i]->der_len, WOLFSSL_FILETYPE_ASN1);
            dk_wolf_anchors_add_der(c, p->trusted[i]->der, p->trusted[i]->der_len);
        }
    } else if (p->use_system_ca) {
        dk_wolf_anchors_add_file(c, system_bundle);
        /* A machine without a CA store is not a configuration error (as
         * with OpenSSL's default paths): verification will fail instead. */
        if (wolfSSL_CTX_load_system_CA_certs(ctx) != WOLFSSL_SUCCESS)
            (void)wolfSSL_CTX_load_verify_locations(ctx, system_bundle, NULL);
        wolfSSL_ERR_clear_error();
    }
    return rc;
}

/* params->suites as a wolfSSL cipher list ("A:B:C"), malloc'd; NULL with
 * `reason` set when a suite has no name here. */
static char *suite_list(const dk_bk_ctx_params *p, char *reason, size_t cap)
{
    size_t len = 1;
    for (size_t i = 0; i < p->suites_len; i++) {
        const char *name = dk_wolf_suite_name(p->suites[i]);
        if (!name) {
            snprintf(reason, cap, "cipher suite 0x%04X is not in this wolfSSL build",
                     (unsigned)p->suites[i]);
            return NULL;
        }
        len += strlen(name) + 1;
    }
    char *list = malloc(len), *w = list;
    if (!list) {
        snprintf(reason, cap, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < p->suites_len; i++) {
        const char *name = dk_wolf_suite_name(p->suites[i]);
        size_t n = strlen(name);
        if (i)
            *w++ = ':';
        memcpy(w, name, n);
        w += n;
    }
    *w = '\0';
    return list;
}

/* Exactly the core's suites, in its order; the server picks by that order
 * (wolfSSL's default: it walks its own list, then looks for each suite in
 * the client's). Set after the key, the PSK callbacks and the hint, so
 * that nothing rebuilds the list behind it. */
static int use_suites(WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    char ignored[8];
    char *list = suite_list(p, ignored, sizeof ignored);
    if (!list)
        return BAD_FUNC_ARG;
    int rc = wolfSSL_CTX_set_cipher_list(ctx, list);
    free(list);
    return rc;
}

/* Server: the key for the identity a client sent, from the core of the
 * session (found through its I/O context, as everywhere in this backend).
 * wolfSSL hands the identity over NUL-terminated; the bytes as received
 * (an identity with a NUL inside included) come from the ClientKeyExchange
 * the session noted (dk_wolf_records_received). A return of 0 fails the
 * handshake with PSK_KEY_ERROR; wolfSSL 5.5.4 sends no alert for it, the
 * session sends unknown_psk_identity (handshake_error). */
static unsigned int psk_server_cb(WOLFSSL *ssl, const char *identity, unsigned char *key,
                                  unsigned int key_max)
{
    dk_bk_session *s = wolfSSL_GetIOReadCtx(ssl);
    if (!s)
        return 0;
    s->psk_refused = true;
    if (!s->io.psk_key || !identity || !key)
        return 0;
    const uint8_t *id = (const uint8_t *)identity;
    size_t len = strlen(identity);
    if (s->psk_id_seen && s->psk_id_len > len && memcmp(s->psk_id, identity, len) == 0) {
        id = s->psk_id;
        len = s->psk_id_len;
    }
    size_t cap = key_max < DK_WOLF_PSK_KEY_MAX ? key_max : DK_WOLF_PSK_KEY_MAX;
    uint8_t k[DK_WOLF_PSK_KEY_MAX];
    size_t n = s->io.psk_key(s->io.user, id, len, k, cap);
    if (n > 0 && n <= cap) {
        memcpy(key, k, n);
        s->psk_refused = false;
    } else {
        n = 0;
    }
    dk_wolf_wipe(k, sizeof k);
    return (unsigned int)n;
}

/* Client: the context's identity and key, whatever the server's hint. */
static unsigned int psk_client_cb(WOLFSSL *ssl, const char *hint, char *identity,
                                  unsigned int id_max, unsigned char *key, unsigned int key_max)
{
    (void)hint;
    const dk_bk_session *s = wolfSSL_GetIOReadCtx(ssl);
    const dk_bk_ctx *c = s ? s->ctx : NULL;
    if (!c || !c->psk_identity || !c->psk_key_len || !identity || !key)
        return 0;
    /* `identity` holds id_max bytes and a NUL. */
    size_t len = strlen(c->psk_identity);
    if (len > id_max || c->psk_key_len > key_max)
        return 0;
    memcpy(identity, c->psk_identity, len + 1);
    memcpy(key, c->psk_key, c->psk_key_len);
    return (unsigned int)c->psk_key_len;
}

/* Pre-shared keys: the server asks each session's core for the key of the
 * identity received; the client's identity and key are kept in the
 * context. */
static int use_psk(dk_bk_ctx *c, WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    if (p->role == DK_BK_SERVER && p->psk_server) {
        wolfSSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
        if (p->psk_hint && p->psk_hint[0])
            return wolfSSL_CTX_use_psk_identity_hint(ctx, p->psk_hint);
    } else if (p->role == DK_BK_CLIENT && p->psk_identity) {
        if (!p->psk_key || !p->psk_key_len || p->psk_key_len > sizeof c->psk_key)
            return BAD_FUNC_ARG;
        if (!(c->psk_identity = strdup(p->psk_identity)))
            return MEMORY_E;
        memcpy(c->psk_key, p->psk_key, p->psk_key_len);
        c->psk_key_len = p->psk_key_len;
        wolfSSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
        /* wolfSSL 5.5.4's client fails an ECDHE-PSK exchange on X25519 ("Bad
         * ECC Peer Key" from OpenSSL and mbedTLS servers, which prefer it):
         * it offers the NIST curves only. */
        int rc = wolfSSL_CTX_UseSupportedCurve(ctx, WOLFSSL_ECC_SECP256R1);
        if (rc == WOLFSSL_SUCCESS)
            rc = wolfSSL_CTX_UseSupportedCurve(ctx, WOLFSSL_ECC_SECP384R1);
        if (rc != WOLFSSL_SUCCESS)
            return rc;
    }
    return WOLFSSL_SUCCESS;
}

static void free_ctx(dk_bk_ctx *c)
{
    wolfSSL_CTX_free(c->ctx);
    dk_wolf_anchors_free(c);
    free(c->psk_identity);
    dk_wolf_wipe(c->psk_key, sizeof c->psk_key);
    free(c);
}

static dk_err ctx_create(const dk_bk_ctx_params *p, dk_bk_ctx **out, char *reason, size_t cap)
{
    bool has_own = p->key && p->chain_len;
    if (p->role == DK_BK_SERVER && !has_own && !p->psk_server) {
        snprintf(reason, cap, "a server needs a key and a certificate, or pre-shared keys");
        return DK_ERR_TLS;
    }
    if (!p->suites || !p->suites_len) {
        snprintf(reason, cap, "no cipher suite");
        return DK_ERR_TLS;
    }
    char *list = suite_list(p, reason, cap); /* checked here for the reason */
    if (!list)
        return DK_ERR_TLS;
    free(list);
    dk_bk_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return DK_ERR_NOMEM;
    c->rto_initial_ms = p->rto_initial_ms;
    c->rto_max_ms = p->rto_max_ms;
    WOLFSSL_METHOD *m =
        p->role == DK_BK_SERVER ? wolfDTLSv1_2_server_method() : wolfDTLSv1_2_client_method();
    WOLFSSL_CTX *ctx = c->ctx = m ? wolfSSL_CTX_new(m) : NULL; /* takes `m` */
    if (!ctx) {
        free(c);
        return DK_ERR_NOMEM;
    }
    /* No resumption: a ticket or a session cache would only hold memory
     * (and the cache is shared by the whole process). */
    wolfSSL_CTX_NoTicketTLSv12(ctx);
    wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
    const char *what = "own key or certificate refused";
    int rc = use_own(ctx, p);
    if (rc == WOLFSSL_SUCCESS) {
        what = "trusted certificates refused";
        rc = use_trust(c, ctx, p);
    }
    if (rc == WOLFSSL_SUCCESS) {
        what = "pre-shared key settings refused";
        rc = use_psk(c, ctx, p);
    }
    if (rc == WOLFSSL_SUCCESS) {
        what = "cipher suites refused";
        rc = use_suites(ctx, p);
    }
    if (rc != WOLFSSL_SUCCESS) {
        char lib[120];
        dk_wolf_reason(lib, sizeof lib, rc, "error");
        snprintf(reason, cap, "%s (%s)", what, lib);
        free_ctx(c);
        return rc == MEMORY_E ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    int mode = WOLFSSL_VERIFY_NONE;
    if (p->verify_peer) {
        mode = WOLFSSL_VERIFY_PEER;
        if (p->role == DK_BK_SERVER && p->require_peer_cert)
            mode |= WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        /* A PSK client authenticates with its key: no certificate is
         * required of it (as with OpenSSL and mbedTLS). */
        if (p->role == DK_BK_SERVER && p->require_peer_cert && p->psk_server)
            mode = WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_EXCEPT_PSK;
    }
    /* client_unsafe gets no callback: wolfSSL calls one even in
     * VERIFY_NONE mode, and its answer would count. */
    wolfSSL_CTX_set_verify(ctx, mode, p->verify_peer ? dk_wolf_verify_cb : NULL);
    wolfSSL_CTX_SetIORecv(ctx, dk_wolf_io_recv);
    wolfSSL_CTX_SetIOSend(ctx, dk_wolf_io_send);
    *out = c;
    return DK_OK;
}

static void ctx_free(dk_bk_ctx *c)
{
    if (c)
        free_ctx(c);
}

const dk_bk_ctx_ops dk_wolf_ctx_ops = {
    .size = sizeof(dk_bk_ctx_ops),
    .create = ctx_create,
    .free = ctx_free,
};
