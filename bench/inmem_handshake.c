/* Handshake floor: full DTLS 1.2 handshakes between a server and a client
 * of the same TLS library, joined by in-memory datagram queues (no
 * sockets), repeated --count times. Only the server's calls are timed, on
 * the thread CPU clock (CLOCK_THREAD_CPUTIME_ID): creating its session
 * object, every handshake step, and freeing it. After each handshake the
 * client sends one record and the server echoes it (not timed), to prove
 * the handshake really completed.
 *
 * Same settings as the native servers (DTLS 1.2 only, ECDHE with
 * AES-128-GCM, no tickets, no session cache, MTU - 28 bytes per datagram)
 * but no cookie exchange: this is what the library itself costs. wolfSSL
 * 5.5.4 is the exception: its DTLS 1.2 server always sends a
 * HelloVerifyRequest, so its figure includes that round (its share is
 * printed on stderr).
 *
 *   inmem_handshake --cert FILE --key FILE --ca FILE [--count N] [--mtu BYTES]
 *                   [--group default|p256|x25519]
 *
 * The server keeps its library's default group preferences, as the native
 * servers and dtlskit do (for mbedTLS the order both use: X25519, P-256
 * first). The client offers its library's default groups
 * (--group default, as the load generator, a dtlskit client of the same
 * library, does), or P-256 only (p256), or X25519 then P-256 (x25519; TLS
 * 1.2 needs P-256 offered for an ECDSA P-256 certificate). The group the
 * server chose is printed on stderr.
 *
 * Prints one line on stdout: `inmem SERVER_CPU_US_PER_HANDSHAKE`.
 *
 * Build (one per library):
 *   cc -O2 -g -std=gnu11 -DLIB_OPENSSL bench/inmem_handshake.c -o inmem_openssl \
 *      $(pkg-config --cflags --libs libssl libcrypto)
 *   cc -O2 -g -std=gnu11 -DLIB_MBEDTLS bench/inmem_handshake.c -o inmem_mbedtls \
 *      -lmbedtls -lmbedx509 -lmbedcrypto
 *   cc -O2 -g -std=gnu11 -DLIB_WOLFSSL bench/inmem_handshake.c -o inmem_wolfssl \
 *      $(pkg-config --cflags --libs wolfssl)
 *   cc -O2 -g -std=gnu11 -DLIB_GNUTLS bench/inmem_handshake.c -o inmem_gnutls \
 *      $(pkg-config --cflags --libs gnutls)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(LIB_OPENSSL) + defined(LIB_MBEDTLS) + defined(LIB_WOLFSSL) + defined(LIB_GNUTLS) != 1
#error "define exactly one of LIB_OPENSSL, LIB_MBEDTLS, LIB_WOLFSSL, LIB_GNUTLS"
#endif

/* ---- datagram queues ------------------------------------------------------ */

#define Q_SLOTS 64
#define Q_SLOT  18432 /* a full TLS record with any overhead */

struct queue {
    size_t head, count;
    size_t len[Q_SLOTS];
    uint8_t data[Q_SLOTS][Q_SLOT];
};

static struct queue q_c2s, q_s2c; /* client to server, server to client */

static void die(const char *what)
{
    fprintf(stderr, "inmem_handshake: %s\n", what);
    exit(1);
}

static void q_push(struct queue *q, const void *data, size_t len)
{
    if (q->count == Q_SLOTS || len > Q_SLOT)
        die("datagram queue overflow");
    size_t i = (q->head + q->count++) % Q_SLOTS;
    memcpy(q->data[i], data, len);
    q->len[i] = len;
}

/* Pops one datagram into buf (truncated to cap, like recv); -1 if empty. */
static int q_pop(struct queue *q, void *buf, size_t cap)
{
    if (!q->count)
        return -1;
    size_t n = q->len[q->head] < cap ? q->len[q->head] : cap;
    memcpy(buf, q->data[q->head], n);
    q->head = (q->head + 1) % Q_SLOTS;
    q->count--;
    return (int)n;
}

static void q_reset(struct queue *q)
{
    q->head = q->count = 0;
}

struct endpoint {
    struct queue *in, *out;
};

