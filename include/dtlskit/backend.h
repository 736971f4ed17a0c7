/*
 * dtlskit — the backend contract.
 *
 * A backend adapts one TLS library (OpenSSL, mbedTLS, wolfSSL...) to the
 * core. It is compiled into libdtlskit (configure --with-backend=NAME) and
 * exposes exactly one object, `dk_backend_impl`, of type struct dk_backend.
 * This header is for backend authors; applications never need it, and it is
 * not installed. docs/PORTING.md walks through writing a new backend.
 *
 * SANS-I/O. The core owns sockets, addresses, clocks, timers, cookies and the
 * session status machine. A backend session is a state machine that the core
 * feeds datagrams with dk_bk_session_ops.feed() and that emits datagrams by
 * calling the `send` function the core gives it. A backend never opens,
 * reads or writes a socket and never sleeps.
 *
 * THREADS. The core calls a context, and the sessions made from it, from one
 * thread at a time. Different contexts may be used from different threads at
 * once, so a backend keeps no unsynchronised global state beyond what
 * library.init() sets up. library.init() is called once (the core serialises
 * it) before any other call.
 *
 * RESULTS. Every fallible call returns a dk_err: DK_OK, DK_ERR_WOULD_BLOCK
 * ("want more input": feed another datagram, or wait for a timer), or a
 * failure. On failure the backend writes a human-readable reason (library
 * error text, verify result) into the `reason` buffer the core passes, NUL
 * terminated and truncated to `reason_cap`; the core shows it through
 * dk_last_error() and dk_dtls_peer_get_error_reason().
 *
 * MEMORY. Buffers a backend returns through `uint8_t **out` are allocated
 * with malloc() and released by the core with free(). Objects (keys,
 * certificates, contexts) are created and freed through the backend.
 * Session state is allocated by the core: `session_size` bytes, zeroed,
 * aligned for any type, passed to session_ops.init().
 *
 * VERSIONING. `abi_version` must equal DK_BACKEND_ABI_VERSION; the core
 * checks it at init. Each op group starts with its size (sizeof the group
 * as the backend was compiled), so that groups can grow at the end: the core
 * only calls members that lie inside the size a backend declared. A member
 * may be NULL where documented; the public call then fails with
 * DK_ERR_UNAVAILABLE and caps should not advertise the feature.
 */
#ifndef DTLSKIT_BACKEND_H
#define DTLSKIT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/crypto.h>
#include <dtlskit/crypto_ops.h>
#include <dtlskit/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DK_BACKEND_ABI_VERSION 5

/* Objects owned by the backend; the core only holds pointers. */
typedef struct dk_bk_key dk_bk_key;         /* one private or public key */
typedef struct dk_bk_cert dk_bk_cert;       /* one X.509 certificate */
typedef struct dk_bk_ctx dk_bk_ctx;         /* configuration for one role */
typedef struct dk_bk_session dk_bk_session; /* one DTLS session, core-allocated */

typedef enum dk_bk_role { DK_BK_CLIENT = 0, DK_BK_SERVER = 1 } dk_bk_role;

/* One piece of a message for hmac_sha256(). */
typedef struct dk_bk_iov {
    const void *data;
    size_t len;
} dk_bk_iov;

/* ------------------------------------------------------------- library */

