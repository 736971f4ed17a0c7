/* Load generator for the benchmark servers of bench/PROTOCOL.md: many
 * concurrent DTLS clients (dtlskit, one process, non-blocking, epoll), or
 * raw UDP sockets for the raw echo baseline.
 *
 *   loadgen --port N --mode handshake --clients C --seconds S [--resume] [--drain]
 *   loadgen --port N --mode echo --sessions N --size B --window W --seconds S [--raw]
 *   loadgen --port N --mode idle --sessions N --seconds S [--forget]
 *   loadgen --port N --mode flood --sources K --clients C --seconds S [--raw]
 *
 * handshake: keeps C handshakes in flight; each connected client closes and
 *   is replaced. --resume: each of the C client slots keeps the session
 *   (RFC 5077 ticket) of its previous connection and offers it on the next
 *   one, so the first connection of a slot, and any after a failure or
 *   without a ticket, is a full handshake and the others resume; the result
 *   line then counts them ("resumed R full F", appended). --drain: after
 *   S seconds no new handshake starts and those in flight get up to 10 s
 *   more to finish, so that the server is left with none half done (a
 *   measurement between two quiet points). echo: N
 *   sessions, each keeping W datagrams of B bytes in flight. idle:
 *   establishes N sessions (64 handshakes at a time), prints
 *   "established N", holds them S seconds. flood: K sockets on distinct
 *   127.4.x.y addresses send a real ClientHello without cookie (--raw: the
 *   same number of bytes) as fast as they can while C clients handshake.
 * --port may list several ports ("--port 4433,4434", DTLS clients only):
 *   connection k goes to the (k mod n)th, for servers that each have a port
 *   of their own (the control of several workers sharing one port).
 * Clients do not verify the server (their cost is not what is measured).
 * Prints one result line at the end. Every loop is bounded by --seconds. */
#include <arpa/inet.h>
#include <dtlskit/dtlskit.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int port;
/* --port A,B...: the DTLS clients' ports, taken in turn (ports[0] == port). */
static int ports[8], nports = 1;
static dk_tls_options *opts;
static int ep;
/* --forget: each client binds its own address and port (127.0.(10 + i /
 * 40000).1, port 20000 + i % 40000, never reused) and is freed as soon as
 * it connects, without close_notify: the server holds N idle sessions the
 * load generator no longer pays for (memory, descriptors). */
static bool forget;
static int started;
/* --resume (handshake mode): offer each slot's previous session. */
static bool resume;
/* --drain (handshake mode): finish the handshakes in flight at the end. */
static bool drain;
/* The host name every client connects with: none (no SNI; the clients do
 * not verify the server). A session is offered only to the name it came
 * from, so this is the same for every connection ("" both ways). */
static const char *const host = NULL;

typedef struct client {
    dk_dtls_peer *p; /* DTLS */
    int fd;          /* raw */
    int inflight;
    uint64_t last_rx;
    bool counted;
    dk_dtls_session *session; /* --resume: the previous connection's */
} client;

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s: %s\n", what, dk_last_error());
    exit(1);
}

static void watch(client *c, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void start_dtls(client *c)
{
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    if (forget) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.0.%d.1", 10 + started / 40000);
        if (!udp || dk_udp_peer_bind(udp, 20000 + started % 40000, ip, 0) != DK_OK)
            die("bind");
    }
    int to = nports > 1 ? ports[started % nports] : port;
    started++;
    if (!udp || dk_udp_peer_connect_to_host(udp, "127.0.0.1", to) != DK_OK)
        die("connect_to_host");
    c->p = dk_dtls_peer_new(NULL);
    if (!c->p)
        die("dk_dtls_peer_new");
    if (resume && c->session && dk_dtls_peer_set_session(c->p, c->session) != DK_OK)
        die("dk_dtls_peer_set_session");
    if (dk_dtls_peer_connect_to_peer(c->p, udp, host, opts) != DK_OK)
        die("connect_to_peer");
    c->fd = -1;
    c->inflight = 0;
    c->counted = false;
    c->last_rx = now_ms();
    watch(c, dk_dtls_peer_get_fd(c->p));
}

