/* DTLS echo server: the server of Godot's DTLSServer documentation in C,
 * line by line where the API allows (comments quote the GDScript), plus
 * options. It echoes every datagram to its sender and reports connects and
 * disconnects.
 *
 *   echo_server [--port N] [--bind ADDR] [--cert FILE --key FILE]
 *               [--ca FILE] [--psk HEX --psk-identity ID] [--max-peers N]
 *               [--seconds N] [--godot-cookies] [--secret-file FILE]
 *               [--workers N] [--name NAME] [--behind-proxy]
 *
 * Without --cert/--key (and without --psk) it makes a self-signed EC P-256
 * certificate in memory and prints its SHA-256 fingerprint. --psk accepts
 * clients that authenticate with that pre-shared key under identity ID
 * (beyond Godot, RFC 4279: CoAP devices); alone it makes a PSK-only server,
 * with --cert/--key the server serves both kinds of client. --ca asks clients for a certificate
 * signed by that CA. The server is attached to the UDP server as its
 * admission filter, so cookie-less ClientHellos are answered statelessly and
 * never reach the pending queue; --godot-cookies leaves that off to show
 * Godot's own behaviour (half of take_connection() calls fail).
 *
 * --max-peers N (default 1024) is the server's session cap: the library
 * refuses a ClientHello, before any work, when N sessions (handshaking ones
 * included) exist, when one source address holds a quarter of them, or
 * when it has 8 handshakes under way. One address cannot lock others out,
 * and a peer array of N entries never overflows. --behind-proxy drops the
 * per-address caps: behind a UDP load balancer every client has the
 * balancer's address.
 *
 * --secret-file FILE loads the master secret that cookies and session
 * tickets are derived from (dk_dtls_server_load_master_secret(): 32 to 128
 * hex digits or 16 to 64 bytes, mode 0600 or 0400): servers started with
 * the same file, on one host or several behind a UDP load balancer, accept
 * each other's cookies and resume each other's clients.
 *
 * --workers N (1 to 64) forks N worker processes that each run the server
 * above on the same port (SO_REUSEPORT: the kernel spreads clients over
 * them by address and port; the parent opens the sockets and keeps them,
 * so a worker's death moves no other worker's clients) with the same
 * master secret: the file's, or 32 random bytes the parent draws once.
 * The parent restarts a worker that
 * dies (giving up after 10 restarts within 10 s) and on SIGTERM or SIGINT
 * stops them all (SIGKILL for any still running after 3 s). Workers' lines
 * start with "worker K: "; --name NAME starts every line with "NAME: ". */
#include <dtlskit/dtlskit.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MAX_WORKERS       64
#define RESTART_WINDOW_MS 10000 /* more than RESTART_LIMIT restarts in it: give up */
#define RESTART_LIMIT     10
#define STOP_GRACE_MS     3000 /* SIGTERM to SIGKILL */
#define START_TIMEOUT_MS  10000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Everything main() reads from the command line. */
static struct {
    int port, max_peers, seconds, workers;
    const char *bind, *cert_file, *key_file, *ca_file, *psk_hex, *secret_file, *name;
    bool admission, behind_proxy;
} cfg = {.port = 4242, .max_peers = 1024, .bind = "*", .admission = true};

/* Starts every output line: "NAME: ", "worker K: ", both, or nothing. */
static char prefix[96];

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(prefix, stdout);
    vprintf(fmt, ap);
    va_end(ap);
}

/* Whether returning clients can resume: the test scripts expect resumed
 * handshakes only where the backend seals tickets (DK_CAP_TICKETS). */
static void say_tickets(void)
{
    say("session tickets: %s\n",
        (dk_backend_caps() & DK_CAP_TICKETS) ? "supported" : "not supported by this backend");
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--port N] [--bind ADDR] [--cert FILE --key FILE] [--ca FILE]\n"
            "          [--psk HEX --psk-identity ID] [--max-peers N] [--seconds N]\n"
            "          [--godot-cookies] [--secret-file FILE] [--workers N] [--name NAME]\n"
            "          [--behind-proxy]\n",
            argv0);
    exit(2);
}

static void die(const char *what)
{
    fprintf(stderr, "%secho_server: %s: %s\n", prefix, what, dk_last_error());
    exit(1);
}

/* The one identity this example knows, and its key. */
static const char *psk_identity;
static uint8_t psk_key[DK_PSK_KEY_MAX];
static size_t psk_len;