typedef struct dk_bk_library_ops {
    size_t size;
    /* Global initialisation of the TLS library (called once, serialised by
     * the core). Returns DK_OK or DK_ERR_TLS. */
    dk_err (*init)(void);
    /* The linked library's version string, e.g. "OpenSSL 3.0.19 27 Jan 2026". */
    const char *(*version)(void);
    /* DK_CAP_* bits this library build really supports. */
    uint32_t (*caps)(void);
    /* Cryptographically secure random bytes. DK_OK or DK_ERR_TLS. */
    dk_err (*random)(void *out, size_t len);
    /* HMAC-SHA256 of the concatenation of `parts` under `key`. Used for
     * cookies, once per ClientHello from an unknown source: keep it cheap. */
    dk_err (*hmac_sha256)(const void *key, size_t key_len, const dk_bk_iov *parts, size_t nparts,
                          uint8_t out[32]);
    /* SHA-256 of `len` bytes (certificate fingerprints). */
    dk_err (*sha256)(const void *data, size_t len, uint8_t out[32]);
    /* HMAC-SHA384, as hmac_sha256: the TLS 1.2 PRF of the SHA-384 suites
     * (AES-256-GCM), which the core runs when it derives record keys. */
    dk_err (*hmac_sha384)(const void *key, size_t key_len, const dk_bk_iov *parts, size_t nparts,
                          uint8_t out[48]);
    /* Whether this library build negotiates cipher suite `iana` (0xC0A8...)
     * in DTLS 1.2. The core asks only about suites its record layer protects
     * (core/suites.c) and offers only those answered true; DK_CAP_PSK and
     * DK_CAP_CCM8 are derived from the answers. */
    bool (*suite_supported)(uint16_t iana);
    /* Longest pre-shared key the library accepts, in bytes (RFC 4279 allows
     * 64 in practice; 0: no PSK at all). */
    size_t psk_key_max;
} dk_bk_library_ops;

/* ---------------------------------------------------------------- keys */

typedef struct dk_bk_key_ops {
    size_t size;
    /* Parses a private key (or with public_only a public key, also accepted
     * from a private key) from PEM or DER. `password` NULL for none.
     * Errors: DK_ERR_PARSE, DK_ERR_PASSWORD (encrypted and missing or wrong
     * password), DK_ERR_NOMEM. */
    dk_err (*parse)(const uint8_t *data, size_t len, const char *password, bool public_only,
                    dk_bk_key **out, char *reason, size_t reason_cap);
    /* Encodes the key (its public part with public_only or when it has no
     * private part). PEM output is text without a NUL. *out is malloc'd. */
    dk_err (*write)(const dk_bk_key *key, dk_format format, bool public_only, uint8_t **out,
                    size_t *out_len);
    /* New RSA key (bits already range-checked by the core, e = 65537). NULL
     * member: no key generation (DK_ERR_UNAVAILABLE). */
    dk_err (*generate_rsa)(int bits, dk_bk_key **out, char *reason, size_t reason_cap);
    /* New EC key on `curve`. NULL member: unavailable. */
    dk_err (*generate_ec)(dk_ec_curve curve, dk_bk_key **out, char *reason, size_t reason_cap);
    bool (*is_public_only)(const dk_bk_key *key);
    dk_key_type (*type)(const dk_bk_key *key);
    int (*bits)(const dk_bk_key *key);
    void (*free)(dk_bk_key *key);
} dk_bk_key_ops;

/* -------------------------------------------------------- certificates */

/* The core splits PEM bundles and encodes PEM itself: a backend handles one
 * DER certificate at a time. The core also reads subject, issuer and
 * validity from the DER (to_der) itself, so that every backend prints the
 * same text. */
typedef struct dk_bk_cert_ops {
    size_t size;
    /* Parses one DER certificate. Errors: DK_ERR_PARSE, DK_ERR_NOMEM. */
    dk_err (*from_der)(const uint8_t *der, size_t len, dk_bk_cert **out, char *reason,
                       size_t reason_cap);
    /* The certificate's DER encoding, borrowed: valid while the certificate
     * lives. */
    dk_err (*to_der)(const dk_bk_cert *cert, const uint8_t **der, size_t *len);
    /* Self-signed certificate for `key`. `name_der`: the DER-encoded Name
     * (a SEQUENCE of RDN SETs, built and checked by the core) to write as
     * subject and as issuer, unchanged. `dns_name`: NULL, or a host name to
     * add as subjectAltName. Times in seconds since the epoch. `serial`: 16
     * random bytes from the core (positive: top bit cleared). SHA-256
     * signature. NULL member: unavailable. */
    dk_err (*self_signed)(const dk_bk_key *key, const uint8_t *name_der, size_t name_der_len,
                          const char *dns_name, int64_t not_before, int64_t not_after,
                          const uint8_t serial[16], dk_bk_cert **out, char *reason,
                          size_t reason_cap);
    /* True when `key` is the private key for `cert`'s public key. */
    bool (*key_matches)(const dk_bk_key *key, const dk_bk_cert *cert);
    void (*free)(dk_bk_cert *cert);
} dk_bk_cert_ops;

