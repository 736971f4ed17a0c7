/* Native baseline: a DTLS 1.2 echo server written directly against wolfSSL
 * 5.5.4, the way wolfSSL serves many DTLS clients on one socket (see
 * bench/PROTOCOL.md for the command line and output).
 *
 * - wolfSSL 5.5 checks DTLS 1.2 cookies statelessly: a ClientHello without
 *   a valid cookie gets a HelloVerifyRequest and the WOLFSSL object goes
 *   back to its initial state. So one pending WOLFSSL object takes every
 *   datagram from an unknown address, with wolfSSL_dtls_set_peer giving it
 *   the address the cookie is bound to. When a ClientHello carries a valid
 *   cookie, wolfSSL calls the ClientHello-good callback (wolfDTLS_SetChGoodCb):
 *   that object becomes the client's session and a new pending object takes
 *   its place. All pending objects share one cookie secret
 *   (wolfSSL_DTLS_SetCookieSecret), so a cookie issued by one is accepted by
 *   the next.
 * - Sessions are found by source address in a hash table. The IO callbacks
 *   hand over the datagram being processed and append what wolfSSL sends to
 *   the server's sendmmsg batch.
 * - Retransmission: after each step of an unfinished handshake the session
 *   is due again after wolfSSL_dtls_get_current_timeout seconds; then
 *   wolfSSL_dtls_got_timeout retransmits (or gives up).
 * - Debian's wolfSSL is built without WOLFSSL_DTLS_MTU: wolfSSL_dtls_set_mtu
 *   is not exported, so --mtu cannot be applied to what wolfSSL sends, and
 *   its built-in datagram budget (1400 bytes) is used.
 * - wolfSSL_read is offered the datagram budget (MTU - 28 bytes), which no
 *   record of a peer keeping to the MTU exceeds: wolfSSL sizes its input
 *   buffer from that length plus 500 bytes and keeps it for the session, so
 *   a 16 KB read buffer would cost every idle session about 15 KB more.
 *
 * Build:
 *   cc -O2 -g -std=gnu11 bench/native_wolfssl.c -o native_wolfssl \
 *      $(pkg-config --cflags --libs wolfssl)
 */
#include "native_common.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/random.h>

struct conn {
    WOLFSSL *ssl;
    struct sockaddr_in peer;
    uint64_t key;
    const uint8_t *in; /* the datagram the recv callback hands over next */
    size_t in_len;
    struct nc_timer timer;
    bool established;
    bool cookie_ok;  /* set by the ClientHello-good callback */
    unsigned sent;   /* datagrams sent during the current call */
    uint8_t *flight; /* the final flight: (16-bit length, bytes)... */
    size_t flight_len;
};

static struct {
    WOLFSSL_CTX *ctx;
    uint8_t cookie_secret[32];
    struct nc_tx tx;
    struct nc_table table;
    struct nc_heap timers;
    struct nc_stats stats;
    struct conn *spare;
    int read_cap; /* bytes offered to wolfSSL_read: the datagram budget */
    uint8_t app_buf[65536];
    bool capture; /* a handshake step is running: keep what it sends */
    size_t step_len;
    uint8_t step_out[65536]; /* what it sent: (16-bit length, bytes)... */
} S;

static void die_wolf(const char *what, int err)
{
    char buf[WOLFSSL_MAX_ERROR_SZ];
    fprintf(stderr, "native_wolfssl: %s: %d %s\n", what, err, wolfSSL_ERR_error_string(err, buf));
    exit(1);
}

/* ---- IO callbacks -------------------------------------------------------- */

static void step_keep(const char *buf, size_t len)
{
    if (len + 2 > sizeof S.step_out - S.step_len)
        return; /* then no resend, as without the workaround */
    S.step_out[S.step_len++] = (uint8_t)(len >> 8);
    S.step_out[S.step_len++] = (uint8_t)len;
    memcpy(S.step_out + S.step_len, buf, len);
    S.step_len += len;
}

static void flight_free(struct conn *c)
{
    free(c->flight);
    c->flight = NULL;
    c->flight_len = 0;
}

static int cb_send(WOLFSSL *ssl, char *buf, int len, void *ctx)
{
    (void)ssl;
    struct conn *c = ctx;
    c->sent++;
    if (S.capture)
        step_keep(buf, (size_t)len);
    /* A datagram that cannot be queued is lost on the way; retransmission
     * covers it. */
    (void)nc_tx_add(&S.tx, &c->peer, buf, (size_t)len);
    return len;
}

static int cb_recv(WOLFSSL *ssl, char *buf, int cap, void *ctx)
{
    (void)ssl;
    struct conn *c = ctx;
    if (!c->in)
        return WOLFSSL_CBIO_ERR_WANT_READ;
    size_t n = c->in_len < (size_t)cap ? c->in_len : (size_t)cap;
    memcpy(buf, c->in, n);
    c->in = NULL;
    c->in_len = 0;
    return (int)n;
}