static void stop_dtls(client *c, bool close_notify)
{
    if (!c->p)
        return;
    epoll_ctl(ep, EPOLL_CTL_DEL, dk_dtls_peer_get_fd(c->p), NULL);
    if (close_notify)
        dk_dtls_peer_disconnect_from_peer(c->p);
    dk_dtls_peer_free(c->p);
    c->p = NULL;
}

static void start_raw(client *c, const char *bind_ip)
{
    c->p = NULL;
    c->fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, bind_ip, &a.sin_addr);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        connect(c->fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("loadgen: raw socket");
        exit(1);
    }
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    c->inflight = 0;
    c->last_rx = now_ms();
}

/* Runs the DTLS clients of `cs` that epoll reports, plus the timers of
 * those still handshaking. */
static int wait_events(int ms, struct epoll_event *ev, int max)
{
    int n = epoll_wait(ep, ev, max, ms);
    return n < 0 ? 0 : n;
}

static long long handshakes_done, handshake_errors;
/* --resume: connected handshakes that resumed a session or were full ones,
 * and connections that gave no session to resume (no ticket issued). */
static long long handshakes_resumed, handshakes_full, no_session;

/* --resume: replaces the slot's session with the one `c` just connected
 * with (none when it failed or the server issued no ticket: the slot's
 * next connection is then a full handshake). */
static void keep_session(client *c, bool connected)
{
    dk_dtls_session_free(c->session);
    c->session = NULL;
    if (!connected)
        return;
    if (dk_dtls_peer_is_session_reused(c->p))
        handshakes_resumed++;
    else
        handshakes_full++;
    dk_err e = DK_OK;
    c->session = dk_dtls_peer_get_session(c->p, &e);
    if (!c->session)
        no_session++;
}

/* Steps one DTLS client in handshake mode: returns true when it finished
 * (connected or failed) and was replaced. */
static void step_handshake(client *c, bool replace)
{
    dk_dtls_peer_poll(c->p);
    dk_dtls_status st = dk_dtls_peer_get_status(c->p);
    if (st == DK_DTLS_HANDSHAKING)
        return;
    if (st == DK_DTLS_CONNECTED)
        handshakes_done++;
    else
        handshake_errors++;
    if (resume)
        keep_session(c, st == DK_DTLS_CONNECTED);
    stop_dtls(c, st == DK_DTLS_CONNECTED);
    if (replace)
        start_dtls(c);
}

static void run_handshakes(int nclients, int seconds)
{
    client *cs = calloc((size_t)nclients, sizeof *cs);
    for (int i = 0; i < nclients; i++)
        start_dtls(&cs[i]);
    uint64_t end = now_ms() + (uint64_t)seconds * 1000u;
    struct epoll_event ev[256];
    while (now_ms() < end) {
        int n = wait_events(5, ev, 256);
        for (int i = 0; i < n; i++)
            step_handshake(ev[i].data.ptr, true);
        for (int i = 0; i < nclients; i++) /* timers */
            if (dk_dtls_peer_get_timeout_ms(cs[i].p) == 0)
                step_handshake(&cs[i], true);
    }
    /* --drain: the clients still handshaking finish, none replaced. */
    uint64_t grace = now_ms() + 10000;
    for (int open = nclients; drain && open && now_ms() < grace;) {
        int n = wait_events(5, ev, 256);
        for (int i = 0; i < n; i++)
            step_handshake(ev[i].data.ptr, false);
        open = 0;
        for (int i = 0; i < nclients; i++) {
            if (!cs[i].p)
                continue;
            if (dk_dtls_peer_get_timeout_ms(cs[i].p) == 0)
                step_handshake(&cs[i], false);
            open += cs[i].p != NULL;
        }
    }
    for (int i = 0; i < nclients; i++) {
        stop_dtls(&cs[i], false);
        dk_dtls_session_free(cs[i].session);
    }
    /* The resumption counts are appended: the line reads as before. */
    if (resume)
        printf("loadgen handshakes %lld errors %lld in %d s resumed %lld full %lld no-session "
               "%lld\n",
               handshakes_done, handshake_errors, seconds, handshakes_resumed, handshakes_full,
               no_session);
    else
        printf("loadgen handshakes %lld errors %lld in %d s\n", handshakes_done, handshake_errors,
               seconds);
    free(cs);
}

