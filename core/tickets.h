/* Internal: session ticket keys (RFC 5077), owned by the core like the
 * cookie secret. Keys are derived, never stored: for rotation period g
 * (the wall clock divided by the rotation interval), with kdf.h's
 * dk__period_key(secret, "ticket", label, g),
 *
 *   name = key("name")[0..16], aes = key("aes"), hmac = key("hmac")
 *
 * so processes and hosts given the same secret seal and open each other's
 * tickets and rotate in step without talking. Tickets sealed under the
 * keys of periods g-1, g and g+1 are accepted (g+1: a host whose clock is
 * ahead by less than a period). */
#ifndef DK_CORE_TICKETS_H
#define DK_CORE_TICKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/backend.h>
#include <dtlskit/error.h>

#define DK__TICKET_SECRET_MAX          64
#define DK__TICKET_DEFAULT_LIFETIME_S  7200
#define DK__TICKET_MAX_LIFETIME_S      604800 /* RFC 5077 3.3: 7 days */
#define DK__TICKET_DEFAULT_INTERVAL_MS (7200 * 1000)

typedef struct dk__ticket_cfg {
    bool enabled;
    bool chosen; /* enabled was set by the application (PSK servers: see dtls.h) */
    uint8_t secret[DK__TICKET_SECRET_MAX];
    size_t secret_len;
    int interval_ms; /* rotation period, > 0 */
    unsigned lifetime_s;
} dk__ticket_cfg;

/* A context's keys: the configuration and three periods' derived keys. */
typedef struct dk__ticket_keys {
    dk__ticket_cfg cfg;
    bool have;
    uint64_t gen; /* period of `cur` */
    dk_bk_ticket_key cur, prev, next;
} dk__ticket_keys;

/* Tickets on, a random secret, the default lifetime and rotation. */
dk_err dk__ticket_cfg_init(dk__ticket_cfg *cfg);

/* The contract's ticket_key callback; `user` is a dk__ticket_keys. */
int dk__ticket_key(void *user, const uint8_t *name, dk_bk_ticket_key *out);

/* dk__ticket_key() as at `wall_ms` on the wall clock (tests: hosts whose
 * clocks differ). */
int dk__ticket_key_at(dk__ticket_keys *k, const uint8_t *name, dk_bk_ticket_key *out,
                      uint64_t wall_ms);

/* Wipes the keys. */
void dk__ticket_keys_clear(dk__ticket_keys *k);

#endif
