/* The cookie exchange from the outside, on every backend: raw ClientHellos
 * over UDP with wrong, current, previous and retired cookies, in admission
 * and Godot modes; secret rotation driven by the core's clock (a test hook
 * moves it forward: no sleeping); a real client whose cookie was minted
 * under the previous secret (the backend must be handed the secret that
 * verified it); and the backend's HMAC: known answers, no allocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloccount.h"
#include "clock.h"
#include "library.h"
#include "rawdtls.h"
#include "testutil.h"

/* Rotation interval for the clock-driven tests: far from every other timer
 * (first retransmission 1 s, handshake timeout 30 s). */
#define ROTATION_MS 10000

/* ------------------------------------------------- raw DTLS (rawdtls.h) */

/* One raw client: its own socket (own port), its own random. */
typedef struct raw_client {
    int fd;
    uint8_t random[32];
    uint64_t rec_seq;
} raw_client;

static void raw_open(raw_client *rc, uint8_t seed)
{
    rc->fd = tu_socket("127.0.0.1");
    for (int i = 0; i < 32; i++)
        rc->random[i] = (uint8_t)(seed * 31 + i);
    rc->rec_seq = 0;
}

/* Sends this client's ClientHello with `cookie` (NULL: none). Every
 * ClientHello with a cookie has message_seq 1, as a second ClientHello
 * and its retransmissions do: the OpenSSL backend stalls on a ClientHello
 * with message_seq 2 or more (DTLSv1_listen then expects 1). */
static void raw_send(tu_server *s, raw_client *rc, const uint8_t *cookie, size_t len)
{
    uint8_t d[1024];
    size_t n = tu_client_hello(d, rc->random, cookie, len, cookie ? 1 : 0, rc->rec_seq++);
    tu_sendto(rc->fd, "127.0.0.1", s->port, d, n);
}

/* What the server answered the last ClientHello with, stepping it. */
typedef enum answer {
    SILENCE,      /* nothing within the wait */
    HELLO_VERIFY, /* a HelloVerifyRequest: cookie refused or absent */
    SERVER_HELLO, /* the server's flight: cookie accepted, handshake going */
    OTHER,
} answer;

static answer raw_answer(tu_server *s, raw_client *rc, uint8_t cookie[32], int ms)
{
    uint8_t d[4096];
    uint64_t end = tu_now_ms() + (uint64_t)ms;
    do {
        tu_server_step(s);
        ssize_t n = recv(rc->fd, d, sizeof d, MSG_DONTWAIT);
        if (n > 13 + 12 && d[0] == 22) {
            if (d[13] == 2)
                return SERVER_HELLO;
            if (d[13] != 3)
                return OTHER;
            /* HelloVerifyRequest body: server_version(2), cookie<0..2^8-1> */
            ck_assert_int_eq(d[13 + 12 + 2], 32);
            ck_assert_int_ge(n, 13 + 12 + 3 + 32);
            if (cookie)
                memcpy(cookie, d + 13 + 12 + 3, 32);
            return HELLO_VERIFY;
        }
        if (n >= 0)
            return OTHER;
        tu_sleep_ms(1);
    } while (tu_now_ms() < end);
    return SILENCE;
}

/* Cookie-less ClientHello, then the cookie from the HelloVerifyRequest. */
static void raw_cookie(tu_server *s, raw_client *rc, uint8_t cookie[32])
{
    raw_send(s, rc, NULL, 0);
    ck_assert_int_eq(raw_answer(s, rc, cookie, 2000), HELLO_VERIFY);
}

static dk_dtls_server_stats stats(tu_server *s)
{
    dk_dtls_server_stats st;
    ck_assert_dk_ok(dk_dtls_server_get_stats(s->dtls, &st));
    return st;
}

static tu_server *server(bool admission)
{
    return tu_server_start("127.0.0.1", "server-chain.pem", "server.key", admission);
}

/* ------------------------------------------------------------ wrong cookie */

/* A cookie of the right length (32 bytes) but wrong, in its first and in
 * its last byte: a HelloVerifyRequest again, no session, counted. */
