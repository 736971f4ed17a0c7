/* dk_dtls_peer: one DTLS session and its status machine. The core owns the
 * datagrams, the clock and every timer; the backend session only turns
 * records into bytes and back. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto_internal.h"
#include "dtls_internal.h"
#include "error.h"
#include "library.h"
#include "suites.h"
#include "udp_internal.h"

#define SESS(p) ((p)->bs)

static uint64_t deadline_from(const dk_dtls_peer *p, uint64_t now, int bk);

const char *dk_dtls_status_name(dk_dtls_status status)
{
    switch (status) {
    case DK_DTLS_DISCONNECTED: return "disconnected";
    case DK_DTLS_HANDSHAKING: return "handshaking";
    case DK_DTLS_CONNECTED: return "connected";
    case DK_DTLS_ERROR: return "error";
    case DK_DTLS_ERROR_HOSTNAME_MISMATCH: return "error: hostname mismatch";
    }
    return "unknown";
}

void dk__session_cfg_default(dk__session_cfg *cfg)
{
    cfg->hs_timeout_ms = DK__DEFAULT_HS_TIMEOUT_MS;
    cfg->rto_initial_ms = DK__DEFAULT_RTO_INITIAL_MS;
    cfg->rto_max_ms = DK__DEFAULT_RTO_MAX_MS;
    cfg->mtu = DK__DEFAULT_MTU;
    cfg->idle_timeout_ms = 0;
}

dk_err dk__session_cfg_check_mtu(const char *func, int mtu)
{
    /* 576: the smallest datagram every IPv4 host must accept (RFC 791). */
    if (mtu < 576 || mtu > 65535)
        return dk__fail(DK_ERR_INVALID, func, "MTU %d outside 576..65535", mtu);
    return DK_OK;
}

dk_err dk__session_cfg_check_retransmit(const char *func, int initial_ms, int max_ms)
{
    if (initial_ms < 1 || max_ms < initial_ms || max_ms > 600000)
        return dk__fail(DK_ERR_INVALID, func,
                        "retransmit %d..%d ms: need 1 <= initial <= max <= 600000", initial_ms,
                        max_ms);
    return DK_OK;
}

dk_err dk__session_cfg_check_timeout(const char *func, int ms, bool zero_ok)
{
    if (ms < 0 || (!zero_ok && ms == 0))
        return dk__fail(DK_ERR_INVALID, func, "timeout %d ms must be %s", ms,
                        zero_ok ? "0 (off) or positive" : "positive");
    return DK_OK;
}

dk_dtls_peer *dk__dtls_peer_alloc(const char *func, dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    if (!DK__BK_HAS(session, init)) {
        dk__set_err(err, dk__fail(DK_ERR_UNAVAILABLE, func, "backend '%s' has no DTLS sessions",
                                  DK__BK->name));
        return NULL;
    }
    dk_dtls_peer *p = calloc(1, sizeof *p);
    if (!p) {
        dk__set_err(err, dk__fail(DK_ERR_NOMEM, func, "out of memory"));
        return NULL;
    }
    p->status = DK_DTLS_DISCONNECTED;
    p->cipher = "";
    dk__session_cfg_default(&p->cfg);
    dk__pktq_init(&p->app);
    dk__set_err(err, DK_OK);
    return p;
}

dk_dtls_peer *dk_dtls_peer_new(dk_err *err)
{
    return dk__dtls_peer_alloc(__func__, err);
}

