/* dk_dtls_server: server options, the cookie secret, and the two ways of
 * turning UDP peers into sessions (Godot's take_connection, and admission
 * inside the UDP server's poll). */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto_internal.h"
#include "dtls_internal.h"
#include "error.h"
#include "library.h"
#include "udp_internal.h"

dk_dtls_server *dk_dtls_server_new(dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    dk_dtls_server *s = calloc(1, sizeof *s);
    if (!s) {
        dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "out of memory"));
        return NULL;
    }
    if (dk__cookie_jar_init(&s->jar) != DK_OK) {
        free(s);
        dk__set_err(err, DK_FAIL(DK_ERR_TLS, "no random bytes for the cookie secret"));
        return NULL;
    }
    s->ledger = dk__ledger_new();
    if (!s->ledger) {
        free(s);
        dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "out of memory"));
        return NULL;
    }
    if (dk__ticket_cfg_init(&s->tickets) != DK_OK) {
        dk__ledger_unref(s->ledger);
        free(s);
        dk__set_err(err, DK_FAIL(DK_ERR_TLS, "no random bytes for the ticket secret"));
        return NULL;
    }
    dk__session_cfg_default(&s->cfg);
    s->cfg.idle_timeout_ms = DK__DEFAULT_SERVER_IDLE_MS;
    dk__caps_default(&s->caps);
    s->key_cache = DK__AEAD_CACHE_DEFAULT;
    dk__sessions_init(&s->sessions, s);
    dk__set_err(err, DK_OK);
    return s;
}

void dk_dtls_server_free(dk_dtls_server *s)
{
    if (!s)
        return;
    if (s->attached)
        dk__udp_server_set_filter(s->attached, NULL, NULL);
    /* The sessions live on, untracked. */
    dk__sessions_destroy(&s->sessions);
    dk__ledger_unref(s->ledger); /* sessions still counted keep it alive */
    dk__ctx_unref(s->ctx);
    dk_tls_options_free(s->opts);
    explicit_bzero(&s->jar, sizeof s->jar);
    explicit_bzero(&s->tickets, sizeof s->tickets);
    free(s);
}

/* (Re)builds the backend context from the options and current settings. */
static dk_err build_ctx(dk_dtls_server *s, const char *func)
{
    dk_err err;
    /* A resumed session does not ask the PSK lookup again: an identity
     * revoked there would still resume. Tickets are off for PSK servers
     * unless the application turned them on. */
    dk__ticket_cfg tk = s->tickets;
    if (s->opts->psk_lookup && !tk.chosen)
        tk.enabled = false;
    dk__ctx *c = dk__ctx_create_server(func, s->opts, &tk, &err);
    explicit_bzero(&tk, sizeof tk);
    if (!c)
        return err;
    dk__ctx_unref(s->ctx);
    s->ctx = c;
    c->aead_cache.cap = s->key_cache;
    return DK_OK;
}

dk_err dk_dtls_server_setup(dk_dtls_server *s, const dk_tls_options *opts)
{
    if (!s || !opts)
        return DK_FAIL(DK_ERR_INVALID, "server or options are NULL");
    if (!opts->server)
        return DK_FAIL(DK_ERR_INVALID, "these are client options; use dk_tls_options_server()");
    dk_tls_options *clone = dk__tls_options_clone(opts);
    if (!clone)
        return DK_FAIL(DK_ERR_NOMEM, "out of memory");
    dk_tls_options *old = s->opts;
    s->opts = clone;
    dk_err e = build_ctx(s, __func__);
    if (e != DK_OK) {
        s->opts = old; /* keep the previous, working configuration */
        dk_tls_options_free(clone);
        return e;
    }
    dk_tls_options_free(old);
    return DK_OK;
}

/* Outcome of looking at a datagram from a source without a session. */
typedef enum hello_verdict {
    HELLO_VALID,    /* ClientHello with a valid cookie */
    HELLO_ANSWERED, /* ClientHello without one: HelloVerifyRequest sent */
    HELLO_REFUSED,  /* not a ClientHello we can answer */
} hello_verdict;

/* Parses, verifies and, when needed, answers with a HelloVerifyRequest
 * through `send`. Allocates nothing. */