static int cb_client_hello_good(WOLFSSL *ssl, void *ctx)
{
    (void)ssl;
    ((struct conn *)ctx)->cookie_ok = true;
    return 0;
}

/* ---- sessions ------------------------------------------------------------ */

static struct conn *conn_new(void)
{
    struct conn *c = nc_xcalloc(1, sizeof *c);
    c->ssl = wolfSSL_new(S.ctx);
    if (!c->ssl)
        die_wolf("wolfSSL_new", 0);
    wolfSSL_SetIOReadCtx(c->ssl, c);
    wolfSSL_SetIOWriteCtx(c->ssl, c);
    wolfSSL_dtls_set_using_nonblock(c->ssl, 1);
    int r = wolfSSL_DTLS_SetCookieSecret(c->ssl, S.cookie_secret, sizeof S.cookie_secret);
    if (r != 0)
        die_wolf("wolfSSL_DTLS_SetCookieSecret", r);
    if ((r = wolfDTLS_SetChGoodCb(c->ssl, cb_client_hello_good, c)) != WOLFSSL_SUCCESS)
        die_wolf("wolfDTLS_SetChGoodCb", r);
    return c;
}

static void conn_free(struct conn *c)
{
    nc_stats_freed(&S.stats, c->established);
    nc_table_del(&S.table, c->key);
    nc_timer_cancel(&S.timers, &c->timer);
    wolfSSL_free(c->ssl);
    flight_free(c);
    free(c);
    wolfSSL_ERR_clear_error();
}

/* conn_free for nc_run, which frees connections it does not know the type of. */
static void conn_free_any(void *c)
{
    conn_free(c);
}

static void conn_rearm(struct conn *c)
{
    int s = wolfSSL_dtls_get_current_timeout(c->ssl);
    nc_timer_arm(&S.timers, &c->timer, nc_now_us() + (uint64_t)(s > 0 ? s : 1) * 1000000u);
}

static bool want_io(int err)
{
    return err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE;
}

/* A handshake or ChangeCipherSpec record of epoch 0 first: the client is
 * sending (again) its last handshake flight. */
static bool is_client_flight(const uint8_t *d, size_t n)
{
    return n > 13 && (d[0] == 22 || d[0] == 20) && d[3] == 0 && d[4] == 0;
}

/* One handshake step. The datagrams of the step that completes the
 * handshake are the server's final flight: they are kept (see conn_drive). */
static int accept_step(struct conn *c)
{
    S.step_len = 0;
    S.capture = true;
    int r = wolfSSL_accept(c->ssl);
    S.capture = false;
    if (r == WOLFSSL_SUCCESS && S.step_len && (c->flight = malloc(S.step_len))) {
        memcpy(c->flight, S.step_out, S.step_len);
        c->flight_len = S.step_len;
    }
    return r;
}

/* Runs a session on whatever its recv callback holds; frees it when it
 * ends.
 *
 * wolfSSL 5.5.4's DTLS 1.2 server does not send its final flight
 * (ChangeCipherSpec, Finished) again when the client, having lost it,
 * repeats its own last flight: that client would never finish. So the
 * final flight is kept until the client's first application record, and
 * sent again when the client's flight comes again and wolfSSL sent
 * nothing. */
static void conn_drive(struct conn *c)
{
    bool again = c->established && c->flight_len && c->in && is_client_flight(c->in, c->in_len);
    c->sent = 0;
    if (!c->established) {
        int r = accept_step(c);
        if (r != WOLFSSL_SUCCESS) {
            if (want_io(wolfSSL_get_error(c->ssl, r))) {
                conn_rearm(c);
                return;
            }
            conn_free(c); /* handshake failure */
            return;
        }
        c->established = true;
        nc_stats_connected(&S.stats);
        nc_timer_cancel(&S.timers, &c->timer);
    }
    for (;;) {
        int n = wolfSSL_read(c->ssl, S.app_buf, S.read_cap);
        if (n > 0) {
            if (c->flight)
                flight_free(c); /* the client has finished its handshake */
            if (wolfSSL_write(c->ssl, S.app_buf, n) != n) {
                conn_free(c);
                return;
            }
            S.stats.datagrams++;
            continue;
        }
        int err = wolfSSL_get_error(c->ssl, n);
        if (want_io(err))
            break;
        if (err == WOLFSSL_ERROR_ZERO_RETURN)
            (void)wolfSSL_shutdown(c->ssl); /* answer close_notify with ours */
        conn_free(c);
        return;
    }
    if (again && c->sent == 0)
        for (size_t i = 0; i + 2 <= c->flight_len;) {
            size_t n = (size_t)(c->flight[i] << 8 | c->flight[i + 1]);
            (void)nc_tx_add(&S.tx, &c->peer, c->flight + i + 2, n);
            i += 2 + n;
        }
}

