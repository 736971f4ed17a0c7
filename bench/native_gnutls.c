/* Native baseline: a DTLS 1.2 echo server written directly against GnuTLS
 * 3.7, the way GnuTLS's manual serves DTLS clients on one UDP socket (see
 * bench/PROTOCOL.md for the command line and output).
 *
 * - A datagram from an unknown address goes to gnutls_dtls_cookie_verify
 *   with the address as the client data: no session object exists yet. A
 *   ClientHello without a valid cookie is answered by
 *   gnutls_dtls_cookie_send (a HelloVerifyRequest, an HMAC of the address
 *   under a random key, gnutls_key_generate) and nothing is kept; anything
 *   else from an unknown address is dropped. A ClientHello with a valid
 *   cookie creates the session: gnutls_dtls_prestate_set carries the
 *   sequence numbers of the cookie exchange over, and the ClientHello is
 *   handed to the new session's first gnutls_handshake.
 * - Sessions are found by source address in a hash table. The transport
 *   callbacks hand over the one datagram being processed (pull; pull_timeout
 *   says whether it is there) and append what GnuTLS sends to the server's
 *   sendmmsg batch (push). Every session is GNUTLS_NONBLOCK: a step that
 *   needs the peer returns GNUTLS_E_AGAIN.
 * - Retransmission: after each step of an unfinished handshake the session
 *   is due again after gnutls_dtls_get_timeout milliseconds; gnutls_handshake
 *   then retransmits (or fails with GNUTLS_E_TIMEDOUT after the library's
 *   total handshake timeout). A client repeating its last flight after the
 *   handshake gets the final flight again from GnuTLS itself, inside
 *   gnutls_record_recv.
 * - gnutls_dtls_set_mtu gets the datagram budget (MTU - 28 bytes).
 * - No tickets (GNUTLS_NO_TICKETS) and no session cache (no database
 *   functions are set), as for the other native servers.
 *
 * Build:
 *   cc -O2 -g -std=gnu11 bench/native_gnutls.c -o native_gnutls \
 *      $(pkg-config --cflags --libs gnutls)
 */
#include "native_common.h"

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

/* ECDHE with AES-128-GCM, signed with whichever key the certificate has;
 * the groups are GnuTLS's defaults. */
#define PRIORITIES                                                                                 \
    "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-CIPHER-ALL:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:"              \
    "+ECDHE-ECDSA:+ECDHE-RSA"

struct conn {
    gnutls_session_t ssl;
    struct sockaddr_in peer;
    uint64_t key;
    const uint8_t *in; /* the datagram the pull callback hands over next */
    size_t in_len;
    struct nc_timer timer;
    bool established;
};

static struct {
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    gnutls_datum_t cookie_key;
    unsigned mtu; /* datagram budget: MTU - 28 */
    struct nc_tx tx;
    struct nc_table table;
    struct nc_heap timers;
    struct nc_stats stats;
    uint8_t app_buf[16384 + 2048];
} S;

static void die_gnutls(const char *what, int err)
{
    fprintf(stderr, "native_gnutls: %s: %s\n", what, gnutls_strerror(err));
    exit(1);
}

/* ---- transport callbacks ------------------------------------------------- */

static ssize_t cb_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
    struct conn *c = ptr;
    /* A datagram that cannot be queued is lost on the way; retransmission
     * covers it. */
    (void)nc_tx_add(&S.tx, &c->peer, data, len);
    return (ssize_t)len;
}

static ssize_t cb_pull(gnutls_transport_ptr_t ptr, void *buf, size_t cap)
{
    struct conn *c = ptr;
    if (!c->in) {
        gnutls_transport_set_errno(c->ssl, EAGAIN);
        return -1;
    }
    size_t n = c->in_len < cap ? c->in_len : cap;
    memcpy(buf, c->in, n);
    c->in = NULL;
    c->in_len = 0;
    return (ssize_t)n;
}

/* Data waiting: the datagram being processed, if not read yet. Never
 * waits (the server is single-threaded; GnuTLS asks with 0 ms when the
 * session is GNUTLS_NONBLOCK). */
static int cb_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    (void)ms;
    return ((struct conn *)ptr)->in ? 1 : 0;
}

/* The HelloVerifyRequest of gnutls_dtls_cookie_send, to the address the
 * cookie is bound to. */
static ssize_t cb_push_cookie(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
    (void)nc_tx_add(&S.tx, ptr, data, len);
    return (ssize_t)len;
}

/* ---- sessions ------------------------------------------------------------ */

static void conn_free(struct conn *c)
{
    nc_stats_freed(&S.stats, c->established);
    nc_table_del(&S.table, c->key);
    nc_timer_cancel(&S.timers, &c->timer);
    gnutls_deinit(c->ssl);
    free(c);
}

/* conn_free for nc_run, which frees connections it does not know the type of. */
static void conn_free_any(void *c)
{
    conn_free(c);
}

