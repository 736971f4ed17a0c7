/* DTLS echo client: the client of Godot's DTLSServer documentation in C,
 * plus options. It sends COUNT messages and checks that each comes back.
 *
 *   echo_client [--host H] [--port N] [--ca FILE | --insecure]
 *               [--hostname NAME] [--message TEXT] [--count N]
 *               [--timeout SECONDS] [--retry MS] [--cert FILE --key FILE]
 *               [--psk HEX --psk-identity ID] [--newline]
 *               [--resume] [--session-in FILE] [--session-out FILE]
 *
 * Exits 0 only when every reply arrived and matched; otherwise prints the
 * final status and its reason and exits 1. DTLS does not retransmit
 * application data, so a message whose reply has not come back within the
 * retry interval (default 1000 ms) is sent again, until the timeout.
 * --newline ends each message with "\n", for line-oriented peers such as
 * `openssl s_server`. --psk authenticates with a pre-shared key under
 * identity ID instead of a certificate (the client then offers PSK suites
 * only). --resume connects a second time after the echoes, offering the
 * first connection's session (RFC 5077 ticket), and prints "resumed" or
 * "full handshake" for it; --session-out saves the session to FILE (mode
 * 0600: it holds the session's master secret), --session-in offers the one
 * saved there, so that resumption works across runs. */
#include <dtlskit/dtlskit.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--host H] [--port N] [--ca FILE | --insecure] [--hostname NAME]\n"
            "          [--message TEXT] [--count N] [--timeout SECONDS] [--retry MS]\n"
            "          [--cert FILE --key FILE] [--psk HEX --psk-identity ID] [--newline]\n"
            "          [--resume] [--session-in FILE] [--session-out FILE]\n",
            argv0);
    exit(2);
}

static void die(const char *what)
{
    fprintf(stderr, "echo_client: %s: %s\n", what, dk_last_error());
    exit(1);
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

/* Connects, echoes `count` messages and reports; 0 when all came back. */
static int echo_round(dk_dtls_peer *dtls, const char *message, int count, int timeout_s,
                      int retry_ms, bool newline)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_s * 1000u;
    int next = 0, matched = 0;
    uint64_t sent_at = 0;
    char msg[1024], buf[DK_UDP_MAX_DATAGRAM + 1];
    bool announced = false;
    while (matched < count && now_ms() < deadline) {
        /* func _process(delta):
         *     dtls.poll() */
        dk_dtls_peer_poll(dtls);
        dk_dtls_status st = dk_dtls_peer_get_status(dtls);
        /*     if dtls.get_status() == PacketPeerDTLS.STATUS_CONNECTED: */
        if (st == DK_DTLS_CONNECTED) {
            if (!announced) {
                printf("connected (%s, %s)\n", dk_dtls_peer_get_cipher(dtls),
                       dk_cipher_suite_name(dk_dtls_peer_get_cipher_suite(dtls)));
                announced = true;
            }
            snprintf(msg, sizeof msg, "%s #%d%s", message, next, newline ? "\n" : "");
            /* if !connected: # Try to contact server
             *     dtls.put_packet("The answer is... 42!".to_utf8_buffer()) */
            if (!sent_at || now_ms() - sent_at >= (uint64_t)retry_ms) {
                if (dk_dtls_peer_put_packet(dtls, msg, strlen(msg)) != DK_OK)
                    die("put_packet");
                sent_at = now_ms();
            }
            /* while dtls.get_available_packet_count() > 0:
             *     print("Connected: %s" % dtls.get_packet().get_string_from_utf8()) */
            while (dk_dtls_peer_get_available_packet_count(dtls) > 0) {
                size_t n;
                if (dk_dtls_peer_get_packet(dtls, buf, sizeof buf - 1, &n) != DK_OK)
                    break;
                buf[n] = '\0';
                printf("reply: %s%s", buf, newline ? "" : "\n");
                if (n == strlen(msg) && !memcmp(buf, msg, n)) {
                    matched++;
                    next++;
                    sent_at = 0;
                    snprintf(msg, sizeof msg, "%s #%d%s", message, next, newline ? "\n" : "");
                }
            }
        } else if (st != DK_DTLS_HANDSHAKING) {
            break;
        }
        int wait = sent_at ? (int)((uint64_t)retry_ms - (now_ms() - sent_at)) : 1;
        int t = dk_dtls_peer_get_timeout_ms(dtls);
        if (t >= 0 && t < wait)
            wait = t;
        if (wait < 0)
            wait = 0;
        if (wait > 100)
            wait = 100;
        if (matched < count) {
            struct pollfd pfd = {.fd = dk_dtls_peer_get_fd(dtls), .events = POLLIN};
            poll(&pfd, 1, wait);
        }
    }
    dk_dtls_status st = dk_dtls_peer_get_status(dtls);
    int rc = 0;
    if (matched < count) {
        const char *why = dk_dtls_peer_get_error_reason(dtls);
        printf("failed: status %s%s%s; %d of %d replies\n", dk_dtls_status_name(st),
               why[0] ? ": " : "",
               why[0] ? why
                      : (st == DK_DTLS_HANDSHAKING || st == DK_DTLS_CONNECTED ? "timeout" : ""),
               matched, count);
        rc = 1;
    } else {
        printf("%d/%d replies matched\n", matched, count);
    }
    return rc;
}

/* The session saved in `path` by an earlier run, or NULL (reported). */
static dk_dtls_session *load_session(const char *path)
{
    uint8_t buf[65536];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    dk_dtls_session *s = n ? dk_dtls_session_load(buf, n, NULL) : NULL;
    explicit_bzero(buf, sizeof buf);
    if (!s)
        fprintf(stderr, "echo_client: no session in %s: %s\n", path,
                n ? dk_last_error() : "cannot read it");
    return s;
}

