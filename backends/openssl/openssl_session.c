/* OpenSSL backend: one DTLS session driven by the core. */
#include <arpa/inet.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openssl_backend.h"
#include "openssl_session.h"

static int session_index = -1;

int dk_ossl_session_index(void)
{
    if (session_index < 0)
        session_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    return session_index;
}

/* THE RETRANSMISSION TIMER runs on the core's clock (io.now_ms), as the
 * contract asks, although OpenSSL 3.0 times its DTLS timer with
 * gettimeofday() and nothing else: DTLSv1_handle_timeout() retransmits only
 * when that clock has passed the deadline, and so does every read of a
 * handshake message (dtls1_read_bytes() handles an expired timer before it
 * reads, and again when the read finds nothing: docs/LIBRARIES.md, "Timers"),
 * so a timer always expired would retransmit at every datagram fed.
 * Instead:
 *  - the session keeps its own timeout and deadline in io.now_ms, started
 *    with a flight (OpenSSL asks timer_cb for a first value), moved on at
 *    each retransmission (timer_cb with the previous value) and stopped
 *    when OpenSSL stops its timer (a zero deadline given to the BIO);
 *  - OpenSSL's own timer always gets OSSL_TIMER_FAR_US, out of reach, so
 *    OpenSSL never retransmits by itself, reads included;
 *  - handle_timeout(), called by the core when the session's deadline has
 *    passed, sets OpenSSL's deadline in the past before it calls
 *    DTLSv1_handle_timeout(): one retransmission, when the core says so.
 * OpenSSL 3.0 hands its BIO a pointer to its deadline itself
 * (&s->d1->next_timeout in dtls1_start_timer and dtls1_stop_timer); from
 * 3.1 on that is not guaranteed (3.2 passes a copy), so other versions use
 * OpenSSL's timer under the core's policy as it is (real time only). */
#define OSSL_TIMER_FAR_US 3600000000u /* one hour */

static bool core_clock_usable(void)
{
    unsigned long v = OpenSSL_version_num();
    return v >= 0x30000000UL && v < 0x30100000UL;
}

static uint64_t now_ms(const dk_bk_session *s)
{
    return s->io.now_ms(s->io.user);
}

/* OpenSSL asks for its next timeout with the previous one (0 at the start
 * of a flight; later ones only from DTLSv1_handle_timeout, just before it
 * retransmits). */
static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
    dk_bk_session *s = SSL_get_ex_data(ssl, dk_ossl_session_index());
    if (!s->core_clock)
        return dk_bk_rto_next(prev_us / 1000, s->rto_initial_ms, s->rto_max_ms) * 1000u;
    s->rto_ms = dk_bk_rto_next(prev_us ? s->rto_ms : 0, s->rto_initial_ms, s->rto_max_ms);
    s->rto_deadline = now_ms(s) + s->rto_ms;
    return OSSL_TIMER_FAR_US;
}

void dk_ossl_timer_moved(dk_bk_session *s, struct timeval *deadline)
{
    if (!s->core_clock)
        return;
    s->ossl_deadline = deadline;
    if (deadline->tv_sec == 0 && deadline->tv_usec == 0)
        s->rto_ms = 0; /* stopped: the flight was answered */
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    if (!(where & SSL_CB_READ_ALERT))
        return;
    dk_bk_session *s = SSL_get_ex_data(ssl, dk_ossl_session_index());
    if (s)
        snprintf(s->alert, sizeof s->alert, "%s", SSL_alert_desc_string_long(ret));
}

/* No record is ever larger than a datagram: OpenSSL's write buffer, which
 * it sizes by the largest fragment it may send (16 KB by default) and keeps
 * for the session's life, need not be larger either (about 14 KB less for
 * every session, a half-open handshake included). */
static bool fit_write_buffer(dk_bk_session *s)
{
    unsigned frag = s->mtu < 512 ? 512 : s->mtu > 16384 ? 16384 : s->mtu;
    return SSL_set_max_send_fragment(s->ssl, frag) == 1;
}

/* Saved sessions: OpenSSL's DER encoding (i2d_SSL_SESSION, with the
 * ticket and the master secret) followed by its SHA-256, so that damaged
 * bytes are never offered: a garbled master secret next to an intact
 * ticket would fail the handshake instead of falling back to a full one. */
