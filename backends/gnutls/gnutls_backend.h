/* GnuTLS backend: op groups and the objects shared between its files. */
#ifndef DK_GNUTLS_BACKEND_H
#define DK_GNUTLS_BACKEND_H

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <dtlskit/backend.h>

extern const dk_bk_library_ops dk_gnu_library_ops;
extern const dk_bk_key_ops dk_gnu_key_ops;
extern const dk_bk_cert_ops dk_gnu_cert_ops;
extern const dk_bk_ctx_ops dk_gnu_ctx_ops;
extern const dk_bk_session_ops dk_gnu_session_ops;
extern const dk_bk_aead_ops dk_gnu_aead_ops;
extern const dk_bk_crypto_ops dk_gnu_crypto_ops;

/* A key: the abstract public key always, and for a private key the X.509
 * private key (what export and credentials take) with the abstract private
 * key wrapping it (what signing takes). */
struct dk_bk_key {
    dk_key_type type;
    int bits;
    bool public_only;
    gnutls_x509_privkey_t x509; /* NULL when public only */
    gnutls_privkey_t priv;      /* wraps x509; NULL when public only */
    gnutls_pubkey_t pub;
};

/* A certificate and the exact DER it was parsed from (to_der lends it). */
struct dk_bk_cert {
    gnutls_x509_crt_t crt;
    uint8_t *der;
    size_t der_len;
};

/* Writes GnuTLS's text for `err` after `what` into `reason`. */
void dk_gnu_reason(char *reason, size_t cap, const char *what, int err);

/* Signatures and RSA encryption (gnutls_pk.c), members of dk_gnu_crypto_ops. */
dk_err dk_gnu_sign(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash, size_t hash_len,
                   uint8_t **sig, size_t *sig_len, char *reason, size_t reason_cap);
dk_err dk_gnu_verify(const dk_bk_key *key, dk_hash_type alg, const uint8_t *hash, size_t hash_len,
                     const uint8_t *sig, size_t sig_len, char *reason, size_t reason_cap);
dk_err dk_gnu_rsa_encrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                          size_t *out_len, char *reason, size_t reason_cap);
dk_err dk_gnu_rsa_decrypt(const dk_bk_key *key, const uint8_t *in, size_t len, uint8_t **out,
                          size_t *out_len, char *reason, size_t reason_cap);

#endif
