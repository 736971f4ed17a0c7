/* Test helpers: raw loopback sockets and bounded waiting. */
#ifndef DK_TESTUTIL_H
#define DK_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/dtlskit.h>

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
