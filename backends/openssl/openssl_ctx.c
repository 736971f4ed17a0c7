/* OpenSSL backend: SSL_CTX configuration for DTLS 1.2. */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openssl_backend.h"
#include "openssl_session.h"

/* Longest OpenSSL cipher name ("ECDHE-ECDSA-CHACHA20-POLY1305" and the like)
 * plus its separator. */
#define SUITE_NAME_CAP 64

/* The core verified the cookie before this session existed; OpenSSL only
 * has to see that this ClientHello carries that very cookie. */
static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    const dk_bk_session *s = SSL_get_ex_data(ssl, dk_ossl_session_index());
    return s && len == s->cookie_len && memcmp(cookie, s->cookie, len) == 0;
}

/* Never used: HelloVerifyRequests come from the core. Failing keeps OpenSSL
 * from answering with one of its own. */
static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    (void)ssl;
    (void)cookie;
    (void)len;
    return 0;
}

/* The core's suites, in its order, as an OpenSSL cipher list; then checks
 * that OpenSSL kept exactly those. */
static bool use_suites(SSL_CTX *ctx, const dk_bk_ctx_params *p, char *reason, size_t cap)
{
    if (!p->suites_len || p->suites_len > 64) {
        snprintf(reason, cap, "%zu cipher suites", p->suites_len);
        return false;
    }
    char list[64 * SUITE_NAME_CAP];
    size_t len = 0;
    for (size_t i = 0; i < p->suites_len; i++) {
        const char *name = dk_ossl_suite_name(p->suites[i]);
        size_t n = name ? strlen(name) : 0;
        if (!n || n + 2 > SUITE_NAME_CAP) {
            snprintf(reason, cap, "cipher suite 0x%04X is not available in this OpenSSL",
                     (unsigned)p->suites[i]);
            return false;
        }
        if (len)
            list[len++] = ':';
        memcpy(list + len, name, n);
        len += n;
    }
    list[len] = '\0';
    /* No TLS 1.3 suites in the list: DTLS 1.2 has no use for them. */
    if (SSL_CTX_set_ciphersuites(ctx, "") != 1 || SSL_CTX_set_cipher_list(ctx, list) != 1) {
        dk_ossl_reason(reason, cap, "cipher list refused");
        return false;
    }
    STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
    bool same = sk && (size_t)sk_SSL_CIPHER_num(sk) == p->suites_len;
    for (size_t i = 0; same && i < p->suites_len; i++)
        same = SSL_CIPHER_get_protocol_id(sk_SSL_CIPHER_value(sk, (int)i)) == p->suites[i];
    if (!same)
        snprintf(reason, cap, "OpenSSL did not keep the cipher list \"%s\"", list);
    return same;
}

/* Server: the key for the identity the client sent, from the core. A 0
 * makes OpenSSL fail the handshake with the unknown_psk_identity alert. */
static unsigned int psk_server_cb(SSL *ssl, const char *identity, unsigned char *psk,
                                  unsigned int max_psk_len)
{
    dk_bk_session *s = SSL_get_ex_data(ssl, dk_ossl_session_index());
    if (!s || !s->io.psk_key || !identity)
        return 0;
    /* The identity as it came, NUL bytes and all, when the message
     * callback saw it; OpenSSL's copy stops at the first NUL. */
    const uint8_t *id = (const uint8_t *)identity;
    size_t id_len = strlen(identity);
    if (s->psk_identity_seen && s->psk_identity_len >= id_len &&
        memcmp(s->psk_identity, identity, id_len) == 0) {
        id = s->psk_identity;
        id_len = s->psk_identity_len;
    }
    size_t cap = max_psk_len < DK_OSSL_PSK_MAX ? max_psk_len : DK_OSSL_PSK_MAX;
    /* Straight into OpenSSL's buffer, which it copies and cleanses. */
    size_t n = s->io.psk_key(s->io.user, id, id_len, psk, cap);
    if (n > cap) {
        OPENSSL_cleanse(psk, cap);
        return 0;
    }
    return (unsigned int)n;
}

/* Client: our identity and key, whatever the server's hint. */
static unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity,
                                  unsigned int max_identity_len, unsigned char *psk,
                                  unsigned int max_psk_len)
{
    (void)hint;
    const dk_bk_ctx *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (!c || !c->psk_identity)
        return 0;
    size_t n = strlen(c->psk_identity);
    if (n == 0 || n >= max_identity_len || c->psk_key_len > max_psk_len)
        return 0;
    memcpy(identity, c->psk_identity, n + 1);
    memcpy(psk, c->psk_key, c->psk_key_len);
    return (unsigned int)c->psk_key_len;
}

