/* Native baseline: a DTLS 1.2 echo server written directly against mbedTLS
 * 2.28, in the manner of mbedTLS's programs/ssl/dtls_server.c, generalised
 * to many clients on one UDP socket (see bench/PROTOCOL.md for the command
 * line and output).
 *
 * - One mbedtls_ssl_config shared by all sessions: DTLS server, DTLS 1.2
 *   only, the two AES-128-GCM ECDHE suites, one CTR_DRBG, HelloVerifyRequest
 *   cookies from mbedtls_ssl_cookie_write/mbedtls_ssl_cookie_check, no
 *   session cache, no tickets.
 * - A spare mbedtls_ssl_context receives every datagram from an unknown
 *   address, with that address as its client transport id. A ClientHello
 *   without a valid cookie ends in MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED
 *   after the HelloVerifyRequest went out, and the spare context is reset
 *   with mbedtls_ssl_session_reset, as the example does: nothing is kept
 *   for that client. When the handshake gets past the ClientHello, the spare
 *   context becomes the client's session and a new spare is set up.
 * - Sessions are found by source address in a hash table; their bio
 *   callbacks hand over the datagram being processed and append what the
 *   library sends to the server's sendmmsg batch; the timer callbacks keep
 *   the retransmission deadlines in a heap.
 *
 * Build:
 *   cc -O2 -g -std=gnu11 bench/native_mbedtls.c -o native_mbedtls \
 *      -lmbedtls -lmbedx509 -lmbedcrypto
 */
#include "native_common.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/x509_crt.h>

struct conn {
    mbedtls_ssl_context ssl;
    struct sockaddr_in peer;
    uint64_t key;
    const uint8_t *in; /* the datagram the recv callback hands over next */
    size_t in_len;
    struct nc_timer timer;
    uint64_t int_at, fin_at; /* mbedTLS timer: intermediate and final delay; fin_at 0: off */
    bool established;
};

static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                              MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP521R1,
                                              MBEDTLS_ECP_DP_NONE};

static const int ciphersuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    0,
};

static struct {
    mbedtls_ssl_config conf;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_cookie_ctx cookie;
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
    uint16_t mtu;
    struct nc_tx tx;
    struct nc_table table;
    struct nc_heap timers;
    struct nc_stats stats;
    struct conn *spare;
    unsigned char app_buf[MBEDTLS_SSL_IN_CONTENT_LEN];
} S;

static void die_mbed(const char *what, int ret)
{
    char buf[160];
    mbedtls_strerror(ret, buf, sizeof buf);
    fprintf(stderr, "native_mbedtls: %s: -0x%04x %s\n", what, (unsigned)-ret, buf);
    exit(1);
}

/* ---- bio and timer callbacks -------------------------------------------- */

static int cb_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct conn *c = ctx;
    /* A datagram that cannot be queued is lost on the way; retransmission
     * covers it. */
    (void)nc_tx_add(&S.tx, &c->peer, buf, len);
    return (int)len;
}

static int cb_recv(void *ctx, unsigned char *buf, size_t cap)
{
    struct conn *c = ctx;
    if (!c->in)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = c->in_len < cap ? c->in_len : cap;
    memcpy(buf, c->in, n);
    c->in = NULL;
    c->in_len = 0;
    return (int)n;
}

static void cb_timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    struct conn *c = ctx;
    if (fin_ms == 0) {
        c->fin_at = 0;
        nc_timer_cancel(&S.timers, &c->timer);
        return;
    }
    uint64_t now = nc_now_us();
    c->int_at = now + (uint64_t)int_ms * 1000u;
    c->fin_at = now + (uint64_t)fin_ms * 1000u;
    nc_timer_arm(&S.timers, &c->timer, c->fin_at);
}

static int cb_timer_get(void *ctx)
{
    struct conn *c = ctx;
    if (!c->fin_at)
        return -1;
    uint64_t now = nc_now_us();
    if (now >= c->fin_at)
        return 2;
    if (now >= c->int_at)
        return 1;
    return 0;
}

/* ---- sessions ------------------------------------------------------------ */

static struct conn *conn_new(void)
{
    struct conn *c = nc_xcalloc(1, sizeof *c);
    mbedtls_ssl_init(&c->ssl);
    int ret = mbedtls_ssl_setup(&c->ssl, &S.conf);
    if (ret != 0)
        die_mbed("mbedtls_ssl_setup", ret);
    mbedtls_ssl_set_bio(&c->ssl, c, cb_send, cb_recv, NULL);
    mbedtls_ssl_set_timer_cb(&c->ssl, c, cb_timer_set, cb_timer_get);
    mbedtls_ssl_set_mtu(&c->ssl, S.mtu);
    return c;
}

static void conn_free(struct conn *c)
{
    nc_stats_freed(&S.stats, c->established);
    nc_table_del(&S.table, c->key);
    nc_timer_cancel(&S.timers, &c->timer);
    mbedtls_ssl_free(&c->ssl);
    free(c);
}

/* conn_free for nc_run, which frees connections it does not know the type of. */
static void conn_free_any(void *c)
{
    conn_free(c);
}