/* Writes `s` to `path`, readable by its owner only (it holds a secret). */
static bool save_session(const dk_dtls_session *s, const char *path)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (dk_dtls_session_save(s, &b, &n) != DK_OK)
        return false;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    bool ok = fd >= 0 && write(fd, b, n) == (ssize_t)n;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    explicit_bzero(b, n);
    dk_free(b);
    if (!ok)
        fprintf(stderr, "echo_client: cannot write the session to %s\n", path);
    return ok;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *hostname = NULL, *ca_file = NULL;
    const char *message = "The answer is... 42!", *cert_file = NULL, *key_file = NULL;
    const char *psk_hex = NULL, *psk_identity = NULL;
    const char *session_in = NULL, *session_out = NULL;
    bool resume = false;
    int port = 4242, count = 1, timeout_s = 10, retry_ms = 1000;
    bool insecure = false, newline = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--insecure")) {
            insecure = true;
            continue;
        }
        if (!strcmp(a, "--newline")) {
            newline = true;
            continue;
        }
        if (!strcmp(a, "--resume")) {
            resume = true;
            continue;
        }
        if (!v)
            usage(argv[0]);
        if (!strcmp(a, "--host"))
            host = v;
        else if (!strcmp(a, "--port"))
            port = atoi(v);
        else if (!strcmp(a, "--ca"))
            ca_file = v;
        else if (!strcmp(a, "--hostname"))
            hostname = v;
        else if (!strcmp(a, "--message"))
            message = v;
        else if (!strcmp(a, "--count"))
            count = atoi(v);
        else if (!strcmp(a, "--timeout"))
            timeout_s = atoi(v);
        else if (!strcmp(a, "--retry"))
            retry_ms = atoi(v);
        else if (!strcmp(a, "--cert"))
            cert_file = v;
        else if (!strcmp(a, "--key"))
            key_file = v;
        else if (!strcmp(a, "--psk"))
            psk_hex = v;
        else if (!strcmp(a, "--psk-identity"))
            psk_identity = v;
        else if (!strcmp(a, "--session-in"))
            session_in = v;
        else if (!strcmp(a, "--session-out"))
            session_out = v;
        else
            usage(argv[0]);
        i++;
    }
    if ((insecure && ca_file) || count < 1 || timeout_s < 1 || retry_ms < 1 ||
        !cert_file != !key_file || !psk_hex != !psk_identity || (psk_hex && (insecure || ca_file)))
        usage(argv[0]);
    if (!hostname)
        hostname = host;
    setvbuf(stdout, NULL, _IOLBF, 0);

    dk_tls_options *opts = NULL;
    if (psk_hex) {
        uint8_t key[DK_PSK_KEY_MAX];
        size_t len;
        if (!parse_hex(psk_hex, key, sizeof key, &len)) {
            fprintf(stderr, "echo_client: --psk wants 1 to %d bytes in hex\n", DK_PSK_KEY_MAX);
            return 2;
        }
        opts = dk_tls_options_client_psk(psk_identity, key, len, NULL);
        explicit_bzero(key, sizeof key);
    } else if (insecure) {
        opts = dk_tls_options_client_unsafe(NULL, NULL);
    } else if (ca_file) {
        dk_cert *ca = dk_cert_load(ca_file, NULL);
        if (!ca)
            die("loading the CA");
        opts = dk_tls_options_client(ca, NULL, NULL);
        dk_cert_free(ca);
    } else {
        opts = dk_tls_options_client(NULL, NULL, NULL); /* the system's CAs */
    }
    if (!opts)
        die("client options");
    if (cert_file) {
        dk_key *k = dk_key_load(key_file, NULL, false, NULL);
        dk_cert *c = dk_cert_load(cert_file, NULL);
        if (!k || !c || dk_tls_options_set_client_certificate(opts, k, c) != DK_OK)
            die("client certificate");
        dk_key_free(k);
        dk_cert_free(c);
    }
    dk_dtls_session *session = NULL;
    if (session_in && !(session = load_session(session_in)))
        return 1;
    int rc = 0;
    for (int round = 0; round < (resume ? 2 : 1) && rc == 0; round++) {
        /* var dtls := PacketPeerDTLS.new()
         * var udp := PacketPeerUDP.new() */
        dk_dtls_peer *dtls = dk_dtls_peer_new(NULL);
        dk_udp_peer *udp = dk_udp_peer_new(NULL);
        if (!dtls || !udp)
            die("start");
        /* udp.connect_to_host("127.0.0.1", 4242) */
        if (dk_udp_peer_connect_to_host(udp, host, port) != DK_OK)
            die("connect");
        if (session && dk_dtls_peer_set_session(dtls, session) != DK_OK)
            die("set_session");
        /* dtls.connect_to_peer(udp, ...) */
        if (dk_dtls_peer_connect_to_peer(dtls, udp, hostname, opts) != DK_OK)
            die("connect_to_peer");
        rc = echo_round(dtls, message, count, timeout_s, retry_ms, newline);
        if (rc == 0 && (session || round > 0)) /* a session was offered: was it taken? */
            printf("%s\n", dk_dtls_peer_is_session_reused(dtls) ? "resumed" : "full handshake");
        if (rc == 0) {
            dk_dtls_session_free(session);
            session = dk_dtls_peer_get_session(dtls, NULL); /* NULL: no ticket */
            if (session_out && session && !save_session(session, session_out))
                rc = 1;
        }
        dk_dtls_peer_disconnect_from_peer(dtls);
        dk_dtls_peer_free(dtls);
    }
    dk_dtls_session_free(session);
    dk_tls_options_free(opts);
    return rc;
}