static bool use_psk(SSL_CTX *ctx, dk_bk_ctx *c, const dk_bk_ctx_params *p, char *reason, size_t cap)
{
    if (p->role == DK_BK_SERVER) {
        if (!p->psk_server)
            return true;
        c->psk_server = true;
        SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
        if (p->psk_hint && *p->psk_hint && SSL_CTX_use_psk_identity_hint(ctx, p->psk_hint) != 1) {
            dk_ossl_reason(reason, cap, "PSK identity hint refused");
            return false;
        }
        return true;
    }
    if (!p->psk_identity)
        return true;
    size_t n = strlen(p->psk_identity);
    if (n == 0 || n > PSK_MAX_IDENTITY_LEN || !p->psk_key || p->psk_key_len == 0 ||
        p->psk_key_len > sizeof c->psk_key) {
        snprintf(reason, cap, "PSK identity of %zu bytes or key of %zu bytes refused", n,
                 p->psk_key_len);
        return false;
    }
    c->psk_identity = strdup(p->psk_identity);
    if (!c->psk_identity) {
        snprintf(reason, cap, "out of memory");
        return false;
    }
    memcpy(c->psk_key, p->psk_key, p->psk_key_len);
    c->psk_key_len = p->psk_key_len;
    SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
    return true;
}

static bool use_own(SSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    if (!p->key || !p->chain_len)
        return true;
    if (SSL_CTX_use_certificate(ctx, p->chain[0]->x509) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, p->key->pkey) != 1)
        return false;
    for (size_t i = 1; i < p->chain_len; i++)
        if (SSL_CTX_add1_chain_cert(ctx, p->chain[i]->x509) != 1)
            return false;
    return SSL_CTX_check_private_key(ctx) == 1;
}

static bool use_trust(SSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    if (p->trusted_len) {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        for (size_t i = 0; i < p->trusted_len; i++)
            if (X509_STORE_add_cert(store, p->trusted[i]->x509) != 1)
                return false;
    } else if (p->use_system_ca) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1)
            return false;
    }
    return true;
}

static void ctx_free(dk_bk_ctx *c);

static dk_err ctx_create(const dk_bk_ctx_params *p, dk_bk_ctx **out, char *reason, size_t cap)
{
    ERR_clear_error();
    reason[0] = '\0';
    dk_bk_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return DK_ERR_NOMEM;
    c->role = p->role;
    c->rto_initial_ms = p->rto_initial_ms;
    c->rto_max_ms = p->rto_max_ms;
    SSL_CTX *ctx = c->ctx = SSL_CTX_new(DTLS_method());
    bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) &&
              SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    if (ok) {
        SSL_CTX_set_app_data(ctx, c);
        ok = use_suites(ctx, p, reason, cap) && use_psk(ctx, c, p, reason, cap);
    }
    if (ok) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                     SSL_OP_NO_TICKET | SSL_OP_NO_QUERY_MTU |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE);
        /* No resumption: a session cache would only hold memory. */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_read_ahead(ctx, 1);
        /* The core's gate refuses larger handshake messages anyway; this
         * bounds what a peer's certificate list may make OpenSSL hold. */
        SSL_CTX_set_max_cert_list(ctx, 16384);
        ok = use_own(ctx, p) && use_trust(ctx, p);
    }
    if (ok && p->role == DK_BK_SERVER && !p->key && !p->psk_server) {
        ok = false;
        ERR_clear_error();
        snprintf(reason, cap, "a server needs a key and certificate or pre-shared keys");
    }
    if (!ok) {
        if (!reason[0])
            dk_ossl_reason(reason, cap, "configuration refused");
        ERR_clear_error();
        ctx_free(c);
        return DK_ERR_TLS;
    }
    int mode = SSL_VERIFY_NONE;
    if (p->verify_peer) {
        mode = SSL_VERIFY_PEER;
        if (p->role == DK_BK_SERVER && p->require_peer_cert)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx, mode, NULL);
    if (p->role == DK_BK_SERVER) {
        SSL_CTX_set_cookie_generate_cb(ctx, cookie_generate);
        SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify);
    }
    *out = c;
    return DK_OK;
}

static void ctx_free(dk_bk_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c->psk_identity);
    OPENSSL_cleanse(c->psk_key, sizeof c->psk_key);
    free(c);
}

const dk_bk_ctx_ops dk_ossl_ctx_ops = {
    .size = sizeof(dk_bk_ctx_ops),
    .create = ctx_create,
    .free = ctx_free,
};