static struct endpoint ep_server = {&q_c2s, &q_s2c};
static struct endpoint ep_client = {&q_s2c, &q_c2s};

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- library adapters ----------------------------------------------------- *
 * Each library provides: lib_init, {srv,cli}_new, {srv,cli}_step (1: done,
 * 0: waiting for data, -1: failed), {srv,cli}_read/_write, {srv,cli}_free,
 * srv_cipher, srv_group. */

static const char *arg_cert, *arg_key, *arg_ca;
static int arg_mtu = 1280;
/* --group: what the client offers. default: the library's own list, as a
 * dtlskit client of the same backend (the load generator) offers it. */
static enum { G_DEFAULT, G_P256, G_X25519 } arg_group;

#if defined(LIB_OPENSSL)
#define LIB_NAME "openssl"
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

typedef SSL session;
static SSL_CTX *srv_ctx, *cli_ctx;
static BIO_METHOD *qbio;

static int qbio_write(BIO *b, const char *data, int len)
{
    struct endpoint *ep = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    q_push(ep->out, data, (size_t)len);
    return len;
}

static int qbio_read(BIO *b, char *buf, int cap)
{
    struct endpoint *ep = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    int n = q_pop(ep->in, buf, (size_t)cap);
    if (n < 0)
        BIO_set_retry_read(b);
    return n;
}

static long qbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return arg_mtu - 28;
    default: return 0;
    }
}

static int qbio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static SSL_CTX *make_ctx(bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"))
        die("SSL_CTX setup");
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (server) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        if (SSL_CTX_use_certificate_chain_file(ctx, arg_cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, arg_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            die("cannot load the certificate or key");
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_load_verify_locations(ctx, arg_ca, NULL) != 1)
            die("cannot load the CA");
        if (arg_group != G_DEFAULT &&
            SSL_CTX_set1_groups_list(ctx, arg_group == G_X25519 ? "X25519:P-256" : "P-256") != 1)
            die("cannot set the groups");
    }
    return ctx;
}

static void lib_init(void)
{
    srv_ctx = make_ctx(true);
    cli_ctx = make_ctx(false);
    qbio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "inmem datagram");
    if (!qbio || !BIO_meth_set_write(qbio, qbio_write) || !BIO_meth_set_read(qbio, qbio_read) ||
        !BIO_meth_set_ctrl(qbio, qbio_ctrl) || !BIO_meth_set_create(qbio, qbio_create))
        die("BIO_meth_new");
}

static session *new_session(bool server)
{
    SSL *ssl = SSL_new(server ? srv_ctx : cli_ctx);
    BIO *bio = BIO_new(qbio);
    if (!ssl || !bio)
        die("SSL_new");
    BIO_set_data(bio, server ? &ep_server : &ep_client);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_mtu(ssl, arg_mtu - 28);
    if (server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        SSL_set1_host(ssl, "localhost");
    }
    return ssl;
}

static session *srv_new(void)
{
    return new_session(true);
}

static session *cli_new(void)
{
    return new_session(false);
}

static int step(SSL *ssl)
{
    int r = SSL_do_handshake(ssl);
    if (r == 1)
        return 1;
    int err = SSL_get_error(ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return 0;
    ERR_print_errors_fp(stderr);
    return -1;
}

static int srv_step(session *s)
{
    return step(s);
}

static int cli_step(session *s)
{
    return step(s);
}

static int sess_read(session *s, void *buf, int cap)
{
    return SSL_read(s, buf, cap);
}

static int sess_write(session *s, const void *buf, int len)
{
    return SSL_write(s, buf, len);
}

static void sess_free(session *s)
{
    SSL_free(s);
}

static const char *srv_cipher(session *s)
{
    return SSL_get_cipher_name(s);
}

static const char *srv_group(session *s)
{
    return OBJ_nid2sn(SSL_get_negotiated_group(s));
}

#elif defined(LIB_MBEDTLS)
#define LIB_NAME "mbedtls"
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

typedef mbedtls_ssl_context session;
static mbedtls_ssl_config srv_conf, cli_conf;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_x509_crt chain, ca;
static mbedtls_pk_context pkey;
static const int suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    0,
};

static int cb_send(void *ctx, const unsigned char *buf, size_t len)
{
    q_push(((struct endpoint *)ctx)->out, buf, len);
    return (int)len;
}

static int cb_recv(void *ctx, unsigned char *buf, size_t cap)
{
    int n = q_pop(((struct endpoint *)ctx)->in, buf, cap);
    return n < 0 ? MBEDTLS_ERR_SSL_WANT_READ : n;
}

