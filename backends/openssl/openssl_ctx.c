/* OpenSSL backend: SSL_CTX configuration for DTLS 1.2. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "openssl_backend.h"
#include "openssl_session.h"

/* Longest OpenSSL cipher name ("ECDHE-ECDSA-CHACHA20-POLY1305" and the like)
 * plus its separator. */
#define SUITE_NAME_CAP 64

/* The core verified the cookie before this session existed; OpenSSL only
 * has to see that this ClientHello carries that very cookie. */
static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    const dk_bk_session *s = SSL_get_ex_data(ssl, dk_ossl_session_index());
    return s && len == s->cookie_len && memcmp(cookie, s->cookie, len) == 0;
}

/* Never used: HelloVerifyRequests come from the core. Failing keeps OpenSSL
 * from answering with one of its own. */
static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    (void)ssl;
    (void)cookie;
    (void)len;
    return 0;
}

/* The core's suites, in its order, as an OpenSSL cipher list; then checks
 * that OpenSSL kept exactly those. */
static bool use_suites(SSL_CTX *ctx, const dk_bk_ctx_params *p, char *reason, size_t cap)
{
    if (!p->suites_len || p->suites_len > 64) {
        snprintf(reason, cap, "%zu cipher suites", p->suites_len);
        return false;
    }
    char list[64 * SUITE_NAME_CAP];
    size_t len = 0;
    for (size_t i = 0; i < p->suites_len; i++) {
        const char *name = dk_ossl_suite_name(p->suites[i]);
        size_t n = name ? strlen(name) : 0;
        if (!n || n + 2 > SUITE_NAME_CAP) {
            snprintf(reason, cap, "cipher suite 0x%04X is not available in this OpenSSL",
                     (unsigned)p->suites[i]);
            return false;
        }
        if (len)
            list[len++] = ':';
        memcpy(list + len, name, n);
        len += n;
    }
    list[len] = '\0';
    /* No TLS 1.3 suites in the list: DTLS 1.2 has no use for them. */
    if (SSL_CTX_set_ciphersuites(ctx, "") != 1 || SSL_CTX_set_cipher_list(ctx, list) != 1) {
        dk_ossl_reason(reason, cap, "cipher list refused");
        return false;
    }
    STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
    bool same = sk && (size_t)sk_SSL_CIPHER_num(sk) == p->suites_len;
    for (size_t i = 0; same && i < p->suites_len; i++)
        same = SSL_CIPHER_get_protocol_id(sk_SSL_CIPHER_value(sk, (int)i)) == p->suites[i];
    if (!same)
        snprintf(reason, cap, "OpenSSL did not keep the cipher list \"%s\"", list);
    return same;
}

/* Server: the key for the identity the client sent, from the core. A 0
 * makes OpenSSL fail the handshake with the unknown_psk_identity alert. */
static unsigned int psk_server_cb(SSL *ssl, const char *identity, unsigned char *psk,
                                  unsigned int max_psk_len)
{
    dk_bk_session *s = SSL_get_ex_data(ssl, dk_ossl_session_index());
    if (!s || !s->io.psk_key || !identity)
        return 0;
    const uint8_t *id = (const uint8_t *)identity; /* NUL-terminated by OpenSSL */
    size_t id_len = strlen(identity);
    size_t cap = max_psk_len < DK_OSSL_PSK_MAX ? max_psk_len : DK_OSSL_PSK_MAX;
    /* Straight into OpenSSL's buffer, which it copies and cleanses. */
    size_t n = s->io.psk_key(s->io.user, id, id_len, psk, cap);
    if (n > cap) {
        OPENSSL_cleanse(psk, cap);
        return 0;
    }
    return (unsigned int)n;
}

/* Client: our identity and key, whatever the server's hint. */
static unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity,
                                  unsigned int max_identity_len, unsigned char *psk,
                                  unsigned int max_psk_len)
{
    (void)hint;
    const dk_bk_ctx *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (!c || !c->psk_identity)
        return 0;
    size_t n = strlen(c->psk_identity);
    if (n == 0 || n >= max_identity_len || c->psk_key_len > max_psk_len)
        return 0;
    memcpy(identity, c->psk_identity, n + 1);
    memcpy(psk, c->psk_key, c->psk_key_len);
    return (unsigned int)c->psk_key_len;
}