static size_t psk_lookup(void *user, const char *identity, uint8_t *key, size_t key_cap)
{
    (void)user;
    if (strcmp(identity, psk_identity) != 0 || psk_len > key_cap)
        return 0;
    memcpy(key, psk_key, psk_len);
    return psk_len;
}

/* Hex digits to bytes; false when malformed or too long. */
static bool parse_hex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 || n / 2 > cap)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
            !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
            return false;
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return true;
}

static void describe(dk_dtls_peer *p, char *buf, size_t cap)
{
    char ip[DK_IP_STRLEN] = "?";
    int port = 0;
    dk_udp_peer_get_remote_address(dk_dtls_peer_get_udp_peer(p), ip, sizeof ip, &port);
    snprintf(buf, cap, "%s port %d", ip, port);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint8_t master[32]; /* workers without --secret-file: drawn by the parent */

/* The echo server itself, in this process. A worker serves the socket
 * `sock` the parent opened and shares the master secret with its siblings,
 * and writes its port to `ready_fd` once listening (-1: nobody waits).
 * Returns the exit status. */
static int serve(int port, int sock, int ready_fd)
{
    bool worker = sock >= 0;
    /* var dtls := DTLSServer.new()
     * var server := UDPServer.new()
     * var peers = [] */
    dk_dtls_server *dtls = dk_dtls_server_new(NULL);
    dk_udp_server *server = dk_udp_server_new(NULL);
    dk_dtls_peer **peers = calloc((size_t)cfg.max_peers, sizeof *peers);
    bool *up = calloc((size_t)cfg.max_peers, sizeof *up); /* handshake reported */
    int npeers = 0;
    if (!dtls || !server || !peers || !up)
        die("start");
    /* Before listening: a server that cannot have its secret must not take
     * clients with cookies and tickets its siblings cannot read. */
    if (cfg.secret_file && dk_dtls_server_load_master_secret(dtls, cfg.secret_file) != DK_OK)
        die("loading the master secret");
    if (!cfg.secret_file && worker &&
        dk_dtls_server_set_master_secret(dtls, master, sizeof master) != DK_OK)
        die("master secret");

    /* func _ready():
     *     server.listen(4242)
     * (a worker: the socket its parent keeps a copy of) */
    if (worker ? dk_udp_server_adopt_socket(server, sock) != DK_OK
               : dk_udp_server_listen(server, port, cfg.bind) != DK_OK)
        die("listen");
    /*     var key = load("key.key") # Your private key.
     *     var cert = load("cert.crt") # Your X509 certificate. */
    dk_key *key = NULL;
    dk_cert *cert = NULL;
    if (cfg.key_file) {
        key = dk_key_load(cfg.key_file, NULL, false, NULL);
        cert = dk_cert_load(cfg.cert_file, NULL);
        if (!key || !cert)
            die("loading the key or certificate");
    } else if (!cfg.psk_hex) {
        key = dk_key_generate_ec(DK_EC_P256, NULL);
        cert = key ? dk_cert_generate_self_signed(key, "CN=localhost,O=dtlskit example", NULL, NULL,
                                                  NULL)
                   : NULL;
        if (!cert)
            die("generating a certificate");
        uint8_t fp[32];
        dk_cert_get_fingerprint_sha256(cert, 0, fp);
        say("self-signed certificate for CN=localhost, SHA-256 fingerprint ");
        for (int i = 0; i < 32; i++)
            printf("%02X%s", fp[i], i < 31 ? ":" : "\n");
    }
    /*     dtls.setup(TLSOptions.server(key, cert)) */
    dk_tls_options *opts = key ? dk_tls_options_server(key, cert, NULL)
                               : dk_tls_options_server_psk(NULL, psk_lookup, NULL, NULL);
    if (!opts)
        die("server options");
    if (key && cfg.psk_hex && dk_tls_options_set_psk(opts, NULL, psk_lookup, NULL) != DK_OK)
        die("PSK");
    if (cfg.ca_file) {
        dk_cert *ca = dk_cert_load(cfg.ca_file, NULL);
        if (!ca || dk_tls_options_set_client_auth(opts, DK_CLIENT_AUTH_REQUIRED, ca) != DK_OK)
            die("client CA");
        dk_cert_free(ca);
    }
    if (dk_dtls_server_setup(dtls, opts) != DK_OK)
        die("setup");
    /* --behind-proxy: every client has the balancer's address, so the
     * per-address caps would cap the whole server. */
    int per_address = cfg.max_peers / 4 > 0 ? cfg.max_peers / 4 : 1;
    if (dk_dtls_server_set_session_limits(dtls, cfg.max_peers,
                                          cfg.behind_proxy ? 0 : per_address) != DK_OK ||
        dk_dtls_server_set_handshake_limits(dtls, cfg.max_peers, cfg.behind_proxy ? 0 : 8) != DK_OK)
        die("limits");
    dk_tls_options_free(opts);
    dk_key_free(key);
    dk_cert_free(cert);
    /* Beyond Godot: cookie exchange inside the UDP server's poll. */
    if (cfg.admission && dk_dtls_server_attach(dtls, server) != DK_OK)
        die("attach");
    int bound = dk_udp_server_get_local_port(server);
    say_tickets();
    say("listening on port %d\n", bound);
    if (ready_fd >= 0) {
        /* A failed write leaves the parent waiting until its timeout. */
        if (write(ready_fd, &bound, sizeof bound) != sizeof bound)
            fprintf(stderr, "%secho_server: cannot tell the parent\n", prefix);
        close(ready_fd);
    }

    time_t end = cfg.seconds > 0 && !worker ? time(NULL) + cfg.seconds : 0; /* parent's job */
    uint8_t buf[DK_UDP_MAX_DATAGRAM];
    while (!stop && (!end || time(NULL) < end)) {
        /* func _process(delta):
         *     while server.is_connection_available(): */
        while (dk_udp_server_is_connection_available(server)) {
            /* var peer: PacketPeerUDP = server.take_connection()
             * var dtls_peer: PacketPeerDTLS = dtls.take_connection(peer) */
            dk_udp_peer *peer = dk_udp_server_take_connection(server, NULL);
            dk_dtls_peer *dtls_peer = dk_dtls_server_take_connection(dtls, peer, NULL);
            if (!dtls_peer) {
                dk_udp_peer_free(peer);
                continue;
            }
            /* if dtls_peer.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING:
             *     continue # It is normal that 50% of the connections fails
             *              # due to cookie exchange. */
            if (dk_dtls_peer_get_status(dtls_peer) != DK_DTLS_HANDSHAKING ||
                npeers == cfg.max_peers) {
                dk_dtls_peer_free(dtls_peer);
                continue;
            }
            /* print("Peer connected!")
             * peers.append(dtls_peer) */
            char who[80];
            describe(dtls_peer, who, sizeof who);
            say("peer connected: %s\n", who);
            up[npeers] = false;
            peers[npeers++] = dtls_peer;
        }
        int wait_ms = 100;
        /* for p in peers: */
        for (int i = 0; i < npeers; i++) {
            dk_dtls_peer *p = peers[i];
            /* p.poll() # Must poll to update the state. */
            dk_dtls_peer_poll(p);
            /* if p.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
             *     while p.get_available_packet_count() > 0: */
            dk_dtls_status st = dk_dtls_peer_get_status(p);
            /* A resumed session can complete and close in one poll (the
             * client's Finished and its close_notify in a row): report
             * the handshake of any session that had one. */
            if (!up[i] && dk_dtls_peer_get_cipher_suite(p) != 0) {
                char who[80];
                describe(p, who, sizeof who);
                const char *id = dk_dtls_peer_get_psk_identity(p);
                say("handshake done: %s, %s%s%s%s%s\n", who,
                    dk_cipher_suite_name(dk_dtls_peer_get_cipher_suite(p)),
                    *id ? ", PSK identity \"" : "", id, *id ? "\"" : "",
                    dk_dtls_peer_is_session_reused(p) ? ", resumed" : "");
                up[i] = true;
            }
            if (st == DK_DTLS_CONNECTED || st == DK_DTLS_HANDSHAKING) {
                while (dk_dtls_peer_get_available_packet_count(p) > 0) {
                    size_t n;
                    if (dk_dtls_peer_get_packet(p, buf, sizeof buf, &n) != DK_OK)
                        break;
                    /* print("Received message from client: ...")
                     * p.put_packet(...): here the message itself, echoed */
                    say("received %zu bytes: %.*s\n", n, (int)(n > 60 ? 60 : n), buf);
                    if (dk_dtls_peer_put_packet(p, buf, n) != DK_OK)
                        say("echo failed: %s\n", dk_last_error());
                }
                int t = dk_dtls_peer_get_timeout_ms(p);
                if (t >= 0 && t < wait_ms)
                    wait_ms = t;
                continue;
            }
            char who[80];
            describe(p, who, sizeof who);
            say("peer disconnected: %s (%s: %s)\n", who, dk_dtls_status_name(st),
                dk_dtls_peer_get_error_reason(p));
            dk_dtls_peer_free(p);
            up[i] = up[npeers - 1];
            peers[i--] = peers[--npeers];
        }
        /* Sleep until a datagram or a timer is due (Godot sleeps a frame). */
        int t = dk_udp_server_get_timeout_ms(server);
        if (t >= 0 && t < wait_ms)
            wait_ms = t;
        struct pollfd pfd = {.fd = dk_udp_server_get_fd(server), .events = POLLIN};
        poll(&pfd, 1, wait_ms);
    }
    for (int i = 0; i < npeers; i++) {
        dk_dtls_peer_disconnect_from_peer(peers[i]);
        dk_dtls_peer_free(peers[i]);
    }
    free(peers);
    free(up);
    explicit_bzero(psk_key, sizeof psk_key);
    dk_udp_stats us;
    dk_dtls_server_stats ds;
    dk_udp_server_get_stats(server, &us);
    dk_dtls_server_get_stats(dtls, &ds);
    say("stats: %llu datagrams received, %llu HelloVerifyRequests sent, %llu cookies "
        "accepted, %llu datagrams stopped by the admission filter, %llu pending dropped\n",
        (unsigned long long)us.datagrams_received, (unsigned long long)ds.hello_verify_sent,
        (unsigned long long)ds.cookies_accepted, (unsigned long long)us.dropped_filtered,
        (unsigned long long)us.dropped_pending_full);
    dk_dtls_server_free(dtls);
    dk_udp_server_free(server);
    return 0;
}

/* ------------------------------------------------------------ workers
 * The parent opens one SO_REUSEPORT socket per worker and keeps its copy
 * open for its whole life; worker K serves socket K
 * (dk_udp_server_adopt_socket()). The kernel spreads clients over the
 * sockets of the group by hashing their addresses over the sockets in
 * order, so a group that loses a socket (a worker that owned it died)
 * moves clients of every worker. With the parent's copies the group never
 * changes: a dead worker's datagrams wait in its socket for the restarted
 * worker and the other workers' clients stay where they are. The parent
 * needs no dtlskit call (each worker starts the library itself). */

static sigset_t parent_signals, old_mask;
static pid_t worker_pid[MAX_WORKERS + 1]; /* by worker number, 1..N; 0: not running */
static int worker_sock[MAX_WORKERS + 1];  /* the parent's copies, by worker number */

/* A UDP socket with SO_REUSEPORT bound to --bind (a literal, or "*": IPv6
 * and IPv4 together where the system allows) and `port`; -1 after saying
 * why. */
static int open_worker_socket(int port)
{
    bool any = !strcmp(cfg.bind, "*");
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = any ? AF_INET6 : AF_UNSPEC,
                             .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(any ? NULL : cfg.bind, service, &hints, &ai);
    if (rc != 0 && any) { /* no IPv6: IPv4 only */
        hints.ai_family = AF_INET;
        rc = getaddrinfo(NULL, service, &hints, &ai);
    }
    if (rc != 0) {
        fprintf(stderr, "%secho_server: --bind %s: %s\n", prefix, cfg.bind, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), on = 1, off = 0;
    if (fd < 0 && any) {
        freeaddrinfo(ai);
        hints.ai_family = AF_INET;
        if (getaddrinfo(NULL, service, &hints, &ai) != 0)
            return -1;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    }
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 ||
        (ai->ai_family == AF_INET6 && any &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr, "%secho_server: socket on port %d: %s\n", prefix, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int local_port(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 0;
    return ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                         : ((struct sockaddr_in *)&a)->sin_port);
}

/* Forks worker `k` on its socket; it writes its port to `ready_fd` once
 * it serves (-1: nobody waits). */
static pid_t start_worker(int k, int ready_fd, int other_fd)
{
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t parent = getpid(), pid = fork();
    if (pid != 0) {
        if (pid > 0)
            worker_pid[k] = pid;
        return pid;
    }
    if (other_fd >= 0)
        close(other_fd);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
#ifdef __linux__
    /* A parent killed by SIGKILL cannot stop its workers: the kernel does. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(0);
#endif
    for (int j = 1; j <= cfg.workers; j++)
        if (j != k)
            close(worker_sock[j]);
    size_t len = strlen(prefix);
    snprintf(prefix + len, sizeof prefix - len, "worker %d: ", k);
    exit(serve(0, worker_sock[k], ready_fd));
}

/* "signal 9" or "status 1". */
static void describe_exit(int status, char *buf, size_t cap)
{
    if (WIFSIGNALED(status))
        snprintf(buf, cap, "signal %d", WTERMSIG(status));
    else
        snprintf(buf, cap, "status %d", WEXITSTATUS(status));
}

static int worker_number(pid_t pid)
{
    for (int k = 1; k <= cfg.workers; k++)
        if (worker_pid[k] == pid)
            return k;
    return 0;
}

/* SIGTERM to every worker, SIGKILL to those still running after
 * STOP_GRACE_MS; every one is reaped. */
static void stop_workers(void)
{
    for (int k = 1; k <= cfg.workers; k++)
        if (worker_pid[k] > 0)
            kill(worker_pid[k], SIGTERM);
    uint64_t deadline = now_ms() + STOP_GRACE_MS;
    int left = 0;
    for (;;) {
        pid_t pid;
        int status;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            int k = worker_number(pid);
            if (k)
                worker_pid[k] = 0;
        }
        left = 0;
        for (int k = 1; k <= cfg.workers; k++)
            left += worker_pid[k] > 0;
        uint64_t now = now_ms();
        if (!left || now >= deadline)
            break;
        /* SIGCHLD is blocked: wait for it, or for the deadline. */
        uint64_t ms = deadline - now < 100 ? deadline - now : 100;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigtimedwait(&chld, NULL, &ts);
    }
    for (int k = 1; k <= cfg.workers; k++) {
        if (worker_pid[k] <= 0)
            continue;
        say("worker %d (pid %d) still running after %d ms: SIGKILL\n", k, (int)worker_pid[k],
            STOP_GRACE_MS);
        kill(worker_pid[k], SIGKILL);
        waitpid(worker_pid[k], NULL, 0);
        worker_pid[k] = 0;
    }
}

/* Waits up to START_TIMEOUT_MS for worker `k`'s port on `fd`; 0 when the
 * worker died (its reason is in its output) or said nothing. */
static int read_ready(int fd, int k)
{
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += 100) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int port = 0;
        if (poll(&pfd, 1, 100) == 1)
            return read(fd, &port, sizeof port) == sizeof port ? port : 0;
        if (waitpid(worker_pid[k], NULL, WNOHANG) == worker_pid[k]) {
            worker_pid[k] = 0;
            return 0;
        }
    }
    return 0;
}

static int run_workers(void)
{
    /* Signals are taken with sigtimedwait() only, never in a handler. */
    sigemptyset(&parent_signals);
    sigaddset(&parent_signals, SIGCHLD);
    sigaddset(&parent_signals, SIGTERM);
    sigaddset(&parent_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &parent_signals, &old_mask);
    if (!cfg.secret_file) {
        for (size_t got = 0; got < sizeof master;) {
            ssize_t n = getrandom(master + got, sizeof master - got, 0);
            if (n < 0 && errno != EINTR) {
                fprintf(stderr, "%secho_server: getrandom: %s\n", prefix, strerror(errno));
                return 1;
            }
            got += n > 0 ? (size_t)n : 0;
        }
    }
    /* The sockets first (the first one picks the port when --port 0), then
     * the workers, each saying through the pipe that it serves. A worker
     * that cannot start (a bad secret file, say) prints why and the parent
     * gives up. */
    int port = cfg.port;
    for (int k = 1; k <= cfg.workers; k++) {
        worker_sock[k] = open_worker_socket(port);
        if (worker_sock[k] < 0)
            return 1;
        port = local_port(worker_sock[k]);
    }
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        fprintf(stderr, "%secho_server: pipe: %s\n", prefix, strerror(errno));
        return 1;
    }
    int started = 0;
    for (int k = 1; k <= cfg.workers; k++) {
        if (start_worker(k, pipefd[1], pipefd[0]) < 0 || !read_ready(pipefd[0], k))
            break;
        started++;
    }
    close(pipefd[0]);
    close(pipefd[1]);
    if (started < cfg.workers) {
        fprintf(stderr, "%secho_server: worker %d did not start\n", prefix, started + 1);
        stop_workers();
        return 1;
    }
    for (int k = 1; k <= cfg.workers; k++)
        say("worker %d (pid %d) started\n", k, (int)worker_pid[k]);
    say_tickets();
    say("listening on port %d\n", port);

    uint64_t restarts[RESTART_LIMIT] = {0}; /* when the last ones happened, oldest first */
    uint64_t end = cfg.seconds > 0 ? now_ms() + (uint64_t)cfg.seconds * 1000u : 0;
    int rc = 0;
    while (rc == 0) {
        uint64_t now = now_ms();
        if (end && now >= end)
            break;
        uint64_t ms = end ? end - now : 1000;
        if (ms > 1000)
            ms = 1000;
        struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                              .tv_nsec = (long)(ms % 1000) * 1000000L};
        int sig = sigtimedwait(&parent_signals, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        pid_t pid;
        int status;
        while (rc == 0 && (pid = waitpid(-1, &status, WNOHANG)) > 0) {
            int k = worker_number(pid);
            if (!k)
                continue;
            worker_pid[k] = 0;
            char how[32];
            describe_exit(status, how, sizeof how);
            now = now_ms();
            if (restarts[0] && now - restarts[0] < RESTART_WINDOW_MS) {
                say("worker %d (pid %d) died (%s); %d restarts within %d s, giving up\n", k,
                    (int)pid, how, RESTART_LIMIT, RESTART_WINDOW_MS / 1000);
                rc = 1;
                break;
            }
            say("worker %d (pid %d) died (%s), restarting\n", k, (int)pid, how);
            memmove(restarts, restarts + 1, sizeof restarts - sizeof restarts[0]);
            restarts[RESTART_LIMIT - 1] = now;
            if (start_worker(k, -1, -1) < 0) {
                say("worker %d: fork: %s\n", k, strerror(errno));
                rc = 1;
                break;
            }
            say("worker %d (pid %d) started\n", k, (int)worker_pid[k]);
        }
    }
    say("stopping %d workers\n", cfg.workers);
    stop_workers();
    say("workers stopped\n");
    for (int k = 1; k <= cfg.workers; k++)
        close(worker_sock[k]);
    explicit_bzero(master, sizeof master);
    return rc;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--godot-cookies")) {
            cfg.admission = false;
            continue;
        }
        if (!strcmp(a, "--behind-proxy")) {
            cfg.behind_proxy = true;
            continue;
        }
        if (!v)
            usage(argv[0]);
        if (!strcmp(a, "--port"))
            cfg.port = atoi(v);
        else if (!strcmp(a, "--bind"))
            cfg.bind = v;
        else if (!strcmp(a, "--cert"))
            cfg.cert_file = v;
        else if (!strcmp(a, "--key"))
            cfg.key_file = v;
        else if (!strcmp(a, "--ca"))
            cfg.ca_file = v;
        else if (!strcmp(a, "--psk"))
            cfg.psk_hex = v;
        else if (!strcmp(a, "--psk-identity"))
            psk_identity = v;
        else if (!strcmp(a, "--max-peers"))
            cfg.max_peers = atoi(v);
        else if (!strcmp(a, "--seconds"))
            cfg.seconds = atoi(v);
        else if (!strcmp(a, "--secret-file"))
            cfg.secret_file = v;
        else if (!strcmp(a, "--workers"))
            cfg.workers = atoi(v);
        else if (!strcmp(a, "--name"))
            cfg.name = v;
        else
            usage(argv[0]);
        i++;
    }
    if (!cfg.cert_file != !cfg.key_file || cfg.max_peers < 1 || !cfg.psk_hex != !psk_identity ||
        (cfg.workers && (cfg.workers < 1 || cfg.workers > MAX_WORKERS)))
        usage(argv[0]);
    if (cfg.psk_hex && !parse_hex(cfg.psk_hex, psk_key, sizeof psk_key, &psk_len)) {
        fprintf(stderr, "echo_server: --psk wants 1 to %d bytes in hex\n", DK_PSK_KEY_MAX);
        return 2;
    }
    if (cfg.name)
        snprintf(prefix, sizeof prefix, "%s: ", cfg.name);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (cfg.workers)
        return run_workers();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    return serve(cfg.port, -1, -1);
}
