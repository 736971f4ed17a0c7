/* mbedTLS backend: the handshake of one DTLS session, driven by the core.
 * The core takes the records over at the hand-off (export_secrets, then
 * read() drains what mbedTLS read ahead), so nothing here writes records
 * after the handshake. */
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls_backend.h"
#include "mbedtls_session.h"

/* The session being stepped on this thread. mbedTLS reports derived keys
 * through a callback of the mbedtls_ssl_config, which all sessions of a
 * context share: this routes the report to the session whose step
 * derived them. */
static _Thread_local dk_bk_session *current;

/* Called once per handshake, inside the step that derives the keys, with
 * the master secret (the extended one under RFC 7627). mbedTLS ignores the
 * result. */
static int export_keys(void *unused, const unsigned char *ms, const unsigned char *kb,
                       size_t maclen, size_t keylen, size_t ivlen,
                       const unsigned char client_random[32], const unsigned char server_random[32],
                       mbedtls_tls_prf_types prf)
{
    (void)unused;
    (void)kb;
    (void)maclen;
    (void)keylen;
    (void)ivlen;
    (void)prf;
    dk_bk_session *s = current;
    if (!s)
        return 0;
    memcpy(s->secrets.master_secret, ms, 48);
    memcpy(s->secrets.client_random, client_random, 32);
    memcpy(s->secrets.server_random, server_random, 32);
    s->have_secrets = true;
    return 0;
}

void dk_mbed_conf_export(mbedtls_ssl_config *conf)
{
    mbedtls_ssl_conf_export_keys_ext_cb(conf, export_keys, NULL);
}

/* Server, PSK suites: mbedTLS asks for the key of the identity the client
 * sent. The session holds the mbedtls_ssl_context, so the context leads
 * back to it and to its io. A non-zero return makes mbedTLS send
 * unknown_psk_identity and fail with MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY. */
#if DK_MBED_PSK_MAX > 0
static int psk_lookup(void *unused, mbedtls_ssl_context *ssl, const unsigned char *identity,
                      size_t identity_len)
{
    (void)unused;
    dk_bk_session *s = (dk_bk_session *)(void *)((char *)ssl - offsetof(dk_bk_session, ssl));
    if (!s->io.psk_key)
        return -1;
    uint8_t key[DK_MBED_PSK_MAX];
    size_t n = s->io.psk_key(s->io.user, identity, identity_len, key, DK_MBED_PSK_MAX);
    int ret = -1;
    if (n > 0 && n <= DK_MBED_PSK_MAX)
        ret = mbedtls_ssl_set_hs_psk(ssl, key, n); /* copied by mbedTLS */
    mbedtls_platform_zeroize(key, sizeof key);
    return ret == 0 ? 0 : -1;
}

#endif

/* Without PSK key exchanges the core offers no PSK suite (psk_key_max is
 * 0), so that there is nothing to install. */
void dk_mbed_conf_psk_server(mbedtls_ssl_config *conf)
{
#if DK_MBED_PSK_MAX > 0
    mbedtls_ssl_conf_psk_cb(conf, psk_lookup, NULL);
#else
    (void)conf;
#endif
}

bool dk_mbed_psk_negotiated(const dk_bk_session *s)
{
#if DK_MBED_PSK_MAX > 0
    /* Set from the ServerHello on (mbedTLS 2.28 has no accessor for it
     * before the handshake completes). */
    const mbedtls_ssl_session *neg = s->ssl.session_negotiate;
    const mbedtls_ssl_ciphersuite_t *cs =
        neg && neg->ciphersuite ? mbedtls_ssl_ciphersuite_from_id(neg->ciphersuite) : NULL;
    return cs && mbedtls_ssl_ciphersuite_uses_psk(cs);
#else
    (void)s;
    return false;
#endif
}

/* One handshake step with `s` current for export_keys. */
static int hs_step(dk_bk_session *s)
{
    current = s;
    int ret = mbedtls_ssl_handshake(&s->ssl);
    current = NULL;
    return ret;
}

/* mbedTLS sizes an MTU in 16 bits. */
static uint16_t mtu16(unsigned mtu)
{
    return mtu > UINT16_MAX ? UINT16_MAX : (uint16_t)mtu;
}

