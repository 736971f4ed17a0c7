/* Session resumption with tickets (RFC 5077) on the backend compiled in:
 * resume, tickets the server must refuse (expired, other keys, rotated
 * twice), keys shared by two servers, resumption under loss, sessions saved
 * and loaded, and bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "relay.h"
#include "testutil.h"

#define HOUR_MS 3600000

static dk_tls_options *opts;

static void setup(void)
{
    opts = tu_client_opts();
}

static void teardown(void)
{
    dk_tls_options_free(opts);
    opts = NULL;
}

/* A client to `port` as "localhost" offering `session` (may be NULL). */
static dk_dtls_peer *client_with(int port, const dk_dtls_session *session)
{
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    ck_assert_ptr_nonnull(udp);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, "127.0.0.1", port));
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    ck_assert_ptr_nonnull(c);
    if (session)
        ck_assert_dk_ok(dk_dtls_peer_set_session(c, session));
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, "localhost", opts));
    return c;
}

static void echo(tu_server *s, dk_dtls_peer *c, const char *msg)
{
    ck_assert_dk_ok(dk_dtls_peer_put_packet(c, msg, strlen(msg)));
    ck_assert_msg(tu_wait_packet(s, c, 3000), "no echo of '%s'", msg);
    char buf[128];
    size_t n = 0;
    ck_assert_dk_ok(dk_dtls_peer_get_packet(c, buf, sizeof buf, &n));
    ck_assert_uint_eq(n, strlen(msg));
    ck_assert(memcmp(buf, msg, n) == 0);
}

/* Connects (offering `session`), checks the echo and returns whether the
 * handshake was a resumption; *next receives the session to resume with
 * afterwards (NULL: not wanted). */
static bool connect_once(tu_server *s, const dk_dtls_session *session, dk_dtls_session **next)
{
    dk_dtls_peer *c = client_with(s->port, session);
    ck_assert_msg(tu_handshake(s, &c, 1, 10000) == 1, "handshake: %s",
                  dk_dtls_peer_get_error_reason(c));
    echo(s, c, "after the handshake");
    bool reused = dk_dtls_peer_is_session_reused(c);
    /* The server's session says the same. */
    tu_run_for(s, &c, 1, 20);
    dk_dtls_peer *sp = s->peers[s->npeers - 1];
    ck_assert_int_eq(dk_dtls_peer_get_status(sp), DK_DTLS_CONNECTED);
    ck_assert_int_eq(dk_dtls_peer_is_session_reused(sp), reused);
    if (next) {
        dk_err e;
        *next = dk_dtls_peer_get_session(c, &e);
        ck_assert_msg(*next != NULL, "get_session: %s", dk_last_error());
        ck_assert_str_eq(dk_dtls_session_get_server_name(*next), "localhost");
    }
    dk_dtls_peer_disconnect_from_peer(c);
    dk_dtls_peer_free(c);
    return reused;
}

static tu_server *server(void)
{
    return tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
}

START_TEST(resumes_with_a_ticket)
{
    tu_server *s = server();
    dk_dtls_session *first = NULL, *second = NULL;
    ck_assert(!connect_once(s, NULL, &first));
    ck_assert(connect_once(s, first, &second));
    /* The session of a resumed connection resumes again. */
    ck_assert(connect_once(s, second, NULL));
    dk_dtls_session_free(first);
    dk_dtls_session_free(second);
    tu_server_free(s);
}
END_TEST

