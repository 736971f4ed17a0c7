/* GnuTLS backend: the configuration shared by the sessions of one context:
 * a priority cache for DTLS 1.2 and the core's suites, certificate and
 * PSK credentials. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnutls_session.h"

/* Room for the priority string: a few fixed words and at most one key
 * exchange and one cipher name per suite. */
#define PRIO_CAP 2048

static void wipe(void *p, size_t n)
{
    gnutls_memset(p, 0, n);
}

/* ------------------------------------------------------------- suites */

/* GnuTLS's algorithms for suite `iana` (its DTLS 1.2 suites only). */
static bool suite_algos(uint16_t iana, gnutls_kx_algorithm_t *kx, gnutls_cipher_algorithm_t *cipher,
                        gnutls_mac_algorithm_t *mac)
{
    unsigned char id[2];
    gnutls_protocol_t min;
    for (size_t i = 0; gnutls_cipher_suite_info(i, id, kx, cipher, mac, &min); i++)
        if ((uint16_t)(id[0] << 8 | id[1]) == iana)
            return *kx != GNUTLS_KX_UNKNOWN;
    return false;
}

uint16_t dk_gnu_suite_id(gnutls_kx_algorithm_t kx, gnutls_cipher_algorithm_t cipher,
                         gnutls_mac_algorithm_t mac)
{
    unsigned char id[2];
    gnutls_kx_algorithm_t k;
    gnutls_cipher_algorithm_t c;
    gnutls_mac_algorithm_t m;
    gnutls_protocol_t min;
    for (size_t i = 0; gnutls_cipher_suite_info(i, id, &k, &c, &m, &min); i++)
        if (k == kx && c == cipher && m == mac)
            return (uint16_t)(id[0] << 8 | id[1]);
    return 0;
}

bool dk_gnu_suite_allowed(const dk_bk_ctx *ctx, uint16_t id)
{
    for (size_t i = 0; i < ctx->suites_len; i++)
        if (ctx->suites[i] == id)
            return true;
    return false;
}

static bool append(char *buf, size_t *len, const char *word)
{
    size_t n = strlen(word);
    if (*len + n + 2 >= PRIO_CAP)
        return false;
    buf[(*len)++] = ':';
    memcpy(buf + *len, word, n);
    *len += n;
    buf[*len] = '\0';
    return true;
}

/* Appends "+NAME" unless an earlier suite added it (the first use sets
 * the preference). */
static bool append_once(char *buf, size_t *len, const char **seen, size_t *nseen, const char *name)
{
    for (size_t i = 0; i < *nseen; i++)
        if (strcmp(seen[i], name) == 0)
            return true;
    seen[(*nseen)++] = name;
    char word[64];
    snprintf(word, sizeof word, "+%s", name);
    return append(buf, len, word);
}

/* The priority string: DTLS 1.2 only, the key exchanges and ciphers of
 * the core's suites in the order they first appear (GnuTLS orders its
 * suites by key exchange, then cipher), AEAD, the ECDHE groups and every
 * signature algorithm. GnuTLS has no way to name single suites: a list
 * that is not a full product of its key exchanges and ciphers gains
 * combinations (PSK-AES256-GCM next to PSK and AES-256-GCM suites), which
 * the sessions refuse once negotiated (session.c, hello hook). */
static dk_err build_priority(dk_bk_ctx *c, const dk_bk_ctx_params *p, char *reason, size_t cap)
{
    char prio[PRIO_CAP] = "NONE:+VERS-DTLS1.2";
    size_t len = strlen(prio);
    const char *kxs[DK_GNU_SUITES_MAX], *ciphers[DK_GNU_SUITES_MAX];
    size_t nkx = 0, ncipher = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < c->suites_len; i++) {
        gnutls_kx_algorithm_t kx;
        gnutls_cipher_algorithm_t cipher;
        gnutls_mac_algorithm_t mac;
        if (!suite_algos(c->suites[i], &kx, &cipher, &mac) || mac != GNUTLS_MAC_AEAD ||
            !gnutls_kx_get_name(kx) || !gnutls_cipher_get_name(cipher)) {
            snprintf(reason, cap, "cipher suite 0x%04X is not available in this GnuTLS",
                     (unsigned)c->suites[i]);
            return DK_ERR_TLS;
        }
        ok = append_once(prio, &len, kxs, &nkx, gnutls_kx_get_name(kx)) &&
             append_once(prio, &len, ciphers, &ncipher, gnutls_cipher_get_name(cipher));
    }
    ok = ok && append(prio, &len, "+AEAD") && append(prio, &len, "+SIGN-ALL") &&
         append(prio, &len, "+GROUP-X25519") && append(prio, &len, "+GROUP-SECP256R1") &&
         append(prio, &len, "+GROUP-SECP384R1") && append(prio, &len, "+GROUP-SECP521R1") &&
         append(prio, &len, "+CTYPE-X509") && append(prio, &len, "+COMP-NULL");
    /* A server picks by its own order, whatever the client's. */
    if (ok && p->role == DK_BK_SERVER)
        ok = append(prio, &len, "%SERVER_PRECEDENCE");
    if (!ok) {
        snprintf(reason, cap, "priority string too long");
        return DK_ERR_TLS;
    }
    const char *err_pos = NULL;
    int rc = gnutls_priority_init(&c->prio, prio, &err_pos);
    if (rc < 0) {
        snprintf(reason, cap, "priority string refused at \"%s\": %s", err_pos ? err_pos : "",
                 gnutls_strerror(rc));
        c->prio = NULL;
        return DK_ERR_TLS;
    }
    /* Every suite asked for must be in GnuTLS's list. */
    for (size_t i = 0; i < c->suites_len; i++) {
        bool found = false;
        unsigned sidx;
        for (unsigned k = 0; !found && gnutls_priority_get_cipher_suite_index(c->prio, k, &sidx) !=
                                           GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
             k++) {
            unsigned char id[2];
            gnutls_kx_algorithm_t kx;
            gnutls_cipher_algorithm_t cipher;
            gnutls_mac_algorithm_t mac;
            gnutls_protocol_t min;
            if (gnutls_cipher_suite_info(sidx, id, &kx, &cipher, &mac, &min))
                found = (uint16_t)(id[0] << 8 | id[1]) == c->suites[i];
        }
        if (!found) {
            snprintf(reason, cap, "GnuTLS did not enable cipher suite 0x%04X",
                     (unsigned)c->suites[i]);
            return DK_ERR_TLS;
        }
    }
    return DK_OK;
}