/* ------------------------------------------------------------ contexts */

/* A ticket key of the core (see dk_bk_ctx_params.tickets). */
typedef struct dk_bk_ticket_key {
    uint8_t name[16];
    uint8_t aes_key[32];  /* AES-256 */
    uint8_t hmac_key[32]; /* HMAC-SHA256 */
} dk_bk_ticket_key;

/* Everything a context needs, copied or referenced by the backend during
 * ctx_ops.create() (the core keeps keys and certificates alive for as long
 * as the context lives). */
typedef struct dk_bk_ctx_params {
    dk_bk_role role;
    /* Own key and chain (leaf first): required for a server, optional
     * client certificate for a client. */
    const dk_bk_key *key;
    const dk_bk_cert *const *chain;
    size_t chain_len;
    /* Trust anchors to verify the other side; NULL with `use_system_ca`
     * means the system's default CA store. */
    const dk_bk_cert *const *trusted;
    size_t trusted_len;
    bool use_system_ca;
    /* With use_system_ca (NULL otherwise): the system's CA bundle, one PEM
     * file chosen by the core, for libraries that load a file. A library
     * that knows the system's store itself may use that instead. A missing
     * or unreadable file is no error here: verification fails instead. */
    const char *system_ca_file;
    /* Client: verify the server's chain (false only for client_unsafe).
     * Server: ask for a client certificate and verify it when sent. */
    bool verify_peer;
    /* Server: fail the handshake when the client sends no certificate. */
    bool require_peer_cert;
    /* The cipher suites to offer (client, in this order) or accept (server,
     * in this order of preference, whatever the client's order), as IANA
     * ids: the core's policy, already filtered to suite_supported() and to
     * the credentials below. Never empty. The backend enables exactly these
     * (and the ECDHE groups and signature algorithms they need). */
    const uint16_t *suites;
    size_t suites_len;
    /* Pre-shared keys (RFC 4279), used when a PSK suite is negotiated.
     * Server: `psk_server` accepts PSK clients (with or without `key`; no
     * `key` means a PSK-only server); the key for the identity a client
     * sends comes from dk_bk_io.psk_key of its session. `psk_hint`: identity
     * hint for ServerKeyExchange (NULL: none; ignored where the library
     * cannot send one). Client: `psk_identity` (NUL-terminated, 1..128
     * bytes) and `psk_key` (1..psk_key_max bytes), NULL when the client has
     * none. The backend copies what it keeps and wipes its copies of keys
     * (explicit_bzero or the library's zeroize) when it frees them. */
    bool psk_server;
    const char *psk_hint;
    const char *psk_identity;
    const uint8_t *psk_key;
    size_t psk_key_len;
    /* Session tickets (RFC 5077). Server: `tickets` issues a ticket in every
     * full handshake and resumes a client that presents a valid one (no
     * session cache: tickets only). The keys are the core's, never the
     * library's own: ticket_key(ticket_user, NULL, &k) gives the key to seal
     * a new ticket with, ticket_key(ticket_user, name, &k) the key a
     * ticket's 16-byte name designates; it returns 1 (current key), 2 (an
     * older key still accepted: resume, and issue a new ticket) or 0
     * (unknown or expired key: a full handshake, never a failure). Seal as
     * RFC 5077 section 4 recommends where the library's hook lets you:
     * key_name(16) || IV(16) || AES-256-CBC(aes_key, state) ||
     * HMAC-SHA256(hmac_key, everything before it) (32); check the HMAC before
     * decrypting. A ticket older than `ticket_lifetime_s` must not resume
     * (the library's session timeout, or a time inside the state). Client:
     * `tickets` asks for a ticket (the empty SessionTicket extension) in a
     * full handshake; a session to resume comes with the session
     * parameters. */
    bool tickets;
    unsigned ticket_lifetime_s;
    int (*ticket_key)(void *user, const uint8_t *name, dk_bk_ticket_key *out);
    void *ticket_user;
} dk_bk_ctx_params;