static void on_datagram(const struct sockaddr_in *from, const uint8_t *data, size_t len)
{
    uint64_t key = nc_addr_key(from);
    struct conn *c = nc_table_find(&S.table, key);
    if (c) {
        c->in = data;
        c->in_len = len;
        conn_drive(c);
        return;
    }
    /* Unknown address: the pending object checks the cookie statelessly. */
    c = S.spare;
    c->peer = *from;
    if (wolfSSL_dtls_set_peer(c->ssl, (void *)from, sizeof *from) != WOLFSSL_SUCCESS)
        return;
    c->in = data;
    c->in_len = len;
    int r = accept_step(c);
    c->in = NULL;
    if (!c->cookie_ok) {
        if (r != WOLFSSL_SUCCESS && !want_io(wolfSSL_get_error(c->ssl, r))) {
            /* Not a usable ClientHello and the object may be spoilt: start
             * over with a fresh one. */
            wolfSSL_free(c->ssl);
            flight_free(c);
            free(c);
            wolfSSL_ERR_clear_error();
            S.spare = conn_new();
        }
        return; /* HelloVerifyRequest sent, nothing kept */
    }
    /* A valid cookie: this object is now the client's session. */
    c->key = key;
    nc_table_put(&S.table, key, c);
    S.stats.pending++;
    S.spare = conn_new();
    if (r == WOLFSSL_SUCCESS || !want_io(wolfSSL_get_error(c->ssl, r))) {
        conn_free(c); /* cannot complete after one datagram: a failure */
        return;
    }
    conn_rearm(c);
}

static void on_timers(void)
{
    uint64_t now = nc_now_us();
    struct nc_timer *t;
    for (size_t budget = S.timers.n; budget && (t = nc_heap_due(&S.timers, now)); budget--) {
        struct conn *c = NC_CONTAINER(t, struct conn, timer);
        if (c->established || wolfSSL_is_init_finished(c->ssl)) {
            nc_timer_cancel(&S.timers, t);
            continue;
        }
        if (wolfSSL_dtls_got_timeout(c->ssl) != WOLFSSL_SUCCESS) {
            conn_free(c); /* too many retransmissions */
            continue;
        }
        conn_rearm(c);
    }
}

/* ---- setup and main loop ------------------------------------------------- */

static void setup_ctx(const struct nc_opts *o)
{
    int r;
    if ((r = wolfSSL_Init()) != WOLFSSL_SUCCESS)
        die_wolf("wolfSSL_Init", r);
    S.ctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
    if (!S.ctx)
        die_wolf("wolfSSL_CTX_new", 0);
    if ((r = wolfSSL_CTX_set_cipher_list(
             S.ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")) !=
        WOLFSSL_SUCCESS)
        die_wolf("wolfSSL_CTX_set_cipher_list", r);
    if ((r = wolfSSL_CTX_use_certificate_chain_file(S.ctx, o->cert)) != WOLFSSL_SUCCESS)
        die_wolf("cannot load the certificate chain", r);
    if ((r = wolfSSL_CTX_use_PrivateKey_file(S.ctx, o->key, WOLFSSL_FILETYPE_PEM)) !=
        WOLFSSL_SUCCESS)
        die_wolf("cannot load the private key", r);
    wolfSSL_CTX_set_verify(S.ctx, WOLFSSL_VERIFY_NONE, NULL);
    wolfSSL_CTX_set_session_cache_mode(S.ctx, WOLFSSL_SESS_CACHE_OFF);
    wolfSSL_CTX_NoTicketTLSv12(S.ctx);
    wolfSSL_CTX_SetIORecv(S.ctx, cb_recv);
    wolfSSL_CTX_SetIOSend(S.ctx, cb_send);

    WC_RNG rng;
    if (wc_InitRng(&rng) != 0 ||
        wc_RNG_GenerateBlock(&rng, S.cookie_secret, sizeof S.cookie_secret) != 0)
        die_wolf("cookie secret", 0);
    wc_FreeRng(&rng);
}

int main(int argc, char **argv)
{
    struct nc_opts o;
    nc_parse_args(argc, argv, &o);
    nc_install_signals();
    setup_ctx(&o); /* o.mtu cannot be applied to what wolfSSL sends: see the top */
    S.read_cap = o.mtu - NC_IP_UDP_HDR;

    S.spare = conn_new();
    nc_run(o.port, &S.tx, &S.table, &S.timers, &S.stats, on_datagram, on_timers, conn_free_any);

    /* The library's own state, so that leak checkers see a clean exit. */
    wolfSSL_free(S.spare->ssl);
    flight_free(S.spare);
    free(S.spare);
    wolfSSL_CTX_free(S.ctx);
    wolfSSL_Cleanup();
    return 0;
}