/* ---------------------------------------------------------------- PSK */

/* Server: the key for the identity the client sent, from the core. -1
 * (not GnuTLS's 1, which continues with a random key until the Finished)
 * ends the handshake at once; the session sends unknown_psk_identity. */
static int psk_server_cb(gnutls_session_t g, const gnutls_datum_t *username, gnutls_datum_t *key)
{
    dk_bk_session *s = gnutls_session_get_ptr(g);
    if (!s || !s->io.psk_key || !username)
        return -1;
    uint8_t k[DK_GNU_PSK_MAX];
    size_t n = s->io.psk_key(s->io.user, username->data, username->size, k, sizeof k);
    if (n == 0 || n > sizeof k) {
        wipe(k, sizeof k);
        s->psk_refused = true;
        return -1;
    }
    /* GnuTLS wipes the key it is given when it frees it. */
    key->data = gnutls_malloc(n);
    if (!key->data) {
        wipe(k, sizeof k);
        return -1;
    }
    memcpy(key->data, k, n);
    key->size = (unsigned)n;
    wipe(k, sizeof k);
    return 0;
}

/* Client: the context's identity and key, fresh copies for GnuTLS (it
 * frees them, the key wiped, after the key exchange). */
static int psk_client_cb(gnutls_session_t g, gnutls_datum_t *username, gnutls_datum_t *key)
{
    dk_bk_session *s = gnutls_session_get_ptr(g);
    const dk_bk_ctx *c = s ? s->ctx : NULL;
    if (!c || !c->psk_identity)
        return -1;
    size_t n = strlen(c->psk_identity);
    username->data = gnutls_malloc(n + 1);
    key->data = gnutls_malloc(c->psk_key_len);
    if (!username->data || !key->data) {
        gnutls_free(username->data);
        gnutls_free(key->data);
        username->data = key->data = NULL;
        return -1;
    }
    memcpy(username->data, c->psk_identity, n + 1);
    username->size = (unsigned)n;
    memcpy(key->data, c->psk_key, c->psk_key_len);
    key->size = (unsigned)c->psk_key_len;
    return 0;
}

static dk_err use_psk(dk_bk_ctx *c, const dk_bk_ctx_params *p, char *reason, size_t cap)
{
    if (p->role == DK_BK_SERVER) {
        if (!p->psk_server)
            return DK_OK;
        int rc = gnutls_psk_allocate_server_credentials(&c->psk_server);
        if (rc < 0) {
            dk_gnu_reason(reason, cap, "PSK credentials", rc);
            return DK_ERR_NOMEM;
        }
        gnutls_psk_set_server_credentials_function2(c->psk_server, psk_server_cb);
        if (p->psk_hint && *p->psk_hint &&
            (rc = gnutls_psk_set_server_credentials_hint(c->psk_server, p->psk_hint)) < 0) {
            dk_gnu_reason(reason, cap, "PSK identity hint refused", rc);
            return DK_ERR_TLS;
        }
        return DK_OK;
    }
    if (!p->psk_identity)
        return DK_OK;
    size_t n = strlen(p->psk_identity);
    if (n == 0 || n > 128 || !p->psk_key || p->psk_key_len == 0 ||
        p->psk_key_len > sizeof c->psk_key) {
        snprintf(reason, cap, "PSK identity of %zu bytes or key of %zu bytes refused", n,
                 p->psk_key_len);
        return DK_ERR_TLS;
    }
    if (!(c->psk_identity = strdup(p->psk_identity))) {
        snprintf(reason, cap, "out of memory");
        return DK_ERR_NOMEM;
    }
    memcpy(c->psk_key, p->psk_key, p->psk_key_len);
    c->psk_key_len = p->psk_key_len;
    int rc = gnutls_psk_allocate_client_credentials(&c->psk_client);
    if (rc < 0) {
        dk_gnu_reason(reason, cap, "PSK credentials", rc);
        return DK_ERR_NOMEM;
    }
    gnutls_psk_set_client_credentials_function2(c->psk_client, psk_client_cb);
    return DK_OK;
}

