/* Many DTLS clients in one poll loop, for tests/cluster.sh: each connects,
 * keeps the session ticket it gets, and echoes MESSAGES messages one at a
 * time. An echo that does not come back in time (the server behind it
 * died) makes the client drop that session and connect again from a new
 * socket (a new source port, so a load balancer or SO_REUSEPORT places it
 * anew), offering the saved session; then it goes on with the remaining
 * messages. It counts whether each reconnection resumed.
 *
 *   cluster_client --port N --ca FILE [--host H] [--hostname NAME]
 *                  [--clients N] [--messages M] [--interval-ms MS]
 *                  [--timeout-ms MS] [--handshake-timeout-ms MS]
 *                  [--attempts N] [--stagger-ms MS] [--halfway K]
 *                  [--hold-ms MS] [--max-seconds S]
 *
 * When every client has had K echoes (--halfway, default M/2) it prints
 * "cluster: halfway"; until then a client that got there first waits for
 * the others. With --hold-ms they all go on waiting, sending nothing, until
 * SIGUSR1 arrives (or MS have passed): the test script kills a server at
 * that point, while every client holds a session and none has finished.
 * Then one line per client and a summary:
 *
 *   cluster: clients=50 finished=50 messages=1000 failovers=17 reconnected=17
 *            resumed=17 full_after_failover=0 failed_attempts=0 failed=0
 *
 * (one line). Exits 0 only when every client echoed all its messages. */
#include <dtlskit/dtlskit.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum state { START, CONNECTING, IDLE, WAITING, DONE, FAILED };

typedef struct client {
    int id;
    enum state st;
    dk_dtls_peer *dtls;
    dk_dtls_session *session; /* the last one the server gave, offered on reconnect */
    int port;                 /* local port of the current socket */
    int echoes;               /* messages echoed; the next one is number `echoes` */
    bool resent;              /* the current message was sent a second time */
    bool reconnecting;        /* the handshake under way replaces a lost session */
    uint64_t at;              /* START/IDLE: when to act; WAITING: when sent */
    int attempts;             /* handshakes started */
    int full, resumed, full_after_failover, failovers, failed_attempts;
    char ports[96]; /* the local ports used, for the summary */
    char why[160];  /* FAILED: the reason */
} client;

static struct {
    const char *host, *hostname, *ca;
    int port, clients, messages, interval_ms, timeout_ms, handshake_timeout_ms, attempts;
    int stagger_ms, halfway, hold_ms, max_seconds;
} opt = {.host = "127.0.0.1",
         .hostname = "localhost",
         .clients = 50,
         .messages = 20,
         .interval_ms = 100,
         .timeout_ms = 1500,
         .handshake_timeout_ms = 4000,
         .attempts = 8,
         .stagger_ms = 10,
         .halfway = -1,
         .max_seconds = 120};

static volatile sig_atomic_t go_on;

static void on_usr1(int sig)
{
    (void)sig;
    go_on = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --port N --ca FILE [--host H] [--hostname NAME] [--clients N]\n"
            "          [--messages M] [--interval-ms MS] [--timeout-ms MS]\n"
            "          [--handshake-timeout-ms MS] [--attempts N] [--stagger-ms MS]\n"
            "          [--halfway K] [--hold-ms MS] [--max-seconds S]\n",
            argv0);
    exit(2);
}

static void fail_client(client *c, const char *why)
{
    snprintf(c->why, sizeof c->why, "%s", why);
    printf("client %d: failed: %s\n", c->id, why);
    dk_dtls_peer_free(c->dtls);
    c->dtls = NULL;
    c->st = FAILED;
}

/* Starts a handshake from a new socket, offering the saved session. A
 * start that fails at once counts as a failed attempt. */
