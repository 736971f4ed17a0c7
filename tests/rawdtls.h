/* Test helpers: DTLS records and ClientHellos built by hand, for tests that
 * play a peer at the byte level (an attacker, a quirky client). */
#ifndef DK_TEST_RAWDTLS_H
#define DK_TEST_RAWDTLS_H

#include <stddef.h>
#include <stdint.h>

void tu_put16(uint8_t *p, unsigned v);
void tu_put24(uint8_t *p, unsigned v);
void tu_put48(uint8_t *p, uint64_t v);

/* A DTLS 1.2 record header at `b` (13 bytes); returns its size. */
size_t tu_rec_hdr(uint8_t *b, uint8_t type, unsigned epoch, uint64_t seq, size_t len);

/* A DTLS 1.2 ClientHello any of the three libraries answers with its
 * flight (ECDHE with ECDSA or RSA certificates, AES-GCM or ChaCha20), in one
 * record at `b` (room for 512 bytes); `cookie` may be NULL. Returns its
 * size. */
size_t tu_client_hello(uint8_t *b, const uint8_t random[32], const uint8_t *cookie,
                       size_t cookie_len, unsigned msg_seq, uint64_t rec_seq);

#endif