/* -------------------------------------------------------- certificates */

/* GnuTLS copies the certificates and the key it is given. */
static dk_err use_certs(dk_bk_ctx *c, const dk_bk_ctx_params *p, char *reason, size_t cap)
{
    int rc = gnutls_certificate_allocate_credentials(&c->cert);
    if (rc < 0) {
        c->cert = NULL;
        dk_gnu_reason(reason, cap, "certificate credentials", rc);
        return DK_ERR_NOMEM;
    }
    size_t n = p->chain_len > p->trusted_len ? p->chain_len : p->trusted_len;
    gnutls_x509_crt_t *crts = calloc(n ? n : 1, sizeof *crts);
    if (!crts) {
        snprintf(reason, cap, "out of memory");
        return DK_ERR_NOMEM;
    }
    dk_err e = DK_OK;
    if (p->key && p->chain_len) {
        for (size_t i = 0; i < p->chain_len; i++)
            crts[i] = p->chain[i]->crt;
        if (!p->key->x509) {
            snprintf(reason, cap, "the key has no private part");
            e = DK_ERR_TLS;
        } else if ((rc = gnutls_certificate_set_x509_key(c->cert, crts, (unsigned)p->chain_len,
                                                         p->key->x509)) < 0) {
            dk_gnu_reason(reason, cap, "certificate or key refused", rc);
            e = DK_ERR_TLS;
        }
    }
    if (e == DK_OK && p->trusted_len) {
        for (size_t i = 0; i < p->trusted_len; i++)
            crts[i] = p->trusted[i]->crt;
        if ((rc = gnutls_certificate_set_x509_trust(c->cert, crts, (unsigned)p->trusted_len)) < 0) {
            dk_gnu_reason(reason, cap, "trust anchors refused", rc);
            e = DK_ERR_TLS;
        }
    } else if (e == DK_OK && p->use_system_ca && p->system_ca_file) {
        /* No bundle at all is no error: every verification then fails. */
        (void)gnutls_certificate_set_x509_trust_file(c->cert, p->system_ca_file,
                                                     GNUTLS_X509_FMT_PEM);
    }
    free(crts);
    return e;
}

/* A suite authenticated by a certificate (not a pre-shared key). */
static bool cert_suite(uint16_t id)
{
    gnutls_kx_algorithm_t kx;
    gnutls_cipher_algorithm_t cipher;
    gnutls_mac_algorithm_t mac;
    return suite_algos(id, &kx, &cipher, &mac) && kx != GNUTLS_KX_PSK &&
           kx != GNUTLS_KX_ECDHE_PSK && kx != GNUTLS_KX_DHE_PSK && kx != GNUTLS_KX_RSA_PSK;
}

static void ctx_free(dk_bk_ctx *c)
{
    if (!c)
        return;
    if (c->prio)
        gnutls_priority_deinit(c->prio);
    if (c->cert)
        gnutls_certificate_free_credentials(c->cert);
    if (c->psk_server)
        gnutls_psk_free_server_credentials(c->psk_server);
    if (c->psk_client)
        gnutls_psk_free_client_credentials(c->psk_client);
    if (c->psk_identity) {
        wipe(c->psk_identity, strlen(c->psk_identity));
        free(c->psk_identity);
    }
    wipe(c->psk_key, sizeof c->psk_key);
    free(c);
}

static dk_err ctx_create(const dk_bk_ctx_params *p, dk_bk_ctx **out, char *reason, size_t cap)
{
    *out = NULL;
    if (!p->suites_len || p->suites_len > DK_GNU_SUITES_MAX) {
        snprintf(reason, cap, "%zu cipher suites", p->suites_len);
        return DK_ERR_TLS;
    }
    dk_bk_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(reason, cap, "out of memory");
        return DK_ERR_NOMEM;
    }
    c->role = p->role;
    c->verify_peer = p->verify_peer;
    c->require_peer_cert = p->require_peer_cert;
    c->tickets = p->tickets;
    memcpy(c->suites, p->suites, p->suites_len * sizeof *p->suites);
    c->suites_len = p->suites_len;
    bool certs = p->key && p->chain_len;
    for (size_t i = 0; !certs && i < p->suites_len; i++)
        certs = cert_suite(p->suites[i]);
    dk_err e = build_priority(c, p, reason, cap);
    if (e == DK_OK && certs)
        e = use_certs(c, p, reason, cap);
    if (e == DK_OK)
        e = use_psk(c, p, reason, cap);
    if (e != DK_OK) {
        ctx_free(c);
        return e;
    }
    *out = c;
    return DK_OK;
}

const dk_bk_ctx_ops dk_gnu_ctx_ops = {
    .size = sizeof(dk_bk_ctx_ops),
    .create = ctx_create,
    .free = ctx_free,
};
