/* GnuTLS backend: the handshake of one DTLS session driven by the core,
 * which then takes the secrets and protects the records itself. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnutls_session.h"

/* GnuTLS's handshake deadline, on its own clock: out of reach, so that
 * only the core's handshake timeout ends a session. */
#define GNU_TOTAL_MS 0x7fffffffu

/* Saved sessions: GnuTLS's packed session followed by its SHA-256, so that
 * damaged bytes are never offered (GnuTLS would fail the handshake rather
 * than fall back to a full one). */
#define SAVED_DIGEST_LEN 32

static uint64_t now_ms(dk_bk_session *s)
{
    return s->io.now_ms(s->io.user);
}

static void arm_timer(dk_bk_session *s, unsigned ms)
{
    s->rto_ms = ms;
    s->rto_deadline = now_ms(s) + ms;
}

/* GnuTLS builds its suites as key exchanges times ciphers (gnutls_ctx.c):
 * a combination the core did not ask for is refused as soon as it is
 * chosen, the server before its ServerHello leaves, the client when it
 * reads it. The suite is read from the message (its body, both ways): until the
 * keys change, gnutls_cipher_get() and gnutls_mac_get() still give epoch
 * 0's NULL. */
static int hello_hook(gnutls_session_t g, unsigned htype, unsigned when, unsigned incoming,
                      const gnutls_datum_t *msg)
{
    (void)htype;
    dk_bk_session *s = gnutls_session_get_ptr(g);
    if (!s || !msg || !msg->data ||
        (s->server ? (when != GNUTLS_HOOK_PRE || incoming)
                   : (when != GNUTLS_HOOK_POST || !incoming)))
        return 0;
    const uint8_t *b = msg->data;
    size_t n = msg->size, off = 0;
    /* server_version(2) random(32) session_id<0..32> cipher_suite(2) */
    if (n < off + 35 || n < off + 35 + b[off + 34] + 2)
        return 0; /* GnuTLS refuses a short ServerHello itself */
    off += 35 + b[off + 34];
    uint16_t id = (uint16_t)(b[off] << 8 | b[off + 1]);
    if (dk_gnu_suite_allowed(s->ctx, id))
        return 0;
    s->suite_refused = id;
    return GNUTLS_E_UNKNOWN_CIPHER_SUITE;
}

/* Client: a session saved by save_session() to offer. Bytes that are not
 * one are ignored: the handshake is then a full one. */
static void offer_session(dk_bk_session *s, const uint8_t *data, size_t len)
{
    if (!data || len <= SAVED_DIGEST_LEN || len - SAVED_DIGEST_LEN > UINT_MAX)
        return;
    size_t n = len - SAVED_DIGEST_LEN;
    uint8_t md[SAVED_DIGEST_LEN];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, n, md) < 0 ||
        gnutls_memcmp(md, data + n, sizeof md) != 0)
        return;
    (void)gnutls_session_set_data(s->g, data, n);
}

/* Client: SNI, tickets, a session to resume, and the name or address the
 * certificate must match (kept for the session's life, as GnuTLS asks). */
static dk_err setup_client(dk_bk_session *s, const dk_bk_session_params *p, char *reason,
                           size_t cap)
{
    int rc;
    if (p->sni &&
        (rc = gnutls_server_name_set(s->g, GNUTLS_NAME_DNS, p->sni, strlen(p->sni))) < 0) {
        dk_gnu_reason(reason, cap, "server name indication refused", rc);
        return DK_ERR_TLS;
    }
    if (p->resume && p->resume_len)
        offer_session(s, p->resume, p->resume_len);
    const char *name = p->verify_name;
    if (!name || !s->ctx->verify_peer || !s->ctx->cert)
        return DK_OK;
    gnutls_typed_vdata_st *v = &s->vdata[0];
    if (inet_pton(AF_INET, name, s->ip) == 1) {
        *v = (gnutls_typed_vdata_st){GNUTLS_DT_IP_ADDRESS, s->ip, 4};
    } else if (inet_pton(AF_INET6, name, s->ip) == 1) {
        *v = (gnutls_typed_vdata_st){GNUTLS_DT_IP_ADDRESS, s->ip, 16};
    } else if (name[0] && strlen(name) < 256) {
        if (!(s->host = strdup(name))) {
            snprintf(reason, cap, "out of memory");
            return DK_ERR_NOMEM;
        }
        *v = (gnutls_typed_vdata_st){GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)s->host, 0};
    } else {
        snprintf(reason, cap, "host name to verify is empty or too long");
        return DK_ERR_TLS;
    }
    s->vdata[1] = (gnutls_typed_vdata_st){GNUTLS_DT_KEY_PURPOSE_OID,
                                          (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0};
    s->vdata_len = 2;
    return DK_OK;
}