#define SAVED_DIGEST_LEN 32

/* Client: offers the session in `data` when it is one this session could
 * resume (DTLS 1.2, with a ticket, a suite it offers); otherwise nothing
 * happens and the handshake is a full one. */
static void offer_session(dk_bk_session *s, const uint8_t *data, size_t len)
{
    if (!data || len <= SAVED_DIGEST_LEN || len - SAVED_DIGEST_LEN > LONG_MAX)
        return;
    size_t der_len = len - SAVED_DIGEST_LEN;
    uint8_t md[SAVED_DIGEST_LEN];
    unsigned int n = 0;
    if (EVP_Digest(data, der_len, md, &n, EVP_sha256(), NULL) != 1 || n != sizeof md ||
        CRYPTO_memcmp(md, data + der_len, sizeof md) != 0) {
        ERR_clear_error();
        return;
    }
    const unsigned char *p = data;
    SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, (long)der_len);
    bool ok = sess && p == data + der_len &&
              SSL_SESSION_get_protocol_version(sess) == DTLS1_2_VERSION &&
              SSL_SESSION_has_ticket(sess) && SSL_SESSION_is_resumable(sess);
    /* A suite the ClientHello does not offer would make the server fail
     * the handshake rather than resume it. */
    const SSL_CIPHER *cipher = ok ? SSL_SESSION_get0_cipher(sess) : NULL;
    STACK_OF(SSL_CIPHER) *sk = cipher ? SSL_get_ciphers(s->ssl) : NULL;
    bool offered = false;
    for (int i = 0; !offered && i < sk_SSL_CIPHER_num(sk); i++)
        offered = SSL_CIPHER_get_id(sk_SSL_CIPHER_value(sk, i)) == SSL_CIPHER_get_id(cipher);
    if (offered)
        (void)SSL_set_session(s->ssl, sess);
    SSL_SESSION_free(sess);
    ERR_clear_error();
}

static dk_err session_init(dk_bk_session *s, dk_bk_ctx *ctx, const dk_bk_session_params *p,
                           char *reason, size_t cap)
{
    ERR_clear_error();
    s->io = p->io;
    s->mtu = p->mtu_payload;
    s->rto_initial_ms = p->rto_initial_ms;
    s->rto_max_ms = p->rto_max_ms;
    s->core_clock = core_clock_usable();
    s->server = p->role == DK_BK_SERVER;
    if (s->server) {
        if (p->cookie_len > DK_OSSL_COOKIE_MAX) {
            snprintf(reason, cap, "cookie of %zu bytes is too long", p->cookie_len);
            return DK_ERR_INVALID;
        }
        memcpy(s->cookie, p->cookie, p->cookie_len);
        s->cookie_len = (uint8_t)p->cookie_len;
    }
    BIO *bio = BIO_new(dk_ossl_bio_method());
    s->ssl = SSL_new(ctx->ctx);
    if (!bio || !s->ssl) {
        BIO_free(bio);
        SSL_free(s->ssl);
        s->ssl = NULL;
        dk_ossl_reason(reason, cap, "out of memory");
        return DK_ERR_NOMEM;
    }
    BIO_set_data(bio, s);
    SSL_set_bio(s->ssl, bio, bio);
    SSL_set_ex_data(s->ssl, dk_ossl_session_index(), s);
    SSL_set_info_callback(s->ssl, info_cb);
    DTLS_set_timer_cb(s->ssl, timer_cb);
    bool ok = SSL_set_mtu(s->ssl, (long)s->mtu) > 0 && /* returns the MTU */
              fit_write_buffer(s);
    if (ok && !s->server) {
        SSL_set_connect_state(s->ssl);
        if (p->sni)
            ok = SSL_set_tlsext_host_name(s->ssl, p->sni) == 1;
        if (ok && p->verify_name) {
            /* An IP literal is matched against iPAddress entries, a name
             * against DNS names (and the CN when there are none). */
            X509_VERIFY_PARAM *vp = SSL_get0_param(s->ssl);
            if (X509_VERIFY_PARAM_set1_ip_asc(vp, p->verify_name) != 1) {
                ERR_clear_error();
                ok = SSL_set1_host(s->ssl, p->verify_name) == 1;
            }
        }
        if (ok && p->resume)
            offer_session(s, p->resume, p->resume_len);
    }
    if (!ok) {
        dk_ossl_reason(reason, cap, "session setup refused");
        SSL_free(s->ssl);
        s->ssl = NULL;
        return DK_ERR_TLS;
    }
    return DK_OK;
}