/* Nothing is ever lost here, so the retransmission timer never expires. */
struct quiet_timer {
    bool armed;
};

static void cb_timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    (void)int_ms;
    ((struct quiet_timer *)ctx)->armed = fin_ms != 0;
}

static int cb_timer_get(void *ctx)
{
    return ((struct quiet_timer *)ctx)->armed ? 0 : -1;
}

static struct quiet_timer srv_timer, cli_timer;

static void conf_common(mbedtls_ssl_config *conf, int endpoint)
{
    if (mbedtls_ssl_config_defaults(conf, endpoint, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        die("mbedtls_ssl_config_defaults");
    mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(conf, suites);
    /* The group order of dtlskit's mbedTLS backend and native server
     * (X25519, P-256 first), not the library's, which starts with P-521. */
    static const mbedtls_ecp_group_id groups[] = {
        MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
        MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_NONE};
    mbedtls_ssl_conf_curves(conf, groups);
    mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
}

static void lib_init(void)
{
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&ca);
    mbedtls_pk_init(&pkey);
    mbedtls_ssl_config_init(&srv_conf);
    mbedtls_ssl_config_init(&cli_conf);
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0)
        die("mbedtls_ctr_drbg_seed");
    if (mbedtls_x509_crt_parse_file(&chain, arg_cert) != 0 ||
        mbedtls_pk_parse_keyfile(&pkey, arg_key, NULL) != 0 ||
        mbedtls_x509_crt_parse_file(&ca, arg_ca) != 0)
        die("cannot load the certificate, key or CA");
    conf_common(&srv_conf, MBEDTLS_SSL_IS_SERVER);
    mbedtls_ssl_conf_authmode(&srv_conf, MBEDTLS_SSL_VERIFY_NONE);
    if (mbedtls_ssl_conf_own_cert(&srv_conf, &chain, &pkey) != 0)
        die("mbedtls_ssl_conf_own_cert");
    mbedtls_ssl_conf_dtls_cookies(&srv_conf, NULL, NULL, NULL); /* no HelloVerifyRequest */
    conf_common(&cli_conf, MBEDTLS_SSL_IS_CLIENT);
    mbedtls_ssl_conf_authmode(&cli_conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&cli_conf, &ca, NULL);
    static const mbedtls_ecp_group_id p256[] = {MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE};
    static const mbedtls_ecp_group_id x25519[] = {MBEDTLS_ECP_DP_CURVE25519,
                                                  MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE};
    if (arg_group != G_DEFAULT)
        mbedtls_ssl_conf_curves(&cli_conf, arg_group == G_X25519 ? x25519 : p256);
}

static session *new_session(bool server)
{
    session *s = malloc(sizeof *s);
    if (!s)
        die("out of memory");
    mbedtls_ssl_init(s);
    if (mbedtls_ssl_setup(s, server ? &srv_conf : &cli_conf) != 0)
        die("mbedtls_ssl_setup");
    mbedtls_ssl_set_bio(s, server ? &ep_server : &ep_client, cb_send, cb_recv, NULL);
    mbedtls_ssl_set_timer_cb(s, server ? &srv_timer : &cli_timer, cb_timer_set, cb_timer_get);
    mbedtls_ssl_set_mtu(s, (uint16_t)(arg_mtu - 28));
    if (!server && mbedtls_ssl_set_hostname(s, "localhost") != 0)
        die("mbedtls_ssl_set_hostname");
    return s;
}

static session *srv_new(void)
{
    return new_session(true);
}

static session *cli_new(void)
{
    return new_session(false);
}

static int step(session *s)
{
    int r = mbedtls_ssl_handshake(s);
    if (r == 0)
        return 1;
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    fprintf(stderr, "mbedtls_ssl_handshake: -0x%04x\n", (unsigned)-r);
    return -1;
}

static int srv_step(session *s)
{
    return step(s);
}

static int cli_step(session *s)
{
    return step(s);
}

static int sess_read(session *s, void *buf, int cap)
{
    return mbedtls_ssl_read(s, buf, (size_t)cap);
}

static int sess_write(session *s, const void *buf, int len)
{
    return mbedtls_ssl_write(s, buf, (size_t)len);
}

static void sess_free(session *s)
{
    mbedtls_ssl_free(s);
    free(s);
}

