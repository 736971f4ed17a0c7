/* UDP echo server: the UDPServer accept loop of Godot in C. Every datagram
 * from every peer is sent back to it.
 *
 *   udp_echo_server [--port N] [--bind ADDR] [--max-peers N] [--seconds N]
 */
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

int main(int argc, char **argv)
{
    int port = 4242, max_peers = 1024, seconds = 0;
    const char *bind = "*";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bind") && i + 1 < argc)
            bind = argv[++i];
        else if (!strcmp(argv[i], "--max-peers") && i + 1 < argc)
            max_peers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--port N] [--bind ADDR] [--max-peers N] [--seconds N]\n",
                    argv[0]);
            return 2;
        }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    dk_err err;
    dk_udp_server *server = dk_udp_server_new(&err);
    if (!server || dk_udp_server_listen(server, port, bind) != DK_OK) {
        fprintf(stderr, "listen: %s\n", dk_last_error());
        return 1;
    }
    printf("listening on port %d\n", dk_udp_server_get_local_port(server));
    fflush(stdout);

    dk_udp_peer **peers = calloc((size_t)max_peers, sizeof *peers);
    int npeers = 0;
    time_t end = seconds > 0 ? time(NULL) + seconds : 0;
    uint8_t buf[DK_UDP_MAX_DATAGRAM];
    while (!stop && (!end || time(NULL) < end)) {
        struct pollfd pfd = {.fd = dk_udp_server_get_fd(server), .events = POLLIN};
        poll(&pfd, 1, 100);
        while (dk_udp_server_is_connection_available(server)) {
            dk_udp_peer *peer = dk_udp_server_take_connection(server, NULL);
            if (npeers == max_peers) {
                dk_udp_peer_free(peer); /* full: its next datagram will be pending again */
                continue;
            }
            char ip[DK_IP_STRLEN];
            int rport = 0;
            dk_udp_peer_get_remote_address(peer, ip, sizeof ip, &rport);
            printf("peer connected: %s port %d\n", ip, rport);
            fflush(stdout);
            peers[npeers++] = peer;
        }
        for (int i = 0; i < npeers; i++) {
            size_t n;
            while (dk_udp_peer_get_packet(peers[i], buf, sizeof buf, &n) == DK_OK)
                dk_udp_peer_put_packet(peers[i], buf, n);
        }
    }
    for (int i = 0; i < npeers; i++)
        dk_udp_peer_free(peers[i]);
    free(peers);
    dk_udp_server_free(server);
    return 0;
}
