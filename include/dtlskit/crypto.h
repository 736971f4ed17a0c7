/** @file
 * dtlskit — keys, certificates and TLS options.
 *
 * Godot equivalents: CryptoKey (dk_key), X509Certificate (dk_cert),
 * Crypto.generate_rsa / generate_self_signed_certificate, and TLSOptions
 * (dk_tls_options). All parsing, writing and generation is done by the TLS
 * library the build selected; dk_backend_caps() tells what it supports.
 *
 * Ownership: objects returned by a constructor belong to the caller and are
 * released with the matching *_free(). Options keep their own reference to
 * the keys and certificates they are given, so the caller may free its
 * handles right after creating the options. Buffers returned through
 * `void **out` or as `char *` are released with dk_free().
 */
#ifndef DTLSKIT_CRYPTO_H
#define DTLSKIT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/error.h>
#include <dtlskit/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A private key, or a public key only (opaque; Godot: CryptoKey). Freed
 *  with dk_key_free(). */
typedef struct dk_key dk_key;
/** A chain of one or more X.509 certificates, leaf first (opaque; Godot:
 *  X509Certificate). Freed with dk_cert_free(). */
typedef struct dk_cert dk_cert;
/** Client or server TLS settings: credentials, verification, cipher
 *  suites (opaque; Godot: TLSOptions). Freed with dk_tls_options_free(). */
typedef struct dk_tls_options dk_tls_options;

/** @var DK_FORMAT_PEM
 *  PEM: base64 text between "-----BEGIN ...-----" lines. */
/** @var DK_FORMAT_DER
 *  DER: binary ASN.1. */
/** Encoding for save calls. Load calls detect PEM or DER by themselves. */
typedef enum dk_format { DK_FORMAT_PEM = 0, DK_FORMAT_DER = 1 } dk_format;

/** @var DK_KEY_RSA
 *  An RSA key. */
/** @var DK_KEY_EC
 *  An elliptic-curve key (dk_ec_curve). */
/** Algorithm of a key (dk_key_get_type()). */
typedef enum dk_key_type { DK_KEY_RSA = 1, DK_KEY_EC = 2 } dk_key_type;

/** @var DK_EC_P256
 *  NIST P-256 (secp256r1). */
/** @var DK_EC_P384
 *  NIST P-384 (secp384r1). */
/** Elliptic curves for dk_key_generate_ec(). */
typedef enum dk_ec_curve { DK_EC_P256 = 1, DK_EC_P384 = 2 } dk_ec_curve;

/** Releases a buffer returned by dtlskit (save_to_string, save_to_memory).
 *  NULL is ignored. */
DK_API void dk_free(void *ptr);

/* ---------------------------------------------------------------- keys */

/** Loads a private key (or, with public_only, a public key) from a PEM or
 *  DER file. `password` decrypts an encrypted PEM or PKCS#8 key; NULL for
 *  none. Errors: DK_ERR_INVALID (NULL path), DK_ERR_IO (cannot read),
 *  DK_ERR_PARSE (not a key), DK_ERR_PASSWORD (encrypted key, missing or
 *  wrong password). Godot: CryptoKey.load(path, public_only). */
DK_API dk_key *dk_key_load(const char *path, const char *password, bool public_only, dk_err *err);

/** As dk_key_load(), from a NUL-terminated PEM string.
 *  Godot: CryptoKey.load_from_string(string_key, public_only). */
DK_API dk_key *dk_key_load_from_string(const char *pem, const char *password, bool public_only,
                                       dk_err *err);

/** As dk_key_load(), from `len` bytes of PEM or DER in memory. */
DK_API dk_key *dk_key_load_from_memory(const void *data, size_t len, const char *password,
                                       bool public_only, dk_err *err);

/** Writes the key to a file in PEM or DER. With public_only (or for a
 *  public-only key) only the public part is written. Errors: DK_ERR_INVALID,
 *  DK_ERR_IO. Godot: CryptoKey.save(path, public_only). */
DK_API dk_err dk_key_save(const dk_key *key, const char *path, dk_format format, bool public_only);

/** The key as a NUL-terminated PEM string, to be freed with dk_free(); NULL
 *  on error. Godot: CryptoKey.save_to_string(public_only). */