/* Establishes `n` DTLS sessions, `window` handshakes at a time. */
static client *establish(int n, int window, int seconds)
{
    client *cs = calloc((size_t)n, sizeof *cs);
    int next = 0, live = 0, done = 0;
    uint64_t end = now_ms() + (uint64_t)seconds * 1000u;
    struct epoll_event ev[256];
    client **pending = calloc((size_t)window, sizeof *pending);
    while (done < n && now_ms() < end) {
        while (live < window && next < n) {
            start_dtls(&cs[next]);
            pending[live++] = &cs[next++];
        }
        int k = wait_events(5, ev, 256);
        for (int i = 0; i < k; i++) {
            client *c = ev[i].data.ptr;
            dk_dtls_peer_poll(c->p);
        }
        for (int i = 0; i < live; i++) {
            client *c = pending[i];
            if (dk_dtls_peer_get_timeout_ms(c->p) == 0)
                dk_dtls_peer_poll(c->p);
            dk_dtls_status st = dk_dtls_peer_get_status(c->p);
            if (st == DK_DTLS_HANDSHAKING)
                continue;
            if (st != DK_DTLS_CONNECTED) {
                fprintf(stderr, "loadgen: handshake failed: %s\n",
                        dk_dtls_peer_get_error_reason(c->p));
                exit(1);
            }
            done++;
            pending[i--] = pending[--live];
            if (forget) {
                /* One byte first, as a device reporting in would: it also
                 * tells the server its final flight arrived. (Not an empty
                 * record: a native OpenSSL server reads that as the end.) */
                (void)dk_dtls_peer_put_packet(c->p, "!", 1);
                stop_dtls(c, false);
            }
        }
    }
    free(pending);
    if (done < n) {
        fprintf(stderr, "loadgen: only %d of %d sessions established\n", done, n);
        exit(1);
    }
    return cs;
}

