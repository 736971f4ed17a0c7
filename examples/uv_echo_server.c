/* DTLS echo server on a libuv loop: the library's socket in a uv_poll_t,
 * its timers in one uv_timer_t, many sessions at the cost of the active ones.
 *
 *   uv_echo_server [--port N] [--bind ADDR] [--cert FILE --key FILE] [--seconds N]
 *
 * The loop is README's "Servers with many sessions": the DTLS server is
 * attached to the UDP server (cookies answered statelessly inside the poll)
 * and dk_dtls_server_poll() does everything else: it takes new clients
 * itself, runs only the sessions that received datagrams or whose timer is
 * due, and hands back only the sessions that need us. Godot's accept loop
 * would poll every session on each wake-up and need each session's timer;
 * here one fd and one timeout cover the whole server:
 *
 *   - the socket (dk_udp_server_get_fd()) readable: run the server;
 *   - after every run, the timer is re-armed from
 *     dk_dtls_server_get_timeout_ms() (stopped when it says -1: nothing is
 *     due), so an idle server sleeps in the kernel until a datagram comes.
 *
 * Without --cert/--key it makes a self-signed certificate in memory.
 * SIGINT, SIGTERM or --seconds end it: sessions get a close_notify, and it
 * prints its counters ("stats: ...") and exits 0. */
#include <dtlskit/dtlskit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

/* The sessions we own (dk_dtls_server_poll() hands each over once, new). */
typedef struct session {
    dk_dtls_peer *peer;
    bool up; /* handshake reported */
    struct session *prev, *next;
} session;

static struct {
    dk_udp_server *udp;
    dk_dtls_server *dtls;
    session *sessions;
    uv_poll_t poll;
    uv_timer_t timer, deadline;
    uv_signal_t sigint, sigterm;
    unsigned long long handshakes, echoed;
    int exit_code;
} app;

static uint8_t buf[DK_UDP_MAX_DATAGRAM];

static void describe(dk_dtls_peer *p, char *out, size_t cap)
{
    char ip[DK_IP_STRLEN] = "?";
    int port = 0;
    dk_udp_peer_get_remote_address(dk_dtls_peer_get_udp_peer(p), ip, sizeof ip, &port);
    snprintf(out, cap, "%s port %d", ip, port);
}

static void drop(session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        app.sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    dk_dtls_peer_free(s->peer);
    free(s);
}

/* A session dk_dtls_server_poll() reported: new, connected, with packets,
 * or ended. */
static void serve(dk_dtls_peer *p)
{
    session *s = dk_dtls_peer_get_user_data(p);
    char who[80];
    if (!s) { /* new: ours from now on */
        s = calloc(1, sizeof *s);
        if (!s) {
            dk_dtls_peer_free(p);
            return;
        }
        s->peer = p;
        s->next = app.sessions;
        if (s->next)
            s->next->prev = s;
        app.sessions = s;
        dk_dtls_peer_set_user_data(p, s);
        describe(p, who, sizeof who);
        printf("peer connected: %s\n", who);
    }
    dk_dtls_status st = dk_dtls_peer_get_status(p);
    if (st == DK_DTLS_HANDSHAKING)
        return;
    if (st != DK_DTLS_CONNECTED) {
        describe(p, who, sizeof who);
        printf("peer disconnected: %s (%s: %s)\n", who, dk_dtls_status_name(st),
               dk_dtls_peer_get_error_reason(p));
        drop(s);
        return;
    }
    if (!s->up) {
        s->up = true;
        app.handshakes++;
        describe(p, who, sizeof who);
        printf("handshake done: %s, %s\n", who,
               dk_cipher_suite_name(dk_dtls_peer_get_cipher_suite(p)));
    }
    size_t n;
    while (dk_dtls_peer_get_packet(p, buf, sizeof buf, &n) == DK_OK) {
        if (dk_dtls_peer_put_packet(p, buf, n) == DK_OK)
            app.echoed++;
    }
}

static void on_timer(uv_timer_t *h);

/* Runs the server, then re-arms the timer from its next deadline. */
static void run(void)
{
    dk_dtls_peer *ready[64];
    int n = dk_dtls_server_poll(app.dtls, ready, 64);
    if (n < 0) {
        fprintf(stderr, "uv_echo_server: poll: %s\n", dk_last_error());
        app.exit_code = 1;
        uv_stop(uv_default_loop());
        return;
    }
    for (int i = 0; i < n; i++)
        serve(ready[i]);
    dk_udp_server_flush(app.udp); /* the echoes leave in one sendmmsg */
    int t = dk_dtls_server_get_timeout_ms(app.dtls);
    if (t < 0) {
        uv_timer_stop(&app.timer); /* nothing due: sleep until a datagram */
        return;
    }
    uv_update_time(uv_default_loop()); /* the loop's clock, not the start of this wake-up */
    uv_timer_start(&app.timer, on_timer, (uint64_t)t, 0);
}

