/* Native baseline: a DTLS 1.2 echo server written directly against OpenSSL
 * 3.0, the way OpenSSL's own API is meant to be used for a server on one
 * UDP socket (see bench/PROTOCOL.md for the command line and output).
 *
 * - A spare SSL object sits in DTLSv1_listen: every datagram from an unknown
 *   address goes to it. It answers ClientHellos without a valid cookie with
 *   a HelloVerifyRequest and keeps no state for them; the cookie is an HMAC
 *   of the client's address and port under a random secret. When a
 *   ClientHello carries a valid cookie, DTLSv1_listen returns 1, that SSL
 *   becomes the client's session (SSL_accept goes on from the buffered
 *   ClientHello) and a new spare SSL takes its place.
 * - Sessions are found by source address in a hash table. Each SSL has a
 *   small custom BIO: its read hands over the one datagram being processed,
 *   its write appends the datagram to the server's sendmmsg batch.
 * - Retransmission timers come from DTLSv1_get_timeout and are kept in a
 *   heap; DTLSv1_handle_timeout retransmits.
 *
 * Build:
 *   cc -O2 -g -std=gnu11 bench/native_openssl.c -o native_openssl \
 *      $(pkg-config --cflags --libs libssl libcrypto)
 */
#include "native_common.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define COOKIE_LEN 32

struct conn {
    SSL *ssl;
    struct sockaddr_in peer;
    uint64_t key;
    const uint8_t *in; /* the datagram the BIO hands over next, or NULL */
    size_t in_len;
    struct nc_timer timer;
    bool established;
};

static struct {
    SSL_CTX *ctx;
    BIO_METHOD *bio_method;
    long mtu;
    struct nc_tx tx;
    struct nc_table table;
    struct nc_heap timers;
    struct nc_stats stats;
    struct conn *spare; /* the SSL in DTLSv1_listen */
    BIO_ADDR *listen_addr;
    EVP_MAC_CTX *cookie_mac; /* HMAC-SHA256 keyed with the cookie secret */
    uint8_t app_buf[16384 + 256];
} S;

static void die_ssl(const char *what)
{
    fprintf(stderr, "native_openssl: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* ---- the datagram BIO ---------------------------------------------------- */

static int dbio_write(BIO *b, const char *data, int len)
{
    struct conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    /* A datagram that cannot be queued is a datagram lost on the way; the
     * retransmission timer covers it. */
    (void)nc_tx_add(&S.tx, &c->peer, data, (size_t)len);
    return len;
}

static int dbio_read(BIO *b, char *buf, int cap)
{
    struct conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!c->in) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = c->in_len < (size_t)cap ? c->in_len : (size_t)cap;
    memcpy(buf, c->in, n);
    c->in = NULL;
    c->in_len = 0;
    return (int)n;
}

static long dbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return S.mtu;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: return 0; /* S.mtu is already the payload */
    default: return 0;
    }
}

static int dbio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- cookies ------------------------------------------------------------- */

static bool cookie_compute(const struct conn *c, uint8_t out[COOKIE_LEN])
{
    size_t n = 0;
    return EVP_MAC_init(S.cookie_mac, NULL, 0, NULL) &&
           EVP_MAC_update(S.cookie_mac, (const uint8_t *)&c->peer.sin_addr, 4) &&
           EVP_MAC_update(S.cookie_mac, (const uint8_t *)&c->peer.sin_port, 2) &&
           EVP_MAC_final(S.cookie_mac, out, &n, COOKIE_LEN) && n == COOKIE_LEN;
}

static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    if (!cookie_compute(SSL_get_app_data(ssl), cookie))
        return 0;
    *len = COOKIE_LEN;
    return 1;
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    uint8_t want[COOKIE_LEN];
    return len == COOKIE_LEN && cookie_compute(SSL_get_app_data(ssl), want) &&
           CRYPTO_memcmp(want, cookie, COOKIE_LEN) == 0;
}

static void cookie_setup(void)
{
    uint8_t secret[32];
    if (RAND_bytes(secret, sizeof secret) != 1)
        die_ssl("RAND_bytes");
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    S.cookie_mac = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!S.cookie_mac || !EVP_MAC_init(S.cookie_mac, secret, sizeof secret, params))
        die_ssl("HMAC setup");
    EVP_MAC_free(hmac); /* the context keeps its own reference */
    OPENSSL_cleanse(secret, sizeof secret);
}

/* ---- sessions ------------------------------------------------------------ */

static struct conn *conn_new(void)
{
    struct conn *c = nc_xcalloc(1, sizeof *c);
    BIO *bio = BIO_new(S.bio_method);
    c->ssl = SSL_new(S.ctx);
    if (!bio || !c->ssl)
        die_ssl("SSL_new");
    BIO_set_data(bio, c);
    SSL_set_bio(c->ssl, bio, bio);
    SSL_set_app_data(c->ssl, c);
    if (SSL_set_mtu(c->ssl, S.mtu) <= 0)
        die_ssl("SSL_set_mtu");
    return c;
}

