/* Fuzz target: a DTLS session fed arbitrary datagrams through the core and
 * the backend compiled in. Built twice: FUZZ_SERVER (the input plays the
 * client: its first datagram, when it is a ClientHello, gets the cookie the
 * core would have verified patched in, so the server session starts as in
 * production) and the client side (the input plays the server, answering a
 * ClientHello the session sent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtlskit/dtlskit.h>

#include "clienthello.h"
#include "cookie.h"
#include "dtls_internal.h"
#include "fuzz_common.h"
#include "library.h"
#include "udp_internal.h"

#ifndef FUZZ_CERTS
#define FUZZ_CERTS "tests/certs"
#endif

static dk__ctx *ctx;
static dk__cookie_jar jar;

static dk_tls_options *options(void)
{
#ifdef FUZZ_SERVER
    dk_key *k = dk_key_load(FUZZ_CERTS "/server.key", NULL, false, NULL);
    dk_cert *c = dk_cert_load(FUZZ_CERTS "/server-chain.pem", NULL);
    dk_tls_options *o = k && c ? dk_tls_options_server(k, c, NULL) : NULL;
    dk_key_free(k);
    dk_cert_free(c);
#else
    dk_cert *ca = dk_cert_load(FUZZ_CERTS "/ca.pem", NULL);
    dk_tls_options *o = ca ? dk_tls_options_client(ca, NULL, NULL) : NULL;
    dk_cert_free(ca);
#endif
    return o;
}

static void setup(void)
{
    if (ctx)
        return;
    dk_init();
    dk_tls_options *o = options();
    if (!o) {
        fprintf(stderr, "fuzz_session: cannot load %s: %s\n", FUZZ_CERTS, dk_last_error());
        abort();
    }
#ifdef FUZZ_SERVER
    ctx = dk__ctx_create("fuzz", o, DK_BK_SERVER, NULL);
#else
    ctx = dk__ctx_create("fuzz", o, DK_BK_CLIENT, NULL);
#endif
    dk_tls_options_free(o);
    dk__cookie_jar_init(&jar);
    if (!ctx)
        abort();
}

typedef struct run {
    dk_dtls_peer *p;
    dk_udp_peer *udp;
    int index;
} run;

static void deliver(void *arg, const uint8_t *d, size_t n)
{
    run *r = arg;
    dk_dtls_peer *p = r->p;
#ifdef FUZZ_SERVER
    if (r->index++ == 0) {
        /* Start the server session the way take_connection() does. */
        uint8_t first[2048];
        if (n > sizeof first)
            return;
        memcpy(first, d, n);
        dk__client_hello ch;
        if (dk__client_hello_parse(first, n, &ch) != DK__CH_OK || ch.cookie.len != DK__COOKIE_LEN)
            return;
        uint8_t tid[DK__TRANSPORT_ID_LEN], cookie[DK__COOKIE_LEN];
        dk__addr_transport_id(&r->udp->remote, tid);
        dk__cookie_mint(&jar.current, tid, &ch, cookie);
        memcpy((uint8_t *)ch.cookie.p, cookie, sizeof cookie);
        dk__udp_peer_enqueue(r->udp, &r->udp->remote, first, n);
        dk_bk_session_params params = {
            .role = DK_BK_SERVER,
            .transport_id = tid,
            .transport_id_len = sizeof tid,
            .cookie = cookie,
            .cookie_len = sizeof cookie,
            .cookie_secret = jar.current.key,
            .cookie_secret_len = jar.current.len,
        };
        dk__session_cfg cfg;
        dk__session_cfg_default(&cfg);
        if (dk__dtls_peer_start(p, "fuzz", r->udp, ctx, &cfg, &params) == DK_OK)
            dk_dtls_peer_poll(p);
        return;
    }
    if (p->status != DK_DTLS_HANDSHAKING && p->status != DK_DTLS_CONNECTED)
        return;
#endif
    dk__udp_peer_enqueue(r->udp, &r->udp->remote, d, n);
    dk_dtls_peer_poll(p);
    if (dk_dtls_peer_get_status(p) == DK_DTLS_CONNECTED) {
        char buf[2048];
        size_t got;
        while (dk_dtls_peer_get_packet(p, buf, sizeof buf, &got) == DK_OK)
            dk_dtls_peer_put_packet(p, buf, got);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    /* A UDP peer with no socket: what the session sends is lost, what it
     * receives comes from the input. */
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    dk_udp_peer_set_dest_address(udp, "127.0.0.1", 9);
    dk__udp_peer_shutdown(udp);
    dk_dtls_peer *p = dk__dtls_peer_alloc("fuzz", NULL);
    run r = {p, udp, 0};
#ifndef FUZZ_SERVER
    dk__session_cfg cfg;
    dk__session_cfg_default(&cfg);
    dk_bk_session_params params = {
        .role = DK_BK_CLIENT, .sni = "localhost", .verify_name = "localhost"};
    if (dk__dtls_peer_start(p, "fuzz", udp, ctx, &cfg, &params) == DK_OK) {
        char reason[200];
        DK__BK->session->handshake(p->bs, reason, sizeof reason);
    }
#endif
    fuzz_each_datagram(data, size, deliver, &r);
    if (!p->udp)
        dk_udp_peer_free(udp);
    dk_dtls_peer_free(p);
    return 0;
}
