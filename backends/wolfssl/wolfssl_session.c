/* wolfSSL backend: the handshake of one DTLS session driven by the core,
 * which then takes the secrets and protects the records itself. */
#include "wolfssl_session.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

/* wolfSSL's own timer, in seconds, doubles at each wolfSSL_dtls_got_timeout
 * and fails once it reaches its maximum. Ours runs in milliseconds; theirs
 * is set back to 1 s before each call, under a maximum it never reaches, so
 * that only the core's handshake timeout gives up. */
#define WOLF_TIMEOUT_MAX 3600

/* Largest record plaintext (RFC 6347 4.1.1: 2^14). */
#define DK_WOLF_MAX_RECORD 16384
/* What wolfSSL 5.5.4 reads per datagram during a handshake by itself. */
#define DK_WOLF_HANDSHAKE_READ 1400

/* Alert levels on the wire (RFC 5246 7.2). */
#define ALERT_FATAL             2
#define ALERT_CLOSE_NOTIFY      0
#define ALERT_HANDSHAKE_FAILURE 40
#define ALERT_BAD_CERTIFICATE   42
#define ALERT_UNKNOWN_PSK_ID    115

/* wolfSSL accepted the ClientHello's cookie: the handoff worked. */
static int cookie_accepted(WOLFSSL *ssl, void *ctx)
{
    (void)ssl;
    dk_bk_session *s = ctx;
    s->cookie_ok = true;
    return 0;
}

static uint64_t now_ms(dk_bk_session *s)
{
    return s->io.now_ms(s->io.user);
}

static void arm_timer(dk_bk_session *s, unsigned ms)
{
    s->rto_ms = ms;
    s->rto_deadline = now_ms(s) + ms;
}

/* Server: the cookie handoff (see backend.h and the session params). */
static int setup_server(dk_bk_session *s, const dk_bk_session_params *p, char *reason, size_t cap)
{
    int rc = wolfSSL_DTLS_SetCookieSecret(s->ssl, p->cookie_secret, (word32)p->cookie_secret_len);
    if (rc != 0) { /* 0 is success here, not WOLFSSL_SUCCESS */
        dk_wolf_reason(reason, cap, rc, "cookie secret refused");
        return rc < 0 ? rc : BAD_FUNC_ARG;
    }
    /* wolfSSL hashes the bytes given as "peer" into its cookie (it keeps a
     * copy of them). */
    void *tid = malloc(p->transport_id_len ? p->transport_id_len : 1);
    if (!tid)
        return MEMORY_E;
    memcpy(tid, p->transport_id, p->transport_id_len);
    rc = wolfSSL_dtls_set_peer(s->ssl, tid, (unsigned)p->transport_id_len);
    free(tid);
    if (rc == WOLFSSL_SUCCESS)
        rc = wolfDTLS_SetChGoodCb(s->ssl, cookie_accepted, s);
    if (rc != WOLFSSL_SUCCESS)
        dk_wolf_reason(reason, cap, rc, "cookie handoff refused");
    return rc;
}

/* Client: a session saved by save_session() to offer, with its ticket.
 * Bytes wolfSSL cannot read whole, or a session it will not take (expired,
 * a suite not offered), are ignored: the handshake is then a full one. */
static void offer_session(dk_bk_session *s, const uint8_t *bytes, size_t len)
{
    if (len > LONG_MAX)
        return;
    const unsigned char *q = bytes;
    WOLFSSL_SESSION *sess = wolfSSL_d2i_SSL_SESSION(NULL, &q, (long)len);
    if (sess && q == bytes + len && wolfSSL_SESSION_has_ticket(sess) &&
        wolfSSL_set_session(s->ssl, sess) == WOLFSSL_SUCCESS)
        s->ticket_offered = true;
    wolfSSL_SESSION_free(sess);
    wolfSSL_ERR_clear_error();
}

/* Client: SNI, tickets, a session to resume, and the name or address the
 * certificate must match. */