static void set_reason(dk_dtls_peer *p, const char *fmt, va_list ap)
{
    char buf[256];
    vsnprintf(buf, sizeof buf, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    free(p->reason);
    p->reason = strdup(buf);
}

/* Takes the session off its server's ledger (handshake or session count). */
static void uncount(dk_dtls_peer *p)
{
    if (!p->ledger)
        return;
    if (p->udp)
        dk__ledger_remove(p->ledger, dk__udp_peer_remote(p->udp), p->ledger_prefix,
                          (dk__ledger_state)p->ledger_state);
    dk__ledger_unref(p->ledger);
    p->ledger = NULL;
    p->ledger_state = DK__LS_NONE;
}

bool dk__dtls_peer_count(dk_dtls_peer *p, dk__ledger *ledger, int prefix)
{
    if (!dk__ledger_add(ledger, dk__udp_peer_remote(p->udp), prefix))
        return false;
    p->ledger = dk__ledger_ref(ledger);
    p->ledger_state = DK__LS_HANDSHAKE;
    p->ledger_prefix = (uint8_t)prefix;
    return true;
}

/* Frees the library's session (after the hand-off, or when the session
 * ends during its handshake). */
static void release_library(dk_dtls_peer *p)
{
    if (!p->bs)
        return;
    DK__BK->session->fini(p->bs);
    free(p->bs);
    p->bs = NULL;
}

static void drop_flight(dk_dtls_peer *p)
{
    free(p->flight);
    p->flight = NULL;
    p->flight_len = p->flight_cap = 0;
    p->flight_kept = false;
}

/* Releases the backend session and stops receiving. Queued application
 * packets stay readable. */
static void teardown(dk_dtls_peer *p)
{
    uncount(p);
    release_library(p);
    dk__record_clear(&p->rec);
    drop_flight(p);
    p->capture = false;
    dk_cert_free(p->peer_cert);
    p->peer_cert = NULL;
    if (p->udp)
        dk__udp_peer_shutdown(p->udp);
    dk__ctx_unref(p->ctx);
    p->ctx = NULL;
    p->hs_deadline = 0;
}

void dk__dtls_peer_fail(dk_dtls_peer *p, dk_dtls_status status, dk_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_reason(p, fmt, ap);
    va_end(ap);
    p->status = status;
    p->error = err;
    teardown(p);
}

/* Frees everything that belongs to a previous session on this object. */
static void release_all(dk_dtls_peer *p)
{
    teardown(p);
    if (p->udp) {
        dk__pktq_clear(&p->app, p->udp->pool);
        dk_udp_peer_free(p->udp);
        p->udp = NULL;
    }
    free(p->reason);
    p->reason = NULL;
    p->error = DK_OK;
    p->cipher = "";
    p->suite = 0;
    free(p->psk_identity);
    p->psk_identity = NULL;
    p->psk_state = DK__PSK_NONE;
    free(p->server_name);
    p->server_name = NULL;
    dk_dtls_session_free(p->session);
    p->session = NULL;
    p->reused = false;
    p->max_payload = 0;
}

void dk_dtls_peer_free(dk_dtls_peer *p)
{
    if (!p)
        return;
    dk__sessions_remove(p);
    release_all(p);
    dk_dtls_session_free(p->offer);
    free(p);
}

/* ------------------------------------------------------------ tracking */

void dk__dtls_peer_touch(dk_dtls_peer *p)
{
    if (!dk__sessions_server(p))
        return;
    uint64_t now = dk__now_ms();
    dk__sessions_touch(p, now, dk__dtls_peer_deadline(p, now));
}

/* ---------------------------------------------------------------- I/O */

/* Keeps a copy of a datagram of the step that may complete the handshake:
 * if it does, that is the final flight. Best effort: without memory the
 * flight is not kept, and a lost one costs the peer a handshake timeout. */
static void capture(dk_dtls_peer *p, const uint8_t *data, size_t len)
{
    size_t need = (size_t)p->flight_len + 2 + len;
    if (len > 0xFFFF || need > 0xFFFFFFFFu) {
        p->capture = false;
        return;
    }
    if (need > p->flight_cap) {
        size_t cap = need < 512 ? 512 : need * 2;
        uint8_t *f = realloc(p->flight, cap);
        if (!f) {
            p->capture = false;
            return;
        }
        p->flight = f;
        p->flight_cap = (uint32_t)cap;
    }
    p->flight[p->flight_len] = (uint8_t)(len >> 8);
    p->flight[p->flight_len + 1] = (uint8_t)len;
    memcpy(p->flight + p->flight_len + 2, data, len);
    p->flight_len = (uint32_t)need;
}

/* Every datagram the library sends passes here: the core learns the
 * highest epoch-1 sequence number the library used (the record layer
 * continues after it) from the records' clear headers. A send the socket
 * refuses is a lost datagram: the library's retransmission covers it. */
static void io_send(void *user, const uint8_t *data, size_t len)
{
    dk_dtls_peer *p = user;
    bool epoch1 = false;
    for (size_t off = 0, at = 0; dk__rec_next(data, len, &off); at = off) {
        const uint8_t *r = data + at;
        if (!dk__rec_epoch1(r))
            continue;
        uint64_t seq = 0;
        for (int i = 5; i < 11; i++)
            seq = seq << 8 | r[i];
        if (!p->sent_epoch1 || seq > p->sent_seq1)
            p->sent_seq1 = seq;
        p->sent_epoch1 = epoch1 = true;
    }
    if (p->capture) {
        capture(p, data, len);
        p->flight_final |= epoch1; /* our Finished is in the flight */
    }
    (void)dk__udp_peer_send(p->udp, data, len, NULL);
}

static uint64_t io_now(void *user)
{
    (void)user;
    return dk__now_ms();
}

/* A PSK identity the application may see: RFC 4279 section 5.1 makes it
 * UTF-8 text; the core passes on 1..128 bytes without NUL or controls. */
static bool identity_ok(const uint8_t *id, size_t len)
{
    if (len == 0 || len > DK_PSK_IDENTITY_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (id[i] < 0x20 || id[i] == 0x7f)
            return false;
    return true;
}

/* Server sessions: the library asks for the key of the identity a client
 * sent. The identity is kept for the reason of a failure and for
 * dk_dtls_peer_get_psk_identity(). */
static size_t io_psk_key(void *user, const uint8_t *identity, size_t identity_len, uint8_t *key,
                         size_t key_cap)
{
    dk_dtls_peer *p = user;
    if (!p->ctx || !p->ctx->psk_lookup || !key || key_cap == 0)
        return 0;
    free(p->psk_identity);
    p->psk_identity = NULL;
    p->psk_state = DK__PSK_BAD_IDENTITY;
    if (!identity_ok(identity, identity_len))
        return 0;
    p->psk_identity = malloc(identity_len + 1);
    if (!p->psk_identity)
        return 0;
    memcpy(p->psk_identity, identity, identity_len);
    p->psk_identity[identity_len] = '\0';
    if (key_cap > DK_PSK_KEY_MAX)
        key_cap = DK_PSK_KEY_MAX;
    uint8_t k[DK_PSK_KEY_MAX];
    size_t n = p->ctx->psk_lookup(p->ctx->psk_user, p->psk_identity, k, key_cap);
    if (n == 0 || n > key_cap) {
        explicit_bzero(k, sizeof k);
        p->psk_state = n ? DK__PSK_KEY_TOO_LONG : DK__PSK_UNKNOWN;
        return 0;
    }
    memcpy(key, k, n);
    explicit_bzero(k, sizeof k);
    p->psk_state = DK__PSK_FOUND;
    return n;
}

/* IP and UDP header bytes on this peer's path. */
static unsigned header_overhead(const dk_udp_peer *udp)
{
    dk__addr v4;
    const dk__addr *r = dk__udp_peer_remote(udp);
    if (r->u.sa.sa_family == AF_INET || dk__addr_for_family(r, AF_INET, &v4))
        return 20 + 8;
    return 40 + 8;
}

static unsigned mtu_payload(const dk_dtls_peer *p)
{
    return (unsigned)p->cfg.mtu - header_overhead(p->udp);
}

/* The largest plaintext one record carries in one datagram: exact once the
 * suite is known, before that the largest overhead of any suite. */
static int estimate_payload(const dk_dtls_peer *p)
{
    size_t over = p->rec.suite ? dk__record_overhead(&p->rec) : DK__REC_MAX_OVERHEAD;
    int n = (int)mtu_payload(p) - (int)over;
    return n > DK__REC_PLAIN_MAX ? DK__REC_PLAIN_MAX : n;
}

dk_err dk__dtls_peer_start(dk_dtls_peer *p, const char *func, dk_udp_peer *udp, dk__ctx *ctx,
                           const dk__session_cfg *cfg, const dk_bk_session_params *params_in)
{
    p->udp = udp;
    p->ctx = dk__ctx_ref(ctx);
    p->cfg = *cfg;
    dk_bk_session_params params = *params_in;
    params.io.user = p;
    params.io.send = io_send;
    params.io.now_ms = io_now;
    params.io.psk_key = ctx->psk_lookup ? io_psk_key : NULL;
    params.mtu_payload = mtu_payload(p);
    params.rto_initial_ms = (unsigned)cfg->rto_initial_ms;
    params.rto_max_ms = (unsigned)cfg->rto_max_ms;
    char reason[DK__REASON_CAP] = "";
    p->bs = calloc(1, DK__BK->session->session_size);
    dk_err e = p->bs ? DK__BK->session->init(p->bs, ctx->bk, &params, reason, sizeof reason)
                     : DK_ERR_NOMEM;
    if (e != DK_OK) {
        /* The caller decides what becomes of `udp`. */
        free(p->bs);
        p->bs = NULL;
        dk__ctx_unref(p->ctx);
        p->ctx = NULL;
        p->status = DK_DTLS_ERROR;
        p->error = e;
        free(p->reason);
        p->reason = strdup(reason[0] ? reason : dk_strerror(e));
        return dk__fail(e, func, "cannot start the session: %s",
                        reason[0] ? reason : dk_strerror(e));
    }
    memset(&p->gate, 0, sizeof p->gate);
    p->sent_epoch1 = false;
    p->rec_rejected = p->rec_replayed = p->flight_resent = 0;
    p->status = DK_DTLS_HANDSHAKING;
    uint64_t now = dk__now_ms();
    p->hs_deadline = now + (uint64_t)cfg->hs_timeout_ms;
    p->last_rx = now;
    p->max_payload = estimate_payload(p);
    return DK_OK;
}

/* ------------------------------------------------------------- status */

static void handshake_failed(dk_dtls_peer *p, dk_err e, const char *reason)
{
    const char *why = reason[0] ? reason : dk_strerror(e);
    switch (p->psk_state) {
    case DK__PSK_UNKNOWN:
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_HANDSHAKE,
                           "unknown PSK identity \"%s\": the lookup has no key for it",
                           p->psk_identity ? p->psk_identity : "");
        return;
    case DK__PSK_BAD_IDENTITY:
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_HANDSHAKE,
                           "PSK identity refused: empty, over %d bytes, or not text",
                           DK_PSK_IDENTITY_MAX);
        return;
    case DK__PSK_KEY_TOO_LONG:
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_HANDSHAKE,
                           "the PSK lookup returned a key longer than the library takes (%zu "
                           "bytes at most) for identity \"%s\"",
                           dk__psk_key_max(), p->psk_identity ? p->psk_identity : "");
        return;
    case DK__PSK_FOUND:
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, e,
                           "handshake failed after the key for PSK identity \"%s\" was found "
                           "(a different pre-shared key?): %s",
                           p->psk_identity ? p->psk_identity : "", why);
        return;
    default: break;
    }
    switch (e) {
    case DK_ERR_HOSTNAME:
        dk__dtls_peer_fail(p, DK_DTLS_ERROR_HOSTNAME_MISMATCH, e, "hostname mismatch: %s", why);
        break;
    case DK_ERR_CERT_VERIFY:
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, e, "certificate verify failed: %s", why);
        break;
    case DK_ERR_CLOSED:
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_HANDSHAKE, "peer closed during the handshake");
        break;
    default: dk__dtls_peer_fail(p, DK_DTLS_ERROR, e, "handshake failed: %s", why); break;
    }
}