static void connect_client(client *c, const dk_tls_options *opts)
{
    while (c->attempts < opt.attempts) {
        c->attempts++;
        dk_udp_peer *udp = dk_udp_peer_new(NULL);
        dk_dtls_peer *dtls = dk_dtls_peer_new(NULL);
        if (udp && dtls && dk_udp_peer_connect_to_host(udp, opt.host, opt.port) == DK_OK &&
            dk_dtls_peer_set_handshake_timeout(dtls, opt.handshake_timeout_ms) == DK_OK &&
            dk_dtls_peer_set_retransmit(dtls, 500, 1000) == DK_OK &&
            (!c->session || dk_dtls_peer_set_session(dtls, c->session) == DK_OK)) {
            c->port = dk_udp_peer_get_local_port(udp);
            if (dk_dtls_peer_connect_to_peer(dtls, udp, opt.hostname, opts) == DK_OK) {
                size_t n = strlen(c->ports);
                snprintf(c->ports + n, sizeof c->ports - n, "%s%d", n ? "," : "", c->port);
                c->dtls = dtls;
                c->st = CONNECTING;
                return;
            }
            udp = NULL; /* the session owns it whatever the outcome */
        }
        printf("client %d: cannot start a handshake: %s\n", c->id, dk_last_error());
        c->failed_attempts++;
        dk_udp_peer_free(udp);
        dk_dtls_peer_free(dtls);
    }
    fail_client(c, "no handshake attempts left");
}

/* Gives up the current session (its server is gone, or the path to it)
 * and starts over from a new socket. */
static void fail_over(client *c, const dk_tls_options *opts, const char *why)
{
    printf("client %d: %s (port %d, %d/%d echoed), reconnecting\n", c->id, why, c->port, c->echoes,
           opt.messages);
    if (c->st != CONNECTING)
        c->failovers++;
    /* close_notify is harmless when nobody listens, and frees the session
     * at once when the server is alive but the path changed. */
    dk_dtls_peer_disconnect_from_peer(c->dtls);
    dk_dtls_peer_free(c->dtls);
    c->dtls = NULL;
    /* A first handshake that failed is retried, not a failover. */
    c->reconnecting = c->full + c->resumed > 0;
    connect_client(c, opts);
}

static void send_message(client *c, uint64_t now)
{
    char msg[64];
    int n = snprintf(msg, sizeof msg, "client %d message %d", c->id, c->echoes);
    /* A send error is a lost datagram: the echo timeout covers it. */
    if (dk_dtls_peer_put_packet(c->dtls, msg, (size_t)n) != DK_OK)
        printf("client %d: put_packet: %s\n", c->id, dk_last_error());
    if (c->st != WAITING) {
        c->st = WAITING;
        c->at = now;
        c->resent = false;
    }
}

/* Advances one client; `hold`: do not start messages past the halfway
 * mark. */
static void step(client *c, const dk_tls_options *opts, uint64_t now, bool hold)
{
    if (c->st == START) {
        if (now >= c->at)
            connect_client(c, opts);
        return;
    }
    if (c->st == DONE || c->st == FAILED)
        return;
    dk_dtls_peer_poll(c->dtls);
    dk_dtls_status s = dk_dtls_peer_get_status(c->dtls);
    if (c->st == CONNECTING) {
        if (s == DK_DTLS_HANDSHAKING)
            return;
        if (s != DK_DTLS_CONNECTED) {
            char why[200];
            snprintf(why, sizeof why, "handshake failed: %s: %s", dk_dtls_status_name(s),
                     dk_dtls_peer_get_error_reason(c->dtls));
            c->failed_attempts++;
            fail_over(c, opts, why);
            return;
        }
        bool reused = dk_dtls_peer_is_session_reused(c->dtls);
        if (reused)
            c->resumed++;
        else
            c->full++;
        if (c->reconnecting && !reused)
            c->full_after_failover++;
        if (c->reconnecting)
            printf("client %d: reconnected from port %d: %s\n", c->id, c->port,
                   reused ? "resumed" : "full handshake");
        c->reconnecting = false;
        dk_dtls_session *s2 = dk_dtls_peer_get_session(c->dtls, NULL);
        if (s2) { /* a resumed session may come without a new ticket: keep the old */
            dk_dtls_session_free(c->session);
            c->session = s2;
        } else if (!c->session) {
            printf("client %d: the server issued no ticket: %s\n", c->id, dk_last_error());
        }
        c->st = IDLE;
        c->at = now; /* the pending message goes at once */
    }
    if (s != DK_DTLS_CONNECTED) {
        char why[200];
        snprintf(why, sizeof why, "session ended: %s: %s", dk_dtls_status_name(s),
                 dk_dtls_peer_get_error_reason(c->dtls));
        fail_over(c, opts, why);
        return;
    }
    char buf[128], want[64];
    snprintf(want, sizeof want, "client %d message %d", c->id, c->echoes);
    while (dk_dtls_peer_get_available_packet_count(c->dtls) > 0) {
        size_t n;
        if (dk_dtls_peer_get_packet(c->dtls, buf, sizeof buf, &n) != DK_OK)
            break;
        /* Anything else is the duplicate echo of a message sent twice. */
        if (c->st != WAITING || n != strlen(want) || memcmp(buf, want, n) != 0)
            continue;
        c->echoes++;
        if (c->echoes == opt.messages) {
            dk_dtls_peer_disconnect_from_peer(c->dtls);
            dk_dtls_peer_free(c->dtls);
            c->dtls = NULL;
            c->st = DONE;
            return;
        }
        c->st = IDLE;
        c->at = now + (uint64_t)opt.interval_ms;
        snprintf(want, sizeof want, "client %d message %d", c->id, c->echoes);
    }
    if (c->st == IDLE && now >= c->at && !(hold && c->echoes >= opt.halfway)) {
        send_message(c, now);
    } else if (c->st == WAITING) {
        uint64_t waited = now - c->at;
        if (waited >= (uint64_t)opt.timeout_ms) {
            char why[80];
            snprintf(why, sizeof why, "no echo of message %d within %d ms", c->echoes,
                     opt.timeout_ms);
            fail_over(c, opts, why);
        } else if (!c->resent && waited >= (uint64_t)opt.timeout_ms / 2) {
            /* DTLS does not retransmit data: one lost datagram is not a
             * dead server. */
            c->resent = true;
            send_message(c, now);
        }
    }
}

