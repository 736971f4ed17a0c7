/* Internal: session ticket keys (RFC 5077), owned by the core like the
 * cookie secret. Keys are derived, never stored: for rotation period g
 * (the wall clock divided by the rotation interval),
 *
 *   name = HMAC-SHA256(secret, "dtlskit ticket" || g || "name")[0..16]
 *   aes  = HMAC-SHA256(secret, "dtlskit ticket" || g || "aes")
 *   hmac = HMAC-SHA256(secret, "dtlskit ticket" || g || "hmac")
 *
 * (g as 8 bytes, big-endian), so processes and hosts given the same secret
 * seal and open each other's tickets and rotate in step without talking.
 * The keys of periods g and g-1 are accepted. */
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

/* A context's keys: the configuration and the two periods' derived keys. */
typedef struct dk__ticket_keys {
    dk__ticket_cfg cfg;
    bool have;
    uint64_t gen; /* period of `cur` */
    dk_bk_ticket_key cur, prev;
} dk__ticket_keys;

/* Tickets on, a random secret, the default lifetime and rotation. */
dk_err dk__ticket_cfg_init(dk__ticket_cfg *cfg);

/* The contract's ticket_key callback; `user` is a dk__ticket_keys. */
int dk__ticket_key(void *user, const uint8_t *name, dk_bk_ticket_key *out);

/* Wipes the keys. */
void dk__ticket_keys_clear(dk__ticket_keys *k);

#endif
