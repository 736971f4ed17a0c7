/* wolfSSL backend: certificate verification. wolfSSL checks the chain;
 * the callback records why a check failed (wolfSSL's own error, once the
 * handshake is aborted, may only say "verify problem") and matches the
 * leaf against the host name, or an IP literal against its iPAddress
 * names, which wolfSSL_check_domain_name() does not look at. */
#include "wolfssl_session.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "wolfssl_der.h"

static dk_bk_session *session_of(WOLFSSL_X509_STORE_CTX *store)
{
    if (store->userCtx)
        return store->userCtx;
    WOLFSSL *ssl =
        wolfSSL_X509_STORE_CTX_get_ex_data(store, wolfSSL_get_ex_data_X509_STORE_CTX_idx());
    return ssl ? wolfSSL_GetIOReadCtx(ssl) : NULL;
}

/* The certificate being checked was signed by a trust anchor, or by the
 * next certificate the peer presented: not by an intermediate wolfSSL
 * remembered from an earlier handshake (see wolfssl_anchors.c). */
static bool issuer_allowed(const dk_bk_session *s, WOLFSSL_X509_STORE_CTX *store)
{
    char issuer[DK_WOLF_NAME_MAX], subject[DK_WOLF_NAME_MAX];
    WOLFSSL_X509 *cur = store->current_cert;
    if (!cur ||
        !wolfSSL_X509_NAME_oneline(wolfSSL_X509_get_issuer_name(cur), issuer, sizeof issuer))
        return false;
    if (dk_wolf_anchors_has(s->ctx, issuer))
        return true;
    int up = store->error_depth + 1;
    if (up >= store->totalCerts || !store->certs)
        return false;
    WOLFSSL_X509 *next =
        wolfSSL_X509_d2i(NULL, store->certs[up].buffer, (int)store->certs[up].length);
    bool ok =
        next &&
        wolfSSL_X509_NAME_oneline(wolfSSL_X509_get_subject_name(next), subject, sizeof subject) &&
        strcmp(subject, issuer) == 0;
    wolfSSL_X509_free(next);
    return ok;
}

/* Appends to `buf` (capacity `cap`, used `*len`), truncating. */
static void put(char *buf, size_t cap, size_t *len, const void *text, size_t n)
{
    if (*len + 1 >= cap)
        return;
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, text, n);
    *len += n;
    buf[*len] = '\0';
}

static void put_name(char *buf, size_t cap, size_t *len, const char **sep, const char *kind,
                     const void *value, size_t n)
{
    put(buf, cap, len, *sep, strlen(*sep));
    put(buf, cap, len, kind, strlen(kind));
    put(buf, cap, len, value, n);
    *sep = ", ";
}

/* "certificate is for CN=a, DNS:b, IP:c, not 'name'": the reason every
 * backend gives for a host name mismatch. */
