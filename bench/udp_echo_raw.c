/* Raw UDP echo server: the data-path floor. Same socket strategy as the
 * DTLS servers (one non-blocking socket, recvmmsg in batches of 32, replies
 * with one sendmmsg), same output protocol (bench/PROTOCOL.md); every
 * datagram is echoed unchanged, no cryptography.
 *
 *   udp_echo_raw --port N */
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_stats.h"

#define BATCH 32
#define SLOT  65536

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
    bench_signals();
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int sz = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    socklen_t l = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
        perror("udp_echo_raw");
        return 1;
    }
    bench_measure_start();
    printf("ready %d\n", ntohs(a.sin_port));
    fflush(stdout);
    static uint8_t buf[BATCH][SLOT];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage from[BATCH];
    unsigned long long echoed = 0;
    while (!stop) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = buf[i];
            iov[i].iov_len = SLOT;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n > 0) {
            for (int i = 0; i < n; i++)
                iov[i].iov_len = msgs[i].msg_len; /* echo: same address, same bytes */
            int sent = 0;
            while (sent < n) {
                int r = sendmmsg(fd, msgs + sent, (unsigned)(n - sent), MSG_DONTWAIT);
                if (r <= 0)
                    break;
                sent += r;
            }
            echoed += (unsigned long long)sent;
        }
        if (want_stats) {
            want_stats = 0;
            printf("stats %lld %ld 0 %llu 0 0\n", cpu_us(), rss_kb(), echoed);
            fflush(stdout);
            bench_measure_dump();
        }
        if (n < BATCH) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 10);
        }
    }
    close(fd);
    return 0;
}