static void session_fini(dk_bk_session *s)
{
    if (s->g)
        gnutls_deinit(s->g);
    s->g = NULL;
    free(s->host);
    s->host = NULL;
    s->in = NULL;
}

static dk_err session_init(dk_bk_session *s, dk_bk_ctx *ctx, const dk_bk_session_params *p,
                           char *reason, size_t cap)
{
    s->ctx = ctx;
    s->io = p->io;
    s->server = p->role == DK_BK_SERVER;
    s->rx_max = -1;
    s->rto_initial_ms = p->rto_initial_ms;
    s->rto_max_ms = p->rto_max_ms;
    /* No tickets on a server: GnuTLS 3.7 seals them with its own keys
     * only (no hook for the core's). No session cache either. */
    unsigned flags = (s->server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_DATAGRAM |
                     GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL;
    if (s->server || !ctx->tickets)
        flags |= GNUTLS_NO_TICKETS;
    /* Like the other backends, a client sends its certificate whatever
     * CA names the server lists. */
    if (!s->server && ctx->cert)
        flags |= GNUTLS_FORCE_CLIENT_CERT;
    int rc = gnutls_init(&s->g, flags);
    if (rc < 0) {
        s->g = NULL;
        dk_gnu_reason(reason, cap, "session setup refused", rc);
        return rc == GNUTLS_E_MEMORY_ERROR ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    gnutls_session_set_ptr(s->g, s);
    dk_gnu_io_install(s);
    rc = gnutls_priority_set(s->g, ctx->prio);
    if (rc >= 0 && ctx->cert)
        rc = gnutls_credentials_set(s->g, GNUTLS_CRD_CERTIFICATE, ctx->cert);
    if (rc >= 0 && ctx->psk_server)
        rc = gnutls_credentials_set(s->g, GNUTLS_CRD_PSK, ctx->psk_server);
    if (rc >= 0 && ctx->psk_client && !s->server)
        rc = gnutls_credentials_set(s->g, GNUTLS_CRD_PSK, ctx->psk_client);
    if (rc < 0) {
        dk_gnu_reason(reason, cap, "session setup refused", rc);
        session_fini(s);
        return DK_ERR_TLS;
    }
    gnutls_dtls_set_mtu(s->g, p->mtu_payload);
    /* Retransmission timer 0: see gnutls_io.c. */
    gnutls_dtls_set_timeouts(s->g, 0, GNU_TOTAL_MS);
    gnutls_handshake_set_hook_function(s->g, GNUTLS_HANDSHAKE_SERVER_HELLO, GNUTLS_HOOK_BOTH,
                                       hello_hook);
    if (s->server && ctx->cert) {
        gnutls_certificate_server_set_request(s->g, !ctx->verify_peer        ? GNUTLS_CERT_IGNORE
                                                    : ctx->require_peer_cert ? GNUTLS_CERT_REQUIRE
                                                                             : GNUTLS_CERT_REQUEST);
    }
    if (ctx->verify_peer && ctx->cert)
        gnutls_session_set_verify_function(s->g, dk_gnu_verify_cb);
    if (!s->server) {
        dk_err e = setup_client(s, p, reason, cap);
        if (e != DK_OK) {
            session_fini(s);
            return e;
        }
    }
    if (s->server && ctx->verify_peer) {
        s->vdata[0] = (gnutls_typed_vdata_st){GNUTLS_DT_KEY_PURPOSE_OID,
                                              (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
        s->vdata_len = 1;
    }
    return DK_OK;
}

static void session_feed(dk_bk_session *s, const uint8_t *data, size_t len)
{
    s->in = data;
    s->in_len = data ? len : 0;
    s->fed_records = 0;
    dk_bk_record r;
    for (size_t off = 0, rl;
         data && (rl = dk_bk_record_next(data + off, len - off, &r)) > 0 && r.whole; off += rl)
        s->fed_records++;
    /* The server's first datagram: the ClientHello the core verified. */
    if (s->server && !s->prestate_done && data) {
        s->prestate_done = true;
        if (!dk_gnu_io_prestate(s, data, len))
            s->in = NULL; /* not a ClientHello: handshake() says so */
    }
}

static void alert_reason(dk_bk_session *s, char *reason, size_t cap)
{
    gnutls_alert_description_t a = gnutls_alert_get(s->g);
    const char *name = gnutls_alert_get_name(a);
    if (name)
        snprintf(reason, cap, "peer sent alert: %s", name);
    else
        snprintf(reason, cap, "peer sent alert: %d", (int)a);
}

/* Names a failed handshake: an alert the peer sent, close_notify, then the
 * verification result, then GnuTLS's own reason. Tells the peer with an
 * alert where the failure is ours. */
static dk_err handshake_error(dk_bk_session *s, int rc, char *reason, size_t cap)
{
    if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
        if (gnutls_alert_get(s->g) == GNUTLS_A_CLOSE_NOTIFY) {
            snprintf(reason, cap, "peer sent close_notify during the handshake");
            return DK_ERR_CLOSED;
        }
        alert_reason(s, reason, cap);
        return DK_ERR_HANDSHAKE;
    }
    if (s->peer_closed || rc == GNUTLS_E_SESSION_EOF) {
        snprintf(reason, cap, "peer sent close_notify during the handshake");
        return DK_ERR_CLOSED;
    }
    if (rc == GNUTLS_E_TIMEDOUT) {
        snprintf(reason, cap, "handshake timeout");
        return DK_ERR_TIMEOUT;
    }
    dk_err e = dk_gnu_verify_failure(s, rc, reason, cap);
    if (e != DK_OK) {
        (void)gnutls_alert_send(s->g, GNUTLS_AL_FATAL,
                                s->no_peer_cert ? GNUTLS_A_HANDSHAKE_FAILURE
                                                : GNUTLS_A_BAD_CERTIFICATE);
        return e;
    }
    if (s->psk_refused) {
        (void)gnutls_alert_send(s->g, GNUTLS_AL_FATAL, GNUTLS_A_UNKNOWN_PSK_IDENTITY);
        snprintf(reason, cap, "unknown PSK identity");
        return DK_ERR_HANDSHAKE;
    }
    if (s->suite_refused) {
        (void)gnutls_alert_send(s->g, GNUTLS_AL_FATAL, GNUTLS_A_HANDSHAKE_FAILURE);
        snprintf(reason, cap, "cipher suite 0x%04X was chosen, which was not configured",
                 (unsigned)s->suite_refused);
        return DK_ERR_HANDSHAKE;
    }
    (void)gnutls_alert_send_appropriate(s->g, rc);
    dk_gnu_reason(reason, cap, "handshake failed", rc);
    return rc == GNUTLS_E_MEMORY_ERROR ? DK_ERR_NOMEM : DK_ERR_HANDSHAKE;
}

/* One gnutls_handshake() step: DK_OK, DK_ERR_WOULD_BLOCK or a failure. */
static dk_err step(dk_bk_session *s, char *reason, size_t cap)
{
    int rc;
    /* Non-fatal codes other than EAGAIN (application data read ahead of
     * the Finished...) only interrupt the step: take the next. */
    for (int i = 0; i < 8; i++) {
        rc = gnutls_handshake(s->g);
        if (rc == 0) {
            s->done = true;
            s->rto_ms = 0;
            return DK_OK;
        }
        if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
            return DK_ERR_WOULD_BLOCK;
        if (rc == GNUTLS_E_WARNING_ALERT_RECEIVED || gnutls_error_is_fatal(rc))
            break;
    }
    return handshake_error(s, rc, reason, cap);
}

static dk_err session_handshake(dk_bk_session *s, char *reason, size_t cap)
{
    if (s->done)
        return DK_OK;
    if (!s->g) {
        snprintf(reason, cap, "session not initialised");
        return DK_ERR_TLS;
    }
    if (s->server && !s->prestate_done)
        return DK_ERR_WOULD_BLOCK; /* nothing fed yet */
    s->sent = 0;
    /* GnuTLS 3.7 may take one record of a datagram per call and keep the
     * rest (while it waits for the peer's ChangeCipherSpec, each old
     * handshake record is dropped with EAGAIN); with records left it does
     * not check for a retransmission either. So a step runs until every
     * record fed had its turn. */
    unsigned rounds = s->fed_records + 1;
    s->fed_records = 0;
    dk_err e = DK_OK; /* (the loop runs at least once) */
    do
        e = step(s, reason, cap);
    while (e == DK_ERR_WOULD_BLOCK && --rounds > 0);
    if (e == DK_ERR_WOULD_BLOCK && s->server && s->rx_max < 0 && !s->sent) {
        /* The verified ClientHello is the first datagram: GnuTLS read
         * nothing from it. */
        snprintf(reason, cap, "ClientHello refused: the first datagram holds no ClientHello");
        return DK_ERR_HANDSHAKE;
    }
    /* A new flight went out: its timer starts from the first value. */
    if (e == DK_ERR_WOULD_BLOCK && s->sent)
        arm_timer(s, s->rto_initial_ms);
    return e;
}

static dk_err session_read(dk_bk_session *s, uint8_t *buf, size_t cap, size_t *out_len,
                           char *reason, size_t rcap)
{
    for (int i = 0; i < 8; i++) {
        ssize_t n = gnutls_record_recv(s->g, buf, cap);
        if (n > 0) {
            *out_len = (size_t)n;
            return DK_OK;
        }
        if (n == 0)
            return DK_ERR_CLOSED;
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            return DK_ERR_WOULD_BLOCK;
        if (n == GNUTLS_E_FATAL_ALERT_RECEIVED || n == GNUTLS_E_WARNING_ALERT_RECEIVED) {
            alert_reason(s, reason, rcap);
            return DK_ERR_TLS;
        }
        if (gnutls_error_is_fatal((int)n)) {
            dk_gnu_reason(reason, rcap, "record layer failure", (int)n);
            return DK_ERR_TLS;
        }
    }
    return DK_ERR_WOULD_BLOCK;
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

/* The one place a flight leaves again: GnuTLS's poll for input is
 * answered "timed out" during this call (gnutls_io.c). */
static dk_err session_handle_timeout(dk_bk_session *s, char *reason, size_t cap)
{
    if (s->done || !s->rto_ms || !s->g)
        return DK_OK;
    s->forced = true;
    s->sent = 0;
    dk_err e = step(s, reason, cap);
    s->forced = false;
    arm_timer(s, dk_bk_rto_next(s->rto_ms, s->rto_initial_ms, s->rto_max_ms));
    return e == DK_ERR_WOULD_BLOCK ? DK_OK : e;
}

static void session_set_mtu(dk_bk_session *s, unsigned mtu)
{
    if (s->g)
        gnutls_dtls_set_mtu(s->g, mtu);
}

/* The IANA name of the suite, from GnuTLS's static table. */
static const char *session_cipher(dk_bk_session *s)
{
    const char *name = s->done ? gnutls_ciphersuite_get(s->g) : NULL;
    return name ? name : "";
}

/* GnuTLS keeps the master secret (the extended one when RFC 7627 was
 * negotiated: it is computed into the same field) and both randoms. */
static dk_err session_export_secrets(dk_bk_session *s, dk_bk_secrets *out)
{
    if (!s->done)
        return DK_ERR_TLS;
    gnutls_datum_t ms = {NULL, 0}, cr = {NULL, 0}, sr = {NULL, 0};
    gnutls_session_get_master_secret(s->g, &ms);
    gnutls_session_get_random(s->g, &cr, &sr);
    uint16_t id =
        dk_gnu_suite_id(gnutls_kx_get(s->g), gnutls_cipher_get(s->g), gnutls_mac_get(s->g));
    if (!id || !ms.data || ms.size != sizeof out->master_secret || !cr.data ||
        cr.size != sizeof out->client_random || !sr.data || sr.size != sizeof out->server_random)
        return DK_ERR_TLS;
    out->suite = id;
    memcpy(out->master_secret, ms.data, ms.size);
    memcpy(out->client_random, cr.data, cr.size);
    memcpy(out->server_random, sr.data, sr.size);
    return DK_OK;
}

static bool session_reused(dk_bk_session *s)
{
    return s->done && gnutls_session_is_resumed(s->g) != 0;
}

/* Client: the session with the ticket the server sent (GnuTLS's packing),
 * then its SHA-256. */
static dk_err session_save(dk_bk_session *s, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!s->done || s->server || !(gnutls_session_get_flags(s->g) & GNUTLS_SFLAGS_SESSION_TICKET))
        return DK_ERR_UNAVAILABLE;
    gnutls_datum_t d = {NULL, 0};
    if (gnutls_session_get_data2(s->g, &d) < 0 || !d.data || !d.size) {
        gnutls_free(d.data);
        return DK_ERR_UNAVAILABLE;
    }
    dk_err e = DK_ERR_NOMEM;
    uint8_t *b = malloc((size_t)d.size + SAVED_DIGEST_LEN);
    if (b) {
        memcpy(b, d.data, d.size);
        if (gnutls_hash_fast(GNUTLS_DIG_SHA256, b, d.size, b + d.size) < 0) {
            gnutls_memset(b, 0, d.size);
            free(b);
            e = DK_ERR_TLS;
        } else {
            *out = b;
            *len = (size_t)d.size + SAVED_DIGEST_LEN;
            e = DK_OK;
        }
    }
    gnutls_memset(d.data, 0, d.size);
    gnutls_free(d.data);
    return e;
}

const dk_bk_session_ops dk_gnu_session_ops = {
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
    .peer_chain = dk_gnu_peer_ders,
    .export_secrets = session_export_secrets,
    .session_reused = session_reused,
    .save_session = session_save,
};