static void wrong_cookie(bool admission)
{
    tu_server *s = server(admission);
    raw_client rc;
    raw_open(&rc, 1);
    uint8_t good[32], bad[32], again[32];
    raw_cookie(s, &rc, good);
    dk_dtls_server_stats st = stats(s);
    ck_assert_uint_eq(st.hello_verify_sent, 1);
    ck_assert_uint_eq(st.cookies_rejected, 0); /* no cookie is not a wrong one */
    for (int pos = 0; pos < 32; pos += 31) {
        memcpy(bad, good, sizeof bad);
        bad[pos] ^= 0x01;
        raw_send(s, &rc, bad, sizeof bad);
        ck_assert_int_eq(raw_answer(s, &rc, again, 2000), HELLO_VERIFY);
        /* Same ClientHello fields, same secret: the same (right) cookie. */
        ck_assert_int_eq(memcmp(again, good, sizeof good), 0);
    }
    st = stats(s);
    ck_assert_uint_eq(st.hello_verify_sent, 3);
    ck_assert_uint_eq(st.cookies_rejected, 2);
    ck_assert_uint_eq(st.cookies_accepted, 0);
    ck_assert_uint_eq(st.handshakes, 0);
    ck_assert_int_eq(s->npeers, 0);
    dk_udp_stats us;
    ck_assert_dk_ok(dk_udp_server_get_stats(s->udp, &us));
    if (admission) {
        /* Answered inside the UDP server's poll: nothing became pending. */
        ck_assert_int_eq(s->taken, 0);
        ck_assert_uint_eq(us.hello_verify_sent, 3);
        ck_assert_uint_eq(us.dropped_filtered, 3);
    } else {
        /* Godot: each ClientHello became a peer in ERROR, then freed. */
        ck_assert_int_eq(s->taken, 3);
        ck_assert_int_eq(s->taken_errors, 3);
    }
    ck_assert_uint_eq(us.pending, 0);
    /* The right cookie still goes through: the refusals were the cookie's. */
    raw_send(s, &rc, good, sizeof good);
    ck_assert_int_eq(raw_answer(s, &rc, NULL, 2000), SERVER_HELLO);
    st = stats(s);
    ck_assert_uint_eq(st.cookies_accepted, 1);
    ck_assert_uint_eq(st.cookies_rejected, 2);
    ck_assert_uint_eq(st.handshakes, 1);
    ck_assert_int_eq(s->npeers, 1);
    close(rc.fd);
    tu_server_free(s);
}

START_TEST(wrong_cookie_admission)
{
    wrong_cookie(true);
}
END_TEST

START_TEST(wrong_cookie_godot)
{
    wrong_cookie(false);
}
END_TEST

/* ------------------------------------------------------------ rotation */

/* A cookie minted, then the clock moved past one rotation interval: the
 * secret that minted it is now the previous one, still accepted. */
static void one_rotation(bool admission)
{
    tu_server *s = server(admission);
    ck_assert_dk_ok(dk_dtls_server_set_cookie_rotation(s->dtls, ROTATION_MS));
    raw_client rc;
    raw_open(&rc, 2);
    uint8_t cookie[32];
    raw_cookie(s, &rc, cookie);
    ck_assert_uint_eq(stats(s).secret_rotations, 0);
    dk__clock_advance_ms(ROTATION_MS + 100); /* no session exists yet */
    raw_send(s, &rc, cookie, sizeof cookie);
    ck_assert_int_eq(raw_answer(s, &rc, NULL, 2000), SERVER_HELLO);
    dk_dtls_server_stats st = stats(s);
    ck_assert_uint_eq(st.secret_rotations, 1); /* lazily, at that ClientHello */
    ck_assert_uint_eq(st.cookies_accepted, 1);
    ck_assert_uint_eq(st.cookies_rejected, 0);
    ck_assert_uint_eq(st.hello_verify_sent, 1);
    ck_assert_uint_eq(st.handshakes, 1);
    close(rc.fd);
    tu_server_free(s);
}

START_TEST(previous_secret_accepted_admission)
{
    one_rotation(true);
}
END_TEST

START_TEST(previous_secret_accepted_godot)
{
    one_rotation(false);
}
END_TEST

/* Two intervals: the secret that minted the cookie is two rotations old
 * (lazy rotation retires it along with the current one). */