static void session_fini(dk_bk_session *s)
{
    SSL_free(s->ssl);
    s->ssl = NULL;
    ERR_clear_error();
}

static void session_feed(dk_bk_session *s, const uint8_t *data, size_t len)
{
    s->in = data;
    s->in_len = len;
}

/* Appends to `buf` (capacity `cap`, used `*len`), truncating. */
static void put(char *buf, size_t cap, size_t *len, const char *text, size_t n)
{
    if (*len + 1 >= cap)
        return;
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, text, n);
    *len += n;
    buf[*len] = '\0';
}

/* "certificate is for CN=a, DNS:b, IP:c, not 'name'": the same sentence
 * on every backend, for a host name mismatch. */
static void mismatch_reason(dk_bk_session *s, char *reason, size_t cap)
{
    X509_VERIFY_PARAM *vp = SSL_get0_param(s->ssl);
    char *ip = X509_VERIFY_PARAM_get1_ip_asc(vp);
    const char *host = X509_VERIFY_PARAM_get0_host(vp, 0);
    const char *want = ip ? ip : host ? host : "";
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s->ssl);
    X509 *leaf = chain && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : NULL;
    size_t len = 0;
    reason[0] = '\0';
    const char *sep = "certificate is for ";
    X509_NAME *subject = leaf ? X509_get_subject_name(leaf) : NULL;
    for (int i = -1;
         subject && (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
        unsigned char *cn = NULL;
        int n = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
        if (n >= 0) {
            put(reason, cap, &len, sep, strlen(sep));
            put(reason, cap, &len, "CN=", 3);
            put(reason, cap, &len, (const char *)cn, (size_t)n);
            sep = ", ";
        }
        OPENSSL_free(cn);
    }
    GENERAL_NAMES *names = leaf ? X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL) : NULL;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char text[INET6_ADDRSTRLEN];
        const char *kind = NULL, *value = NULL;
        size_t n = 0;
        if (g->type == GEN_DNS) {
            kind = "DNS:";
            value = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
            n = (size_t)ASN1_STRING_length(g->d.dNSName);
        } else if (g->type == GEN_IPADD) {
            int alen = ASN1_STRING_length(g->d.iPAddress);
            int af = alen == 4 ? AF_INET : alen == 16 ? AF_INET6 : 0;
            if (af && inet_ntop(af, ASN1_STRING_get0_data(g->d.iPAddress), text, sizeof text)) {
                kind = "IP:";
                value = text;
                n = strlen(text);
            }
        }
        if (!kind)
            continue;
        put(reason, cap, &len, sep, strlen(sep));
        put(reason, cap, &len, kind, strlen(kind));
        put(reason, cap, &len, value, n);
        sep = ", ";
    }
    GENERAL_NAMES_free(names);
    if (!len)
        put(reason, cap, &len, "certificate names no host", 25);
    put(reason, cap, &len, ", not '", 7);
    put(reason, cap, &len, want, strlen(want));
    put(reason, cap, &len, "'", 1);
    OPENSSL_free(ip);
}

/* Names a failed handshake: verification result first, then an alert the
 * peer sent, then OpenSSL's own reason. */
static dk_err handshake_error(dk_bk_session *s, int rc, char *reason, size_t cap)
{
    int err = SSL_get_error(s->ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return DK_ERR_WOULD_BLOCK;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return DK_ERR_CLOSED;
    }
    long vr = SSL_get_verify_result(s->ssl);
    if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        mismatch_reason(s, reason, cap);
        ERR_clear_error();
        return DK_ERR_HOSTNAME;
    }
    if (vr != X509_V_OK) {
        snprintf(reason, cap, "%s", X509_verify_cert_error_string(vr));
        ERR_clear_error();
        return DK_ERR_CERT_VERIFY;
    }
    unsigned long e = ERR_peek_error();
    if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
        ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        snprintf(reason, cap, "the peer sent no certificate");
        ERR_clear_error();
        return DK_ERR_CERT_VERIFY;
    }
    if (s->alert[0]) {
        snprintf(reason, cap, "peer sent alert: %s", s->alert);
        ERR_clear_error();
        return DK_ERR_HANDSHAKE;
    }
    dk_ossl_reason(reason, cap, "handshake failed");
    return DK_ERR_HANDSHAKE;
}