static hello_verdict check_hello(dk_dtls_server *s, const dk__addr *src, const uint8_t *data,
                                 size_t len, dk__client_hello *ch, const dk__secret **secret,
                                 dk_err (*send)(void *ctx, const uint8_t *d, size_t n),
                                 void *send_ctx)
{
    if (dk__client_hello_parse(data, len, ch) != DK__CH_OK) {
        s->stats.not_client_hello++;
        return HELLO_REFUSED;
    }
    uint8_t tid[DK__TRANSPORT_ID_LEN];
    dk__addr_transport_id(src, tid);
    dk__cookie_jar_tick(&s->jar, dk__now_ms());
    /* The current cookie serves both the check and the answer: one HMAC
     * for a ClientHello without a cookie or with the right one. */
    uint8_t cookie[DK__COOKIE_LEN], hvr[DK__HVR_LEN(DK__COOKIE_LEN)];
    bool minted = dk__cookie_mint(&s->jar.current, tid, ch, cookie) == DK_OK;
    *secret = dk__cookie_verify(&s->jar, tid, ch, minted ? cookie : NULL);
    if (*secret)
        return HELLO_VALID;
    if (ch->cookie.len)
        s->stats.cookies_rejected++;
    if (!minted)
        return HELLO_REFUSED;
    size_t n = dk__hvr_write(ch, cookie, sizeof cookie, hvr, sizeof hvr);
    if (!n || n > len) /* never answer with more than was received */
        return HELLO_REFUSED;
    if (send(send_ctx, hvr, n) == DK_OK)
        s->stats.hello_verify_sent++;
    return HELLO_ANSWERED;
}

/* Checks the caps for one more handshake from `src`; counts a refusal. */
static bool within_caps(dk_dtls_server *s, const dk__addr *src, const char **why)
{
    switch (dk__ledger_check(s->ledger, &s->caps, src)) {
    case DK__CAP_OK: return true;
    case DK__CAP_HANDSHAKES:
        s->stats.refused_handshakes_total++;
        *why = "the server's cap on concurrent handshakes";
        break;
    case DK__CAP_HANDSHAKES_ADDR:
        s->stats.refused_handshakes_per_addr++;
        *why = "the cap on concurrent handshakes from one address";
        break;
    case DK__CAP_SESSIONS:
        s->stats.refused_sessions_total++;
        *why = "the server's cap on sessions";
        break;
    case DK__CAP_SESSIONS_ADDR:
        s->stats.refused_sessions_per_addr++;
        *why = "the cap on sessions from one address";
        break;
    }
    return false;
}

static dk_err send_via_peer(void *ctx, const uint8_t *d, size_t n)
{
    return dk__udp_peer_send(ctx, d, n, NULL);
}

/* The steps of dk_dtls_server_take_connection(), in order. A step that
 * refuses the client ends the session (ERROR, with a reason) and returns
 * false or NULL: the session is then returned as it is, so that a Godot
 * caller sees the refusal in its status. */

/* A session object that owns `udp` from now on, whatever happens. */
static dk_dtls_peer *create_session(dk_dtls_server *s, dk_udp_peer *udp, const char *func,
                                    dk_err *err)
{
    dk_dtls_peer *p = dk__dtls_peer_alloc(func, err);
    if (!p)
        return NULL;
    p->udp = udp;
    udp->claimed = true;
    p->cfg = s->cfg;
    dk__set_err(err, DK_OK);
    return p;
}

/* The datagram the peer became pending with, or NULL. */
static const dk__pkt *read_first_datagram(dk_dtls_peer *p)
{
    const dk__pkt *first = p->udp->queue.head;
    if (!first) {
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_HANDSHAKE,
                           "nothing received from this peer yet");
        return NULL;
    }
    return first;
}

/* The first datagram must be a ClientHello with a valid cookie; without
 * one the client gets a HelloVerifyRequest. Sets `ch` and `secret`. */
static bool check_cookie(dk_dtls_server *s, dk_dtls_peer *p, const dk__pkt *first,
                         dk__client_hello *ch, const dk__secret **secret)
{
    dk_udp_peer *udp = p->udp;
    hello_verdict v = check_hello(s, dk__udp_peer_remote(udp), first->data, first->len, ch, secret,
                                  send_via_peer, udp);
    if (v == HELLO_REFUSED) {
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_HANDSHAKE,
                           "first datagram is not a ClientHello");
        return false;
    }
    if (v == HELLO_ANSWERED) {
        /* Unregistering lets the client's next ClientHello, with the
         * cookie, arrive as a new pending connection. */
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_HANDSHAKE,
                           "no valid cookie: HelloVerifyRequest sent");
        return false;
    }
    s->stats.cookies_accepted++;
    memcpy(p->hello_random, ch->random, sizeof p->hello_random);
    return true;
}