static const char *srv_cipher(session *s)
{
    return mbedtls_ssl_get_ciphersuite(s);
}

/* Not exposed by mbedTLS 2.28: the server takes the first group of its own
 * preference list (the library default) that the client offered. */
static const char *srv_group(session *s)
{
    (void)s;
    const mbedtls_ecp_group_id *offered = cli_conf.curve_list;
    for (const mbedtls_ecp_group_id *g = srv_conf.curve_list; *g != MBEDTLS_ECP_DP_NONE; g++)
        for (const mbedtls_ecp_group_id *o = offered; *o != MBEDTLS_ECP_DP_NONE; o++)
            if (*o == *g)
                return mbedtls_ecp_curve_info_from_grp_id(*g)->name;
    return "?";
}

#elif defined(LIB_WOLFSSL)
#define LIB_NAME "wolfssl"
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

typedef WOLFSSL session;
static WOLFSSL_CTX *srv_ctx, *cli_ctx;

static int cb_send(WOLFSSL *ssl, char *buf, int len, void *ctx)
{
    (void)ssl;
    q_push(((struct endpoint *)ctx)->out, buf, (size_t)len);
    return len;
}

static int cb_recv(WOLFSSL *ssl, char *buf, int cap, void *ctx)
{
    (void)ssl;
    int n = q_pop(((struct endpoint *)ctx)->in, buf, (size_t)cap);
    return n < 0 ? WOLFSSL_CBIO_ERR_WANT_READ : n;
}

static WOLFSSL_CTX *make_ctx(bool server)
{
    WOLFSSL_CTX *ctx =
        wolfSSL_CTX_new(server ? wolfDTLSv1_2_server_method() : wolfDTLSv1_2_client_method());
    if (!ctx || wolfSSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                                 "ECDHE-RSA-AES128-GCM-SHA256") != WOLFSSL_SUCCESS)
        die("wolfSSL_CTX setup");
    wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
    wolfSSL_CTX_NoTicketTLSv12(ctx);
    wolfSSL_CTX_SetIORecv(ctx, cb_recv);
    wolfSSL_CTX_SetIOSend(ctx, cb_send);
    if (server) {
        wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
        if (wolfSSL_CTX_use_certificate_chain_file(ctx, arg_cert) != WOLFSSL_SUCCESS ||
            wolfSSL_CTX_use_PrivateKey_file(ctx, arg_key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
            die("cannot load the certificate or key");
    } else {
        wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
        if (wolfSSL_CTX_load_verify_locations(ctx, arg_ca, NULL) != WOLFSSL_SUCCESS)
            die("cannot load the CA");
        if ((arg_group == G_X25519 &&
             wolfSSL_CTX_UseSupportedCurve(ctx, WOLFSSL_ECC_X25519) != WOLFSSL_SUCCESS) ||
            (arg_group != G_DEFAULT &&
             wolfSSL_CTX_UseSupportedCurve(ctx, WOLFSSL_ECC_SECP256R1) != WOLFSSL_SUCCESS))
            die("cannot set the groups");
    }
    return ctx;
}

static void lib_init(void)
{
    if (wolfSSL_Init() != WOLFSSL_SUCCESS)
        die("wolfSSL_Init");
    srv_ctx = make_ctx(true);
    cli_ctx = make_ctx(false);
}

static session *new_session(bool server)
{
    WOLFSSL *ssl = wolfSSL_new(server ? srv_ctx : cli_ctx);
    if (!ssl)
        die("wolfSSL_new");
    struct endpoint *ep = server ? &ep_server : &ep_client;
    wolfSSL_SetIOReadCtx(ssl, ep);
    wolfSSL_SetIOWriteCtx(ssl, ep);
    wolfSSL_dtls_set_using_nonblock(ssl, 1);
    if (!server && wolfSSL_check_domain_name(ssl, "localhost") != WOLFSSL_SUCCESS)
        die("wolfSSL_check_domain_name");
    if (server) {
        /* The cookie is bound to the peer's address: give it a fixed one. */
        static const unsigned char fake_peer[16] = {2, 0, 0x12, 0x34, 127, 0, 0, 1};
        wolfSSL_dtls_set_peer(ssl, (void *)fake_peer, sizeof fake_peer);
    }
    return ssl;
}

static session *srv_new(void)
{
    return new_session(true);
}

static session *cli_new(void)
{
    return new_session(false);
}

static int srv_step(session *s)
{
    int r = wolfSSL_accept(s);
    if (r == WOLFSSL_SUCCESS)
        return 1;
    int err = wolfSSL_get_error(s, r);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
        return 0;
    fprintf(stderr, "wolfSSL_accept: %d\n", err);
    return -1;
}

static int cli_step(session *s)
{
    int r = wolfSSL_connect(s);
    if (r == WOLFSSL_SUCCESS)
        return 1;
    int err = wolfSSL_get_error(s, r);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
        return 0;
    fprintf(stderr, "wolfSSL_connect: %d\n", err);
    return -1;
}

static int sess_read(session *s, void *buf, int cap)
{
    return wolfSSL_read(s, buf, cap);
}

static int sess_write(session *s, const void *buf, int len)
{
    return wolfSSL_write(s, buf, len);
}

static void sess_free(session *s)
{
    wolfSSL_free(s);
}

static const char *srv_cipher(session *s)
{
    return wolfSSL_get_cipher_name(s);
}

static const char *srv_group(session *s)
{
    return wolfSSL_get_curve_name(s);
}
#elif defined(LIB_GNUTLS)
#define LIB_NAME "gnutls"
#include <errno.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

typedef struct gnutls_session_int session; /* gnutls_session_t is a pointer to it */
static gnutls_certificate_credentials_t srv_cred, cli_cred;
static gnutls_priority_t srv_prio, cli_prio;

static ssize_t cb_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
    q_push(((struct endpoint *)ptr)->out, data, len);
    return (ssize_t)len;
}