static bool want_io(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* Runs a session on whatever its recv callback holds, or on an expired
 * timer; frees it when it ends. Returns whether it is still alive. */
static bool conn_drive(struct conn *c)
{
    for (;;) {
        if (!c->established) {
            int ret = mbedtls_ssl_handshake(&c->ssl);
            if (want_io(ret))
                return true;
            if (ret != 0) {
                conn_free(c); /* handshake failure or too many retransmissions */
                return false;
            }
            c->established = true;
            nc_stats_connected(&S.stats);
        }
        int n = mbedtls_ssl_read(&c->ssl, S.app_buf, sizeof S.app_buf);
        if (n > 0) {
            if (mbedtls_ssl_write(&c->ssl, S.app_buf, (size_t)n) != n) {
                conn_free(c);
                return false;
            }
            S.stats.datagrams++;
            continue;
        }
        if (n == 0 || want_io(n))
            return true;
        if (n == MBEDTLS_ERR_SSL_CLIENT_RECONNECT) {
            /* A new ClientHello with a valid cookie from the same port: the
             * context was reset for it; go on with the new handshake. */
            c->established = false;
            S.stats.sessions--;
            S.stats.pending++;
            continue;
        }
        if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            (void)mbedtls_ssl_close_notify(&c->ssl); /* answer with ours */
        conn_free(c);
        return false;
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
    /* Unknown address: the spare context checks the cookie. */
    c = S.spare;
    c->peer = *from;
    unsigned char id[6];
    memcpy(id, &from->sin_addr, 4);
    memcpy(id + 4, &from->sin_port, 2);
    if (mbedtls_ssl_set_client_transport_id(&c->ssl, id, sizeof id) != 0)
        return;
    c->in = data;
    c->in_len = len;
    int ret = mbedtls_ssl_handshake(&c->ssl);
    c->in = NULL;
    if (!want_io(ret) || c->ssl.state <= MBEDTLS_SSL_CLIENT_HELLO) {
        /* HelloVerifyRequest sent, or not a ClientHello: forget it. */
        mbedtls_ssl_session_reset(&c->ssl);
        return;
    }
    /* The cookie was valid and the server's flight is out: a session. */
    c->key = key;
    nc_table_put(&S.table, key, c);
    S.stats.pending++;
    S.spare = conn_new();
}

static void on_timers(void)
{
    uint64_t now = nc_now_us();
    struct nc_timer *t;
    for (size_t budget = S.timers.n; budget && (t = nc_heap_due(&S.timers, now)); budget--) {
        struct conn *c = NC_CONTAINER(t, struct conn, timer);
        if (c == S.spare) {
            nc_timer_cancel(&S.timers, t);
            continue;
        }
        /* Retransmits, or gives up. If the library left the timer due,
         * push it back a little rather than spin. */
        if (conn_drive(c) && c->timer.idx && c->timer.when <= now)
            nc_timer_arm(&S.timers, &c->timer, now + 1000);
    }
}

/* ---- setup and main loop ------------------------------------------------- */

static void setup_conf(const struct nc_opts *o)
{
    int ret;
    mbedtls_ssl_config_init(&S.conf);
    mbedtls_entropy_init(&S.entropy);
    mbedtls_ctr_drbg_init(&S.drbg);
    mbedtls_ssl_cookie_init(&S.cookie);
    mbedtls_x509_crt_init(&S.chain);
    mbedtls_pk_init(&S.key);

    static const char pers[] = "native_mbedtls";
    if ((ret = mbedtls_ctr_drbg_seed(&S.drbg, mbedtls_entropy_func, &S.entropy,
                                     (const unsigned char *)pers, sizeof pers - 1)) != 0)
        die_mbed("mbedtls_ctr_drbg_seed", ret);
    if ((ret = mbedtls_x509_crt_parse_file(&S.chain, o->cert)) != 0)
        die_mbed("cannot load the certificate chain", ret);
    if ((ret = mbedtls_pk_parse_keyfile(&S.key, o->key, NULL)) != 0)
        die_mbed("cannot load the private key", ret);

    if ((ret = mbedtls_ssl_config_defaults(&S.conf, MBEDTLS_SSL_IS_SERVER,
                                           MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                           MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
        die_mbed("mbedtls_ssl_config_defaults", ret);
    mbedtls_ssl_conf_rng(&S.conf, mbedtls_ctr_drbg_random, &S.drbg);
    mbedtls_ssl_conf_min_version(&S.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&S.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&S.conf, ciphersuites);
    /* Same ECDHE group order as dtlskit's mbedTLS backend (X25519, P-256
     * first), instead of the library default that starts with P-521. */
    mbedtls_ssl_conf_curves(&S.conf, curves);
    mbedtls_ssl_conf_authmode(&S.conf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_renegotiation(&S.conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    if ((ret = mbedtls_ssl_conf_own_cert(&S.conf, &S.chain, &S.key)) != 0)
        die_mbed("mbedtls_ssl_conf_own_cert", ret);
    if ((ret = mbedtls_ssl_cookie_setup(&S.cookie, mbedtls_ctr_drbg_random, &S.drbg)) != 0)
        die_mbed("mbedtls_ssl_cookie_setup", ret);
    mbedtls_ssl_conf_dtls_cookies(&S.conf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                  &S.cookie);
}

int main(int argc, char **argv)
{
    struct nc_opts o;
    nc_parse_args(argc, argv, &o);
    nc_install_signals();
    S.mtu = (uint16_t)(o.mtu - NC_IP_UDP_HDR);
    setup_conf(&o);

    S.spare = conn_new();
    nc_run(o.port, &S.tx, &S.table, &S.timers, &S.stats, on_datagram, on_timers, conn_free_any);

    /* The library's own state, so that leak checkers see a clean exit. */
    mbedtls_ssl_free(&S.spare->ssl);
    free(S.spare);
    mbedtls_ssl_config_free(&S.conf);
    mbedtls_ssl_cookie_free(&S.cookie);
    mbedtls_x509_crt_free(&S.chain);
    mbedtls_pk_free(&S.key);
    mbedtls_ctr_drbg_free(&S.drbg);
    mbedtls_entropy_free(&S.entropy);
    return 0;
}
