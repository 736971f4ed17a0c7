/* Internal: what each source may cost a DTLS server. A ledger counts the
 * handshakes and sessions of a server, in total and per source address (an
 * IPv6 source by its prefix), so that caps are checked before the TLS
 * library does any work for a ClientHello. Sessions keep a reference to the
 * ledger, so that one outliving its server still uncounts itself safely. */
#ifndef DK_CORE_ADMISSION_H
#define DK_CORE_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define DK__DEFAULT_MAX_HANDSHAKES          1024
#define DK__DEFAULT_MAX_HANDSHAKES_PER_ADDR 32
#define DK__DEFAULT_MAX_SESSIONS            16384
#define DK__DEFAULT_MAX_SESSIONS_PER_ADDR   1024
#define DK__DEFAULT_IPV6_PREFIX             64

typedef struct dk__caps {
    uint32_t handshakes, handshakes_per_addr; /* 0: no cap */
    uint32_t sessions, sessions_per_addr;
    int ipv6_prefix;
} dk__caps;

typedef enum dk__cap_verdict {
    DK__CAP_OK = 0,
    DK__CAP_HANDSHAKES,
    DK__CAP_HANDSHAKES_ADDR,
    DK__CAP_SESSIONS,
    DK__CAP_SESSIONS_ADDR,
} dk__cap_verdict;

typedef struct dk__ledger dk__ledger;

/* A session's place in a ledger: counted as a handshake, then a session. */
typedef enum dk__ledger_state {
    DK__LS_NONE = 0,
    DK__LS_HANDSHAKE,
    DK__LS_SESSION
} dk__ledger_state;

void dk__caps_default(dk__caps *caps);

/* A new ledger with one reference (the server's); NULL without memory. */
dk__ledger *dk__ledger_new(void);
dk__ledger *dk__ledger_ref(dk__ledger *l);
void dk__ledger_unref(dk__ledger *l);

/* Would one more handshake from `src` stay within `caps`? Allocates
 * nothing. */
dk__cap_verdict dk__ledger_check(const dk__ledger *l, const dk__caps *caps, const dk__addr *src);

/* Counts a new handshake from `src`, an IPv6 source by its first `prefix`
 * bits (the caller keeps `prefix` to uncount it the same way); false
 * without memory. */
bool dk__ledger_add(dk__ledger *l, const dk__addr *src, int prefix);

/* The handshake from `src` completed: it now counts as a session. */
void dk__ledger_promote(dk__ledger *l, const dk__addr *src, int prefix);

/* A handshake or session from `src` ended. */
void dk__ledger_remove(dk__ledger *l, const dk__addr *src, int prefix, dk__ledger_state state);

/* Current totals. */
void dk__ledger_totals(const dk__ledger *l, uint32_t *handshakes, uint32_t *sessions);

#endif