static void two_rotations(bool admission)
{
    tu_server *s = server(admission);
    ck_assert_dk_ok(dk_dtls_server_set_cookie_rotation(s->dtls, ROTATION_MS));
    raw_client rc;
    raw_open(&rc, 3);
    uint8_t cookie[32], fresh[32];
    raw_cookie(s, &rc, cookie);
    dk__clock_advance_ms(2 * ROTATION_MS + 100);
    raw_send(s, &rc, cookie, sizeof cookie);
    ck_assert_int_eq(raw_answer(s, &rc, fresh, 2000), HELLO_VERIFY);
    ck_assert_int_ne(memcmp(fresh, cookie, sizeof cookie), 0);
    dk_dtls_server_stats st = stats(s);
    ck_assert_uint_eq(st.secret_rotations, 1);
    ck_assert_uint_eq(st.cookies_rejected, 1);
    ck_assert_uint_eq(st.cookies_accepted, 0);
    ck_assert_uint_eq(st.hello_verify_sent, 2);
    ck_assert_uint_eq(st.handshakes, 0);
    ck_assert_int_eq(s->npeers, 0);
    /* The fresh cookie is accepted. */
    raw_send(s, &rc, fresh, sizeof fresh);
    ck_assert_int_eq(raw_answer(s, &rc, NULL, 2000), SERVER_HELLO);
    ck_assert_uint_eq(stats(s).cookies_accepted, 1);
    close(rc.fd);
    tu_server_free(s);
}

START_TEST(retired_secret_refused_admission)
{
    two_rotations(true);
}
END_TEST

START_TEST(retired_secret_refused_godot)
{
    two_rotations(false);
}
END_TEST

/* A real client whose HelloVerifyRequest came before a rotation and whose
 * second ClientHello after it: the core verifies the cookie with the
 * previous secret and must hand that secret to the backend (wolfSSL
 * recomputes the cookie with it and refuses the handshake otherwise). */
static void client_across_rotation(bool admission)
{
    tu_server *s = server(admission);
    ck_assert_dk_ok(dk_dtls_server_set_cookie_rotation(s->dtls, ROTATION_MS));
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
    /* ClientHello 1 is on its way: let the server answer it, without
     * polling the client (its HelloVerifyRequest waits in its socket). */
    uint64_t end = tu_now_ms() + 2000;
    while (stats(s).hello_verify_sent < 1 && tu_now_ms() < end) {
        tu_server_step(s);
        tu_sleep_ms(1);
    }
    ck_assert_uint_eq(stats(s).hello_verify_sent, 1);
    /* One interval: the next ClientHello rotates the secret. The client's
     * retransmission timer is due by then (a repeat is harmless); its
     * handshake timeout (30 s) is not. */
    dk__clock_advance_ms(ROTATION_MS + 100);
    int ok = tu_handshake(s, &c, 1, 10000);
    dk_dtls_server_stats st = stats(s);
    ck_assert_msg(ok == 1,
                  "client across a rotation: status %d, %s (server: %llu accepted, %llu "
                  "rejected, %llu HVR, %llu rotations)",
                  (int)dk_dtls_peer_get_status(c), dk_dtls_peer_get_error_reason(c),
                  (unsigned long long)st.cookies_accepted, (unsigned long long)st.cookies_rejected,
                  (unsigned long long)st.hello_verify_sent,
                  (unsigned long long)st.secret_rotations);
    ck_assert_uint_eq(st.secret_rotations, 1);
    ck_assert_uint_eq(st.cookies_rejected, 0); /* verified by the previous secret */
    ck_assert_uint_eq(st.cookies_accepted, 1);
    ck_assert_uint_eq(st.hello_verify_sent, 1);
    /* And the session works. */
    ck_assert_dk_ok(dk_dtls_peer_put_packet(c, "ping", 4));
    ck_assert(tu_wait_packet(s, c, 5000));
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}

START_TEST(client_across_rotation_admission)
{
    client_across_rotation(true);
}
END_TEST

START_TEST(client_across_rotation_godot)
{
    client_across_rotation(false);
}
END_TEST

/* dk_dtls_server_set_cookie_secret(): the secret it replaces becomes the
 * previous one (accepted), and one more replacement retires it. */
START_TEST(explicit_secrets)
{
    tu_server *s = server(true);
    ck_assert_dk_ok(dk_dtls_server_set_cookie_rotation(s->dtls, 0));
    ck_assert_dk_ok(dk_dtls_server_set_cookie_secret(s->dtls, "secret number one", 17));
    raw_client a, b;
    raw_open(&a, 4);
    raw_open(&b, 5);
    uint8_t ca[32], cb[32], fresh[32];
    raw_cookie(s, &a, ca);
    raw_cookie(s, &b, cb);
    ck_assert_dk_ok(dk_dtls_server_set_cookie_secret(s->dtls, "secret number two", 17));
    raw_send(s, &a, ca, sizeof ca);
    ck_assert_int_eq(raw_answer(s, &a, NULL, 2000), SERVER_HELLO);
    ck_assert_dk_ok(dk_dtls_server_set_cookie_secret(s->dtls, "secret number three", 19));
    raw_send(s, &b, cb, sizeof cb);
    ck_assert_int_eq(raw_answer(s, &b, fresh, 2000), HELLO_VERIFY);
    ck_assert_int_ne(memcmp(fresh, cb, sizeof cb), 0);
    dk_dtls_server_stats st = stats(s);
    ck_assert_uint_eq(st.cookies_accepted, 1);
    ck_assert_uint_eq(st.cookies_rejected, 1);
    ck_assert_uint_eq(st.hello_verify_sent, 3);
    ck_assert_uint_eq(st.secret_rotations, 0);
    close(a.fd);
    close(b.fd);
    tu_server_free(s);
}
END_TEST