static void on_timer(uv_timer_t *h)
{
    (void)h;
    run();
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)h;
    (void)events;
    if (status < 0) {
        fprintf(stderr, "uv_echo_server: uv_poll: %s\n", uv_strerror(status));
        app.exit_code = 1;
        uv_stop(uv_default_loop());
        return;
    }
    run();
}

static void on_stop(uv_handle_t *h)
{
    (void)h;
    uv_stop(uv_default_loop());
}

static void on_signal(uv_signal_t *h, int sig)
{
    (void)sig;
    on_stop((uv_handle_t *)h);
}

static void on_deadline(uv_timer_t *h)
{
    on_stop((uv_handle_t *)h);
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--port N] [--bind ADDR] [--cert FILE --key FILE] [--seconds N]\n",
            argv0);
    exit(2);
}

static void die(const char *what)
{
    fprintf(stderr, "uv_echo_server: %s: %s\n", what, dk_last_error());
    exit(1);
}

int main(int argc, char **argv)
{
    int port = 4242, seconds = 0;
    const char *bind = "*", *cert_file = NULL, *key_file = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage(argv[0]);
        if (!strcmp(a, "--port"))
            port = atoi(v);
        else if (!strcmp(a, "--bind"))
            bind = v;
        else if (!strcmp(a, "--cert"))
            cert_file = v;
        else if (!strcmp(a, "--key"))
            key_file = v;
        else if (!strcmp(a, "--seconds"))
            seconds = atoi(v);
        else
            usage(argv[0]);
    }
    if (!cert_file != !key_file)
        usage(argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);

    dk_key *key =
        key_file ? dk_key_load(key_file, NULL, false, NULL) : dk_key_generate_ec(DK_EC_P256, NULL);
    dk_cert *cert = !key ? NULL
                    : cert_file
                        ? dk_cert_load(cert_file, NULL)
                        : dk_cert_generate_self_signed(key, "CN=localhost", NULL, NULL, NULL);
    dk_tls_options *opts = cert ? dk_tls_options_server(key, cert, NULL) : NULL;
    if (!opts)
        die("key and certificate");
    app.udp = dk_udp_server_new(NULL);
    app.dtls = dk_dtls_server_new(NULL);
    if (!app.udp || !app.dtls || dk_dtls_server_setup(app.dtls, opts) != DK_OK)
        die("setup");
    dk_tls_options_free(opts);
    dk_cert_free(cert);
    dk_key_free(key);
    if (dk_udp_server_listen(app.udp, port, bind) != DK_OK)
        die("listen");
    if (dk_dtls_server_attach(app.dtls, app.udp) != DK_OK || /* admission mode */
        dk_udp_server_set_send_batching(app.udp, true) != DK_OK)
        die("attach");

    uv_loop_t *loop = uv_default_loop();
    uv_poll_init(loop, &app.poll, dk_udp_server_get_fd(app.udp));
    uv_poll_start(&app.poll, UV_READABLE, on_readable);
    uv_timer_init(loop, &app.timer);
    uv_timer_init(loop, &app.deadline);
    uv_signal_init(loop, &app.sigint);
    uv_signal_init(loop, &app.sigterm);
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);
    if (seconds > 0)
        uv_timer_start(&app.deadline, on_deadline, (uint64_t)seconds * 1000u, 0);
    printf("pid %d\n", (int)getpid());
    printf("listening on port %d\n", dk_udp_server_get_local_port(app.udp));
    run(); /* arms the timer */
    uv_run(loop, UV_RUN_DEFAULT);

    /* Shutdown: a close_notify to every session (batched: flushed), then
     * the sessions and the handles are freed. */
    for (session *s = app.sessions; s; s = s->next)
        dk_dtls_peer_disconnect_from_peer(s->peer);
    dk_udp_server_flush(app.udp);
    while (app.sessions)
        drop(app.sessions);
    dk_udp_stats us;
    dk_dtls_server_stats ds;
    dk_udp_server_get_stats(app.udp, &us);
    dk_dtls_server_get_stats(app.dtls, &ds);
    printf("stats: %llu datagrams received, %llu HelloVerifyRequests sent, %llu cookies "
           "accepted, %llu handshakes, %llu packets echoed\n",
           (unsigned long long)us.datagrams_received, (unsigned long long)ds.hello_verify_sent,
           (unsigned long long)ds.cookies_accepted, app.handshakes, app.echoed);
    uv_close((uv_handle_t *)&app.poll, NULL);
    uv_close((uv_handle_t *)&app.timer, NULL);
    uv_close((uv_handle_t *)&app.deadline, NULL);
    uv_close((uv_handle_t *)&app.sigint, NULL);
    uv_close((uv_handle_t *)&app.sigterm, NULL);
    uv_run(loop, UV_RUN_DEFAULT); /* runs the close callbacks */
    uv_loop_close(loop);
    dk_dtls_server_free(app.dtls);
    dk_udp_server_free(app.udp);
    return app.exit_code;
}
