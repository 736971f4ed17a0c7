/* OpenSSL backend: SSL_CTX configuration for DTLS 1.2. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "openssl_backend.h"
#include "openssl_session.h"

/* ECDHE with AEAD only: AES-GCM and ChaCha20-Poly1305, ECDSA or RSA. */
static const char cipher_list[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                                  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";

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

static dk_err ctx_create(const dk_bk_ctx_params *p, dk_bk_ctx **out, char *reason, size_t cap)
{
    ERR_clear_error();
    dk_bk_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return DK_ERR_NOMEM;
    c->role = p->role;
    c->rto_initial_ms = p->rto_initial_ms;
    c->rto_max_ms = p->rto_max_ms;
    SSL_CTX *ctx = c->ctx = SSL_CTX_new(DTLS_method());
    bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) &&
              SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) &&
              SSL_CTX_set_cipher_list(ctx, cipher_list);
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
    if (ok && p->role == DK_BK_SERVER && !p->key) {
        ok = false;
        ERR_clear_error();
    }
    if (!ok) {
        dk_ossl_reason(reason, cap, "configuration refused");
        SSL_CTX_free(ctx);
        free(c);
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
    free(c);
}

const dk_bk_ctx_ops dk_ossl_ctx_ops = {
    .size = sizeof(dk_bk_ctx_ops),
    .create = ctx_create,
    .free = ctx_free,
};