/* Client: SNI and the name to verify. mbedTLS 2.28 has one hostname for
 * both, and matches it against dNSName entries and the CN only: it checks
 * the name itself when it is the SNI name, the verify callback does in any
 * other case (override, IP literal). */
static int client_names(dk_bk_session *s, const dk_bk_session_params *p)
{
    int ret = 0;
    if (p->sni)
        ret = mbedtls_ssl_set_hostname(&s->ssl, p->sni);
    if (ret == 0 && p->verify_name) {
        s->verify_name = strdup(p->verify_name);
        if (!s->verify_name)
            return MBEDTLS_ERR_SSL_ALLOC_FAILED;
        s->own_name_check =
            !p->sni || strcmp(p->sni, p->verify_name) != 0 || dk_mbed_is_ip_literal(p->verify_name);
    }
    return ret;
}

static dk_err session_init(dk_bk_session *s, dk_bk_ctx *ctx, const dk_bk_session_params *p,
                           char *reason, size_t cap)
{
    s->io = p->io;
    s->rto_max_ms = ctx->rto_max_ms;
    bool server = p->role == DK_BK_SERVER;
    s->strict_optional = server && ctx->verify_peer && !ctx->require_peer_cert;
    mbedtls_ssl_init(&s->ssl);
    int ret = mbedtls_ssl_setup(&s->ssl, &ctx->conf);
    if (ret == 0) {
        dk_mbed_session_io(s);
        mbedtls_ssl_set_mtu(&s->ssl, mtu16(p->mtu_payload));
        mbedtls_ssl_set_verify(&s->ssl, dk_mbed_verify_cb, s);
        /* Cookie handoff: the transport id is what the cookie callback
         * sees of the session, so it carries the cookie the core accepted
         * (mbedTLS keeps a copy). */
        if (server)
            ret = mbedtls_ssl_set_client_transport_id(&s->ssl, p->cookie, p->cookie_len);
        else
            ret = client_names(s, p);
    }
    if (ret != 0) {
        mbedtls_ssl_free(&s->ssl);
        free(s->verify_name);
        s->verify_name = NULL;
        if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED)
            return DK_ERR_NOMEM;
        dk_mbed_reason(ret, "session setup refused", reason, cap);
        return DK_ERR_TLS;
    }
    return DK_OK;
}

static void session_fini(dk_bk_session *s)
{
    mbedtls_ssl_free(&s->ssl);
    free(s->verify_name);
    s->verify_name = NULL;
    free(s->mismatch);
    s->mismatch = NULL;
    mbedtls_platform_zeroize(&s->secrets, sizeof s->secrets);
    s->have_secrets = false;
}

static void session_feed(dk_bk_session *s, const uint8_t *data, size_t len)
{
    /* An empty datagram would read as end of file to mbedTLS; (NULL, 0)
     * drops the input. */
    if (!len && data)
        return;
    s->in = data;
    s->in_len = len;
}

/* Server with optional client certificates: mbedTLS's OPTIONAL lets some
 * failures through (key usage is checked after the verify callback). */