/* Admission: one more handshake from this source must stay within the
 * caps. */
static bool admit_handshake(dk_dtls_server *s, dk_dtls_peer *p)
{
    const char *why = NULL;
    if (!within_caps(s, dk__udp_peer_remote(p->udp), &why)) {
        /* Refused before the library sees anything: the client's next
         * retransmission may find room. */
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_QUEUE_FULL, "ClientHello refused: %s", why);
        return false;
    }
    return true;
}

/* Starts the library's session, given the verified cookie so that it
 * accepts the ClientHello, and counts it against the caps. */
static bool start_handshake(dk_dtls_server *s, dk_dtls_peer *p, const dk__client_hello *ch,
                            const dk__secret *secret, const char *func)
{
    dk_udp_peer *udp = p->udp;
    uint8_t tid[DK__TRANSPORT_ID_LEN];
    dk__addr_transport_id(dk__udp_peer_remote(udp), tid);
    dk_bk_session_params params = {
        .role = DK_BK_SERVER,
        .transport_id = tid,
        .transport_id_len = sizeof tid,
        .cookie = ch->cookie.p,
        .cookie_len = ch->cookie.len,
        .cookie_secret = secret->key,
        .cookie_secret_len = secret->len,
    };
    if (dk__dtls_peer_start(p, func, udp, s->ctx, &s->cfg, &params) != DK_OK) {
        dk__udp_peer_shutdown(udp);
        return false;
    }
    if (!dk__dtls_peer_count(p, s->ledger, s->caps.ipv6_prefix)) {
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_NOMEM, "out of memory");
        return false;
    }
    return true;
}

/* In admission mode the server keeps track of the session for
 * dk_dtls_server_poll(). */
static void track(dk_dtls_server *s, dk_dtls_peer *p)
{
    if (s->attached && p->udp->server == s->attached)
        dk__sessions_add(&s->sessions, p);
}

dk_dtls_peer *dk_dtls_server_take_connection(dk_dtls_server *s, dk_udp_peer *udp, dk_err *err)
{
    if (!s || !udp) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "server or udp_peer is NULL"));
        return NULL;
    }
    if (udp->claimed) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "udp_peer already belongs to a DTLS session"));
        return NULL;
    }
    if (udp->kind != DK__PEER_TAKEN) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "udp_peer was not taken from a listening "
                                                 "dk_udp_server"));
        return NULL;
    }
    if (!s->opts) {
        dk__set_err(err, DK_FAIL(DK_ERR_STATE, "call dk_dtls_server_setup() first"));
        return NULL;
    }
    if (!s->ctx) {
        dk_err e = build_ctx(s, __func__);
        if (e != DK_OK) {
            dk__set_err(err, e);
            return NULL;
        }
    }
    dk_dtls_peer *p = create_session(s, udp, __func__, err);
    if (!p)
        return NULL;
    const dk__pkt *first = read_first_datagram(p);
    dk__client_hello ch;
    const dk__secret *secret = NULL;
    if (!first || !check_cookie(s, p, first, &ch, &secret) || !admit_handshake(s, p) ||
        !start_handshake(s, p, &ch, secret, __func__))
        return p;
    track(s, p);
    /* Answer the ClientHello at once: the first flight leaves now. */
    (void)dk_dtls_peer_poll(p);
    return p;
}

bool dk__dtls_server_rehello(dk_dtls_server *s, dk_dtls_peer *p, const uint8_t *data, size_t len)
{
    dk__client_hello ch;
    if (dk__client_hello_parse(data, len, &ch) != DK__CH_OK)
        return false; /* not a ClientHello: the gate decides */
    if (memcmp(ch.random, p->hello_random, sizeof p->hello_random) == 0)
        return true; /* a late duplicate of this session's own ClientHello */
    dk_udp_peer *udp = p->udp;
    const dk__secret *secret;
    if (check_hello(s, dk__udp_peer_remote(udp), data, len, &ch, &secret, send_via_peer, udp) !=
        HELLO_VALID)
        return true; /* answered with a HelloVerifyRequest, or refused */
    /* The cookie proves the client owns this address and port, and it has
     * started over: RFC 6347 4.2.8 lets the old association go once the
     * cookie exchange is done. The datagram then starts the new session. */
    dk_udp_server *server = udp->server;
    dk__addr src = *dk__udp_peer_remote(udp);
    s->stats.sessions_replaced++;
    dk__dtls_peer_fail(p, DK_DTLS_DISCONNECTED, DK_ERR_CLOSED,
                       "replaced: the client started a new handshake from the same address and "
                       "port");
    dk__dtls_peer_touch(p);
    if (server)
        dk__udp_server_reinject(server, &src, data, len);
    return true;
}

