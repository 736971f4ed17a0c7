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
 *   is not exported, so --mtu cannot be applied and wolfSSL's built-in
 *   datagram budget (1400 bytes) is used.
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
    bool cookie_ok; /* set by the ClientHello-good callback */
};

static struct {
    WOLFSSL_CTX *ctx;
    uint8_t cookie_secret[32];
    struct nc_tx tx;
    struct nc_table table;
    struct nc_heap timers;
    struct nc_stats stats;
    struct conn *spare;
    uint8_t app_buf[16384 + 256];
} S;

static void die_wolf(const char *what, int err)
{
    char buf[WOLFSSL_MAX_ERROR_SZ];
    fprintf(stderr, "native_wolfssl: %s: %d %s\n", what, err, wolfSSL_ERR_error_string(err, buf));
    exit(1);
}

/* ---- IO callbacks -------------------------------------------------------- */

static int cb_send(WOLFSSL *ssl, char *buf, int len, void *ctx)
{
    (void)ssl;
    struct conn *c = ctx;
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
    nc_table_del(&S.table, c->key);
    nc_timer_cancel(&S.timers, &c->timer);
    wolfSSL_free(c->ssl);
    free(c);
    S.stats.sessions--;
    wolfSSL_ERR_clear_error();
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

/* Runs a session on whatever its recv callback holds; frees it when it
 * ends. */
static void conn_drive(struct conn *c)
{
    if (!c->established) {
        int r = wolfSSL_accept(c->ssl);
        if (r != WOLFSSL_SUCCESS) {
            if (want_io(wolfSSL_get_error(c->ssl, r))) {
                conn_rearm(c);
                return;
            }
            conn_free(c); /* handshake failure */
            return;
        }
        c->established = true;
        S.stats.handshakes++;
        nc_timer_cancel(&S.timers, &c->timer);
    }
    for (;;) {
        int n = wolfSSL_read(c->ssl, S.app_buf, (int)sizeof S.app_buf);
        if (n > 0) {
            if (wolfSSL_write(c->ssl, S.app_buf, n) != n) {
                conn_free(c);
                return;
            }
            S.stats.datagrams++;
            continue;
        }
        int err = wolfSSL_get_error(c->ssl, n);
        if (want_io(err))
            return;
        if (err == WOLFSSL_ERROR_ZERO_RETURN)
            (void)wolfSSL_shutdown(c->ssl); /* answer close_notify with ours */
        conn_free(c);
        return;
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
    int r = wolfSSL_accept(c->ssl);
    c->in = NULL;
    if (!c->cookie_ok) {
        if (r != WOLFSSL_SUCCESS && !want_io(wolfSSL_get_error(c->ssl, r))) {
            /* Not a usable ClientHello and the object may be spoilt: start
             * over with a fresh one. */
            wolfSSL_free(c->ssl);
            free(c);
            wolfSSL_ERR_clear_error();
            S.spare = conn_new();
        }
        return; /* HelloVerifyRequest sent, nothing kept */
    }
    /* A valid cookie: this object is now the client's session. */
    c->key = key;
    nc_table_put(&S.table, key, c);
    S.stats.sessions++;
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
    setup_ctx(&o); /* o.mtu is ignored: see the note at the top */

    int port;
    int fd = nc_open_socket(o.port, &port);
    struct nc_rx rx;
    nc_rx_init(&rx);
    nc_tx_init(&S.tx, fd);
    nc_table_init(&S.table);
    S.spare = conn_new();
    nc_announce(port);

    while (!nc_stop_wanted) {
        if (nc_stats_wanted) {
            nc_stats_wanted = 0;
            nc_print_stats(&S.stats);
        }
        if (nc_wait(fd, &S.timers)) {
            for (int round = 0; round < NC_RX_ROUNDS; round++) {
                int n = nc_rx_recv(&rx, fd);
                for (int i = 0; i < n; i++)
                    if (!(rx.msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
                        on_datagram(&rx.from[i], rx.iov[i].iov_base, rx.msgs[i].msg_len);
                nc_tx_flush(&S.tx);
                if (n < NC_RX_BATCH)
                    break;
            }
        }
        on_timers();
        nc_tx_flush(&S.tx);
    }
    return 0;
}