/* ------------------------------------------------- core record layer */

static const char *alert_name(uint8_t desc)
{
    switch (desc) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 110: return "unsupported_extension";
    default: return "unknown alert";
    }
}

/* Seals one record and sends it. A datagram the socket refuses is lost, as
 * on any network; its sequence number is spent all the same. */
static dk_err send_record(dk_dtls_peer *p, uint8_t type, const uint8_t *data, size_t len)
{
    dk__pkt *out = dk__pool_get(p->udp->pool, len + DK__REC_MAX_OVERHEAD);
    if (!out)
        return DK_ERR_NOMEM;
    size_t n = 0;
    dk_err e = dk__record_seal(&p->rec, type, data, len, out->data, &n);
    if (e == DK_OK)
        (void)dk__udp_peer_send(p->udp, out->data, n, NULL);
    dk__pool_put(p->udp->pool, out);
    return e;
}

static void send_alert(dk_dtls_peer *p, uint8_t level, uint8_t desc)
{
    const uint8_t alert[2] = {level, desc};
    if (p->rec.suite && p->udp)
        (void)send_record(p, DK__CT_ALERT, alert, sizeof alert);
}

static void resend_flight(dk_dtls_peer *p)
{
    for (uint32_t off = 0; p->flight_len - off >= 2;) {
        size_t n = (size_t)p->flight[off] << 8 | p->flight[off + 1];
        (void)dk__udp_peer_send(p->udp, p->flight + off + 2, n, NULL);
        off += 2 + (uint32_t)n;
    }
    p->flight_resent++;
}

/* The peer sent an authenticated record that only a peer holding our
 * final flight sends: the flight is no longer needed. */
static void flight_delivered(dk_dtls_peer *p)
{
    if (!p->flight_kept)
        return;
    drop_flight(p);
    p->hs_deadline = 0;
}

static void closed_by_peer(dk_dtls_peer *p)
{
    /* Answer close_notify with ours (RFC 5246 7.2.1), then stop. */
    send_alert(p, 1, 0);
    dk__dtls_peer_fail(p, DK_DTLS_DISCONNECTED, DK_ERR_CLOSED, "close_notify received");
}

/* One authenticated record: `pt` holds its `n` bytes of plaintext. Returns
 * true when the buffer went into the application queue. */
static bool on_record(dk_dtls_peer *p, uint8_t type, dk__pkt *pt, size_t n, bool *resent)
{
    dk_udp_peer *u = p->udp;
    switch (type) {
    case DK__CT_APP_DATA:
        flight_delivered(p);
        if (p->app.count >= u->q_max_packets || p->app.bytes + n > u->q_max_bytes) {
            u->st.dropped_queue_full++;
            return false;
        }
        pt->len = (uint32_t)n;
        dk__pktq_push(&p->app, pt);
        return true;
    case DK__CT_ALERT:
        flight_delivered(p);
        if (n != 2)
            return false; /* not an alert: ignored */
        if (pt->data[1] == 0)
            closed_by_peer(p);
        else if (pt->data[0] == 2)
            dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_CLOSED, "fatal alert received: %s (%u)",
                               alert_name(pt->data[1]), pt->data[1]);
        return false; /* warnings change nothing */
    case DK__CT_HANDSHAKE:
        /* The peer's Finished again: it missed our final flight. */
        if (p->flight_kept) {
            if (!*resent)
                resend_flight(p);
            *resent = true;
        }
        /* Otherwise a ClientHello (HelloRequest) is renegotiation, which
         * these sessions never do. It is ignored, not declined: OpenSSL
         * ends the session on a no_renegotiation warning (handshake_failure)
         * while ignored, it gives up renegotiating and the session goes on. */
        return false;
    default: return false;
    }
}

