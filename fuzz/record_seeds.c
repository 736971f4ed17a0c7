/* Writes the fuzz seed corpus: one real handshake and echo between a
 * dtlskit server and client over loopback, recorded by a relay in the
 * middle. Run from the repository root after a build:
 *
 *   build/fuzz-openssl/fuzz/record_seeds fuzz/corpus tests/certs
 *
 * corpus/clienthello/: the client's first and second ClientHello;
 * corpus/server/: the client's datagrams from the second ClientHello on;
 * corpus/client/: the server's datagrams. Session corpora use the format of
 * fuzz_common.h (2-byte length, then the datagram). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dtlskit/dtlskit.h>

static int udp_socket(struct sockaddr_in *bound)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)bound, &l) < 0) {
        perror("socket");
        exit(1);
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void append(FILE *f, const uint8_t *d, size_t n)
{
    uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    fwrite(len, 1, 2, f);
    fwrite(d, 1, n, f);
}

static void write_raw(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/clienthello/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fwrite(d, 1, n, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR CERTS_DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1], *certs = argv[2];
    char path[512];
    snprintf(path, sizeof path, "%s/server.key", certs);
    dk_key *key = dk_key_load(path, NULL, false, NULL);
    snprintf(path, sizeof path, "%s/server-chain.pem", certs);
    dk_cert *chain = dk_cert_load(path, NULL);
    snprintf(path, sizeof path, "%s/ca.pem", certs);
    dk_cert *ca = dk_cert_load(path, NULL);
    if (!key || !chain || !ca) {
        fprintf(stderr, "%s\n", dk_last_error());
        return 1;
    }
    dk_tls_options *so = dk_tls_options_server(key, chain, NULL);
    dk_tls_options *co = dk_tls_options_client(ca, NULL, NULL);
    dk_udp_server *us = dk_udp_server_new(NULL);
    dk_dtls_server *ds = dk_dtls_server_new(NULL);
    dk_udp_server_listen(us, 0, "127.0.0.1");
    dk_dtls_server_setup(ds, so);
    dk_dtls_server_attach(ds, us);
    struct sockaddr_in front, back, server = {.sin_family = AF_INET};
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server.sin_port = htons((uint16_t)dk_udp_server_get_local_port(us));
    int ffd = udp_socket(&front), bfd = udp_socket(&back);
    dk_udp_peer *udp = dk_udp_peer_new(NULL);
    dk_udp_peer_connect_to_host(udp, "127.0.0.1", ntohs(front.sin_port));
    dk_dtls_peer *c = dk_dtls_peer_new(NULL);
    dk_dtls_peer_connect_to_peer(c, udp, "localhost", co);

    snprintf(path, sizeof path, "%s/server/handshake.bin", dir);
    FILE *to_server = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/client/handshake.bin", dir);
    FILE *to_client = fopen(path, "wb");
    if (!to_server || !to_client) {
        perror(path);
        return 1;
    }
    struct sockaddr_in client;
    socklen_t cl = sizeof client;
    dk_dtls_peer *sp = NULL;
    int hellos = 0, sent = 0;
    for (int round = 0; round < 2000 && sent < 3; round++) {
        uint8_t buf[65536];
        ssize_t n;
        while ((n = recvfrom(ffd, buf, sizeof buf, 0, (struct sockaddr *)&client, &cl)) > 0) {
            if (buf[0] == 22 && n > 25 && buf[13] == 1) {
                hellos++;
                write_raw(dir, hellos == 1 ? "first.bin" : "second.bin", buf, (size_t)n);
            }
            if (hellos >= 2)
                append(to_server, buf, (size_t)n);
            sendto(bfd, buf, (size_t)n, 0, (struct sockaddr *)&server, sizeof server);
        }
        while ((n = recv(bfd, buf, sizeof buf, 0)) > 0) {
            append(to_client, buf, (size_t)n);
            sendto(ffd, buf, (size_t)n, 0, (struct sockaddr *)&client, cl);
        }
        while (dk_udp_server_is_connection_available(us)) {
            dk_udp_peer *p = dk_udp_server_take_connection(us, NULL);
            dk_dtls_peer *d = dk_dtls_server_take_connection(ds, p, NULL);
            if (d && dk_dtls_peer_get_status(d) == DK_DTLS_HANDSHAKING)
                sp = d;
            else
                dk_dtls_peer_free(d);
        }
        if (sp) {
            dk_dtls_peer_poll(sp);
            size_t got;
            while (dk_dtls_peer_get_packet(sp, buf, sizeof buf, &got) == DK_OK)
                dk_dtls_peer_put_packet(sp, buf, got);
        }
        dk_dtls_peer_poll(c);
        if (dk_dtls_peer_get_status(c) == DK_DTLS_CONNECTED && round % 50 == 0 && sent < 3) {
            char msg[32];
            int len = snprintf(msg, sizeof msg, "seed message %d", sent++);
            dk_dtls_peer_put_packet(c, msg, (size_t)len);
        }
        poll(NULL, 0, 1);
    }
    dk_dtls_peer_disconnect_from_peer(c);
    for (int round = 0; round < 20; round++) {
        uint8_t buf[65536];
        ssize_t n;
        while ((n = recvfrom(ffd, buf, sizeof buf, 0, (struct sockaddr *)&client, &cl)) > 0)
            append(to_server, buf, (size_t)n);
        poll(NULL, 0, 1);
    }
    fclose(to_server);
    fclose(to_client);
    printf("recorded %d ClientHellos and %d messages (client %s)\n", hellos, sent,
           dk_dtls_status_name(dk_dtls_peer_get_status(c)));
    dk_dtls_peer_free(c);
    dk_dtls_peer_free(sp);
    dk_dtls_server_free(ds);
    dk_udp_server_free(us);
    dk_tls_options_free(so);
    dk_tls_options_free(co);
    dk_key_free(key);
    dk_cert_free(chain);
    dk_cert_free(ca);
    close(ffd);
    close(bfd);
    return hellos == 2 && sent == 3 ? 0 : 1;
}
