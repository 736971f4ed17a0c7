/* Interoperability quirks of real peers, checked on the wire: hand-built
 * handshake messages from a raw socket, and the ClientHello a dtlskit
 * client sends. Every test runs unchanged against each backend. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* Wire constants (RFC 6347, RFC 5246, RFC 5746). */
#define REC_HANDSHAKE 22
#define REC_ALERT     21
#define HS_HELLO      1
#define HS_SERVER     2
#define HS_VERIFY     3
#define REC_HDR       13
#define HS_HDR        12
#define EXT_SNI       0x0000
#define EXT_RENEGO    0xff01
#define SCSV_RENEGO   0x00ff

static uint8_t *put16(uint8_t *w, unsigned v)
{
    w[0] = (uint8_t)(v >> 8);
    w[1] = (uint8_t)v;
    return w + 2;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)(p[0] << 8 | p[1]);
}

/* Wraps a handshake body in a handshake header and a DTLS 1.2 record
 * (epoch 0, record sequence `rseq`). Returns the datagram length. */
static size_t wrap(uint8_t *out, uint8_t type, unsigned mseq, uint64_t rseq, const uint8_t *body,
                   size_t len)
{
    uint8_t *w = out;
    *w++ = REC_HANDSHAKE;
    *w++ = 0xfe;
    *w++ = 0xfd;
    w = put16(w, 0); /* epoch */
    for (int i = 5; i >= 0; i--)
        *w++ = (uint8_t)(rseq >> (8 * i));
    w = put16(w, (unsigned)(HS_HDR + len));
    *w++ = type;
    *w++ = 0; /* 24-bit length */
    w = put16(w, (unsigned)len);
    w = put16(w, mseq);
    *w++ = 0; /* fragment_offset */
    w = put16(w, 0);
    *w++ = 0; /* fragment_length: the whole message */
    w = put16(w, (unsigned)len);
    memcpy(w, body, len);
    return (size_t)(w - out) + len;
}

/* A ClientHello like Godot 3's when it connects without a host name: its
 * server_name extension carries one host_name entry of length zero. The
 * suites and signature algorithms suit tests/certs/server.key (P-256). */
static size_t godot_hello(uint8_t *out, const uint8_t random[32], const uint8_t *cookie,
                          size_t cookie_len, unsigned mseq, uint64_t rseq)
{
    static const uint8_t suites[] = {0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30};
    static const uint8_t exts[] = {
        0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00,       /* server_name: "" */
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, /* x25519, P-256 */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                         /* uncompressed */
        0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, /* sigalgs */
        0x00, 0x17, 0x00, 0x00, /* extended_master_secret */
    };
    uint8_t body[512], *w = body;
    w = put16(w, 0xfefd);
    memcpy(w, random, 32);
    w += 32;
    *w++ = 0; /* session id */
    *w++ = (uint8_t)cookie_len;
    if (cookie_len) /* memcpy from NULL is undefined even for 0 bytes */
        memcpy(w, cookie, cookie_len);
    w += cookie_len;
    w = put16(w, sizeof suites);
    memcpy(w, suites, sizeof suites);
    w += sizeof suites;
    *w++ = 1;
    *w++ = 0; /* null compression */
    w = put16(w, sizeof exts);
    memcpy(w, exts, sizeof exts);
    w += sizeof exts;
    return wrap(out, HS_HELLO, mseq, rseq, body, (size_t)(w - body));
}

/* The accept loop of tu_server_step(), except that sessions which fail
 * are kept, so that their failure reason can be shown. */
static void step(tu_server *s)
{
    while (dk_udp_server_is_connection_available(s->udp)) {
        dk_udp_peer *peer = dk_udp_server_take_connection(s->udp, NULL);
        ck_assert_ptr_nonnull(peer);
        dk_dtls_peer *dp = dk_dtls_server_take_connection(s->dtls, peer, NULL);
        s->taken++;
        if (!dp)
            dk_udp_peer_free(peer);
        else if (s->npeers < TU_MAX_PEERS)
            s->peers[s->npeers++] = dp;
        else
            dk_dtls_peer_free(dp);
    }
    for (int i = 0; i < s->npeers; i++)
        dk_dtls_peer_poll(s->peers[i]);
}