/* Opens the records of a datagram that passed the gate with the core's
 * keys. Returns true when one of them authenticated. */
static bool core_records(dk_dtls_peer *p, const uint8_t *d, size_t len)
{
    dk_udp_peer *u = p->udp;
    dk__pkt *pkt = NULL; /* reused until a record goes into the queue */
    bool auth = false, resent = false;
    size_t rl;
    for (size_t off = 0, at = 0;
         p->status == DK_DTLS_CONNECTED && (rl = dk__rec_next(d, len, &off)); at = off) {
        const uint8_t *r = d + at;
        /* Epoch 0 after the hand-off is the peer's handshake retransmission;
         * its epoch-1 Finished says the same with authentication. */
        if (!dk__rec_epoch1(r))
            continue;
        if (!pkt && !(pkt = dk__pool_get(u->pool, rl))) {
            u->st.dropped_queue_full++;
            break;
        }
        size_t n = 0;
        switch (dk__record_open(&p->rec, r, rl, pkt->data, &n)) {
        case DK__OPEN_OK:
            auth = true;
            if (on_record(p, r[0], pkt, n, &resent))
                pkt = NULL;
            break;
        case DK__OPEN_REPLAY: p->rec_replayed++; break;
        case DK__OPEN_BAD: p->rec_rejected++; break; /* RFC 6347 4.1.2.7: silently */
        case DK__OPEN_NOMEM: u->st.dropped_queue_full++; break;
        }
    }
    if (pkt)
        dk__pool_put(u->pool, pkt);
    return auth;
}

/* ------------------------------------------------------------ hand-off */

/* Test hook (tests set it): at each hand-off, a record the core seals as
 * the peer would is fed to the library, which must read it back. */
bool dk__handoff_selftest;
bool dk__handoff_corrupt;
dk__handoff_counters dk__handoff_stats;

static void selftest(dk_dtls_peer *p, size_t cap)
{
    static const char msg[] = "dtlskit hand-off self-test";
    uint8_t rec[DK__REC_HDR + 8 + sizeof msg + 16], back[256];
    size_t n = 0, got = 0;
    char reason[DK__REASON_CAP];
    /* The record is read by the library and discarded, never sent, so its
     * nonce never appears on the wire. 2^33 - 1: wolfSSL 5.5.4 silently
     * drops records further ahead of its window. */
    bool ok = dk__record_seal_as_peer(&p->rec, DK__CT_APP_DATA, 0x1FFFFFFFFull,
                                      (const uint8_t *)msg, sizeof msg, rec, &n) == DK_OK;
    if (ok) {
        DK__BK->session->feed(p->bs, rec, n);
        ok = DK__BK->session->read(p->bs, back, cap < sizeof back ? cap : sizeof back, &got, reason,
                                   sizeof reason) == DK_OK &&
             got == sizeof msg && memcmp(back, msg, sizeof msg) == 0;
    }
    atomic_fetch_add(ok ? &dk__handoff_stats.selftest_ok : &dk__handoff_stats.selftest_failed, 1);
}

/* The library finished the handshake on the datagram `d` (`len` bytes fed):
 * take the session over. The library's epoch-1 record in it (the peer's
 * Finished, which the library authenticated) must open under the keys the
 * core derived: a check of the whole derivation, on every hand-off. */
static dk_err handoff(dk_dtls_peer *p, const uint8_t *d, size_t len, char *why, size_t why_cap)
{
    dk_bk_secrets sec;
    memset(&sec, 0, sizeof sec);
    dk_err e = DK__BK_HAS(session, export_secrets) ? DK__BK->session->export_secrets(p->bs, &sec)
                                                   : DK_ERR_UNAVAILABLE;
    if (e == DK_OK) {
        bool server = p->ctx->role == DK_BK_SERVER;
        if (dk__handoff_corrupt)
            sec.master_secret[0] ^= 1;
        e = dk__record_init(&p->rec, server ? &p->ctx->aead_cache : NULL, server, &sec,
                            p->sent_epoch1 ? p->sent_seq1 + 1 : 0);
        if (e == DK_ERR_UNAVAILABLE)
            snprintf(why, why_cap, "suite 0x%04X cannot be protected by the core", sec.suite);
    } else {
        snprintf(why, why_cap, "the library did not export the session's secrets");
    }
    explicit_bzero(&sec, sizeof sec);
    if (e != DK_OK)
        return e;
    size_t checked = 0;
    size_t rl;
    for (size_t off = 0, at = 0; (rl = dk__rec_next(d, len, &off)); at = off) {
        const uint8_t *r = d + at;
        if (!dk__rec_epoch1(r) || rl > 512)
            continue;
        uint8_t plain[512];
        size_t n;
        if (dk__record_open(&p->rec, r, rl, plain, &n) != DK__OPEN_OK) {
            snprintf(why, why_cap, "the peer's Finished does not open with the derived keys");
            return DK_ERR_INTERNAL;
        }
        checked++;
    }
    atomic_fetch_add(
        checked ? &dk__handoff_stats.finished_checked : &dk__handoff_stats.finished_unseen, 1);
    if (dk__handoff_selftest)
        selftest(p, len + 1);
    return DK_OK;
}

/* session_ops.peer_chain's sink: one certificate of the peer's chain. */
static dk_err peer_cert_sink(void *user, const uint8_t *der, size_t len)
{
    char reason[DK__REASON_CAP];
    return dk__cert_push_der(user, der, len, reason, sizeof reason);
}

/* Application records the library read ahead with the Finished. */
static bool drain_library(dk_dtls_peer *p, size_t datagram_len)
{
    dk_udp_peer *u = p->udp;
    bool auth = false;
    for (int i = 0; i < DK__GATE_DGRAM_RECORDS; i++) {
        dk__pkt *pkt = dk__pool_get(u->pool, datagram_len + 1);
        size_t n = 0;
        char reason[DK__REASON_CAP];
        if (!pkt)
            break;
        if (DK__BK->session->read(p->bs, pkt->data, datagram_len + 1, &n, reason, sizeof reason) !=
            DK_OK) {
            dk__pool_put(u->pool, pkt);
            break;
        }
        auth = true;
        bool resent = false;
        if (!on_record(p, DK__CT_APP_DATA, pkt, n, &resent))
            dk__pool_put(u->pool, pkt);
    }
    return auth;
}