static bool use_psk(SSL_CTX *ctx, dk_bk_ctx *c, const dk_bk_ctx_params *p, char *reason, size_t cap)
{
    if (p->role == DK_BK_SERVER) {
        if (!p->psk_server)
            return true;
        SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
        if (p->psk_hint && *p->psk_hint && SSL_CTX_use_psk_identity_hint(ctx, p->psk_hint) != 1) {
            dk_ossl_reason(reason, cap, "PSK identity hint refused");
            return false;
        }
        return true;
    }
    if (!p->psk_identity)
        return true;
    size_t n = strlen(p->psk_identity);
    if (n == 0 || n > PSK_MAX_IDENTITY_LEN || !p->psk_key || p->psk_key_len == 0 ||
        p->psk_key_len > sizeof c->psk_key) {
        snprintf(reason, cap, "PSK identity of %zu bytes or key of %zu bytes refused", n,
                 p->psk_key_len);
        return false;
    }
    c->psk_identity = strdup(p->psk_identity);
    if (!c->psk_identity) {
        snprintf(reason, cap, "out of memory");
        return false;
    }
    memcpy(c->psk_key, p->psk_key, p->psk_key_len);
    c->psk_key_len = p->psk_key_len;
    SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
    return true;
}

static bool use_own(SSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    if (!p->key || !p->chain_len)
        return true;
    if (SSL_CTX_use_certificate(ctx, p->chain[0]->x509) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, p->key->pkey) != 1)
        return false;
    for (size_t i = 1; i < p->chain_len; i++)
        if (SSL_CTX_add1_chain_cert(ctx, p->chain[i]->x509) != 1)
            return false;
    return SSL_CTX_check_private_key(ctx) == 1;
}

static bool use_trust(SSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    if (p->trusted_len) {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        for (size_t i = 0; i < p->trusted_len; i++)
            if (X509_STORE_add_cert(store, p->trusted[i]->x509) != 1)
                return false;
    } else if (p->use_system_ca) { /* default paths: wider than system_ca_file */
        if (SSL_CTX_set_default_verify_paths(ctx) != 1)
            return false;
    }
    return true;
}

/* ------------------------------------------------------ session tickets */

/* OpenSSL seals a ticket as RFC 5077 section 4 recommends: key_name(16) ||
 * IV(16) || AES-256-CBC(state) || HMAC-SHA256(all that precedes) (32), and
 * checks the HMAC (CRYPTO_memcmp) before it decrypts. This callback only
 * supplies the core's keys: the library's own random ticket keys are never
 * used. Returns 1 (current key), 2 (older key: resume and renew), 0 (no
 * such key: full handshake; when sealing, an empty ticket), never a
 * negative value, which would fail the handshake. */
static int ticket_key_cb(SSL *ssl, unsigned char *key_name, unsigned char *iv, EVP_CIPHER_CTX *cctx,
                         EVP_MAC_CTX *hctx, int enc)
{
    const dk_bk_ctx *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (!c || !c->tickets || !c->ticket_key || !c->ticket_cipher)
        return 0;
    ERR_set_mark();
    dk_bk_ticket_key k;
    int r = c->ticket_key(c->ticket_user, enc ? NULL : key_name, &k);
    bool ok = r == 1 || r == 2;
    if (ok && enc) {
        r = 1;
        memcpy(key_name, k.name, sizeof k.name);
        ok = RAND_bytes(iv, 16) == 1;
    }
    if (ok) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac_key, sizeof k.hmac_key),
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
            OSSL_PARAM_construct_end(),
        };
        ok = EVP_MAC_CTX_set_params(hctx, params) == 1 &&
             (enc ? EVP_EncryptInit_ex(cctx, c->ticket_cipher, NULL, k.aes_key, iv)
                  : EVP_DecryptInit_ex(cctx, c->ticket_cipher, NULL, k.aes_key, iv)) == 1 &&
             EVP_CIPHER_CTX_get_iv_length(cctx) == 16;
    }
    OPENSSL_cleanse(&k, sizeof k);
    ERR_pop_to_mark();
    return ok ? r : 0;
}

/* Inside every ticket (the session's "ticket appdata", encrypted with it):
 * a version byte and the wall-clock time of the session's full handshake
 * in milliseconds, big-endian. */
#define STAMP_VERSION 1
#define STAMP_LEN     9