/* ------------------------------------------------------------ admission */

/* Where a HelloVerifyRequest from inside the UDP server's poll goes: out
 * of its socket, to the ClientHello's source (no peer exists for it). */
typedef struct server_dest {
    dk_udp_server *udp;
    const dk__addr *to;
} server_dest;

static dk_err send_via_server(void *ctx, const uint8_t *d, size_t n)
{
    const server_dest *dest = ctx;
    return dk__udp_server_send(dest->udp, dest->to, d, n);
}

static bool admit(void *ctx, dk_udp_server *udp, const dk__addr *src, const uint8_t *data,
                  size_t len)
{
    dk_dtls_server *s = ctx;
    dk__client_hello ch;
    const dk__secret *secret;
    server_dest dest = {udp, src};
    hello_verdict v = check_hello(s, src, data, len, &ch, &secret, send_via_server, &dest);
    if (v == HELLO_ANSWERED)
        udp->stats.hello_verify_sent++;
    const char *why;
    /* Over a cap: no answer, nothing allocated, as for a bad cookie. */
    return v == HELLO_VALID && within_caps(s, src, &why);
}

static void detached(void *ctx)
{
    dk_dtls_server *s = ctx;
    s->attached = NULL;
}

/* The UDP server stopped: its sessions end now and are reported by the
 * next dk_dtls_server_poll(), including those without a timer. */
static void stopped(void *ctx)
{
    dk_dtls_server *s = ctx;
    for (dk_dtls_peer *p = dk__sessions_first(&s->sessions); p; p = dk__sessions_next(p))
        if (p->status == DK_DTLS_HANDSHAKING || p->status == DK_DTLS_CONNECTED)
            (void)dk__dtls_peer_transport_lost(p);
}

static const dk__udp_filter admission_filter = {admit, detached, stopped};

dk_err dk_dtls_server_attach(dk_dtls_server *s, dk_udp_server *udp)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (s->attached == udp)
        return DK_OK;
    if (s->attached)
        dk__udp_server_set_filter(s->attached, NULL, NULL);
    if (udp) {
        dk__udp_server_set_filter(udp, &admission_filter, s);
        s->attached = udp;
    }
    return DK_OK;
}

/* ------------------------------------------------------------- settings */

dk_err dk_dtls_server_set_cookie_secret(dk_dtls_server *s, const void *secret, size_t len)
{
    if (!s || !secret)
        return DK_FAIL(DK_ERR_INVALID, "server or secret is NULL");
    if (len < 16 || len > DK__SECRET_MAX)
        return DK_FAIL(DK_ERR_INVALID, "secret of %zu bytes: 16 to %d needed", len, DK__SECRET_MAX);
    dk__cookie_jar_set(&s->jar, secret, len, dk__now_ms());
    return DK_OK;
}

dk_err dk_dtls_server_set_cookie_rotation(dk_dtls_server *s, int interval_ms)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (interval_ms < 0)
        return DK_FAIL(DK_ERR_INVALID, "interval %d ms is negative", interval_ms);
    dk__cookie_jar_set_interval(&s->jar, interval_ms);
    return DK_OK;
}

dk_err dk_dtls_server_set_handshake_timeout(dk_dtls_server *s, int ms)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    dk_err e = dk__session_cfg_check_timeout(__func__, ms, false);
    if (e == DK_OK)
        s->cfg.hs_timeout_ms = ms;
    return e;
}

dk_err dk_dtls_server_set_retransmit(dk_dtls_server *s, int initial_ms, int max_ms)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    dk_err e = dk__session_cfg_check_retransmit(__func__, initial_ms, max_ms);
    if (e != DK_OK)
        return e;
    /* Sessions starting from now on (a session parameter: the context
     * stays). */
    s->cfg.rto_initial_ms = initial_ms;
    s->cfg.rto_max_ms = max_ms;
    return DK_OK;
}