typedef struct dk_bk_ctx_ops {
    size_t size;
    /* Builds a configuration: protocol DTLS 1.2 only, exactly the cipher
     * suites in params->suites, no renegotiation, no compression. The server side must accept a
     * ClientHello whose cookie the core verified (see session_ops.init).
     * Errors: DK_ERR_TLS (library refused a key or certificate),
     * DK_ERR_NOMEM. */
    dk_err (*create)(const dk_bk_ctx_params *params, dk_bk_ctx **out, char *reason,
                     size_t reason_cap);
    void (*free)(dk_bk_ctx *ctx);
} dk_bk_ctx_ops;

/* -------------------------------------------------------------- sessions */

/* What the core gives a session. The callbacks are called synchronously from
 * inside session calls, never later. */
typedef struct dk_bk_io {
    void *user;
    /* Sends one datagram. The backend calls it once per datagram, each one
     * no larger than the MTU budget (mtu_payload) except when the library
     * cannot split a record. It cannot fail: a datagram the socket refuses
     * is lost, as on any network, so the backend reports every send to its
     * library as done and relies on retransmission. */
    void (*send)(void *user, const uint8_t *data, size_t len);
    /* The core's monotonic clock in milliseconds, for library timers. */
    uint64_t (*now_ms)(void *user);
    /* Server sessions of a psk_server context: the key for the PSK identity
     * the client sent (`identity`, `identity_len` bytes, not NUL-terminated:
     * as received, or as the library hands them over; OpenSSL and wolfSSL
     * cut them at a NUL byte, which only makes a client that knows an
     * identity's key able to add bytes after a NUL). Writes at most
     * `key_cap` bytes (pass the library's limit, at most 64) and returns the
     * key's length, or 0 when the identity is unknown or refused: the
     * backend then fails the handshake (the library's unknown_psk_identity
     * alert where it sends one) and handshake() returns DK_ERR_HANDSHAKE;
     * the core supplies the reason. The backend wipes `key` once the
     * library has copied it. */
    size_t (*psk_key)(void *user, const uint8_t *identity, size_t identity_len, uint8_t *key,
                      size_t key_cap);
} dk_bk_io;

typedef struct dk_bk_session_params {
    dk_bk_role role;
    dk_bk_io io;
    /* Bytes available for one DTLS datagram: the configured path MTU minus
     * IP and UDP headers. The library fragments handshake messages to fit. */
    unsigned mtu_payload;
    /* Client: the host name to send as SNI (NULL: none; never an IP
     * literal, RFC 6066 section 3). */
    const char *sni;
    /* Client: the name or IP literal the server certificate must match
     * (NULL: none). The core passes NULL only when verification is off
     * (client_unsafe). */
    const char *verify_name;
    /* Server, cookie handoff. The core has parsed the client's first
     * datagram, a ClientHello carrying `cookie`, and verified that
     *   cookie == HMAC-SHA256(secret, transport_id || client_version ||
     *                         random || session_id || cipher_suites ||
     *                         compression_methods)
     * (vectors without their length prefixes). That datagram is the first
     * one fed to the session. The backend must make its library accept it
     * as if the library had issued the cookie itself: answer "valid" in its
     * cookie-check hook for exactly this cookie, or install `secret` and
     * `transport_id` where the library recomputes the cookie. It must not
     * send a HelloVerifyRequest of its own. */
    const uint8_t *transport_id;
    size_t transport_id_len;
    const uint8_t *cookie;
    size_t cookie_len;
    const uint8_t *cookie_secret;
    size_t cookie_secret_len;
    /* Client: a session to resume, as save_session() produced it (same
     * backend; the core checked the server name). Bytes the library
     * cannot use are ignored: the handshake is then a full one. NULL: none. */
    const uint8_t *resume;
    size_t resume_len;
    /* Retransmission timer of this session's handshake (RFC 6347 4.2.4.1):
     * the first timeout of every flight is `rto_initial_ms`, each
     * retransmission doubles it up to `rto_max_ms` (dk_bk_rto_next), and
     * the library keeps retransmitting at the maximum until the core's
     * handshake timeout ends the session.
     * 1 <= rto_initial_ms <= rto_max_ms <= 600000.
     * A session parameter, not a context one: sessions of one context may
     * use different values, and changing them never rebuilds a context.
     * The timer runs on io.now_ms, never on the library's own clock: a
     * flight is retransmitted when, and only when, handle_timeout() is
     * called (timeout_ms() says when), so that the core and its tests
     * decide the time. */
    unsigned rto_initial_ms;
    unsigned rto_max_ms;
} dk_bk_session_params;

