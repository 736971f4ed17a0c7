/* Test helpers: raw loopback sockets and bounded waiting. */
#ifndef DK_TESTUTIL_H
#define DK_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <dtlskit/dtlskit.h>

/* Fills `ss` with ip:port (IPv4 or IPv6 literal); returns the family, or
 * -1 for a bad literal. */
int tu_fill_addr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len);

/* A raw UDP socket bound to `ip` (port 0), non-blocking. Fails the test on
 * error. */
int tu_socket(const char *ip);
/* sendto ip:port; fails the test on error. */
void tu_sendto(int fd, const char *ip, int port, const void *data, size_t len);
/* recv with a timeout; returns the length or -1. */
int tu_recv(int fd, void *buf, size_t cap, int timeout_ms);
/* Milliseconds since an arbitrary point. */
uint64_t tu_now_ms(void);
void tu_sleep_ms(int ms);

/* Polls `server` until `cond` is true or `ms` pass; evaluates to cond. */
#define TU_POLL_UNTIL(server, cond, ms)                                                            \
    ({                                                                                             \
        uint64_t tu_end_ = tu_now_ms() + (ms);                                                     \
        while (!(cond) && tu_now_ms() < tu_end_) {                                                 \
            dk_udp_server_poll(server);                                                            \
            if (!(cond))                                                                           \
                tu_sleep_ms(1);                                                                    \
        }                                                                                          \
        (cond);                                                                                    \
    })

#define ck_assert_dk_ok(expr)                                                                      \
    do {                                                                                           \
        dk_err tu_e_ = (expr);                                                                     \
        ck_assert_msg(tu_e_ == DK_OK, "%s -> %d (%s): %s", #expr, (int)tu_e_, dk_strerror(tu_e_),  \
                      dk_last_error());                                                            \
    } while (0)

/* Runs a suite (CK_ENV etc. respected) and returns the exit status. */
int tu_run(Suite *s);

#endif

/* ---------------------------------------------------------------- DTLS */

#ifndef TU_CERTS_DIR
#define TU_CERTS_DIR "tests/certs"
#endif
/* Path of a test certificate or key file (static buffer, one at a time per
 * expression: copy when two are needed). */
const char *tu_cert_path(const char *name);
dk_key *tu_key(const char *name);
dk_cert *tu_cert(const char *name);

#define TU_MAX_PEERS 512

/* An in-process DTLS echo server: the seed's accept loop. */
typedef struct tu_server {
    dk_udp_server *udp;
    dk_dtls_server *dtls;
    dk_dtls_peer *peers[TU_MAX_PEERS];
    int npeers;
    int port;
    bool echo;        /* echo application packets */
    int taken;        /* dtls take_connection() calls */
    int taken_errors; /* ... that did not return a handshaking peer */
    int taken_null;   /* ... that returned NULL */
    bool keep_closed; /* keep peers that left (default: keep, for assertions) */
} tu_server;

/* Starts a server on `bind` (e.g. "127.0.0.1") with port 0, using the given
 * chain and key files (names under tests/certs), admission mode on or off. */
tu_server *tu_server_start(const char *bind, const char *chain, const char *key, bool admission);
/* Server with ready options (takes nothing over). */
tu_server *tu_server_start_opts(const char *bind, const dk_tls_options *opts, bool admission);
/* One iteration of the accept loop, polls and echo. */
void tu_server_step(tu_server *s);
void tu_server_free(tu_server *s);

/* A client session to host:port (hostname for SNI/verification). */
dk_dtls_peer *tu_client(const char *host, int port, const char *hostname,
                        const dk_tls_options *opts);
/* Client options trusting tests/certs/ca.pem. */
dk_tls_options *tu_client_opts(void);

/* Steps the server (may be NULL) and polls the clients until every client
 * has left HANDSHAKING or `ms` pass. Returns how many are CONNECTED. */
int tu_handshake(tu_server *s, dk_dtls_peer **clients, int n, int ms);

/* Steps the server and polls `c` until `c` has a packet or `ms` pass. */
bool tu_wait_packet(tu_server *s, dk_dtls_peer *c, int ms);

/* Steps server and clients for `ms` milliseconds. */
void tu_run_for(tu_server *s, dk_dtls_peer **clients, int n, int ms);