static dk_err check_optional_peer(dk_bk_session *s, char *reason, size_t cap)
{
    uint32_t flags = mbedtls_ssl_get_verify_result(&s->ssl);
    if (!s->strict_optional || !mbedtls_ssl_get_peer_cert(&s->ssl) || flags == 0)
        return DK_OK;
    dk_mbed_verify_text(flags, reason, cap);
    (void)mbedtls_ssl_send_alert_message(&s->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                         MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
    return DK_ERR_CERT_VERIFY;
}

/* mbedTLS answers a timer that expired with a retransmission and
 * WANT_READ, before reading what was fed: call again until the fed
 * datagram is consumed (the core feeds the next one after WOULD_BLOCK). */
#define MAX_RETRIES 8

static int step(dk_bk_session *s)
{
    int ret, n = 0;
    do
        ret = hs_step(s);
    while (ret == MBEDTLS_ERR_SSL_WANT_READ && s->in && ++n < MAX_RETRIES);
    return ret;
}

static dk_err session_handshake(dk_bk_session *s, char *reason, size_t cap)
{
    if (s->done)
        return DK_OK;
    int ret = step(s);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return DK_ERR_WOULD_BLOCK;
    if (ret != 0)
        return dk_mbed_handshake_error(s, ret, reason, cap);
    dk_err e = check_optional_peer(s, reason, cap);
    if (e != DK_OK)
        return e;
    s->done = true;
    return DK_OK;
}

/* At the hand-off only: what mbedTLS read ahead with the Finished (the
 * core opens every later record itself, empty ones included). */
static dk_err session_read(dk_bk_session *s, uint8_t *buf, size_t cap, size_t *out_len,
                           char *reason, size_t rcap)
{
    int ret, n = 0;
    do
        ret = mbedtls_ssl_read(&s->ssl, buf, cap);
    while (ret == MBEDTLS_ERR_SSL_WANT_READ && s->in && ++n < MAX_RETRIES);
    if (ret > 0) {
        *out_len = (size_t)ret;
        return DK_OK;
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE ||
        ret == MBEDTLS_ERR_SSL_TIMEOUT)
        return DK_ERR_WOULD_BLOCK;
    dk_mbed_reason(ret, "record layer failure", reason, rcap);
    return DK_ERR_TLS;
}

static int session_timeout_ms(dk_bk_session *s)
{
    return dk_mbed_timer_left(s);
}

/* mbedTLS retransmits from inside a handshake step that finds the timer
 * expired. */
static dk_err session_handle_timeout(dk_bk_session *s, char *reason, size_t cap)
{
    if (s->done)
        return DK_OK;
    int ret = hs_step(s);
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return DK_OK;
    return dk_mbed_handshake_error(s, ret, reason, cap);
}

static void session_set_mtu(dk_bk_session *s, unsigned mtu)
{
    mbedtls_ssl_set_mtu(&s->ssl, mtu16(mtu));
}

static const char *session_cipher(dk_bk_session *s)
{
    const char *name = s->done ? mbedtls_ssl_get_ciphersuite(&s->ssl) : NULL;
    return name ? name : "";
}

static dk_err session_peer_chain(dk_bk_session *s, dk_bk_cert ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&s->ssl);
    size_t count = 0;
    for (const mbedtls_x509_crt *c = peer; c && c->raw.p; c = c->next)
        count++;
    if (!count)
        return DK_OK;
    dk_bk_cert **certs = calloc(count, sizeof *certs);
    if (!certs)
        return DK_ERR_NOMEM;
    size_t k = 0;
    dk_err e = DK_OK;
    char reason[64];
    for (const mbedtls_x509_crt *c = peer; e == DK_OK && k < count; c = c->next) {
        e = dk_mbed_cert_from_der(c->raw.p, c->raw.len, &certs[k], reason, sizeof reason);
        if (e == DK_OK)
            k++;
    }
    if (e != DK_OK) {
        for (size_t i = 0; i < k; i++)
            dk_mbed_cert_ops.free(certs[i]);
        free(certs);
        return e;
    }
    *out = certs;
    *n = k;
    return DK_OK;
}

static dk_err session_export_secrets(dk_bk_session *s, dk_bk_secrets *out)
{
    int id = s->done ? mbedtls_ssl_get_ciphersuite_id(mbedtls_ssl_get_ciphersuite(&s->ssl)) : 0;
    if (!s->have_secrets || id <= 0 || id > UINT16_MAX)
        return DK_ERR_TLS;
    *out = s->secrets;
    out->suite = (uint16_t)id;
    return DK_OK;
}

const dk_bk_session_ops dk_mbed_session_ops = {
    .size = sizeof(dk_bk_session_ops),
    .session_size = sizeof(struct dk_bk_session),
    .init = session_init,
    .fini = session_fini,
    .feed = session_feed,
    .handshake = session_handshake,
    .read = session_read,
    .timeout_ms = session_timeout_ms,
    .handle_timeout = session_handle_timeout,
    .set_mtu = session_set_mtu,
    .cipher = session_cipher,
    .peer_chain = session_peer_chain,
    .export_secrets = session_export_secrets,
};