static dk_err session_handshake_(dk_bk_session *s, char *reason, size_t cap)
{
    ERR_clear_error();
    if (s->server && !s->listened) {
        /* DTLSv1_listen takes the cookie-verified ClientHello and sets the
         * sequence numbers from it; do not reset the accept state after. */
        BIO_ADDR *addr = BIO_ADDR_new();
        int r = addr ? DTLSv1_listen(s->ssl, addr) : -1;
        BIO_ADDR_free(addr);
        if (r == 0) {
            ERR_clear_error();
            return DK_ERR_WOULD_BLOCK;
        }
        if (r < 0) {
            dk_ossl_reason(reason, cap, "ClientHello refused");
            return DK_ERR_HANDSHAKE;
        }
        s->listened = true;
    }
    int rc = SSL_do_handshake(s->ssl);
    if (rc == 1)
        return DK_OK;
    return handshake_error(s, rc, reason, cap);
}

/* SSL_get_error() needs an empty error queue before the call. Every path of
 * this backend that can leave errors queued (AEAD failures included)
 * empties the queue before it returns, so no call pays for a check
 * (ERR_clear_error walks sixteen slots). Applications that call OpenSSL
 * themselves on the same thread must clear what they leave, as OpenSSL asks
 * of every caller. */
static dk_err session_read_(dk_bk_session *s, uint8_t *buf, size_t cap, size_t *out_len,
                            char *reason, size_t rcap)
{
    /* Only at the hand-off, for records read ahead with the Finished.
     * SSL_read_ex, not SSL_read: an empty application record is a success
     * with 0 bytes, where SSL_read would return 0 as for a failure. */
    size_t got = 0;
    int n = SSL_read_ex(s->ssl, buf, cap, &got);
    if (n == 1) {
        *out_len = got;
        return DK_OK;
    }
    int err = SSL_get_error(s->ssl, n);
    switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return DK_ERR_WOULD_BLOCK;
    case SSL_ERROR_ZERO_RETURN: ERR_clear_error(); return DK_ERR_CLOSED;
    default:
        if (s->alert[0]) {
            snprintf(reason, rcap, "peer sent alert: %s", s->alert);
            ERR_clear_error();
        } else {
            dk_ossl_reason(reason, rcap, "record layer failure");
        }
        return DK_ERR_TLS;
    }
}

static int session_timeout_ms(dk_bk_session *s)
{
    if (s->core_clock) {
        if (!s->rto_ms)
            return -1;
        uint64_t now = now_ms(s);
        if (now >= s->rto_deadline)
            return 0;
        uint64_t left = s->rto_deadline - now;
        return left > INT32_MAX ? INT32_MAX : (int)left;
    }
    struct timeval tv;
    if (DTLSv1_get_timeout(s->ssl, &tv) != 1)
        return -1;
    long ms = tv.tv_sec * 1000L + (tv.tv_usec + 999) / 1000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static dk_err session_handle_timeout_(dk_bk_session *s, char *reason, size_t cap)
{
    ERR_clear_error();
    if (s->core_clock) {
        if (!s->rto_ms || !s->ossl_deadline)
            return DK_OK; /* no flight waiting for an answer */
        /* OpenSSL's deadline is its clock's: any time in the past does
         * (not zero, which means stopped). */
        *s->ossl_deadline = (struct timeval){.tv_sec = 0, .tv_usec = 1};
    }
    if (DTLSv1_handle_timeout(s->ssl) < 0) {
        dk_ossl_reason(reason, cap, "too many retransmissions");
        return DK_ERR_TIMEOUT;
    }
    ERR_clear_error();
    return DK_OK;
}

/* Every call that may write ends with the collected records sent. */
static dk_err session_handshake(dk_bk_session *s, char *reason, size_t cap)
{
    dk_err e = session_handshake_(s, reason, cap);
    dk_ossl_flush(s);
    return e;
}

static dk_err session_read(dk_bk_session *s, uint8_t *buf, size_t cap, size_t *out_len,
                           char *reason, size_t rcap)
{
    dk_err e = session_read_(s, buf, cap, out_len, reason, rcap);
    dk_ossl_flush(s);
    return e;
}

static dk_err session_handle_timeout(dk_bk_session *s, char *reason, size_t cap)
{
    dk_err e = session_handle_timeout_(s, reason, cap);
    dk_ossl_flush(s);
    return e;
}

static void session_set_mtu(dk_bk_session *s, unsigned mtu)
{
    s->mtu = mtu;
    (void)SSL_set_mtu(s->ssl, (long)mtu);
    (void)fit_write_buffer(s);
    ERR_clear_error();
}

static const char *session_cipher(dk_bk_session *s)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
    const char *name = c ? SSL_CIPHER_get_name(c) : NULL;
    return name ? name : "";
}

