/* Internal: the DTLS 1.2 record layer of an established session (RFC 6347
 * section 4.1). The TLS library runs the handshake and hands over its
 * secrets; from then on the core seals and opens every record itself with
 * the backend's AEAD primitives, keeps the anti-replay window and the write
 * sequence number: about 200 bytes per session instead of the library's
 * 35-80 KB session object.
 *
 * Expanded AEAD keys (key schedules, GHASH tables: about a kilobyte per
 * direction on some libraries) are built when a session sends or receives
 * and, for a server's sessions, kept in a bounded least-recently-used cache
 * so that idle sessions hold only their raw keys. */
#ifndef DK_CORE_RECORD_H
#define DK_CORE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/backend.h>

#define DK__REC_SEQ_MAX      0xFFFFFFFFFFFFull /* 48 bits (RFC 6347 4.1) */
#define DK__REC_WINDOW       64                /* anti-replay window, records */
#define DK__REC_PLAIN_MAX    16384             /* RFC 5246 6.2.1 */
#define DK__REC_MAX_OVERHEAD (13 + 8 + 16)     /* header, explicit nonce, tag */

/* What the core knows of a cipher suite. */
typedef struct dk__suite {
    uint16_t id;
    uint8_t alg;          /* dk_bk_aead_alg */
    uint8_t key_len;      /* 16 or 32 */
    uint8_t fixed_iv_len; /* 4 (GCM, CCM: salt) or 12 (ChaCha20) */
    uint8_t explicit_len; /* 8 (GCM, CCM) or 0 (ChaCha20) */
    uint8_t tag_len;      /* 16, or 8 for CCM-8 */
    bool sha384;          /* PRF hash */
    uint8_t auth;         /* dk__suite_auth: what the suite authenticates with */
    const char *name;     /* RFC name */
} dk__suite;

typedef enum dk__suite_auth {
    DK__AUTH_ECDSA = 1,     /* ECDHE, server certificate with an EC key */
    DK__AUTH_RSA = 2,       /* ECDHE, server certificate with an RSA key */
    DK__AUTH_PSK = 3,       /* pre-shared key only */
    DK__AUTH_ECDHE_PSK = 4, /* pre-shared key with ECDHE */
} dk__suite_auth;

/* Number of suites the core knows, and the i-th (for core/suites.c). */
size_t dk__record_suite_count(void);
const dk__suite *dk__record_suite_at(size_t i);

/* The suite with IANA id `id`, or NULL when the core cannot protect it. */
const dk__suite *dk__record_suite(uint16_t id);

typedef struct dk__record dk__record;

/* Bounded cache of expanded keys, one per server (its sessions are used
 * from one thread, see udp.h). */
typedef struct dk__aead_cache {
    dk__record *head, *tail; /* most recently used first */
    unsigned count, cap;
} dk__aead_cache;

/* One direction's keys. */
typedef struct dk__rec_dir {
    uint8_t key[32];
    uint8_t iv[12];
    dk_bk_aead *aead; /* expanded key, or NULL until used / after eviction */
} dk__rec_dir;

struct dk__record {
    const dk__suite *suite;
    uint64_t write_seq; /* next sequence number to send in epoch 1 */
    uint64_t rx_top;    /* highest authenticated sequence number received */
    uint64_t rx_bits;   /* bit i: rx_top - i was received (valid when rx_any) */
    bool rx_any;
    dk__rec_dir w, r;
    dk__aead_cache *cache; /* NULL: keep expanded keys for the session's life */
    dk__record *lru_prev, *lru_next;
    bool in_lru;
};

/* Derives both directions' keys from `sec` (RFC 5246 6.3) for the `server`
 * or client side. `write_seq`: the next epoch-1 sequence number to send
 * (after the library's Finished). Errors: DK_ERR_UNAVAILABLE (suite or
 * PRF hash unknown to the core or the backend). */
dk_err dk__record_init(dk__record *r, dk__aead_cache *cache, bool server, const dk_bk_secrets *sec,
                       uint64_t write_seq);

/* Releases expanded keys and wipes the secrets. Safe on a zeroed record. */
void dk__record_clear(dk__record *r);

/* Bytes a record adds to its plaintext: header, explicit nonce, tag. */
size_t dk__record_overhead(const dk__record *r);

/* Seals `len` bytes of `in` as one epoch-1 record of `type` into `out`
 * (dk__record_overhead() + len bytes; `out` and `in` do not overlap).
 * Errors: DK_ERR_TOO_BIG (len over 2^14), DK_ERR_CLOSED (sequence numbers
 * exhausted: DTLS 1.2 cannot rekey without renegotiation), DK_ERR_NOMEM,
 * DK_ERR_TLS. */
dk_err dk__record_seal(dk__record *r, uint8_t type, const uint8_t *in, size_t len, uint8_t *out,
                       size_t *out_len);

typedef enum dk__open_result {
    DK__OPEN_OK,     /* authenticated; plaintext written, window advanced */
    DK__OPEN_REPLAY, /* a duplicate or older than the window: dropped */
    DK__OPEN_BAD,    /* failed authentication or malformed: dropped */
    DK__OPEN_NOMEM,  /* no memory for the expanded key: dropped */
} dk__open_result;

/* Opens the epoch-1 record at `rec` (header included, `rec_len` bytes,
 * whose header length field already matched rec_len - 13) into `out`
 * (room for rec_len bytes; no overlap). The window moves only after the
 * record authenticates. */
dk__open_result dk__record_open(dk__record *r, const uint8_t *rec, size_t rec_len, uint8_t *out,
                                size_t *out_len);

/* Marks `seq` as received (records the library authenticated before the
 * hand-off). */
void dk__record_mark(dk__record *r, uint64_t seq);

/* Frees the expanded keys of least recently used sessions beyond `cap`
 * (the cache's size may be changed at any time). */
void dk__aead_cache_set_cap(dk__aead_cache *c, unsigned cap);

/* Test hook: seals `len` bytes as the peer would (its write key and a given
 * sequence number) so that a live library session can be shown to open what
 * the core's key derivation produced. Never sent. */
dk_err dk__record_seal_as_peer(dk__record *r, uint8_t type, uint64_t seq, const uint8_t *in,
                               size_t len, uint8_t *out, size_t *out_len);

#endif