/* Receives one DER certificate from session_ops.peer_chain(); the bytes
 * are valid during the call only. */
typedef dk_err (*dk_bk_der_sink)(void *user, const uint8_t *der, size_t len);

/* What a finished handshake hands over to the core's record layer. */
typedef struct dk_bk_secrets {
    uint16_t suite; /* negotiated cipher suite, IANA id (0xC02B...) */
    uint8_t master_secret[48];
    uint8_t client_random[32];
    uint8_t server_random[32];
} dk_bk_secrets;

/* All pointers in the parameters are valid during session_ops.init()
 * only: a backend copies what it keeps.
 *
 * LIFE OF A SESSION. A backend session only runs the handshake. Once
 * handshake() returns DK_OK the core calls export_secrets(), drains read()
 * until DK_ERR_WOULD_BLOCK, copies what the application may still ask
 * (cipher(), and peer_chain() where it can be asked for) and calls fini():
 * from then on the core seals and opens every record itself (core/record.c)
 * with the keys it derives and the aead ops below. The library therefore
 * never writes a record after the handshake; its memory is released at
 * the hand-off, not when the session ends. */
typedef struct dk_bk_session_ops {
    size_t size;
    /* Bytes of session state the core allocates for each session, during
     * its handshake only. */
    size_t session_size;
    /* Initialises a session in core-allocated, zeroed memory `s`. Nothing is
     * sent yet. Errors: DK_ERR_TLS, DK_ERR_NOMEM. On failure fini() is not
     * called, so init cleans up after itself. */
    dk_err (*init)(dk_bk_session *s, dk_bk_ctx *ctx, const dk_bk_session_params *params,
                   char *reason, size_t reason_cap);
    /* Releases everything init() acquired. Sends nothing. */
    void (*fini)(dk_bk_session *s);
    /* Gives the session one received datagram, after the core's gate
     * (core/gate.h): never empty, only whole records of DTLS 1.2 types,
     * epochs 0 and 1, handshake fragments within bounds. The bytes stay
     * valid until the next feed() or fini(); the library consumes the
     * datagram at its next read (handshake() or read()), and the core
     * always calls read() or handshake() until DK_ERR_WOULD_BLOCK before
     * feeding the next, or feeds (NULL, 0) to drop what is left of it (out
     * of memory). */
    void (*feed)(dk_bk_session *s, const uint8_t *data, size_t len);
    /* Advances the handshake with the input fed so far; sends what the
     * library wants to send through io.send. Returns DK_OK once the
     * handshake is complete, DK_ERR_WOULD_BLOCK while it needs more input or
     * a timer, or a failure: DK_ERR_CERT_VERIFY (chain not trusted, expired,
     * ...; `reason` says which), DK_ERR_HOSTNAME (certificate valid but not
     * for the host name), DK_ERR_HANDSHAKE (alert received, no shared
     * cipher...), DK_ERR_CLOSED (close_notify during the handshake),
     * DK_ERR_TLS. A client starts its handshake on the first call. */
    dk_err (*handshake)(dk_bk_session *s, char *reason, size_t reason_cap);
    /* After the handshake, at the hand-off only: decrypts one application
     * record the library already holds (read ahead with the Finished) into
     * `buf` (`cap` bytes, at least one more than the longest datagram fed).
     * DK_OK with *out_len set (0 for an empty record), DK_ERR_WOULD_BLOCK
     * when nothing is left, or any failure (the core then stops draining).
     * The core's test hook also feeds a record it sealed itself and reads it
     * back here, to prove both record layers agree. */
    dk_err (*read)(dk_bk_session *s, uint8_t *buf, size_t cap, size_t *out_len, char *reason,
                   size_t reason_cap);
    /* Milliseconds until the session's handshake retransmission timer
     * expires (0: now), or -1 when it is not running, measured on
     * io.now_ms (see session_params.rto_initial_ms). */
    int (*timeout_ms)(dk_bk_session *s);
    /* The retransmission timer expired: resend the last flight once and
     * double the timer (up to session_params.rto_max_ms). DK_OK, or a
     * failure when the library gives up. Called only when timeout_ms()
     * returned 0. No other call may retransmit because time passed. */
    dk_err (*handle_timeout)(dk_bk_session *s, char *reason, size_t reason_cap);
    /* Changes the MTU budget of a session still in its handshake. */
    void (*set_mtu)(dk_bk_session *s, unsigned mtu_payload);
    /* Negotiated cipher suite name, "" before the handshake; a string with
     * static storage duration (the core keeps the pointer). */
    const char *(*cipher)(dk_bk_session *s);
    /* The certificates the other side presented: calls `sink` once per
     * certificate with its DER (borrowed for the call), leaf first, and
     * returns DK_OK, or the first failure of `sink` (stop there) or of the
     * library. The core builds the chain with cert_ops.from_der and drops
     * it whole on a failure. No call to `sink` when there is none. */
    dk_err (*peer_chain)(dk_bk_session *s, dk_bk_der_sink sink, void *user);
    /* After handshake() returned DK_OK: the negotiated suite (one the core
     * can protect: dk__record_suite() in core/record.h knows them),
     * the master secret (the extended one when RFC 7627 was negotiated) and
     * both hello randoms. DK_ERR_TLS when the library will not tell. */
    dk_err (*export_secrets)(dk_bk_session *s, dk_bk_secrets *out);
    /* After handshake() returned DK_OK: whether it was an abbreviated
     * handshake (a resumed session). */
    bool (*session_reused)(dk_bk_session *s);
    /* Client, after handshake() returned DK_OK and before fini(): the
     * session (with the ticket the server sent, or the one it resumed
     * with), serialised by the library, for a later session_params.resume.
     * *out is malloc'd; the core wipes and frees it. DK_ERR_UNAVAILABLE when
     * there is nothing to resume with (the server sent no ticket). */
    dk_err (*save_session)(dk_bk_session *s, uint8_t **out, size_t *len);
} dk_bk_session_ops;