/* One certificate of the peer's chain to the core, as DER. */
static dk_err give_der(X509 *x, dk_bk_der_sink sink, void *user)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n <= 0)
        return DK_ERR_TLS;
    dk_err e = sink(user, der, (size_t)n);
    OPENSSL_free(der);
    return e;
}

static dk_err session_peer_chain(dk_bk_session *s, dk_bk_der_sink sink, void *user)
{
    X509 *leaf = SSL_get0_peer_certificate(s->ssl);
    if (!leaf)
        return DK_OK;
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s->ssl);
    dk_err e = give_der(leaf, sink, user);
    for (int i = 0; e == DK_OK && chain && i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        if (X509_cmp(x, leaf) != 0) /* a client's chain starts with its leaf */
            e = give_der(x, sink, user);
    }
    return e;
}

static dk_err session_export_secrets(dk_bk_session *s, dk_bk_secrets *out)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
    SSL_SESSION *sess = SSL_get_session(s->ssl);
    /* With RFC 7627 OpenSSL keeps the extended master secret here. */
    bool ok = c && sess &&
              SSL_SESSION_get_master_key(sess, out->master_secret, sizeof out->master_secret) ==
                  sizeof out->master_secret &&
              SSL_get_client_random(s->ssl, out->client_random, sizeof out->client_random) ==
                  sizeof out->client_random &&
              SSL_get_server_random(s->ssl, out->server_random, sizeof out->server_random) ==
                  sizeof out->server_random;
    out->suite = ok ? SSL_CIPHER_get_protocol_id(c) : 0;
    if (!ok)
        OPENSSL_cleanse(out, sizeof *out);
    return ok ? DK_OK : DK_ERR_TLS;
}

static bool session_reused(dk_bk_session *s)
{
    return s->ssl && SSL_session_reused(s->ssl) == 1;
}

static dk_err session_save(dk_bk_session *s, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    SSL_SESSION *sess = s->ssl ? SSL_get_session(s->ssl) : NULL;
    if (!sess || !SSL_SESSION_has_ticket(sess) || !SSL_SESSION_is_resumable(sess))
        return DK_ERR_UNAVAILABLE;
    int n = i2d_SSL_SESSION(sess, NULL);
    if (n <= 0) {
        ERR_clear_error();
        return DK_ERR_TLS;
    }
    uint8_t *b = malloc((size_t)n + SAVED_DIGEST_LEN);
    if (!b)
        return DK_ERR_NOMEM;
    unsigned char *w = b;
    unsigned int mdlen = 0;
    if (i2d_SSL_SESSION(sess, &w) != n ||
        EVP_Digest(b, (size_t)n, b + n, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != SAVED_DIGEST_LEN) {
        OPENSSL_cleanse(b, (size_t)n + SAVED_DIGEST_LEN);
        free(b);
        ERR_clear_error();
        return DK_ERR_TLS;
    }
    *out = b;
    *len = (size_t)n + SAVED_DIGEST_LEN;
    return DK_OK;
}

const dk_bk_session_ops dk_ossl_session_ops = {
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