static struct conn *conn_new(const struct sockaddr_in *from, gnutls_dtls_prestate_st *prestate)
{
    struct conn *c = nc_xcalloc(1, sizeof *c);
    int r =
        gnutls_init(&c->ssl, GNUTLS_SERVER | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS);
    if (r < 0)
        die_gnutls("gnutls_init", r);
    if ((r = gnutls_priority_set(c->ssl, S.prio)) < 0)
        die_gnutls("gnutls_priority_set", r);
    if ((r = gnutls_credentials_set(c->ssl, GNUTLS_CRD_CERTIFICATE, S.cred)) < 0)
        die_gnutls("gnutls_credentials_set", r);
    gnutls_certificate_server_set_request(c->ssl, GNUTLS_CERT_IGNORE);
    gnutls_dtls_prestate_set(c->ssl, prestate);
    gnutls_dtls_set_mtu(c->ssl, S.mtu);
    gnutls_transport_set_ptr(c->ssl, c);
    gnutls_transport_set_push_function(c->ssl, cb_push);
    gnutls_transport_set_pull_function(c->ssl, cb_pull);
    gnutls_transport_set_pull_timeout_function(c->ssl, cb_pull_timeout);
    c->peer = *from;
    return c;
}

static void conn_rearm(struct conn *c)
{
    unsigned ms = gnutls_dtls_get_timeout(c->ssl);
    nc_timer_arm(&S.timers, &c->timer, nc_now_us() + (uint64_t)(ms ? ms : 1) * 1000u);
}

/* Runs a session on whatever its pull callback holds; frees it when it
 * ends. */
static void conn_drive(struct conn *c)
{
    if (!c->established) {
        int r = gnutls_handshake(c->ssl);
        if (r < 0) {
            if (!gnutls_error_is_fatal(r)) { /* GNUTLS_E_AGAIN: waiting for the peer */
                c->in = NULL;
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
        ssize_t n = gnutls_record_recv(c->ssl, S.app_buf, sizeof S.app_buf);
        if (n > 0) {
            if (gnutls_record_send(c->ssl, S.app_buf, (size_t)n) != n) {
                conn_free(c);
                return;
            }
            S.stats.datagrams++;
            continue;
        }
        if (n < 0 && !gnutls_error_is_fatal((int)n)) {
            /* GNUTLS_E_AGAIN, or a record GnuTLS dropped (DTLS: a forged
             * or replayed record is not an error of the session). */
            if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED && c->in)
                continue;
            break;
        }
        if (n == 0)
            (void)gnutls_bye(c->ssl, GNUTLS_SHUT_WR); /* answer close_notify with ours */
        conn_free(c);
        return;
    }
    c->in = NULL;
}

/* A ClientHello record of epoch 0: content type 22, epoch 0, handshake
 * type 1 after the 13-byte record header. */
static bool is_client_hello(const uint8_t *d, size_t n)
{
    return n > 25 && d[0] == 22 && d[3] == 0 && d[4] == 0 && d[13] == 1;
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
    /* Unknown address: stateless cookie exchange, no session object. */
    if (!is_client_hello(data, len))
        return;
    gnutls_dtls_prestate_st prestate;
    memset(&prestate, 0, sizeof prestate);
    int r = gnutls_dtls_cookie_verify(&S.cookie_key, (void *)from, sizeof *from, (void *)data, len,
                                      &prestate);
    if (r < 0) {
        (void)gnutls_dtls_cookie_send(&S.cookie_key, (void *)from, sizeof *from, &prestate,
                                      (gnutls_transport_ptr_t)from, cb_push_cookie);
        return; /* HelloVerifyRequest sent, nothing kept */
    }
    /* A valid cookie: a session for this client, from its ClientHello. */
    c = conn_new(from, &prestate);
    c->key = key;
    nc_table_put(&S.table, key, c);
    S.stats.pending++;
    c->in = data;
    c->in_len = len;
    conn_drive(c);
}

static void on_timers(void)
{
    uint64_t now = nc_now_us();
    struct nc_timer *t;
    for (size_t budget = S.timers.n; budget && (t = nc_heap_due(&S.timers, now)); budget--) {
        struct conn *c = NC_CONTAINER(t, struct conn, timer);
        if (c->established) {
            nc_timer_cancel(&S.timers, t);
            continue;
        }
        nc_timer_cancel(&S.timers, t);
        conn_drive(c); /* retransmits, or fails after the total timeout */
    }
}

/* ---- setup and main loop ------------------------------------------------- */

static void setup(const struct nc_opts *o)
{
    int r;
    const char *err_pos = NULL;
    if ((r = gnutls_global_init()) < 0)
        die_gnutls("gnutls_global_init", r);
    if ((r = gnutls_certificate_allocate_credentials(&S.cred)) < 0)
        die_gnutls("gnutls_certificate_allocate_credentials", r);
    if ((r = gnutls_certificate_set_x509_key_file(S.cred, o->cert, o->key, GNUTLS_X509_FMT_PEM)) <
        0)
        die_gnutls("cannot load the certificate chain or the private key", r);
    if ((r = gnutls_priority_init(&S.prio, PRIORITIES, &err_pos)) < 0)
        die_gnutls(err_pos ? err_pos : "gnutls_priority_init", r);
    if ((r = gnutls_key_generate(&S.cookie_key, GNUTLS_COOKIE_KEY_SIZE)) < 0)
        die_gnutls("gnutls_key_generate", r);
}

int main(int argc, char **argv)
{
    struct nc_opts o;
    nc_parse_args(argc, argv, &o);
    nc_install_signals();
    S.mtu = (unsigned)(o.mtu - NC_IP_UDP_HDR);
    setup(&o);

    nc_run(o.port, &S.tx, &S.table, &S.timers, &S.stats, on_datagram, on_timers, conn_free_any);

    /* The library's own state, so that leak checkers see a clean exit. */
    gnutls_free(S.cookie_key.data);
    gnutls_priority_deinit(S.prio);
    gnutls_certificate_free_credentials(S.cred);
    gnutls_global_deinit();
    return 0;
}