START_TEST(saved_session_resumes)
{
    tu_server *s = server();
    dk_dtls_session *first = NULL;
    ck_assert(!connect_once(s, NULL, &first));
    uint8_t *bytes = NULL;
    size_t len = 0;
    ck_assert_dk_ok(dk_dtls_session_save(first, &bytes, &len));
    dk_dtls_session_free(first);
    dk_err e;
    dk_dtls_session *loaded = dk_dtls_session_load(bytes, len, &e);
    ck_assert_msg(loaded != NULL, "load: %s", dk_last_error());
    ck_assert(connect_once(s, loaded, NULL));
    /* Truncated, padded, corrupt magic, another backend's. */
    ck_assert_ptr_null(dk_dtls_session_load(bytes, len - 1, &e));
    ck_assert_int_eq(e, DK_ERR_PARSE);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, bytes, len);
    longer[len] = 0;
    ck_assert_ptr_null(dk_dtls_session_load(longer, len + 1, &e));
    ck_assert_int_eq(e, DK_ERR_PARSE);
    memcpy(longer, bytes, len);
    longer[0] = 'X';
    ck_assert_ptr_null(dk_dtls_session_load(longer, len, &e));
    ck_assert_int_eq(e, DK_ERR_PARSE);
    memcpy(longer, bytes, len);
    longer[5] ^= 0x20; /* first letter of the backend's name */
    ck_assert_ptr_null(dk_dtls_session_load(longer, len, &e));
    ck_assert_int_eq(e, DK_ERR_UNAVAILABLE);
    ck_assert_ptr_null(dk_dtls_session_load(NULL, 10, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    /* Bytes the library cannot read: a full handshake, not a failure. */
    memcpy(longer, bytes, len);
    for (size_t i = len - 40; i < len; i++)
        longer[i] ^= 0x5a;
    dk_dtls_session *garbled = dk_dtls_session_load(longer, len, &e);
    ck_assert_ptr_nonnull(garbled);
    ck_assert(!connect_once(s, garbled, NULL));
    dk_dtls_session_free(garbled);
    free(longer);
    dk_free(bytes);
    dk_dtls_session_free(loaded);
    tu_server_free(s);
}
END_TEST

/* A session is never offered to another server name. */
START_TEST(other_server_name_gets_no_offer)
{
    tu_server *s = server();
    dk_dtls_session *first = NULL;
    ck_assert(!connect_once(s, NULL, &first));
    dk_err e;
    dk_cert *ca = tu_cert("ca.pem");
    dk_tls_options *o = dk_tls_options_client(ca, "localhost", &e); /* verify as localhost... */
    dk_cert_free(ca);
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, "127.0.0.1", s->port));
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    ck_assert_dk_ok(dk_dtls_peer_set_session(c, first));
    ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, "127.0.0.1", o)); /* ...at an IP */
    ck_assert_msg(tu_handshake(s, &c, 1, 10000) == 1, "%s", dk_dtls_peer_get_error_reason(c));
    ck_assert(!dk_dtls_peer_is_session_reused(c));
    dk_dtls_session *mine = dk_dtls_peer_get_session(c, &e);
    ck_assert_ptr_nonnull(mine);
    ck_assert_str_eq(dk_dtls_session_get_server_name(mine), "127.0.0.1");
    dk_dtls_session_free(mine);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    dk_dtls_session_free(first);
    tu_server_free(s);
}
END_TEST

START_TEST(expired_ticket_gets_a_full_handshake)
{
    tu_server *s = server();
    ck_assert_dk_ok(dk_dtls_server_set_ticket_lifetime(s->dtls, 1));
    dk_dtls_session *first = NULL;
    ck_assert(!connect_once(s, NULL, &first));
    tu_sleep_ms(2100); /* the libraries' session clocks are real time */
    ck_assert(!connect_once(s, first, NULL));
    dk_dtls_session_free(first);
    tu_server_free(s);
}
END_TEST

START_TEST(other_keys_get_a_full_handshake)
{
    tu_server *a = server(), *b = server();
    dk_dtls_session *first = NULL;
    ck_assert(!connect_once(a, NULL, &first));
    ck_assert(!connect_once(b, first, NULL)); /* b's random secret */
    dk_dtls_session_free(first);
    tu_server_free(a);
    tu_server_free(b);
}
END_TEST

START_TEST(shared_secret_resumes_across_servers)
{
    static const char secret[] = "a ticket secret shared by two servers";
    tu_server *a = server(), *b = server();
    ck_assert_dk_ok(dk_dtls_server_set_ticket_secret(a->dtls, secret, sizeof secret - 1));
    ck_assert_dk_ok(dk_dtls_server_set_ticket_secret(b->dtls, secret, sizeof secret - 1));
    dk_dtls_session *first = NULL, *second = NULL;
    ck_assert(!connect_once(a, NULL, &first));
    ck_assert(connect_once(b, first, &second));
    ck_assert(connect_once(a, second, NULL));
    dk_dtls_session_free(first);
    dk_dtls_session_free(second);
    tu_server_free(a);
    tu_server_free(b);
}
END_TEST

