/* mbedTLS backend: the handshake of one DTLS session, driven by the core.
 * The core takes the records over at the hand-off (export_secrets, then
 * read() drains what mbedTLS read ahead), so nothing here writes records
 * after the handshake. */
#include <mbedtls/aes.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    /* Keys are derived once resumption is settled (server: its
     * ServerHello; client: the server's), and the handshake state that
     * says so may be gone by the end of the handshake. */
    s->reused = s->ssl.handshake && s->ssl.handshake->resume;
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

static bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

/* ------------------------------------------------- session tickets
 *
 * Server: tickets are sealed with the core's keys only, as RFC 5077
 * section 4 recommends:
 *
 *   key_name (16) | IV (16) | AES-256-CBC(aes_key, IV, state + PKCS#7 padding)
 *   | HMAC-SHA256(hmac_key, all that precedes) (32)
 *
 *   state = issue time (8, seconds since the epoch, big-endian)
 *           | mbedtls_ssl_session_save() of the session
 *
 * The issue time is the full handshake's: a ticket renewed because an
 * older key sealed it keeps it, so that renewal never extends a session
 * past the lifetime. mbedTLS falls back to a full handshake whenever the
 * parse callback fails, and keeps no session cache.
 *
 * Client: the session as mbedtls_ssl_session_save() writes it (with the
 * ticket), followed by its SHA-256, so that damaged bytes are never offered
 * (a damaged master secret with an intact ticket would fail the handshake
 * instead of falling back to a full one). */

#define TK_NAME   16
#define TK_IV     16
#define TK_MAC    32
#define TK_TIME   8
#define TK_SKEW_S 60 /* issue times this far ahead: another host's clock */
#define SUM_LEN   32

#if defined(MBEDTLS_SSL_SESSION_TICKETS)

static uint64_t wall_s(void)
{
    time_t t = time(NULL);
    return t < 0 ? 0 : (uint64_t)t;
}

