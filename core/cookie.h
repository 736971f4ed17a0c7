/* Internal: stateless cookies (RFC 6347 4.2.1) for every backend.
 *
 *   cookie = HMAC-SHA256(secret, transport_id || client_version || random ||
 *                        session_id || cipher_suites || compression_methods)
 *
 * with the vectors' contents only (no length prefixes) and the 18-byte
 * transport id of addr.h. This is also the formula wolfSSL recomputes by
 * itself, so a wolfSSL session given the same secret and transport id
 * accepts our cookies (docs/LIBRARIES.md, "Cookies"). */
#ifndef DK_CORE_COOKIE_H
#define DK_CORE_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/error.h>

#include "addr.h"
#include "clienthello.h"

#define DK__COOKIE_LEN          32
#define DK__SECRET_MAX          64
#define DK__DEFAULT_ROTATION_MS 60000

typedef struct dk__secret {
    uint8_t key[DK__SECRET_MAX];
    size_t len; /* 0: none */
} dk__secret;

typedef struct dk__cookie_jar {
    dk__secret current, previous;
    dk__secret next;     /* derived jars only: the next period's secret */
    uint64_t rotated_at; /* dk__now_ms() of the last change */
    int interval_ms;     /* 0: never rotate */
    uint64_t rotations;
    /* Derived jars: the secrets are kdf.h's dk__period_key(master,
     * "cookie", "secret", g) for the wall clock's period g (0 when
     * interval_ms is 0), so that processes and hosts with one master
     * secret accept each other's cookies and rotate in step. */
    dk__secret master; /* len 0: random secrets instead */
    uint64_t period;   /* of `current` */
} dk__cookie_jar;

/* A fresh random secret, rotating every DK__DEFAULT_ROTATION_MS. */
dk_err dk__cookie_jar_init(dk__cookie_jar *jar);

/* Installs `key` as the current secret; the old one becomes previous.
 * Ends derivation from a master secret. */
void dk__cookie_jar_set(dk__cookie_jar *jar, const void *key, size_t len, uint64_t now);

/* Derives the secrets from `master` (16 to DK__SECRET_MAX bytes) from now
 * on: those of the previous, current and next period are accepted. */
dk_err dk__cookie_jar_set_master(dk__cookie_jar *jar, const void *master, size_t len);

/* Sets the rotation interval (0: never). */
void dk__cookie_jar_set_interval(dk__cookie_jar *jar, int interval_ms);

/* Random jars: replaces the secret with a random one when the interval has
 * passed. Derived jars: moves to the wall clock's period. Called before
 * each check: rotation needs no timer. */
void dk__cookie_jar_tick(dk__cookie_jar *jar, uint64_t now);

/* The cookie for this client under `secret`. */
dk_err dk__cookie_mint(const dk__secret *secret, const uint8_t tid[DK__TRANSPORT_ID_LEN],
                       const dk__client_hello *ch, uint8_t out[DK__COOKIE_LEN]);

/* The secret that minted the ClientHello's cookie (current, previous or
 * next),
 * or NULL when the cookie is absent or wrong. Compares in constant time.
 * `current`, when not NULL, is this client's cookie under the current
 * secret, already minted (a server mints it anyway for its answer). */
const dk__secret *dk__cookie_verify(const dk__cookie_jar *jar,
                                    const uint8_t tid[DK__TRANSPORT_ID_LEN],
                                    const dk__client_hello *ch, const uint8_t *current);

#endif
