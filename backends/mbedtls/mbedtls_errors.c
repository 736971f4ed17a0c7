/* mbedTLS backend: error codes, verification flags and alerts as text. */
#include <mbedtls/error.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs12.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls_backend.h"

void dk_mbed_reason(int ret, const char *prefix, char *reason, size_t cap)
{
    if (!reason || !cap)
        return;
    char text[160];
    mbedtls_strerror(ret, text, sizeof text);
    if (prefix)
        snprintf(reason, cap, "%s (%s)", prefix, text);
    else
        snprintf(reason, cap, "%s", text);
}

bool dk_mbed_is_password_error(int ret)
{
    switch (ret) {
    case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
    case MBEDTLS_ERR_PK_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PEM_PASSWORD_REQUIRED:
    case MBEDTLS_ERR_PEM_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PKCS5_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PKCS12_PASSWORD_MISMATCH: return true;
    default: return false;
    }
}

/* mbedtls_x509_crt_verify_info writes one line per flag: join them. */
void dk_mbed_verify_text(uint32_t flags, char *buf, size_t cap)
{
    if (!buf || !cap)
        return;
    char lines[512];
    if (mbedtls_x509_crt_verify_info(lines, sizeof lines, "", flags) < 0 || !lines[0]) {
        snprintf(buf, cap, "certificate verification failed (flags 0x%08x)", (unsigned)flags);
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (char *save = NULL, *l = strtok_r(lines, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        int n = snprintf(buf + used, cap - used, "%s%s", used ? "; " : "", l);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

const char *dk_mbed_alert_name(int desc)
{
    switch (desc) {
    case 0: return "close notify";
    case 10: return "unexpected_message";
    case 20: return "bad record mac";
    case 21: return "decryption failed";
    case 22: return "record overflow";
    case 30: return "decompression failure";
    case 40: return "handshake failure";
    case 41: return "no certificate";
    case 42: return "bad certificate";
    case 43: return "unsupported certificate";
    case 44: return "certificate revoked";
    case 45: return "certificate expired";
    case 46: return "certificate unknown";
    case 47: return "illegal parameter";
    case 48: return "unknown CA";
    case 49: return "access denied";
    case 50: return "decode error";
    case 51: return "decrypt error";
    case 60: return "export restriction";
    case 70: return "protocol version";
    case 71: return "insufficient security";
    case 80: return "internal error";
    case 86: return "inappropriate fallback";
    case 90: return "user canceled";
    case 100: return "no renegotiation";
    case 109: return "missing extension";
    case 110: return "unsupported extension";
    case 111: return "certificate unobtainable";
    case 112: return "unrecognized name";
    case 113: return "bad certificate status response";
    case 114: return "bad certificate hash value";
    case 115: return "unknown PSK identity";
    case 116: return "certificate required";
    case 120: return "no application protocol";
    default: return "unknown";
    }
}
