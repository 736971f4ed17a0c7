/* Pre-shared keys (RFC 4279) and the CCM-8 suites CoAP mandates (RFC 7252
 * 9.1.3), on the backend compiled in: options, every suite the library
 * claims, identities, failures and their reasons. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const uint8_t key_a[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t key_b[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* The server's table: "dev-1" -> key_a, "dev-2" -> key_b; anything else is
 * unknown. `user` counts the calls. Identity "long" gets an oversized
 * answer. */
static size_t lookup(void *user, const char *identity, uint8_t *key, size_t cap)
{
    (*(int *)user)++;
    const uint8_t *k = NULL;
    if (!strcmp(identity, "dev-1"))
        k = key_a;
    else if (!strcmp(identity, "dev-2"))
        k = key_b;
    else if (!strcmp(identity, "long"))
        return cap + 1;
    if (!k || cap < 16)
        return 0;
    memcpy(key, k, 16);
    return 16;
}

static int lookups;

static tu_server *psk_server(bool with_cert, int hs_timeout_ms)
{
    dk_tls_options *o;
    if (with_cert) {
        dk_key *k = tu_key("server.key");
        dk_cert *c = tu_cert("server-chain.pem");
        o = dk_tls_options_server(k, c, NULL);
        ck_assert_ptr_nonnull(o);
        ck_assert_dk_ok(dk_tls_options_set_psk(o, "dtlskit test", lookup, &lookups));
        dk_key_free(k);
        dk_cert_free(c);
    } else {
        dk_err e;
        o = dk_tls_options_server_psk("dtlskit test", lookup, &lookups, &e);
        ck_assert_msg(o != NULL, "server_psk: %s", dk_last_error());
    }
    tu_server *s = tu_server_start_opts("127.0.0.1", o, true);
    dk_tls_options_free(o);
    if (hs_timeout_ms)
        ck_assert_dk_ok(dk_dtls_server_set_handshake_timeout(s->dtls, hs_timeout_ms));
    return s;
}

static dk_tls_options *psk_client_opts(const char *id, const uint8_t *key, size_t len)
{
    dk_err e;
    dk_tls_options *o = dk_tls_options_client_psk(id, key, len, &e);
    ck_assert_msg(o != NULL, "client_psk: %s", dk_last_error());
    return o;
}

/* A client whose handshake gives up after `ms`. */
static dk_dtls_peer *client_within(int port, const dk_tls_options *o, int ms)
{
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    ck_assert_ptr_nonnull(udp);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, "127.0.0.1", port));
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_dk_ok(dk_dtls_peer_set_handshake_timeout(c, ms));
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, NULL, o));
    return c;
}

static void echo(tu_server *s, dk_dtls_peer *c, const char *msg)
{
    ck_assert_dk_ok(dk_dtls_peer_put_packet(c, msg, strlen(msg)));
    ck_assert_msg(tu_wait_packet(s, c, 3000), "no echo of '%s'", msg);
    char buf[256];
    size_t n = 0;
    ck_assert_dk_ok(dk_dtls_peer_get_packet(c, buf, sizeof buf, &n));
    ck_assert_uint_eq(n, strlen(msg));
    ck_assert(memcmp(buf, msg, n) == 0);
}

static bool is_psk(uint16_t suite)
{
    const char *n = dk_cipher_suite_name(suite);
    return n && strstr(n, "_PSK_");
}

/* ------------------------------------------------------------- options */