dk_err dk_dtls_server_set_mtu(dk_dtls_server *s, int mtu)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    dk_err e = dk__session_cfg_check_mtu(__func__, mtu);
    if (e == DK_OK)
        s->cfg.mtu = mtu;
    return e;
}

dk_err dk_dtls_server_set_idle_timeout(dk_dtls_server *s, int ms)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    dk_err e = dk__session_cfg_check_timeout(__func__, ms, true);
    if (e == DK_OK)
        s->cfg.idle_timeout_ms = ms;
    return e;
}

/* Stores a pair of caps after checking them (0: no cap). */
static dk_err set_limits(const char *func, int total, int per_address, uint32_t *total_out,
                         uint32_t *per_address_out)
{
    if (total < 0 || per_address < 0)
        return dk__fail(DK_ERR_INVALID, func, "limits %d and %d: negative (0: no limit)", total,
                        per_address);
    *total_out = (uint32_t)total;
    *per_address_out = (uint32_t)per_address;
    return DK_OK;
}

dk_err dk_dtls_server_set_handshake_limits(dk_dtls_server *s, int total, int per_address)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    return set_limits(__func__, total, per_address, &s->caps.handshakes,
                      &s->caps.handshakes_per_addr);
}

dk_err dk_dtls_server_set_session_limits(dk_dtls_server *s, int total, int per_address)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    return set_limits(__func__, total, per_address, &s->caps.sessions, &s->caps.sessions_per_addr);
}

dk_err dk_dtls_server_set_key_cache(dk_dtls_server *s, int sessions)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (sessions < 0 || sessions > DK__AEAD_CACHE_MAX)
        return DK_FAIL(DK_ERR_INVALID, "key cache of %d sessions: 0 to %d", sessions,
                       DK__AEAD_CACHE_MAX);
    s->key_cache = (unsigned)sessions;
    if (s->ctx) /* sessions made from an older context keep its cache */
        dk__aead_cache_set_cap(&s->ctx->aead_cache, s->key_cache);
    return DK_OK;
}

/* ------------------------------------------------------ session tickets */

/* Ticket settings live in the backend context: sessions taken afterwards
 * get a context rebuilt with them; sessions under way keep theirs. */
static void tickets_changed(dk_dtls_server *s)
{
    dk__ctx_unref(s->ctx);
    s->ctx = NULL;
}

dk_err dk_dtls_server_set_tickets(dk_dtls_server *s, bool enabled)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (enabled && !(dk_backend_caps() & DK_CAP_TICKETS))
        return DK_FAIL(DK_ERR_UNAVAILABLE,
                       "the %s backend cannot seal session tickets with the server's keys",
                       dk_backend_name());
    s->tickets.enabled = enabled;
    s->tickets.chosen = true;
    tickets_changed(s);
    return DK_OK;
}

dk_err dk_dtls_server_set_ticket_secret(dk_dtls_server *s, const void *secret, size_t len)
{
    if (!s || !secret)
        return DK_FAIL(DK_ERR_INVALID, "server or secret is NULL");
    if (len < 16 || len > DK__TICKET_SECRET_MAX)
        return DK_FAIL(DK_ERR_INVALID, "secret of %zu bytes: 16 to %d needed", len,
                       DK__TICKET_SECRET_MAX);
    memcpy(s->tickets.secret, secret, len);
    s->tickets.secret_len = len;
    tickets_changed(s);
    return DK_OK;
}

dk_err dk_dtls_server_set_ticket_rotation(dk_dtls_server *s, int interval_ms)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (interval_ms < 1000)
        return DK_FAIL(DK_ERR_INVALID, "interval of %d ms: 1000 at least", interval_ms);
    s->tickets.interval_ms = interval_ms;
    tickets_changed(s);
    return DK_OK;
}

dk_err dk_dtls_server_set_ticket_lifetime(dk_dtls_server *s, int seconds)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (seconds < 1 || seconds > DK__TICKET_MAX_LIFETIME_S)
        return DK_FAIL(DK_ERR_INVALID, "lifetime of %d s: 1 to %d (RFC 5077: 7 days)", seconds,
                       DK__TICKET_MAX_LIFETIME_S);
    s->tickets.lifetime_s = (unsigned)seconds;
    tickets_changed(s);
    return DK_OK;
}