/* Steps the server until a datagram arrives on `fd` or `ms` pass. */
static int step_recv(tu_server *s, int fd, uint8_t *buf, size_t cap, int ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)ms;
    for (;;) {
        step(s);
        int n = tu_recv(fd, buf, cap, 5);
        if (n >= 0 || tu_now_ms() >= end)
            return n;
    }
}

/* The server's session, if one was taken, for its failure reason. */
static const char *server_reason(const tu_server *s)
{
    if (!s->npeers)
        return "(no session taken)";
    const char *r = dk_dtls_peer_get_error_reason(s->peers[0]);
    return r && *r ? r : "(no failure)";
}

START_TEST(server_accepts_empty_server_name)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    int fd = tu_socket("127.0.0.1");
    uint8_t random[32], out[1024], in[DK_UDP_MAX_DATAGRAM];
    for (int i = 0; i < 32; i++)
        random[i] = (uint8_t)(i * 7 + 1);

    size_t n = godot_hello(out, random, NULL, 0, 0, 0);
    tu_sendto(fd, "127.0.0.1", s->port, out, n);
    int got = step_recv(s, fd, in, sizeof in, 2000);
    ck_assert_msg(got > REC_HDR + HS_HDR + 3, "no HelloVerifyRequest (%d)", got);
    ck_assert_int_eq(in[0], REC_HANDSHAKE);
    ck_assert_int_eq(in[REC_HDR], HS_VERIFY);
    const uint8_t *hv = in + REC_HDR + HS_HDR;
    size_t clen = hv[2];
    ck_assert_uint_le(REC_HDR + HS_HDR + 3 + clen, (size_t)got);

    n = godot_hello(out, random, hv + 3, clen, 1, 1);
    tu_sendto(fd, "127.0.0.1", s->port, out, n);
    got = step_recv(s, fd, in, sizeof in, 2000);
    if (!(dk_backend_caps() & DK_CAP_EMPTY_SERVER_NAME)) {
        /* What such a server must do instead: refuse with an alert, and
         * the session it took fails with a reason. */
        printf("SKIP: empty server_name accepted: backend %s lacks "
               "DK_CAP_EMPTY_SERVER_NAME; checking that it refuses cleanly\n",
               dk_backend_name());
        ck_assert_msg(got > REC_HDR + 1 && in[0] == REC_ALERT && in[REC_HDR] == 2,
                      "no fatal alert for the empty server_name (%d)", got);
        ck_assert_int_eq(s->npeers, 1);
        for (int i = 0; i < 50 && dk_dtls_peer_get_status(s->peers[0]) == DK_DTLS_HANDSHAKING; i++)
            step(s);
        ck_assert_int_eq(dk_dtls_peer_get_status(s->peers[0]), DK_DTLS_ERROR);
        ck_assert_str_ne(server_reason(s), "(no failure)");
        close(fd);
        tu_server_free(s);
        return;
    }
    ck_assert_msg(got >= 0, "no answer to the ClientHello with cookie; server: %s",
                  server_reason(s));
    ck_assert_msg(in[0] != REC_ALERT, "server sent alert %d; server: %s",
                  got > REC_HDR + 1 ? in[REC_HDR + 1] : -1, server_reason(s));
    ck_assert_int_gt(got, REC_HDR + HS_HDR);
    ck_assert_int_eq(in[0], REC_HANDSHAKE);
    ck_assert_int_eq(in[REC_HDR], HS_SERVER);
    ck_assert_int_eq(s->npeers, 1);
    ck_assert_int_eq(dk_dtls_peer_get_status(s->peers[0]), DK_DTLS_HANDSHAKING);

    close(fd);
    tu_server_free(s);
}
END_TEST

/* The ClientHello's offer of secure renegotiation (RFC 5746 3.4): the
 * renegotiation_info extension or the signalling cipher suite value. */
typedef struct hello_info {
    bool ext, scsv;
    unsigned suite; /* first ECDHE-GCM suite offered, 0 for none */
    bool ems;
} hello_info;