/* ------------------------------------------------------- master secret */

#define HOUR_MS 3600000 /* master-secret periods: real time crossing one mid-test is unlikely */

/* Whether `verifier` accepts the cookie `minter` gave a fresh client. */
static bool accepts_cookie_of(tu_server *minter, tu_server *verifier, uint8_t seed)
{
    raw_client rc;
    raw_open(&rc, seed);
    uint8_t cookie[32];
    raw_cookie(minter, &rc, cookie);
    raw_send(verifier, &rc, cookie, sizeof cookie);
    answer a = raw_answer(verifier, &rc, NULL, 2000);
    close(rc.fd);
    ck_assert(a == SERVER_HELLO || a == HELLO_VERIFY);
    return a == SERVER_HELLO;
}

/* Workers or hosts given one master secret accept each other's cookies and
 * rotate in step: a cookie stays good for the next period, not two. */
START_TEST(master_secret_shared_by_servers)
{
    static const char master[] = "one master secret for all nodes";
    tu_server *a = server(true), *b = server(true), *c = server(true);
    for (tu_server **t = (tu_server *[]){a, b, c, NULL}; *t; t++)
        ck_assert_dk_ok(dk_dtls_server_set_cookie_rotation((*t)->dtls, HOUR_MS));
    ck_assert_dk_ok(dk_dtls_server_set_master_secret(a->dtls, master, sizeof master - 1));
    ck_assert_dk_ok(dk_dtls_server_set_master_secret(b->dtls, master, sizeof master - 1));
    ck_assert_dk_ok(dk_dtls_server_set_master_secret(c->dtls, "another master secret", 21));
    ck_assert(accepts_cookie_of(a, b, 10));
    ck_assert(accepts_cookie_of(b, a, 11));
    ck_assert(!accepts_cookie_of(a, c, 12));
    /* Minted now, presented one period later, then two periods later. */
    raw_client one, two;
    raw_open(&one, 13);
    raw_open(&two, 14);
    uint8_t c1[32], c2[32];
    raw_cookie(a, &one, c1);
    raw_cookie(a, &two, c2);
    dk__clock_advance_ms(HOUR_MS);
    raw_send(b, &one, c1, sizeof c1);
    ck_assert_int_eq(raw_answer(b, &one, NULL, 2000), SERVER_HELLO);
    ck_assert(accepts_cookie_of(b, a, 15)); /* still in step */
    dk__clock_advance_ms(HOUR_MS);
    raw_send(b, &two, c2, sizeof c2);
    ck_assert_int_eq(raw_answer(b, &two, NULL, 2000), HELLO_VERIFY);
    ck_assert_uint_ge(stats(b).secret_rotations, 2);
    close(one.fd);
    close(two.fd);
    /* Bad input changes nothing. */
    ck_assert_int_eq(dk_dtls_server_set_master_secret(a->dtls, NULL, 32), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_master_secret(NULL, master, 32), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_master_secret(a->dtls, master, 15), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_master_secret(a->dtls, master, 65), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "16 to 64"));
    ck_assert(accepts_cookie_of(a, b, 16));
    /* An explicit cookie secret afterwards ends the sharing. */
    ck_assert_dk_ok(dk_dtls_server_set_cookie_secret(a->dtls, "a secret of a's own", 19));
    ck_assert(!accepts_cookie_of(a, b, 17));
    tu_server_free(a);
    tu_server_free(b);
    tu_server_free(c);
}
END_TEST

static char tmpdir[64];

/* Writes `data` to tmpdir/name with `mode`; returns the path (static). */
static const char *secret_file(const char *name, const void *data, size_t len, mode_t mode)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    unlink(path);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, mode), 0);
    return path;
}