static int setup_client(dk_bk_session *s, const dk_bk_session_params *p, char *reason, size_t cap)
{
    /* RFC 5746 3.4: offer an empty renegotiation_info. wolfSSL 5.5.4
     * offers nothing by default and then fails on a server's answer
     * ("Invalid Renegotiation Error"). Debian's build has no
     * HAVE_SECURE_RENEGOTIATION: this only adds the extension, it cannot
     * renegotiate. */
    int rc = wolfSSL_UseSecureRenegotiation(s->ssl);
    if (rc != WOLFSSL_SUCCESS) {
        dk_wolf_reason(reason, cap, rc, "renegotiation indication refused");
        return rc;
    }
    if (p->sni) {
        rc = wolfSSL_UseSNI(s->ssl, WOLFSSL_SNI_HOST_NAME, p->sni, (word16)strlen(p->sni));
        if (rc != WOLFSSL_SUCCESS) {
            dk_wolf_reason(reason, cap, rc, "server name indication refused");
            return rc;
        }
    }
    if (s->ctx->tickets) {
        rc = wolfSSL_UseSessionTicket(s->ssl);
        if (rc != WOLFSSL_SUCCESS) {
            dk_wolf_reason(reason, cap, rc, "session ticket extension refused");
            return rc;
        }
    }
    if (p->resume && p->resume_len)
        offer_session(s, p->resume, p->resume_len);
    const char *name = p->verify_name;
    if (!name)
        return WOLFSSL_SUCCESS;
    if (inet_pton(AF_INET, name, s->ip) == 1) {
        s->ip_len = 4;
    } else if (inet_pton(AF_INET6, name, s->ip) == 1) {
        s->ip_len = 16;
    } else if (name[0] && strlen(name) < 256) {
        if (!(s->host = strdup(name)))
            return MEMORY_E;
    } else {
        snprintf(reason, cap, "host name to verify is empty or too long");
        return BAD_FUNC_ARG;
    }
    return WOLFSSL_SUCCESS;
}