/* The handshake completed on a datagram of `len` bytes (`fed` of them given
 * to the library): hand the session over to the core and free the
 * library's state. */
static void connected(dk_dtls_peer *p, const uint8_t *d, size_t fed, size_t len)
{
    char why[DK__REASON_CAP] = "";
    dk_err e = handoff(p, d, fed, why, sizeof why);
    if (e != DK_OK) {
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, e, "cannot take over the session: %s",
                           why[0] ? why : dk_strerror(e));
        return;
    }
    p->status = DK_DTLS_CONNECTED;
    if (p->ledger && p->ledger_state == DK__LS_HANDSHAKE) {
        dk__ledger_promote(p->ledger, dk__udp_peer_remote(p->udp), p->ledger_prefix);
        p->ledger_state = DK__LS_SESSION;
    }
    (void)drain_library(p, len);
    p->cipher = DK__BK_HAS(session, cipher) ? DK__BK->session->cipher(p->bs) : "";
    p->suite = p->rec.suite->id;
    p->reused = DK__BK_HAS(session, session_reused) && DK__BK->session->session_reused(p->bs);
    if (p->ctx->role == DK_BK_CLIENT && DK__BK_HAS(session, save_session)) {
        uint8_t *b = NULL;
        size_t n = 0;
        if (DK__BK->session->save_session(p->bs, &b, &n) == DK_OK && b && n)
            p->session = dk__session_new(p->server_name, b, n); /* NULL: not resumable */
        if (b) {
            explicit_bzero(b, n);
            free(b);
        }
    }
    if (!dk__suite_is_psk(p->suite)) {
        free(p->psk_identity); /* a PSK lookup of a handshake that chose otherwise */
        p->psk_identity = NULL;
        p->psk_state = DK__PSK_NONE;
    } else if (p->ctx->role == DK_BK_CLIENT) {
        free(p->psk_identity);
        p->psk_identity = p->ctx->psk_identity ? strdup(p->ctx->psk_identity) : NULL;
        p->psk_state = DK__PSK_USED;
    } else {
        p->psk_state = DK__PSK_USED;
    }
    /* Only a client, or a server that asked for one, can be asked for the
     * peer's certificate: a plain server session keeps none. */
    if ((p->ctx->role == DK_BK_CLIENT || p->ctx->verify_peer) && DK__BK_HAS(session, peer_chain)) {
        dk_cert *c = dk__cert_new();
        if (c && DK__BK->session->peer_chain(p->bs, peer_cert_sink, c) == DK_OK && c->n)
            p->peer_cert = c;
        else
            dk_cert_free(c); /* none, or out of memory: no chain rather than part of one */
    }
    release_library(p);
    /* What this side sent in the completing step is the final flight when
     * it holds our Finished (epoch 1): kept to answer a retransmission. */
    p->capture = false;
    if (p->flight_final) {
        p->flight_kept = true; /* until the handshake's deadline at most */
        uint8_t *fit = realloc(p->flight, p->flight_len);
        if (fit) {
            p->flight = fit;
            p->flight_cap = p->flight_len;
        }
    } else {
        drop_flight(p);
        p->hs_deadline = 0;
    }
    p->max_payload = estimate_payload(p);
}

/* Gives one datagram to the library, through the gate, or opens it with the
 * core's record layer once the session was handed over. Returns true when
 * something in it authenticated (a record opened, or the handshake
 * completed): only that counts as activity for the idle timer. */
static bool process_datagram(dk_dtls_peer *p, const dk__pkt *pkt)
{
    /* An epoch-0 ClientHello on a connected server session is the client
     * starting over (or a duplicate): the server's cookie policy decides,
     * never the library. */
    dk_dtls_server *tracker = dk__sessions_server(p);
    if (p->status == DK_DTLS_CONNECTED && tracker && pkt->len > DK__REC_HDR &&
        pkt->data[0] == DK__CT_HANDSHAKE && pkt->data[3] == 0 && pkt->data[4] == 0 &&
        dk__dtls_server_rehello(tracker, p, pkt->data, pkt->len))
        return false;
    size_t n = dk__gate_filter(&p->gate, p->status == DK_DTLS_CONNECTED, pkt->data, pkt->len);
    if (n == 0)
        return false; /* empty, malformed or out of place: never reaches the library */
    if (p->status == DK_DTLS_CONNECTED)
        return core_records(p, pkt->data, n);
    DK__BK->session->feed(p->bs, pkt->data, n);
    char reason[DK__REASON_CAP];
    reason[0] = '\0';
    p->capture = true;
    p->flight_final = false;
    p->flight_len = 0;
    dk_err e = DK__BK->session->handshake(p->bs, reason, sizeof reason);
    if (e != DK_OK) {
        p->capture = false;
        drop_flight(p);
        if (e != DK_ERR_WOULD_BLOCK)
            handshake_failed(p, e, reason);
        return false;
    }
    connected(p, pkt->data, n, pkt->len);
    if (p->status != DK_DTLS_CONNECTED)
        return false;
    /* Records after the Finished (application data sent with it) were kept
     * from the library by the gate: the core opens them now. */
    size_t rest = pkt->len - n;
    if (rest)
        rest = dk__gate_filter(&p->gate, true, pkt->data + n, rest);
    if (rest)
        (void)core_records(p, pkt->data + n, rest);
    return true;
}

/* DTLS drops a record that does not authenticate, silently (RFC 6347
 * 4.1.2.7), and so do the libraries with a Finished sealed under another
 * pre-shared key: both sides wait until the handshake times out. The core
 * knows enough to name the likely cause. */
static void hs_timeout(dk_dtls_peer *p)
{
    bool server = p->ctx && p->ctx->role == DK_BK_SERVER;
    if (server && p->psk_state == DK__PSK_FOUND && p->gate.peer_ccs)
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_TIMEOUT,
                           "handshake timeout after %d ms: the client's Finished never "
                           "verified, a different pre-shared key for identity \"%s\"?",
                           p->cfg.hs_timeout_ms, p->psk_identity ? p->psk_identity : "");
    else if (!server && p->ctx && p->ctx->psk_identity && p->sent_epoch1)
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_TIMEOUT,
                           "handshake timeout after %d ms: the server never answered our "
                           "Finished, a different pre-shared key for identity \"%s\"?",
                           p->cfg.hs_timeout_ms, p->ctx->psk_identity);
    else
        dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_TIMEOUT, "handshake timeout after %d ms",
                           p->cfg.hs_timeout_ms);
}