/* One master secret (issue 16's workers and hosts): tickets travel too;
 * a server with another master secret gives a full handshake. */
START_TEST(master_secret_resumes_across_servers)
{
    static const char master[] = "a master secret shared by the nodes";
    tu_server *a = server(), *b = server(), *c = server();
    ck_assert_dk_ok(dk_dtls_server_set_master_secret(a->dtls, master, sizeof master - 1));
    ck_assert_dk_ok(dk_dtls_server_set_master_secret(b->dtls, master, sizeof master - 1));
    ck_assert_dk_ok(dk_dtls_server_set_master_secret(c->dtls, "not the same master", 19));
    dk_dtls_session *first = NULL, *second = NULL;
    ck_assert(!connect_once(a, NULL, &first));
    ck_assert(connect_once(b, first, &second));
    ck_assert(!connect_once(c, second, NULL));
    ck_assert(connect_once(a, second, NULL));
    dk_dtls_session_free(first);
    dk_dtls_session_free(second);
    tu_server_free(a);
    tu_server_free(b);
    tu_server_free(c);
}
END_TEST

/* Keys are accepted for their period and the next one. */
START_TEST(rotated_once_resumes_twice_does_not)
{
    tu_server *s = server();
    ck_assert_dk_ok(dk_dtls_server_set_ticket_rotation(s->dtls, HOUR_MS));
    /* Start at the beginning of a period, so that real time cannot cross
     * into the next one during the test. */
    uint64_t into = dk__wall_ms() % HOUR_MS;
    dk__clock_advance_ms(HOUR_MS - into + 10);
    dk_dtls_session *first = NULL;
    ck_assert(!connect_once(s, NULL, &first));
    dk__clock_advance_ms(HOUR_MS);
    ck_assert(connect_once(s, first, NULL)); /* the previous period's key */
    dk__clock_advance_ms(HOUR_MS);
    ck_assert(!connect_once(s, first, NULL)); /* two periods old */
    dk_dtls_session_free(first);
    tu_server_free(s);
}
END_TEST

START_TEST(tickets_off)
{
    tu_server *s = server();
    ck_assert_dk_ok(dk_dtls_server_set_tickets(s->dtls, false));
    dk_dtls_peer *c = client_with(s->port, NULL);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
    dk_err e;
    ck_assert_ptr_null(dk_dtls_peer_get_session(c, &e));
    ck_assert_int_eq(e, DK_ERR_UNAVAILABLE);
    dk_dtls_peer_free(c);
    tu_server_free(s);
}
END_TEST

static size_t psk_lookup(void *user, const char *identity, uint8_t *key, size_t cap)
{
    (void)user;
    if (strcmp(identity, "dev") != 0 || cap < 16)
        return 0;
    memset(key, 0x42, 16);
    return 16;
}

/* A resumed PSK session would not ask the lookup again (a revoked identity
 * would resume): PSK servers issue tickets only when told to. */
START_TEST(psk_servers_issue_tickets_only_when_told)
{
    dk_err e;
    dk_tls_options *so = dk_tls_options_server_psk(NULL, psk_lookup, NULL, &e);
    ck_assert_ptr_nonnull(so);
    uint8_t key[16];
    memset(key, 0x42, sizeof key);
    dk_tls_options *co = dk_tls_options_client_psk("dev", key, sizeof key, &e);
    ck_assert_ptr_nonnull(co);
    for (int told = 0; told < 2; told++) {
        tu_server *s = tu_server_start_opts("127.0.0.1", so, true);
        if (told)
            ck_assert_dk_ok(dk_dtls_server_set_tickets(s->dtls, true));
        dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "psk-server", co);
        ck_assert_msg(tu_handshake(s, &c, 1, 10000) == 1, "%s", dk_dtls_peer_get_error_reason(c));
        dk_dtls_session *got = dk_dtls_peer_get_session(c, &e);
        dk_dtls_peer_free(c);
        if (!told) {
            ck_assert_ptr_null(got);
            ck_assert_int_eq(e, DK_ERR_UNAVAILABLE);
        } else {
            ck_assert_ptr_nonnull(got);
            c = dk_dtls_peer_new(NULL);
            dk_udp_peer *udp = dk_udp_peer_new(NULL);
            ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, "127.0.0.1", s->port));
            ck_assert_dk_ok(dk_dtls_peer_set_session(c, got));
            ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, "psk-server", co));
            ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
            ck_assert(dk_dtls_peer_is_session_reused(c));
            dk_dtls_peer_free(c);
            dk_dtls_session_free(got);
        }
        tu_server_free(s);
    }
    dk_tls_options_free(co);
    dk_tls_options_free(so);
}
END_TEST