/* Milliseconds until `c` needs a step for a timer of its own (a held
 * client has none). */
static int due_in(const client *c, uint64_t now, bool hold)
{
    uint64_t at;
    switch (c->st) {
    case START: at = c->at; break;
    case IDLE: at = hold && c->echoes >= opt.halfway ? now + 1000 : c->at; break;
    case WAITING: at = c->at + (uint64_t)(c->resent ? opt.timeout_ms : opt.timeout_ms / 2); break;
    default: at = now + 1000;
    }
    int ms = at > now ? (int)(at - now) : 0;
    int t = c->dtls ? dk_dtls_peer_get_timeout_ms(c->dtls) : -1;
    return t >= 0 && t < ms ? t : ms;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--host"))
            opt.host = v;
        else if (!strcmp(a, "--hostname"))
            opt.hostname = v;
        else if (!strcmp(a, "--ca"))
            opt.ca = v;
        else if (!strcmp(a, "--port"))
            opt.port = atoi(v);
        else if (!strcmp(a, "--clients"))
            opt.clients = atoi(v);
        else if (!strcmp(a, "--messages"))
            opt.messages = atoi(v);
        else if (!strcmp(a, "--interval-ms"))
            opt.interval_ms = atoi(v);
        else if (!strcmp(a, "--timeout-ms"))
            opt.timeout_ms = atoi(v);
        else if (!strcmp(a, "--handshake-timeout-ms"))
            opt.handshake_timeout_ms = atoi(v);
        else if (!strcmp(a, "--attempts"))
            opt.attempts = atoi(v);
        else if (!strcmp(a, "--stagger-ms"))
            opt.stagger_ms = atoi(v);
        else if (!strcmp(a, "--halfway"))
            opt.halfway = atoi(v);
        else if (!strcmp(a, "--hold-ms"))
            opt.hold_ms = atoi(v);
        else if (!strcmp(a, "--max-seconds"))
            opt.max_seconds = atoi(v);
        else
            usage(argv[0]);
    }
    if (argc % 2 == 0)
        usage(argv[0]);
    if (opt.halfway < 0)
        opt.halfway = opt.messages / 2;
    if (!opt.ca || opt.port < 1 || opt.clients < 1 || opt.clients > 10000 || opt.messages < 1 ||
        opt.interval_ms < 0 || opt.timeout_ms < 2 || opt.handshake_timeout_ms < 1 ||
        opt.attempts < 1 || opt.stagger_ms < 0 || opt.halfway > opt.messages || opt.hold_ms < 0 ||
        opt.max_seconds < 1)
        usage(argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {.sa_handler = on_usr1};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);

    dk_cert *ca = dk_cert_load(opt.ca, NULL);
    dk_tls_options *opts = ca ? dk_tls_options_client(ca, NULL, NULL) : NULL;
    client *cl = calloc((size_t)opt.clients, sizeof *cl);
    struct pollfd *pfd = calloc((size_t)opt.clients, sizeof *pfd);
    if (!opts || !cl || !pfd) {
        fprintf(stderr, "cluster_client: start: %s\n", dk_last_error());
        return 1;
    }
    dk_cert_free(ca);
    uint64_t start = now_ms(), hard_end = start + (uint64_t)opt.max_seconds * 1000u;
    for (int i = 0; i < opt.clients; i++) {
        cl[i].id = i;
        cl[i].at = start + (uint64_t)i * (uint64_t)opt.stagger_ms;
    }
    /* halfway: 0 before the mark, 1 holding, 2 past it */
    int phase = opt.halfway == 0 || opt.halfway == opt.messages ? 2 : 0;
    uint64_t hold_end = 0;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= hard_end) {
            printf("cluster: run time limit of %d s reached\n", opt.max_seconds);
            for (int i = 0; i < opt.clients; i++)
                if (cl[i].st != DONE && cl[i].st != FAILED)
                    fail_client(&cl[i], "run time limit reached");
            break;
        }
        if (phase == 0) {
            bool all = true;
            for (int i = 0; i < opt.clients && all; i++)
                all = cl[i].st == FAILED || cl[i].echoes >= opt.halfway;
            if (all) {
                printf("cluster: halfway\n");
                fflush(stdout);
                phase = opt.hold_ms ? 1 : 2;
                hold_end = now + (uint64_t)opt.hold_ms;
            }
        }
        if (phase == 1 && (go_on || now >= hold_end)) {
            if (!go_on)
                printf("cluster: no SIGUSR1 within %d ms, going on\n", opt.hold_ms);
            phase = 2;
        }
        int active = 0, nfds = 0, wait = 50;
        for (int i = 0; i < opt.clients; i++) {
            client *c = &cl[i];
            step(c, opts, now, phase < 2);
            if (c->st == DONE || c->st == FAILED)
                continue;
            active++;
            int d = due_in(c, now, phase < 2);
            if (d < wait)
                wait = d;
            if (c->dtls)
                pfd[nfds++] = (struct pollfd){.fd = dk_dtls_peer_get_fd(c->dtls), .events = POLLIN};
        }
        if (!active)
            break;
        poll(pfd, (nfds_t)nfds, wait);
    }

    int finished = 0, failed = 0;
    long messages = 0, failovers = 0, reconnected = 0, resumed = 0, full_after = 0, bad = 0;
    for (int i = 0; i < opt.clients; i++) {
        client *c = &cl[i];
        int reconn = c->resumed + c->full - 1 > 0 ? c->resumed + c->full - 1 : 0;
        printf("client %d: %s %d/%d messages, ports %s, handshakes: %d full, %d resumed, "
               "%d failovers, %d failed attempts%s%s\n",
               c->id, c->st == DONE ? "finished" : "FAILED", c->echoes, opt.messages,
               c->ports[0] ? c->ports : "-", c->full, c->resumed, c->failovers, c->failed_attempts,
               c->st == DONE ? "" : ": ", c->st == DONE ? "" : c->why);
        finished += c->st == DONE;
        failed += c->st != DONE;
        messages += c->echoes;
        failovers += c->failovers;
        reconnected += reconn;
        resumed += c->resumed;
        full_after += c->full_after_failover;
        bad += c->failed_attempts;
        dk_dtls_peer_free(c->dtls);
        dk_dtls_session_free(c->session);
    }
    printf("cluster: clients=%d finished=%d messages=%ld failovers=%ld reconnected=%ld "
           "resumed=%ld full_after_failover=%ld failed_attempts=%ld failed=%d seconds=%.1f\n",
           opt.clients, finished, messages, failovers, reconnected, resumed, full_after, bad,
           failed, (double)(now_ms() - start) / 1000.0);
    free(cl);
    free(pfd);
    dk_tls_options_free(opts);
    return finished == opt.clients ? 0 : 1;
}