static void conn_free(struct conn *c)
{
    nc_stats_freed(&S.stats, c->established);
    nc_table_del(&S.table, c->key);
    nc_timer_cancel(&S.timers, &c->timer);
    SSL_free(c->ssl);
    free(c);
    ERR_clear_error();
}

/* conn_free for nc_run, which frees connections it does not know the type of. */
static void conn_free_any(void *c)
{
    conn_free(c);
}

static void conn_rearm(struct conn *c)
{
    struct timeval tv;
    if (DTLSv1_get_timeout(c->ssl, &tv) == 1)
        nc_timer_arm(&S.timers, &c->timer,
                     nc_now_us() + (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec);
    else
        nc_timer_cancel(&S.timers, &c->timer);
}

/* Runs a session on whatever its BIO holds; frees it when it ends. */
static void conn_drive(struct conn *c)
{
    if (!c->established) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int err = SSL_get_error(c->ssl, r);
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
                conn_rearm(c);
                return;
            }
            conn_free(c); /* handshake failure */
            return;
        }
        c->established = true;
        nc_stats_connected(&S.stats);
        conn_rearm(c);
    }
    for (;;) {
        int n = SSL_read(c->ssl, S.app_buf, (int)sizeof S.app_buf);
        if (n > 0) {
            if (SSL_write(c->ssl, S.app_buf, n) != n) {
                conn_free(c);
                return;
            }
            S.stats.datagrams++;
            continue;
        }
        int err = SSL_get_error(c->ssl, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
            break;
        if (err == SSL_ERROR_ZERO_RETURN)
            (void)SSL_shutdown(c->ssl); /* answer close_notify with ours */
        conn_free(c);
        return;
    }
    if (c->timer.idx)
        conn_rearm(c);
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
    /* Unknown address: stateless cookie exchange on the spare SSL. */
    c = S.spare;
    c->peer = *from;
    c->in = data;
    c->in_len = len;
    int r = DTLSv1_listen(c->ssl, S.listen_addr);
    c->in = NULL;
    if (r <= 0) {
        ERR_clear_error();
        return;
    }
    /* A valid cookie: this SSL is now the client's session. */
    c->key = key;
    nc_table_put(&S.table, key, c);
    S.stats.pending++;
    S.spare = conn_new();
    conn_drive(c);
}

static void on_timers(void)
{
    uint64_t now = nc_now_us();
    struct nc_timer *t;
    for (size_t budget = S.timers.n; budget && (t = nc_heap_due(&S.timers, now)); budget--) {
        struct conn *c = NC_CONTAINER(t, struct conn, timer);
        if (DTLSv1_handle_timeout(c->ssl) < 0) {
            conn_free(c); /* too many retransmissions */
            continue;
        }
        conn_rearm(c);
        if (c->timer.idx && c->timer.when <= now)
            nc_timer_arm(&S.timers, &c->timer, now + 1000);
    }
}

/* ---- setup and main loop ------------------------------------------------- */

static void setup_ctx(const struct nc_opts *o)
{
    S.ctx = SSL_CTX_new(DTLS_server_method());
    if (!S.ctx || !SSL_CTX_set_min_proto_version(S.ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(S.ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(S.ctx,
                                 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"))
        die_ssl("SSL_CTX setup");
    SSL_CTX_set_options(S.ctx, SSL_OP_NO_TICKET | SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION |
                                   SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(S.ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(S.ctx, SSL_VERIFY_NONE, NULL);
    if (SSL_CTX_use_certificate_chain_file(S.ctx, o->cert) != 1)
        die_ssl("cannot load the certificate chain");
    if (SSL_CTX_use_PrivateKey_file(S.ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(S.ctx) != 1)
        die_ssl("cannot load the private key");
    SSL_CTX_set_cookie_generate_cb(S.ctx, cookie_generate);
    SSL_CTX_set_cookie_verify_cb(S.ctx, cookie_verify);

    S.bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "native datagram");
    if (!S.bio_method || !BIO_meth_set_write(S.bio_method, dbio_write) ||
        !BIO_meth_set_read(S.bio_method, dbio_read) ||
        !BIO_meth_set_ctrl(S.bio_method, dbio_ctrl) ||
        !BIO_meth_set_create(S.bio_method, dbio_create))
        die_ssl("BIO_meth_new");
    S.listen_addr = BIO_ADDR_new();
    if (!S.listen_addr)
        die_ssl("BIO_ADDR_new");
    cookie_setup();
}

int main(int argc, char **argv)
{
    struct nc_opts o;
    nc_parse_args(argc, argv, &o);
    nc_install_signals();
    S.mtu = o.mtu - NC_IP_UDP_HDR;
    setup_ctx(&o);

    S.spare = conn_new();
    nc_run(o.port, &S.tx, &S.table, &S.timers, &S.stats, on_datagram, on_timers, conn_free_any);

    /* The library's own state, so that leak checkers see a clean exit. */
    SSL_free(S.spare->ssl);
    free(S.spare);
    SSL_CTX_free(S.ctx);
    BIO_meth_free(S.bio_method);
    BIO_ADDR_free(S.listen_addr);
    EVP_MAC_CTX_free(S.cookie_mac);
    return 0;
}