/* Runs what is due and returns the library's timer (ms, -1: none), so
 * that the caller need not ask the backend again. */
static int run_timers(dk_dtls_peer *p, uint64_t now)
{
    if (p->status == DK_DTLS_HANDSHAKING && now >= p->hs_deadline) {
        hs_timeout(p);
        return -1;
    }
    if (p->status == DK_DTLS_CONNECTED && p->flight_kept && now >= p->hs_deadline)
        flight_delivered(p); /* or never will be: stop keeping it */
    if (p->status != DK_DTLS_HANDSHAKING && p->status != DK_DTLS_CONNECTED)
        return -1;
    int bk = -1;
    if (p->bs) {
        bk = DK__BK->session->timeout_ms(p->bs);
        if (bk == 0) {
            char reason[DK__REASON_CAP] = "";
            dk_err e = DK__BK->session->handle_timeout(p->bs, reason, sizeof reason);
            if (e != DK_OK) {
                handshake_failed(p, e, reason);
                return -1;
            }
            bk = DK__BK->session->timeout_ms(p->bs);
        }
    }
    if (p->status == DK_DTLS_CONNECTED && p->cfg.idle_timeout_ms > 0 &&
        now - p->last_rx >= (uint64_t)p->cfg.idle_timeout_ms) {
        send_alert(p, 1, 0);
        dk__dtls_peer_fail(p, DK_DTLS_DISCONNECTED, DK_ERR_TIMEOUT,
                           "idle timeout: nothing received for %d ms", p->cfg.idle_timeout_ms);
        return -1;
    }
    return bk;
}

/* The kernel reported an ICMP error for a client's socket. Before anything
 * came back from the server it means nothing listens there: waiting for the
 * handshake timeout would only hide that. Later it may be forged (ICMP is
 * not authenticated) and is ignored. Returns true when the session ended. */
static bool unreachable(dk_dtls_peer *p)
{
    int sys = p->udp->unreachable;
    p->udp->unreachable = 0;
    if (p->status != DK_DTLS_HANDSHAKING || p->gate.records || p->udp->queue.head)
        return false;
    char ip[INET6_ADDRSTRLEN];
    dk__addr_ip_string(dk__udp_peer_remote(p->udp), ip, sizeof ip);
    dk__dtls_peer_fail(p, DK_DTLS_ERROR, DK_ERR_SOCKET, "%s: nothing answers at %s port %d",
                       sys == ECONNREFUSED ? "connection refused (ICMP port unreachable)"
                                           : strerror(sys),
                       ip, dk__addr_port(dk__udp_peer_remote(p->udp)));
    return true;
}

bool dk__dtls_peer_transport_lost(dk_dtls_peer *p)
{
    if (!p->udp || p->udp->kind != DK__PEER_DETACHED)
        return false;
    dk__dtls_peer_fail(p, DK_DTLS_DISCONNECTED, DK_ERR_CLOSED, "the UDP server was stopped");
    dk__dtls_peer_touch(p); /* a tracked session reports its end */
    return true;
}

dk_err dk_dtls_peer_poll(dk_dtls_peer *p)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    if (p->status != DK_DTLS_HANDSHAKING && p->status != DK_DTLS_CONNECTED)
        return p->error;
    if (dk__dtls_peer_transport_lost(p))
        return p->error;
    (void)dk__udp_peer_fill(p->udp);
    if (p->udp->unreachable && unreachable(p))
        return p->error;
    dk__pkt *pkt;
    bool auth = false;
    while ((p->status == DK_DTLS_HANDSHAKING || p->status == DK_DTLS_CONNECTED) &&
           (pkt = dk__udp_peer_pop(p->udp))) {
        auth |= process_datagram(p, pkt);
        dk__udp_peer_release(p->udp, pkt);
    }
    uint64_t now = dk__now_ms();
    if (auth)
        p->last_rx = now;
    int bk = run_timers(p, now);
    if (dk__sessions_server(p))
        dk__sessions_touch(p, now, deadline_from(p, now, bk));
    return p->status == DK_DTLS_HANDSHAKING || p->status == DK_DTLS_CONNECTED ? DK_OK : p->error;
}

/* ------------------------------------------------------------- client */

dk_err dk_dtls_peer_connect_to_peer(dk_dtls_peer *p, dk_udp_peer *udp, const char *hostname,
                                    const dk_tls_options *opts)
{
    if (!p || !udp)
        return DK_FAIL(DK_ERR_INVALID, "peer or udp_peer is NULL");
    if (p->status == DK_DTLS_HANDSHAKING || p->status == DK_DTLS_CONNECTED)
        return DK_FAIL(DK_ERR_STATE, "session already %s", dk_dtls_status_name(p->status));
    if (udp == p->udp || udp->claimed)
        return DK_FAIL(DK_ERR_INVALID, "udp_peer already belongs to a DTLS session");
    if (udp->kind != DK__PEER_STANDALONE || !udp->connected)
        return DK_FAIL(DK_ERR_INVALID, "udp_peer must be a standalone peer connected with "
                                       "dk_udp_peer_connect_to_host()");
    if (opts && opts->server)
        return DK_FAIL(DK_ERR_INVALID, "these are server options; use dk_tls_options_client()");
    /* A PSK client authenticates the server by the key, not a certificate. */
    bool verify = !opts || (!opts->unsafe && !opts->psk_identity);
    const char *name = opts && opts->cn_override ? opts->cn_override : hostname;
    if (verify && (!name || !*name))
        return DK_FAIL(DK_ERR_INVALID, "a host name is needed to verify the server "
                                       "(or use dk_tls_options_client_unsafe())");
    dk__session_cfg cfg = p->cfg;
    release_all(p);
    dk_err err;
    dk__ctx *ctx = dk__ctx_for_client(__func__, opts, &err);
    if (!ctx)
        return err;
    dk__addr ip;
    bool is_ip = hostname && dk__addr_parse(hostname, 0, &ip) == DK_OK;
    dk_bk_session_params params = {
        .role = DK_BK_CLIENT,
        .sni = hostname && *hostname && !is_ip ? hostname : NULL,
        .verify_name = verify ? name : NULL,
    };
    p->server_name = strdup(hostname ? hostname : "");
    if (!p->server_name) {
        dk__ctx_unref(ctx);
        return DK_FAIL(DK_ERR_NOMEM, "out of memory");
    }
    /* A session is offered only to the server name it came from. */
    dk_dtls_session *offer = p->offer;
    p->offer = NULL;
    if (offer && strcmp(offer->server_name, p->server_name) == 0) {
        params.resume = offer->data;
        params.resume_len = offer->len;
    }
    err = dk__dtls_peer_start(p, __func__, udp, ctx, &cfg, &params);
    dk_dtls_session_free(offer);
    dk__ctx_unref(ctx);
    if (err != DK_OK) {
        p->udp = NULL; /* ownership stays with the caller on failure */
        return err;
    }
    udp->claimed = true;
    /* The first flight (ClientHello) goes out now. */
    char reason[DK__REASON_CAP] = "";
    dk_err e = DK__BK->session->handshake(SESS(p), reason, sizeof reason);
    if (e != DK_ERR_WOULD_BLOCK && e != DK_OK)
        handshake_failed(p, e, reason);
    return DK_OK;
}

