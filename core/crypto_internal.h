/* Internal: key, certificate and options objects (dispatched to the
 * backend), shared with the DTLS layer. */
#ifndef DK_CORE_CRYPTO_INTERNAL_H
#define DK_CORE_CRYPTO_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <dtlskit/backend.h>
#include <dtlskit/crypto.h>

/* Keys and chains are reference counted so that options (and the contexts
 * made from them) can keep them after the caller frees its handle. Counts
 * are atomic: one options object may serve servers in several threads. */
struct dk_key {
    atomic_int refs;
    dk_bk_key *bk;
};

struct dk_cert {
    atomic_int refs;
    size_t n, cap;
    dk_bk_cert **certs;
};

struct dk_tls_options {
    bool server;
    bool unsafe;
    char *cn_override;   /* NULL: none */
    dk_key *key;         /* server key, or client certificate key */
    dk_cert *own;        /* server chain, or client certificate chain */
    dk_cert *trusted;    /* client: CA chain (NULL: system store) */
    dk_client_auth auth; /* server only */
    dk_cert *client_ca;  /* server only */
    /* Pre-shared keys. Server: psk_lookup set (psk_hint optional). Client:
     * psk_identity and psk_key (wiped when the options are freed). */
    dk_psk_lookup psk_lookup;
    void *psk_user;
    char *psk_hint;
    char *psk_identity;
    uint8_t psk_key[DK_PSK_KEY_MAX];
    size_t psk_key_len;
    /* dk_tls_options_set_cipher_suites(); nsuites 0: the default. */
    uint16_t suites[32];
    size_t nsuites;
    /* Client: the backend context made from these options, kept for the
     * next connection (making one per connection costs more than the
     * handshake's own cryptography). Guarded: options may be shared by
     * threads. */
    pthread_mutex_t lock;
    struct dk__ctx *cached;
};

/* Drops the cached context (the options changed). */
void dk__tls_options_invalidate(dk_tls_options *opts);

dk_key *dk__key_ref(const dk_key *key);
dk_cert *dk__cert_ref(const dk_cert *cert);

/* A new empty chain. */
dk_cert *dk__cert_new(void);
/* Appends a backend certificate (ownership moves to the chain). */
dk_err dk__cert_push(dk_cert *chain, dk_bk_cert *bk);
/* Parses one DER certificate (cert_ops.from_der) and appends it. */
dk_err dk__cert_push_der(dk_cert *chain, const uint8_t *der, size_t len, char *reason,
                         size_t reason_cap);

#endif