static void run_echo(int n, int size, int window, int seconds, bool raw)
{
    client *cs;
    if (raw) {
        cs = calloc((size_t)n, sizeof *cs);
        for (int i = 0; i < n; i++) {
            char ip[32];
            snprintf(ip, sizeof ip, "127.5.%d.%d", i / 250, i % 250 + 1);
            start_raw(&cs[i], ip);
            watch(&cs[i], cs[i].fd);
        }
    } else {
        cs = establish(n, 64, 60);
    }
    uint8_t msg[2048], buf[4096];
    memset(msg, 'e', sizeof msg);
    long long echoes = 0, resends = 0;
    uint64_t end = now_ms() + (uint64_t)seconds * 1000u, last_scan = now_ms();
    struct epoll_event ev[256];
    for (int i = 0; i < n; i++)
        cs[i].last_rx = now_ms();
    while (now_ms() < end) {
        for (int i = 0; i < n; i++) {
            client *c = &cs[i];
            while (c->inflight < window) {
                dk_err e = raw ? (send(c->fd, msg, (size_t)size, 0) == size ? DK_OK : DK_ERR_SOCKET)
                               : dk_dtls_peer_put_packet(c->p, msg, (size_t)size);
                if (e != DK_OK)
                    break;
                c->inflight++;
            }
        }
        int k = wait_events(2, ev, 256);
        for (int i = 0; i < k; i++) {
            client *c = ev[i].data.ptr;
            if (raw) {
                ssize_t r;
                while ((r = recv(c->fd, buf, sizeof buf, 0)) > 0) {
                    echoes++;
                    c->inflight--;
                    c->last_rx = now_ms();
                }
            } else {
                dk_dtls_peer_poll(c->p);
                size_t got;
                while (dk_dtls_peer_get_packet(c->p, buf, sizeof buf, &got) == DK_OK) {
                    echoes++;
                    c->inflight--;
                    c->last_rx = now_ms();
                }
            }
        }
        /* Lost datagrams shrink a window: refill it after 200 ms of silence. */
        if (now_ms() - last_scan > 50) {
            last_scan = now_ms();
            for (int i = 0; i < n; i++)
                if (cs[i].inflight > 0 && last_scan - cs[i].last_rx > 200) {
                    resends += cs[i].inflight;
                    cs[i].inflight = 0;
                    cs[i].last_rx = last_scan;
                }
        }
    }
    printf("loadgen echoes %lld resent %lld in %d s\n", echoes, resends, seconds);
    for (int i = 0; i < n; i++) {
        if (raw)
            close(cs[i].fd);
        else
            stop_dtls(&cs[i], true);
    }
    free(cs);
}

static void run_idle(int n, int seconds)
{
    client *cs = establish(n, 64, 590);
    printf("established %d\n", n);
    fflush(stdout);
    uint64_t end = now_ms() + (uint64_t)seconds * 1000u;
    struct epoll_event ev[256];
    while (now_ms() < end) {
        int k = wait_events(100, ev, 256);
        for (int i = 0; i < k; i++)
            if (((client *)ev[i].data.ptr)->p)
                dk_dtls_peer_poll(((client *)ev[i].data.ptr)->p);
    }
    for (int i = 0; i < n; i++)
        stop_dtls(&cs[i], true);
    printf("loadgen idle %d held %d s\n", n, seconds);
    free(cs);
}

/* A real ClientHello without cookie, from a session aimed at a socket of
 * ours. */
static size_t capture_hello(uint8_t *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) < 0)
        exit(1);
    int saved = port, saved_n = nports;
    port = ntohs(a.sin_port);
    nports = 1;
    client c;
    start_dtls(&c);
    port = saved;
    nports = saved_n;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n = poll(&p, 1, 2000) > 0 ? recv(fd, out, cap, 0) : -1;
    stop_dtls(&c, false);
    close(fd);
    if (n <= 0) {
        fprintf(stderr, "loadgen: no ClientHello captured\n");
        exit(1);
    }
    return (size_t)n;
}