/* ---------------------------------------------------------------- AEAD */

/* The AEAD algorithms of the core's record layer. Nonces are 12 bytes;
 * the core builds them (RFC 5288 section 3, RFC 7905 section 2, RFC 6655). */
typedef enum dk_bk_aead_alg {
    DK_BK_AES_128_GCM = 1,       /* key 16, tag 16 */
    DK_BK_AES_256_GCM = 2,       /* key 32, tag 16 */
    DK_BK_CHACHA20_POLY1305 = 3, /* key 32, tag 16 */
    DK_BK_AES_128_CCM_8 = 4,     /* key 16, tag 8 */
} dk_bk_aead_alg;

typedef struct dk_bk_aead dk_bk_aead; /* one expanded key, backend-owned */

typedef struct dk_bk_aead_ops {
    size_t size;
    /* Expands `key` (key schedule, tables): done once per key, so that an
     * active session pays no set-up per record. DK_ERR_UNAVAILABLE for an
     * algorithm this library build lacks, DK_ERR_NOMEM, DK_ERR_TLS. */
    dk_err (*create)(dk_bk_aead_alg alg, const uint8_t *key, size_t key_len, dk_bk_aead **out);
    /* Encrypts `len` bytes of `in` into `out` and appends the tag: `out`
     * receives len + tag bytes. `in` may equal `out` (in place); otherwise
     * they do not overlap. `len` may be 0. DK_OK or DK_ERR_TLS. */
    dk_err (*seal)(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                   const uint8_t *in, size_t len, uint8_t *out);
    /* Checks and decrypts `len` bytes of `in` (ciphertext, then the tag; the
     * core guarantees len >= tag) into `out` (len - tag bytes; `in` may
     * equal `out`). DK_OK, or DK_ERR_TLS when the tag does not verify: the
     * core then discards `out` unread. Must not allocate per call. */
    dk_err (*open)(dk_bk_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                   const uint8_t *in, size_t len, uint8_t *out);
    void (*free)(dk_bk_aead *a);
} dk_bk_aead_ops;