DK_API char *dk_key_save_to_string(const dk_key *key, bool public_only, dk_err *err);

/** The key encoded in memory (PEM without the terminating NUL, or DER).
 *  `*out` is freed with dk_free(). */
DK_API dk_err dk_key_save_to_memory(const dk_key *key, dk_format format, bool public_only,
                                    void **out, size_t *out_len);

/** True when the key holds only a public part. Godot: is_public_only(). */
DK_API bool dk_key_is_public_only(const dk_key *key);

/** DK_KEY_RSA or DK_KEY_EC; 0 for NULL. */
DK_API dk_key_type dk_key_get_type(const dk_key *key);

/** Key size in bits (2048 for RSA-2048, 256 for P-256); 0 for NULL. */
DK_API int dk_key_get_bits(const dk_key *key);

/** Generates an RSA key of `bits` bits (1024 to 8192, multiple of 8, public
 *  exponent 65537). Errors: DK_ERR_INVALID, DK_ERR_UNAVAILABLE (backend
 *  without key generation). Godot: Crypto.generate_rsa(size). */
DK_API dk_key *dk_key_generate_rsa(int bits, dk_err *err);

/** Generates an EC key on the given curve. */
DK_API dk_key *dk_key_generate_ec(dk_ec_curve curve, dk_err *err);

/** Releases the caller's handle to the key; TLS options that use it keep
 *  their own reference. NULL is ignored. */
DK_API void dk_key_free(dk_key *key);

/* -------------------------------------------------------- certificates */

/* A dk_cert is a chain of one or more X.509 certificates, leaf first. */

/** Loads a certificate chain from a file: PEM with one or more certificates,
 *  or one DER certificate. Errors: DK_ERR_INVALID, DK_ERR_IO, DK_ERR_PARSE.
 *  Godot: X509Certificate.load(path). */
DK_API dk_cert *dk_cert_load(const char *path, dk_err *err);

/** As dk_cert_load(), from a NUL-terminated PEM string.
 *  Godot: X509Certificate.load_from_string(string). */
DK_API dk_cert *dk_cert_load_from_string(const char *pem, dk_err *err);

/** As dk_cert_load(), from `len` bytes of PEM or DER in memory. */
DK_API dk_cert *dk_cert_load_from_memory(const void *data, size_t len, dk_err *err);

/** Writes the chain to a file. PEM writes every certificate; DER holds one
 *  certificate, so DER on a chain of several is DK_ERR_INVALID.
 *  Godot: X509Certificate.save(path). */
DK_API dk_err dk_cert_save(const dk_cert *cert, const char *path, dk_format format);

/** The chain as a NUL-terminated PEM string, freed with dk_free().
 *  Godot: X509Certificate.save_to_string(). */
DK_API char *dk_cert_save_to_string(const dk_cert *cert, dk_err *err);

/** The chain encoded in memory (PEM, or DER for a single certificate). */
DK_API dk_err dk_cert_save_to_memory(const dk_cert *cert, dk_format format, void **out,
                                     size_t *out_len);

/** Number of certificates in the chain; 0 for NULL. */
DK_API int dk_cert_count(const dk_cert *cert);

/** A new chain holding a copy of the certificate at `index`. */
DK_API dk_cert *dk_cert_get(const dk_cert *cert, int index, dk_err *err);

/** Appends copies of every certificate of `more` to `chain`. Fails with
 *  DK_ERR_STATE once `chain` is referenced by TLS options: build chains
 *  before handing them over. */
DK_API dk_err dk_cert_append(dk_cert *chain, const dk_cert *more);

/** The subject of the certificate at `index` as a one-line string, the
 *  same with every backend: "CN=example.com, O=Org, C=IT", the RDNs in
 *  certificate order joined by ", ", the attributes of a multi-valued RDN
 *  joined by "+". Values are in UTF-8 and escaped as RFC 4514 says (a
 *  backslash before a double quote, before any of `+,;<>` and before a
 *  backslash, before a leading space or '#' and a trailing space; control
 *  characters as `\XX`). Attributes without a short
 *  name are written as dotted OIDs, and values that are not text (or
 *  longer than 255 bytes) as '#' and the hex of their DER, as in
 *  "1.2.3.4=#0C0568656C6C6F". The text is accepted back by
 *  dk_cert_generate_self_signed(). DK_ERR_BUFFER_TOO_SMALL when `cap` is
 *  too short (`buf` then holds as much as fits), DK_ERR_PARSE when the
 *  certificate's Name is malformed. */