/* ---------------------------------------------------------------- data */

dk_err dk_dtls_peer_put_packet(dk_dtls_peer *p, const void *data, size_t len)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    if (!data && len)
        return DK_FAIL(DK_ERR_INVALID, "data is NULL");
    if (p->status == DK_DTLS_CONNECTED && dk__dtls_peer_transport_lost(p))
        return DK_FAIL(DK_ERR_CLOSED, "the UDP server was stopped");
    if (p->status != DK_DTLS_CONNECTED)
        return DK_FAIL(DK_ERR_STATE, "session is %s, not connected",
                       dk_dtls_status_name(p->status));
    if (len > (size_t)p->max_payload)
        return DK_FAIL(DK_ERR_TOO_BIG,
                       "%zu bytes: a record within the %d-byte MTU carries at most %d", len,
                       p->cfg.mtu, p->max_payload);
    dk_err e = send_record(p, DK__CT_APP_DATA, data, len);
    if (e == DK_ERR_CLOSED)
        return DK_FAIL(e, "2^48 records sent: DTLS 1.2 cannot rekey; start a new session");
    if (e != DK_OK)
        return DK_FAIL(e, "cannot seal the record: %s", dk_strerror(e));
    return DK_OK;
}

dk_err dk_dtls_peer_get_packet(dk_dtls_peer *p, void *buf, size_t cap, size_t *out_len)
{
    if (!p || !out_len)
        return DK_FAIL(DK_ERR_INVALID, "peer or out_len is NULL");
    if (!buf && cap)
        return DK_FAIL(DK_ERR_INVALID, "buf is NULL");
    dk__pkt *head = p->app.head;
    if (!head) {
        *out_len = 0;
        if (p->status == DK_DTLS_CONNECTED)
            return DK_ERR_WOULD_BLOCK;
        return DK_FAIL(DK_ERR_STATE, "session is %s and nothing is queued",
                       dk_dtls_status_name(p->status));
    }
    if (head->len > cap) {
        *out_len = head->len;
        return DK_FAIL(DK_ERR_BUFFER_TOO_SMALL, "next packet has %u bytes, buffer holds %zu",
                       head->len, cap);
    }
    dk__pkt *pkt = dk__pktq_pop(&p->app);
    if (pkt->len && buf) /* len <= cap, so buf is set when len is not 0 */
        memcpy(buf, pkt->data, pkt->len);
    *out_len = pkt->len;
    dk__pool_put(p->udp->pool, pkt);
    return DK_OK;
}

int dk_dtls_peer_get_available_packet_count(const dk_dtls_peer *p)
{
    return p ? (int)p->app.count : 0;
}

void dk_dtls_peer_disconnect_from_peer(dk_dtls_peer *p)
{
    if (!p)
        return;
    if (p->status == DK_DTLS_CONNECTED)
        send_alert(p, 1, 0);
    if (p->status == DK_DTLS_HANDSHAKING || p->status == DK_DTLS_CONNECTED) {
        teardown(p);
        p->status = DK_DTLS_DISCONNECTED;
        p->error = DK_OK;
        dk__sessions_mark_reported(p); /* the caller knows */
        dk__dtls_peer_touch(p);
    }
}

/* -------------------------------------------------------------- queries */

dk_dtls_status dk_dtls_peer_get_status(const dk_dtls_peer *p)
{
    return p ? p->status : DK_DTLS_DISCONNECTED;
}

/* The next deadline from the library's timer `bk` (ms, -1: none). */
static uint64_t deadline_from(const dk_dtls_peer *p, uint64_t now, int bk)
{
    if (p->status != DK_DTLS_HANDSHAKING && p->status != DK_DTLS_CONNECTED)
        return 0;
    uint64_t deadline = p->hs_deadline;
    if (bk >= 0)
        deadline = dk__deadline_min(deadline, now + (uint64_t)bk);
    if (p->status == DK_DTLS_CONNECTED && p->cfg.idle_timeout_ms > 0)
        deadline = dk__deadline_min(deadline, p->last_rx + (uint64_t)p->cfg.idle_timeout_ms);
    return deadline;
}

uint64_t dk__dtls_peer_deadline(const dk_dtls_peer *p, uint64_t now)
{
    if (p->status != DK_DTLS_HANDSHAKING && p->status != DK_DTLS_CONNECTED)
        return 0;
    return deadline_from(p, now, p->bs ? DK__BK->session->timeout_ms(p->bs) : -1);
}

int dk_dtls_peer_get_timeout_ms(const dk_dtls_peer *p)
{
    if (!p)
        return -1;
    uint64_t now = dk__now_ms();
    return dk__ms_until(dk__dtls_peer_deadline(p, now), now);
}

int dk_dtls_peer_get_fd(const dk_dtls_peer *p)
{
    return p && p->udp ? dk_udp_peer_get_fd(p->udp) : -1;
}

dk_err dk_dtls_peer_get_error(const dk_dtls_peer *p)
{
    return p ? p->error : DK_ERR_INVALID;
}

const char *dk_dtls_peer_get_error_reason(const dk_dtls_peer *p)
{
    return p && p->reason ? p->reason : "";
}