/* ---------------------------------------------------- crypto operations */

/* The operations behind include/dtlskit/crypto_ops.h (Godot's Crypto,
 * HashingContext and HMACContext). None is on a hot path: allocating per
 * call is fine. The core checks every argument before calling: `alg` is a
 * known dk_hash_type, a hash is exactly dk_hash_size(alg) bytes, sign and
 * verify get only DK_HASH_SHA256/384/512, sign and rsa_decrypt only keys
 * with a private part, rsa_encrypt and rsa_decrypt only RSA keys, with an
 * input of 1 to (key bytes - 11) bytes for rsa_encrypt and of exactly the
 * key's size in bytes for rsa_decrypt. A NULL member (or a group the
 * backend does not have) makes the public call fail with
 * DK_ERR_UNAVAILABLE. */
typedef struct dk_bk_md dk_bk_md; /* one running hash or HMAC, backend-owned */

typedef struct dk_bk_crypto_ops {
    size_t size;
    /* Starts a hash of `alg` (key NULL) or an HMAC of `alg` under `key`
     * (1 to DK_HMAC_KEY_MAX bytes; the backend copies or absorbs it during
     * the call). DK_ERR_UNAVAILABLE when this library build lacks `alg`
     * (MD5 is disabled in some builds), DK_ERR_NOMEM, DK_ERR_TLS. */
    dk_err (*md_create)(dk_hash_type alg, const uint8_t *key, size_t key_len, dk_bk_md **out);
    /* Adds `len` bytes (0 allowed; at most 2^30 per call, the core splits
     * longer input). DK_OK or DK_ERR_TLS. */
    dk_err (*md_update)(dk_bk_md *m, const uint8_t *data, size_t len);
    /* Writes the dk_hash_size(alg) bytes of the digest or MAC into `out`.
     * Called at most once per object, after which the core only frees it.
     * DK_OK or DK_ERR_TLS. */
    dk_err (*md_finish)(dk_bk_md *m, uint8_t *out);
    /* Releases `m` (finished or not), wiping what the key left in it. */
    void (*md_free)(dk_bk_md *m);
    /* Signs a precomputed hash with a private key: RSA keys
     * RSASSA-PKCS1-v1_5 (the DigestInfo of `alg` around the hash, RFC 8017
     * section 9.2: deterministic, so every backend produces the same bytes),
     * EC keys ECDSA with the signature encoded as DER (SEQUENCE { r, s }),
     * the hash truncated to the curve's order as SEC 1 says. *sig is
     * malloc'd. DK_ERR_NOMEM, DK_ERR_TLS. */
    dk_err (*sign)(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash, size_t hash_len,
                   uint8_t **sig, size_t *sig_len, char *reason, size_t reason_cap);
    /* Checks a signature as sign() makes them, with a private or public key.
     * DK_OK only when it verifies exactly (no trailing bytes); DK_ERR_SIGNATURE
     * for any signature that does not, malformed ones included;
     * DK_ERR_NOMEM or DK_ERR_TLS only when the check itself could not run. */
    dk_err (*verify)(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash, size_t hash_len,
                     const uint8_t *sig, size_t sig_len, char *reason, size_t reason_cap);
    /* RSAES-PKCS1-v1_5 encryption with the key's public part (RFC 8017
     * section 7.2); *out is malloc'd and has the modulus' size in bytes.
     * DK_ERR_NOMEM, DK_ERR_TLS. */
    dk_err (*rsa_encrypt)(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                          size_t *out_len, char *reason, size_t reason_cap);
    /* The matching decryption with the private key; *out is malloc'd and
     * goes to the caller (it may be empty). DK_ERR_TLS when the ciphertext
     * does not decrypt (wrong key, altered bytes), DK_ERR_NOMEM. */
    dk_err (*rsa_decrypt)(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                          size_t *out_len, char *reason, size_t reason_cap);
} dk_bk_crypto_ops;

