/* mbedTLS backend: one mbedtls_ssl_config per context, DTLS 1.2 only,
 * shared by all the sessions made from it. */
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls_backend.h"

/* ECDHE groups, fastest first: mbedTLS's own order starts with P-521, which
 * doubles the cost of a handshake for no gain at this security level. */
static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                              MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP521R1,
                                              MBEDTLS_ECP_DP_NONE};

/* mbedTLS 2.28 takes IANA ids. A server picks by its own order unless the
 * library was built to follow the client's. */
#if defined(MBEDTLS_SSL_SRV_RESPECT_CLIENT_PREFERENCE)
#error "server preference needed: mbedTLS built with MBEDTLS_SSL_SRV_RESPECT_CLIENT_PREFERENCE"
#endif

bool dk_mbed_ctx_has_suite(const dk_bk_ctx *c, int suite)
{
    for (const int *l = c->suites; l && *l; l++)
        if (*l == suite)
            return true;
    return false;
}

static int use_suites(dk_bk_ctx *c, const dk_bk_ctx_params *p, const char **why)
{
    *why = "cipher suites refused";
    if (!p->suites || !p->suites_len)
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    c->suites = calloc(p->suites_len + 1, sizeof *c->suites);
    if (!c->suites)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    for (size_t i = 0; i < p->suites_len; i++)
        c->suites[i] = p->suites[i];
    mbedtls_ssl_conf_ciphersuites(&c->conf, c->suites);
    return 0;
}

/* Pre-shared keys. The server's identity hint is ignored: mbedTLS 2.28
 * always sends an empty one ("no hint"). mbedTLS copies the client's key
 * and identity into the config and wipes them in mbedtls_ssl_config_free. */
static int use_psk(dk_bk_ctx *c, const dk_bk_ctx_params *p, const char **why)
{
    *why = "pre-shared key refused";
    if (p->role == DK_BK_SERVER) {
        if (p->psk_server)
            dk_mbed_conf_psk_server(&c->conf);
        return 0;
    }
    if (!p->psk_identity)
        return 0;
    if (!p->psk_key || !p->psk_key_len || p->psk_key_len > DK_MBED_PSK_MAX)
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
#if DK_MBED_PSK_MAX > 0
    return mbedtls_ssl_conf_psk(&c->conf, p->psk_key, p->psk_key_len,
                                (const unsigned char *)p->psk_identity, strlen(p->psk_identity));
#else
    return MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
#endif
}

/* The core verified the cookie before the session existed, and the session
 * put that very cookie in its client transport id (the only per-session
 * value this callback sees): accept exactly it. */
static int cookie_check(void *unused, const unsigned char *cookie, size_t len,
                        const unsigned char *id, size_t id_len)
{
    (void)unused;
    if (!id || len != id_len || len == 0)
        return -1;
    unsigned char diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= cookie[i] ^ id[i];
    return diff ? -1 : 0;
}

/* HelloVerifyRequests come from the core: refusing to write a cookie keeps
 * mbedTLS from sending one of its own. */
static int cookie_write(void *unused, unsigned char **p, unsigned char *end,
                        const unsigned char *id, size_t id_len)
{
    (void)unused;
    (void)p;
    (void)end;
    (void)id;
    (void)id_len;
    return -1;
}

/* Appends copies of `certs` to `chain`. */
static int copy_certs(mbedtls_x509_crt *chain, const dk_bk_cert *const *certs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int ret = mbedtls_x509_crt_parse_der(chain, certs[i]->crt.raw.p, certs[i]->crt.raw.len);
        if (ret != 0)
            return ret;
    }
    return 0;
}

static int use_own(dk_bk_ctx *c, const dk_bk_ctx_params *p, const char **why)
{
    if (!p->key || !p->chain_len) {
        /* A PSK-only server has neither. */
        *why = "a server needs a key and a certificate";
        return p->role == DK_BK_SERVER && !p->psk_server ? MBEDTLS_ERR_SSL_BAD_INPUT_DATA : 0;
    }
    *why = "own certificate refused";
    int ret = copy_certs(&c->own, p->chain, p->chain_len);
    if (ret == 0 && mbedtls_pk_check_pair(&c->own.pk, &p->key->pk) != 0) {
        *why = "the key does not match the certificate";
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    }
    if (ret == 0) /* the core keeps the key alive as long as the context */
        ret = mbedtls_ssl_conf_own_cert(&c->conf, &c->own, (mbedtls_pk_context *)&p->key->pk);
    return ret;
}

