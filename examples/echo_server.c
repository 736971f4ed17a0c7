/* DTLS echo server: the server of Godot's DTLSServer documentation in C,
 * line by line where the API allows (comments quote the GDScript), plus
 * options. It echoes every datagram to its sender and reports connects and
 * disconnects.
 *
 *   echo_server [--port N] [--bind ADDR] [--cert FILE --key FILE]
 *               [--ca FILE] [--psk HEX --psk-identity ID] [--max-peers N]
 *               [--seconds N] [--godot-cookies]
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
 * and a peer array of N entries never overflows. */
#include <dtlskit/dtlskit.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--port N] [--bind ADDR] [--cert FILE --key FILE] [--ca FILE]\n"
            "          [--psk HEX --psk-identity ID] [--max-peers N] [--seconds N]\n"
            "          [--godot-cookies]\n",
            argv0);
    exit(2);
}

static void die(const char *what)
{
    fprintf(stderr, "echo_server: %s: %s\n", what, dk_last_error());
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

int main(int argc, char **argv)
{
    int port = 4242, max_peers = 1024, seconds = 0;
    const char *bind = "*", *cert_file = NULL, *key_file = NULL, *ca_file = NULL;
    const char *psk_hex = NULL;
    bool admission = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--godot-cookies")) {
            admission = false;
            continue;
        }
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
        else if (!strcmp(a, "--ca"))
            ca_file = v;
        else if (!strcmp(a, "--psk"))
            psk_hex = v;
        else if (!strcmp(a, "--psk-identity"))
            psk_identity = v;
        else if (!strcmp(a, "--max-peers"))
            max_peers = atoi(v);
        else if (!strcmp(a, "--seconds"))
            seconds = atoi(v);
        else
            usage(argv[0]);
        i++;
    }
    if (!cert_file != !key_file || max_peers < 1 || !psk_hex != !psk_identity)
        usage(argv[0]);
    if (psk_hex && !parse_hex(psk_hex, psk_key, sizeof psk_key, &psk_len)) {
        fprintf(stderr, "echo_server: --psk wants 1 to %d bytes in hex\n", DK_PSK_KEY_MAX);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* var dtls := DTLSServer.new()
     * var server := UDPServer.new()
     * var peers = [] */
    dk_dtls_server *dtls = dk_dtls_server_new(NULL);
    dk_udp_server *server = dk_udp_server_new(NULL);
    dk_dtls_peer **peers = calloc((size_t)max_peers, sizeof *peers);
    bool *up = calloc((size_t)max_peers, sizeof *up); /* handshake reported */
    int npeers = 0;
    if (!dtls || !server || !peers || !up)
        die("start");

    /* func _ready():
     *     server.listen(4242) */
    if (dk_udp_server_listen(server, port, bind) != DK_OK)
        die("listen");
    /*     var key = load("key.key") # Your private key.
     *     var cert = load("cert.crt") # Your X509 certificate. */
    dk_key *key = NULL;
    dk_cert *cert = NULL;
    if (key_file) {
        key = dk_key_load(key_file, NULL, false, NULL);
        cert = dk_cert_load(cert_file, NULL);
        if (!key || !cert)
            die("loading the key or certificate");
    } else if (!psk_hex) {
        key = dk_key_generate_ec(DK_EC_P256, NULL);
        cert = key ? dk_cert_generate_self_signed(key, "CN=localhost,O=dtlskit example", NULL, NULL,
                                                  NULL)
                   : NULL;
        if (!cert)
            die("generating a certificate");
        uint8_t fp[32];
        dk_cert_get_fingerprint_sha256(cert, 0, fp);
        printf("self-signed certificate for CN=localhost, SHA-256 fingerprint ");
        for (int i = 0; i < 32; i++)
            printf("%02X%s", fp[i], i < 31 ? ":" : "\n");
    }
    /*     dtls.setup(TLSOptions.server(key, cert)) */
    dk_tls_options *opts = key ? dk_tls_options_server(key, cert, NULL)
                               : dk_tls_options_server_psk(NULL, psk_lookup, NULL, NULL);
    if (!opts)
        die("server options");
    if (key && psk_hex && dk_tls_options_set_psk(opts, NULL, psk_lookup, NULL) != DK_OK)
        die("PSK");
    if (ca_file) {
        dk_cert *ca = dk_cert_load(ca_file, NULL);
        if (!ca || dk_tls_options_set_client_auth(opts, DK_CLIENT_AUTH_REQUIRED, ca) != DK_OK)
            die("client CA");
        dk_cert_free(ca);
    }
    if (dk_dtls_server_setup(dtls, opts) != DK_OK)
        die("setup");
    int per_address = max_peers / 4 > 0 ? max_peers / 4 : 1;
    if (dk_dtls_server_set_session_limits(dtls, max_peers, per_address) != DK_OK ||
        dk_dtls_server_set_handshake_limits(dtls, max_peers, 8) != DK_OK)
        die("limits");
    dk_tls_options_free(opts);
    dk_key_free(key);
    dk_cert_free(cert);
    /* Beyond Godot: cookie exchange inside the UDP server's poll. */
    if (admission && dk_dtls_server_attach(dtls, server) != DK_OK)
        die("attach");
    printf("listening on port %d\n", dk_udp_server_get_local_port(server));

    time_t end = seconds > 0 ? time(NULL) + seconds : 0;
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
            if (dk_dtls_peer_get_status(dtls_peer) != DK_DTLS_HANDSHAKING || npeers == max_peers) {
                dk_dtls_peer_free(dtls_peer);
                continue;
            }
            /* print("Peer connected!")
             * peers.append(dtls_peer) */
            char who[80];
            describe(dtls_peer, who, sizeof who);
            printf("peer connected: %s\n", who);
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
                printf("handshake done: %s, %s%s%s%s%s\n", who,
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
                    printf("received %zu bytes: %.*s\n", n, (int)(n > 60 ? 60 : n), buf);
                    if (dk_dtls_peer_put_packet(p, buf, n) != DK_OK)
                        printf("echo failed: %s\n", dk_last_error());
                }
                int t = dk_dtls_peer_get_timeout_ms(p);
                if (t >= 0 && t < wait_ms)
                    wait_ms = t;
                continue;
            }
            char who[80];
            describe(p, who, sizeof who);
            printf("peer disconnected: %s (%s: %s)\n", who, dk_dtls_status_name(st),
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
    printf("stats: %llu datagrams received, %llu HelloVerifyRequests sent, %llu cookies "
           "accepted, %llu datagrams stopped by the admission filter, %llu pending dropped\n",
           (unsigned long long)us.datagrams_received, (unsigned long long)ds.hello_verify_sent,
           (unsigned long long)ds.cookies_accepted, (unsigned long long)us.dropped_filtered,
           (unsigned long long)us.dropped_pending_full);
    dk_dtls_server_free(dtls);
    dk_udp_server_free(server);
    return 0;
}