/* Moves the relay, the server and the client once. */
static void step_all(tu_relay *r, tu_server *s, dk_dtls_peer *c)
{
    tu_relay_step(r);
    tu_server_step(s);
    dk_dtls_peer_poll(c);
    tu_relay_step(r);
}

/* A resumed session through 30% loss, duplication and reordering each
 * way: it completes and carries numbered messages (resent until echoed). */
START_TEST(resumes_under_loss)
{
    tu_server *s = server();
    ck_assert_dk_ok(dk_dtls_server_set_retransmit(s->dtls, 50, 800));
    dk_dtls_session *first = NULL;
    ck_assert(!connect_once(s, NULL, &first));
    int resumed = 0;
    for (uint32_t seed = 1; seed <= 3; seed++) {
        tu_relay *r = tu_relay_new("127.0.0.1", s->port, false, seed);
        tu_impair *ways[2] = {tu_relay_up(r), tu_relay_down(r)};
        for (int i = 0; i < 2; i++) {
            ways[i]->loss = 0.30;
            ways[i]->duplicate = 0.10;
            ways[i]->reorder = 0.10;
        }
        dk_udp_peer *udp = dk_udp_peer_new(NULL);
        ck_assert_dk_ok(dk_udp_peer_connect_to_host(udp, "127.0.0.1", tu_relay_port(r)));
        dk_dtls_peer *c = dk_dtls_peer_new(NULL);
        ck_assert_dk_ok(dk_dtls_peer_set_retransmit(c, 50, 800));
        ck_assert_dk_ok(dk_dtls_peer_set_session(c, first));
        ck_assert_dk_ok(dk_dtls_peer_connect_to_peer(c, udp, "localhost", opts));
        uint64_t end = tu_now_ms() + 20000;
        while (dk_dtls_peer_get_status(c) == DK_DTLS_HANDSHAKING && tu_now_ms() < end) {
            step_all(r, s, c);
            tu_sleep_ms(1);
        }
        ck_assert_msg(dk_dtls_peer_get_status(c) == DK_DTLS_CONNECTED, "seed %u: %s", seed,
                      dk_dtls_peer_get_error_reason(c));
        resumed += dk_dtls_peer_is_session_reused(c);
        int matched = 0;
        uint64_t sent_at = 0;
        end = tu_now_ms() + 20000;
        while (matched < 20 && tu_now_ms() < end) {
            char msg[48], buf[64];
            int len = snprintf(msg, sizeof msg, "resumed message %02d", matched);
            if (!sent_at || tu_now_ms() - sent_at >= 100) {
                ck_assert_dk_ok(dk_dtls_peer_put_packet(c, msg, (size_t)len));
                sent_at = tu_now_ms();
            }
            step_all(r, s, c);
            size_t n;
            while (dk_dtls_peer_get_packet(c, buf, sizeof buf, &n) == DK_OK)
                if (n == (size_t)len && memcmp(buf, msg, n) == 0) {
                    matched++; /* a duplicated echo is the next message's no more */
                    sent_at = 0;
                    break;
                }
            tu_sleep_ms(1);
        }
        ck_assert_int_eq(matched, 20);
        dk_dtls_peer_free(c);
        tu_relay_free(r);
    }
    /* Loss can cost the ticket (a retransmitted ClientHello answered in
     * full is allowed), not every time. */
    ck_assert_int_ge(resumed, 2);
    dk_dtls_session_free(first);
    tu_server_free(s);
}
END_TEST