static char *mismatch_text(const dk_bk_session *s, WOLFSSL_X509 *leaf)
{
    size_t cap = 512, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[0] = '\0';
    const char *sep = "certificate is for ";
    WOLFSSL_X509_NAME *subject = leaf ? wolfSSL_X509_get_subject_name(leaf) : NULL;
    for (int i = -1;
         subject && (i = wolfSSL_X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
        WOLFSSL_ASN1_STRING *cn =
            wolfSSL_X509_NAME_ENTRY_get_data(wolfSSL_X509_NAME_get_entry(subject, i));
        int n = cn ? wolfSSL_ASN1_STRING_length(cn) : -1;
        if (n >= 0)
            put_name(buf, cap, &len, &sep, "CN=", wolfSSL_ASN1_STRING_data(cn), (size_t)n);
    }
    int der_len = 0;
    const unsigned char *der = leaf ? wolfSSL_X509_get_der(leaf, &der_len) : NULL;
    dk_der names, name;
    uint8_t tag;
    if (der && der_len > 0 && dk_der_cert_san(der, (size_t)der_len, &names)) {
        while (dk_der_next(&names, &tag, &name)) {
            char text[INET6_ADDRSTRLEN];
            int af = name.n == 4 ? AF_INET : name.n == 16 ? AF_INET6 : 0;
            if (tag == 0x82) /* dNSName */
                put_name(buf, cap, &len, &sep, "DNS:", name.p, name.n);
            else if (tag == 0x87 && af && inet_ntop(af, name.p, text, sizeof text))
                put_name(buf, cap, &len, &sep, "IP:", text, strlen(text));
        }
    }
    if (!len)
        put(buf, cap, &len, "certificate names no host", 25);
    char want[INET6_ADDRSTRLEN];
    const char *name_text =
        s->host ? s->host
        : inet_ntop(s->ip_len == 4 ? AF_INET : AF_INET6, s->ip, want, sizeof want) ? want
                                                                                   : "";
    put(buf, cap, &len, ", not '", 7);
    put(buf, cap, &len, name_text, strlen(name_text));
    put(buf, cap, &len, "'", 1);
    return buf;
}

int dk_wolf_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
    dk_bk_session *s = session_of(store);
    if (!s)
        return preverify;
    if (preverify && !issuer_allowed(s, store)) {
        preverify = 0;
        store->error = ASN_NO_SIGNER_E;
    }
    if (!preverify) {
        if (!s->verify_err)
            s->verify_err = store->error ? store->error : VERIFY_CERT_ERROR;
        return 0;
    }
    /* A valid chain: its leaf (depth 0) must carry the host name or IP
     * literal. Checked here rather than with wolfSSL_check_domain_name(),
     * which wolfSSL reports in place of a chain error (an untrusted
     * certificate for another name would read "hostname mismatch"). */
    if ((s->host || s->ip_len) && store->error_depth == 0) {
        WOLFSSL_X509 *leaf = store->current_cert;
        int len = 0;
        const unsigned char *der = leaf ? wolfSSL_X509_get_der(leaf, &len) : NULL;
        bool ok = s->ip_len
                      ? der && len > 0 && dk_der_cert_has_ip(der, (size_t)len, s->ip, s->ip_len)
                      : leaf && wolfSSL_X509_check_host(leaf, s->host, strlen(s->host), 0, NULL) ==
                                    WOLFSSL_SUCCESS;
        if (!ok) {
            if (!s->verify_err) {
                s->verify_err = s->ip_len ? IPADDR_MISMATCH : DOMAIN_NAME_MISMATCH;
                if (!s->mismatch) /* said now, while the certificate is at hand */
                    s->mismatch = mismatch_text(s, leaf);
            }
            return 0;
        }
        s->leaf_checked = true;
    }
    return 1;
}

bool dk_wolf_is_verify_error(int code)
{
    switch (code) {
    case ASN_AFTER_DATE_E:
    case ASN_BEFORE_DATE_E:
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
    case ASN_SIG_CONFIRM_E:
    case ASN_SIG_OID_E:
    case ASN_PATHLEN_INV_E:
    case ASN_PATHLEN_SIZE_E:
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
    case VERIFY_CERT_ERROR:
    case NO_PEER_CERT: return true;
    default: return false;
    }
}

dk_err dk_wolf_verify_failure(int code, char *reason, size_t cap)
{
    const char *why;
    dk_err e = DK_ERR_CERT_VERIFY;
    switch (code) {
    case ASN_AFTER_DATE_E:
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD: why = "certificate has expired"; break;
    case ASN_BEFORE_DATE_E:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD: why = "certificate is not yet valid"; break;
    case ASN_SELF_SIGNED_E:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        why = "self-signed certificate that no trusted CA vouches for";
        break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        why = "self-signed certificate in the chain that is not trusted";
        break;
    case ASN_NO_SIGNER_E:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        why = "unable to get local issuer certificate: no trusted CA signed the chain";
        break;
    case ASN_SIG_CONFIRM_E:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: why = "certificate signature failure"; break;
    case NO_PEER_CERT: why = "the peer sent no certificate"; break;
    case DOMAIN_NAME_MISMATCH:
        why = "the certificate is not for this host name";
        e = DK_ERR_HOSTNAME;
        break;
    case IPADDR_MISMATCH:
        why = "the certificate is not for this IP address";
        e = DK_ERR_HOSTNAME;
        break;
    default: dk_wolf_reason(reason, cap, code, "certificate verification failed"); return e;
    }
    snprintf(reason, cap, "%s", why);
    return e;
}