int dk_dtls_peer_get_max_packet_size(const dk_dtls_peer *p)
{
    if (!p)
        return 0;
    if (p->max_payload)
        return p->max_payload;
    /* Not started: assume an IPv6 path and the largest overhead. */
    return p->cfg.mtu - (40 + 8) - DK__REC_MAX_OVERHEAD;
}

void dk_dtls_peer_set_user_data(dk_dtls_peer *p, void *data)
{
    if (p)
        p->user_data = data;
}

void *dk_dtls_peer_get_user_data(const dk_dtls_peer *p)
{
    return p ? p->user_data : NULL;
}

dk_udp_peer *dk_dtls_peer_get_udp_peer(const dk_dtls_peer *p)
{
    return p ? p->udp : NULL;
}

dk_err dk_dtls_peer_get_stats(const dk_dtls_peer *p, dk_dtls_peer_stats *out)
{
    if (!p || !out)
        return DK_FAIL(DK_ERR_INVALID, "peer or out is NULL");
    memset(out, 0, sizeof *out);
    out->datagrams_refused = p->gate.dropped;
    out->datagrams_trimmed = p->gate.trimmed;
    out->records_rejected = p->rec_rejected;
    out->records_replayed = p->rec_replayed;
    out->final_flight_resent = p->flight_resent;
    return DK_OK;
}

const char *dk_dtls_peer_get_cipher(const dk_dtls_peer *p)
{
    return p && p->cipher ? p->cipher : "";
}

bool dk_dtls_peer_is_session_reused(const dk_dtls_peer *p)
{
    return p && p->reused;
}

dk_dtls_session *dk_dtls_peer_get_session(const dk_dtls_peer *p, dk_err *err)
{
    if (!p) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "peer is NULL"));
        return NULL;
    }
    if (p->server_name == NULL && p->suite) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "a server session has no session to resume"));
        return NULL;
    }
    if (!p->suite) {
        dk__set_err(err, DK_FAIL(DK_ERR_STATE, "no handshake completed"));
        return NULL;
    }
    if (!p->session) {
        dk__set_err(err, DK_FAIL(DK_ERR_UNAVAILABLE, "the server issued no session ticket"));
        return NULL;
    }
    dk_dtls_session *s = dk__session_dup(p->session);
    dk__set_err(err, s ? DK_OK : DK_FAIL(DK_ERR_NOMEM, "out of memory"));
    return s;
}

dk_err dk_dtls_peer_set_session(dk_dtls_peer *p, const dk_dtls_session *session)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    if (p->status == DK_DTLS_HANDSHAKING || p->status == DK_DTLS_CONNECTED)
        return DK_FAIL(DK_ERR_STATE, "session already %s: set it before connect_to_peer()",
                       dk_dtls_status_name(p->status));
    if (session && strcmp(session->backend, DK__BK->name) != 0)
        return DK_FAIL(DK_ERR_INVALID, "session of the %s backend; this library uses %s",
                       session->backend, DK__BK->name);
    dk_dtls_session *copy = NULL;
    if (session && !(copy = dk__session_dup(session)))
        return DK_FAIL(DK_ERR_NOMEM, "out of memory");
    dk_dtls_session_free(p->offer);
    p->offer = copy;
    return DK_OK;
}

uint16_t dk_dtls_peer_get_cipher_suite(const dk_dtls_peer *p)
{
    return p ? p->suite : 0;
}

const char *dk_dtls_peer_get_psk_identity(const dk_dtls_peer *p)
{
    return p && p->psk_state == DK__PSK_USED && p->psk_identity ? p->psk_identity : "";
}

dk_cert *dk_dtls_peer_get_peer_certificate(const dk_dtls_peer *p, dk_err *err)
{
    if (!p) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "peer is NULL"));
        return NULL;
    }
    if (p->status != DK_DTLS_CONNECTED) {
        dk__set_err(err, DK_FAIL(DK_ERR_STATE, "session is %s, not connected",
                                 dk_dtls_status_name(p->status)));
        return NULL;
    }
    if (!p->peer_cert) {
        dk__set_err(err, DK_FAIL(DK_ERR_WOULD_BLOCK, "the peer sent no certificate"));
        return NULL;
    }
    dk__set_err(err, DK_OK);
    return dk__cert_ref(p->peer_cert);
}

/* ------------------------------------------------------------- settings */

static dk_err before_start(const char *func, const dk_dtls_peer *p)
{
    if (!p)
        return dk__fail(DK_ERR_INVALID, func, "peer is NULL");
    if (p->status == DK_DTLS_HANDSHAKING || p->status == DK_DTLS_CONNECTED)
        return dk__fail(DK_ERR_STATE, func, "set it before connect_to_peer()");
    return DK_OK;
}

dk_err dk_dtls_peer_set_handshake_timeout(dk_dtls_peer *p, int ms)
{
    dk_err e = before_start(__func__, p);
    if (e == DK_OK)
        e = dk__session_cfg_check_timeout(__func__, ms, false);
    if (e == DK_OK)
        p->cfg.hs_timeout_ms = ms;
    return e;
}

dk_err dk_dtls_peer_set_retransmit(dk_dtls_peer *p, int initial_ms, int max_ms)
{
    dk_err e = before_start(__func__, p);
    if (e == DK_OK)
        e = dk__session_cfg_check_retransmit(__func__, initial_ms, max_ms);
    if (e == DK_OK) {
        p->cfg.rto_initial_ms = initial_ms;
        p->cfg.rto_max_ms = max_ms;
    }
    return e;
}

dk_err dk_dtls_peer_set_mtu(dk_dtls_peer *p, int mtu)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    dk_err e = dk__session_cfg_check_mtu(__func__, mtu);
    if (e != DK_OK)
        return e;
    p->cfg.mtu = mtu;
    if (p->bs)
        DK__BK->session->set_mtu(p->bs, mtu_payload(p));
    if (p->status == DK_DTLS_HANDSHAKING || p->status == DK_DTLS_CONNECTED)
        p->max_payload = estimate_payload(p);
    return DK_OK;
}

dk_err dk_dtls_peer_set_idle_timeout(dk_dtls_peer *p, int ms)
{
    if (!p)
        return DK_FAIL(DK_ERR_INVALID, "peer is NULL");
    dk_err e = dk__session_cfg_check_timeout(__func__, ms, true);
    if (e == DK_OK) {
        p->cfg.idle_timeout_ms = ms;
        dk__dtls_peer_touch(p);
    }
    return e;
}
