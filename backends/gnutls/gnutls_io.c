/* GnuTLS backend: the transport between a session and the core. A pull
 * returns the datagram fed once, then EAGAIN; a push is one datagram for
 * io.send. The pull-timeout hook is also how retransmission is steered.
 *
 * RETRANSMISSION in GnuTLS 3.7 (lib/dtls.c, _dtls_transmit and
 * _dtls_wait_and_retransmit, non-blocking sessions): after sending a flight
 * GnuTLS polls for input with pull_timeout(0); "nothing" (0) keeps the
 * flight, EAGAIN right after a flight was sent drops it. On later calls
 * a poll answered 0 (timed out) resends the flight when GnuTLS's own clock
 * says its timer expired; an EAGAIN answer resends nothing. The sessions
 * set that timer to 0 ms (gnutls_dtls_set_timeouts), so the answer alone
 * decides: 0 right after a flight left, or while handle_timeout() runs;
 * EAGAIN otherwise. Time that passes never resends anything by itself.
 * (A retransmission of the peer's previous flight still makes GnuTLS
 * resend its own, as RFC 6347 4.2.4 describes.)
 *
 * STRAY FRAGMENTS. GnuTLS takes any handshake message numbered at or
 * above the next one it expects for the peer's next flight, and then
 * forgets its own (no more retransmissions). Epoch-0 handshake records
 * numbered beyond the next message of the peer are therefore not given
 * to it: a peer's flight starts with that message, and a fragment that
 * arrives before it only costs a retransmission. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gnutls_session.h"

/* Handshake header: type(1) length(3) message_seq(2) offset(3) length(3). */
#define HS_HDR 12

/* Handshake message types (RFC 5246 7.4, RFC 6347 4.3.2). */
enum {
    HT_HELLO_REQUEST = 0,
    HT_CLIENT_HELLO = 1,
    HT_SERVER_HELLO = 2,
    HT_HELLO_VERIFY_REQUEST = 3,
    HT_NEW_SESSION_TICKET = 4,
    HT_CERTIFICATE = 11,
    HT_SERVER_KEY_EXCHANGE = 12,
    HT_CERTIFICATE_REQUEST = 13,
    HT_SERVER_HELLO_DONE = 14,
    HT_CERTIFICATE_VERIFY = 15,
    HT_CLIENT_KEY_EXCHANGE = 16,
    HT_CERTIFICATE_STATUS = 22,
};

/* A server's messages in the order it sends them (0: never sent to a
 * client in DTLS 1.2). */
static int server_rank(uint8_t type)
{
    switch (type) {
    case HT_HELLO_VERIFY_REQUEST: return 1;
    case HT_SERVER_HELLO: return 2;
    case HT_CERTIFICATE: return 3;
    case HT_CERTIFICATE_STATUS: return 4;
    case HT_SERVER_KEY_EXCHANGE: return 5;
    case HT_CERTIFICATE_REQUEST: return 6;
    case HT_SERVER_HELLO_DONE: return 7;
    case HT_NEW_SESSION_TICKET: return 8;
    default: return 0;
    }
}

/* Server: the client's epoch-0 message numbered `seq` (its ClientHello
 * was ch_seq): Certificate, ClientKeyExchange and CertificateVerify after
 * a CertificateRequest, ClientKeyExchange alone otherwise (the Finished
 * is in epoch 1); retransmitted ClientHellos. */
static bool server_expects(const dk_bk_session *s, int seq, uint8_t type)
{
    int k = seq - s->ch_seq;
    if (k <= 0)
        return type == HT_CLIENT_HELLO;
    if (!s->cr_sent)
        return k == 1 && type == HT_CLIENT_KEY_EXCHANGE;
    return (k == 1 && type == HT_CERTIFICATE) || (k == 2 && type == HT_CLIENT_KEY_EXCHANGE) ||
           (k == 3 && type == HT_CERTIFICATE_VERIFY);
}

/* Whether record `r` (whole, `len` bytes with its header) goes to GnuTLS.
 * `rx` and `rx_type`: the highest message_seq given so far and its type,
 * moved on. GnuTLS 3.7 fails the handshake on a message of an unexpected
 * type at the number it expects next, even on a first fragment (lib/
 * buffers.c, get_last_packet): such fragments, forged or stray, are kept
 * from it, as are fragments beyond the next message (see above). */
static bool keep_record(const dk_bk_session *s, const dk_bk_record *r, int *rx, uint8_t *rx_type)
{
    if (r->type != DK_BK_CT_HANDSHAKE || r->epoch != 0 || r->len < HS_HDR)
        return true;
    uint8_t type = r->fragment[0];
    int seq = r->fragment[4] << 8 | r->fragment[5];
    if (seq > *rx + 1)
        return false;
    if (s->server) {
        if (!server_expects(s, seq, type))
            return false;
    } else if (seq == *rx + 1) {
        /* The server's next message comes later in its order. */
        int rank = server_rank(type);
        if (rank == 0 || (*rx >= 0 && rank <= server_rank(*rx_type)))
            return false;
    } else if (seq == *rx && type != *rx_type) {
        return false; /* another fragment of the last message */
    }
    if (seq > *rx) {
        *rx = seq;
        *rx_type = type;
    }
    return true;
}

/* The records of the datagram fed that go to GnuTLS: copied into `out`
 * when `commit` (with the session's state moved on), only counted
 * otherwise. Returns their length. */