static bool parse_hello(const uint8_t *d, size_t n, hello_info *h)
{
    memset(h, 0, sizeof *h);
    if (n < REC_HDR + HS_HDR || d[0] != REC_HANDSHAKE || d[REC_HDR] != HS_HELLO)
        return false;
    const uint8_t *p = d + REC_HDR + HS_HDR, *end = d + n;
    if (end - p < 35)
        return false;
    p += 34;       /* version, random */
    p += 1 + p[0]; /* session id */
    if (end - p < 1 || end - p < 1 + p[0])
        return false;
    p += 1 + p[0]; /* cookie */
    if (end - p < 2 || end - p < 2 + (long)get16(p))
        return false;
    for (unsigned i = 0, len = get16(p); i + 1 < len; i += 2) {
        unsigned cs = get16(p + 2 + i);
        h->scsv |= cs == SCSV_RENEGO;
        if (!h->suite && (cs == 0xc02b || cs == 0xc02f))
            h->suite = cs;
    }
    p += 2 + get16(p);
    if (end - p < 1 || end - p < 1 + p[0])
        return false;
    p += 1 + p[0]; /* compression */
    if (end - p < 2)
        return true; /* no extensions */
    const uint8_t *e = p + 2, *eend = e + get16(p);
    if (eend > end)
        return false;
    while (eend - e >= 4) {
        unsigned type = get16(e), len = get16(e + 2);
        h->ext |= type == EXT_RENEGO;
        h->ems |= type == 0x0017;
        e += 4 + len;
    }
    return true;
}

/* recvfrom with a timeout, keeping the sender's address. */
static int recv_from(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
                     socklen_t *flen, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, ms) != 1)
        return -1;
    *flen = sizeof *from;
    return (int)recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, flen);
}

START_TEST(client_offers_secure_renegotiation)
{
    int fd = tu_socket("127.0.0.1");
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", ntohs(a.sin_port), "localhost", o);

    uint8_t hello[DK_UDP_MAX_DATAGRAM];
    struct sockaddr_storage from;
    socklen_t flen;
    int n = -1;
    for (int i = 0; i < 200 && n < 0; i++) {
        dk_dtls_peer_poll(c);
        n = recv_from(fd, hello, sizeof hello, &from, &flen, 10);
    }
    hello_info h;
    ck_assert_msg(n > 0 && parse_hello(hello, (size_t)n, &h), "no ClientHello captured (%d)", n);
    ck_assert_msg(h.ext || h.scsv, "ClientHello offers neither renegotiation_info nor "
                                   "TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 3.4)");

    /* A server that supports RFC 5746 answers with an empty
     * renegotiation_info: the client must take it and wait for the
     * server's certificate. */
    ck_assert_msg(h.suite, "no ECDHE-GCM suite offered");
    uint8_t body[128], *w = body, sh[256];
    w = put16(w, 0xfefd);
    for (int i = 0; i < 32; i++)
        *w++ = (uint8_t)(0xa0 + i);
    *w++ = 0; /* session id */
    w = put16(w, h.suite);
    *w++ = 0; /* null compression */
    uint8_t *elen = w;
    w += 2;
    w = put16(w, EXT_RENEGO);
    w = put16(w, 1);
    *w++ = 0; /* renegotiated_connection: empty */
    if (h.ems) {
        w = put16(w, 0x0017);
        w = put16(w, 0);
    }
    put16(elen, (unsigned)(w - elen - 2));
    size_t shlen = wrap(sh, HS_SERVER, 0, 0, body, (size_t)(w - body));
    ck_assert_int_eq(sendto(fd, sh, shlen, 0, (struct sockaddr *)&from, flen), (ssize_t)shlen);
    uint64_t end = tu_now_ms() + 300;
    while (tu_now_ms() < end && dk_dtls_peer_get_status(c) == DK_DTLS_HANDSHAKING) {
        dk_dtls_peer_poll(c);
        tu_sleep_ms(2);
    }
    ck_assert_msg(dk_dtls_peer_get_status(c) == DK_DTLS_HANDSHAKING,
                  "client failed on a ServerHello with renegotiation_info: %s",
                  dk_dtls_peer_get_error_reason(c));

    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("quirks");
    TCase *tc = tcase_create("quirks");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, server_accepts_empty_server_name);
    tcase_add_test(tc, client_offers_secure_renegotiation);
    suite_add_tcase(s, tc);
    printf("backend: %s (%s)\n", dk_backend_name(), dk_backend_version());
    return tu_run(s);
}
