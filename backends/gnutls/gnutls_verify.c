/* GnuTLS backend: verification of the peer's certificate and the words for
 * its failures. The session's own verify function (not GnuTLS's automatic
 * one, which fails a server whose client may omit its certificate) keeps
 * the status for the reason. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "gnutls_session.h"

int dk_gnu_verify_cb(gnutls_session_t g)
{
    dk_bk_session *s = gnutls_session_get_ptr(g);
    if (!s)
        return -1;
    unsigned n = 0;
    const gnutls_datum_t *peers = gnutls_certificate_get_peers(g, &n);
    if (!peers || n == 0) {
        if (s->server && !s->ctx->require_peer_cert)
            return 0; /* asked for, optional, not sent */
        s->no_peer_cert = true;
        return -1;
    }
    unsigned status = 0;
    int rc = s->vdata_len ? gnutls_certificate_verify_peers(g, s->vdata, s->vdata_len, &status)
                          : gnutls_certificate_verify_peers2(g, &status);
    s->verify_ran = true;
    if (rc < 0) {
        s->verify_err = rc;
        return -1;
    }
    s->verify_status = status;
    return status ? -1 : 0;
}

/* Appends to `buf` (capacity `cap`, used `*len`), truncating. */
static void put(char *buf, size_t cap, size_t *len, const char *text, size_t n)
{
    if (*len + 1 >= cap)
        return;
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, text, n);
    *len += n;
    buf[*len] = '\0';
}

/* "certificate is for CN=a, DNS:b, IP:c, not 'name'": the sentence every
 * backend writes for a name mismatch. */
static void mismatch_reason(dk_bk_session *s, char *reason, size_t cap)
{
    char want[64] = "";
    if (s->host)
        snprintf(want, sizeof want, "%s", s->host);
    else if (s->vdata_len && s->vdata[0].type == GNUTLS_DT_IP_ADDRESS)
        inet_ntop(s->vdata[0].size == 4 ? AF_INET : AF_INET6, s->ip, want, sizeof want);
    size_t len = 0;
    reason[0] = '\0';
    unsigned n = 0;
    const gnutls_datum_t *peers = gnutls_certificate_get_peers(s->g, &n);
    gnutls_x509_crt_t leaf = NULL;
    if (peers && n && gnutls_x509_crt_init(&leaf) >= 0 &&
        gnutls_x509_crt_import(leaf, &peers[0], GNUTLS_X509_FMT_DER) < 0) {
        gnutls_x509_crt_deinit(leaf);
        leaf = NULL;
    }
    const char *sep = "certificate is for ";
    char buf[256];
    for (unsigned i = 0; leaf; i++) {
        size_t sz = sizeof buf - 1;
        if (gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME, i, 0, buf, &sz) < 0)
            break;
        put(reason, cap, &len, sep, strlen(sep));
        put(reason, cap, &len, "CN=", 3);
        put(reason, cap, &len, buf, strnlen(buf, sz));
        sep = ", ";
    }
    for (unsigned i = 0; leaf; i++) {
        size_t sz = sizeof buf;
        unsigned critical = 0;
        int type = gnutls_x509_crt_get_subject_alt_name(leaf, i, buf, &sz, &critical);
        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
            continue;
        if (type < 0)
            break;
        char text[INET6_ADDRSTRLEN];
        const char *kind = NULL, *value = NULL;
        size_t vlen = 0;
        if (type == GNUTLS_SAN_DNSNAME) {
            kind = "DNS:";
            value = buf;
            vlen = strnlen(buf, sz);
        } else if (type == GNUTLS_SAN_IPADDRESS && (sz == 4 || sz == 16) &&
                   inet_ntop(sz == 4 ? AF_INET : AF_INET6, buf, text, sizeof text)) {
            kind = "IP:";
            value = text;
            vlen = strlen(text);
        }
        if (!kind)
            continue;
        put(reason, cap, &len, sep, strlen(sep));
        put(reason, cap, &len, kind, strlen(kind));
        put(reason, cap, &len, value, vlen);
        sep = ", ";
    }
    if (leaf)
        gnutls_x509_crt_deinit(leaf);
    if (!len)
        put(reason, cap, &len, "certificate names no host", 25);
    put(reason, cap, &len, ", not '", 7);
    put(reason, cap, &len, want, strlen(want));
    put(reason, cap, &len, "'", 1);
}

/* GnuTLS's sentence for a verify status ("The certificate is NOT trusted.
 * The certificate chain uses expired certificate."). */
static void status_reason(unsigned status, char *reason, size_t cap)
{
    gnutls_datum_t out = {NULL, 0};
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) < 0 ||
        !out.data) {
        snprintf(reason, cap, "certificate verification failed (status 0x%x)", status);
        return;
    }
    size_t n = out.size;
    while (n && (out.data[n - 1] == ' ' || out.data[n - 1] == '\0'))
        n--;
    snprintf(reason, cap, "%.*s", (int)n, (const char *)out.data);
    gnutls_free(out.data);
}

dk_err dk_gnu_verify_failure(dk_bk_session *s, int err, char *reason, size_t cap)
{
    if (s->no_peer_cert || err == GNUTLS_E_NO_CERTIFICATE_FOUND ||
        err == GNUTLS_E_CERTIFICATE_REQUIRED) {
        snprintf(reason, cap, "the peer sent no certificate");
        return DK_ERR_CERT_VERIFY;
    }
    if (s->verify_err) {
        dk_gnu_reason(reason, cap, "certificate verification failed", s->verify_err);
        return DK_ERR_CERT_VERIFY;
    }
    if (s->verify_ran && s->verify_status) {
        unsigned name_only = GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER;
        if ((s->verify_status & GNUTLS_CERT_UNEXPECTED_OWNER) &&
            (s->verify_status & ~name_only) == 0) {
            mismatch_reason(s, reason, cap);
            return DK_ERR_HOSTNAME;
        }
        status_reason(s->verify_status, reason, cap);
        return DK_ERR_CERT_VERIFY;
    }
    if (err == GNUTLS_E_CERTIFICATE_ERROR || err == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
        dk_gnu_reason(reason, cap, "certificate refused", err);
        return DK_ERR_CERT_VERIFY;
    }
    return DK_OK;
}

dk_err dk_gnu_peer_ders(dk_bk_session *s, dk_bk_der_sink sink, void *user)
{
    unsigned n = 0;
    const gnutls_datum_t *peers = gnutls_certificate_get_peers(s->g, &n);
    for (unsigned i = 0; peers && i < n; i++) {
        dk_err e = sink(user, peers[i].data, peers[i].size);
        if (e != DK_OK)
            return e;
    }
    return DK_OK;
}