dk_err dk_dtls_server_set_ipv6_prefix(dk_dtls_server *s, int bits)
{
    if (!s)
        return DK_FAIL(DK_ERR_INVALID, "server is NULL");
    if (bits < 1 || bits > 128)
        return DK_FAIL(DK_ERR_INVALID, "prefix of %d bits: 1 to 128 needed", bits);
    s->caps.ipv6_prefix = bits;
    return DK_OK;
}

int dk_dtls_server_get_timeout_ms(const dk_dtls_server *s)
{
    if (!s)
        return -1;
    uint64_t now = dk__now_ms();
    /* No timer for the cookie secret: it rotates when a ClientHello needs
     * it, so an idle server sleeps. */
    int t = dk__ms_until(dk__sessions_next_deadline(&s->sessions), now);
    if (dk__sessions_waiting(&s->sessions))
        t = 0;
    if (s->attached) {
        int u = dk_udp_server_get_timeout_ms(s->attached);
        if (u >= 0 && (t < 0 || u < t))
            t = u;
    }
    return t;
}

/* Batched datagrams leave once the oldest has waited this long, even in
 * the middle of a poll busy with handshakes. */
#define STALE_US 200

/* Sessions whose timer is handled per call: bounds the work of one poll. */
#define DUE_PER_POLL 256

int dk_dtls_server_poll(dk_dtls_server *s, dk_dtls_peer **ready, int max)
{
    if (!s || (!ready && max > 0) || max < 0)
        return DK_FAIL(DK_ERR_INVALID, "server or ready is NULL, or max is negative");
    dk_udp_server *udp = s->attached;
    if (!udp)
        return DK_FAIL(DK_ERR_STATE, "attach the server to a UDP server first");
    if (udp->fd < 0) /* sessions it ended when it stopped are still reported */
        return dk__sessions_waiting(&s->sessions)
                   ? dk__sessions_hand_over(&s->sessions, ready, max)
                   : DK_FAIL(DK_ERR_STATE, "the UDP server is not listening");
    /* Replies the caller queued since the last call leave first. */
    dk_udp_server_flush(udp);
    dk__udp_server_cork(udp);
    dk_err e = dk__udp_server_drain(udp);
    /* New clients: every pending connection passed the cookie check. Each
     * becomes a session handed to the caller once, handshaking. */
    dk_udp_peer *taken;
    while (s->opts && (taken = dk__udp_server_take_pending(udp))) {
        dk_dtls_peer *p = dk_dtls_server_take_connection(s, taken, NULL);
        if (!p) {
            dk_udp_peer_free(taken);
            continue;
        }
        if (!dk__sessions_server(p)) { /* not a session after all: nothing to hand over */
            dk_dtls_peer_free(p);
            continue;
        }
        dk__sessions_mark_new(p); /* new: report it */
        dk__dtls_peer_touch(p);
        dk__udp_server_flush_stale(udp, STALE_US);
    }
    /* Sessions that received datagrams. */
    dk_udp_peer *u;
    while ((u = dk__udp_server_next_ready(udp))) {
        if (u->owner)
            (void)dk_dtls_peer_poll(u->owner);
        dk__udp_server_flush_stale(udp, STALE_US);
    }
    /* Sessions whose timer is due: collected first, so that each runs once
     * per call whatever its new deadline. */
    dk_dtls_peer *due[DUE_PER_POLL];
    int ndue = dk__sessions_take_due(&s->sessions, dk__now_ms(), due, DUE_PER_POLL);
    for (int i = 0; i < ndue; i++)
        (void)dk_dtls_peer_poll(due[i]);
    /* What this poll produced (handshake flights...) leaves now. */
    dk_udp_server_flush(udp);
    dk__udp_server_uncork(udp);
    if (e != DK_OK)
        return e;
    /* Hand over what needs the caller: packets to read, a new status. */
    return dk__sessions_hand_over(&s->sessions, ready, max);
}

dk_err dk_dtls_server_get_stats(const dk_dtls_server *s, dk_dtls_server_stats *out)
{
    if (!s || !out)
        return DK_FAIL(DK_ERR_INVALID, "server or out is NULL");
    *out = s->stats;
    out->secret_rotations = s->jar.rotations;
    uint32_t hs, sess;
    dk__ledger_totals(s->ledger, &hs, &sess);
    out->handshakes = hs;
    out->sessions = sess;
    return DK_OK;
}