static size_t filter(dk_bk_session *s, uint8_t *out, size_t cap, bool commit)
{
    const uint8_t *d = s->in;
    size_t n = s->in_len, off = 0, kept = 0;
    int rx = s->rx_max;
    uint8_t rx_type = s->rx_type;
    dk_bk_record r;
    for (size_t len; (len = dk_bk_record_next(d + off, n - off, &r)) > 0;) {
        if (!r.whole)
            break; /* the gate passes whole records only */
        const uint8_t *rec = d + off;
        off += len;
        if (!keep_record(s, &r, &rx, &rx_type))
            continue;
        if (commit) {
            if (kept + len > cap)
                break;
            memcpy(out + kept, rec, len);
            if (r.type == DK_BK_CT_ALERT && r.epoch == 0 && r.len == 2 &&
                r.fragment[1] == GNUTLS_A_CLOSE_NOTIFY)
                s->peer_closed = true;
        }
        kept += len;
    }
    if (commit) {
        s->rx_max = rx;
        s->rx_type = rx_type;
    }
    return kept;
}

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t size)
{
    dk_bk_session *s = p;
    size_t n = s->in ? filter(s, buf, size, true) : 0;
    s->in = NULL;
    s->in_len = 0;
    if (n == 0) {
        gnutls_transport_set_errno(s->g, EAGAIN);
        return -1;
    }
    return (ssize_t)n;
}

static int pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
    dk_bk_session *s = p;
    if (s->in && filter(s, NULL, 0, false) > 0)
        return 1;
    s->in = NULL; /* nothing in it for GnuTLS */
    s->in_len = 0;
    bool sent = s->pushed;
    s->pushed = false;
    /* A poll (0 ms) by the retransmission logic: "timed out" keeps the
     * flight, and resends it (timer 0) unless it just left. */
    if (ms == 0 && (s->forced || sent))
        return 0;
    gnutls_transport_set_errno(s->g, EAGAIN);
    return -1;
}

/* A send that fails is a datagram lost on the way: retransmission covers
 * it, so GnuTLS is told it left. */
static void emit(dk_bk_session *s, const uint8_t *d, size_t n)
{
    /* A server that asks for a certificate gets a Certificate first. */
    dk_bk_record r;
    for (size_t off = 0, len; s->server && (len = dk_bk_record_next(d + off, n - off, &r)) > 0;
         off += len)
        if (r.type == DK_BK_CT_HANDSHAKE && r.epoch == 0 && r.len > 0 &&
            r.fragment[0] == HT_CERTIFICATE_REQUEST)
            s->cr_sent = true;
    s->pushed = true;
    s->sent++;
    s->io.send(s->io.user, d, n);
}

static ssize_t push(gnutls_transport_ptr_t p, const void *data, size_t size)
{
    dk_bk_session *s = p;
    if (size)
        emit(s, data, size);
    return (ssize_t)size;
}

/* GnuTLS hands over a whole flight at once when it fits the MTU (one
 * datagram), and otherwise one record per call. */
static ssize_t vec_push(gnutls_transport_ptr_t p, const giovec_t *iov, int iovcnt)
{
    dk_bk_session *s = p;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (iovcnt == 1 || total == 0) {
        if (total)
            emit(s, iov[0].iov_base, total);
        return (ssize_t)total;
    }
    uint8_t local[2048];
    uint8_t *buf = total <= sizeof local ? local : malloc(total);
    if (!buf) {
        /* Out of memory: one datagram per record, still whole. */
        for (int i = 0; i < iovcnt; i++)
            if (iov[i].iov_len)
                emit(s, iov[i].iov_base, iov[i].iov_len);
        return (ssize_t)total;
    }
    size_t off = 0;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    emit(s, buf, total);
    if (buf != local)
        free(buf);
    return (ssize_t)total;
}

void dk_gnu_io_install(dk_bk_session *s)
{
    gnutls_transport_set_ptr(s->g, s);
    gnutls_transport_set_push_function(s->g, push);
    gnutls_transport_set_vec_push_function(s->g, vec_push);
    gnutls_transport_set_pull_function(s->g, pull);
    gnutls_transport_set_pull_timeout_function(s->g, pull_timeout);
}

/* The core answered the first ClientHello with its HelloVerifyRequest
 * (message_seq 0, the record number of that ClientHello). GnuTLS's own
 * cookie exchange would leave it where gnutls_dtls_prestate_set puts it:
 * records continue from the number of this ClientHello, its message_seq
 * is the next one read, and the ServerHello is message 1 (hsk_write_seq
 * is that of the HelloVerifyRequest, 0; GnuTLS adds one). GnuTLS's
 * gnutls_dtls_cookie_verify keeps only the low byte of each number; the
 * whole numbers are used here. */
bool dk_gnu_io_prestate(dk_bk_session *s, const uint8_t *d, size_t n)
{
    dk_bk_record r;
    if (dk_bk_record_next(d, n, &r) == 0 || r.type != DK_BK_CT_HANDSHAKE || r.epoch != 0 ||
        r.len < HS_HDR || r.fragment[0] != GNUTLS_HANDSHAKE_CLIENT_HELLO)
        return false;
    if (r.seq > 0xffffffffu)
        return false; /* gnutls_dtls_prestate_st holds 32 bits */
    unsigned msg_seq = (unsigned)(r.fragment[4] << 8 | r.fragment[5]);
    gnutls_dtls_prestate_st ps = {
        .record_seq = (unsigned)r.seq, .hsk_read_seq = msg_seq, .hsk_write_seq = 0};
    gnutls_dtls_prestate_set(s->g, &ps);
    s->ch_seq = (int)msg_seq;
    s->rx_max = (int)msg_seq - 1;
    s->rx_type = HT_HELLO_REQUEST;
    return true;
}