static void run_flood(int sources, int nclients, int seconds, bool raw)
{
    uint8_t hello[2048];
    size_t hlen = capture_hello(hello, sizeof hello);
    if (raw)
        memset(hello, 'r', hlen);
    client *fl = calloc((size_t)sources, sizeof *fl);
    for (int i = 0; i < sources; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.4.%d.%d", i / 250, i % 250 + 1);
        start_raw(&fl[i], ip);
        int small = 4096; /* replies pile up unread and are dropped */
        setsockopt(fl[i].fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    client *cs = calloc((size_t)(nclients ? nclients : 1), sizeof *cs);
    for (int i = 0; i < nclients; i++)
        start_dtls(&cs[i]);
    long long sent = 0;
    uint64_t end = now_ms() + (uint64_t)seconds * 1000u;
    struct epoll_event ev[256];
    struct mmsghdr msgs[16];
    struct iovec iov = {.iov_base = hello, .iov_len = hlen};
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < 16; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int src = 0;
    while (now_ms() < end) {
        for (int k = 0; k < 64; k++, src = (src + 1) % sources) {
            int r = sendmmsg(fl[src].fd, msgs, 16, 0);
            if (r > 0)
                sent += r;
        }
        int k = wait_events(0, ev, 256);
        for (int i = 0; i < k; i++)
            step_handshake(ev[i].data.ptr, true);
        for (int i = 0; i < nclients; i++)
            if (dk_dtls_peer_get_timeout_ms(cs[i].p) == 0)
                step_handshake(&cs[i], true);
    }
    /* Clients still handshaking get 5 more seconds, without the flood. */
    uint64_t grace = now_ms() + 5000;
    int open = nclients;
    while (open && now_ms() < grace) {
        int k = wait_events(5, ev, 256);
        for (int i = 0; i < k; i++)
            step_handshake(ev[i].data.ptr, false);
        open = 0;
        for (int i = 0; i < nclients; i++) {
            if (!cs[i].p)
                continue;
            if (dk_dtls_peer_get_timeout_ms(cs[i].p) == 0)
                step_handshake(&cs[i], false);
            open += cs[i].p != NULL;
        }
    }
    handshake_errors += open;
    printf("loadgen flood sent %lld (%zu bytes each) handshakes %lld errors %lld in %d s\n", sent,
           hlen, handshakes_done, handshake_errors, seconds);
    for (int i = 0; i < nclients; i++)
        stop_dtls(&cs[i], false);
    for (int i = 0; i < sources; i++)
        close(fl[i].fd);
    free(cs);
    free(fl);
}

int main(int argc, char **argv)
{
    const char *mode = NULL;
    int clients = 32, sessions = 100, size = 64, window = 4, seconds = 5, sources = 1000;
    bool raw = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--raw")) {
            raw = true;
            continue;
        }
        if (!strcmp(a, "--forget")) {
            forget = true;
            continue;
        }
        if (!strcmp(a, "--resume")) {
            resume = true;
            continue;
        }
        if (!strcmp(a, "--drain")) {
            drain = true;
            continue;
        }
        if (!strcmp(a, "--port")) {
            /* One port or a comma-separated list of up to 8; anything else
             * leaves port 0, refused below. */
            const char *q = v;
            char *end = NULL;
            bool ok = true;
            for (nports = 0; q && nports < 8; nports++) {
                long n = strtol(q, &end, 10);
                ok = ok && end != q && n > 0 && n < 65536;
                ports[nports] = (int)n;
                q = *end == ',' ? end + 1 : NULL;
            }
            port = ok && !q && !*end ? ports[0] : 0;
        } else if (!strcmp(a, "--mode"))
            mode = v;
        else if (!strcmp(a, "--clients"))
            clients = atoi(v);
        else if (!strcmp(a, "--sessions"))
            sessions = atoi(v);
        else if (!strcmp(a, "--size"))
            size = atoi(v);
        else if (!strcmp(a, "--window"))
            window = atoi(v);
        else if (!strcmp(a, "--seconds"))
            seconds = atoi(v);
        else if (!strcmp(a, "--sources"))
            sources = atoi(v);
        i++;
    }
    if (!mode || port <= 0 || size < 1 || size > 2000 || seconds < 1 || seconds > 600 ||
        ((resume || drain) && strcmp(mode, "handshake") != 0)) {
        fprintf(stderr, "usage: see the top of bench/loadgen.c\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    ep = epoll_create1(0);
    opts = dk_tls_options_client_unsafe(NULL, NULL);
    if (!opts || ep < 0)
        die("setup");
    if (!strcmp(mode, "handshake"))
        run_handshakes(clients, seconds);
    else if (!strcmp(mode, "echo"))
        run_echo(sessions, size, window, seconds, raw);
    else if (!strcmp(mode, "idle"))
        run_idle(sessions, seconds);
    else if (!strcmp(mode, "flood"))
        run_flood(sources, clients, seconds, raw);
    else
        return 2;
    dk_tls_options_free(opts);
    close(ep);
    return 0;
}
