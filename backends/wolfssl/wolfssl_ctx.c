/* wolfSSL backend: one WOLFSSL_CTX per context, DTLS 1.2 only, shared by
 * the sessions made from it. */
#include "wolfssl_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

/* ECDHE with AEAD only: AES-GCM and ChaCha20-Poly1305, ECDSA or RSA. */
static const char cipher_list[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                                  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";

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

static dk_err ctx_create(const dk_bk_ctx_params *p, dk_bk_ctx **out, char *reason, size_t cap)
{
    if (p->role == DK_BK_SERVER && (!p->key || !p->chain_len)) {
        snprintf(reason, cap, "a server needs a key and a certificate");
        return DK_ERR_TLS;
    }
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
    int rc = wolfSSL_CTX_set_cipher_list(ctx, cipher_list);
    const char *what = "cipher suites refused";
    if (rc == WOLFSSL_SUCCESS) {
        /* No resumption: a ticket or a session cache would only hold
         * memory (and the cache is shared by the whole process). */
        wolfSSL_CTX_NoTicketTLSv12(ctx);
        wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
        what = "own key or certificate refused";
        rc = use_own(ctx, p);
    }
    if (rc == WOLFSSL_SUCCESS) {
        what = "trusted certificates refused";
        rc = use_trust(c, ctx, p);
    }
    if (rc != WOLFSSL_SUCCESS) {
        char lib[120];
        dk_wolf_reason(lib, sizeof lib, rc, "error");
        snprintf(reason, cap, "%s (%s)", what, lib);
        wolfSSL_CTX_free(ctx);
        free(c);
        return DK_ERR_TLS;
    }
    int mode = WOLFSSL_VERIFY_NONE;
    if (p->verify_peer) {
        mode = WOLFSSL_VERIFY_PEER;
        if (p->role == DK_BK_SERVER && p->require_peer_cert)
            mode |= WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
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
    if (!c)
        return;
    wolfSSL_CTX_free(c->ctx);
    dk_wolf_anchors_free(c);
    free(c);
}

const dk_bk_ctx_ops dk_wolf_ctx_ops = {
    .size = sizeof(dk_bk_ctx_ops),
    .create = ctx_create,
    .free = ctx_free,
};