static session *pulling; /* the session whose call is running: for its errno */

static ssize_t cb_pull(gnutls_transport_ptr_t ptr, void *buf, size_t cap)
{
    int n = q_pop(((struct endpoint *)ptr)->in, buf, cap);
    if (n < 0) {
        gnutls_transport_set_errno(pulling, EAGAIN);
        return -1;
    }
    return n;
}

static int cb_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    (void)ms;
    return ((struct endpoint *)ptr)->in->count ? 1 : 0;
}

#define PRIORITIES                                                                                 \
    "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-CIPHER-ALL:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:"              \
    "+ECDHE-ECDSA:+ECDHE-RSA"

static void lib_init(void)
{
    const char *groups = arg_group == G_X25519 ? ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1"
                         : arg_group == G_P256 ? ":-GROUP-ALL:+GROUP-SECP256R1"
                                               : "";
    char cli_prio_str[256];
    snprintf(cli_prio_str, sizeof cli_prio_str, "%s%s", PRIORITIES, groups);
    if (gnutls_global_init() < 0 || gnutls_priority_init(&srv_prio, PRIORITIES, NULL) < 0 ||
        gnutls_priority_init(&cli_prio, cli_prio_str, NULL) < 0)
        die("GnuTLS setup");
    if (gnutls_certificate_allocate_credentials(&srv_cred) < 0 ||
        gnutls_certificate_set_x509_key_file(srv_cred, arg_cert, arg_key, GNUTLS_X509_FMT_PEM) < 0)
        die("cannot load the certificate or key");
    if (gnutls_certificate_allocate_credentials(&cli_cred) < 0 ||
        gnutls_certificate_set_x509_trust_file(cli_cred, arg_ca, GNUTLS_X509_FMT_PEM) <= 0)
        die("cannot load the CA");
}

static session *new_session(bool server)
{
    gnutls_session_t s;
    if (gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_DATAGRAM |
                            GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS) < 0 ||
        gnutls_priority_set(s, server ? srv_prio : cli_prio) < 0 ||
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, server ? srv_cred : cli_cred) < 0)
        die("gnutls_init");
    gnutls_transport_set_ptr(s, server ? &ep_server : &ep_client);
    gnutls_transport_set_push_function(s, cb_push);
    gnutls_transport_set_pull_function(s, cb_pull);
    gnutls_transport_set_pull_timeout_function(s, cb_pull_timeout);
    gnutls_dtls_set_mtu(s, (unsigned)(arg_mtu - 28));
    if (server) {
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
    } else {
        if (gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9) < 0)
            die("gnutls_server_name_set");
        gnutls_session_set_verify_cert(s, "localhost", 0);
    }
    return s;
}

static session *srv_new(void)
{
    return new_session(true);
}