static int ticket_mac(const dk_bk_ticket_key *k, const uint8_t *data, size_t len,
                      uint8_t out[TK_MAC])
{
    dk_bk_iov part = {data, len};
    return dk_mbed_library_ops.hmac_sha256(k->hmac_key, sizeof k->hmac_key, &part, 1, out) == DK_OK
               ? 0
               : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* AES-256-CBC over whole blocks, `in` and `out` distinct. */
static int ticket_cbc(const dk_bk_ticket_key *k, int mode, const uint8_t iv_in[TK_IV],
                      const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t iv[TK_IV];
    memcpy(iv, iv_in, sizeof iv); /* mbedTLS advances the IV it is given */
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int ret = mode == MBEDTLS_AES_ENCRYPT ? mbedtls_aes_setkey_enc(&aes, k->aes_key, 256)
                                          : mbedtls_aes_setkey_dec(&aes, k->aes_key, 256);
    if (ret == 0)
        ret = mbedtls_aes_crypt_cbc(&aes, mode, len, iv, in, out);
    mbedtls_aes_free(&aes); /* wipes the key schedule */
    return ret;
}

/* Called by mbedTLS inside the handshake step that sends NewSessionTicket.
 * A failure sends an empty ticket, which the client ignores. */
static int ticket_write(void *p_ticket, const mbedtls_ssl_session *session, unsigned char *start,
                        const unsigned char *end, size_t *tlen, uint32_t *lifetime)
{
    const dk_bk_ctx *c = p_ticket;
    const dk_bk_session *s = current;
    *tlen = 0;
    *lifetime = 0; /* mbedTLS writes it even on failure */
    size_t n = 0;
    int ret = mbedtls_ssl_session_save(session, NULL, 0, &n);
    if (ret != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL)
        return ret ? ret : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    size_t plain = TK_TIME + n, padded = (plain / 16 + 1) * 16;
    if ((size_t)(end - start) < TK_NAME + TK_IV + TK_MAC ||
        padded > (size_t)(end - start) - (TK_NAME + TK_IV + TK_MAC))
        return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
    uint8_t *state = malloc(padded);
    if (!state)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    uint64_t now = wall_s();
    uint64_t issued = s && s->ticket_resumed ? s->ticket_issued : now;
    dk_bk_ticket_key k;
    memset(&k, 0, sizeof k);
    ret = MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    if (c->ticket_key(c->ticket_user, NULL, &k) == 0)
        goto out;
    for (int i = 0; i < TK_TIME; i++)
        state[i] = (uint8_t)(issued >> (56 - 8 * i));
    ret = mbedtls_ssl_session_save(session, state + TK_TIME, n, &n);
    if (ret != 0)
        goto out;
    memset(state + plain, (int)(padded - plain), padded - plain);
    uint8_t *iv = start + TK_NAME, *enc = iv + TK_IV, *mac = enc + padded;
    memcpy(start, k.name, TK_NAME);
    ret = mbedtls_ctr_drbg_random(dk_mbed_drbg(), iv, TK_IV);
    if (ret == 0)
        ret = ticket_cbc(&k, MBEDTLS_AES_ENCRYPT, iv, state, padded, enc);
    if (ret == 0)
        ret = ticket_mac(&k, start, (size_t)(mac - start), mac);
    if (ret == 0) {
        uint64_t age = now > issued ? now - issued : 0;
        uint64_t left = age < c->ticket_lifetime_s ? c->ticket_lifetime_s - age : 1;
        *tlen = (size_t)(mac + TK_MAC - start);
        *lifetime = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
    }
out:
    mbedtls_platform_zeroize(state, padded);
    free(state);
    mbedtls_platform_zeroize(&k, sizeof k);
    return ret;
}

/* Called by mbedTLS while it parses a ClientHello with a ticket. Any
 * failure makes it ignore the ticket: a full handshake, with a new one. */
static int ticket_parse(void *p_ticket, mbedtls_ssl_session *session, unsigned char *buf,
                        size_t len)
{
    const dk_bk_ctx *c = p_ticket;
    dk_bk_session *s = current;
    if (len < TK_NAME + TK_IV + 16 + TK_MAC || (len - (TK_NAME + TK_IV + TK_MAC)) % 16 != 0)
        return MBEDTLS_ERR_SSL_INVALID_MAC;
    size_t clen = len - (TK_NAME + TK_IV + TK_MAC);
    const uint8_t *iv = buf + TK_NAME, *enc = iv + TK_IV, *mac = enc + clen;
    uint8_t *state = NULL, want[TK_MAC];
    dk_bk_ticket_key k;
    memset(&k, 0, sizeof k);
    int ret = MBEDTLS_ERR_SSL_INVALID_MAC;
    int which = c->ticket_key(c->ticket_user, buf, &k);
    /* Authenticate before decrypting. */
    if ((which != 1 && which != 2) || ticket_mac(&k, buf, (size_t)(mac - buf), want) != 0 ||
        !same_bytes(want, mac, TK_MAC))
        goto out;
    state = malloc(clen);
    if (!state) {
        ret = MBEDTLS_ERR_SSL_ALLOC_FAILED;
        goto out;
    }
    if (ticket_cbc(&k, MBEDTLS_AES_DECRYPT, iv, enc, clen, state) != 0)
        goto out;
    size_t pad = state[clen - 1];
    if (pad < 1 || pad > 16 || clen - pad < TK_TIME)
        goto out;
    for (size_t i = clen - pad; i < clen; i++)
        if (state[i] != pad)
            goto out;
    uint64_t issued = 0, now = wall_s();
    for (int i = 0; i < TK_TIME; i++)
        issued = issued << 8 | state[i];
    if (issued > now + TK_SKEW_S || (now > issued && now - issued > c->ticket_lifetime_s)) {
        ret = MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
        goto out;
    }
    /* A suite the server no longer accepts: start afresh. */
    if (mbedtls_ssl_session_load(session, state + TK_TIME, clen - pad - TK_TIME) != 0 ||
        !dk_mbed_ctx_has_suite(c, session->ciphersuite))
        goto out;
    if (s) {
        s->ticket_resumed = true;
        s->ticket_issued = issued;
        s->ticket_suite = session->ciphersuite;
        s->ticket_renew = which == 2;
    }
    ret = 0;
out:
    if (state) {
        mbedtls_platform_zeroize(state, clen);
        free(state);
    }
    mbedtls_platform_zeroize(&k, sizeof k);
    return ret;
}

#endif

void dk_mbed_conf_tickets(dk_bk_ctx *c)
{
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    if (!c->tickets)
        return; /* mbedtls_ctx.c turned them off */
    if (c->role == DK_BK_CLIENT)
        mbedtls_ssl_conf_session_tickets(&c->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    else
        mbedtls_ssl_conf_session_tickets_cb(&c->conf, ticket_write, ticket_parse, c);
#else
    (void)c;
#endif
}

/* Server, right after the step that parsed a ClientHello whose ticket
 * opened: mbedTLS has chosen a suite afresh, but a resumed session keeps
 * its own (RFC 5246 7.4.1.3; the client offers it again, and the ticket
 * was refused unless this server still accepts it); and a ticket sealed
 * with an older key is renewed (mbedTLS would issue none). */
static void after_step(dk_bk_session *s)
{
    mbedtls_ssl_context *ssl = &s->ssl;
    if (!s->ticket_resumed || !ssl->handshake || !ssl->handshake->resume ||
        ssl->state != MBEDTLS_SSL_SERVER_HELLO)
        return;
    const mbedtls_ssl_ciphersuite_t *cs = mbedtls_ssl_ciphersuite_from_id(s->ticket_suite);
    if (cs && ssl->session_negotiate->ciphersuite != s->ticket_suite) {
        ssl->session_negotiate->ciphersuite = s->ticket_suite;
        ssl->handshake->ciphersuite_info = cs;
    }
    if (s->ticket_renew)
        ssl->handshake->new_session_ticket = 1;
}

/* RFC 6347 4.2.1: the ClientHello that answers a HelloVerifyRequest
 * repeats the first one, and the core's cookie covers its session id. But
 * mbedTLS 2.28 draws a new random session id whenever it writes a
 * ClientHello with a ticket: the first draw is kept and given again. */
int dk_mbed_rng(void *p_rng, unsigned char *out, size_t len)
{
    dk_bk_session *s = current;
    bool hello_id = s && s->offered && s->ssl.session_negotiate &&
                    out == s->ssl.session_negotiate->id && len == sizeof s->hello_id;
    if (hello_id && s->hello_id_set) {
        memcpy(out, s->hello_id, len);
        return 0;
    }
    (void)p_rng; /* the library's DRBG, through the fork check */
    int ret = mbedtls_ctr_drbg_random(dk_mbed_drbg(), out, len);
    if (hello_id && ret == 0) {
        memcpy(s->hello_id, out, len);
        s->hello_id_set = true;
    }
    return ret;
}

/* One handshake step with `s` current for the callbacks: mbedtls_ssl_handshake()
 * one state at a time, so that after_step() can act between them. */
static int hs_step(dk_bk_session *s)
{
    int ret = 0;
    current = s;
    while (s->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
        ret = mbedtls_ssl_handshake_step(&s->ssl);
        if (ret != 0)
            break;
        after_step(s);
    }
    current = NULL;
    return ret;
}

/* Client: offers the session of an earlier save_session() when it is intact,
 * has a ticket, and suits this context (one of its suites; verified as this
 * context verifies). Anything else: a full handshake. */
static int client_offer(dk_bk_session *s, const dk_bk_ctx *ctx, const dk_bk_session_params *p)
{
#if !defined(MBEDTLS_SSL_SESSION_TICKETS)
    (void)s;
    (void)ctx;
    (void)p;
    return 0;
#else
    if (!ctx->tickets || !p->resume || p->resume_len <= SUM_LEN)
        return 0;
    size_t n = p->resume_len - SUM_LEN;
    uint8_t sum[SUM_LEN];
    if (mbedtls_sha256_ret(p->resume, n, sum, 0) != 0 || !same_bytes(sum, p->resume + n, SUM_LEN))
        return 0;
    mbedtls_ssl_session sess;
    mbedtls_ssl_session_init(&sess);
    int ret = mbedtls_ssl_session_load(&sess, p->resume, n);
    if (ret == 0 && sess.ticket && sess.ticket_len &&
        dk_mbed_ctx_has_suite(ctx, sess.ciphersuite) &&
        (!ctx->verify_peer || sess.verify_result == 0) &&
        mbedtls_sha256_ret(sess.ticket, sess.ticket_len, s->offered_hash, 0) == 0) {
        ret = mbedtls_ssl_set_session(&s->ssl, &sess);
        s->offered = ret == 0;
    }
    mbedtls_ssl_session_free(&sess);
    return ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? ret : 0;
#endif
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
    s->rto_initial_ms = p->rto_initial_ms;
    s->rto_max_ms = p->rto_max_ms;
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
        if (ret == 0 && !server)
            ret = client_offer(s, ctx, p);
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
    mbedtls_platform_zeroize(s->offered_hash, sizeof s->offered_hash);
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

static dk_err session_peer_chain(dk_bk_session *s, dk_bk_der_sink sink, void *user)
{
    dk_err e = DK_OK;
    for (const mbedtls_x509_crt *c = mbedtls_ssl_get_peer_cert(&s->ssl);
         e == DK_OK && c && c->raw.p; c = c->next)
        e = sink(user, c->raw.p, c->raw.len);
    return e;
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

static bool session_reused(dk_bk_session *s)
{
    return s->done && s->reused;
}

/* Client: the session with its ticket (the one the server sent in this
 * handshake, or the one it resumed with). */
static dk_err session_save(dk_bk_session *s, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
#if !defined(MBEDTLS_SSL_SESSION_TICKETS)
    (void)s;
    return DK_ERR_UNAVAILABLE;
#else
    if (!s->done)
        return DK_ERR_UNAVAILABLE;
    mbedtls_ssl_session sess;
    mbedtls_ssl_session_init(&sess);
    int ret = mbedtls_ssl_get_session(&s->ssl, &sess);
    dk_err e = ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? DK_ERR_NOMEM : DK_ERR_UNAVAILABLE;
    uint8_t *b = NULL;
    size_t n = 0;
    if (ret != 0 || !sess.ticket || !sess.ticket_len)
        goto out;
    /* A full handshake without a new ticket leaves the offered one in
     * place, which belongs to the old master secret. */
    if (s->offered && !s->reused) {
        uint8_t h[SUM_LEN];
        if (mbedtls_sha256_ret(sess.ticket, sess.ticket_len, h, 0) != 0 ||
            same_bytes(h, s->offered_hash, sizeof h))
            goto out;
    }
    if (mbedtls_ssl_session_save(&sess, NULL, 0, &n) != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL ||
        n > SIZE_MAX - SUM_LEN) {
        e = DK_ERR_TLS;
        goto out;
    }
    b = malloc(n + SUM_LEN);
    if (!b) {
        e = DK_ERR_NOMEM;
        goto out;
    }
    if (mbedtls_ssl_session_save(&sess, b, n, &n) != 0 || mbedtls_sha256_ret(b, n, b + n, 0) != 0) {
        mbedtls_platform_zeroize(b, n + SUM_LEN);
        free(b);
        e = DK_ERR_TLS;
        goto out;
    }
    *out = b;
    *len = n + SUM_LEN;
    e = DK_OK;
out:
    mbedtls_ssl_session_free(&sess); /* wipes the master secret */
    return e;
#endif
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
    .session_reused = session_reused,
    .save_session = session_save,
};
