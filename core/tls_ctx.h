/* Internal: a backend context built from TLS options, shared (reference
 * counted) by the server or client that made it and every session using it.
 * It keeps the keys and certificates it was built from alive. */
#ifndef DK_CORE_TLS_CTX_H
#define DK_CORE_TLS_CTX_H

#include <stdatomic.h>

#include <dtlskit/backend.h>
#include <dtlskit/crypto.h>

#include "record.h"
#include "tickets.h"

/* Expanded AEAD keys a server keeps for its most recently active sessions
 * (about 2 KB each on OpenSSL); idle ones keep only raw keys. */
#define DK__AEAD_CACHE_DEFAULT 1024
#define DK__AEAD_CACHE_MAX     (1 << 20)

typedef struct dk__ctx {
    atomic_int refs;
    dk_bk_role role;
    dk_bk_ctx *bk;
    dk_key *key;
    dk_cert *chain;
    dk_cert *trusted;
    bool verify_peer;
    /* Server with PSK clients: the application's key lookup. Client with a
     * PSK: its identity (for dk_dtls_peer_get_psk_identity()). */
    dk_psk_lookup psk_lookup;
    void *psk_user;
    char *psk_identity;
    /* Server issuing session tickets: their keys (NULL: no tickets). */
    dk__ticket_keys *tickets;
    /* Server: its sessions' expanded keys (one thread, see udp.h). */
    dk__aead_cache aead_cache;
} dk__ctx;

/* Builds a context for `role` from `opts` (NULL for a client: verify with
 * the system CA store). Errors are recorded against `func`. */
dk__ctx *dk__ctx_create(const char *func, const dk_tls_options *opts, dk_bk_role role, dk_err *err);

/* A server context as dk__ctx_create() makes one, issuing and accepting
 * session tickets under `tickets` (NULL or disabled: none). */
dk__ctx *dk__ctx_create_server(const char *func, const dk_tls_options *opts,
                               const dk__ticket_cfg *tickets, dk_err *err);

/* A client context for `opts` (NULL: verify with the system CA store),
 * shared with earlier connections made with the same options (whatever
 * their timer settings: those are session parameters). */
dk__ctx *dk__ctx_for_client(const char *func, const dk_tls_options *opts, dk_err *err);

dk__ctx *dk__ctx_ref(dk__ctx *ctx);
void dk__ctx_unref(dk__ctx *ctx);

#endif