START_TEST(bad_input)
{
    dk_dtls_session *nothing = NULL;
    ck_assert_int_eq(dk_dtls_server_set_tickets(NULL, true), DK_ERR_INVALID);
    tu_server *s = server();
    ck_assert_int_eq(dk_dtls_server_set_ticket_secret(s->dtls, "short", 5), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_ticket_secret(s->dtls, NULL, 32), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_ticket_lifetime(s->dtls, 0), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_ticket_lifetime(s->dtls, 604801), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_server_set_ticket_rotation(s->dtls, 999), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_set_session(NULL, nothing), DK_ERR_INVALID);
    dk_err e;
    dk_dtls_peer *fresh = dk_dtls_peer_new(NULL);
    ck_assert_ptr_null(dk_dtls_peer_get_session(fresh, &e));
    ck_assert_int_eq(e, DK_ERR_STATE);
    ck_assert_ptr_null(dk_dtls_peer_get_session(NULL, &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    ck_assert(!dk_dtls_peer_is_session_reused(NULL));
    dk_dtls_peer_free(fresh);
    dk_dtls_session *first = NULL;
    ck_assert(!connect_once(s, NULL, &first));
    /* While a session runs, its next offer cannot change; a server's
     * session has nothing to resume with. */
    dk_dtls_peer *c = client_with(s->port, NULL);
    ck_assert_int_eq(dk_dtls_peer_set_session(c, first), DK_ERR_STATE);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
    tu_run_for(s, &c, 1, 20);
    ck_assert_ptr_null(dk_dtls_peer_get_session(s->peers[s->npeers - 1], &e));
    ck_assert_int_eq(e, DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_session_save(NULL, NULL, NULL), DK_ERR_INVALID);
    ck_assert_str_eq(dk_dtls_session_get_server_name(NULL), "");
    dk_dtls_session_free(NULL);
    dk_dtls_peer_free(c);
    dk_dtls_session_free(first);
    tu_server_free(s);
}
END_TEST

/* A backend without DK_CAP_TICKETS (GnuTLS) makes full handshakes only: a
 * server refuses to turn tickets on, says why, and gives no ticket. */
START_TEST(server_without_tickets)
{
    tu_server *s = server();
    ck_assert_int_eq(dk_dtls_server_set_tickets(s->dtls, true), DK_ERR_UNAVAILABLE);
    ck_assert_msg(strstr(dk_last_error(), "session tickets") != NULL, "%s", dk_last_error());
    ck_assert_dk_ok(dk_dtls_server_set_tickets(s->dtls, false));
    ck_assert_int_eq(dk_dtls_server_set_tickets(NULL, true), DK_ERR_INVALID);
    /* The settings of a capable server are still accepted (and unused). */
    ck_assert_dk_ok(dk_dtls_server_set_ticket_lifetime(s->dtls, 60));
    dk_dtls_peer *c = client_with(s->port, NULL);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
    ck_assert(!dk_dtls_peer_is_session_reused(c));
    dk_err e;
    ck_assert_ptr_null(dk_dtls_peer_get_session(c, &e));
    ck_assert_int_eq(e, DK_ERR_UNAVAILABLE);
    dk_dtls_peer_free(c);
    tu_server_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resume");
    if (!(dk_backend_caps() & DK_CAP_TICKETS)) {
        printf("SKIP: ticket resumption: backend %s lacks DK_CAP_TICKETS\n", dk_backend_name());
        TCase *tc = tcase_create("unavailable");
        tcase_set_timeout(tc, 90);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, server_without_tickets);
        tcase_add_test(tc, tickets_off);
        suite_add_tcase(s, tc);
        return tu_run(s);
    }
    TCase *tc = tcase_create("tickets");
    tcase_set_timeout(tc, 90);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, resumes_with_a_ticket);
    tcase_add_test(tc, saved_session_resumes);
    tcase_add_test(tc, other_server_name_gets_no_offer);
    tcase_add_test(tc, tickets_off);
    tcase_add_test(tc, psk_servers_issue_tickets_only_when_told);
    tcase_add_test(tc, resumes_under_loss);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("keys");
    tcase_set_timeout(tc, 90);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, expired_ticket_gets_a_full_handshake);
    tcase_add_test(tc, other_keys_get_a_full_handshake);
    tcase_add_test(tc, shared_secret_resumes_across_servers);
    tcase_add_test(tc, master_secret_resumes_across_servers);
    tcase_add_test(tc, rotated_once_resumes_twice_does_not);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
