/* wolfSSL backend: one WOLFSSL_CTX per context, DTLS 1.2 only, shared by
 * the sessions made from it. */
#include "wolfssl_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hmac.h>

/* The chain as PEM, the form wolfSSL's chain loader takes. */
static int use_chain(WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    size_t cap = 0;
    for (size_t i = 0; i < p->chain_len; i++)
        cap += p->chain[i]->der_len * 2 + 128;
    uint8_t *pem = malloc(cap), *w = pem;
    if (!pem)
        return MEMORY_E;
    int rc = 0;
    for (size_t i = 0; i < p->chain_len && rc >= 0; i++) {
        rc = wc_DerToPem(p->chain[i]->der, (word32)p->chain[i]->der_len, w,
                         (word32)(cap - (size_t)(w - pem)), CERT_TYPE);
        if (rc > 0)
            w += rc;
    }
    if (rc >= 0)
        rc = wolfSSL_CTX_use_certificate_chain_buffer_format(ctx, pem, (long)(w - pem),
                                                             WOLFSSL_FILETYPE_PEM);
    free(pem);
    return rc;
}

/* Own key and chain; WOLFSSL_SUCCESS or an error code. */
static int use_own(WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    if (!p->key || !p->chain_len)
        return WOLFSSL_SUCCESS;
    if (!p->key->priv)
        return BAD_FUNC_ARG;
    int rc = use_chain(ctx, p);
    if (rc == WOLFSSL_SUCCESS)
        rc = wolfSSL_CTX_use_PrivateKey_buffer(ctx, p->key->priv, (long)p->key->priv_len,
                                               WOLFSSL_FILETYPE_ASN1);
    if (rc == WOLFSSL_SUCCESS)
        rc = wolfSSL_CTX_check_private_key(ctx);
    return rc;
}

static int use_trust(dk_bk_ctx *c, WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    int rc = WOLFSSL_SUCCESS;
    if (p->trusted_len) {
        for (size_t i = 0; i < p->trusted_len && rc == WOLFSSL_SUCCESS; i++) {
            rc = wolfSSL_CTX_load_verify_buffer(
                ctx, p->trusted[i]->der, (long)p->trusted[i]->der_len, WOLFSSL_FILETYPE_ASN1);
            dk_wolf_anchors_add_der(c, p->trusted[i]->der, p->trusted[i]->der_len);
        }
    } else if (p->system_ca_file) {
        dk_wolf_anchors_add_file(c, p->system_ca_file);
        /* A machine without a CA store is not a configuration error (as
         * with OpenSSL's default paths): verification will fail instead.
         * The core's file is for builds whose system-store loader finds
         * nothing. */
        if (wolfSSL_CTX_load_system_CA_certs(ctx) != WOLFSSL_SUCCESS)
            (void)wolfSSL_CTX_load_verify_locations(ctx, p->system_ca_file, NULL);
        wolfSSL_ERR_clear_error();
    }
    return rc;
}

/* params->suites as a wolfSSL cipher list ("A:B:C"), malloc'd; NULL with
 * `reason` set when a suite has no name here. */
