/* Internal: strict parser for the first record of a datagram when it should
 * be a DTLS ClientHello, and the HelloVerifyRequest writer. Everything here
 * runs on unauthenticated input from any source address, before any state
 * exists for it: every length is checked against what is really there. This
 * file is fuzzed (fuzz/fuzz_clienthello.c). */
#ifndef DK_CORE_CLIENTHELLO_H
#define DK_CORE_CLIENTHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed byte range inside the datagram. */
typedef struct dk__span {
    const uint8_t *p;
    size_t len;
} dk__span;

typedef struct dk__client_hello {
    uint16_t record_version; /* 0xfeff (DTLS 1.0) or 0xfefd (DTLS 1.2) */
    uint8_t record_seq[6];   /* copied into the HelloVerifyRequest */
    uint16_t message_seq;
    const uint8_t *client_version; /* 2 bytes */
    const uint8_t *random;         /* 32 bytes */
    dk__span session_id;           /* without length prefixes */
    dk__span cookie;
    dk__span cipher_suites;
    dk__span compression_methods;
    dk__span extensions; /* empty when absent */
} dk__client_hello;

typedef enum dk__ch_result {
    DK__CH_OK = 0,
    DK__CH_NOT_HANDSHAKE, /* not a handshake record at epoch 0 */
    DK__CH_NOT_HELLO,     /* a handshake, but not a ClientHello */
    DK__CH_FRAGMENTED,    /* a ClientHello fragment: cannot be checked statelessly */
    DK__CH_MALFORMED,     /* lengths that do not add up, bad versions... */
} dk__ch_result;

/* Parses the first record of `data`. On DK__CH_OK `out` points into
 * `data`, which must stay alive while `out` is used. */
dk__ch_result dk__client_hello_parse(const uint8_t *data, size_t len, dk__client_hello *out);

/* Size of a HelloVerifyRequest carrying a cookie of `cookie_len` bytes. */
#define DK__HVR_LEN(cookie_len) (13u + 12u + 3u + (cookie_len))

/* Writes a HelloVerifyRequest answering `ch` into `out` (cap bytes).
 * Record and server version 0xfeff, record sequence number copied from the
 * ClientHello (RFC 6347 4.2.1), message_seq 0. Returns the length, or 0
 * when `cap` is too small. */
size_t dk__hvr_write(const dk__client_hello *ch, const uint8_t *cookie, size_t cookie_len,
                     uint8_t *out, size_t cap);

#endif