DK_API dk_err dk_cert_get_subject(const dk_cert *cert, int index, char *buf, size_t cap);

/** As dk_cert_get_subject() for the issuer. */
DK_API dk_err dk_cert_get_issuer(const dk_cert *cert, int index, char *buf, size_t cap);

/** SHA-256 of the DER encoding of the certificate at `index`. */
DK_API dk_err dk_cert_get_fingerprint_sha256(const dk_cert *cert, int index, uint8_t out[32]);

/** Validity period of the certificate at `index`, as seconds since the Unix
 *  epoch (UTC). */
DK_API dk_err dk_cert_get_validity(const dk_cert *cert, int index, int64_t *not_before,
                                   int64_t *not_after);

/** Creates a self-signed certificate for `key`.
 *  `issuer_name`: subject and issuer, comma-separated "KEY=value" RDNs such
 *  as "CN=myserver,O=myorganisation,C=IT" (NULL: that default), in the
 *  syntax mbedTLS accepts (Godot passes it to mbedTLS) and the text
 *  dk_cert_get_subject() writes: spaces after the commas are skipped;
 *  RFC 4514 escapes (`\,` `\+` `\=` `\\` `\#` `\ ` ..., `\XX` hex);
 *  the keys CN, C, O, OU, L, ST, emailAddress, serialNumber, title, SN, GN,
 *  initials, pseudonym, generationQualifier, dnQualifier, postalCode,
 *  postalAddress, DC, UID, street, description, businessCategory,
 *  organizationIdentifier, their long forms (commonName, countryName,
 *  organizationName, locality, ...), mbedTLS's R (emailAddress), and
 *  dotted OIDs; "#" and hex digits that encode one DER string (else the
 *  '#' is literal); "OU=a+OU=b" for a multi-valued RDN (a '+' not followed
 *  by "KEY=" is literal, as mbedTLS has it). Values are UTF-8, 1 to 255
 *  bytes. When the CN is a host name
 *  it is also written as a subjectAltName DNS entry, which modern
 *  verifiers require. `not_before` / `not_after`: "YYYYMMDDhhmmss" UTC (NULL:
 *  now, and ten years from now). Errors: DK_ERR_INVALID (bad name or date,
 *  public-only key; dk_last_error() says what is wrong with a name),
 *  DK_ERR_UNAVAILABLE (no certificate generation; mbedTLS: a multi-valued
 *  RDN, which its writer cannot encode).
 *  Godot: Crypto.generate_self_signed_certificate(key, issuer_name,
 *  not_before, not_after). */
DK_API dk_cert *dk_cert_generate_self_signed(const dk_key *key, const char *issuer_name,
                                             const char *not_before, const char *not_after,
                                             dk_err *err);

/** Releases the caller's handle to the chain; TLS options that use it keep
 *  their own reference. NULL is ignored. */
DK_API void dk_cert_free(dk_cert *cert);

/* -------------------------------------------------------- TLS options */

/** Client options that verify the server. `trusted_chain`: the CA
 *  certificates to trust (NULL: the system's CA store).
 *  `common_name_override`: the name the server certificate must carry, when
 *  it differs from the host name given to dk_dtls_peer_connect_to_peer()
 *  (NULL or "": use that host name).
 *  Godot: TLSOptions.client(trusted_chain, common_name_override). */
DK_API dk_tls_options *dk_tls_options_client(const dk_cert *trusted_chain,
                                             const char *common_name_override, dk_err *err);

/** Client options that do not verify the server at all: for testing only.
 *  Godot: TLSOptions.client_unsafe(trusted_chain). */
DK_API dk_tls_options *dk_tls_options_client_unsafe(const dk_cert *trusted_chain, dk_err *err);

/** Server options: private key and certificate chain (leaf first, then any
 *  intermediates). Errors: DK_ERR_INVALID (NULL, public-only key, empty
 *  chain), DK_ERR_KEY_MISMATCH (key does not match the leaf).
 *  Godot: TLSOptions.server(key, certificate). */
DK_API dk_tls_options *dk_tls_options_server(const dk_key *key, const dk_cert *own_certificate,
                                             dk_err *err);