/* The operator's file: hex or raw, 0600 or 0400 only, owned by us or root;
 * every refusal names its cause and keeps the secret the server had. */
START_TEST(master_secret_file)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dk-secret.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    static const char hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F\n";
    uint8_t bytes[32];
    for (int i = 0; i < 32; i++)
        bytes[i] = (uint8_t)i;
    tu_server *f = server(true), *m = server(true);
    ck_assert_dk_ok(dk_dtls_server_set_master_secret(m->dtls, bytes, sizeof bytes));
    ck_assert(!accepts_cookie_of(m, f, 20));

    /* Hex with a newline, 0600: the same secret as the bytes in memory. */
    const char *p = secret_file("hex", hex, sizeof hex - 1, 0600);
    ck_assert_dk_ok(dk_dtls_server_load_master_secret(f->dtls, p));
    ck_assert(accepts_cookie_of(m, f, 21));
    /* Raw bytes, 0400. */
    p = secret_file("raw", bytes, sizeof bytes, 0400);
    ck_assert_dk_ok(dk_dtls_server_load_master_secret(f->dtls, p));
    ck_assert(accepts_cookie_of(f, m, 22));
    /* A symbolic link to a good file is followed (secret volumes use them). */
    char link[128];
    snprintf(link, sizeof link, "%s/link", tmpdir);
    ck_assert_int_eq(symlink(p, link), 0);
    ck_assert_dk_ok(dk_dtls_server_load_master_secret(f->dtls, link));

    /* Refusals. The server keeps the secret it had: still in step with m. */
    static const struct {
        mode_t mode;
        const char *name, *content;
        size_t len;
        dk_err err;
        const char *says;
    } bad[] = {
        {0644, "world", hex, sizeof hex - 1, DK_ERR_PERMISSION, "mode 0644"},
        {0640, "group", hex, sizeof hex - 1, DK_ERR_PERMISSION, "mode 0640"},
        {0602, "otherw", hex, sizeof hex - 1, DK_ERR_PERMISSION, "0600 or 0400"},
        {0600, "short", "00112233445566778899aabbccddee", 30, DK_ERR_PARSE, "32 to 128 hex"},
        {0600, "odd", "00112233445566778899aabbccddeeff0", 33, DK_ERR_PARSE, "holds 33 bytes"},
        {0600, "rawshort", "fifteen bytes!!", 15, DK_ERR_PARSE, "16 to 64 raw"},
        {0600, "empty", "", 0, DK_ERR_PARSE, "holds 0 bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = secret_file(bad[i].name, bad[i].content, bad[i].len, bad[i].mode);
        ck_assert_int_eq(dk_dtls_server_load_master_secret(f->dtls, p), bad[i].err);
        ck_assert_msg(strstr(dk_last_error(), bad[i].says), "%s: %s", bad[i].name, dk_last_error());
    }
    uint8_t big[200];
    memset(big, 0x41, sizeof big);
    p = secret_file("big", big, sizeof big, 0600);
    ck_assert_int_eq(dk_dtls_server_load_master_secret(f->dtls, p), DK_ERR_PARSE);
    p = secret_file("raw65", big + 1, 65, 0600); /* hex digits? 'A' is one: odd count */
    ck_assert_int_eq(dk_dtls_server_load_master_secret(f->dtls, p), DK_ERR_PARSE);
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing", tmpdir);
    ck_assert_int_eq(dk_dtls_server_load_master_secret(f->dtls, missing), DK_ERR_IO);
    ck_assert_int_eq(dk_dtls_server_load_master_secret(f->dtls, tmpdir), DK_ERR_IO);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "not a regular file"));
    ck_assert_int_eq(dk_dtls_server_load_master_secret(f->dtls, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_load_master_secret(NULL, link), DK_ERR_INVALID);
    /* Owned by another user (only root can give a file away). */
    if (geteuid() == 0) {
        p = secret_file("theirs", hex, sizeof hex - 1, 0600);
        ck_assert_int_eq(chown(p, 12345, 12345), 0);
        ck_assert_int_eq(dk_dtls_server_load_master_secret(f->dtls, p), DK_ERR_PERMISSION);
        ck_assert_ptr_nonnull(strstr(dk_last_error(), "uid 12345"));
    } else {
        printf("note: not root, the owner check is not exercised\n");
    }
    ck_assert(accepts_cookie_of(m, f, 23));
    tu_server_free(f);
    tu_server_free(m);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ------------------------------------------------------------ the HMAC */

static void hex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* RFC 4231 test cases 1, 2, 4 and 6 (a 131-byte key, hashed first), the
 * message split across parts as the core splits a ClientHello. */
START_TEST(hmac_known_answers)
{
    ck_assert_dk_ok(dk_init());
    static const struct {
        size_t key_len;
        int key_byte; /* -1: 01 02 03 ... */
        const char *msg;
        const char *mac;
    } cases[] = {
        {20, 0x0b, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {4, 'J', "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {25, -1, NULL, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {131, 0xaa, "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        uint8_t key[131], msg[64], expect[32], mac[32];
        size_t msg_len;
        if (t == 1) /* case 2's key is "Jefe" */
            memcpy(key, "Jefe", 4);
        else
            for (size_t i = 0; i < cases[t].key_len; i++)
                key[i] = cases[t].key_byte < 0 ? (uint8_t)(i + 1) : (uint8_t)cases[t].key_byte;
        if (cases[t].msg) {
            msg_len = strlen(cases[t].msg);
            memcpy(msg, cases[t].msg, msg_len);
        } else { /* case 4: 50 bytes of 0xcd */
            msg_len = 50;
            memset(msg, 0xcd, msg_len);
        }
        hex(cases[t].mac, expect, sizeof expect);
        /* Whole, then in three parts with an empty one in between. */
        dk_bk_iov whole = {msg, msg_len};
        ck_assert_dk_ok(DK__BK->library->hmac_sha256(key, cases[t].key_len, &whole, 1, mac));
        ck_assert_msg(memcmp(mac, expect, 32) == 0, "RFC 4231 case %zu", t);
        dk_bk_iov parts[] = {{msg, 3}, {msg + 3, 0}, {msg + 3, msg_len - 3}};
        memset(mac, 0, sizeof mac);
        ck_assert_dk_ok(DK__BK->library->hmac_sha256(key, cases[t].key_len, parts, 3, mac));
        ck_assert_msg(memcmp(mac, expect, 32) == 0, "RFC 4231 case %zu in parts", t);
    }
}
END_TEST

/* A cookie is an HMAC per ClientHello from an unknown source: after the
 * first (per-thread set-up), none may allocate, anywhere in the process. */
START_TEST(hmac_allocates_nothing)
{
    ck_assert_dk_ok(dk_init());
    static const uint8_t key[32] = {1, 2, 3};
    uint8_t msg[200], mac[32];
    memset(msg, 0x5a, sizeof msg);
    dk_bk_iov parts[] = {{msg, 18}, {msg + 18, 2}, {msg + 20, 32}, {msg + 52, 100}};
    dk_err e = DK__BK->library->hmac_sha256(key, sizeof key, parts, 4, mac);
    ck_assert_int_eq(e, DK_OK);
    uint64_t before = tu_alloc_count();
    int failed = 0;
    for (int i = 0; i < 1000; i++) {
        msg[i % sizeof msg]++;
        failed += DK__BK->library->hmac_sha256(key, sizeof key, parts, 4, mac) != DK_OK;
    }
    uint64_t allocs = tu_alloc_count() - before;
    if (!tu_alloc_whole_process())
        printf("note: a sanitizer owns malloc; only the core's allocations are counted\n");
    printf("%s: %llu allocations in 1000 HMACs\n", dk_backend_name(), (unsigned long long)allocs);
    ck_assert_int_eq(failed, 0);
    ck_assert_uint_eq(allocs, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cookies");
    TCase *tc = tcase_create("wrong");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, wrong_cookie_admission);
    tcase_add_test(tc, wrong_cookie_godot);
    suite_add_tcase(s, tc);
    tc = tcase_create("rotation");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, previous_secret_accepted_admission);
    tcase_add_test(tc, previous_secret_accepted_godot);
    tcase_add_test(tc, retired_secret_refused_admission);
    tcase_add_test(tc, retired_secret_refused_godot);
    tcase_add_test(tc, client_across_rotation_admission);
    tcase_add_test(tc, client_across_rotation_godot);
    suite_add_tcase(s, tc);
    tc = tcase_create("secrets");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, explicit_secrets);
    tcase_add_test(tc, master_secret_shared_by_servers);
    tcase_add_test(tc, master_secret_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("hmac");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hmac_known_answers);
    tcase_add_test(tc, hmac_allocates_nothing);
    suite_add_tcase(s, tc);
    printf("backend: %s (%s)\n", dk_backend_name(), dk_backend_version());
    return tu_run(s);
}
