/* UDP echo client: sends COUNT messages and waits for each echo.
 *
 *   udp_echo_client [--host H] [--port N] [--message TEXT] [--count N]
 *                   [--timeout SECONDS]
 * Exits 0 when every reply arrived and matched.
 */
#include <dtlskit/dtlskit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *message = "The answer is... 42!";
    int port = 4242, count = 1, timeout = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--message") && i + 1 < argc)
            message = argv[++i];
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout = atoi(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--host H] [--port N] [--message TEXT] [--count N] "
                    "[--timeout SECONDS]\n",
                    argv[0]);
            return 2;
        }
    }
    dk_err err;
    dk_udp_peer *udp = dk_udp_peer_new(&err);
    if (!udp || dk_udp_peer_connect_to_host(udp, host, port) != DK_OK) {
        fprintf(stderr, "connect: %s\n", dk_last_error());
        return 1;
    }
    int ok = 0;
    char buf[DK_UDP_MAX_DATAGRAM + 1];
    for (int i = 0; i < count; i++) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s #%d", message, i);
        /* UDP may lose the datagram: resend every second until the timeout. */
        int tries;
        for (tries = 0; tries < timeout; tries++) {
            if (dk_udp_peer_put_packet(udp, msg, strlen(msg)) != DK_OK) {
                fprintf(stderr, "send: %s\n", dk_last_error());
                break;
            }
            if (dk_udp_peer_wait(udp, 1000) != DK_OK)
                continue;
            size_t n;
            if (dk_udp_peer_get_packet(udp, buf, sizeof buf - 1, &n) != DK_OK)
                continue;
            buf[n] = '\0';
            printf("reply: %s\n", buf);
            if (n == strlen(msg) && !memcmp(buf, msg, n))
                ok++;
            break;
        }
    }
    dk_udp_peer_free(udp);
    printf("%d/%d replies matched\n", ok, count);
    return ok == count ? 0 : 1;
}
