/* wolfSSL backend: a ClientHello whose server_name extension carries an
 * empty host name, as Godot 3 clients send when they connect without one.
 *
 * wolfSSL 5.5.4's TLSX_SNI_Parse() rejects a zero-length host name with
 * BUFFER_ERROR ("malformed buffer input error") before it looks at any SNI
 * option, and Debian's build (WOLFSSL_ALWAYS_KEEP_SNI) parses the extension
 * even when the server never asked for SNI: no setting avoids it. Rewriting
 * the datagram before wolfSSL reads it would change the handshake
 * transcript, so both Finished messages would fail.
 *
 * wolfSSL hashes a handshake message into the transcript before it parses
 * it, and in between it checks the DTLS cookie with an HMAC whose inputs
 * point into its own copy of the message. During that one call the session
 * uses a crypto-callback device of ours: when the HMAC is fed the
 * ClientHello's random, the callback renames the empty server_name
 * extension in wolfSSL's copy to a GREASE type (RFC 8701), which every TLS
 * stack ignores. The transcript keeps the bytes the client sent; the parser
 * skips the extension, as OpenSSL and mbedTLS do with an empty name. */
#include "wolfssl_session.h"

#include <string.h>

#include <wolfssl/wolfcrypt/cryptocb.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

/* Our device id for wc_CryptoCb_RegisterDevice ("dkwh"). */
#define DK_WOLF_DEVID 0x646b7768

#define REC_HDR       13
#define HS_HDR        12
#define RAN_SZ        32
#define GREASE        0x0a0a
#define EXT_SNI       0x0000
#define SNI_EMPTY_LEN 5 /* list length (2), name type (1), name length (2) */

/* The ClientHello being handed to wolfSSL by this thread: its body (from
 * client_version to the end) in the datagram the core fed, and where the
 * server_name extension's type lies in it. The core calls a session from
 * one thread at a time, and only during that call is this set. */
static _Thread_local struct {
    WOLFSSL *ssl;
    const uint8_t *body;
    size_t len, ext_off;
    bool patched;
} pending;

static unsigned get16(const uint8_t *p)
{
    return (unsigned)(p[0] << 8 | p[1]);
}

/* Offset in `body` of the type of a server_name extension holding exactly
 * one host_name entry of length zero, or 0 when there is none. */
static size_t empty_sni_offset(const uint8_t *body, size_t len)
{
    size_t i = 2 + RAN_SZ;        /* client_version, random */
    for (int v = 0; v < 2; v++) { /* session_id, cookie */
        if (i >= len)
            return 0;
        i += 1 + body[i];
    }
    if (i + 2 > len)
        return 0;
    i += 2 + get16(body + i); /* cipher_suites */
    if (i >= len)
        return 0;
    i += 1 + body[i]; /* compression_methods */
    if (i + 2 > len || i + 2 + get16(body + i) != len)
        return 0;
    for (i += 2; i + 4 <= len;) {
        unsigned type = get16(body + i), elen = get16(body + i + 2);
        if (i + 4 + elen > len)
            return 0;
        if (type == EXT_SNI) {
            const uint8_t *e = body + i + 4;
            bool empty = elen == SNI_EMPTY_LEN && get16(e) == 3 && e[2] == 0 /* host_name */ &&
                         get16(e + 3) == 0;
            return empty ? i : 0;
        }
        i += 4 + elen;
    }
    return 0;
}

/* The crypto callback: never does any crypto itself (wolfCrypt falls back
 * to software), only patches the ClientHello once it has been hashed. */
static int crypto_cb(int devId, wc_CryptoInfo *info, void *ctx)
{
    (void)devId;
    (void)ctx;
    if (!pending.ssl || pending.patched || info->algo_type != WC_ALGO_TYPE_HMAC)
        return CRYPTOCB_UNAVAILABLE;
    const uint8_t *in = info->hmac.in;
    /* The cookie HMAC takes client_version, then random: a 32-byte match
     * with our random places the body exactly, and the whole of it must
     * match too before a byte is written. */
    if (!in || info->hmac.inSz != RAN_SZ || memcmp(in, pending.body + 2, RAN_SZ) != 0 ||
        memcmp(in - 2, pending.body, pending.len) != 0)
        return CRYPTOCB_UNAVAILABLE;
    /* wolfSSL's input buffer is writable; the pointer is const only in the
     * callback's signature. */
    uint8_t *type = (uint8_t *)(uintptr_t)(in - 2) + pending.ext_off;
    type[0] = GREASE >> 8;
    type[1] = GREASE & 0xff;
    pending.patched = true;
    /* Nothing else in this session goes through the callback. */
    (void)wolfSSL_SetDevId(pending.ssl, INVALID_DEVID);
    return CRYPTOCB_UNAVAILABLE;
}

/* Set once by library init, read-only afterwards. */
static bool registered;

void dk_wolf_hello_init(void)
{
    /* Without the device the workaround is off, nothing else changes. */
    registered = wc_CryptoCb_RegisterDevice(DK_WOLF_DEVID, crypto_cb, NULL) == 0;
}

bool dk_wolf_hello_arm(WOLFSSL *ssl, const uint8_t *d, size_t n)
{
    /* One unfragmented ClientHello in the datagram's first record. */
    if (!registered || !d || n < REC_HDR + HS_HDR || d[0] != 22 || d[REC_HDR] != 1)
        return false;
    size_t rlen = get16(d + 11), blen = (size_t)d[14] << 16 | get16(d + 15);
    const uint8_t *frag = d + REC_HDR + 6; /* fragment_offset, fragment_length */
    if (REC_HDR + rlen > n || rlen != HS_HDR + blen || frag[0] || get16(frag + 1) ||
        frag[3] != d[14] || get16(frag + 4) != get16(d + 15))
        return false;
    const uint8_t *body = d + REC_HDR + HS_HDR;
    size_t off = empty_sni_offset(body, blen);
    if (!off || wolfSSL_SetDevId(ssl, DK_WOLF_DEVID) != WOLFSSL_SUCCESS)
        return false;
    pending.ssl = ssl;
    pending.body = body;
    pending.len = blen;
    pending.ext_off = off;
    pending.patched = false;
    return true;
}

bool dk_wolf_hello_disarm(WOLFSSL *ssl)
{
    bool patched = pending.patched;
    (void)wolfSSL_SetDevId(ssl, INVALID_DEVID);
    memset(&pending, 0, sizeof pending);
    return patched;
}