static session *cli_new(void)
{
    return new_session(false);
}

static int step(session *s)
{
    pulling = s;
    int r = gnutls_handshake(s);
    if (r == 0)
        return 1;
    if (!gnutls_error_is_fatal(r))
        return 0;
    fprintf(stderr, "gnutls_handshake: %s\n", gnutls_strerror(r));
    return -1;
}

static int srv_step(session *s)
{
    return step(s);
}

static int cli_step(session *s)
{
    return step(s);
}

static int sess_read(session *s, void *buf, int cap)
{
    pulling = s;
    return (int)gnutls_record_recv(s, buf, (size_t)cap);
}

static int sess_write(session *s, const void *buf, int len)
{
    return (int)gnutls_record_send(s, buf, (size_t)len);
}

static void sess_free(session *s)
{
    gnutls_deinit(s);
}

static const char *srv_cipher(session *s)
{
    return gnutls_ciphersuite_get(s);
}

static const char *srv_group(session *s)
{
    return gnutls_group_get_name(gnutls_group_get(s));
}
#endif

/* ---- the measurement ------------------------------------------------------- */

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --cert FILE --key FILE --ca FILE [--count N] [--mtu BYTES]\n"
            "          [--group default|p256|x25519]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    long count = 1000;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage(argv[0]);
        if (!strcmp(a, "--cert"))
            arg_cert = v;
        else if (!strcmp(a, "--key"))
            arg_key = v;
        else if (!strcmp(a, "--ca"))
            arg_ca = v;
        else if (!strcmp(a, "--count"))
            count = atol(v);
        else if (!strcmp(a, "--mtu"))
            arg_mtu = atoi(v);
        else if (!strcmp(a, "--group") && !strcmp(v, "default"))
            arg_group = G_DEFAULT;
        else if (!strcmp(a, "--group") && !strcmp(v, "p256"))
            arg_group = G_P256;
        else if (!strcmp(a, "--group") && !strcmp(v, "x25519"))
            arg_group = G_X25519;
        else
            usage(argv[0]);
    }
    if (!arg_cert || !arg_key || !arg_ca || count < 1 || arg_mtu < 256 || arg_mtu > 65535)
        usage(argv[0]);
    lib_init();

    uint64_t server_ns = 0, first_step_ns = 0;
    const char *cipher = "", *group = "";
    for (long h = 0; h < count; h++) {
        q_reset(&q_c2s);
        q_reset(&q_s2c);
        uint64_t t0 = thread_cpu_ns();
        session *srv = srv_new();
        server_ns += thread_cpu_ns() - t0;
        session *cli = cli_new();

        int cs = 0, ss = 0, rounds = 0;
        while (cs != 1 || ss != 1) {
            if (++rounds > 50)
                die("handshake does not finish");
            if (cs != 1 && (cs = cli_step(cli)) < 0)
                die("client handshake failed");
            if (ss != 1) {
                t0 = thread_cpu_ns();
                ss = srv_step(srv);
                uint64_t dt = thread_cpu_ns() - t0;
                server_ns += dt;
                if (rounds == 1)
                    first_step_ns += dt;
                if (ss < 0)
                    die("server handshake failed");
            }
        }
        /* Proof: one record each way through the new keys. */
        char msg[32], back[64];
        int len = snprintf(msg, sizeof msg, "ping %ld", h);
        if (sess_write(cli, msg, len) != len)
            die("client write failed");
        int n = sess_read(srv, back, (int)sizeof back);
        if (n != len || memcmp(back, msg, (size_t)len) != 0 || sess_write(srv, back, n) != n)
            die("server did not get the record");
        n = sess_read(cli, back, (int)sizeof back);
        if (n != len || memcmp(back, msg, (size_t)len) != 0)
            die("client did not get the echo");
        if (h == 0) {
            cipher = srv_cipher(srv);
            group = srv_group(srv);
        }

        t0 = thread_cpu_ns();
        sess_free(srv);
        server_ns += thread_cpu_ns() - t0;
        sess_free(cli);
    }
    fprintf(stderr, "%s: %ld handshakes verified, %s, group %s, first server step %.1f us\n",
            LIB_NAME, count, cipher, group ? group : "?",
            (double)first_step_ns / 1000.0 / (double)count);
    printf("inmem %.1f\n", (double)server_ns / 1000.0 / (double)count);
    return 0;
}