static int use_trust(dk_bk_ctx *c, const dk_bk_ctx_params *p, const char **why)
{
    int ret = 0;
    *why = "trusted certificates refused";
    if (p->trusted_len) {
        ret = copy_certs(&c->trust, p->trusted, p->trusted_len);
    } else if (p->system_ca_file) {
        /* Certificates mbedTLS cannot read are skipped (a positive
         * result); a missing or unreadable store leaves nothing trusted
         * and verification fails, as with OpenSSL. */
        ret = mbedtls_x509_crt_parse_file(&c->trust, p->system_ca_file);
        if (ret != MBEDTLS_ERR_X509_ALLOC_FAILED)
            ret = 0;
    }
    if (ret == 0 && c->trust.version != 0)
        mbedtls_ssl_conf_ca_chain(&c->conf, &c->trust, NULL);
    return ret;
}

static int authmode(const dk_bk_ctx_params *p)
{
    if (!p->verify_peer)
        return MBEDTLS_SSL_VERIFY_NONE;
    if (p->role == DK_BK_SERVER && !p->require_peer_cert)
        return MBEDTLS_SSL_VERIFY_OPTIONAL; /* a bad certificate still fails: see the session */
    return MBEDTLS_SSL_VERIFY_REQUIRED;
}

static int configure(dk_bk_ctx *c, const dk_bk_ctx_params *p, const char **why)
{
    mbedtls_ssl_config *conf = &c->conf;
    *why = "configuration refused";
    int ret = mbedtls_ssl_config_defaults(
        conf, p->role == DK_BK_SERVER ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
        MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0)
        return ret;
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_curves(conf, curves);
    mbedtls_ssl_conf_rng(conf, dk_mbed_rng, dk_mbed_drbg());
    mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    /* Tickets: off unless dk_mbed_conf_tickets() turns them on below. */
    mbedtls_ssl_conf_session_tickets(conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    mbedtls_ssl_conf_dtls_anti_replay(conf, MBEDTLS_SSL_ANTI_REPLAY_ENABLED);
    /* The timer is a session parameter while mbedTLS keeps it in the
     * configuration: mbedTLS counts doublings from a base of 1 ms
     * (1, 2, 4... ms) and each session turns the count into its own
     * timeout (timer_set in mbedtls_io.c). mbedTLS gives up once its timer
     * reaches `max`, while the contract keeps retransmitting at the
     * maximum until the core's handshake timeout: `max` is out of reach
     * (2^32 ms, 32 retransmissions). */
    mbedtls_ssl_conf_handshake_timeout(conf, DK_MBED_RTO_BASE_MS, UINT32_MAX);
    mbedtls_ssl_conf_authmode(conf, authmode(p));
    dk_mbed_conf_export(conf);
    if (p->role == DK_BK_SERVER)
        mbedtls_ssl_conf_dtls_cookies(conf, cookie_write, cookie_check, NULL);
    ret = use_suites(c, p, why);
    if (ret == 0)
        ret = use_own(c, p, why);
    if (ret == 0)
        ret = use_trust(c, p, why);
    if (ret == 0)
        ret = use_psk(c, p, why);
    if (ret == 0)
        dk_mbed_conf_tickets(c);
    return ret;
}

static void ctx_free(dk_bk_ctx *c)
{
    if (!c)
        return;
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->own);
    mbedtls_x509_crt_free(&c->trust);
    free(c->suites);
    free(c);
}

static dk_err ctx_create(const dk_bk_ctx_params *p, dk_bk_ctx **out, char *reason, size_t cap)
{
    dk_bk_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return DK_ERR_NOMEM;
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->own);
    mbedtls_x509_crt_init(&c->trust);
    c->role = p->role;
    c->verify_peer = p->verify_peer;
    c->require_peer_cert = p->require_peer_cert;
    /* A server seals tickets only with the core's keys; a client just asks
     * for one. */
    c->tickets = p->tickets && (p->role == DK_BK_CLIENT || p->ticket_key);
    c->ticket_lifetime_s = p->ticket_lifetime_s;
    c->ticket_key = p->ticket_key;
    c->ticket_user = p->ticket_user;
    const char *why = NULL;
    int ret = configure(c, p, &why);
    if (ret != 0) {
        ctx_free(c);
        if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED || ret == MBEDTLS_ERR_X509_ALLOC_FAILED)
            return DK_ERR_NOMEM;
        dk_mbed_reason(ret, why, reason, cap);
        return DK_ERR_TLS;
    }
    *out = c;
    return DK_OK;
}

const dk_bk_ctx_ops dk_mbed_ctx_ops = {
    .size = sizeof(dk_bk_ctx_ops),
    .create = ctx_create,
    .free = ctx_free,
};