static uint64_t wall_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Before each ticket is sealed: stamps a new session; a resumed session
 * keeps its stamp, so that a renewed ticket does not extend its life (as
 * OpenSSL's own session timeout, which counts from the full handshake). */
static int ticket_gen_cb(SSL *ssl, void *arg)
{
    (void)arg;
    SSL_SESSION *ss = SSL_get_session(ssl);
    void *d = NULL;
    size_t n = 0;
    if (!ss || (SSL_SESSION_get0_ticket_appdata(ss, &d, &n) == 1 && d && n == STAMP_LEN &&
                ((const uint8_t *)d)[0] == STAMP_VERSION))
        return 1;
    uint8_t stamp[STAMP_LEN] = {STAMP_VERSION};
    uint64_t now = wall_ms();
    for (int i = 0; i < 8; i++)
        stamp[1 + i] = (uint8_t)(now >> (56 - 8 * i));
    /* Without a stamp the ticket never resumes: no reason to fail. */
    if (SSL_SESSION_set1_ticket_appdata(ss, stamp, sizeof stamp) != 1)
        ERR_clear_error();
    return 1;
}

/* A ticket that decrypted: younger than the lifetime, and for a session
 * this configuration would accept now. */
static bool ticket_acceptable(const dk_bk_ctx *c, SSL *ssl, SSL_SESSION *ss)
{
    void *d = NULL;
    size_t n = 0;
    if (SSL_SESSION_get0_ticket_appdata(ss, &d, &n) != 1 || !d || n != STAMP_LEN)
        return false;
    const uint8_t *stamp = d;
    if (stamp[0] != STAMP_VERSION)
        return false;
    uint64_t born = 0;
    for (int i = 0; i < 8; i++)
        born = born << 8 | stamp[1 + i];
    uint64_t now = wall_ms();
    uint64_t age = now > born ? now - born : 0;
    if (age >= (uint64_t)c->ticket_lifetime_s * 1000u)
        return false;
    if (SSL_SESSION_get_protocol_version(ss) != DTLS1_2_VERSION)
        return false;
    if (c->require_peer_cert && !SSL_SESSION_get0_peer(ss))
        return false;
    /* Its suite must still be one this server accepts. */
    const SSL_CIPHER *cipher = SSL_SESSION_get0_cipher(ss);
    STACK_OF(SSL_CIPHER) *sk = SSL_get_ciphers(ssl);
    for (int i = 0; cipher && i < sk_SSL_CIPHER_num(sk); i++)
        if (SSL_CIPHER_get_id(sk_SSL_CIPHER_value(sk, i)) == SSL_CIPHER_get_id(cipher))
            return true;
    return false;
}

/* After OpenSSL opened (or failed to open) a ticket. Anything but a valid
 * ticket is a full handshake that issues a new one. */
static SSL_TICKET_RETURN ticket_dec_cb(SSL *ssl, SSL_SESSION *ss, const unsigned char *name,
                                       size_t name_len, SSL_TICKET_STATUS status, void *arg)
{
    (void)name;
    (void)name_len;
    const dk_bk_ctx *c = arg;
    if ((status != SSL_TICKET_SUCCESS && status != SSL_TICKET_SUCCESS_RENEW) || !ss || !c ||
        !ticket_acceptable(c, ssl, ss))
        return SSL_TICKET_RETURN_IGNORE_RENEW;
    return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
}

/* Server: the session ID context, which OpenSSL requires to resume when it
 * verifies client certificates, names the verification settings: a ticket
 * issued under other settings (other trust anchors...) is not resumed. */
static bool set_sid_ctx(SSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    static const char tag[] = "dtlskit openssl tickets 1";
    const uint8_t flags[3] = {p->verify_peer, p->require_peer_cert, p->use_system_ca};
    uint8_t md[32];
    unsigned int n = 0;
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    bool ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(h, tag, sizeof tag - 1) == 1 &&
              EVP_DigestUpdate(h, flags, sizeof flags) == 1;
    for (size_t i = 0; ok && p->verify_peer && i < p->trusted_len; i++) {
        const uint8_t len[4] = {
            (uint8_t)(p->trusted[i]->der_len >> 24), (uint8_t)(p->trusted[i]->der_len >> 16),
            (uint8_t)(p->trusted[i]->der_len >> 8), (uint8_t)p->trusted[i]->der_len};
        ok = EVP_DigestUpdate(h, len, sizeof len) == 1 &&
             EVP_DigestUpdate(h, p->trusted[i]->der, p->trusted[i]->der_len) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(h, md, &n) == 1 && n == sizeof md &&
         SSL_CTX_set_session_id_context(ctx, md, n) == 1;
    EVP_MD_CTX_free(h);
    return ok;
}

/* Tickets on: the client asks for one; the server issues and accepts them
 * with the core's keys, and keeps no session cache. Off: SSL_OP_NO_TICKET
 * stays. */
static bool use_tickets(SSL_CTX *ctx, dk_bk_ctx *c, const dk_bk_ctx_params *p, char *reason,
                        size_t cap)
{
    if (!p->tickets)
        return true;
    if (p->role == DK_BK_CLIENT) {
        SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
        return true;
    }
    if (!p->ticket_key) {
        snprintf(reason, cap, "session tickets without ticket keys");
        return false;
    }
    c->tickets = true;
    c->require_peer_cert = p->verify_peer && p->require_peer_cert;
    c->ticket_lifetime_s = p->ticket_lifetime_s ? p->ticket_lifetime_s : 7200;
    c->ticket_key = p->ticket_key;
    c->ticket_user = p->ticket_user;
    c->ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    /* The session timeout: OpenSSL's own check at resumption (whole
     * seconds) and the lifetime hint of NewSessionTicket. */
    (void)SSL_CTX_set_timeout(ctx, (long)c->ticket_lifetime_s);
    if (!c->ticket_cipher || !set_sid_ctx(ctx, p) ||
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb) != 1 ||
        SSL_CTX_set_session_ticket_cb(ctx, ticket_gen_cb, ticket_dec_cb, c) != 1) {
        dk_ossl_reason(reason, cap, "session tickets refused");
        return false;
    }
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    return true;
}

static void ctx_free(dk_bk_ctx *c);

static dk_err ctx_create(const dk_bk_ctx_params *p, dk_bk_ctx **out, char *reason, size_t cap)
{
    ERR_clear_error();
    reason[0] = '\0';
    dk_bk_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return DK_ERR_NOMEM;
    SSL_CTX *ctx = c->ctx = SSL_CTX_new(DTLS_method());
    bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) &&
              SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    if (ok) {
        SSL_CTX_set_app_data(ctx, c);
        ok = use_suites(ctx, p, reason, cap) && use_psk(ctx, c, p, reason, cap);
    }
    if (ok) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                     SSL_OP_NO_TICKET | SSL_OP_NO_QUERY_MTU |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE);
        /* No session cache: resumption is by tickets only (stateless). */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_read_ahead(ctx, 1);
        /* The core's gate refuses larger handshake messages anyway; this
         * bounds what a peer's certificate list may make OpenSSL hold. */
        SSL_CTX_set_max_cert_list(ctx, 16384);
        ok = use_own(ctx, p) && use_trust(ctx, p) && use_tickets(ctx, c, p, reason, cap);
    }
    if (ok && p->role == DK_BK_SERVER && !p->key && !p->psk_server) {
        ok = false;
        ERR_clear_error();
        snprintf(reason, cap, "a server needs a key and certificate or pre-shared keys");
    }
    if (!ok) {
        if (!reason[0])
            dk_ossl_reason(reason, cap, "configuration refused");
        ERR_clear_error();
        ctx_free(c);
        return DK_ERR_TLS;
    }
    int mode = SSL_VERIFY_NONE;
    if (p->verify_peer) {
        mode = SSL_VERIFY_PEER;
        if (p->role == DK_BK_SERVER && p->require_peer_cert)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx, mode, NULL);
    if (p->role == DK_BK_SERVER) {
        SSL_CTX_set_cookie_generate_cb(ctx, cookie_generate);
        SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify);
    }
    *out = c;
    return DK_OK;
}

static void ctx_free(dk_bk_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    EVP_CIPHER_free(c->ticket_cipher);
    free(c->psk_identity);
    OPENSSL_cleanse(c->psk_key, sizeof c->psk_key);
    free(c);
}

const dk_bk_ctx_ops dk_ossl_ctx_ops = {
    .size = sizeof(dk_bk_ctx_ops),
    .create = ctx_create,
    .free = ctx_free,
};