/* ------------------------------------------------------------- backend */

struct dk_backend {
    uint32_t abi_version; /* DK_BACKEND_ABI_VERSION */
    const char *name;     /* "openssl", "mbedtls", "wolfssl" */
    const dk_bk_library_ops *library;
    const dk_bk_key_ops *key;
    const dk_bk_cert_ops *cert;
    const dk_bk_ctx_ops *ctx;
    const dk_bk_session_ops *session;
    const dk_bk_aead_ops *aead;
    /* Godot's Crypto operations (may be NULL: every call DK_ERR_UNAVAILABLE). */
    const dk_bk_crypto_ops *crypto;
};

/* Defined by the one backend compiled into the library. */
extern const struct dk_backend dk_backend_impl;

/* DTLS 1.2 record headers (RFC 6347 4.1), for backends that look at what
 * their library sends or is fed: type(1) version(2) epoch(2) sequence(6)
 * length(2). The core's gate (core/gate.h) uses the same values. */
#define DK_BK_REC_HEADER_LEN 13
#define DK_BK_CT_CCS         20
#define DK_BK_CT_ALERT       21
#define DK_BK_CT_HANDSHAKE   22
#define DK_BK_CT_APPDATA     23

/* One record header read by dk_bk_record_next(). */
typedef struct dk_bk_record {
    uint8_t type; /* DK_BK_CT_* (unchecked) */
    uint16_t epoch;
    uint64_t seq;            /* 48 bits */
    const uint8_t *fragment; /* the record's body, right after the header */
    size_t len;              /* bytes of it present: the claimed length when whole */
    bool whole;              /* the claimed length fits in the bytes given */
} dk_bk_record;

/* Reads the record at the start of `p` (`len` bytes) into *r and returns
 * how many bytes it takes up, header included, so that a loop walks a
 * datagram with p += k, len -= k; 0 when fewer than DK_BK_REC_HEADER_LEN
 * bytes are left. A record cut short (whole false) takes up the rest. */
static inline size_t dk_bk_record_next(const uint8_t *p, size_t len, dk_bk_record *r)
{
    if (len < DK_BK_REC_HEADER_LEN)
        return 0;
    size_t claimed = (size_t)p[11] << 8 | p[12], left = len - DK_BK_REC_HEADER_LEN;
    r->type = p[0];
    r->epoch = (uint16_t)(p[3] << 8 | p[4]);
    r->seq = 0;
    for (int i = 5; i < 11; i++)
        r->seq = r->seq << 8 | p[i];
    r->fragment = p + DK_BK_REC_HEADER_LEN;
    r->whole = claimed <= left;
    r->len = r->whole ? claimed : left;
    return DK_BK_REC_HEADER_LEN + r->len;
}

/* Helper for backends that run the retransmission timer themselves: the
 * next timeout after `prev_ms` (0: none yet) under the core's policy. */
static inline unsigned dk_bk_rto_next(unsigned prev_ms, unsigned initial_ms, unsigned max_ms)
{
    if (prev_ms == 0)
        return initial_ms;
    return prev_ms >= max_ms / 2 ? max_ms : prev_ms * 2;
}

#ifdef __cplusplus
}
#endif

#endif