/** Client-certificate authentication (server options only; Godot has none). */
typedef enum dk_client_auth {
    DK_CLIENT_AUTH_NONE = 0,     /**< do not ask for a client certificate */
    DK_CLIENT_AUTH_OPTIONAL = 1, /**< ask; verify one if sent */
    DK_CLIENT_AUTH_REQUIRED = 2  /**< ask; fail the handshake without a valid one */
} dk_client_auth;

/** Server options: ask clients for a certificate signed by `ca`.
 *  Errors: DK_ERR_INVALID (not server options, NULL ca with a mode other than
 *  NONE). */
DK_API dk_err dk_tls_options_set_client_auth(dk_tls_options *opts, dk_client_auth mode,
                                             const dk_cert *ca);

/** Client options: the key and certificate to present when a server asks. */
DK_API dk_err dk_tls_options_set_client_certificate(dk_tls_options *opts, const dk_key *key,
                                                    const dk_cert *own_certificate);

/* ---------------------------------------------- pre-shared keys (RFC 4279) */

/** Longest PSK identity (and, DK_PSK_KEY_MAX, key) the options accept (RFC 4279 section 5.3
 *  asks for identities up to 128 bytes and keys up to 64). A library may
 *  take shorter keys: mbedTLS 2.28 at most 32 bytes (DK_ERR_UNAVAILABLE). */
#define DK_PSK_IDENTITY_MAX 128
/** Longest PSK key the options accept, in bytes (see DK_PSK_IDENTITY_MAX). */
#define DK_PSK_KEY_MAX      64

/** Server: the key for the PSK identity a client sent. `identity` is
 *  NUL-terminated, 1..DK_PSK_IDENTITY_MAX bytes, without NUL bytes inside
 *  (the core refuses other identities before calling). Write the key into
 *  `key` (`key_cap` bytes, the backend's limit) and return its length, or
 *  return 0 for an unknown identity: the handshake then fails with the
 *  unknown_psk_identity alert. A return above `key_cap` fails the handshake
 *  as well. Called while the session is polled (dk_dtls_peer_poll() or
 *  dk_dtls_server_poll()), on that thread; `user` is the pointer given with
 *  the callback. */
typedef size_t (*dk_psk_lookup)(void *user, const char *identity, uint8_t *key, size_t key_cap);

/** Server options for PSK clients only (no certificate). `identity_hint`:
 *  sent to clients in ServerKeyExchange (NULL or "": none; mbedTLS sends
 *  none). Errors: DK_ERR_INVALID (NULL callback, hint over
 *  DK_PSK_IDENTITY_MAX), DK_ERR_UNAVAILABLE (no DK_CAP_PSK). */
DK_API dk_tls_options *dk_tls_options_server_psk(const char *identity_hint, dk_psk_lookup lookup,
                                                 void *user, dk_err *err);

/** Server options made with dk_tls_options_server(): accept PSK clients as
 *  well, so one server serves both kinds (a client offering only PSK suites
 *  gets a PSK suite, a certificate client gets a certificate suite). Same
 *  arguments and errors as dk_tls_options_server_psk(). */
DK_API dk_err dk_tls_options_set_psk(dk_tls_options *server_opts, const char *identity_hint,
                                     dk_psk_lookup lookup, void *user);

/** Client options that authenticate with a pre-shared key: the client offers
 *  PSK suites only and verifies no certificate. The key is copied, and
 *  wiped from memory when the options are freed. Errors: DK_ERR_INVALID
 *  (NULL or empty identity or key, identity over DK_PSK_IDENTITY_MAX bytes,
 *  key over DK_PSK_KEY_MAX), DK_ERR_UNAVAILABLE (no DK_CAP_PSK, or a key
 *  longer than the library takes). */
DK_API dk_tls_options *dk_tls_options_client_psk(const char *identity, const uint8_t *key,
                                                 size_t key_len, dk_err *err);

/* ------------------------------------------------------- cipher suites */