START_TEST(options_refuse_bad_input)
{
    dk_err e;
    char id129[130];
    memset(id129, 'i', 129);
    id129[129] = '\0';
    uint8_t key65[65] = {1};
    ck_assert_ptr_null(dk_tls_options_client_psk(NULL, key_a, 16, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_tls_options_client_psk("", key_a, 16, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_tls_options_client_psk("dev-1", NULL, 16, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_tls_options_client_psk("dev-1", key_a, 0, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_tls_options_client_psk(id129, key_a, 16, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    ck_assert_msg(strstr(dk_last_error(), "over 128"), "%s", dk_last_error());
    id129[128] = '\0'; /* 128 bytes: the limit itself is fine */
    dk_tls_options *ok = dk_tls_options_client_psk(id129, key_a, 16, &e);
    ck_assert_ptr_nonnull(ok);
    dk_tls_options_free(ok);
    ck_assert_ptr_null(dk_tls_options_client_psk("dev\n1", key_a, 16, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    ck_assert_ptr_null(dk_tls_options_client_psk("dev-1", key65, 65, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    ck_assert_msg(strstr(dk_last_error(), "over 64"), "%s", dk_last_error());
    /* 33 bytes: within RFC 4279's 64, beyond mbedTLS 2.28's 32. */
    dk_tls_options *k33 = dk_tls_options_client_psk("dev-1", key65, 33, &e);
    if (!strcmp(dk_backend_name(), "mbedtls")) {
        ck_assert_ptr_null(k33);
        ck_assert_int_eq(e, DK_ERR_UNAVAILABLE);
        ck_assert_msg(strstr(dk_last_error(), "32 at most"), "%s", dk_last_error());
    } else {
        ck_assert_msg(k33 != NULL, "%s", dk_last_error());
    }
    dk_tls_options_free(k33);

    ck_assert_ptr_null(dk_tls_options_server_psk("hint", NULL, NULL, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    dk_tls_options *hint128 = dk_tls_options_server_psk(id129, lookup, NULL, &e);
    ck_assert_ptr_nonnull(hint128); /* a hint of 128 bytes: the limit itself */
    dk_tls_options_free(hint128);
    memset(id129, 'h', 129);
    id129[129] = '\0';
    ck_assert_ptr_null(dk_tls_options_server_psk(id129, lookup, NULL, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);

    /* PSK on client options, or on NULL. */
    dk_tls_options *cl = tu_client_opts();
    ck_assert_int_eq(dk_tls_options_set_psk(cl, NULL, lookup, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_tls_options_set_psk(NULL, NULL, lookup, NULL), DK_ERR_INVALID);

    /* Suites: unknown ids, NULL, too many, none fitting the credentials. */
    const uint16_t unknown[] = {0x002F};
    ck_assert_int_eq(dk_tls_options_set_cipher_suites(cl, unknown, 1), DK_ERR_INVALID);
    ck_assert_int_eq(dk_tls_options_set_cipher_suites(cl, NULL, 2), DK_ERR_INVALID);
    uint16_t many[33];
    for (int i = 0; i < 33; i++)
        many[i] = 0xC02B;
    ck_assert_int_eq(dk_tls_options_set_cipher_suites(cl, many, 33), DK_ERR_INVALID);
    const uint16_t psk_only[] = {DK_SUITE_ECDHE_PSK_CHACHA20};
    ck_assert_int_eq(dk_tls_options_set_cipher_suites(cl, psk_only, 1), DK_ERR_INVALID);
    ck_assert_msg(strstr(dk_last_error(), "credentials"), "%s", dk_last_error());
    ck_assert_int_eq(dk_tls_options_set_cipher_suites(NULL, psk_only, 1), DK_ERR_INVALID);
    dk_tls_options *pc = psk_client_opts("dev-1", key_a, 16);
    const uint16_t cert_only[] = {DK_SUITE_ECDHE_ECDSA_AES_128_GCM};
    ck_assert_int_eq(dk_tls_options_set_cipher_suites(pc, cert_only, 1), DK_ERR_INVALID);
    /* n == 0 restores the default. */
    ck_assert_dk_ok(dk_tls_options_set_cipher_suites(pc, NULL, 0));
    dk_tls_options_free(pc);
    dk_tls_options_free(cl);
}
END_TEST

/* The core derives DK_CAP_PSK and DK_CAP_CCM8 from what the library says it
 * negotiates; every backend of this project has both. */
START_TEST(caps_follow_suites)
{
    uint32_t caps = dk_backend_caps();
    ck_assert(caps & DK_CAP_PSK);
    ck_assert(caps & DK_CAP_CCM8);
    ck_assert(dk_cipher_suite_available(DK_SUITE_ECDHE_ECDSA_AES_128_CCM_8));
    ck_assert(dk_cipher_suite_available(DK_SUITE_ECDHE_PSK_CHACHA20));
    ck_assert(!dk_cipher_suite_available(0x002F)); /* CBC: never */
    ck_assert_str_eq(dk_cipher_suite_name(DK_SUITE_PSK_AES_128_CCM_8),
                     "TLS_PSK_WITH_AES_128_CCM_8");
    ck_assert_ptr_null(dk_cipher_suite_name(0x002F));
}
END_TEST

/* ----------------------------------------------------------- handshakes */

START_TEST(psk_handshake_and_echo)
{
    lookups = 0;
    tu_server *s = psk_server(false, 0);
    dk_tls_options *o = psk_client_opts("dev-1", key_a, sizeof key_a);
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, NULL, o);
    ck_assert_str_eq(dk_dtls_peer_get_psk_identity(c), "");
    ck_assert_msg(tu_handshake(s, &c, 1, 10000) == 1, "handshake: %s",
                  dk_dtls_peer_get_error_reason(c));
    ck_assert_int_eq(s->npeers, 1);
    tu_run_for(s, &c, 1, 50);
    dk_dtls_peer *sp = s->peers[0];
    ck_assert_int_eq(dk_dtls_peer_get_status(sp), DK_DTLS_CONNECTED);
    ck_assert_int_ge(lookups, 1);
    uint16_t suite = dk_dtls_peer_get_cipher_suite(c);
    ck_assert_msg(is_psk(suite), "suite 0x%04X", suite);
    ck_assert_uint_eq(dk_dtls_peer_get_cipher_suite(sp), suite);
    ck_assert_str_eq(dk_dtls_peer_get_psk_identity(sp), "dev-1");
    ck_assert_str_eq(dk_dtls_peer_get_psk_identity(c), "dev-1");
    /* A PSK session has no certificate to show. */
    dk_err e;
    ck_assert_ptr_null(dk_dtls_peer_get_peer_certificate(c, &e));
    fprintf(stderr, "%s: PSK default suite %s (%s)\n", dk_backend_name(),
            dk_cipher_suite_name(suite), dk_dtls_peer_get_cipher(c));
    for (int i = 0; i < 5; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "psk message %d", i);
        echo(s, c, msg);
    }
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* What the library claims (dk_cipher_suite_available) is what it
 * negotiates: each available suite, alone on the client, completes a
 * handshake with that suite and carries data both ways; each unavailable one
 * is refused when set. The server accepts every kind of client (EC
 * certificate and PSK; an RSA certificate for the RSA suites). */
START_TEST(every_available_suite_negotiates)
{
    static const uint16_t all[] = {0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0xC02C, 0xC030,
                                   0xC0AE, 0xCCAC, 0x00A8, 0xC0A8, 0xCCAB};
    tu_server *ec = psk_server(true, 0);
    tu_server *rsa = tu_server_start("127.0.0.1", "rsa-chain.pem", "rsa.key", true);
    int done = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        uint16_t id = all[i];
        bool psk = is_psk(id);
        dk_tls_options *o = psk ? psk_client_opts("dev-2", key_b, sizeof key_b) : tu_client_opts();
        dk_err e = dk_tls_options_set_cipher_suites(o, &id, 1);
        if (!dk_cipher_suite_available(id)) {
            ck_assert_int_eq(e, DK_ERR_UNAVAILABLE);
            fprintf(stderr, "%s: %s not in this library build\n", dk_backend_name(),
                    dk_cipher_suite_name(id));
            dk_tls_options_free(o);
            continue;
        }
        ck_assert_dk_ok(e);
        tu_server *s = strstr(dk_cipher_suite_name(id), "_RSA_") ? rsa : ec;
        dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
        ck_assert_msg(tu_handshake(s, &c, 1, 10000) == 1, "%s: %s", dk_cipher_suite_name(id),
                      dk_dtls_peer_get_error_reason(c));
        ck_assert_msg(dk_dtls_peer_get_cipher_suite(c) == id, "%s: got 0x%04X",
                      dk_cipher_suite_name(id), dk_dtls_peer_get_cipher_suite(c));
        ck_assert_str_eq(dk_dtls_peer_get_psk_identity(c), psk ? "dev-2" : "");
        echo(s, c, dk_cipher_suite_name(id));
        dk_dtls_peer_free(c);
        dk_tls_options_free(o);
        done++;
    }
    ck_assert_int_ge(done, 9);
    tu_server_free(ec);
    tu_server_free(rsa);
}
END_TEST

/* CoAP's mandatory suites: a device that offers only CCM-8 is served, and
 * a modern client offering everything still gets GCM, not CCM-8. */
START_TEST(ccm8_only_clients_served)
{
    tu_server *s = psk_server(true, 0);
    /* Certificates: ECDHE-ECDSA-AES128-CCM8 only. */
    const uint16_t cert_ccm8[] = {DK_SUITE_ECDHE_ECDSA_AES_128_CCM_8};
    dk_tls_options *co = tu_client_opts();
    ck_assert_dk_ok(dk_tls_options_set_cipher_suites(co, cert_ccm8, 1));
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", co);
    ck_assert_msg(tu_handshake(s, &c, 1, 10000) == 1, "%s", dk_dtls_peer_get_error_reason(c));
    ck_assert_uint_eq(dk_dtls_peer_get_cipher_suite(c), DK_SUITE_ECDHE_ECDSA_AES_128_CCM_8);
    echo(s, c, "coap over ccm-8");
    dk_dtls_peer_free(c);
    dk_tls_options_free(co);
    /* PSK: PSK-AES128-CCM8 only, where the library has it. */
    if (dk_cipher_suite_available(DK_SUITE_PSK_AES_128_CCM_8)) {
        const uint16_t psk_ccm8[] = {DK_SUITE_PSK_AES_128_CCM_8};
        dk_tls_options *po = psk_client_opts("dev-1", key_a, sizeof key_a);
        ck_assert_dk_ok(dk_tls_options_set_cipher_suites(po, psk_ccm8, 1));
        c = tu_client("127.0.0.1", s->port, NULL, po);
        ck_assert_msg(tu_handshake(s, &c, 1, 10000) == 1, "%s", dk_dtls_peer_get_error_reason(c));
        ck_assert_uint_eq(dk_dtls_peer_get_cipher_suite(c), DK_SUITE_PSK_AES_128_CCM_8);
        echo(s, c, "psk over ccm-8");
        dk_dtls_peer_free(c);
        dk_tls_options_free(po);
    }
    /* The default client: not CCM-8. */
    co = tu_client_opts();
    c = tu_client("127.0.0.1", s->port, "localhost", co);
    ck_assert_msg(tu_handshake(s, &c, 1, 10000) == 1, "%s", dk_dtls_peer_get_error_reason(c));
    ck_assert_uint_eq(dk_dtls_peer_get_cipher_suite(c), DK_SUITE_ECDHE_ECDSA_AES_128_GCM);
    dk_dtls_peer_free(c);
    dk_tls_options_free(co);
    tu_server_free(s);
}
END_TEST

/* One server, both kinds of client at once. */
START_TEST(psk_and_certificate_clients_on_one_server)
{
    lookups = 0;
    tu_server *s = psk_server(true, 0);
    dk_tls_options *po = psk_client_opts("dev-2", key_b, sizeof key_b);
    dk_tls_options *co = tu_client_opts();
    dk_dtls_peer *c[2] = {tu_client("127.0.0.1", s->port, NULL, po),
                          tu_client("127.0.0.1", s->port, "localhost", co)};
    ck_assert_msg(tu_handshake(s, c, 2, 10000) == 2, "%s / %s", dk_dtls_peer_get_error_reason(c[0]),
                  dk_dtls_peer_get_error_reason(c[1]));
    tu_run_for(s, c, 2, 50);
    ck_assert_int_eq(s->npeers, 2);
    ck_assert(is_psk(dk_dtls_peer_get_cipher_suite(c[0])));
    ck_assert(!is_psk(dk_dtls_peer_get_cipher_suite(c[1])));
    int psk_sessions = 0, cert_sessions = 0;
    for (int i = 0; i < 2; i++) {
        dk_dtls_peer *sp = s->peers[i];
        ck_assert_int_eq(dk_dtls_peer_get_status(sp), DK_DTLS_CONNECTED);
        if (is_psk(dk_dtls_peer_get_cipher_suite(sp))) {
            ck_assert_str_eq(dk_dtls_peer_get_psk_identity(sp), "dev-2");
            psk_sessions++;
        } else {
            ck_assert_str_eq(dk_dtls_peer_get_psk_identity(sp), "");
            cert_sessions++;
        }
    }
    ck_assert_int_eq(psk_sessions, 1);
    ck_assert_int_eq(cert_sessions, 1);
    echo(s, c[0], "from the device");
    echo(s, c[1], "from the certificate client");
    dk_err e;
    dk_cert *chain = dk_dtls_peer_get_peer_certificate(c[1], &e);
    ck_assert_ptr_nonnull(chain); /* the certificate client verified the server */
    dk_cert_free(chain);
    dk_dtls_peer_free(c[0]);
    dk_dtls_peer_free(c[1]);
    dk_tls_options_free(po);
    dk_tls_options_free(co);
    tu_server_free(s);
}
END_TEST

/* A certificate-only server has no PSK suite to offer a PSK client. */
START_TEST(certificate_server_refuses_psk_client)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    ck_assert_dk_ok(dk_dtls_server_set_handshake_timeout(s->dtls, 3000));
    dk_tls_options *o = psk_client_opts("dev-1", key_a, sizeof key_a);
    dk_dtls_peer *c = client_within(s->port, o, 3000);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 6000), 0);
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_ERROR);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* ------------------------------------------------------------- failures */

START_TEST(unknown_identity_fails_with_reason)
{
    lookups = 0;
    tu_server *s = psk_server(false, 3000);
    dk_tls_options *o = psk_client_opts("nobody", key_a, sizeof key_a);
    dk_dtls_peer *c = client_within(s->port, o, 3000);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 6000), 0);
    tu_run_for(s, &c, 1, 100);
    ck_assert_int_ge(lookups, 1);
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_ERROR);
    const char *cr = dk_dtls_peer_get_error_reason(c);
    fprintf(stderr, "%s: unknown identity, client: %s\n", dk_backend_name(), cr);
    ck_assert_int_eq(s->npeers, 1);
    dk_dtls_peer *sp = s->peers[0];
    ck_assert_int_eq(dk_dtls_peer_get_status(sp), DK_DTLS_ERROR);
    const char *sr = dk_dtls_peer_get_error_reason(sp);
    fprintf(stderr, "%s: unknown identity, server: %s\n", dk_backend_name(), sr);
    ck_assert_msg(strstr(sr, "unknown PSK identity \"nobody\""), "server: %s", sr);
    ck_assert_int_eq(dk_dtls_peer_get_error(sp), DK_ERR_HANDSHAKE);
    ck_assert_str_eq(dk_dtls_peer_get_psk_identity(sp), "");
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* A wrong key cannot be told from a lost Finished on the wire (DTLS drops
 * what does not authenticate): both sides name the likely cause. */
START_TEST(wrong_key_fails_with_reason)
{
    lookups = 0;
    tu_server *s = psk_server(false, 2500);
    dk_tls_options *o = psk_client_opts("dev-1", key_b, sizeof key_b); /* dev-1 has key_a */
    dk_dtls_peer *c = client_within(s->port, o, 2500);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 6000), 0);
    tu_run_for(s, &c, 1, 100);
    ck_assert_int_eq(dk_dtls_peer_get_status(c), DK_DTLS_ERROR);
    const char *cr = dk_dtls_peer_get_error_reason(c);
    fprintf(stderr, "%s: wrong key, client: %s\n", dk_backend_name(), cr);
    ck_assert_msg(strstr(cr, "pre-shared key") || strstr(cr, "decrypt") ||
                      strstr(cr, "bad_record_mac"),
                  "client: %s", cr);
    ck_assert_int_eq(s->npeers, 1);
    dk_dtls_peer *sp = s->peers[0];
    ck_assert_int_eq(dk_dtls_peer_get_status(sp), DK_DTLS_ERROR);
    const char *sr = dk_dtls_peer_get_error_reason(sp);
    fprintf(stderr, "%s: wrong key, server: %s\n", dk_backend_name(), sr);
    ck_assert_msg(strstr(sr, "pre-shared key") && strstr(sr, "\"dev-1\""), "server: %s", sr);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

/* A lookup that answers more than the library can take fails the
 * handshake instead of overflowing the library's buffer. */
START_TEST(oversized_lookup_answer_fails)
{
    tu_server *s = psk_server(false, 3000);
    dk_tls_options *o = psk_client_opts("long", key_a, sizeof key_a);
    dk_dtls_peer *c = client_within(s->port, o, 3000);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 6000), 0);
    tu_run_for(s, &c, 1, 100);
    ck_assert_int_eq(s->npeers, 1);
    const char *sr = dk_dtls_peer_get_error_reason(s->peers[0]);
    ck_assert_msg(strstr(sr, "longer than the library takes"), "server: %s", sr);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("psk");
    TCase *tc = tcase_create("options");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, options_refuse_bad_input);
    tcase_add_test(tc, caps_follow_suites);
    suite_add_tcase(s, tc);
    tc = tcase_create("handshakes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, psk_handshake_and_echo);
    tcase_add_test(tc, every_available_suite_negotiates);
    tcase_add_test(tc, ccm8_only_clients_served);
    tcase_add_test(tc, psk_and_certificate_clients_on_one_server);
    tcase_add_test(tc, certificate_server_refuses_psk_client);
    suite_add_tcase(s, tc);
    tc = tcase_create("failures");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, unknown_identity_fails_with_reason);
    tcase_add_test(tc, wrong_key_fails_with_reason);
    tcase_add_test(tc, oversized_lookup_answer_fails);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
