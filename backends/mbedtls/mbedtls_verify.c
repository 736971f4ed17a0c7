/* mbedTLS backend: certificate verification during a handshake, and what a
 * failed handshake becomes (mirroring the OpenSSL backend's mapping). */
#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls_backend.h"
#include "mbedtls_session.h"

/* The usage checks mbedTLS makes on a client certificate only after the
 * verify callback, too late to stop an OPTIONAL handshake. */
static uint32_t client_usage(const mbedtls_x509_crt *crt)
{
    uint32_t flags = 0;
    if (mbedtls_x509_crt_check_key_usage(crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0)
        flags |= MBEDTLS_X509_BADCERT_KEY_USAGE;
    if (mbedtls_x509_crt_check_extended_key_usage(crt, MBEDTLS_OID_CLIENT_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0)
        flags |= MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
    return flags;
}

/* Called for each certificate of the built chain, root first, leaf (depth
 * 0) last, with the flags mbedTLS found for it. */
int dk_mbed_verify_cb(void *session, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    dk_bk_session *s = session;
    if (depth == 0 && s->own_name_check) {
        /* mbedTLS checked the SNI name (or none): the name that counts is
         * verify_name. A mismatch reads as mbedTLS's own. */
        *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
        if (!dk_mbed_cert_matches_name(crt, s->verify_name))
            *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
    if (depth == 0 && (*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) && !s->mismatch) {
        /* Said now, while the certificate is at hand (mbedTLS keeps no peer
         * certificate after a failed handshake). */
        const char *want = s->verify_name ? s->verify_name : "";
        size_t cap = 512;
        if ((s->mismatch = malloc(cap)))
            dk_mbed_mismatch_text(crt, want, s->mismatch, cap);
    }
    if (depth == 0 && s->strict_optional)
        *flags |= client_usage(crt);
    s->vflags |= *flags;
    /* OPTIONAL would carry on with a bad certificate; an error from here is
     * fatal whatever the authmode. */
    if (depth == 0 && s->strict_optional && s->vflags)
        return MBEDTLS_ERR_X509_FATAL_ERROR;
    return 0;
}

/* The flags of a failed verification, or 0 when `ret` is no such failure.
 * A fatal error from the callback leaves mbedTLS's result at all-ones: the
 * callback's own record tells what was wrong. */
static uint32_t verify_failure(const dk_bk_session *s, int ret)
{
    uint32_t flags = mbedtls_ssl_get_verify_result(&s->ssl);
    if (flags == UINT32_MAX)
        flags = s->vflags;
    switch (ret) {
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
    case MBEDTLS_ERR_X509_FATAL_ERROR:
    case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE: return flags & ~(uint32_t)MBEDTLS_X509_BADCERT_MISSING;
    default: return 0;
    }
}

static dk_err classify(dk_bk_session *s, int ret, char *reason, size_t cap)
{
    switch (ret) {
    case MBEDTLS_ERR_SSL_TIMEOUT:
        snprintf(reason, cap, "too many retransmissions");
        return DK_ERR_TIMEOUT;
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY: return DK_ERR_CLOSED;
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: {
        /* mbedTLS has no accessor for it; 2.28 leaves the alert record in
         * in_msg (level, description). */
        int desc = s->ssl.in_msg ? s->ssl.in_msg[1] : -1;
        /* A Finished under another pre-shared key: an mbedTLS server
         * answers bad_record_mac, others may say decrypt_error. */
        bool psk_mismatch = (desc == MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC ||
                             desc == MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR) &&
                            dk_mbed_psk_negotiated(s);
        snprintf(reason, cap, "peer sent alert: %s%s", dk_mbed_alert_name(desc),
                 psk_mismatch ? " (a different pre-shared key?)" : "");
        return DK_ERR_HANDSHAKE;
    }
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
        snprintf(reason, cap, "the peer sent no certificate");
        return DK_ERR_CERT_VERIFY;
    case MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED:
        snprintf(reason, cap, "no trusted CA certificate to verify the peer");
        return DK_ERR_CERT_VERIFY;
    default: break;
    }
    uint32_t flags = verify_failure(s, ret);
    if (flags == MBEDTLS_X509_BADCERT_CN_MISMATCH) {
        if (s->mismatch)
            snprintf(reason, cap, "%s", s->mismatch);
        else
            snprintf(reason, cap, "the certificate is not valid for '%s'",
                     s->verify_name ? s->verify_name : "");
        return DK_ERR_HOSTNAME;
    }
    if (flags) {
        dk_mbed_verify_text(flags, reason, cap);
        return DK_ERR_CERT_VERIFY;
    }
    dk_mbed_reason(ret, NULL, reason, cap);
    return DK_ERR_HANDSHAKE;
}

dk_err dk_mbed_handshake_error(dk_bk_session *s, int ret, char *reason, size_t cap)
{
    dk_err e = classify(s, ret, reason, cap);
    /* Tell the peer, unless mbedTLS already did or the peer is gone: an
     * mbedTLS server refusing a missing client certificate, for one, sends
     * nothing and would leave the client waiting. */
    if (s->alert_sent || e == DK_ERR_TIMEOUT || e == DK_ERR_CLOSED ||
        ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE)
        return e;
    /* TLS 1.2 answers a missing certificate with handshake_failure. */
    unsigned char desc = e == DK_ERR_CERT_VERIFY && ret != MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE
                             ? MBEDTLS_SSL_ALERT_MSG_BAD_CERT
                             : MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE;
    (void)mbedtls_ssl_send_alert_message(&s->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL, desc);
    return e;
}