/** Cipher suites are named by their IANA ids. The core protects these:
 *  0xC02B, 0xC02F, 0xC02C, 0xC030 (ECDHE with AES-GCM), 0xCCA9, 0xCCA8
 *  (ECDHE with ChaCha20-Poly1305), 0xC0AE (ECDHE-ECDSA with AES-128-CCM-8,
 *  CoAP's certificate suite), and the PSK suites 0xCCAC
 *  (ECDHE-PSK-ChaCha20-Poly1305), 0x00A8 (PSK-AES-128-GCM), 0xC0A8
 *  (PSK-AES-128-CCM-8, CoAP's PSK suite), 0xCCAB (PSK-ChaCha20-Poly1305).
 *  By default a server accepts, in this order, the GCM and ChaCha20 suites,
 *  then 0xC0AE, then (with PSK) 0xCCAC, 0x00A8, 0xC0A8, 0xCCAB; a client
 *  offers those that fit its credentials. Suites the linked library lacks
 *  are left out silently from the default. */
/** TLS_PSK_WITH_AES_128_CCM_8 (RFC 6655), CoAP's PSK suite. */
#define DK_SUITE_PSK_AES_128_CCM_8         0xC0A8
/** TLS_PSK_WITH_AES_128_GCM_SHA256 (RFC 5487). */
#define DK_SUITE_PSK_AES_128_GCM_SHA256    0x00A8
/** TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905). */
#define DK_SUITE_ECDHE_PSK_CHACHA20        0xCCAC
/** TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905). */
#define DK_SUITE_PSK_CHACHA20              0xCCAB
/** TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (RFC 7251), CoAP's certificate suite. */
#define DK_SUITE_ECDHE_ECDSA_AES_128_CCM_8 0xC0AE
/** TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5289). */
#define DK_SUITE_ECDHE_ECDSA_AES_128_GCM   0xC02B
/** TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5289). */
#define DK_SUITE_ECDHE_RSA_AES_128_GCM     0xC02F
/** TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (RFC 5289). */
#define DK_SUITE_ECDHE_ECDSA_AES_256_GCM   0xC02C
/** TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (RFC 5289). */
#define DK_SUITE_ECDHE_RSA_AES_256_GCM     0xC030
/** TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905). */
#define DK_SUITE_ECDHE_ECDSA_CHACHA20      0xCCA9
/** TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905). */
#define DK_SUITE_ECDHE_RSA_CHACHA20        0xCCA8

/** RFC name of a suite the core knows ("TLS_PSK_WITH_AES_128_CCM_8"), or
 *  NULL. */
DK_API const char *dk_cipher_suite_name(uint16_t suite);

/** True when the linked library negotiates `suite` and the core protects
 *  it. */
DK_API bool dk_cipher_suite_available(uint16_t suite);

/** Restricts the suites the options offer (client, in this order) or accept
 *  (server, in this order of preference) to `suites`; n == 0 restores the
 *  default. Errors: DK_ERR_INVALID (NULL with n > 0, over 32 suites, a suite
 *  the core does not know, a list with no suite for the options'
 *  credentials), DK_ERR_UNAVAILABLE (a suite the library lacks). */
DK_API dk_err dk_tls_options_set_cipher_suites(dk_tls_options *opts, const uint16_t *suites,
                                               size_t n);

/** Godot: TLSOptions.is_server(). */
DK_API bool dk_tls_options_is_server(const dk_tls_options *opts);
/** Godot: TLSOptions.is_unsafe_client(). */
DK_API bool dk_tls_options_is_unsafe_client(const dk_tls_options *opts);
/** Godot: get_common_name_override(); "" when none. Owned by the options. */
DK_API const char *dk_tls_options_get_common_name_override(const dk_tls_options *opts);
/** Godot: get_own_certificate(); borrowed, NULL when none. */
DK_API const dk_cert *dk_tls_options_get_own_certificate(const dk_tls_options *opts);
/** Godot: get_private_key(); borrowed, NULL when none. */
DK_API const dk_key *dk_tls_options_get_private_key(const dk_tls_options *opts);
/** Godot: get_trusted_ca_chain(); borrowed, NULL when the system store is used. */
DK_API const dk_cert *dk_tls_options_get_trusted_ca_chain(const dk_tls_options *opts);

/** Releases the options. A server keeps its own copy from
 *  dk_dtls_server_setup(), so they may be freed after that call. NULL is
 *  ignored. */
DK_API void dk_tls_options_free(dk_tls_options *opts);

#ifdef __cplusplus
}
#endif

#endif