static dk_err session_init(dk_bk_session *s, dk_bk_ctx *ctx, const dk_bk_session_params *p,
                           char *reason, size_t cap)
{
    s->io = p->io;
    s->ctx = ctx;
    s->rto_initial_ms = p->rto_initial_ms;
    s->rto_max_ms = p->rto_max_ms;
    s->server = p->role == DK_BK_SERVER;
    s->ssl = wolfSSL_new(ctx->ctx);
    if (!s->ssl) {
        snprintf(reason, cap, "out of memory");
        return DK_ERR_NOMEM;
    }
    wolfSSL_SetIOReadCtx(s->ssl, s);
    wolfSSL_SetIOWriteCtx(s->ssl, s);
    wolfSSL_SetCertCbCtx(s->ssl, s);
    wolfSSL_dtls_set_using_nonblock(s->ssl, 1);
    /* Master secret and randoms stay for export_secrets(). */
    wolfSSL_KeepArrays(s->ssl);
    int rc = wolfSSL_dtls_set_timeout_max(s->ssl, WOLF_TIMEOUT_MAX);
    if (rc != WOLFSSL_SUCCESS)
        dk_wolf_reason(reason, cap, rc, "session setup refused");
    else
        rc = s->server ? setup_server(s, p, reason, cap) : setup_client(s, p, reason, cap);
    if (rc != WOLFSSL_SUCCESS) {
        wolfSSL_free(s->ssl);
        s->ssl = NULL;
        free(s->host);
        s->host = NULL;
        return rc == MEMORY_E ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    return DK_OK;
}

static void session_fini(dk_bk_session *s)
{
    wolfSSL_free(s->ssl);
    s->ssl = NULL;
    free(s->held);
    s->held = NULL;
    free(s->host);
    s->host = NULL;
    free(s->mismatch);
    s->mismatch = NULL;
    wolfSSL_ERR_clear_error();
}

static void session_feed(dk_bk_session *s, const uint8_t *data, size_t len)
{
    s->in = data;
    s->in_len = len;
}

/* The last alert the peer sent, or -1. */
static int alert_received(dk_bk_session *s, int *level)
{
    WOLFSSL_ALERT_HISTORY h;
    memset(&h, 0, sizeof h);
    if (wolfSSL_get_alert_history(s->ssl, &h) != WOLFSSL_SUCCESS || h.last_rx.level <= 0)
        return -1;
    *level = h.last_rx.level;
    return h.last_rx.code;
}

static void alert_reason(int code, char *reason, size_t cap)
{
    const char *name = wolfSSL_alert_desc_string_long(code);
    if (code == ALERT_UNKNOWN_PSK_ID) /* wolfSSL 5.5.4 has no name for it */
        snprintf(reason, cap, "peer sent alert: unknown PSK identity");
    else if (name)
        snprintf(reason, cap, "peer sent alert: %s", name);
    else
        snprintf(reason, cap, "peer sent alert: %d", code);
}

static bool is_name_error(int code)
{
    return code == DOMAIN_NAME_MISMATCH || code == IPADDR_MISMATCH;
}

/* The verification failure to report: the callback's first one, or
 * wolfSSL's own code for the same failure when it is more precise (the
 * callback sees OpenSSL-style codes; an expired leaf shows as
 * "error in notAfter field" there, ASN_AFTER_DATE_E here). */
static int verify_code(int first, int err)
{
    if (!dk_wolf_is_verify_error(err) || err == VERIFY_CERT_ERROR)
        return first;
    return is_name_error(first) == is_name_error(err) ? err : first;
}

/* Names a failed handshake: close_notify, then the verification result,
 * then an alert the peer sent, then wolfSSL's own reason. */
static dk_err handshake_error(dk_bk_session *s, int err, char *reason, size_t cap)
{
    int level = 0, alert = alert_received(s, &level);
    dk_err e;
    if (err == WOLFSSL_ERROR_ZERO_RETURN || alert == ALERT_CLOSE_NOTIFY) {
        e = DK_ERR_CLOSED;
    } else if (s->verify_err) {
        e = dk_wolf_verify_failure(verify_code(s->verify_err, err), reason, cap);
        if (e == DK_ERR_HOSTNAME && s->mismatch)
            snprintf(reason, cap, "%s", s->mismatch);
    } else if (dk_wolf_is_verify_error(err)) {
        e = dk_wolf_verify_failure(err, reason, cap);
    } else if (alert >= 0 && level == ALERT_FATAL) {
        alert_reason(alert, reason, cap);
        e = DK_ERR_HANDSHAKE;
    } else {
        dk_wolf_reason(reason, cap, err, "handshake failed");
        e = DK_ERR_HANDSHAKE;
    }
    /* A failure of ours that wolfSSL did not announce: tell the peer, so
     * that it does not wait for its handshake timeout. */
    if (alert < 0 && s->sent == 0)
        dk_wolf_send_fatal_alert(s, s->psk_refused ? ALERT_UNKNOWN_PSK_ID
                                    : e == DK_ERR_CERT_VERIFY && err != NO_PEER_CERT
                                        ? ALERT_BAD_CERTIFICATE
                                        : ALERT_HANDSHAKE_FAILURE);
    wolfSSL_ERR_clear_error();
    return e;
}

static dk_err session_handshake(dk_bk_session *s, char *reason, size_t cap)
{
    if (s->done)
        return DK_OK;
    s->sent = 0;
    /* wolfSSL_peek() runs the handshake like wolfSSL_connect/accept, and
     * lets wolfSSL read a datagram as large as the size asked (its own
     * handshake reads stop at 1400 bytes); application data that follows
     * the handshake stays for read(). The size is the datagram fed: wolfSSL
     * keeps its input buffer at the largest size ever asked, so asking for
     * 16 KB each time would cost every half-open handshake 16 KB. */
    uint8_t scratch[DK_WOLF_MAX_RECORD];
    size_t want = s->in && s->in_len > DK_WOLF_HANDSHAKE_READ ? s->in_len : DK_WOLF_HANDSHAKE_READ;
    if (want > sizeof scratch)
        want = sizeof scratch;
    /* The server's first datagram: the core's ClientHello (see
     * wolfssl_hello.c for an empty server_name host name and tickets). */
    unsigned edit =
        s->server && !s->cookie_ok ? dk_wolf_hello_arm(s->ssl, s->ctx, s->in, s->in_len) : 0;
    int rc = wolfSSL_peek(s->ssl, scratch, (int)want);
    bool edited = edit && dk_wolf_hello_disarm(s->ssl);
    if (rc > 0 || wolfSSL_is_init_finished(s->ssl))
        rc = WOLFSSL_SUCCESS;
    if (rc == WOLFSSL_SUCCESS && (s->host || s->ip_len) && !s->leaf_checked &&
        !wolfSSL_session_reused(s->ssl)) {
        /* Never accept a name that was not checked (a build whose verify
         * callback does not run on success). A resumed session sees no
         * certificate: the core offers it only to the server name it was
         * checked against. */
        snprintf(reason, cap, "the server certificate's name could not be checked");
        return DK_ERR_CERT_VERIFY;
    }
    if (rc == WOLFSSL_SUCCESS) {
        s->done = true;
        s->rto_ms = 0;
        wolfSSL_ERR_clear_error();
        return DK_OK;
    }
    int err = wolfSSL_get_error(s->ssl, rc);
    if (err != WOLFSSL_ERROR_WANT_READ && err != WOLFSSL_ERROR_WANT_WRITE) {
        dk_err e = handshake_error(s, err, reason, cap);
        if ((edit & DK_WOLF_HELLO_SNI) && !edited && err == BUFFER_ERROR)
            snprintf(reason, cap,
                     "wolfSSL 5.5.4 rejects a ClientHello with an empty server_name host name");
        return e;
    }
    wolfSSL_ERR_clear_error();
    /* The first datagram of a server session is the ClientHello whose
     * cookie the core verified: if wolfSSL did not take it, it never will
     * (it has answered with a HelloVerifyRequest, which io_send dropped). */
    if (s->server && !s->cookie_ok) {
        snprintf(reason, cap, "ClientHello refused: wolfSSL did not accept the cookie");
        return DK_ERR_HANDSHAKE;
    }
    /* A new flight went out: the timer starts again from its first value. */
    if (s->sent)
        arm_timer(s, s->rto_initial_ms);
    return DK_ERR_WOULD_BLOCK;
}

/* At the hand-off only: records wolfSSL read ahead with the peer's Finished
 * (after export_secrets, so the arrays are gone; reading needs none). */
static dk_err session_read(dk_bk_session *s, uint8_t *buf, size_t cap, size_t *out_len,
                           char *reason, size_t rcap)
{
    int n = wolfSSL_read(s->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (n > 0) {
        *out_len = (size_t)n;
        return DK_OK;
    }
    int err = wolfSSL_get_error(s->ssl, n), level = 0, alert = alert_received(s, &level);
    wolfSSL_ERR_clear_error();
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
        return DK_ERR_WOULD_BLOCK;
    if (err == WOLFSSL_ERROR_ZERO_RETURN || alert == ALERT_CLOSE_NOTIFY)
        return DK_ERR_CLOSED;
    if (alert >= 0 && level == ALERT_FATAL)
        alert_reason(alert, reason, rcap);
    else
        dk_wolf_reason(reason, rcap, err, "record layer failure");
    return DK_ERR_TLS;
}

static int session_timeout_ms(dk_bk_session *s)
{
    if (s->done || !s->rto_ms)
        return -1;
    uint64_t now = now_ms(s);
    if (now >= s->rto_deadline)
        return 0;
    uint64_t left = s->rto_deadline - now;
    return left > INT_MAX ? INT_MAX : (int)left;
}

static dk_err session_handle_timeout(dk_bk_session *s, char *reason, size_t cap)
{
    if (s->done || !s->rto_ms)
        return DK_OK;
    (void)wolfSSL_dtls_set_timeout_init(s->ssl, 1);
    if (wolfSSL_dtls_got_timeout(s->ssl) != WOLFSSL_SUCCESS) {
        dk_wolf_reason(reason, cap, wolfSSL_get_error(s->ssl, WOLFSSL_FATAL_ERROR),
                       "retransmission failed");
        return DK_ERR_TIMEOUT;
    }
    arm_timer(s, dk_bk_rto_next(s->rto_ms, s->rto_initial_ms, s->rto_max_ms));
    return DK_OK;
}

/* Without WOLFSSL_DTLS_MTU (Debian's build) wolfSSL cannot be told an MTU:
 * it fragments the handshake at its compiled-in 1400 bytes. */
static void session_set_mtu(dk_bk_session *s, unsigned mtu)
{
    (void)s;
    (void)mtu;
}

/* wolfSSL's name of the negotiated suite, from its static name table. */
static const char *session_cipher(dk_bk_session *s)
{
    int suite = s->done ? wolfSSL_get_current_cipher_suite(s->ssl) : 0;
    const char *name = suite > 0 && suite <= 0xffff ? dk_wolf_suite_name((uint16_t)suite) : NULL;
    return name ? name : "";
}

static dk_err session_peer_chain(dk_bk_session *s, dk_bk_der_sink sink, void *user)
{
    WOLFSSL_X509_CHAIN *chain = wolfSSL_get_peer_chain(s->ssl);
    int count = chain ? wolfSSL_get_chain_count(chain) : 0;
    dk_err e = DK_OK;
    for (int i = 0; e == DK_OK && i < count; i++) {
        const unsigned char *der = wolfSSL_get_chain_cert(chain, i);
        int len = wolfSSL_get_chain_length(chain, i);
        e = der && len > 0 ? sink(user, der, (size_t)len) : DK_ERR_TLS;
    }
    return e;
}

/* The suite's IANA id (wolfSSL keeps its two bytes), and the master
 * secret and randoms of the arrays wolfSSL_KeepArrays kept, released here:
 * nothing after the hand-off needs them. */
static dk_err session_export_secrets(dk_bk_session *s, dk_bk_secrets *out)
{
    unsigned char *ms = NULL, *sr = NULL, *cr = NULL;
    unsigned ms_len = 0, sr_len = 0, cr_len = 0;
    int suite = s->done ? wolfSSL_get_current_cipher_suite(s->ssl) : 0;
    if (suite <= 0 || suite > 0xffff ||
        wolfSSL_get_keys(s->ssl, &ms, &ms_len, &sr, &sr_len, &cr, &cr_len) != WOLFSSL_SUCCESS ||
        !ms || !sr || !cr || ms_len != sizeof out->master_secret ||
        sr_len != sizeof out->server_random || cr_len != sizeof out->client_random)
        return DK_ERR_TLS;
    out->suite = (uint16_t)suite;
    memcpy(out->master_secret, ms, ms_len);
    memcpy(out->server_random, sr, sr_len);
    memcpy(out->client_random, cr, cr_len);
    wolfSSL_FreeArrays(s->ssl);
    return DK_OK;
}

/* An abbreviated handshake: wolfSSL resumed the session of a ticket. */
static bool session_session_reused(dk_bk_session *s)
{
    return s->done && wolfSSL_session_reused(s->ssl) == 1;
}

/* Client: the session with its ticket (the one the server sent, or the
 * one it resumed with), in wolfSSL's own encoding. */
static dk_err session_save_session(dk_bk_session *s, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    WOLFSSL_SESSION *sess = s->done && !s->server ? wolfSSL_get1_session(s->ssl) : NULL;
    if (!sess || !wolfSSL_SESSION_has_ticket(sess)) {
        wolfSSL_SESSION_free(sess);
        return DK_ERR_UNAVAILABLE;
    }
    dk_err e = DK_ERR_TLS;
    int n = wolfSSL_i2d_SSL_SESSION(sess, NULL);
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (n > 0 && !buf) {
        e = DK_ERR_NOMEM;
    } else if (buf) {
        unsigned char *w = buf;
        /* wolfSSL 5.5.4 does not move `w` past what it wrote, as
         * OpenSSL's i2d functions do: either is fine. */
        if (wolfSSL_i2d_SSL_SESSION(sess, &w) == n && (w == buf || w == buf + n)) {
            *out = buf;
            *len = (size_t)n;
            buf = NULL;
            e = DK_OK;
        }
    }
    if (buf) {
        dk_wolf_wipe(buf, (size_t)n);
        free(buf);
    }
    wolfSSL_SESSION_free(sess);
    wolfSSL_ERR_clear_error();
    return e;
}

const dk_bk_session_ops dk_wolf_session_ops = {
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
    .session_reused = session_session_reused,
    .save_session = session_save_session,
};