static char *suite_list(const dk_bk_ctx_params *p, char *reason, size_t cap)
{
    size_t len = 1;
    for (size_t i = 0; i < p->suites_len; i++) {
        const char *name = dk_wolf_suite_name(p->suites[i]);
        if (!name) {
            snprintf(reason, cap, "cipher suite 0x%04X is not in this wolfSSL build",
                     (unsigned)p->suites[i]);
            return NULL;
        }
        len += strlen(name) + 1;
    }
    char *list = malloc(len), *w = list;
    if (!list) {
        snprintf(reason, cap, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < p->suites_len; i++) {
        const char *name = dk_wolf_suite_name(p->suites[i]);
        size_t n = strlen(name);
        if (i)
            *w++ = ':';
        memcpy(w, name, n);
        w += n;
    }
    *w = '\0';
    return list;
}

/* Exactly the core's suites, in its order; the server picks by that order
 * (wolfSSL's default: it walks its own list, then looks for each suite in
 * the client's). Set after the key, the PSK callbacks and the hint, so
 * that nothing rebuilds the list behind it. */
static int use_suites(WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    char ignored[8];
    char *list = suite_list(p, ignored, sizeof ignored);
    if (!list)
        return BAD_FUNC_ARG;
    int rc = wolfSSL_CTX_set_cipher_list(ctx, list);
    free(list);
    return rc;
}

/* Server: the key for the identity a client sent, from the core of the
 * session (found through its I/O context, as everywhere in this backend).
 * wolfSSL hands the identity over NUL-terminated. A return of 0 fails the
 * handshake with PSK_KEY_ERROR; wolfSSL 5.5.4 sends no alert for it, the
 * session sends unknown_psk_identity (handshake_error). */
static unsigned int psk_server_cb(WOLFSSL *ssl, const char *identity, unsigned char *key,
                                  unsigned int key_max)
{
    dk_bk_session *s = wolfSSL_GetIOReadCtx(ssl);
    if (!s)
        return 0;
    s->psk_refused = true;
    if (!s->io.psk_key || !identity || !key)
        return 0;
    const uint8_t *id = (const uint8_t *)identity;
    size_t len = strlen(identity);
    size_t cap = key_max < DK_WOLF_PSK_KEY_MAX ? key_max : DK_WOLF_PSK_KEY_MAX;
    uint8_t k[DK_WOLF_PSK_KEY_MAX];
    size_t n = s->io.psk_key(s->io.user, id, len, k, cap);
    if (n > 0 && n <= cap) {
        memcpy(key, k, n);
        s->psk_refused = false;
    } else {
        n = 0;
    }
    dk_wolf_wipe(k, sizeof k);
    return (unsigned int)n;
}

/* Client: the context's identity and key, whatever the server's hint. */
static unsigned int psk_client_cb(WOLFSSL *ssl, const char *hint, char *identity,
                                  unsigned int id_max, unsigned char *key, unsigned int key_max)
{
    (void)hint;
    const dk_bk_session *s = wolfSSL_GetIOReadCtx(ssl);
    const dk_bk_ctx *c = s ? s->ctx : NULL;
    if (!c || !c->psk_identity || !c->psk_key_len || !identity || !key)
        return 0;
    /* `identity` holds id_max bytes and a NUL. */
    size_t len = strlen(c->psk_identity);
    if (len > id_max || c->psk_key_len > key_max)
        return 0;
    memcpy(identity, c->psk_identity, len + 1);
    memcpy(key, c->psk_key, c->psk_key_len);
    return (unsigned int)c->psk_key_len;
}

/* Pre-shared keys: the server asks each session's core for the key of the
 * identity received; the client's identity and key are kept in the
 * context. */
static int use_psk(dk_bk_ctx *c, WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    if (p->role == DK_BK_SERVER && p->psk_server) {
        wolfSSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
        if (p->psk_hint && p->psk_hint[0])
            return wolfSSL_CTX_use_psk_identity_hint(ctx, p->psk_hint);
    } else if (p->role == DK_BK_CLIENT && p->psk_identity) {
        if (!p->psk_key || !p->psk_key_len || p->psk_key_len > sizeof c->psk_key)
            return BAD_FUNC_ARG;
        if (!(c->psk_identity = strdup(p->psk_identity)))
            return MEMORY_E;
        memcpy(c->psk_key, p->psk_key, p->psk_key_len);
        c->psk_key_len = p->psk_key_len;
        wolfSSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
        /* wolfSSL 5.5.4's client fails an ECDHE-PSK exchange on X25519 ("Bad
         * ECC Peer Key" from OpenSSL and mbedTLS servers, which prefer it):
         * it offers the NIST curves only. */
        int rc = wolfSSL_CTX_UseSupportedCurve(ctx, WOLFSSL_ECC_SECP256R1);
        if (rc == WOLFSSL_SUCCESS)
            rc = wolfSSL_CTX_UseSupportedCurve(ctx, WOLFSSL_ECC_SECP384R1);
        if (rc != WOLFSSL_SUCCESS)
            return rc;
    }
    return WOLFSSL_SUCCESS;
}

/* Session tickets (RFC 5077), sealed only with the core's keys, as RFC
 * 5077 section 4 recommends:
 *
 *   key_name(16) || IV(16) || length(2) || AES-256-CBC(aes_key, state) ||
 *   HMAC-SHA256(hmac_key, everything before it)(32)
 *
 * wolfSSL lays the ticket out itself (its ExternalTicket carries the
 * length of the encrypted state between the IV and the state) and leaves
 * the name, the IV, the encryption and the MAC to ticket_cb; the MAC covers
 * the length too. The state is wolfSSL's InternalTicket (version, suite,
 * master secret, its own time in seconds...) followed by the time of
 * sealing (wall-clock milliseconds, 8 bytes big-endian) and PKCS#7
 * padding. */
#define TICKET_NAME      WOLFSSL_TICKET_NAME_SZ
#define TICKET_IV        WOLFSSL_TICKET_IV_SZ
#define TICKET_MAC       WOLFSSL_TICKET_MAC_SZ
#define TICKET_FIXED     (TICKET_NAME + TICKET_IV + 2 + TICKET_MAC)
#define TICKET_TIME_SZ   8
#define TICKET_BLOCK     16
#define TICKET_STATE_MAX 512 /* wolfSSL 5.5.4 offers 140 bytes */
/* wolfSSL's limit for a whole ticket (SESSION_TICKET_LEN in internal.h):
 * it fails the handshake on a longer one. */
#define TICKET_WOLF_MAX 256
/* A ticket sealed by a server whose clock runs ahead by more than this is
 * refused. */
#define TICKET_SKEW_MS 60000

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* HMAC-SHA256 over name, IV, the 2-byte length and the encrypted state. */
static int ticket_mac(const dk_bk_ticket_key *k, const uint8_t *name, const uint8_t *iv,
                      const uint8_t *enc, size_t len, uint8_t out[TICKET_MAC])
{
    const uint8_t be_len[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    Hmac h;
    int rc = wc_HmacInit(&h, NULL, INVALID_DEVID);
    if (rc != 0)
        return rc;
    rc = wc_HmacSetKey(&h, WC_SHA256, k->hmac_key, (word32)sizeof k->hmac_key);
    if (rc == 0)
        rc = wc_HmacUpdate(&h, name, TICKET_NAME);
    if (rc == 0)
        rc = wc_HmacUpdate(&h, iv, TICKET_IV);
    if (rc == 0)
        rc = wc_HmacUpdate(&h, be_len, sizeof be_len);
    if (rc == 0)
        rc = wc_HmacUpdate(&h, enc, (word32)len);
    if (rc == 0)
        rc = wc_HmacFinal(&h, out);
    wc_HmacFree(&h);
    dk_wolf_wipe(&h, sizeof h);
    return rc;
}

/* AES-256-CBC of whole blocks, `dir` AES_ENCRYPTION or AES_DECRYPTION. */
static int ticket_cbc(const dk_bk_ticket_key *k, const uint8_t *iv, int dir, const uint8_t *in,
                      uint8_t *out, size_t len)
{
    Aes aes;
    int rc = wc_AesInit(&aes, NULL, INVALID_DEVID);
    if (rc != 0)
        return rc;
    rc = wc_AesSetKey(&aes, k->aes_key, (word32)sizeof k->aes_key, iv, dir);
    if (rc == 0)
        rc = dir == AES_ENCRYPTION ? wc_AesCbcEncrypt(&aes, out, in, (word32)len)
                                   : wc_AesCbcDecrypt(&aes, out, in, (word32)len);
    wc_AesFree(&aes);
    dk_wolf_wipe(&aes, sizeof aes);
    return rc;
}

static bool same_mac(const uint8_t *a, const uint8_t *b)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < TICKET_MAC; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

/* A new ticket under the core's current key: `state` (in_len bytes of
 * wolfSSL's state, room for *out_len) is encrypted in place. */
static int ticket_seal(const dk_bk_ctx *c, uint8_t *name, uint8_t *iv, uint8_t *mac, uint8_t *state,
                       int in_len, int *out_len)
{
    uint8_t buf[TICKET_STATE_MAX];
    size_t plain = (size_t)in_len + TICKET_TIME_SZ;
    size_t padded = (plain / TICKET_BLOCK + 1) * TICKET_BLOCK;
    if (in_len <= 0 || *out_len <= 0 || padded > (size_t)*out_len || padded > sizeof buf)
        return WOLFSSL_TICKET_RET_FATAL;
    dk_bk_ticket_key k;
    if (c->ticket_key(c->ticket_user, NULL, &k) == 0 || dk_wolf_random(iv, TICKET_IV) != DK_OK) {
        dk_wolf_wipe(&k, sizeof k);
        return WOLFSSL_TICKET_RET_FATAL;
    }
    memcpy(buf, state, (size_t)in_len);
    uint64_t now = wall_ms();
    for (int i = 0; i < TICKET_TIME_SZ; i++)
        buf[in_len + i] = (uint8_t)(now >> (56 - 8 * i));
    memset(buf + plain, (int)(padded - plain), padded - plain);
    memcpy(name, k.name, TICKET_NAME);
    int rc = ticket_cbc(&k, iv, AES_ENCRYPTION, buf, state, padded);
    if (rc == 0)
        rc = ticket_mac(&k, name, iv, state, padded, mac);
    dk_wolf_wipe(buf, sizeof buf);
    dk_wolf_wipe(&k, sizeof k);
    if (rc != 0)
        return WOLFSSL_TICKET_RET_FATAL;
    *out_len = (int)padded;
    return WOLFSSL_TICKET_RET_OK;
}

/* Opens `len` bytes of encrypted state: the key the name designates (1
 * current, 2 older), a MAC that verifies (checked before decrypting), a
 * padding, a time of sealing within the lifetime. Returns 1 or 2 with the
 * state in `plain` (*state_len bytes, the time and padding removed), or 0. */
static int ticket_unseal(const dk_bk_ctx *c, const uint8_t *name, const uint8_t *iv,
                         const uint8_t *enc, size_t len, const uint8_t *mac,
                         uint8_t plain[TICKET_STATE_MAX], size_t *state_len)
{
    if (!c->ticket_key || len < 2 * TICKET_BLOCK || len % TICKET_BLOCK || len > TICKET_STATE_MAX)
        return 0;
    uint8_t want[TICKET_MAC];
    dk_bk_ticket_key k;
    int which = c->ticket_key(c->ticket_user, name, &k);
    bool ok = (which == 1 || which == 2) && ticket_mac(&k, name, iv, enc, len, want) == 0 &&
              same_mac(want, mac) && ticket_cbc(&k, iv, AES_DECRYPTION, enc, plain, len) == 0;
    dk_wolf_wipe(&k, sizeof k);
    if (!ok)
        return 0;
    size_t pad = plain[len - 1];
    if (pad < 1 || pad > TICKET_BLOCK || len - pad <= TICKET_TIME_SZ)
        return 0;
    for (size_t i = len - pad; i < len; i++)
        if (plain[i] != pad)
            return 0;
    size_t n = len - pad - TICKET_TIME_SZ;
    uint64_t sealed = 0, now = wall_ms();
    for (int i = 0; i < TICKET_TIME_SZ; i++)
        sealed = sealed << 8 | plain[n + (size_t)i];
    if (sealed > now + TICKET_SKEW_MS ||
        (now > sealed && now - sealed > (uint64_t)c->ticket_lifetime_s * 1000u))
        return 0;
    *state_len = n;
    return which;
}

/* A ticket a client presented: the state decrypted in place, or REJECT (a
 * full handshake, never a failure). dk_wolf_ticket_acceptable() has made
 * wolfSSL see an empty ticket instead of one that is refused here, so
 * that the full handshake issues a new one. */
static int ticket_open(const dk_bk_ctx *c, const uint8_t *name, const uint8_t *iv,
                       const uint8_t *mac, uint8_t *state, int in_len, int *out_len)
{
    uint8_t plain[TICKET_STATE_MAX];
    size_t n = 0;
    int which = in_len > 0 ? ticket_unseal(c, name, iv, state, (size_t)in_len, mac, plain, &n) : 0;
    if (which)
        memcpy(state, plain, n);
    dk_wolf_wipe(plain, sizeof plain);
    if (!which)
        return WOLFSSL_TICKET_RET_REJECT;
    *out_len = (int)n;
    return which == 1 ? WOLFSSL_TICKET_RET_OK : WOLFSSL_TICKET_RET_CREATE;
}

static int ticket_cb(WOLFSSL *ssl, unsigned char key_name[WOLFSSL_TICKET_NAME_SZ],
                     unsigned char iv[WOLFSSL_TICKET_IV_SZ],
                     unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc, unsigned char *ticket,
                     int in_len, int *out_len, void *user)
{
    (void)ssl;
    const dk_bk_ctx *c = user;
    if (!c || !c->ticket_key || !ticket || !out_len)
        return enc ? WOLFSSL_TICKET_RET_FATAL : WOLFSSL_TICKET_RET_REJECT;
    return enc ? ticket_seal(c, key_name, iv, mac, ticket, in_len, out_len)
               : ticket_open(c, key_name, iv, mac, ticket, in_len, out_len);
}

bool dk_wolf_ticket_acceptable(const dk_bk_ctx *c, const uint8_t *t, size_t len)
{
    if (len < TICKET_FIXED || len > TICKET_WOLF_MAX)
        return false;
    size_t enc_len = (size_t)(t[TICKET_NAME + TICKET_IV] << 8 | t[TICKET_NAME + TICKET_IV + 1]);
    if (enc_len != len - TICKET_FIXED)
        return false;
    const uint8_t *enc = t + TICKET_NAME + TICKET_IV + 2;
    uint8_t plain[TICKET_STATE_MAX];
    size_t n = 0;
    int which = ticket_unseal(c, t, t + TICKET_NAME, enc, enc_len, enc + enc_len, plain, &n);
    dk_wolf_wipe(plain, sizeof plain);
    return which != 0;
}

/* Server: tickets sealed by ticket_cb (never wolfSSL's own keys), valid
 * for the lifetime (the hint tells clients; wolfSSL's session timeout and
 * the time in the state enforce it); no session cache. Client: asks for a
 * ticket in each session (session_init). Off: wolfSSL issues none. */
static int use_tickets(dk_bk_ctx *c, WOLFSSL_CTX *ctx, const dk_bk_ctx_params *p)
{
    if (!p->tickets) {
        (void)wolfSSL_CTX_NoTicketTLSv12(ctx);
        return WOLFSSL_SUCCESS;
    }
    c->tickets = true;
    if (p->role != DK_BK_SERVER)
        return WOLFSSL_SUCCESS;
    if (!p->ticket_key || !p->ticket_lifetime_s || p->ticket_lifetime_s > INT32_MAX)
        return BAD_FUNC_ARG;
    c->ticket_key = p->ticket_key;
    c->ticket_user = p->ticket_user;
    c->ticket_lifetime_s = p->ticket_lifetime_s;
    int rc = wolfSSL_CTX_set_TicketEncCb(ctx, ticket_cb);
    if (rc == WOLFSSL_SUCCESS)
        rc = wolfSSL_CTX_set_TicketEncCtx(ctx, c);
    if (rc == WOLFSSL_SUCCESS)
        rc = wolfSSL_CTX_set_TicketHint(ctx, (int)p->ticket_lifetime_s);
    /* Returns the previous timeout in OpenSSL-compatible builds. */
    (void)wolfSSL_CTX_set_timeout(ctx, p->ticket_lifetime_s);
    return rc;
}

static void free_ctx(dk_bk_ctx *c)
{
    wolfSSL_CTX_free(c->ctx);
    dk_wolf_anchors_free(c);
    free(c->psk_identity);
    dk_wolf_wipe(c->psk_key, sizeof c->psk_key);
    free(c);
}

static dk_err ctx_create(const dk_bk_ctx_params *p, dk_bk_ctx **out, char *reason, size_t cap)
{
    bool has_own = p->key && p->chain_len;
    if (p->role == DK_BK_SERVER && !has_own && !p->psk_server) {
        snprintf(reason, cap, "a server needs a key and a certificate, or pre-shared keys");
        return DK_ERR_TLS;
    }
    if (!p->suites || !p->suites_len) {
        snprintf(reason, cap, "no cipher suite");
        return DK_ERR_TLS;
    }
    char *list = suite_list(p, reason, cap); /* checked here for the reason */
    if (!list)
        return DK_ERR_TLS;
    free(list);
    dk_bk_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return DK_ERR_NOMEM;
    WOLFSSL_METHOD *m =
        p->role == DK_BK_SERVER ? wolfDTLSv1_2_server_method() : wolfDTLSv1_2_client_method();
    WOLFSSL_CTX *ctx = c->ctx = m ? wolfSSL_CTX_new(m) : NULL; /* takes `m` */
    if (!ctx) {
        free(c);
        return DK_ERR_NOMEM;
    }
    /* No session cache: it would only hold memory (and it is shared by
     * the whole process); resumption is by tickets only, when enabled. */
    wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
    const char *what = "session ticket settings refused";
    int rc = use_tickets(c, ctx, p);
    if (rc == WOLFSSL_SUCCESS) {
        what = "own key or certificate refused";
        rc = use_own(ctx, p);
    }
    if (rc == WOLFSSL_SUCCESS) {
        what = "trusted certificates refused";
        rc = use_trust(c, ctx, p);
    }
    if (rc == WOLFSSL_SUCCESS) {
        what = "pre-shared key settings refused";
        rc = use_psk(c, ctx, p);
    }
    if (rc == WOLFSSL_SUCCESS) {
        what = "cipher suites refused";
        rc = use_suites(ctx, p);
    }
    if (rc != WOLFSSL_SUCCESS) {
        char lib[120];
        dk_wolf_reason(lib, sizeof lib, rc, "error");
        snprintf(reason, cap, "%s (%s)", what, lib);
        free_ctx(c);
        return rc == MEMORY_E ? DK_ERR_NOMEM : DK_ERR_TLS;
    }
    int mode = WOLFSSL_VERIFY_NONE;
    if (p->verify_peer) {
        mode = WOLFSSL_VERIFY_PEER;
        if (p->role == DK_BK_SERVER && p->require_peer_cert)
            mode |= WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        /* A PSK client authenticates with its key: no certificate is
         * required of it (as with OpenSSL and mbedTLS). */
        if (p->role == DK_BK_SERVER && p->require_peer_cert && p->psk_server)
            mode = WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_EXCEPT_PSK;
    }
    /* client_unsafe gets no callback: wolfSSL calls one even in
     * VERIFY_NONE mode, and its answer would count. */
    wolfSSL_CTX_set_verify(ctx, mode, p->verify_peer ? dk_wolf_verify_cb : NULL);
    wolfSSL_CTX_SetIORecv(ctx, dk_wolf_io_recv);
    wolfSSL_CTX_SetIOSend(ctx, dk_wolf_io_send);
    *out = c;
    return DK_OK;
}

static void ctx_free(dk_bk_ctx *c)
{
    if (c)
        free_ctx(c);
}

const dk_bk_ctx_ops dk_wolf_ctx_ops = {
    .size = sizeof(dk_bk_ctx_ops),
    .create = ctx_create,
    .free = ctx_free,
};
